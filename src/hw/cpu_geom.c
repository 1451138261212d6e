/* cpu_geom.c: the vCPU's TLB-miss path compiled for the default geometry
 * (geom.h) with the AVX2 set scans: the bodies of cpu_miss.h given the
 * default TLB, walk-cache and data-cache geometries as constants. cpu.c
 * has the generic copies and chooses (cpu.h, cpu_access_slow). */
#include "hw/cpu_miss.h"

HW_SIMD_TARGET GEOM_COPY uint32_t cpu_access_slow_avx2_geom(struct cpu *c, uint64_t va, enum access acc,
                                                          uint64_t *frame, long l1, uint64_t tag)
{
    return access_slow_body(c, va, acc, frame, l1, tag, 1, 1);
}

HW_SIMD_TARGET uint32_t cpu_native_fill_avx2_geom(struct cpu *c, uint64_t va, enum access acc, int user,
                                                  struct tlb_xlate *x)
{
    return native_fill_body(c, va, acc, user, x, 1, 1);
}

/* walk2d_geom.c: the 2D walk of nested paging compiled for the default
 * geometry (geom.h) with the AVX2 set scans: the body of walk2d_body.h
 * given the default TLB, nested TLB, walk-cache and data-cache geometries
 * as constants. walk2d.c has the generic copies and chooses (walk2d). */
#include "hw/walk2d_body.h"

HW_SIMD_TARGET GEOM_COPY uint32_t walk2d_avx2_geom(struct cpu *c, uint64_t va, enum access acc, int user,
                                                 struct tlb_xlate *x, uint64_t *viol_gfn)
{
    return walk2d_body(c, va, acc, user, x, viol_gfn, 1, 1);
}

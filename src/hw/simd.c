/* simd.c: picks SIMD or scalar set scans once, at program start (simd.h). */
#include "hw/simd.h"
#include <stdlib.h>
#include <string.h>

int hw_simd;

__attribute__((constructor)) static void hw_simd_select(void)
{
    const char *e = getenv("MEMVIRT_SIMD");
    if (e && !strcmp(e, "scalar"))
        return;
#if defined(__x86_64__) && !defined(MEMVIRT_NO_SIMD)
    __builtin_cpu_init();
    hw_simd = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("bmi") &&
              __builtin_cpu_supports("bmi2");
#endif
}

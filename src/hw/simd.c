/* simd.c: picks SIMD or scalar set scans once, at program start (simd.h),
 * from the host's CPU features and the environment variable MEMVIRT_SIMD:
 * unset or empty, the best the host has; "avx2", AVX2 (a warning and the
 * scalar scans if the host lacks it); "scalar", the scalar scans; anything
 * else, one warning naming the value and the best the host has. Results
 * never depend on the choice, only speed does, so a bad value warns rather
 * than stops the run. */
#include "hw/simd.h"
#include "lib/err.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int hw_simd;

int hw_simd_choose(const char *env, int host_avx2, char *warning, size_t n)
{
    if (n)
        warning[0] = '\0';
    if (!env || !*env)
        return host_avx2;
    if (!strcmp(env, "scalar"))
        return 0;
    if (!strcmp(env, "avx2")) {
        if (!host_avx2)
            snprintf(warning, n, "MEMVIRT_SIMD=avx2, but this host (or build) has no AVX2: using the scalar scans");
        return host_avx2;
    }
    snprintf(warning, n, "MEMVIRT_SIMD='%s' is not 'scalar' or 'avx2': ignored, using the %s scans", env,
             host_avx2 ? "AVX2" : "scalar");
    return host_avx2;
}

int hw_simd_host(void)
{
#if defined(__x86_64__) && !defined(MEMVIRT_NO_SIMD)
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("bmi") && __builtin_cpu_supports("bmi2");
#else
    return 0;
#endif
}

__attribute__((constructor)) static void hw_simd_select(void)
{
    char warning[200];
    hw_simd = hw_simd_choose(getenv("MEMVIRT_SIMD"), hw_simd_host(), warning, sizeof warning);
    if (warning[0])
        mv_warn("%s", warning);
}

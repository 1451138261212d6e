/* test_simd.c: the AVX2 set scans give the same answers as the scalar ones
 * on every set width they serve, and MEMVIRT_SIMD=scalar really selects the
 * scalar code (the program runs itself again under it to see). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "hw/simd.h"
#include "lib/rng.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char *self;

#if defined(__x86_64__) && !defined(MEMVIRT_NO_SIMD)
static HW_SIMD_TARGET uint32_t match_avx2(const uint64_t *t, uint32_t ways, uint64_t key)
{
    return tags_match_avx2(t, ways, key);
}
#endif

static void test_avx2_equals_scalar(void **state)
{
    (void)state;
#if defined(__x86_64__) && !defined(MEMVIRT_NO_SIMD)
    if (!__builtin_cpu_supports("avx2"))
        skip();
    rng_t r;
    rng_seed(&r, 5, 2);
    uint64_t t[16 + HW_SIMD_PAD];
    for (unsigned n = 0; n < 20000; n++) {
        uint32_t ways = 1 + (uint32_t)rng_below(&r, 16);
        for (unsigned w = 0; w < 16 + HW_SIMD_PAD; w++)
            t[w] = rng_below(&r, 6);                 /* few values: many matches, zeros too */
        uint64_t key = rng_below(&r, 6);
        assert_int_equal(match_avx2(t, ways, key), tags_match_scalar(t, ways, key));
    }
#else
    skip();
#endif
}

/* Without the variable, a host with AVX2 uses it. */
static void test_default_uses_simd(void **state)
{
    (void)state;
#if defined(__x86_64__) && !defined(MEMVIRT_NO_SIMD)
    if (getenv("MEMVIRT_SIMD") || !__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("bmi2"))
        skip();
    assert_int_equal(hw_simd, 1);
#else
    skip();
#endif
}

static void test_env_selects_scalar(void **state)
{
    (void)state;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        setenv("MEMVIRT_SIMD", "scalar", 1);
        execl(self, self, "--report-simd", (char *)NULL);
        _exit(127);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 10);      /* 10: scalar, 11: SIMD */
}

int main(int argc, char **argv)
{
    if (argc == 2 && !strcmp(argv[1], "--report-simd"))
        return hw_simd ? 11 : 10;
    self = argv[0];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_avx2_equals_scalar),
        cmocka_unit_test(test_default_uses_simd),
        cmocka_unit_test(test_env_selects_scalar),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

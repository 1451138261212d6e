/* test_simd.c: the AVX2 set scans give the same answers as the scalar ones
 * on every set width they serve, and MEMVIRT_SIMD selects the code: scalar
 * and avx2 do, a mistyped value gets one warning naming it and the choice
 * made (the program runs itself again under each value to see), avx2 on a
 * host without AVX2 warns and falls back. */
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
static HW_SIMD_TARGET uint32_t match32_avx2(const uint32_t *t, uint32_t ways, uint32_t key)
{
    return tags32_match_avx2(t, ways, key);
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
    uint32_t t32[16 + HW_SIMD_PAD32];   /* the data cache's 32-bit tags */
    for (unsigned n = 0; n < 20000; n++) {
        uint32_t ways = 1 + (uint32_t)rng_below(&r, 16);
        for (unsigned w = 0; w < 16 + HW_SIMD_PAD32; w++)
            t32[w] = (uint32_t)rng_below(&r, 6) * 0x55555555u;   /* high bits too */
        uint32_t key = (uint32_t)rng_below(&r, 6) * 0x55555555u;
        assert_int_equal(match32_avx2(t32, ways, key), tags32_match_scalar(t32, ways, key));
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

/* Run this program again with MEMVIRT_SIMD = value (NULL: unset); its
 * choice (10: scalar, 11: SIMD) is returned, its standard error in err. */
static int child_choice(const char *value, char *err, size_t n)
{
    char path[] = "/tmp/test_simd_errXXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (value)
            setenv("MEMVIRT_SIMD", value, 1);
        else
            unsetenv("MEMVIRT_SIMD");
        dup2(fd, 2);
        execl(self, self, "--report-simd", (char *)NULL);
        _exit(127);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    ssize_t got = pread(fd, err, n - 1, 0);
    assert_true(got >= 0);
    err[got] = '\0';
    close(fd);
    unlink(path);
    return WEXITSTATUS(status);
}

static void test_env_selects_scalar(void **state)
{
    (void)state;
    char err[512];
    assert_int_equal(child_choice("scalar", err, sizeof err), 10);
    assert_string_equal(err, "");
}

static void test_env_values(void **state)
{
    (void)state;
    char err[512];
    int best = hw_simd_host() ? 11 : 10;
    assert_int_equal(child_choice(NULL, err, sizeof err), best);
    assert_string_equal(err, "");
    assert_int_equal(child_choice("", err, sizeof err), best);
    assert_string_equal(err, "");
    assert_int_equal(child_choice("avx2", err, sizeof err), best);
    if (best == 11)
        assert_string_equal(err, "");
    else
        assert_non_null(strstr(err, "MEMVIRT_SIMD=avx2"));
    /* a typo: one line naming the variable, the value and the choice */
    assert_int_equal(child_choice("scaler", err, sizeof err), best);
    assert_non_null(strstr(err, "memvirt: warning: MEMVIRT_SIMD='scaler'"));
    assert_non_null(strstr(err, best == 11 ? "using the AVX2 scans" : "using the scalar scans"));
    assert_non_null(strchr(err, '\n'));
    assert_int_equal(strchr(err, '\n')[1], '\0');
}

/* The rule itself, for a host with and without AVX2. */
static void test_choose(void **state)
{
    (void)state;
    char w[200];
    assert_int_equal(hw_simd_choose(NULL, 1, w, sizeof w), 1);
    assert_string_equal(w, "");
    assert_int_equal(hw_simd_choose("", 0, w, sizeof w), 0);
    assert_string_equal(w, "");
    assert_int_equal(hw_simd_choose("scalar", 1, w, sizeof w), 0);
    assert_string_equal(w, "");
    assert_int_equal(hw_simd_choose("avx2", 1, w, sizeof w), 1);
    assert_string_equal(w, "");
    assert_int_equal(hw_simd_choose("avx2", 0, w, sizeof w), 0);   /* falls back, and says so */
    assert_string_equal(w, "MEMVIRT_SIMD=avx2, but this host (or build) has no AVX2: using the scalar scans");
    assert_int_equal(hw_simd_choose("AVX2", 0, w, sizeof w), 0);
    assert_string_equal(w, "MEMVIRT_SIMD='AVX2' is not 'scalar' or 'avx2': ignored, using the scalar scans");
    assert_int_equal(hw_simd_choose("scalar ", 1, w, sizeof w), 1);
    assert_string_equal(w, "MEMVIRT_SIMD='scalar ' is not 'scalar' or 'avx2': ignored, using the AVX2 scans");
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
        cmocka_unit_test(test_env_values),
        cmocka_unit_test(test_choose),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_calib_fit.c: calibrate's fits (src/calib/fit.c, model.c), without
 * timing anything: host figures here are made up. A fit must make the
 * native model reproduce the figure it is given, move only its own entry,
 * and clamp at zero when the rest of the model already predicts more; the
 * model's loops must respond to the entries they are meant to measure. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "calib/calib.h"
#include "lib/err.h"
#include <math.h>
#include <string.h>

static struct cost defaults(void)
{
    struct cost c;
    param_defaults(&cost_params, &c);
    return c;
}

/* fork+exit of lmbench: fork_fixed and exit_fixed add exactly once each. */
static void test_lmbench_loops(void **state)
{
    (void)state;
    struct cost c = defaults();
    double fe = model_eval(&MQ_FORK_EXIT, &c), f = model_eval(&MQ_FORK, &c);
    assert_true(f > 0 && f < fe);
    c.fork_fixed += 2400;   /* +1 µs at 2.4 GHz */
    assert_true(fabs(model_eval(&MQ_FORK, &c) - f - 1000) < 1e-6);
    assert_true(fabs(model_eval(&MQ_FORK_EXIT, &c) - fe - 1000) < 1e-6);
    c.exit_fixed += 2400;
    assert_true(fabs(model_eval(&MQ_FORK, &c) - f - 1000) < 1e-6);   /* the parent's fork: no exit in it */
    assert_true(fabs(model_eval(&MQ_FORK_EXIT, &c) - fe - 2000) < 1e-6);
    /* each written heap page adds one copied entry to fork */
    double slope = model_eval(&MQ_FORK_HEAP_SLOPE, &c);
    c.pte_copy += 24;
    assert_true(fabs(model_eval(&MQ_FORK_HEAP_SLOPE, &c) - slope - 10) < 1e-6);
}

/* The fault and mmap loops respond to what they stand for. */
static void test_fault_loops(void **state)
{
    (void)state;
    struct cost c = defaults();
    double r = model_eval(&MQ_READ_FAULT, &c), w = model_eval(&MQ_WRITE_FAULT, &c);
    double w2 = model_eval(&MQ_WRITE_FAULT_NEW_PTE, &c), mm = model_eval(&MQ_MMAP_MUNMAP, &c);
    assert_true(r > 0 && r < w && w < w2);
    /* A read maps the zero page: only the loop's page tables (one per 512
     * faults, a few more above) are zeroed. A write zeroes its page too. */
    c.page_zero += 2400;
    double r_after = model_eval(&MQ_READ_FAULT, &c), w_after = model_eval(&MQ_WRITE_FAULT, &c);
    assert_true(r_after - r >= 1000.0 / 512 - 1e-6 && r_after - r < 1000.0 / 256);
    assert_true(w_after - w >= 1000 + 1000.0 / 512 - 1e-6 && w_after - w < 1000 + 1000.0 / 256);
    c = defaults();
    c.syscall += 2400;      /* mmap and munmap: two system calls */
    assert_true(fabs(model_eval(&MQ_MMAP_MUNMAP, &c) - mm - 2000) < 1e-6);
}

/* fit_entry makes the model meet the figure, and only moves its entry. */
static void test_fit(void **state)
{
    (void)state;
    struct cost c = defaults(), before = c;
    double target = model_eval(&MQ_FORK_EXIT, &c) + 30000;   /* 30 µs more than the defaults give */
    struct fit_result f;
    assert_int_equal(fit_entry("exit_fixed", &MQ_FORK_EXIT, target, &c, &f), 0);
    assert_int_equal(f.clamped, 0);
    assert_int_equal(c.exit_fixed, before.exit_fixed + 72000);
    assert_true(fabs(f.model_after - target) < 1);
    assert_true(fabs(model_eval(&MQ_FORK_EXIT, &c) - target) < 1);
    c.exit_fixed = before.exit_fixed;
    assert_memory_equal(&c, &before, sizeof c);

    /* a figure below what the other entries already cost: 0, flagged */
    assert_int_equal(fit_entry("exit_fixed", &MQ_FORK_EXIT, 1000, &c, &f), 0);
    assert_int_equal(f.clamped, 1);
    assert_int_equal(c.exit_fixed, 0);
    assert_true(f.model_after > 1000);
    /* no figure, no fit */
    c = before;
    assert_int_equal(fit_entry("exit_fixed", &MQ_FORK_EXIT, NAN, &c, &f), -1);
    assert_memory_equal(&c, &before, sizeof c);
}

/* The chase's TLB overhead grows with walk costs and not without misses. */
static void test_chase_overhead(void **state)
{
    (void)state;
    struct cost c = defaults();
    const struct model_q q64 = { "chase", model_chase_overhead, 64 };
    double o = model_eval(&q64, &c);
    assert_true(o > 0);
    c.walk_start += 240;   /* +0.1 µs per TLB miss; nearly every reference misses at 64 MiB */
    double o2 = model_eval(&q64, &c);
    assert_true(o2 - o > 80 && o2 - o <= 100 + 1e-9);
}

/* The walk phase memwalk's replay is compared with: after the prefault,
 * before the exit. Faults and the exit are outside it. */
static void test_walk_phase(void **state)
{
    (void)state;
    struct cost c = defaults();
    const char *const p[] = { "memwalk.ws_mb=1", "memwalk.pattern=seq", "memwalk.refs=100000", NULL };
    double ns = model_memwalk_ns(p, &c);
    double refs_ns = 100000 / 2.4;   /* one cycle a reference at 2.4 GHz */
    assert_true(ns >= refs_ns && ns < refs_ns * 1.05);
    c.fault_entry += 100000;
    c.exit_fixed += 100000;
    assert_true(fabs(model_memwalk_ns(p, &c) - ns) < 1e-9);
    const char *const nopf[] = { "memwalk.ws_mb=1", "memwalk.pattern=seq", "memwalk.refs=100000",
                                 "memwalk.prefault=false", NULL };
    assert_true(model_memwalk_ns(nopf, &c) > ns + 256 * 100000 / 2.4);   /* its 256 faults are inside */
}

/* A slow clock and a costly reference make a run longer than the default
 * sim.series_ms can cover (172,960 samples of a minute): the model's run
 * failed and calibrate --verify aborted on a profile `run` accepts. The
 * model keeps no time series; a run that fails all the same gives NaN,
 * never an abort. */
static void test_long_simulated_run(void **state)
{
    (void)state;
    struct cost c = defaults();
    c.clock_ghz = 0.1;
    c.ref = 1000000000;   /* 10 simulated seconds a reference */
    const char *const p[] = { "memwalk.ws_mb=1", "memwalk.pattern=seq", "memwalk.refs=2000000", NULL };
    double ns = model_memwalk_ns(p, &c);
    assert_true(isfinite(ns) && ns >= 2e6 * 1e10);
    const char *const series[] = { "memwalk.ws_mb=1", "memwalk.pattern=seq", "memwalk.refs=2000000",
                                   "sim.series_ms=60000", NULL };
    int q = mv_error_quiet(1);
    assert_true(isnan(model_memwalk_ns(series, &c)));
    mv_error_quiet(q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lmbench_loops),
        cmocka_unit_test(test_fault_loops),
        cmocka_unit_test(test_fit),
        cmocka_unit_test(test_chase_overhead),
        cmocka_unit_test(test_walk_phase),
        cmocka_unit_test(test_long_simulated_run),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

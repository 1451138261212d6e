/* test_calib_verify.c: how `calibrate --verify` predicts (src/calib/verify.c),
 * without timing anything. The native model's runs (a memwalk of a 1 GiB
 * working set among them) must happen in a child: in the process that then
 * times fork on the host they left it 37-62 MB resident, and fork+exit
 * came out 63% slower than calibrate had fitted it in a 2.8 MB process.
 * The figures piped back must be the model's own. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "calib/calib.h"
#include "lib/err.h"
#include <math.h>
#include <stdio.h>
#include <string.h>

static struct cost defaults(void)
{
    struct cost c;
    param_defaults(&cost_params, &c);
    return c;
}

/* This process's peak resident size, KiB (/proc/self/status VmHWM). */
static long peak_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    assert_non_null(f);
    char line[256];
    long kb = -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmHWM: %ld kB", &kb) == 1)
            break;
    fclose(f);
    assert_true(kb > 0);
    return kb;
}

/* The predictions leave this process's peak where it was (the model's
 * memory was a child's), and they are the model's figures. */
static void test_predict_in_child(void **state)
{
    (void)state;
    struct cost c = defaults();
    struct verify_pred p;
    memset(&p, 0, sizeof p);
    long before = peak_kb();
    assert_int_equal(verify_predict(&c, "defaults", &p), 0);
    long grew = peak_kb() - before;
    print_message("peak resident size grew by %ld KiB while predicting\n", grew);
    assert_true(grew < 4096);   /* in this process: 37-62 MB */
    /* the same figures as the model gives here (now this process grows) */
    assert_true(p.fork_exit > 0 && p.fork_exec > p.fork_exit && p.fork_sh > p.fork_exec);
    assert_true(p.fork_exit == model_eval(&MQ_FORK_EXIT, &c));
    assert_true(p.fork_exec == model_eval(&MQ_FORK_EXEC, &c));
    assert_true(p.fork_sh == model_eval(&MQ_FORK_SH, &c));
    assert_true(isfinite(p.fault) && isfinite(p.tlb) && isfinite(p.chase) && p.tlb > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_predict_in_child),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

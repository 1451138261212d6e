/* test_workloads_modes.c: every built-in workload under every mode in the
 * registry (so a mode added later is covered without a change here), with
 * --check: the translation oracle on every reference, the kernel's and the
 * mode's invariants every few events and at the end, no frame leaked. Then
 * the same under the configurations that change the paging modes' paths
 * most: no PCIDs, 2 MiB EPT leaves, tsp.unsync, no shadow-root buffer, a
 * shadow pool small enough to evict all the time. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "sim/engine.h"
#include "testutil.h"

struct wl { const char *name; const char *params[6]; };
static const struct wl wls[] = {
    { "forkstorm", { "forkstorm.minutes=0.15", NULL } },
    { "lmbench", { "lmbench.iterations=4", NULL } },
    { "memwalk", { "memwalk.refs=60000", "memwalk.ws_mb=16", NULL } },
    { "memwalk", { "memwalk.refs=60000", "memwalk.ws_mb=8", "memwalk.remap_every=3000", "memwalk.remap_kb=256", NULL } },
    { "memwalk", { "memwalk.refs=60000", "memwalk.ws_mb=16", "memwalk.page_size=2m", "memwalk.pattern=chase", NULL } },
    { "netio", { "netio.seconds=0.2", NULL } },
};

static void run_all(const char *const *extra)
{
    for (unsigned m = 0; m < mode_count(); m++) {
        const struct mode_def *md = mode_at(m);
        for (unsigned w = 0; w < sizeof wls / sizeof wls[0]; w++) {
            struct sim_config cfg;
            assert_int_equal(config_init(&cfg, wls[w].name), 0);
            cfg.check = 1;
            cfg.quiet = 1;
            cfg.sim.check_every = 200;
            assert_int_equal(config_param(&cfg, "guest.ram_mb=256"), 0);
            for (unsigned i = 0; wls[w].params[i]; i++)
                assert_int_equal(config_param(&cfg, wls[w].params[i]), 0);
            for (unsigned i = 0; extra && extra[i]; i++)
                assert_int_equal(config_param(&cfg, extra[i]), 0);
            assert_int_equal(config_validate(&cfg), 0);
            assert_int_equal(mode_validate(md, &cfg), 0);
            struct run_result r;
            if (engine_run(&cfg, md, &r))
                fail_msg("mode %s, workload %s: %s", md->name, wls[w].name, mv_last_error());
            assert_int_equal(r.st.cnt[CNT_oracle_checks], r.st.cnt[CNT_refs]);
            assert_true(r.st.cnt[CNT_refs] > 0);
            run_result_free(&r);
            config_free(&cfg);
        }
    }
}

static void test_every_mode_every_workload(void **state)
{
    (void)state;
    run_all(NULL);
}

static void test_every_mode_unusual_configurations(void **state)
{
    (void)state;
    const char *const extra[] = { "guest.pcid=false", "hap.ept_page_size=2m", "tsp.unsync=true",
                                  "ssp.rootbuf_entries=0", "shadow.pool_permille=1", "shadow.max_roots=2",
                                  "hap.ntlb_entries=0", NULL };
    run_all(extra);
}

int main(void)
{
    mv_error_quiet(1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_mode_every_workload),
        cmocka_unit_test(test_every_mode_unusual_configurations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

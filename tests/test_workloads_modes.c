/* test_workloads_modes.c: every built-in workload under every mode in the
 * registry (so a mode added later is covered without a change here), with
 * --check: the translation oracle on every reference, the kernel's and the
 * mode's invariants every few events and at the end, no frame leaked. Then
 * the same under the configurations that change the paging modes' paths
 * most: no PCIDs, 2 MiB EPT leaves, tsp.unsync, no shadow-root buffer, a
 * shadow pool small enough to evict all the time. And exit clustering in
 * every mode with VM exits. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "sim/engine.h"
#include "testutil.h"

struct wl { const char *name; const char *params[8]; };
static const struct wl wls[] = {
    { "forkstorm", { "forkstorm.minutes=0.15", NULL } },
    { "lmbench", { "lmbench.iterations=4", NULL } },
    { "memwalk", { "memwalk.refs=60000", "memwalk.ws_mb=16", NULL } },
    { "memwalk", { "memwalk.refs=60000", "memwalk.ws_mb=8", "memwalk.remap_every=3000", "memwalk.remap_kb=256", NULL } },
    { "memwalk", { "memwalk.refs=60000", "memwalk.ws_mb=16", "memwalk.page_size=2m", "memwalk.pattern=chase", NULL } },
    { "netio", { "netio.seconds=0.2", NULL } },
    { "memwalk-gcc", { "memwalk-gcc.refs=60000", "memwalk-gcc.remap_every=5000", NULL } },
    { "memwalk-mcf", { "memwalk-mcf.refs=60000", "memwalk-mcf.ws_mb=16", NULL } },
    { "memwalk-phases", { "memwalk-phases.refs=240000", "memwalk-phases.phase_refs=80000",
                          "memwalk-phases.b_phase_refs=40000", "memwalk-phases.b_ws_mb=8",
                          "memwalk-phases.remap_every=10000", "selective.sample_ms=0.05", NULL } },
};

/* The trace workload on a recorded shell loop (tests/data/). */
static char trace_param[4200];
static const struct wl trace_wl = { "trace", { trace_param, NULL } };

/* One run under --check; returns the VM exits clustering avoided. */
static uint64_t run_one(const struct mode_def *md, const struct wl *w, const char *const *extra)
{
    struct sim_config cfg;
    assert_int_equal(config_init(&cfg, w->name), 0);
    cfg.check = 1;
    cfg.quiet = 1;
    cfg.sim.check_every = 200;
    assert_int_equal(config_param(&cfg, "guest.ram_mb=256"), 0);
    for (unsigned i = 0; w->params[i]; i++)
        assert_int_equal(config_param(&cfg, w->params[i]), 0);
    for (unsigned i = 0; extra && extra[i]; i++)
        assert_int_equal(config_param(&cfg, extra[i]), 0);
    assert_int_equal(config_validate(&cfg), 0);
    assert_int_equal(mode_validate(md, &cfg), 0);
    struct run_result r;
    if (engine_run(&cfg, md, &r))
        fail_msg("mode %s, workload %s: %s", md->name, w->name, mv_last_error());
    assert_int_equal(r.st.cnt[CNT_oracle_checks], r.st.cnt[CNT_refs]);
    assert_true(r.st.cnt[CNT_refs] > 0);
    uint64_t avoided = r.st.cnt[CNT_cluster_exits_avoided];
    run_result_free(&r);
    config_free(&cfg);
    return avoided;
}

/* Every mode (or, vmexit_only, every mode with hardware VM exits) on every
 * workload and a recorded trace, with the extra parameters. Returns, per
 * mode in registry order, the VM exits clustering avoided. */
static void run_modes(const char *const *extra, int vmexit_only, uint64_t *avoided)
{
    const char *src = getenv("MEMVIRT_SRC");
    snprintf(trace_param, sizeof trace_param, "trace.file=%s/tests/data/shloop.mvt", src ? src : ".");
    for (unsigned m = 0; m < mode_count(); m++) {
        const struct mode_def *md = mode_at(m);
        avoided[m] = 0;
        if (vmexit_only && !mode_has_vmexits(md))
            continue;
        for (unsigned w = 0; w < sizeof wls / sizeof wls[0]; w++)
            avoided[m] += run_one(md, &wls[w], extra);
        avoided[m] += run_one(md, &trace_wl, extra);
    }
}

static void run_all(const char *const *extra)
{
    uint64_t avoided[64];
    assert_true(mode_count() <= 64);
    run_modes(extra, 0, avoided);
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

static unsigned mode_index(const char *name)
{
    for (unsigned i = 0; i < mode_count(); i++)
        if (!strcmp(mode_at(i)->name, name))
            return i;
    fail_msg("no mode %s", name);
    return 0;
}

/* Exit clustering in every mode that has VM exits, on every workload,
 * with a translation cache small enough to evict. */
static void test_every_hvm_mode_clustering(void **state)
{
    (void)state;
    uint64_t avoided[64];
    assert_true(mode_count() <= 64);
    const char *const extra[] = { "clustering.enable=true", "clustering.cache_sites=3", NULL };
    run_modes(extra, 1, avoided);
    assert_true(avoided[mode_index("tsp")] > 0);
    /* selective, switching every 1 ms, clusters while shadowed */
    const char *const other[] = { "clustering.enable=true", "tsp.unsync=true", "shadow.max_roots=2",
                                  "selective.policy=alternate", "selective.alternate_ms=1",
                                  "selective.dwell_ms=0.5", NULL };
    run_modes(other, 1, avoided);
    assert_true(avoided[mode_index("tsp")] > 0);
    assert_true(avoided[mode_index("selective")] > 0);
}

int main(void)
{
    mv_error_quiet(1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_mode_every_workload),
        cmocka_unit_test(test_every_mode_unusual_configurations),
        cmocka_unit_test(test_every_hvm_mode_clustering),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_workloads_pv.c: every built-in workload under the Xen PV modes with
 * --check (translation oracle on every reference, kernel and hypervisor
 * invariants every few events and at the end, no frame leaked), and the
 * PiBooster cache switched and retuned at run time. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "guest/ptcache.h"
#include "hv/pv/xen.h"
#include "sim/engine.h"
#include "testutil.h"
#include <stdlib.h>
#include <string.h>

static const char *const pv_modes[] = { "pv", "pv-pibooster" };

/* Run a workload with --check; fill *out (caller frees). */
static void run(const char *mode, const char *wl, const char *const *params, const char *const *ats,
                struct run_result *out)
{
    struct sim_config cfg;
    assert_int_equal(config_init(&cfg, wl), 0);
    cfg.check = 1;
    cfg.quiet = 1;
    cfg.sim.check_every = 500;
    assert_int_equal(config_param(&cfg, "guest.ram_mb=256"), 0);
    for (unsigned i = 0; params && params[i]; i++)
        assert_int_equal(config_param(&cfg, params[i]), 0);
    for (unsigned i = 0; ats && ats[i]; i++)
        assert_int_equal(config_at(&cfg, ats[i]), 0);
    assert_int_equal(config_validate(&cfg), 0);
    assert_int_equal(mode_validate(mode_find(mode), &cfg), 0);
    assert_int_equal(engine_run(&cfg, mode_find(mode), out), 0);
    config_free(&cfg);
}

static void common(const struct run_result *r)
{
    assert_int_equal(r->st.cnt[CNT_oracle_checks], r->st.cnt[CNT_refs]);
    assert_int_equal(r->st.cnt[CNT_pt_pages_alloc], r->st.cnt[CNT_pt_pages_free]);
    assert_true(r->st.cnt[CNT_hypercalls] > 0);
    assert_true(r->st.cnt[CNT_vm_exits] >= r->st.cnt[CNT_hypercalls]);
    assert_int_equal(r->st.cnt[CNT_dma_faults], 0);
}

static void test_forkstorm(void **state)
{
    (void)state;
    /* one minute: long enough that the cache's warm-up (flagging the first
     * pool) does not dominate */
    const char *const p[] = { "forkstorm.minutes=1", "forkstorm.burst_refs=100", NULL };
    struct run_result r[2];
    for (unsigned m = 0; m < 2; m++) {
        run(pv_modes[m], "forkstorm", p, NULL, &r[m]);
        common(&r[m]);
        assert_true(r[m].st.cnt[CNT_fork] > 100);
        assert_true(r[m].st.cnt[CNT_exec] > 0);
        assert_int_equal(r[m].st.cnt[CNT_exit], r[m].st.cnt[CNT_fork] + 1);
    }
    /* Same workload, same seed: the guest did the same work in both modes. */
    assert_int_equal(r[0].st.cnt[CNT_fork], r[1].st.cnt[CNT_fork]);
    assert_int_equal(r[0].st.cnt[CNT_refs], r[1].st.cnt[CNT_refs]);
    assert_int_equal(r[0].st.cnt[CNT_pt_pages_alloc], r[1].st.cnt[CNT_pt_pages_alloc]);
    /* The cache removes nearly all IOTLB invalidations. */
    uint64_t inv_pv = r[0].st.cnt[CNT_iotlb_inv_psi] + r[0].st.cnt[CNT_iotlb_inv_dsi];
    uint64_t inv_pb = r[1].st.cnt[CNT_iotlb_inv_psi] + r[1].st.cnt[CNT_iotlb_inv_dsi];
    assert_true(inv_pv > 1000);
    assert_true(inv_pb * 10 < inv_pv);
    assert_true(tu_metric(&r[1], "xen_ptcache_flag_skips") > 0);
    run_result_free(&r[0]);
    run_result_free(&r[1]);
}

static void test_lmbench(void **state)
{
    (void)state;
    const char *const p[] = { "lmbench.iterations=10", "lmbench.warmup=2", NULL };
    struct run_result r[2];
    for (unsigned m = 0; m < 2; m++) {
        run(pv_modes[m], "lmbench", p, NULL, &r[m]);
        common(&r[m]);
        assert_true(tu_metric(&r[m], "lat_fork_exit_us") > 0);
        assert_true(tu_metric(&r[m], "lat_fork_exit_us") < tu_metric(&r[m], "lat_fork_execve_us"));
    }
    /* PiBooster makes process creation and exit cheaper. */
    assert_true(tu_metric(&r[1], "lat_fork_exit_us") < tu_metric(&r[0], "lat_fork_exit_us"));
    run_result_free(&r[0]);
    run_result_free(&r[1]);
}

static void test_memwalk(void **state)
{
    (void)state;
    static const char *const pats[] = { "memwalk.pattern=random", "memwalk.pattern=chase" };
    for (unsigned m = 0; m < 2; m++)
        for (unsigned i = 0; i < 2; i++) {
            const char *const p[] = { "memwalk.refs=30000", "memwalk.ws_mb=16", pats[i],
                                      "memwalk.remap_every=5000", "memwalk.remap_kb=2048",
                                      "memwalk.page_size=2m", NULL };
            struct run_result r;
            run(pv_modes[m], "memwalk", p, NULL, &r);
            common(&r);
            /* PV guests get no huge pages: every 4K page faults in. */
            assert_true(r.st.cnt[CNT_guest_pf] >= 4096);
            run_result_free(&r);
        }
}

static void test_netio(void **state)
{
    (void)state;
    const char *const p[] = { "netio.seconds=0.2", NULL };
    for (unsigned m = 0; m < 2; m++) {
        struct run_result r;
        run(pv_modes[m], "netio", p, NULL, &r);
        common(&r);
        assert_true(r.st.cnt[CNT_dma_pages] >= 600);
        assert_true(r.st.cnt[CNT_iotlb_miss] > 0);
        assert_true(tu_metric(&r, "dma_mbps") > 90);
        run_result_free(&r);
    }
}

/* NIC and disk traffic alongside the churn, under --check. */
static void test_background_dma(void **state)
{
    (void)state;
    const char *const p[] = { "forkstorm.minutes=0.2", "hv.nic_mbps=200", "hv.disk_mbps=100",
                              "hv.nic_ring=32", NULL };
    for (unsigned m = 0; m < 2; m++) {
        struct run_result r;
        run(pv_modes[m], "forkstorm", p, NULL, &r);
        common(&r);
        double mb = (double)r.st.cnt[CNT_dma_bytes] * 8 / 1e6 / r.sim_seconds;
        assert_true(mb > 250 && mb < 350);
        /* the devices keep up: they carry what they were given, none of it
         * waits for a device */
        assert_true(tu_metric(&r, "dma_mbps") > mb * 0.999);
        assert_true(tu_metric(&r, "dma_queued_bytes") < 200e6 / 8 / 1000);   /* one period's, at most */
        assert_true(tu_metric(&r, "dma_max_wait_us") == 0);
        run_result_free(&r);
    }
}

/* What the devices completed by the end of a run, and what they still had
 * queued, add up to what they were given (dma_bytes). */
static void assert_dma_accounted(const struct run_result *r)
{
    double done = tu_metric(r, "dma_mbps") * 1e6 / 8 * r->sim_seconds;
    double given = (double)r->st.cnt[CNT_dma_bytes];
    assert_true(done + tu_metric(r, "dma_queued_bytes") > given - 1);
    assert_true(done + tu_metric(r, "dma_queued_bytes") < given + 1);
}

/* A NIC far slower than its 88 Mbit/s (41.7 ms per page at 2.4 GHz, the
 * IOTLB one entry, no page-selective invalidation) carries only what it
 * completes: about 3 pages every 138 ms, under 1 Mbit/s; the rest queues. */
static void test_dma_overloaded(void **state)
{
    (void)state;
    const char *const p[] = { "forkstorm.minutes=0.05", "hv.nic_mbps=88", "iommu.psi=false",
                              "iommu.iotlb_entries=1", "iommu.iotlb_ways=1", "cost.dma_page=100000000", NULL };
    for (unsigned m = 0; m < 2; m++) {
        struct run_result r;
        run(pv_modes[m], "forkstorm", p, NULL, &r);
        common(&r);
        double offered = (double)r.st.cnt[CNT_dma_bytes] * 8 / 1e6 / r.sim_seconds;
        assert_true(offered > 87);
        assert_true(tu_metric(&r, "dma_mbps") > 0.3 && tu_metric(&r, "dma_mbps") < 1);
        assert_true(tu_metric(&r, "dma_queued_bytes") > 0.95 * (double)r.st.cnt[CNT_dma_bytes]);
        assert_true(tu_metric(&r, "dma_max_wait_us") > 1e6 * r.sim_seconds);   /* waits past the end */
        assert_dma_accounted(&r);
        run_result_free(&r);
    }
}

/* The NIC's workload transfers (netio, 4 pages per ms) and its background
 * traffic (hv.nic_mbps=88, 3 pages per ms) share one device: at 200 us a
 * page each fits alone (80%, 60% busy), together they do not (140%). */
static void test_dma_one_timeline(void **state)
{
    (void)state;
    const char *const alone[] = { "netio.seconds=0.2", "cost.dma_page=480000", "cost.io_walk_ref=0", NULL };
    const char *const both[] = { "netio.seconds=0.2", "cost.dma_page=480000", "cost.io_walk_ref=0",
                                 "hv.nic_mbps=88", NULL };
    struct run_result r;
    run("pv", "netio", alone, NULL, &r);
    assert_true(tu_metric(&r, "dma_mbps") > 99.9);
    assert_true(tu_metric(&r, "dma_max_wait_us") == 0);
    assert_dma_accounted(&r);
    run_result_free(&r);
    run("pv", "netio", both, NULL, &r);
    double offered = (double)r.st.cnt[CNT_dma_bytes] * 8 / 1e6 / r.sim_seconds;
    assert_true(offered > 185);
    assert_true(tu_metric(&r, "dma_mbps") < 0.8 * offered);
    assert_true(tu_metric(&r, "dma_queued_bytes") > 0);
    assert_true(tu_metric(&r, "dma_max_wait_us") > 10000);
    assert_dma_accounted(&r);
    run_result_free(&r);
}

/* The cache switched on, retuned and switched off during one run. */
static unsigned gauge_index(const struct series *s, const char *name)
{
    for (unsigned g = 0; g < s->ngauge; g++)
        if (!strcmp(s->gauge_name[g], name))
            return g;
    fail_msg("gauge %s missing", name);
    return 0;
}

static void test_runtime_control(void **state)
{
    (void)state;
    const char *const p[] = { "forkstorm.minutes=2", "forkstorm.burst_refs=0", "sim.series_ms=30000",
                              "guest.pt_cache=off", NULL };
    const char *const at[] = { "30s:ptcache=on", "60s:ptcache_ratio=100", "60s:ptcache_total=16",
                               "90s:ptcache=off", NULL };
    struct run_result r;
    run("pv-pibooster", "forkstorm", p, at, &r);
    common(&r);
    const struct series *s = &r.series;
    unsigned g_pool = gauge_index(s, "ptcache_pool"), g_pt = gauge_index(s, "pt_pages");
    assert_true(s->n >= 4);
    uint64_t inv[8] = { 0 };
    double pool[8] = { 0 }, in_use[8] = { 0 };
    for (uint32_t i = 0; i < s->n && i < 8; i++) {
        inv[i] = s->cnt[i * CNT__N + CNT_iotlb_inv_psi] + s->cnt[i * CNT__N + CNT_iotlb_inv_dsi];
        pool[i] = s->gauge[i * s->ngauge + g_pool];
        in_use[i] = s->gauge[i * s->ngauge + g_pt];
    }
    /* 0-30 s: off; 30-60 s: on, the pool fills; 60-90 s: thresholds at
     * ratio 100% and total 16, so after every free a pool holds no more than
     * the pages in use (a pool frees in_pool - in_use: it never shrinks below
     * in_use); 90-120 s: off, everything released. */
    assert_int_equal(pool[0], 0);
    assert_true(pool[1] > 0);
    assert_true(pool[2] <= in_use[2]);
    assert_int_equal(pool[3], 0);
    assert_true(inv[1] < inv[0]);
    assert_true(inv[3] > inv[1]);
    assert_true(tu_metric(&r, "xen_ptcache_released") > 0);
    run_result_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forkstorm),
        cmocka_unit_test(test_lmbench),
        cmocka_unit_test(test_memwalk),
        cmocka_unit_test(test_netio),
        cmocka_unit_test(test_background_dma),
        cmocka_unit_test(test_dma_overloaded),
        cmocka_unit_test(test_dma_one_timeline),
        cmocka_unit_test(test_runtime_control),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

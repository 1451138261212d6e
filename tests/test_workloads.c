/* test_workloads.c: every built-in workload run end to end through
 * engine_run on mode native under --check, with small parameters: the runs
 * succeed, their counters are consistent (every page-table page freed, every
 * workload reference checked by the oracle), lmbench's latencies are ordered,
 * memwalk's patterns differ as they should, runs are a pure function of the
 * seed, and the JSON report of a run is deterministic. Generators are also
 * read directly, event by event, for what the review of them found: a
 * memwalk stride that is not a multiple of 8 must not reach a reference's
 * kind bits, a netio slice of 2^32 references must make all of them (in
 * batches of bounded size), and a forkstorm burst larger than its
 * buffer must make as many references as asked. */
#define _GNU_SOURCE   /* memmem */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "sim/engine.h"
#include "sim/report.h"
#include "testutil.h"
#include <glob.h>

#define CNT(r, c) ((r)->st.cnt[CNT_##c])

/* Run workload wl on native with the NULL-terminated params. */
static int run_cfg(struct sim_config *cfg, struct run_result *out, const char *wl,
                   const char *const *params, uint64_t seed, int check)
{
    assert_int_equal(config_init(cfg, wl), 0);
    cfg->check = check;
    cfg->quiet = 1;
    cfg->seed = seed;
    for (unsigned i = 0; params && params[i]; i++)
        assert_int_equal(config_param(cfg, params[i]), 0);
    assert_int_equal(config_validate(cfg), 0);
    const struct mode_def *md = mode_find("native");
    assert_non_null(md);
    return engine_run(cfg, md, out);
}

static void run_ok(struct run_result *out, const char *wl, const char *const *params, uint64_t seed)
{
    struct sim_config cfg;
    int rc = run_cfg(&cfg, out, wl, params, seed, 1);
    config_free(&cfg);
    if (rc)
        fail_msg("engine_run(%s) failed: %s", wl, mv_last_error());
    assert_string_equal(out->mode, "native");
    assert_string_equal(out->workload, wl);
    assert_true(out->sim_seconds > 0);
    /* the simulated time is the sum of the cycle buckets */
    uint64_t sum = 0;
    for (unsigned c = 0; c < CYC__N; c++)
        sum += out->st.cyc[c];
    assert_int_equal(sum, out->st.now);
    /* every page-table page allocated during the run was freed */
    assert_true(CNT(out, pt_pages_alloc) > 0);
    assert_int_equal(CNT(out, pt_pages_alloc), CNT(out, pt_pages_free));
    for (unsigned l = 0; l < 4; l++)
        assert_int_equal(out->st.cnt[CNT_pt_alloc_l1 + l], out->st.cnt[CNT_pt_free_l1 + l]);
    /* every reference the workload made was checked and none faulted fatally */
    assert_true(CNT(out, oracle_checks) > 0);
    assert_int_equal(CNT(out, oracle_checks), CNT(out, refs));
    assert_int_equal(CNT(out, segv), 0);
    /* a time series was sampled */
    assert_true(out->series.n >= 1);
}

static const struct mv_metric *metric(const struct run_result *r, const char *name)
{
    for (unsigned i = 0; i < r->metrics.n; i++)
        if (!strcmp(r->metrics.m[i].name, name))
            return &r->metrics.m[i];
    fail_msg("metric %s missing", name);
    return NULL;
}

/* forkstorm minutes=1, seed 1: run once, shared by the tests below. */
static const char *const FS_PARAMS[] = { "forkstorm.minutes=1", NULL };
static struct run_result fs_seed1;
static int fs_have;

static const struct run_result *forkstorm_seed1(void)
{
    if (!fs_have) {
        run_ok(&fs_seed1, "forkstorm", FS_PARAMS, 1);
        fs_have = 1;
    }
    return &fs_seed1;
}

static void test_forkstorm(void **state)
{
    (void)state;
    const struct run_result *r = forkstorm_seed1();
    assert_true(CNT(r, fork) > 0);
    assert_true(CNT(r, exec) > 0);
    assert_true(CNT(r, exit) > 0);
    /* every process exits: the forked ones and the spawned launcher */
    assert_int_equal(CNT(r, exit), CNT(r, fork) + 1);
    /* at most one exec per forked process, plus the launcher's */
    assert_true(CNT(r, exec) <= CNT(r, fork) + 1);
    /* a minute at ~542/min: hundreds of creations, not a handful */
    assert_true(CNT(r, fork) > 300 && CNT(r, fork) < 900);
    assert_true(CNT(r, guest_pf) > 0);
    assert_true(CNT(r, pf_cow) > 0);
    assert_true(CNT(r, pf_file) > 0);
    assert_true(CNT(r, ctx_switch) > 0);
    /* a minute of simulated time has passed */
    assert_true(r->sim_seconds >= 60.0 && r->sim_seconds < 61.0);
    /* no hypervisor, no IOMMU on bare metal */
    assert_int_equal(CNT(r, vm_exits), 0);
    assert_int_equal(CNT(r, hypercalls), 0);
    /* the series covers the run: its counter deltas add up to the totals */
    uint64_t forks = 0;
    for (uint32_t i = 0; i < r->series.n; i++)
        forks += r->series.cnt[i * CNT__N + CNT_fork];
    assert_int_equal(forks, CNT(r, fork));
}

static void test_forkstorm_deterministic(void **state)
{
    (void)state;
    const struct run_result *a = forkstorm_seed1();
    struct run_result b, c;
    run_ok(&b, "forkstorm", FS_PARAMS, 1);
    assert_memory_equal(&a->st, &b.st, sizeof a->st);
    assert_true(a->sim_seconds == b.sim_seconds);
    assert_int_equal(a->series.n, b.series.n);
    assert_memory_equal(a->series.cnt, b.series.cnt, (size_t)a->series.n * CNT__N * sizeof *a->series.cnt);
    assert_memory_equal(a->series.gauge, b.series.gauge, (size_t)a->series.n * a->series.ngauge * sizeof *a->series.gauge);
    run_result_free(&b);

    run_ok(&c, "forkstorm", FS_PARAMS, 2);
    assert_true(memcmp(&a->st, &c.st, sizeof a->st) != 0);
    assert_true(CNT(&c, fork) > 0);
    run_result_free(&c);
}

static void test_lmbench(void **state)
{
    (void)state;
    static const char *const params[] = { "lmbench.iterations=10", NULL };
    struct run_result r;
    run_ok(&r, "lmbench", params, 1);
    /* 3 tests x (10 warm-up + 10 measured) operations */
    assert_int_equal(CNT(&r, fork), 60);
    /* lat_proc's own exec, fork+execve: 1 each, fork+sh: 2 each */
    assert_int_equal(CNT(&r, exec), 1 + 20 + 40);
    assert_int_equal(CNT(&r, exit), 61);
    double ex = metric(&r, "lat_fork_exit_us")->value;
    double ee = metric(&r, "lat_fork_execve_us")->value;
    double es = metric(&r, "lat_fork_sh_us")->value;
    assert_true(ex > 0);
    assert_true(ex < ee);
    assert_true(ee < es);
    /* plausible magnitudes for a simulated 2020s machine: tens of us to ms */
    assert_true(ex > 1 && es < 100000);
    run_result_free(&r);
}

static void memwalk(struct run_result *r, const char *pattern, const char *refs, const char *extra)
{
    char p[64], n[64];
    snprintf(p, sizeof p, "memwalk.pattern=%s", pattern);
    snprintf(n, sizeof n, "memwalk.refs=%s", refs);
    const char *const params[] = { "memwalk.ws_mb=32", p, n, extra, NULL };
    run_ok(r, "memwalk", params, 1);
}

static void test_memwalk_patterns(void **state)
{
    (void)state;
    static const char *const pats[] = { "seq", "stride", "random", "chase" };
    uint64_t miss[4];
    struct run_result base;
    /* the same working set with a single walking reference: the prefault
     * and the program's own references */
    memwalk(&base, "seq", "1", NULL);
    const uint64_t ws_pages = (32ull << 20) >> PAGE_SHIFT;
    assert_true(CNT(&base, oracle_checks) > ws_pages);
    for (unsigned i = 0; i < 4; i++) {
        struct run_result r, r2;
        memwalk(&r, pats[i], "50000", NULL);
        assert_true(CNT(&r, tlb_miss) > 0);
        assert_int_equal(CNT(&r, exit), 1);
        /* each walking reference is checked exactly once */
        assert_int_equal(CNT(&r, oracle_checks), CNT(&base, oracle_checks) - 1 + 50000);
        memwalk(&r2, pats[i], "40000", NULL);
        assert_int_equal(CNT(&r, oracle_checks) - CNT(&r2, oracle_checks), 10000);
        /* prefault wrote every page: the walk itself faults nothing */
        assert_int_equal(CNT(&r, guest_pf), CNT(&base, guest_pf));
        assert_true(CNT(&r, pf_anon) >= ws_pages);
        miss[i] = CNT(&r, tlb_miss) - CNT(&base, tlb_miss);
        run_result_free(&r);
        run_result_free(&r2);
    }
    /* seq touches ~100 pages in order; random roams 8192 pages */
    assert_true(miss[2] > 0);
    assert_true(miss[0] * 10 < miss[2]);
    /* stride 4 KiB and chase touch a new page almost every reference */
    assert_true(miss[1] > 40000);
    assert_true(miss[3] > 40000);
    run_result_free(&base);
}

static void test_memwalk_remap(void **state)
{
    (void)state;
    struct run_result plain, r;
    memwalk(&plain, "random", "50000", NULL);
    memwalk(&r, "random", "50000", "memwalk.remap_every=5000");
    /* a remap every 5000 of 50000 references: 10 munmap + mmap pairs */
    assert_int_equal(CNT(&r, munmap), 10);
    assert_int_equal(CNT(&r, mmap), 11);
    assert_int_equal(CNT(&plain, munmap), 0);
    /* the remapped chunks fault in again */
    assert_true(CNT(&r, guest_pf) > CNT(&plain, guest_pf));
    assert_true(CNT(&r, data_pages_free) > CNT(&plain, data_pages_free));
    assert_true(CNT(&r, tlb_flush_page) + CNT(&r, tlb_flush_pcid) > 0);
    assert_int_equal(CNT(&r, oracle_checks), CNT(&plain, oracle_checks));
    run_result_free(&plain);
    run_result_free(&r);
}

/* A generator of workload wl with the NULL-terminated params, seed 1, read
 * directly (no engine): gen_next gives its events one by one. */
struct gen {
    struct sim_config cfg;
    void *st;
};

static void gen_open(struct gen *g, const char *wl, const char *const *params)
{
    assert_int_equal(config_init(&g->cfg, wl), 0);
    for (unsigned i = 0; params[i]; i++)
        assert_int_equal(config_param(&g->cfg, params[i]), 0);
    assert_int_equal(config_validate(&g->cfg), 0);
    g->st = g->cfg.wl->create(g->cfg.wl_cfg, 1);
    assert_non_null(g->st);
}

static void gen_next(struct gen *g, struct event *ev)
{
    g->cfg.wl->next(g->st, ev);
}

static void gen_close(struct gen *g)
{
    g->cfg.wl->destroy(g->st);
    config_free(&g->cfg);
}

/* memwalk.stride is in bytes and may be any of them: the reference's
 * address is the 8-byte word the byte falls in, and the stride never
 * reaches the kind bits (stride 9 made every eighth read an exec of the
 * working set, and the run died "not mapped"; strides 1-3 mod 8 made reads
 * writes and execs). */
static void test_memwalk_byte_stride(void **state)
{
    (void)state;
    for (uint64_t stride = 9; stride <= 16; stride++) {
        char sp[64];
        snprintf(sp, sizeof sp, "memwalk.stride=%llu", (unsigned long long)stride);
        const char *const params[] = { "memwalk.ws_mb=4", "memwalk.refs=1000", "memwalk.pattern=stride",
                                       "memwalk.write_pct=0", "memwalk.prefault=false", sp, NULL };
        /* the stream: after the image's references, the walk's, in order:
         * reads, of the words holding bytes off, off + stride, ... (off
         * is where the walk starts, a random one of the word's 8 bytes) */
        struct gen g;
        gen_open(&g, "memwalk", params);
        const uint64_t base = 16384ull << 30, ws = 4ull << 20;
        uint64_t walk[1000], walked = 0;
        struct event ev;
        for (gen_next(&g, &ev); ev.type != EV_END; gen_next(&g, &ev)) {
            if (ev.type != EV_ACCESS || (ev.batch[0] & ~7ull) - base >= ws)
                continue;                       /* the image's references */
            for (uint32_t i = 0; i < ev.n; i++) {
                assert_true(walked < 1000);
                walk[walked++] = ev.batch[i];
            }
        }
        assert_int_equal(walked, 1000);
        unsigned starts = 0;
        for (uint64_t off = (walk[0] & ~7ull) - base; off < (walk[0] & ~7ull) - base + 8; off++) {
            uint64_t i = 0;
            while (i < walked && walk[i] == ((base + (off + i * stride) % ws) & ~7ull))
                i++;
            starts += i == walked;
        }
        if (!starts)
            for (uint64_t i = 0; i < walked; i++)
                if (walk[i] & 7)
                    fail_msg("stride %llu: reference %llu is %#llx: kind bits %llu in a read",
                             (unsigned long long)stride, (unsigned long long)i,
                             (unsigned long long)walk[i], (unsigned long long)(walk[i] & 7));
        assert_true(starts > 0);
        assert_int_equal(walked, 1000);
        gen_close(&g);
        /* and the run: every reference mapped and checked */
        struct run_result r;
        run_ok(&r, "memwalk", params, 1);
        run_result_free(&r);
    }
}

/* netio on bare metal: the NIC, with no IOMMU, is still a device with a
 * timeline. At the default 800 cycles a page it carries the link's 100
 * Mbit/s; at 40 ms a page (4 pages a 1 ms slice) it completes a transfer
 * every 160 ms, and what it has not completed at the end is queued, not
 * counted as moved. */
static void test_netio_native_device(void **state)
{
    (void)state;
    const char *const fast[] = { "netio.seconds=0.5", NULL };
    const char *const slow[] = { "netio.seconds=0.5", "cost.dma_page=96000000", NULL };
    struct run_result r;
    run_ok(&r, "netio", fast, 1);
    assert_true(metric(&r, "dma_mbps")->value > 99.9);
    assert_true(metric(&r, "dma_queued_bytes")->value == 0);
    assert_true(metric(&r, "dma_max_wait_us")->value == 0);
    run_result_free(&r);
    run_ok(&r, "netio", slow, 1);
    double done = metric(&r, "dma_mbps")->value * 1e6 / 8 * r.sim_seconds;
    assert_true(done > 12500 * 2 && done < 12500 * 4);     /* 3 transfers of 12500 bytes by 0.5 s */
    double off = done + metric(&r, "dma_queued_bytes")->value - (double)CNT(&r, dma_bytes);
    assert_true(off > -1 && off < 1);                        /* completed + queued = given */
    assert_true(metric(&r, "dma_max_wait_us")->value > 0.5e6);
    run_result_free(&r);
}

/* netio: a slice makes 16 references per 4 KiB received, however many that
 * is, handed out in batches of at most 4096. At 1 Tbit/s a slice of
 * 8.796093 s receives 1099511625000 bytes, 2^28 pages: 2^32 references (a
 * 32-bit count of them wrapped to 16, and a smaller slice allocated a
 * buffer for all of them at once: 3.9 GB for one of a second). */
static void test_netio_large_slice(void **state)
{
    (void)state;
    const char *const params[] = { "netio.seconds=8.796093", "netio.link_mbps=1000000",
                                   "netio.slice_us=8796093", NULL };
    struct gen g;
    gen_open(&g, "netio", params);
    struct event ev;
    uint64_t refs = 0, dma = 0, idle = 0, batches = 0;
    for (gen_next(&g, &ev); ev.type != EV_END; gen_next(&g, &ev)) {
        switch (ev.type) {
        case EV_DMA:
            assert_int_equal(ev.len, 1099511625000ull);
            assert_int_equal(refs, 0);          /* the NIC delivers, then the copy */
            dma++;
            break;
        case EV_ACCESS:
            assert_int_equal(dma, 1);
            assert_int_equal(idle, 0);
            assert_true(ev.n > 0 && ev.n <= 4096);
            refs += ev.n;
            batches++;
            break;
        case EV_IDLE_UNTIL:
            idle++;
            break;
        default:
            break;
        }
    }
    /* one slice covers the run */
    assert_int_equal(dma, 1);
    assert_int_equal(idle, 1);
    assert_int_equal(refs, 1ull << 32);
    assert_int_equal(batches, (1ull << 32) / 4096);
    gen_close(&g);
}

/* netio: a slice longer than the run is cut at the run's end, with what
 * the link carries until then: 1 ms at 1 Tbit/s is 125000000 bytes, 30518
 * pages, and the run's time ends at 1 ms (a whole slice of 100 ms was
 * streamed, and time ran to 100 ms). 2.5 ms of 1 ms slices: two whole and
 * a half. */
static void netio_slices(const char *seconds, const char *slice_us, unsigned want_n, const uint64_t *want_len,
                         uint64_t want_end_ns)
{
    const char *const params[] = { seconds, "netio.link_mbps=1000000", slice_us, NULL };
    struct gen g;
    gen_open(&g, "netio", params);
    struct event ev;
    uint64_t refs = 0, want_refs = 0, last_idle = 0;
    unsigned n = 0;
    for (gen_next(&g, &ev); ev.type != EV_END; gen_next(&g, &ev)) {
        if (ev.type == EV_DMA) {
            assert_true(n < want_n);
            assert_int_equal(ev.len, want_len[n]);
            want_refs += (want_len[n] + 4095) / 4096 * 16;
            n++;
        } else if (ev.type == EV_ACCESS) {
            refs += ev.n;
        } else if (ev.type == EV_IDLE_UNTIL) {
            last_idle = ev.ns;
        }
    }
    assert_int_equal(n, want_n);
    assert_int_equal(refs, want_refs);
    assert_int_equal(last_idle, want_end_ns);
    gen_close(&g);
}

static void test_netio_slice_cut_at_the_end(void **state)
{
    (void)state;
    const uint64_t one[] = { 125000000 };
    netio_slices("netio.seconds=0.001", "netio.slice_us=100000", 1, one, 1000000);
    const uint64_t three[] = { 125000000, 125000000, 62500000 };
    netio_slices("netio.seconds=0.0025", "netio.slice_us=1000", 3, three, 2500000);
    const uint64_t whole[] = { 125000000, 125000000, 125000000 };
    netio_slices("netio.seconds=0.003", "netio.slice_us=1000", 3, whole, 3000000);
}

/* forkstorm: a burst of burst_refs references makes that many, in events of
 * at most 4096 one after another (it was capped at 4096 whatever was asked).
 * A burst begins right after the time advance to it and is every access
 * event of one process until another event. */
static void test_forkstorm_large_burst(void **state)
{
    (void)state;
    static const char *const sizes[] = { "4096", "8192", "10000" };
    static const uint64_t want[] = { 4096, 8192, 10000 };
    for (unsigned k = 0; k < 3; k++) {
        char bp[64];
        snprintf(bp, sizeof bp, "forkstorm.burst_refs=%s", sizes[k]);
        const char *const params[] = { "forkstorm.minutes=0.05", "forkstorm.burst_ms=100", bp, NULL };
        struct gen g;
        gen_open(&g, "forkstorm", params);
        struct event ev;
        enum ev_type prev = EV_END;
        uint32_t pid = 0;
        uint64_t in_burst = 0, bursts = 0;
        int open = 0;
        for (gen_next(&g, &ev); ev.type != EV_END; gen_next(&g, &ev)) {
            if (open && (ev.type != EV_ACCESS || ev.pid != pid)) {
                assert_int_equal(in_burst, want[k]);
                bursts++;
                open = 0;
            }
            if (ev.type == EV_ACCESS && !open && prev == EV_IDLE_UNTIL) {
                open = 1;
                pid = ev.pid;
                in_burst = 0;
            }
            if (ev.type == EV_ACCESS && open) {
                assert_true(ev.n <= 4096);
                in_burst += ev.n;
            }
            prev = ev.type;
        }
        if (open) {
            assert_int_equal(in_burst, want[k]);
            bursts++;
        }
        assert_true(bursts > 20);
        gen_close(&g);
    }
    /* and a run of such bursts, every reference checked */
    const char *const params[] = { "forkstorm.minutes=0.05", "forkstorm.burst_ms=100",
                                   "forkstorm.burst_refs=8192", NULL };
    struct run_result r;
    run_ok(&r, "forkstorm", params, 1);
    run_result_free(&r);
}

/* Write r's JSON document to path the way the CLI does (lib/outfile). */
static int write_json(const char *path, const struct sim_config *cfg, const struct run_result *r)
{
    struct report_files rf;
    int rc = report_files_open(&rf, path, NULL);
    if (!rc)
        rc = report_files_commit(&rf, cfg, r, 1);
    report_files_close(&rf);
    return rc;
}

static void test_report_json_deterministic(void **state)
{
    (void)state;
    static const char *const params[] = { "lmbench.iterations=5", NULL };
    struct sim_config cfg;
    struct run_result r[2];
    assert_int_equal(run_cfg(&cfg, &r[0], "lmbench", params, 7, 1), 0);
    char p1[64], p3[64];
    tu_tmpname(p1, sizeof p1, "json1");
    tu_tmpname(p3, sizeof p3, "json3");
    assert_int_equal(write_json(p1, &cfg, r), 0);
    size_t n1 = 0, n3 = 0;
    char *b1 = tu_slurp(p1, &n1);
    assert_non_null(b1);
    assert_true(n1 > 100);
    /* the document names the run */
    assert_true(b1[0] == '{');
    assert_non_null(memmem(b1, n1, "\"native\"", 8));
    assert_non_null(memmem(b1, n1, "\"lat_fork_sh_us\"", 16));
    assert_non_null(memmem(b1, n1, "\"seed\": 7", 9));

    /* a second, identical run reports identically too */
    struct sim_config cfg2;
    assert_int_equal(run_cfg(&cfg2, &r[1], "lmbench", params, 7, 1), 0);
    assert_int_equal(write_json(p3, &cfg2, &r[1]), 0);
    char *b3 = tu_slurp(p3, &n3);
    assert_non_null(b3);
    assert_int_equal(n1, n3);
    assert_memory_equal(b1, b3, n1);

    /* no temporary file (/tmp/.NAME.XXXXXX) is left next to the output */
    char pattern[96];
    snprintf(pattern, sizeof pattern, "/tmp/.%s.*", p1 + 5);
    glob_t gl;
    assert_int_equal(glob(pattern, 0, NULL, &gl), GLOB_NOMATCH);

    free(b1);
    free(b3);
    unlink(p1);
    unlink(p3);
    run_result_free(&r[0]);
    run_result_free(&r[1]);
    config_free(&cfg);
    config_free(&cfg2);
}

static int teardown_group(void **state)
{
    (void)state;
    if (fs_have)
        run_result_free(&fs_seed1);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forkstorm),
        cmocka_unit_test(test_forkstorm_deterministic),
        cmocka_unit_test(test_lmbench),
        cmocka_unit_test(test_memwalk_patterns),
        cmocka_unit_test(test_memwalk_remap),
        cmocka_unit_test(test_memwalk_byte_stride),
        cmocka_unit_test(test_netio_native_device),
        cmocka_unit_test(test_netio_large_slice),
        cmocka_unit_test(test_netio_slice_cut_at_the_end),
        cmocka_unit_test(test_forkstorm_large_burst),
        cmocka_unit_test(test_report_json_deterministic),
    };
    return cmocka_run_group_tests(tests, NULL, teardown_group);
}

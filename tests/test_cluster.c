/* test_cluster.c: exit clustering (hv/cluster.c) through the exit path
 * (hv_exit): pairs of exits at close sites take one transition, the window
 * is exact, an exit the monitor cannot handle in a translation ends the
 * cluster, translations are cached per site (LRU), the translated stretch
 * is charged its slowdown, only hardware VM exits are clustered, a return
 * to user mode ends the cluster; the
 * checker catches a broken state; and on a whole machine, clustering
 * changes the transitions, not the work. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "guest/sites.h"
#include "hv/hv.h"
#include "sim/engine.h"
#include "trace/writer.h"
#include "testutil.h"

struct env {
    struct hv h;
    struct mv_stats st;
    struct cost cost;
    struct hvconfig cfg;
    struct cpu cpu;
};

static struct env *env_new(uint64_t window, uint64_t cache_sites)
{
    struct env *e = calloc(1, sizeof *e);
    assert_non_null(e);
    param_defaults(&cost_params, &e->cost);
    param_defaults(&clustering_params, &e->cfg.clustering);
    e->cfg.clustering.enable = 1;
    e->cfg.clustering.window = window;
    e->cfg.clustering.cache_sites = cache_sites;
    e->h.st = &e->st;
    e->h.cost = &e->cost;
    e->h.cfg = &e->cfg;
    e->h.cpu = &e->cpu;
    cluster_init(&e->h.cl, &e->cfg.clustering);
    return e;
}

static void env_free(struct env *e)
{
    cluster_destroy(&e->h.cl);
    free(e);
}

/* The guest runs `cycles`, then an operation at `site` exits. */
static void guest_then_exit(struct env *e, uint64_t cycles, unsigned site, enum hv_transition t,
                            enum exit_reason r)
{
    stat_charge(&e->st, CYC_kernel, cycles);
    e->cpu.site = (uint16_t)site;
    hv_exit(&e->h, t, r);
}

static void test_pairs_halve_transitions(void **state)
{
    (void)state;
    struct env *e = env_new(500, 32);
    for (int i = 0; i < 100; i++) {
        guest_then_exit(e, 100000, 1, HV_VMEXIT, EXIT_PT_WRITE);   /* ptep_clear_flush */
        guest_then_exit(e, 50, 2, HV_VMEXIT, EXIT_INVLPG);         /* its flush */
    }
    assert_int_equal(e->st.cnt[CNT_vm_exits], 100);
    assert_int_equal(e->st.cnt[CNT_cluster_exits_avoided], 100);
    assert_int_equal(e->st.cnt[CNT_clusters], 100);
    assert_int_equal(e->st.cyc[CYC_exits], 100 * e->cost.vm_exit);
    assert_int_equal(e->h.cl.site[1].exits, 100);
    assert_int_equal(e->h.cl.site[1].clusters, 100);
    assert_int_equal(e->h.cl.site[2].avoided, 100);
    assert_int_equal(e->h.cl.site[2].exits, 0);
    assert_int_equal(e->st.cnt[CNT_bt_translations], 1);
    /* 50 guest cycles translated each time, at cost.bt_slowdown. */
    uint64_t slow = (uint64_t)(50 * (e->cost.bt_slowdown - 1.0) + 0.5);
    assert_int_equal(e->st.cyc[CYC_bt], e->cost.bt_translate + 100 * slow);
    char msg[256];
    assert_int_equal(cluster_check(&e->h.cl, &e->st, msg, sizeof msg), 0);
    env_free(e);
}

static void test_loop_is_one_cluster(void **state)
{
    (void)state;
    struct env *e = env_new(500, 32);
    guest_then_exit(e, 10000, 3, HV_VMEXIT, EXIT_PT_WRITE);
    for (int i = 0; i < 511; i++)                 /* the rest of a zap loop */
        guest_then_exit(e, 20, 3, HV_VMEXIT, EXIT_PT_WRITE);
    assert_int_equal(e->st.cnt[CNT_vm_exits], 1);
    assert_int_equal(e->st.cnt[CNT_cluster_exits_avoided], 511);
    assert_int_equal(e->st.cnt[CNT_clusters], 1);
    env_free(e);
}

static void test_window_is_exact(void **state)
{
    (void)state;
    struct env *e = env_new(500, 32);
    guest_then_exit(e, 10000, 1, HV_VMEXIT, EXIT_CR3);
    guest_then_exit(e, 500, 2, HV_VMEXIT, EXIT_FLUSH);      /* at the window: joins */
    assert_int_equal(e->st.cnt[CNT_vm_exits], 1);
    guest_then_exit(e, 501, 2, HV_VMEXIT, EXIT_FLUSH);      /* one past: exits */
    assert_int_equal(e->st.cnt[CNT_vm_exits], 2);
    assert_int_equal(e->st.cnt[CNT_cluster_exits_avoided], 1);
    /* The monitor's own time does not count as the guest's. */
    hv_charge(&e->h, 100000);
    stat_charge(&e->st, CYC_exits, 100000);
    guest_then_exit(e, 10, 2, HV_VMEXIT, EXIT_FLUSH);
    assert_int_equal(e->st.cnt[CNT_vm_exits], 2);
    env_free(e);
}

static void test_fault_ends_cluster(void **state)
{
    (void)state;
    struct env *e = env_new(500, 32);
    guest_then_exit(e, 10000, 1, HV_VMEXIT, EXIT_PT_WRITE);
    guest_then_exit(e, 10, 0, HV_VMEXIT, EXIT_PF);
    guest_then_exit(e, 10, 1, HV_VMEXIT, EXIT_PT_WRITE);
    guest_then_exit(e, 10, 0, HV_VMEXIT, EXIT_EPT_VIOLATION);
    guest_then_exit(e, 10, 1, HV_VMEXIT, EXIT_PT_WRITE);
    guest_then_exit(e, 10, 0, HV_VMEXIT, EXIT_HYPERCALL);
    guest_then_exit(e, 10, 1, HV_VMEXIT, EXIT_PT_WRITE);
    assert_int_equal(e->st.cnt[CNT_vm_exits], 7);
    assert_int_equal(e->st.cnt[CNT_cluster_exits_avoided], 0);
    env_free(e);
}

static void test_only_vm_exits_cluster(void **state)
{
    (void)state;
    struct env *e = env_new(500, 32);
    guest_then_exit(e, 10000, 1, HV_PV_TRAP, EXIT_PT_WRITE);
    guest_then_exit(e, 10, 1, HV_PV_TRAP, EXIT_PT_WRITE);
    assert_int_equal(e->st.cnt[CNT_vm_exits], 2);
    guest_then_exit(e, 10000, 1, HV_SSP_TRAP, EXIT_FLUSH);
    guest_then_exit(e, 10, 1, HV_SSP_TRAP, EXIT_FLUSH);
    assert_int_equal(e->st.cnt[CNT_ssp_traps], 2);
    assert_int_equal(e->st.cnt[CNT_cluster_exits_avoided], 0);
    /* Clustering off: every VM exit is a transition. */
    e->cfg.clustering.enable = 0;
    guest_then_exit(e, 10000, 1, HV_VMEXIT, EXIT_PT_WRITE);
    guest_then_exit(e, 10, 1, HV_VMEXIT, EXIT_PT_WRITE);
    assert_int_equal(e->st.cnt[CNT_vm_exits], 4);
    assert_int_equal(e->st.cnt[CNT_cluster_exits_avoided], 0);
    assert_int_equal(e->st.cyc[CYC_bt], 0);
    env_free(e);
}

static void test_translation_cache_lru(void **state)
{
    (void)state;
    struct env *e = env_new(500, 2);
    for (int round = 0; round < 10; round++)      /* two sites fit */
        for (unsigned s = 1; s <= 2; s++)
            guest_then_exit(e, 100000, s, HV_VMEXIT, EXIT_PT_WRITE);
    assert_int_equal(e->st.cnt[CNT_bt_translations], 2);
    for (int round = 0; round < 10; round++)      /* three in rotation: each evicts the next */
        for (unsigned s = 1; s <= 3; s++)
            guest_then_exit(e, 100000, s, HV_VMEXIT, EXIT_PT_WRITE);
    assert_int_equal(e->st.cnt[CNT_bt_translations], 2 + 28);   /* 1 and 2 hit once, then no hit */
    assert_int_equal(e->h.cl.ncache, 2);
    /* Recency, not insertion order: 2 (put in before 3) is touched, so 4
     * evicts 3 and 2 still hits. */
    guest_then_exit(e, 100000, 2, HV_VMEXIT, EXIT_PT_WRITE);
    uint64_t before = e->st.cnt[CNT_bt_translations];
    guest_then_exit(e, 100000, 4, HV_VMEXIT, EXIT_PT_WRITE);
    guest_then_exit(e, 100000, 2, HV_VMEXIT, EXIT_PT_WRITE);
    assert_int_equal(e->st.cnt[CNT_bt_translations], before + 1);
    /* A site id beyond the table counts as site 0. */
    guest_then_exit(e, 100000, 60000, HV_VMEXIT, EXIT_PT_WRITE);
    assert_int_equal(e->h.cl.site[0].exits, 1);
    char msg[256];
    assert_int_equal(cluster_check(&e->h.cl, &e->st, msg, sizeof msg), 0);
    env_free(e);
}

static void test_check_catches(void **state)
{
    (void)state;
    char msg[256];
    struct env *e = env_new(500, 4);
    guest_then_exit(e, 10000, 1, HV_VMEXIT, EXIT_PT_WRITE);
    guest_then_exit(e, 10, 2, HV_VMEXIT, EXIT_PT_WRITE);
    guest_then_exit(e, 10000, 2, HV_VMEXIT, EXIT_PT_WRITE);
    assert_int_equal(cluster_check(&e->h.cl, &e->st, msg, sizeof msg), 0);

    e->st.cnt[CNT_cluster_exits_avoided]++;                   /* counters and sites disagree */
    assert_int_equal(cluster_check(&e->h.cl, &e->st, msg, sizeof msg), -1);
    assert_non_null(strstr(msg, "avoided"));
    e->st.cnt[CNT_cluster_exits_avoided]--;

    e->h.cl.cache[1] = e->h.cl.cache[0];                      /* a site cached twice */
    assert_int_equal(cluster_check(&e->h.cl, &e->st, msg, sizeof msg), -1);
    assert_non_null(strstr(msg, "twice"));
    e->h.cl.cache[1] = 1;

    /* More cached than clustering.cache_sites allows: the array (4 slots)
     * filled with distinct valid sites, the limit lowered to 3, so nothing
     * but the count is wrong and every slot read is in bounds. */
    e->h.cl.cache[2] = 3;
    e->h.cl.cache[3] = 4;
    e->h.cl.ncache = 4;
    e->cfg.clustering.cache_sites = 3;
    assert_int_equal(cluster_check(&e->h.cl, &e->st, msg, sizeof msg), -1);
    assert_non_null(strstr(msg, "4 translations cached, more than clustering.cache_sites=3"));
    e->cfg.clustering.cache_sites = 4;
    assert_int_equal(cluster_check(&e->h.cl, &e->st, msg, sizeof msg), 0);
    e->h.cl.ncache = 2;

    e->h.cl.head = CLUSTER_SITES;                             /* the open cluster's site */
    assert_int_equal(cluster_check(&e->h.cl, &e->st, msg, sizeof msg), -1);
    assert_non_null(strstr(msg, "the open cluster's site"));
    e->h.cl.head = 2;

    e->h.cl.cache[0] = CLUSTER_SITES + 1;                     /* a cached site out of range */
    assert_int_equal(cluster_check(&e->h.cl, &e->st, msg, sizeof msg), -1);
    assert_non_null(strstr(msg, "cached translation 0 is of site"));
    e->h.cl.cache[0] = 2;

    e->h.cl.site[2].clusters += 5;                            /* more clusters than joins */
    e->st.cnt[CNT_clusters] += 5;
    assert_int_equal(cluster_check(&e->h.cl, &e->st, msg, sizeof msg), -1);
    assert_non_null(strstr(msg, "clusters but only"));
    e->h.cl.site[2].clusters -= 5;
    e->st.cnt[CNT_clusters] -= 5;
    assert_int_equal(cluster_check(&e->h.cl, &e->st, msg, sizeof msg), 0);
    env_free(e);
}

/* A return to user mode between two exiting operations ends the cluster,
 * however close they are: the translation cannot follow SYSRET or IRET into
 * user code. */
static void test_return_to_user_ends_cluster(void **state)
{
    (void)state;
    struct env *e = env_new(500, 32);
    guest_then_exit(e, 10000, 1, HV_VMEXIT, EXIT_PT_WRITE);
    guest_then_exit(e, 10, 2, HV_VMEXIT, EXIT_INVLPG);     /* in the same kernel entry: joins */
    assert_int_equal(e->st.cnt[CNT_vm_exits], 1);
    cpu_return_to_user(&e->cpu);                           /* SYSRET; the next system call ... */
    guest_then_exit(e, 10, 1, HV_VMEXIT, EXIT_PT_WRITE);   /* ... exits, 10 cycles later */
    assert_int_equal(e->st.cnt[CNT_vm_exits], 2);
    guest_then_exit(e, 10, 2, HV_VMEXIT, EXIT_INVLPG);     /* the new cluster takes its flush */
    assert_int_equal(e->st.cnt[CNT_vm_exits], 2);
    assert_int_equal(e->st.cnt[CNT_cluster_exits_avoided], 2);
    assert_int_equal(e->st.cnt[CNT_clusters], 2);
    env_free(e);
}

/* The same on a machine, through the guest kernel: two munmaps whose
 * exits are all well inside an unbounded window cluster within each system
 * call, not across the return to user between them. (The old code took
 * the second munmap's exits into the first one's cluster: 0 transitions.) */
static void test_system_calls_cluster_apart(void **state)
{
    (void)state;
    const char *const p[] = { "guest.ram_mb=256", "clustering.enable=true", "clustering.window=1000000000000",
                              NULL };
    struct tmachine *t = tm_boot_params("tsp", "lmbench", p);
    struct kernel *k = &t->m.k;
    struct task *pr = kernel_spawn(k, 1);
    schedule_to(k, pr);
    const uint64_t a = 0x400000ull;
    assert_int_equal(sys_mmap(k, pr, a, 8 * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANON, 0, 0),
                     (long)a);
    uint64_t mfn;
    for (unsigned i = 0; i < 8; i++)
        assert_int_equal(user_access(k, a + i * PAGE_SIZE, ACC_WRITE, &mfn), 0);
    uint64_t x0 = t->m.st.cnt[CNT_vm_exits];
    assert_int_equal(sys_munmap(k, pr, a, PAGE_SIZE), 0);
    uint64_t x1 = t->m.st.cnt[CNT_vm_exits];
    assert_true(x1 > x0);
    kernel_exit_to_user(k);
    assert_int_equal(sys_munmap(k, pr, a + 4 * PAGE_SIZE, PAGE_SIZE), 0);
    assert_int_equal(t->m.st.cnt[CNT_vm_exits] - x1, 1);   /* one transition, the rest clustered */
    assert_true(t->m.st.cnt[CNT_cluster_exits_avoided] > 0);
    char msg[256] = "";
    assert_int_equal(machine_check(&t->m, msg, sizeof msg), 0);
    do_exit(k, pr);
    assert_int_equal(tm_destroy(t), 0);
}

/* Exits tsp avoided on the trace r[0..n-1], clustered with an unbounded
 * window. */
static uint64_t trace_avoided(const struct trace_rec *r, unsigned n)
{
    static const char *K[] = { "command" }, *V[] = { "test" };
    char path[64], kv[96];
    tu_tmpname(path, sizeof path, "cluster");
    struct trace_writer *w = trace_writer_open(path, K, V, 1);
    assert_non_null(w);
    for (unsigned i = 0; i < n; i++)
        assert_int_equal(trace_write(w, &r[i]), 0);
    assert_int_equal(trace_writer_commit(w), 0);
    struct sim_config cfg;
    assert_int_equal(config_init(&cfg, "trace"), 0);
    cfg.check = 1;
    cfg.quiet = 1;
    snprintf(kv, sizeof kv, "trace.file=%s", path);
    const char *const p[] = { kv, "guest.ram_mb=256", "clustering.enable=true", "clustering.window=1000000000000" };
    for (unsigned i = 0; i < sizeof p / sizeof p[0]; i++)
        assert_int_equal(config_param(&cfg, p[i]), 0);
    assert_int_equal(config_validate(&cfg), 0);
    const struct mode_def *md = mode_find("tsp");
    assert_int_equal(mode_validate(md, &cfg), 0);
    struct run_result res;
    if (engine_run(&cfg, md, &res))
        fail_msg("%s", mv_last_error());
    unlink(path);
    config_free(&cfg);
    uint64_t avoided = res.st.cnt[CNT_cluster_exits_avoided];
    run_result_free(&res);
    return avoided;
}

/* A system call is made from user mode, so a cluster never spans the
 * return to user that comes before one, even when the kernel's previous
 * work (another process's exit) ended in no return of its own: the exits
 * of process 2's exit and of process 1's munmap after it cluster apart,
 * exactly as when process 1 makes a system call that does nothing (brk(0))
 * in between, whose return to user ends the cluster for certain. */
static void test_cluster_ends_before_a_system_call(void **state)
{
    (void)state;
    static const struct trace_seg seg[2] = {
        { 0x400000, 0x2000, TRP_READ | TRP_EXEC, TRS_FILE, 0, 1, 2, 0 },
        { 0x7ffffffde000ull, 0x21000, TRP_READ | TRP_WRITE, TRS_STACK, 0, 0, 0, 0 },
    };
    static uint64_t data[4];
    for (unsigned i = 0; i < 4; i++)
        data[i] = (0x10000000ull + i * PAGE_SIZE) | TRR_WRITE;
    struct trace_rec r[] = {
        { .kind = TR_SPAWN, .pid = 1 },
        { .kind = TR_EXEC, .pid = 1, .path = "/x", .seg = seg, .nseg = 2 },
        { .kind = TR_MMAP, .pid = 1, .addr = 0x10000000, .len = 4 * PAGE_SIZE, .prot = TRP_READ | TRP_WRITE,
          .flags = TRM_ANON },
        { .kind = TR_REFS, .pid = 1, .ref = data, .nref = 4 },
        { .kind = TR_FORK, .pid = 1, .child = 2 },
        { .kind = TR_REFS, .pid = 2, .ref = data, .nref = 4 },   /* copy-on-write faults */
        { .kind = TR_EXIT, .pid = 2 },
        { .kind = TR_BRK, .pid = 1, .addr = 0 },                 /* left out of the first trace */
        { .kind = TR_MUNMAP, .pid = 1, .addr = 0x10000000, .len = 4 * PAGE_SIZE },
        { .kind = TR_EXIT, .pid = 1 },
    };
    const unsigned n = sizeof r / sizeof r[0];
    struct trace_rec direct[sizeof r / sizeof r[0] - 1];
    memcpy(direct, r, 7 * sizeof r[0]);
    memcpy(direct + 7, r + 8, (n - 8) * sizeof r[0]);
    uint64_t a = trace_avoided(direct, n - 1), b = trace_avoided(r, n);
    assert_true(b > 0);
    assert_int_equal(a, b);
}

static struct run_result run_lmbench(const char *mode, int clustering)
{
    struct sim_config cfg;
    assert_int_equal(config_init(&cfg, "lmbench"), 0);
    cfg.check = 1;
    cfg.quiet = 1;
    assert_int_equal(config_param(&cfg, "lmbench.iterations=5"), 0);
    assert_int_equal(config_param(&cfg, "guest.ram_mb=256"), 0);
    if (clustering)
        assert_int_equal(config_param(&cfg, "clustering.enable=true"), 0);
    assert_int_equal(config_validate(&cfg), 0);
    const struct mode_def *md = mode_find(mode);
    assert_int_equal(mode_validate(md, &cfg), 0);
    struct run_result r;
    if (engine_run(&cfg, md, &r))
        fail_msg("%s: %s", mode, mv_last_error());
    config_free(&cfg);
    return r;
}

/* The guest does the same thing either way: every exit is either taken or
 * avoided, and the handlers' work is the same. */
static void test_same_work_fewer_transitions(void **state)
{
    (void)state;
    struct run_result a = run_lmbench("tsp", 0), b = run_lmbench("tsp", 1);
    assert_true(b.st.cnt[CNT_cluster_exits_avoided] > 0);
    assert_int_equal(a.st.cnt[CNT_vm_exits], b.st.cnt[CNT_vm_exits] + b.st.cnt[CNT_cluster_exits_avoided]);
    assert_int_equal(a.st.cnt[CNT_pte_writes], b.st.cnt[CNT_pte_writes]);
    assert_int_equal(a.st.cyc[CYC_hypervisor], b.st.cyc[CYC_hypervisor]);
    assert_true(b.st.cyc[CYC_exits] < a.st.cyc[CYC_exits]);
    assert_int_equal(a.st.cyc[CYC_exits] - b.st.cyc[CYC_exits],
                     b.st.cnt[CNT_cluster_exits_avoided] * b.st.cyc[CYC_exits] / b.st.cnt[CNT_vm_exits]);
    run_result_free(&a);
    run_result_free(&b);
}

static struct run_result run_tsp(const char *wl, const char *param, int clustering)
{
    struct sim_config cfg;
    assert_int_equal(config_init(&cfg, wl), 0);
    cfg.check = 1;
    cfg.quiet = 1;
    assert_int_equal(config_param(&cfg, param), 0);
    assert_int_equal(config_param(&cfg, "guest.ram_mb=256"), 0);
    if (clustering)
        assert_int_equal(config_param(&cfg, "clustering.enable=true"), 0);
    assert_int_equal(config_validate(&cfg), 0);
    struct run_result r;
    if (engine_run(&cfg, mode_find("tsp"), &r))
        fail_msg("%s", mv_last_error());
    config_free(&cfg);
    return r;
}

/* Every exiting operation is attributed to the site of the guest code that
 * made it: by site, the exits taken plus those avoided add up to the exits
 * of the reason only those sites cause, as counted without clustering. */
static void test_sites_match_reasons(void **state)
{
    (void)state;
    const char *const wls[][2] = { { "lmbench", "lmbench.iterations=5" }, { "forkstorm", "forkstorm.minutes=0.1" } };
    for (unsigned w = 0; w < 2; w++) {
        struct run_result a = run_tsp(wls[w][0], wls[w][1], 0), b = run_tsp(wls[w][0], wls[w][1], 1);
        double by_site[SITE__N] = { 0 };
        for (unsigned i = 0; i < b.metrics.n; i++)
            for (unsigned k = 0; k < SITE__N; k++) {
                char e[MV_NAME_MAX], v[MV_NAME_MAX];
                snprintf(e, sizeof e, "clustering_exits_%s", guest_site_names[k]);
                snprintf(v, sizeof v, "clustering_avoided_%s", guest_site_names[k]);
                if (!strcmp(b.metrics.m[i].name, e) || !strcmp(b.metrics.m[i].name, v))
                    by_site[k] += b.metrics.m[i].value;
            }
        const uint64_t *c = a.st.cnt;
        assert_true(b.st.cnt[CNT_cluster_exits_avoided] > 0);
        assert_true(by_site[SITE_SWITCH_MM] == (double)c[CNT_vm_exits_cr3]);
        assert_true(by_site[SITE_INVLPG] == (double)c[CNT_vm_exits_invlpg]);
        assert_true(by_site[SITE_FLUSH_LOCAL] == (double)c[CNT_vm_exits_flush]);
        assert_true(by_site[SITE_NONE] == 0);
        double stores = 0;
        for (unsigned k = 0; k < SITE__N; k++)
            if (k != SITE_SWITCH_MM && k != SITE_INVLPG && k != SITE_FLUSH_LOCAL)
                stores += by_site[k];
        assert_true(stores == (double)c[CNT_vm_exits_pt_write]);
        assert_true(c[CNT_vm_exits_cr3] > 0 && c[CNT_vm_exits_pt_write] > 0);
        run_result_free(&a);
        run_result_free(&b);
    }
}

/* Clustering is refused where there is no VM exit to cluster. */
static void test_refused_without_vm_exits(void **state)
{
    (void)state;
    struct sim_config cfg;
    assert_int_equal(config_init(&cfg, "lmbench"), 0);
    assert_int_equal(config_param(&cfg, "clustering.enable=true"), 0);
    assert_int_equal(config_validate(&cfg), 0);
    assert_int_equal(mode_validate(mode_find("native"), &cfg), -1);
    assert_int_equal(mode_validate(mode_find("pv"), &cfg), -1);
    assert_non_null(strstr(mv_last_error(), "tsp"));
    assert_int_equal(mode_validate(mode_find("tsp"), &cfg), 0);
    config_free(&cfg);
}

int main(void)
{
    mv_error_quiet(1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pairs_halve_transitions),
        cmocka_unit_test(test_loop_is_one_cluster),
        cmocka_unit_test(test_window_is_exact),
        cmocka_unit_test(test_fault_ends_cluster),
        cmocka_unit_test(test_only_vm_exits_cluster),
        cmocka_unit_test(test_translation_cache_lru),
        cmocka_unit_test(test_check_catches),
        cmocka_unit_test(test_return_to_user_ends_cluster),
        cmocka_unit_test(test_system_calls_cluster_apart),
        cmocka_unit_test(test_cluster_ends_before_a_system_call),
        cmocka_unit_test(test_same_work_fewer_transitions),
        cmocka_unit_test(test_sites_match_reasons),
        cmocka_unit_test(test_refused_without_vm_exits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

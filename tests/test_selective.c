/* test_selective.c: mode selective (hv/selective/). VEE'11's rules one by
 * one, in their order, with the thresholds as parameters; the rates a
 * sample is made of; whole runs under --check that switch both ways (the
 * dynamic policy on a phase-changing workload, forced round trips from
 * either mode, the control), each switch in the timeline; and the mode's
 * check catching shadow pages left under nested paging. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "hv/hv.h"
#include "hv/selective/selective.h"
#include "sim/engine.h"
#include "testutil.h"

static struct selconfig defaults(void)
{
    struct selconfig c;
    param_defaults(&selective_params, &c);
    return c;
}

/* One decision: the mode and the rule. */
static void expect(const struct selconfig *c, struct sel_sample cur, struct sel_sample hist, enum sel_mode now,
                   enum sel_mode want, enum sel_rule rule)
{
    enum sel_rule got;
    enum sel_mode m = sel_decide(c, &cur, &hist, now, &got);
    if (m != want || got != rule)
        fail_msg("tlb %g pf %g ratio %g (history %g %g %g), now %d: got mode %d by rule %d (%s), want %d by %d",
                 cur.tlb, cur.pf, cur.ratio, hist.tlb, hist.pf, hist.ratio, now, m, got, sel_rule_name(got), want,
                 rule);
}

static void test_rules_in_order(void **state)
{
    (void)state;
    struct selconfig c = defaults();
    /* Thresholds per 1,000 instructions: pf 5e-4 / 1e-5, tlb 10 / 0.1, ratio 2e-5 / 1.5e-5. */
    const struct sel_sample h = { 5, 1e-4, 3e-5 };
    /* 1: TLB high, faults under 80% of their bound -> shadow, from either mode. */
    expect(&c, (struct sel_sample){ 11, 3.9e-4, 3.5e-5 }, h, SEL_HAP, SEL_SHADOW, RULE_TLB_HIGH);
    expect(&c, (struct sel_sample){ 11, 3.9e-4, 3.5e-5 }, h, SEL_SHADOW, SEL_SHADOW, RULE_TLB_HIGH);
    /* ... but not with faults at 80% or more of theirs: the ratio rules decide. */
    expect(&c, (struct sel_sample){ 11, 4.1e-4, 3.7e-5 }, h, SEL_SHADOW, SEL_HAP, RULE_RATIO_HIGH);
    /* 2: faults high, TLB under 80% of its bound -> nested. */
    expect(&c, (struct sel_sample){ 7.9, 6e-4, 7.6e-5 }, h, SEL_SHADOW, SEL_HAP, RULE_PF_HIGH);
    expect(&c, (struct sel_sample){ 8.1, 6e-4, 7.4e-5 }, h, SEL_HAP, SEL_HAP, RULE_RATIO_HIGH);
    /* 3: both under their lower bounds -> stay. */
    expect(&c, (struct sel_sample){ 0.05, 5e-6, 1e-4 }, h, SEL_SHADOW, SEL_SHADOW, RULE_BOTH_LOW);
    expect(&c, (struct sel_sample){ 0.05, 5e-6, 1e-4 }, h, SEL_HAP, SEL_HAP, RULE_BOTH_LOW);
    /* 4: a TLB rate of zero, now or in the history -> nested. */
    expect(&c, (struct sel_sample){ 0, 2e-5, 0 }, h, SEL_SHADOW, SEL_HAP, RULE_TLB_ZERO);
    expect(&c, (struct sel_sample){ 1, 2e-5, 2e-5 }, (struct sel_sample){ 0, 0, 0 }, SEL_SHADOW, SEL_HAP,
           RULE_TLB_ZERO);
    /* 5: the ratio above its upper bound now and in the history -> nested. */
    expect(&c, (struct sel_sample){ 1, 5e-5, 5e-5 }, (struct sel_sample){ 1, 3e-5, 3e-5 }, SEL_SHADOW, SEL_HAP,
           RULE_RATIO_HIGH);
    /* 6: below its lower bound now and in the history -> shadow. */
    expect(&c, (struct sel_sample){ 1, 1e-5, 1e-5 }, (struct sel_sample){ 1, 1e-5, 1e-5 }, SEL_HAP, SEL_SHADOW,
           RULE_RATIO_LOW);
    /* 7: otherwise stay: high now but not in the history, low now but not before, between the bounds. */
    expect(&c, (struct sel_sample){ 1, 5e-5, 5e-5 }, (struct sel_sample){ 1, 1e-5, 1e-5 }, SEL_HAP, SEL_HAP,
           RULE_OTHER);
    expect(&c, (struct sel_sample){ 1, 1e-5, 1e-5 }, (struct sel_sample){ 1, 3e-5, 3e-5 }, SEL_SHADOW, SEL_SHADOW,
           RULE_OTHER);
    expect(&c, (struct sel_sample){ 1, 1.7e-5, 1.7e-5 }, (struct sel_sample){ 1, 1.7e-5, 1.7e-5 }, SEL_HAP,
           SEL_HAP, RULE_OTHER);
}

static void test_thresholds_are_parameters(void **state)
{
    (void)state;
    struct selconfig c = defaults();
    const struct sel_sample h = { 5, 1e-4, 3e-5 };
    /* Rule 1 at a higher TLB bound no longer fires... */
    c.tlb_upper = 20;
    expect(&c, (struct sel_sample){ 11, 3.9e-4, 3.5e-5 }, h, SEL_HAP, SEL_HAP, RULE_RATIO_HIGH);
    /* ... and the 80% share is selective.bound_share. */
    c = defaults();
    c.bound_share = 0.9;
    expect(&c, (struct sel_sample){ 11, 4.1e-4, 3.7e-5 }, h, SEL_HAP, SEL_SHADOW, RULE_TLB_HIGH);
    c = defaults();
    c.ratio_lower = 5e-5;
    c.ratio_upper = 6e-5;
    expect(&c, (struct sel_sample){ 1, 4e-5, 4e-5 }, (struct sel_sample){ 1, 4e-5, 4e-5 }, SEL_HAP, SEL_SHADOW,
           RULE_RATIO_LOW);
}

static void test_sample_rates(void **state)
{
    (void)state;
    struct sel_sample s = sel_sample_of(500, 2, 100000);   /* per 1,000 instructions */
    assert_true(s.tlb == 5.0 && s.pf == 0.02 && s.ratio == 2.0 / 500);
    s = sel_sample_of(0, 3, 1000);                          /* no miss: ratio 0 */
    assert_true(s.tlb == 0 && s.pf == 3 && s.ratio == 0);
    s = sel_sample_of(10, 10, 0);                           /* no instruction: an empty sample */
    assert_true(s.tlb == 0 && s.pf == 0 && s.ratio == 0);
}

static struct run_result run(const char *wl, const char *const *params)
{
    struct sim_config cfg;
    assert_int_equal(config_init(&cfg, wl), 0);
    cfg.check = 1;
    cfg.quiet = 1;
    cfg.sim.check_every = 100;
    assert_int_equal(config_param(&cfg, "guest.ram_mb=256"), 0);
    for (unsigned i = 0; params[i]; i++)
        assert_int_equal(config_param(&cfg, params[i]), 0);
    assert_int_equal(config_validate(&cfg), 0);
    const struct mode_def *md = mode_find("selective");
    assert_int_equal(mode_validate(md, &cfg), 0);
    struct run_result r;
    if (engine_run(&cfg, md, &r))
        fail_msg("%s: %s", wl, mv_last_error());
    config_free(&cfg);
    return r;
}

/* Every switch is in the timeline, alternating, with a reason. */
static void timeline_matches(const struct run_result *r, int start_shadow)
{
    unsigned n = r->timeline.n;
    assert_true(n <= MV_TIMELINE_MAX);
    assert_true(!r->timeline.dropped || n == MV_TIMELINE_MAX);
    assert_int_equal(n + r->timeline.dropped,
                     (uint64_t)(tu_metric(r, "selective_to_shadow") + tu_metric(r, "selective_to_nested")));
    for (unsigned i = 0; i < n; i++) {
        int to_shadow = strstr(r->timeline.e[i].what, "to shadow") != NULL;
        assert_int_equal(to_shadow, (i & 1) == (unsigned)start_shadow);
        assert_true(r->timeline.e[i].why[0]);
        if (i)
            assert_true(r->timeline.e[i].t >= r->timeline.e[i - 1].t);
    }
}

/* The dynamic policy switches both ways on the phase-changing preset, under
 * --check (the oracle on every reference, both machineries' invariants). */
static void test_dynamic_both_ways(void **state)
{
    (void)state;
    /* gcc-like phases short enough for a test, remapping often enough to fault */
    const char *const p[] = { "memwalk-phases.refs=360000", "memwalk-phases.phase_refs=80000",
                              "memwalk-phases.b_phase_refs=40000", "memwalk-phases.b_ws_mb=8",
                              "memwalk-phases.remap_every=10000", "selective.sample_ms=0.05", NULL };
    struct run_result r = run("memwalk-phases", p);
    assert_true(tu_metric(&r, "selective_to_shadow") >= 1);
    assert_true(tu_metric(&r, "selective_to_nested") >= 1);
    double share = tu_metric(&r, "selective_shadow_share");
    assert_true(share > 0 && share < 1);
    timeline_matches(&r, 0);
    run_result_free(&r);
}

/* Forced round trips from either mode, on process churn and lmbench. */
static void test_alternate_from_either_mode(void **state)
{
    (void)state;
    const char *const wls[][3] = { { "forkstorm", "forkstorm.minutes=0.05", NULL },
                                   { "lmbench", "lmbench.iterations=6", NULL } };
    for (unsigned w = 0; w < 2; w++)
        for (int start_shadow = 0; start_shadow < 2; start_shadow++) {
            const char *const p[] = { wls[w][1], "selective.policy=alternate", "selective.alternate_ms=1",
                                      "selective.dwell_ms=0.3",
                                      start_shadow ? "selective.start=shadow" : "selective.start=hap", NULL };
            struct run_result r = run(wls[w][0], p);
            double to_s = tu_metric(&r, "selective_to_shadow"), to_n = tu_metric(&r, "selective_to_nested");
            assert_true(to_s >= 2 && to_n >= 2);
            /* a round trip ends where it started */
            assert_true(start_shadow ? to_s == to_n || to_s == to_n - 1 : to_s == to_n || to_s == to_n + 1);
            timeline_matches(&r, start_shadow);
            run_result_free(&r);
        }
}

/* A policy that switches every millisecond keeps the timeline's first
 * MV_TIMELINE_MAX decisions and counts the rest: memory no longer grows
 * with every switch (it took 89 MB for 3 simulated minutes, and without
 * bound for longer). Periods that pass within one event are not made up,
 * so 3 minutes of forkstorm, with its idle gaps, make some 26,000. */
static void test_timeline_capped(void **state)
{
    (void)state;
    const char *const p[] = { "forkstorm.minutes=3", "selective.policy=alternate", "selective.alternate_ms=1",
                              "sim.check_every=100000", NULL };
    struct run_result r = run("forkstorm", p);
    assert_int_equal(r.timeline.n, MV_TIMELINE_MAX);
    assert_true(r.timeline.dropped > 0);
    assert_true(r.timeline.cap <= 2 * MV_TIMELINE_MAX);
    timeline_matches(&r, 0);
    run_result_free(&r);
}

/* The control switches at a given time; policy=fixed stays put. */
static void test_control_and_fixed(void **state)
{
    (void)state;
    const char *const p[] = { "lmbench.iterations=6", "selective.policy=fixed", "selective.start=shadow", NULL };
    struct run_result r = run("lmbench", p);
    assert_true(tu_metric(&r, "selective_to_shadow") == 0 && tu_metric(&r, "selective_to_nested") == 0);
    assert_true(tu_metric(&r, "selective_shadow_share") > 0.999);
    assert_true(r.st.cnt[CNT_vm_exits_pt_write] > 0);        /* shadow paging all along */
    run_result_free(&r);

    struct sim_config cfg;
    assert_int_equal(config_init(&cfg, "lmbench"), 0);
    cfg.check = 1;
    cfg.quiet = 1;
    assert_int_equal(config_param(&cfg, "lmbench.iterations=6"), 0);
    assert_int_equal(config_param(&cfg, "selective.policy=fixed"), 0);
    assert_int_equal(config_at(&cfg, "2ms:shadow=on"), 0);
    assert_int_equal(config_validate(&cfg), 0);
    const struct mode_def *md = mode_find("selective");
    assert_int_equal(mode_validate(md, &cfg), 0);
    if (engine_run(&cfg, md, &r))
        fail_msg("%s", mv_last_error());
    assert_true(tu_metric(&r, "selective_to_shadow") == 1);
    assert_int_equal(r.timeline.n, 1);
    assert_true(r.timeline.e[0].t >= 0.002 && r.timeline.e[0].t < 0.0021);
    run_result_free(&r);
    config_free(&cfg);
}

/* The mode's check: shadow pages left under nested paging, and a broken
 * shadow under shadow paging, are caught. */
static void test_check_catches(void **state)
{
    (void)state;
    struct tmachine *t = tm_boot_params("selective", "lmbench", (const char *const[]){ "guest.ram_mb=256", NULL });
    struct selective *s = t->m.hv->mode;
    char msg[512];
    assert_int_equal(machine_check(&t->m, msg, sizeof msg), 0);
    const struct mv_control *ctl = mv_find_control(&t->m.ins, "shadow");
    assert_non_null(ctl);
    ctl->apply(ctl->ctx, 1);                                  /* to shadow: the root's shadow is built */
    assert_int_equal(s->mode, SEL_SHADOW);
    assert_true(s->sh.npages > 0);
    assert_int_equal(machine_check(&t->m, msg, sizeof msg), 0);
    s->mode = SEL_HAP;                                        /* nested, with the shadows still there */
    assert_int_equal(machine_check(&t->m, msg, sizeof msg), -1);
    assert_non_null(strstr(msg, "shadow pages remain"));
    s->mode = SEL_SHADOW;
    uint64_t np = s->sh.npages;
    s->sh.npages = np + 1;                                    /* the shadow's own accounting broken */
    assert_int_equal(machine_check(&t->m, msg, sizeof msg), -1);
    s->sh.npages = np;
    ctl->apply(ctl->ctx, 0);                                  /* back to nested: all dropped */
    assert_int_equal(s->sh.npages, 0);
    assert_int_equal(machine_check(&t->m, msg, sizeof msg), 0);
    assert_int_equal(tm_destroy(t), 0);
}

/* Under nested paging a MOV CR3 does not exit, so the guest may load a
 * frame it does not have; a switch to shadow paging then has no root to
 * build and leaves the guest nested (it crashed here once), and a later
 * switch, with CR3 back in guest memory, goes through. */
static void test_switch_with_cr3_outside_memory(void **state)
{
    (void)state;
    struct tmachine *t = tm_boot_params("selective", "lmbench", (const char *const[]){ "guest.ram_mb=64", NULL });
    struct selective *s = t->m.hv->mode;
    struct cpu *c = &t->m.cpu;
    char msg[512];
    uint64_t good = c->cr3;
    cpu_write_cr3(c, t->m.k.nr_pages + 5, c->pcid, 0);          /* no exit under hap: accepted */
    assert_int_equal(c->cr3, t->m.k.nr_pages + 5);
    const struct mv_control *ctl = mv_find_control(&t->m.ins, "shadow");
    assert_non_null(ctl);
    ctl->apply(ctl->ctx, 1);
    assert_int_equal(s->mode, SEL_HAP);
    assert_int_equal(s->to_shadow, 0);
    assert_int_equal(s->sh.npages, 0);
    cpu_write_cr3(c, good, c->pcid, 0);
    ctl->apply(ctl->ctx, 1);
    assert_int_equal(s->mode, SEL_SHADOW);
    assert_int_equal(s->to_shadow, 1);
    assert_int_equal(machine_check(&t->m, msg, sizeof msg), 0);
    assert_int_equal(tm_destroy(t), 0);
}

/* A switch is the hypervisor's work: the guest counts no flush and no
 * context switch, the MOV CR3 that loads the shadow root is charged as
 * hypervisor time, and the switch's one full flush is counted as the
 * hypervisor's, with PCIDs and without. Shadow-building is priced at 0 so
 * the switch to shadow costs exactly cost.cr3_write + cost.tlb_flush.
 * (The old code counted a guest tlb_flush_pcid and charged ctx_switch.) */
static void test_switch_counts_no_guest_flush(void **state)
{
    (void)state;
    for (int pcid = 0; pcid < 2; pcid++) {
        const char *const p[] = { "guest.ram_mb=256", "cost.shadow_page=0", "cost.shadow_entry=0",
                                  pcid ? "guest.pcid=true" : "guest.pcid=false", NULL };
        struct tmachine *t = tm_boot_params("selective", "lmbench", p);
        assert_int_equal(t->m.cpu.pcid_enabled, pcid);
        struct mv_stats before = t->m.st;
        const struct mv_control *ctl = mv_find_control(&t->m.ins, "shadow");
        ctl->apply(ctl->ctx, 1);
        assert_int_equal(((struct selective *)t->m.hv->mode)->mode, SEL_SHADOW);
        const struct mv_stats *st = &t->m.st;
        static const enum mv_counter guest[] = { CNT_tlb_flush_page, CNT_tlb_flush_all, CNT_tlb_flush_nonglobal,
                                                 CNT_tlb_flush_pcid, CNT_ctx_switch };
        for (unsigned i = 0; i < sizeof guest / sizeof guest[0]; i++)
            assert_int_equal(st->cnt[guest[i]], before.cnt[guest[i]]);
        assert_int_equal(st->cnt[CNT_hv_tlb_flush], before.cnt[CNT_hv_tlb_flush] + 1);
        assert_int_equal(st->cyc[CYC_ctx_switch], before.cyc[CYC_ctx_switch]);
        assert_int_equal(st->cyc[CYC_tlb_flush], before.cyc[CYC_tlb_flush]);
        assert_int_equal(st->cyc[CYC_hypervisor] - before.cyc[CYC_hypervisor],
                         t->cfg.cost.cr3_write + t->cfg.cost.tlb_flush);
        assert_int_equal(t->m.cpu.hw_root, ((struct selective *)t->m.hv->mode)->sh.cur_root->smfn);
        char msg[512];
        assert_int_equal(machine_check(&t->m, msg, sizeof msg), 0);
        assert_int_equal(tm_destroy(t), 0);
    }
}

int main(void)
{
    mv_error_quiet(1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rules_in_order),
        cmocka_unit_test(test_thresholds_are_parameters),
        cmocka_unit_test(test_sample_rates),
        cmocka_unit_test(test_dynamic_both_ways),
        cmocka_unit_test(test_alternate_from_either_mode),
        cmocka_unit_test(test_timeline_capped),
        cmocka_unit_test(test_control_and_fixed),
        cmocka_unit_test(test_check_catches),
        cmocka_unit_test(test_switch_with_cr3_outside_memory),
        cmocka_unit_test(test_switch_counts_no_guest_flush),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_ept_populate.c: hap.ept_populate, how the EPT of modes hap and
 * selective gets its entries: fault (KVM's TDP MMU: one EPT violation per
 * frame or 2 MiB extent on first touch) or boot (Xen: the EPT is the p2m,
 * all guest RAM mapped when the domain is built). Under boot a guest takes
 * no violation, no exit and no cost.ept_fill on its RAM, its walks find
 * every entry present the first time (so they make only the references a
 * walk of a full EPT makes), the full EPT's table frames are counted from
 * the start, and a frame that is not guest RAM still violates. The check
 * that the written and reserved tables make a full EPT is broken on
 * purpose and caught. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "hv/hap/hap.h"
#include "hv/selective/selective.h"
#include "hw/walk2d.h"
#include "testutil.h"

#define A 0x400000ull
#define FRESH 0x40000000ull

/* Boot `mode` on 256 MiB with nothing cached (so a walk's references are
 * exact: 24 for a complete 2D walk) and the EPT populated as `populate`
 * says, with 4 KiB or 2 MiB EPT leaves. */
static struct tmachine *boot(const char *mode, const char *populate, const char *page_size)
{
    char pop[64], ps[64];
    snprintf(pop, sizeof pop, "hap.ept_populate=%s", populate);
    snprintf(ps, sizeof ps, "hap.ept_page_size=%s", page_size);
    const char *const p[] = {
        "guest.ram_mb=256", "tlb.pwc_l4=0", "tlb.pwc_l3=0", "tlb.pwc_l2=0", "hap.ept_pwc_l4=0",
        "hap.ept_pwc_l3=0", "hap.ept_pwc_l2=0", "hap.ntlb_entries=0", "hap.guest_pwc=false", pop, ps, NULL,
    };
    return tm_boot_params(mode, "memwalk", p);
}

static uint64_t cnt(struct tmachine *t, enum mv_counter c) { return t->m.st.cnt[c]; }
static uint64_t cyc(struct tmachine *t, enum mv_cycles c) { return t->m.st.cyc[c]; }
static struct hap *hap_of(struct tmachine *t) { return t->m.hv->mode; }   /* selective keeps it first too */

/* A process that has written page A. */
static struct task *proc(struct tmachine *t) { return tm_spawn_touching(t, A, 16); }

/* Map `pages` fresh pages at base (a new 1 GiB region: new guest tables). */
static void map_fresh(struct tmachine *t, uint64_t base, unsigned pages)
{
    assert_int_equal(sys_mmap(&t->m.k, t->m.k.current, base, pages * PAGE_SIZE, PROT_READ | PROT_WRITE,
                              MAP_PRIVATE | MAP_ANON, 0, 0),
                     (long)base);
}

static void touch(struct tmachine *t, uint64_t base, unsigned pages)
{
    uint64_t mfn;
    for (unsigned i = 0; i < pages; i++)
        assert_int_equal(user_access(&t->m.k, base + i * PAGE_SIZE, ACC_WRITE, &mfn), 0);
}

static void finish(struct tmachine *t)
{
    do_exit(&t->m.k, t->m.k.current);
    char msg[256] = "";
    if (machine_check(&t->m, msg, sizeof msg))
        fail_msg("check: %s", msg);
    assert_int_equal(tm_destroy(t), 0);
}

/* What touching 256 fresh pages costs, mode by mode. */
struct touch_cost {
    uint64_t violations, exits, hv_cycles, exit_cycles, tlb_miss, guest_pf, refs, refs_guest, refs_host;
};

static struct touch_cost touch_cost(const char *populate, const char *page_size)
{
    struct tmachine *t = boot("hap", populate, page_size);
    proc(t);
    map_fresh(t, FRESH, 256);
    struct touch_cost c0 = { cnt(t, CNT_vm_exits_ept_violation), cnt(t, CNT_vm_exits), cyc(t, CYC_hypervisor),
                             cyc(t, CYC_exits), cnt(t, CNT_tlb_miss), cnt(t, CNT_guest_pf),
                             cnt(t, CNT_walk_refs), cnt(t, CNT_walk_refs_guest), cnt(t, CNT_walk_refs_host) };
    touch(t, FRESH, 256);
    struct touch_cost c = { cnt(t, CNT_vm_exits_ept_violation) - c0.violations, cnt(t, CNT_vm_exits) - c0.exits,
                            cyc(t, CYC_hypervisor) - c0.hv_cycles, cyc(t, CYC_exits) - c0.exit_cycles,
                            cnt(t, CNT_tlb_miss) - c0.tlb_miss, cnt(t, CNT_guest_pf) - c0.guest_pf,
                            cnt(t, CNT_walk_refs) - c0.refs, cnt(t, CNT_walk_refs_guest) - c0.refs_guest,
                            cnt(t, CNT_walk_refs_host) - c0.refs_host };
    finish(t);
    return c;
}

/* Each fresh page: a walk that ends at the guest's empty L1 entry (4 guest
 * references, each table first translated through the EPT: 4 x 4 host),
 * the guest's page fault, and the complete walk after it (4 + 20); the
 * first page's faulting walk ends at the L3 entry of the new 1 GiB region
 * (2 + 8: 10 fewer; 2 MiB EPT leaves make an EPT walk 3 references, not
 * 4). Under boot that is all; under fault a walk first stops
 * at each missing EPT entry (of a new guest table or of the data page), the
 * violation exits, and the walk is made again. */
static void test_boot_no_violation_and_every_walk_completes(void **state)
{
    (void)state;
    for (int huge = 0; huge < 2; huge++) {
        const char *ps = huge ? "2m" : "4k";
        struct touch_cost b = touch_cost("boot", ps), f = touch_cost("fault", ps);
        assert_int_equal(b.violations, 0);
        assert_int_equal(b.exits, 0);
        assert_int_equal(b.hv_cycles, 0);               /* no cost.ept_fill, no exit */
        assert_int_equal(b.exit_cycles, 0);
        assert_int_equal(b.guest_pf, 256);
        assert_int_equal(b.tlb_miss, 2 * 256);
        const uint64_t L = huge ? 3 : 4;                   /* references of one EPT walk */
        assert_int_equal(b.refs, 256 * (4 + 4 * L + 4 + 5 * L) - (2 + 2 * L));
        assert_int_equal(b.refs_guest, 256 * (4 + 4) - 2);
        assert_int_equal(b.refs_host, 256 * (4 * L + 5 * L) - 2 * L);
        /* fault: the same faults, plus the violations' exits, the
         * references of the walks they cut short, and a TLB miss for each
         * walk made again (the instruction re-executed after the exit) */
        assert_true(huge || f.violations > 0);           /* 2 MiB: the extents may be mapped already */
        assert_int_equal(f.exits, f.violations);
        /* a walk meets each data page's violation (4K: one a page); the
         * guest kernel's own stores into new tables meet the rest, no walk */
        if (!huge)
            assert_int_equal(f.tlb_miss, b.tlb_miss + 256);
        assert_true(f.tlb_miss <= b.tlb_miss + f.violations);
        assert_int_equal(f.guest_pf, b.guest_pf);
        assert_true(f.violations ? f.refs > b.refs && f.hv_cycles > 0 : f.refs == b.refs);
    }
}

/* The guest kernel's own accesses (hap_translate) and the hypervisor's
 * (hap_translate_hv) to a frame never touched: fault takes a violation
 * (an exit) or, inside the hypervisor, charges cost.ept_fill; boot neither. */
static void test_translate_without_exit_or_fill(void **state)
{
    (void)state;
    for (int prebuilt = 0; prebuilt < 2; prebuilt++) {
        struct tmachine *t = boot("hap", prebuilt ? "boot" : "fault", "4k");
        struct hap *a = hap_of(t);
        struct hv *h = t->m.hv;
        uint64_t g1 = h->dom.nr_pages - 1, g2 = h->dom.nr_pages - 513;   /* two extents nobody used */
        assert_int_equal(ept_lookup(&a->ept, g1), UINT64_MAX);
        assert_int_equal(ept_lookup(&a->ept, g2), UINT64_MAX);
        uint64_t e0 = cnt(t, CNT_vm_exits_ept_violation), h0 = cyc(t, CYC_hypervisor);
        assert_int_equal(hap_translate(h, a, g1), pfn_to_mfn(&h->dom, g1));
        assert_int_equal(cnt(t, CNT_vm_exits_ept_violation) - e0, prebuilt ? 0 : 1);
        uint64_t h1 = cyc(t, CYC_hypervisor);
        assert_int_equal(h1 - h0, prebuilt ? 0 : t->m.hv->cost->ept_fill);
        assert_int_equal(hap_translate_hv(h, a, g2), pfn_to_mfn(&h->dom, g2));
        assert_int_equal(cnt(t, CNT_vm_exits_ept_violation) - e0, prebuilt ? 0 : 1);
        assert_int_equal(cyc(t, CYC_hypervisor) - h1, prebuilt ? 0 : t->m.hv->cost->ept_fill);
        /* not guest RAM: no mapping either way */
        assert_int_equal(hap_translate(h, a, h->dom.nr_pages + 5), UINT64_MAX);
        char msg[256] = "";
        assert_int_equal(machine_check(&t->m, msg, sizeof msg), 0);
        assert_int_equal(tm_destroy(t), 0);
    }
}

/* A frame that is not guest RAM is in no EPT, prebuilt or not: a CR3 the
 * guest loaded beyond its memory violates, exits, and the access faults. */
static void test_boot_frame_outside_ram_still_violates(void **state)
{
    (void)state;
    struct tmachine *t = boot("hap", "boot", "4k");
    proc(t);
    struct cpu *c = &t->m.cpu;
    uint64_t good = c->cr3, bad = t->m.hv->dom.nr_pages + 5, gfn = 0;
    struct tlb_xlate x;
    cpu_write_cr3(c, bad, c->pcid, 0);
    cpu_hw_flush(c, 1);
    assert_int_equal(walk2d(c, A, ACC_READ, 1, &x, &gfn), WALK_FETCH_FAILED);
    assert_int_equal(gfn, bad);
    uint64_t v0 = cnt(t, CNT_vm_exits_ept_violation);
    assert_true(hap_fill(t->m.hv, hap_of(t), c, A, ACC_READ, 1, &x) & PFEC_RSVD);
    assert_int_equal(cnt(t, CNT_vm_exits_ept_violation) - v0, 1);
    cpu_write_cr3(c, good, c->pcid, 0);
    finish(t);
}

/* selective under fault: frames first touched while shadowed take their
 * violations when the guest is back under nested paging; under boot, none. */
static uint64_t selective_round_trip(const char *populate)
{
    struct tmachine *t = boot("selective", populate, "4k");
    struct selective *s = t->m.hv->mode;
    proc(t);
    const struct mv_control *ctl = mv_find_control(&t->m.ins, "shadow");
    assert_non_null(ctl);
    ctl->apply(ctl->ctx, 1);
    assert_int_equal(s->mode, SEL_SHADOW);
    map_fresh(t, FRESH, 64);
    touch(t, FRESH, 64);
    ctl->apply(ctl->ctx, 0);
    assert_int_equal(s->mode, SEL_HAP);
    uint64_t v0 = cnt(t, CNT_vm_exits_ept_violation);
    touch(t, FRESH, 64);
    uint64_t v = cnt(t, CNT_vm_exits_ept_violation) - v0;
    finish(t);
    return v;
}

static void test_selective_back_to_nested(void **state)
{
    (void)state;
    assert_true(selective_round_trip("fault") >= 64);
    assert_int_equal(selective_round_trip("boot"), 0);
}

/* The full EPT's table frames are the hypervisor's from the start (its
 * heap counts them; the gauge ept_pages shows them), and only the written
 * ones are in machine memory. */
static void test_full_ept_counted_from_boot(void **state)
{
    (void)state;
    /* 256 MiB: 65,536 frames, 128 L1s (4 KiB leaves), one L2, one L3, the root */
    assert_int_equal(ept_full_tables(65536, 0), 131);
    assert_int_equal(ept_full_tables(65536, 1), 3);
    assert_int_equal(ept_full_tables(65537, 0), 132);           /* a second L1 */
    assert_int_equal(ept_full_tables(262145, 0), 513 + 2 + 1 + 1); /* 1 GiB + 4 KiB: a second L2 too */
    for (int huge = 0; huge < 2; huge++) {
        struct tmachine *b = boot("hap", "boot", huge ? "2m" : "4k"), *f = boot("hap", "fault", huge ? "2m" : "4k");
        const struct ept *eb = &hap_of(b)->ept, *ef = &hap_of(f)->ept;
        uint64_t full = ept_full_tables(b->m.hv->dom.nr_pages, huge);
        assert_int_equal(eb->table_pages + eb->unbuilt, full);
        assert_true(huge || eb->table_pages < full);      /* only what the guest used is built */
        assert_int_equal(b->m.hv->heap_used - f->m.hv->heap_used, full - ef->table_pages);
        double gauge = -1;
        for (unsigned i = 0; i < b->m.ins.ngauge; i++)
            if (!strcmp(b->m.ins.gauge[i].name, "ept_pages"))
                gauge = b->m.ins.gauge[i].read(b->m.ins.gauge[i].ctx);
        assert_true(gauge == (double)full);
        assert_int_equal(tm_destroy(b), 0);
        assert_int_equal(tm_destroy(f), 0);
    }
}

/* What is reserved is no one else's: the heap refuses plain allocations
 * that would eat into it, the reserved ones are taken one by one, and the
 * rest is given back. */
static void test_reserved_frames_are_kept(void **state)
{
    (void)state;
    struct tmachine *t = boot("hap", "fault", "4k");
    struct hv *h = t->m.hv;
    uint64_t used = h->heap_used, n = h->nheap;
    assert_int_equal(hv_reserve_frames(h, n + 1), -1);
    assert_int_equal(hv_reserve_frames(h, n), 0);
    assert_int_equal(h->heap_used, used + n);
    assert_int_equal(hv_alloc_frame(h), UINT64_MAX);
    uint64_t f = hv_alloc_reserved_frame(h);
    assert_true(f != UINT64_MAX && hv_heap_frame(h, f));
    assert_int_equal(h->heap_used, used + n);
    hv_unreserve_frames(h, n - 1);
    assert_int_equal(hv_alloc_reserved_frame(h), UINT64_MAX);
    hv_free_frame(h, f);
    assert_int_equal(h->heap_used, used);
    assert_int_equal(tm_destroy(t), 0);
}

/* The check: written plus reserved tables must be a full EPT's. */
static void test_check_catches_a_short_ept(void **state)
{
    (void)state;
    struct tmachine *t = boot("selective", "boot", "4k");
    struct ept *e = &hap_of(t)->ept;
    char msg[512];
    assert_int_equal(machine_check(&t->m, msg, sizeof msg), 0);
    e->unbuilt--;
    assert_int_equal(machine_check(&t->m, msg, sizeof msg), -1);
    assert_non_null(strstr(msg, "full EPT"));
    e->unbuilt++;
    assert_int_equal(machine_check(&t->m, msg, sizeof msg), 0);
    assert_int_equal(tm_destroy(t), 0);
}

/* Whole checked runs (the oracle and every invariant every 100 steps) of
 * hap and selective, switching both ways, under each value. */
static void test_checked_runs(void **state)
{
    (void)state;
    const char *const pops[] = { "fault", "boot" }, *const modes[] = { "hap", "selective" };
    for (unsigned i = 0; i < 2; i++)
        for (unsigned j = 0; j < 2; j++) {
            struct sim_config cfg;
            char pop[64];
            snprintf(pop, sizeof pop, "hap.ept_populate=%s", pops[i]);
            assert_int_equal(config_init(&cfg, "memwalk-phases"), 0);
            cfg.check = 1;
            cfg.quiet = 1;
            cfg.sim.check_every = 100;
            const char *const p[] = { "guest.ram_mb=256", "memwalk-phases.refs=400000",
                                      "memwalk-phases.phase_refs=100000", "memwalk-phases.b_phase_refs=20000",
                                      "selective.policy=alternate", "selective.alternate_ms=0.5", pop, NULL };
            for (unsigned k = 0; p[k]; k++)
                assert_int_equal(config_param(&cfg, p[k]), 0);
            assert_int_equal(config_validate(&cfg), 0);
            const struct mode_def *md = mode_find(modes[j]);
            struct run_result r;
            if (engine_run(&cfg, md, &r))
                fail_msg("%s %s: %s", modes[j], pop, mv_last_error());
            assert_true(r.st.cnt[CNT_oracle_checks] > 0);
            if (i == 1)
                assert_int_equal(r.st.cnt[CNT_vm_exits_ept_violation], 0);
            else
                assert_true(r.st.cnt[CNT_vm_exits_ept_violation] > 0);
            run_result_free(&r);
            config_free(&cfg);
        }
}

int main(void)
{
    mv_error_quiet(1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_boot_no_violation_and_every_walk_completes),
        cmocka_unit_test(test_translate_without_exit_or_fill),
        cmocka_unit_test(test_boot_frame_outside_ram_still_violates),
        cmocka_unit_test(test_selective_back_to_nested),
        cmocka_unit_test(test_full_ept_counted_from_boot),
        cmocka_unit_test(test_reserved_frames_are_kept),
        cmocka_unit_test(test_check_catches_a_short_ept),
        cmocka_unit_test(test_checked_runs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

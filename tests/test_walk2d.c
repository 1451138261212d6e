/* test_walk2d.c: the 2D walk of nested paging (mode hap), reference by
 * reference: 24 references for a 4-level guest table over a 4-level EPT
 * with nothing cached, split 4 guest / 20 host, and exactly what each
 * nested-walk structure saves: the nested TLB, the EPT paging-structure
 * caches, the guest-dimension (combined) paging-structure caches. Also the
 * EPT filled lazily by EPT-violation exits, one per frame with 4 KiB leaves
 * and one per 2 MiB extent with 2 MiB leaves, each violation of a walk
 * followed by a new TLB miss (under hap and selective alike). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "hw/walk2d.h"
#include "testutil.h"

#define A 0x400000ull

static const char *const NOTHING_CACHED[] = {
    "tlb.pwc_l4=0", "tlb.pwc_l3=0", "tlb.pwc_l2=0", "hap.ept_pwc_l4=0", "hap.ept_pwc_l3=0",
    "hap.ept_pwc_l2=0", "hap.ntlb_entries=0", "hap.guest_pwc=false",
};
#define NNC (sizeof NOTHING_CACHED / sizeof NOTHING_CACHED[0])

/* Boot hap with nothing cached, then the given overrides. */
static struct tmachine *boot_mode(const char *mode, const char *const *extra)
{
    const char *p[32];
    unsigned n = 0;
    p[n++] = "guest.ram_mb=256";
    for (unsigned i = 0; i < NNC; i++)
        p[n++] = NOTHING_CACHED[i];
    for (unsigned i = 0; extra && extra[i]; i++)
        p[n++] = extra[i];
    p[n] = NULL;
    return tm_boot_params(mode, "memwalk", p);
}

static struct tmachine *boot(const char *const *extra) { return boot_mode("hap", extra); }

static uint64_t cnt(struct tmachine *t, enum mv_counter c) { return t->m.st.cnt[c]; }

/* A process that has written page A (so its tables and the page are in
 * the EPT, and every A/D bit is set). */
static struct task *proc(struct tmachine *t) { return tm_spawn_touching(t, A, 16); }

/* References of one TLB miss on A, after `forget` dropped what it drops. */
static void one_miss(struct tmachine *t, uint64_t *total, uint64_t *guest, uint64_t *host)
{
    uint64_t w0 = cnt(t, CNT_walk_refs), g0 = cnt(t, CNT_walk_refs_guest), h0 = cnt(t, CNT_walk_refs_host);
    uint64_t m0 = cnt(t, CNT_tlb_miss), mfn;
    assert_int_equal(user_access(&t->m.k, A, ACC_READ, &mfn), 0);
    assert_int_equal(cnt(t, CNT_tlb_miss), m0 + 1);
    *total = cnt(t, CNT_walk_refs) - w0;
    *guest = cnt(t, CNT_walk_refs_guest) - g0;
    *host = cnt(t, CNT_walk_refs_host) - h0;
}

static void finish(struct tmachine *t, struct task *p)
{
    do_exit(&t->m.k, p);
    char msg[256] = "";
    assert_int_equal(machine_check(&t->m, msg, sizeof msg), 0);
    assert_int_equal(tm_destroy(t), 0);
}

static void test_24_references_with_nothing_cached(void **state)
{
    (void)state;
    struct tmachine *t = boot(NULL);
    struct task *p = proc(t);
    uint64_t n, g, h;
    cpu_hw_flush(&t->m.cpu, 1);
    one_miss(t, &n, &g, &h);
    assert_int_equal(n, 24);     /* 4 guest entries, each table's EPT walk (4 x 4), the data page's (4) */
    assert_int_equal(g, 4);
    assert_int_equal(h, 20);
    finish(t, p);
}

static void test_nested_tlb_saves_every_ept_walk(void **state)
{
    (void)state;
    const char *const x[] = { "hap.ntlb_entries=32", NULL };
    struct tmachine *t = boot(x);
    struct task *p = proc(t);
    uint64_t n, g, h, hits = cnt(t, CNT_ntlb_hit);
    cpu_hw_flush(&t->m.cpu, 1);            /* a guest flush: the nested TLB stays */
    one_miss(t, &n, &g, &h);
    assert_int_equal(n, 4);
    assert_int_equal(h, 0);
    assert_int_equal(cnt(t, CNT_ntlb_hit) - hits, 5);
    cpu_hw_flush(&t->m.cpu, 1);
    cpu_invept(&t->m.cpu);                 /* INVEPT empties it */
    one_miss(t, &n, &g, &h);
    assert_int_equal(n, 24);
    finish(t, p);
}

static void test_ept_walk_caches_leave_one_reference_per_ept_walk(void **state)
{
    (void)state;
    const char *const x[] = { "hap.ept_pwc_l4=2", "hap.ept_pwc_l3=4", "hap.ept_pwc_l2=32", NULL };
    struct tmachine *t = boot(x);
    struct task *p = proc(t);
    uint64_t n, g, h;
    cpu_hw_flush(&t->m.cpu, 1);
    one_miss(t, &n, &g, &h);
    assert_int_equal(g, 4);
    assert_int_equal(h, 5);                /* each EPT walk starts at its cached L2 entry */
    assert_int_equal(n, 9);
    finish(t, p);
}

static void test_guest_walk_caches_skip_guest_levels_and_their_ept_walks(void **state)
{
    (void)state;
    const char *const x[] = { "tlb.pwc_l4=2", "tlb.pwc_l3=4", "tlb.pwc_l2=32", "hap.guest_pwc=true", NULL };
    struct tmachine *t = boot(x);
    struct task *p = proc(t);
    uint64_t n, g, h;
    tlb_flush_all(&t->m.cpu.tlb);          /* the TLB only: the walk caches keep the upper levels */
    one_miss(t, &n, &g, &h);
    assert_int_equal(g, 1);                /* only the L1 entry: the PDE cache gave its table */
    assert_int_equal(h, 4);                /* only the data page's EPT walk */
    assert_int_equal(n, 5);
    /* and with the guest walk caches off, the same miss costs 24 */
    finish(t, p);
    const char *const off[] = { "tlb.pwc_l4=2", "tlb.pwc_l3=4", "tlb.pwc_l2=32", "hap.guest_pwc=false", NULL };
    t = boot(off);
    p = proc(t);
    tlb_flush_all(&t->m.cpu.tlb);
    one_miss(t, &n, &g, &h);
    assert_int_equal(n, 24);
    finish(t, p);
}

/* Touch `pages` fresh pages; return the EPT violations they cost. */
static uint64_t violations_touching(struct tmachine *t, struct task *p, uint64_t base, unsigned pages)
{
    struct kernel *k = &t->m.k;
    assert_int_equal(sys_mmap(k, p, base, pages * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANON, 0, 0),
                     (long)base);
    uint64_t mfn, v0 = cnt(t, CNT_vm_exits_ept_violation);
    for (unsigned i = 0; i < pages; i++)
        assert_int_equal(user_access(k, base + i * PAGE_SIZE, ACC_WRITE, &mfn), 0);
    return cnt(t, CNT_vm_exits_ept_violation) - v0;
}

static void test_ept_filled_lazily_per_frame_or_per_extent(void **state)
{
    (void)state;
    /* 4 KiB leaves: the first touch of each frame exits once: the 256 data
     * frames, and the two tables the kernel allocates for the new 1 GiB
     * region (an L2 and an L1), when it first stores into them */
    struct tmachine *t = boot(NULL);
    struct task *p = proc(t);
    uint64_t v4k = violations_touching(t, p, 0x40000000ull + PAGE_SIZE, 256);
    assert_int_equal(v4k, 256 + 2);
    assert_int_equal(cnt(t, CNT_vm_exits), cnt(t, CNT_vm_exits_ept_violation));
    assert_int_equal(cnt(t, CNT_guest_pf), 1 + 256);      /* guest faults never exit */
    finish(t, p);
    /* 2 MiB leaves: at most one per 2 MiB extent the frames live in */
    const char *const huge[] = { "hap.ept_page_size=2m", NULL };
    t = boot(huge);
    p = proc(t);
    uint64_t v2m = violations_touching(t, p, 0x40000000ull + PAGE_SIZE, 256);
    assert_true(v2m <= 2);
    finish(t, p);
}

static void test_walk2d_reports_the_violating_frame(void **state)
{
    (void)state;
    struct tmachine *t = boot(NULL);
    struct task *p = proc(t);
    struct cpu *c = &t->m.cpu;
    /* point the EPT root at an empty table: the guest root itself violates */
    uint64_t keep = c->nested.eptp, empty = hv_alloc_frame(t->m.hv), gfn = 0;
    struct tlb_xlate x;
    c->nested.eptp = empty;
    cpu_hw_flush(c, 1);
    assert_int_equal(walk2d(c, A, ACC_READ, 1, &x, &gfn), WALK_FETCH_FAILED);
    assert_int_equal(gfn, c->cr3);
    c->nested.eptp = keep;
    hv_free_frame(t->m.hv, empty);
    assert_int_equal(walk2d(c, A, ACC_READ, 1, &x, &gfn), 0);
    assert_int_equal(x.frame, machine_p2m(&t->m, pte_frame(pmem_read(&t->m.mem,
        machine_p2m(&t->m, pte_frame(pmem_read(&t->m.mem, machine_p2m(&t->m, pte_frame(pmem_read(&t->m.mem,
        machine_p2m(&t->m, pte_frame(pmem_read(&t->m.mem, machine_p2m(&t->m, c->cr3), pt_index(A, 4)))),
        pt_index(A, 3)))), pt_index(A, 2)))), pt_index(A, 1)))));
    finish(t, p);
}

/* The first write to a fresh page of a region whose tables are in the EPT:
 * a miss that faults to the guest, a miss on the retry whose walk meets the
 * data frame's EPT violation, and the miss of the instruction re-executed
 * after that exit: three walks, three misses. (The old code counted two.) */
static void test_ept_violation_retry_misses_again(void **state)
{
    (void)state;
    static const char *const modes[] = { "hap", "selective" };
    for (unsigned m = 0; m < 2; m++) {
        struct tmachine *t = boot_mode(modes[m], NULL);
        struct task *p = proc(t);
        uint64_t m0 = cnt(t, CNT_tlb_miss), v0 = cnt(t, CNT_vm_exits_ept_violation), f0 = cnt(t, CNT_guest_pf);
        uint64_t u0 = t->m.st.cyc[CYC_user], mfn;
        assert_int_equal(user_access(&t->m.k, A + PAGE_SIZE, ACC_WRITE, &mfn), 0);
        assert_int_equal(cnt(t, CNT_guest_pf) - f0, 1);
        assert_int_equal(cnt(t, CNT_vm_exits_ept_violation) - v0, 1);
        assert_int_equal(cnt(t, CNT_tlb_miss) - m0, 3);
        assert_int_equal(t->m.st.cyc[CYC_user] - u0, 3 * t->cfg.cost.ref);   /* each attempt's reference */
        finish(t, p);
    }
}

int main(void)
{
    mv_error_quiet(1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_24_references_with_nothing_cached),
        cmocka_unit_test(test_nested_tlb_saves_every_ept_walk),
        cmocka_unit_test(test_ept_walk_caches_leave_one_reference_per_ept_walk),
        cmocka_unit_test(test_guest_walk_caches_skip_guest_levels_and_their_ept_walks),
        cmocka_unit_test(test_ept_filled_lazily_per_frame_or_per_extent),
        cmocka_unit_test(test_walk2d_reports_the_violating_frame),
        cmocka_unit_test(test_ept_violation_retry_misses_again),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

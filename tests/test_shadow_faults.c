/* test_shadow_faults.c: shadow-paging fault paths a hostile or careless
 * guest reaches through its own tables (findings of an attack review):
 *  - a writable guest 2 MiB page over a frame the guest uses as a table:
 *    the shadow splinters the page into an fl1 shadow of 4 KiB leaves, so
 *    that only the table frame is read-only (it used to make the whole
 *    2 MiB read-only and fault forever on a write elsewhere in it); the
 *    shadow checker's fl1 rules, each broken on purpose;
 *  - a 2 MiB entry with reserved frame bits (20:13) set: every mode's walk
 *    (hardware, shadow, oracle) faults with PFEC_RSVD and the guest kernel
 *    kills the task, where they used to reach three different frames;
 *  - an emulated user write to a protected table costs what a trapped
 *    store costs (cost.shadow_emulate) and counts toward write flooding;
 *  - the guest's clear of a page-table frame the shadow still protects
 *    traps like any of its stores, until flooding unshadows the frame. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>

#include "guest/kernel.h"
#include "hv/shadow/shadow.h"
#include "sim/oracle.h"
#include "testutil.h"

#define HUGE (2ull << 20)
#define A 0x40000000ull    /* two 2 MiB pages (MAP_HUGETLB) */
#define C 0x40400000ull    /* 4 KiB pages under the same guest L2 table */
#define E 0x40600000ull    /* the guest L2 entry the test points at a frame of A's page */

struct setup {
    struct tmachine *t;
    struct task *p;
    uint64_t head;         /* first guest frame of the 2 MiB page at A */
    uint64_t pmd;          /* the guest L2 table of A, C and E */
    pte_t pde_a;           /* its entry for A, as the kernel made it */
};

/* host: hv.host_page_size. The splinter tests are about 2 MiB host pages,
 * where a guest 2 MiB page keeps one shadow leaf unless a protected table
 * frame lies in it; over 4 KiB host pages every one is splintered. */
static const char *host = "hv.host_page_size=2m";

static struct tmachine *boot(const char *mode)
{
    const char *const p[] = { "guest.ram_mb=256", "selective.policy=fixed", "selective.start=shadow", host, NULL };
    return tm_boot_params(mode, "memwalk", p);
}

/* Does a guest store to gfn trap (the frame is write-protected)? */
static int traps(struct tmachine *t, uint64_t gfn)
{
    struct cpu *c = &t->m.cpu;
    return c->vmm && c->vmm->store_traps && c->vmm->store_traps(c->vmm_ctx, gfn);
}

static pte_t hw_entry(struct tmachine *t, uint64_t va, unsigned lvl, uint64_t *table_out)
{
    return tm_hw_entry(t, va, lvl, table_out);
}

static void check_ok(struct tmachine *t)
{
    char msg[512] = "";
    if (machine_check(&t->m, msg, sizeof msg))
        fail_msg("invariants: %s", msg);
}

static void check_fails(struct tmachine *t, const char *want)
{
    char msg[512] = "";
    assert_int_not_equal(machine_check(&t->m, msg, sizeof msg), 0);
    if (!strstr(msg, want))
        fail_msg("expected \"%s\" in: %s", want, msg);
}

/* A process with a 4 MiB MAP_HUGETLB region at A (first page written) and
 * 4 KiB pages at C; the guest then makes frame head+tbl of the huge page
 * an L1 table for E and reads through it, so the shadow protects it. */
static struct setup make(const char *mode, unsigned tbl)
{
    struct setup s = { .t = boot(mode) };
    struct kernel *k = &s.t->m.k;
    s.p = kernel_spawn(k, 1);
    schedule_to(k, s.p);
    assert_int_equal(sys_mmap(k, s.p, A, 2 * HUGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANON | MAP_HUGETLB, 0, 0),
                     (long)A);
    assert_int_equal(sys_mmap(k, s.p, C, 16 * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANON, 0, 0), (long)C);
    uint64_t mfn;
    assert_int_equal(user_access(k, A, ACC_WRITE, &mfn), 0);
    assert_int_equal(user_access(k, C, ACC_WRITE, &mfn), 0);
    unsigned i2;
    s.pmd = pmd_table(k, s.p->mm, C, 0, &i2);
    assert_true(s.pmd);
    s.pde_a = kread_entry(k, s.pmd, pt_index(A, 2));
    assert_true(s.pde_a & _PAGE_PSE);
    s.head = pte_frame(s.pde_a);
    assert_int_equal(s.head & 511, 0);
    pte_store_direct(k, s.head + tbl, pt_index(E, 1), pte_make(s.head + 300, _PAGE_PRESENT | _PAGE_USER | _PAGE_RW));
    pte_store_direct(k, s.pmd, pt_index(E, 2),
                     pte_make(s.head + tbl, _PAGE_PRESENT | _PAGE_USER | _PAGE_RW | _PAGE_ACCESSED));
    cpu_invlpg(&s.t->m.cpu, E);
    assert_int_equal(user_access(k, E, ACC_READ, &mfn), 0);
    return s;
}

/* Undo the guest's table games (so that the kernel frees what it owns),
 * check, exit, check. */
static void finish(struct setup *s)
{
    struct kernel *k = &s->t->m.k;
    pte_store_direct(k, s->pmd, pt_index(A, 2), s->pde_a);
    pte_store_direct(k, s->pmd, pt_index(E, 2), 0);
    cpu_flush_all(&s->t->m.cpu);
    check_ok(s->t);
    do_exit(k, s->p);
    check_ok(s->t);
    assert_int_equal(tm_destroy(s->t), 0);
}

/* The reference translation agrees with the frame an access reached. */
static void oracle_agrees(struct setup *s, uint64_t va, enum access acc, uint64_t mfn)
{
    struct oracle *o = oracle_create(&s->t->m);
    oracle_set_strict(o, 1);
    char msg[512] = "";
    if (oracle_check(o, s->p->mm, va, acc, mfn, msg, sizeof msg))
        fail_msg("oracle: %s", msg);
    oracle_destroy(o);
}

static void huge_page_over_table_frame(const char *mode)
{
    struct setup s = make(mode, 5);
    struct tmachine *t = s.t;
    struct kernel *k = &t->m.k;
    uint64_t mfn;
    assert_true(traps(t, s.head + 5));
    check_ok(t);
    /* a write to another frame of the page: it used to fault forever (the
     * whole 2 MiB read-only) and abort in the guest's fault loop */
    assert_int_equal(user_access(k, A + 7 * PAGE_SIZE, ACC_WRITE, &mfn), 0);
    assert_int_equal(mfn, machine_p2m(&t->m, s.head + 7));
    oracle_agrees(&s, A + 7 * PAGE_SIZE, ACC_WRITE, mfn);
    /* splintered: the shadow L2 entry points to a table of 4 KiB leaves */
    pte_t l2 = hw_entry(t, A, 2, NULL);
    assert_true(pte_present(l2) && !(l2 & _PAGE_PSE));
    assert_true(hw_entry(t, A + 7 * PAGE_SIZE, 1, NULL) & _PAGE_RW);
    assert_true(traps(t, s.head + 5));
    check_ok(t);
    /* the table frame itself is mapped read-only */
    assert_int_equal(user_access(k, A + 5 * PAGE_SIZE, ACC_READ, &mfn), 0);
    assert_false(hw_entry(t, A + 5 * PAGE_SIZE, 1, NULL) & _PAGE_RW);
    /* a second write elsewhere in the page takes one hidden fault, no more */
    uint64_t pf = t->m.st.cnt[CNT_vm_exits_pf];
    assert_int_equal(user_access(k, A + 9 * PAGE_SIZE, ACC_WRITE, &mfn), 0);
    assert_int_equal(t->m.st.cnt[CNT_vm_exits_pf], pf + 1);
    check_ok(t);
    /* the other 2 MiB page of the region has no table in it: one 2 MiB leaf */
    assert_int_equal(user_access(k, A + HUGE + 3 * PAGE_SIZE, ACC_WRITE, &mfn), 0);
    assert_true((hw_entry(t, A + HUGE, 2, NULL) & (_PAGE_PSE | _PAGE_RW)) == (_PAGE_PSE | _PAGE_RW));
    finish(&s);
}

static void test_huge_page_over_table_frame_tsp(void **state)
{
    (void)state;
    huge_page_over_table_frame("tsp");
}

static void test_huge_page_over_table_frame_selective(void **state)
{
    (void)state;
    huge_page_over_table_frame("selective");
}

/* A frame of the huge page becomes a table after the page was splintered
 * while another was: only that frame's leaf loses write access. */
static void test_splinter_then_protect_another_frame(void **state)
{
    (void)state;
    struct setup s = make("tsp", 5);
    struct tmachine *t = s.t;
    struct kernel *k = &t->m.k;
    uint64_t mfn;
    for (unsigned i = 6; i < 9; i++)
        assert_int_equal(user_access(k, A + i * PAGE_SIZE, ACC_WRITE, &mfn), 0);
    /* frame head+8 becomes the L1 table for F, in the same guest L2 table */
    uint64_t F = 0x40800000ull;
    pte_store_direct(k, s.head + 8, pt_index(F, 1), pte_make(s.head + 301, _PAGE_PRESENT | _PAGE_USER));
    pte_store_direct(k, s.pmd, pt_index(F, 2), pte_make(s.head + 8, _PAGE_PRESENT | _PAGE_USER | _PAGE_RW));
    assert_int_equal(user_access(k, F, ACC_READ, &mfn), 0);
    assert_true(traps(t, s.head + 8));
    assert_false(hw_entry(t, A + 8 * PAGE_SIZE, 1, NULL) & _PAGE_RW);
    assert_true(hw_entry(t, A + 7 * PAGE_SIZE, 1, NULL) & _PAGE_RW);
    check_ok(t);
    pte_store_direct(k, s.pmd, pt_index(F, 2), 0);
    finish(&s);
}

/* The checker's fl1 rules, each broken on purpose. */
static void test_checker_catches_fl1_corruption(void **state)
{
    (void)state;
    struct setup s = make("tsp", 5);
    struct tmachine *t = s.t;
    struct kernel *k = &t->m.k;
    uint64_t mfn, fl1;
    assert_int_equal(user_access(k, A + 7 * PAGE_SIZE, ACC_WRITE, &mfn), 0);
    check_ok(t);
    /* 1. an fl1 leaf maps another frame of the guest than the page's */
    pte_t leaf = hw_entry(t, A + 7 * PAGE_SIZE, 1, &fl1);
    pte_t wrong = pte_make(pfn_to_mfn(&t->m.hv->dom, s.head + 8), leaf & PTE_FLAGS_MASK);
    pmem_write(&t->m.mem, fl1, pt_index(A + 7 * PAGE_SIZE, 1), wrong);
    check_fails(t, "fl1 shadow");
    pmem_write(&t->m.mem, fl1, pt_index(A + 7 * PAGE_SIZE, 1), leaf);
    check_ok(t);
    /* 2. the guest entry (changed behind the hypervisor's back) names
     * another 2 MiB page than the fl1 splinters */
    uint64_t l2m = pfn_to_mfn(&t->m.hv->dom, s.pmd);
    pte_t g = pmem_read(&t->m.mem, l2m, pt_index(A, 2));
    pmem_write(&t->m.mem, l2m, pt_index(A, 2), g + (512ull << PAGE_SHIFT));
    check_fails(t, "fl1 shadow of another guest 2 MiB page");
    /* 3. the guest entry has reserved frame bits set */
    pmem_write(&t->m.mem, l2m, pt_index(A, 2), g | (1ull << 13));
    check_fails(t, "reserved frame bits");
    pmem_write(&t->m.mem, l2m, pt_index(A, 2), g);
    check_ok(t);
    finish(&s);
}

/* A 2 MiB entry whose frame bits 20:13 are set: a reserved-bit fault in
 * every mode, read or write, and the guest kernel kills the task. */
static void misaligned_pde(const char *mode)
{
    struct setup s = make(mode, 8);
    struct tmachine *t = s.t;
    struct kernel *k = &t->m.k;
    int shadowed = traps(t, s.head + 8);
    pte_store_direct(k, s.pmd, pt_index(A, 2), (s.pde_a & PTE_FLAGS_MASK) | pte_make(s.head + 2, 0));
    cpu_flush_all(&t->m.cpu);
    uint64_t mfn, segv = t->m.st.cnt[CNT_segv];
    for (int acc = ACC_READ; acc <= ACC_WRITE; acc++) {
        k->segv_code = 0;
        assert_int_equal(user_access(k, A + 7 * PAGE_SIZE, (enum access)acc, &mfn), -EFAULT);
        assert_int_equal(k->segv_code, KSEGV_PTBAD);
        assert_true(oracle_translate(&t->m, s.p->mm, A + 7 * PAGE_SIZE, (enum access)acc, &mfn) & PFEC_RSVD);
    }
    assert_int_equal(t->m.st.cnt[CNT_segv], segv + 2);
    /* the write was not emulated into (and did not unshadow) the table */
    assert_int_equal(traps(t, s.head + 8), shadowed);
    check_ok(t);
    /* bit 12 of a 2 MiB entry is PAT, not a frame bit: the page's frames */
    pte_store_direct(k, s.pmd, pt_index(A, 2), s.pde_a | (1ull << PAGE_SHIFT));
    cpu_flush_all(&t->m.cpu);
    assert_int_equal(user_access(k, A + 7 * PAGE_SIZE, ACC_READ, &mfn), 0);
    assert_int_equal(mfn, machine_p2m(&t->m, s.head + 7));
    oracle_agrees(&s, A + 7 * PAGE_SIZE, ACC_READ, mfn);
    check_ok(t);
    finish(&s);
}

/* under both host page sizes: over 4 KiB ones the shadow would splinter
 * the page, and must not map the frames of a misaligned entry either */
static void misaligned_pde_hosts(const char *mode)
{
    host = "hv.host_page_size=2m";
    misaligned_pde(mode);
    host = "hv.host_page_size=4k";
    misaligned_pde(mode);
    host = "hv.host_page_size=2m";
}

static void test_misaligned_pde_native(void **state) { (void)state; misaligned_pde_hosts("native"); }
static void test_misaligned_pde_tsp(void **state) { (void)state; misaligned_pde_hosts("tsp"); }
static void test_misaligned_pde_ssp(void **state) { (void)state; misaligned_pde_hosts("ssp"); }
static void test_misaligned_pde_hap(void **state) { (void)state; misaligned_pde_hosts("hap"); }
static void test_misaligned_pde_selective(void **state) { (void)state; misaligned_pde_hosts("selective"); }

/* A user mapping of the L1 table that maps it (a self-map): a user write
 * through it is emulated (the walk itself uses the frame, so it stays
 * protected) and costs and counts what a trapped store does: the emulation
 * (cost.shadow_emulate), and one write toward flooding, so that two more
 * stores unshadow the table (tsp.flood_threshold=3). */
static void test_emulated_user_write_charged_and_counted(void **state)
{
    (void)state;
    struct tmachine *t = boot("tsp");
    struct kernel *k = &t->m.k;
    struct task *p = kernel_spawn(k, 1);
    schedule_to(k, p);
    assert_int_equal(sys_mmap(k, p, C, 16 * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANON, 0, 0), (long)C);
    uint64_t mfn;
    assert_int_equal(user_access(k, C, ACC_WRITE, &mfn), 0);
    uint64_t T = pte_table(k, p->mm, C, 0), V = C + 8 * PAGE_SIZE;
    assert_true(traps(t, T));
    pte_store_direct(k, T, pt_index(V, 1),
                     pte_make(T, _PAGE_PRESENT | _PAGE_USER | _PAGE_RW | _PAGE_ACCESSED | _PAGE_DIRTY | _PAGE_NX));
    uint64_t hv = t->m.st.cyc[CYC_hypervisor], pf = t->m.st.cnt[CNT_vm_exits_pf];
    assert_int_equal(user_access(k, V + 16, ACC_WRITE, &mfn), 0);
    assert_int_equal(mfn, pfn_to_mfn(&t->m.hv->dom, T));
    assert_int_equal(t->m.st.cnt[CNT_vm_exits_pf], pf + 1);          /* emulated: one exit */
    assert_true(t->m.st.cyc[CYC_hypervisor] - hv >= t->cfg.cost.shadow_emulate);
    assert_true(traps(t, T));
    pte_store_direct(k, T, 300, 0);
    assert_true(traps(t, T));
    pte_store_direct(k, T, 301, 0);                                   /* the third write: flooded */
    assert_false(traps(t, T));
    pte_store_direct(k, T, pt_index(V, 1), 0);
    cpu_flush_all(&t->m.cpu);
    check_ok(t);
    do_exit(k, p);
    check_ok(t);
    assert_int_equal(tm_destroy(t), 0);
}

/* A page-table frame the guest frees while the shadow still protects it
 * (something still points to it): the clear that drops its contents goes
 * through the vCPU. Its first store traps and the rep is emulated in that
 * exit until write flooding unshadows the frame (KVM before 3.3, the
 * default; test_tsp_retry.c has the rest); under hap nothing traps. */
static void freed_table_clear(const char *mode, uint64_t want_exits)
{
    struct tmachine *t = boot(mode);
    struct kernel *k = &t->m.k;
    struct task *p = kernel_spawn(k, 1);
    schedule_to(k, p);
    assert_int_equal(sys_mmap(k, p, C, 16 * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANON, 0, 0), (long)C);
    uint64_t mfn;
    assert_int_equal(user_access(k, C, ACC_WRITE, &mfn), 0);
    unsigned i2;
    uint64_t pmd = pmd_table(k, p->mm, C, 0, &i2);
    /* a scratch L1 table of the kernel's, linked for E and walked */
    struct mm scratch = { .id = 999 };
    uint64_t T = pt_alloc(k, &scratch, 1);
    uint64_t data = pte_frame(kread_entry(k, pte_table(k, p->mm, C, 0), pt_index(C, 1)));
    pte_store_direct(k, T, 0, pte_make(data, _PAGE_PRESENT | _PAGE_USER | _PAGE_ACCESSED));
    pte_store_direct(k, pmd, pt_index(E, 2), pte_make(T, _PAGE_PRESENT | _PAGE_USER | _PAGE_RW | _PAGE_ACCESSED));
    assert_int_equal(user_access(k, E, ACC_READ, &mfn), 0);
    int shadowed = traps(t, T);
    uint64_t exits = t->m.st.cnt[CNT_vm_exits_pt_write];
    pt_free(k, &scratch, T, 1);
    assert_int_equal(t->m.st.cnt[CNT_vm_exits_pt_write] - exits, want_exits);
    assert_false(traps(t, T));
    if (shadowed)
        assert_true(want_exits > 0);
    pte_store_direct(k, pmd, pt_index(E, 2), 0);
    cpu_flush_all(&t->m.cpu);
    check_ok(t);
    do_exit(k, p);
    check_ok(t);
    assert_int_equal(tm_destroy(t), 0);
}

static void test_freed_table_clear_traps_tsp(void **state) { (void)state; freed_table_clear("tsp", 1); }
static void test_freed_table_clear_traps_selective(void **state) { (void)state; freed_table_clear("selective", 1); }
static void test_freed_table_clear_hap(void **state) { (void)state; freed_table_clear("hap", 0); }

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_huge_page_over_table_frame_tsp),
        cmocka_unit_test(test_huge_page_over_table_frame_selective),
        cmocka_unit_test(test_splinter_then_protect_another_frame),
        cmocka_unit_test(test_checker_catches_fl1_corruption),
        cmocka_unit_test(test_misaligned_pde_native),
        cmocka_unit_test(test_misaligned_pde_tsp),
        cmocka_unit_test(test_misaligned_pde_ssp),
        cmocka_unit_test(test_misaligned_pde_hap),
        cmocka_unit_test(test_misaligned_pde_selective),
        cmocka_unit_test(test_emulated_user_write_charged_and_counted),
        cmocka_unit_test(test_freed_table_clear_traps_tsp),
        cmocka_unit_test(test_freed_table_clear_traps_selective),
        cmocka_unit_test(test_freed_table_clear_hap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

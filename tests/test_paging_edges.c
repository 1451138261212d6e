/* test_paging_edges.c: what the architecture allows a guest to do that
 * memvirt's own guest kernel never does, under the hardware-virtualized
 * paging modes: rewrite a 2 MiB leaf straight into a table pointer, flush
 * with every kind of invalidation (INVLPG, CR3 reload, CR4.PGE, the four
 * INVPCIDs), invalidate a PCID that is not loaded, point an entry beyond
 * the guest-physical address width. After the guest's flush, the new
 * translation is the one used, and the oracle and the mode's invariants
 * agree. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "sim/oracle.h"
#include "testutil.h"

#define A 0x400000ull
#define H 0x40000000ull

static struct tmachine *boot(const char *mode)
{
    const char *const p[] = { "guest.ram_mb=256", NULL };
    return tm_boot_params(mode, "memwalk", p);
}

static struct task *proc(struct tmachine *t, int pid)
{
    struct kernel *k = &t->m.k;
    struct task *p = kernel_spawn(k, pid);
    schedule_to(k, p);
    assert_int_equal(sys_mmap(k, p, A, 8 * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANON, 0, 0),
                     (long)A);
    return p;
}

/* The guest table of level lvl on the way to va. */
static uint64_t table_of(struct kernel *k, struct mm *mm, uint64_t va, unsigned lvl)
{
    uint64_t t = mm->pgd;
    for (unsigned l = 4; l > lvl; l--)
        t = k->pv->entry_pfn(k, kread_entry(k, t, pt_index(va, l)));
    return t;
}

static void agree(struct tmachine *t, struct oracle *o, struct mm *mm, uint64_t va, uint64_t want)
{
    uint64_t got;
    char msg[512];
    assert_int_equal(user_access(&t->m.k, va, ACC_READ, &got), 0);
    assert_int_equal(got, want);
    if (oracle_check(o, mm, va, ACC_READ, got, msg, sizeof msg))
        fail_msg("oracle: %s", msg);
    if (machine_check(&t->m, msg, sizeof msg))
        fail_msg("%s: %s", t->m.mode->name, msg);
}

static void leaf_to_table(const char *mode)
{
    struct tmachine *t = boot(mode);
    struct kernel *k = &t->m.k;
    struct oracle *o = oracle_create(&t->m);
    struct task *p = proc(t, 1);
    assert_int_equal(sys_mmap(k, p, H, HPAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANON | MAP_HUGETLB, 0, 0),
                     (long)H);
    uint64_t h, b;
    assert_int_equal(user_access(k, H, ACC_WRITE, &h), 0);
    assert_int_equal(user_access(k, A, ACC_WRITE, &b), 0);
    uint64_t pmd = table_of(k, p->mm, H, 2);
    pte_t huge = kread_entry(k, pmd, pt_index(H, 2));
    assert_true(huge & _PAGE_PSE);
    pte_t eb = kread_entry(k, table_of(k, p->mm, A, 1), pt_index(A, 1));
    uint64_t l1 = pt_alloc(k, p->mm, 1);
    pte_store_direct(k, l1, 0, eb);                                  /* H -> A's frame */
    pte_store_direct(k, pmd, pt_index(H, 2), k->pv->make_entry(k, l1, PT_TABLE_FLAGS));
    cpu_reload_cr3(&t->m.cpu);
    agree(t, o, p->mm, H, b);                                        /* not the old huge frame */
    pte_store_direct(k, pmd, pt_index(H, 2), 0);
    cpu_reload_cr3(&t->m.cpu);
    pte_store_direct(k, pmd, pt_index(H, 2), huge);
    cpu_reload_cr3(&t->m.cpu);
    agree(t, o, p->mm, H, h);
    pte_store_direct(k, l1, 0, 0);
    pt_free(k, p->mm, l1, 1);
    do_exit(k, p);
    oracle_destroy(o);
    assert_int_equal(tm_destroy(t), 0);
}

static void test_huge_leaf_becomes_table(void **state)
{
    (void)state;
    leaf_to_table("tsp");
    leaf_to_table("ssp");
    leaf_to_table("hap");
}

/* Every kind of flush, under every mode with hardware virtualization. */
static void test_every_flush_kind(void **state)
{
    (void)state;
    const char *const modes[] = { "tsp", "ssp", "hap", "selective" };
    for (unsigned m = 0; m < 4; m++)
        for (int kind = FLUSH_INVLPG; kind <= FLUSH_INVPCID_NONGLOBAL; kind++) {
            struct tmachine *t = boot(modes[m]);
            struct kernel *k = &t->m.k;
            struct cpu *c = &t->m.cpu;
            struct oracle *o = oracle_create(&t->m);
            struct task *p = proc(t, 1);
            uint64_t a, b;
            assert_int_equal(user_access(k, A, ACC_WRITE, &a), 0);
            assert_int_equal(user_access(k, A + PAGE_SIZE, ACC_WRITE, &b), 0);
            uint64_t l1 = table_of(k, p->mm, A, 1);
            pte_t old = kread_entry(k, l1, pt_index(A, 1));
            pte_t eb = kread_entry(k, l1, pt_index(A + PAGE_SIZE, 1));
            pte_store_direct(k, l1, pt_index(A, 1), pte_make(pte_frame(eb), old & PTE_FLAGS_MASK));
            switch (kind) {
            case FLUSH_INVLPG: cpu_invlpg(c, A); break;
            case FLUSH_CR3_RELOAD: cpu_reload_cr3(c); break;
            case FLUSH_GLOBAL: cpu_flush_all(c); break;
            default: cpu_invpcid(c, (enum tlb_flush_kind)kind, c->pcid, A); break;
            }
            agree(t, o, p->mm, A, b);
            pte_store_direct(k, l1, pt_index(A, 1), old);
            cpu_flush_all(c);
            agree(t, o, p->mm, A, a);
            do_exit(k, p);
            oracle_destroy(o);
            assert_int_equal(tm_destroy(t), 0);
        }
}

/* INVPCID of a PCID that is not loaded: the change is seen once it is. */
static void test_invpcid_other_pcid(void **state)
{
    (void)state;
    const char *const modes[] = { "tsp", "ssp", "hap" };
    for (unsigned m = 0; m < 3; m++)
        for (int kind = FLUSH_INVPCID_ADDR; kind <= FLUSH_INVPCID_SINGLE; kind++) {
            struct tmachine *t = boot(modes[m]);
            struct kernel *k = &t->m.k;
            struct cpu *c = &t->m.cpu;
            struct oracle *o = oracle_create(&t->m);
            struct task *p1 = proc(t, 1);
            uint64_t a, b, x;
            assert_int_equal(user_access(k, A, ACC_WRITE, &a), 0);
            assert_int_equal(user_access(k, A + PAGE_SIZE, ACC_WRITE, &b), 0);
            uint16_t pcid1 = c->pcid;
            struct task *p2 = proc(t, 2);
            assert_int_equal(user_access(k, A, ACC_WRITE, &x), 0);
            assert_true(c->pcid != pcid1);
            uint64_t l1 = table_of(k, p1->mm, A, 1);
            pte_t old = kread_entry(k, l1, pt_index(A, 1));
            pte_t eb = kread_entry(k, l1, pt_index(A + PAGE_SIZE, 1));
            pte_store_direct(k, l1, pt_index(A, 1), pte_make(pte_frame(eb), old & PTE_FLAGS_MASK));
            cpu_invpcid(c, (enum tlb_flush_kind)kind, pcid1, A);
            schedule_to(k, p1);
            agree(t, o, p1->mm, A, b);
            pte_store_direct(k, l1, pt_index(A, 1), old);
            cpu_flush_all(c);
            do_exit(k, p2);
            do_exit(k, p1);
            oracle_destroy(o);
            assert_int_equal(tm_destroy(t), 0);
        }
}

/* An entry naming a guest-physical frame beyond the 48-bit width does not
 * alias a frame below it: the access faults, as the reference walk says. */
static void test_gpa_beyond_width(void **state)
{
    (void)state;
    const char *const modes[] = { "tsp", "ssp", "hap" };
    for (unsigned m = 0; m < 3; m++) {
        struct tmachine *t = boot(modes[m]);
        struct kernel *k = &t->m.k;
        struct task *p = proc(t, 1);
        uint64_t a;
        assert_int_equal(user_access(k, A, ACC_WRITE, &a), 0);
        uint64_t l1 = table_of(k, p->mm, A, 1);
        pte_t old = kread_entry(k, l1, pt_index(A, 1));
        uint64_t alias = pte_frame(old) + (1ull << 36);
        pte_store_direct(k, l1, pt_index(A, 1), pte_make(alias, old & PTE_FLAGS_MASK));
        cpu_invlpg(&t->m.cpu, A);
        uint64_t ref = 0;
        assert_true(oracle_translate(&t->m, p->mm, A, ACC_READ, &ref) & PFEC_RSVD);
        uint64_t got = UINT64_MAX, segv = t->m.st.cnt[CNT_segv];
        if (user_access(k, A, ACC_READ, &got) == 0)
            fail_msg("%s: gfn %#llx was translated to frame %#llx", modes[m], (unsigned long long)alias,
                     (unsigned long long)got);
        assert_int_equal(t->m.st.cnt[CNT_segv], segv + 1);
        pte_store_direct(k, l1, pt_index(A, 1), old);
        cpu_invlpg(&t->m.cpu, A);
        do_exit(k, p);
        assert_int_equal(tm_destroy(t), 0);
    }
}

int main(void)
{
    mv_error_quiet(1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_huge_leaf_becomes_table),
        cmocka_unit_test(test_every_flush_kind),
        cmocka_unit_test(test_invpcid_other_pcid),
        cmocka_unit_test(test_gpa_beyond_width),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

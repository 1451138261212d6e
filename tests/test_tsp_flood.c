/* test_tsp_flood.c: tsp's write-flooding detectors, rule by rule
 * (tsp.flood_detector; KVM's kvm_mmu_pte_write and FNAME(page_fault)).
 *  vcpu (KVM before 3.3, the default without tsp.unsync): consecutive
 *       trapped writes to one frame flood at tsp.flood_threshold; a write to
 *       another frame restarts the count, so does a write after the leaf the
 *       last one propagated was used; a fault given to the guest and a
 *       hidden fault reset it; a fork's write-protect loop floods the
 *       parent's tables at the third write.
 *  page (KVM 3.3 on, the default with tsp.unsync): a count per shadow page
 *       that only a fault walking through that page resets.
 * The guest kernel's own stores (pte_store_direct, mprotect, fork) and
 * accesses drive every case; only the hidden fault needs a shadow leaf
 * dropped by hand, as test_shadow.c does. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>

#include "hv/shadow/shadow.h"
#include "testutil.h"

#define A 0x400000ull                  /* region 1: one L1 table */
#define B (A + (2ull << 20))           /* region 2: the next L1 table, same L2 */
#define NOWHERE 0x7f0000000000ull      /* no VMA */

static struct tmachine *boot(const char *p1, const char *p2)
{
    const char *const p[] = { "guest.ram_mb=256", p1, p2, NULL };
    return tm_boot_params("tsp", "memwalk", p);
}

static uint64_t cnt(struct tmachine *t, enum mv_counter c) { return t->m.st.cnt[c]; }
static struct shadow *SH(struct tmachine *t) { return t->m.hv->mode; }

/* Process pid with `touch` pages written at A and at B. */
static struct task *proc(struct tmachine *t, uint32_t pid, unsigned touch)
{
    struct kernel *k = &t->m.k;
    struct task *p = kernel_spawn(k, pid);
    schedule_to(k, p);
    uint64_t mfn;
    for (uint64_t base = A; base <= B; base += B - A) {
        assert_int_equal(sys_mmap(k, p, base, 64 * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANON, 0, 0),
                         (long)base);
        for (unsigned i = 0; i < touch; i++)
            assert_int_equal(user_access(k, base + i * PAGE_SIZE, ACC_WRITE, &mfn), 0);
    }
    return p;
}

/* The guest table of level `level` on va's path. */
static uint64_t table_of(struct tmachine *t, struct mm *mm, uint64_t va, unsigned level)
{
    struct kernel *k = &t->m.k;
    uint64_t table = mm->pgd;
    for (unsigned l = 4; l > level; l--)
        table = k->pv->entry_pfn(k, kread_entry(k, table, pt_index(va, l)));
    return table;
}

/* A store of 0 to an unused entry of guest table gfn (it propagates
 * nothing): 1 if it exited (the table was write-protected). */
static int store_any(struct tmachine *t, uint64_t gfn, unsigned idx)
{
    uint64_t exits = cnt(t, CNT_vm_exits_pt_write);
    pte_store_direct(&t->m.k, gfn, idx, 0);
    return cnt(t, CNT_vm_exits_pt_write) == exits + 1;
}

/* The same, where it must exit. */
static void store(struct tmachine *t, uint64_t gfn, unsigned idx) { assert_true(store_any(t, gfn, idx)); }

static void finish(struct tmachine *t, struct task *p) { tm_finish(t, p); }

static void test_auto_picks_the_kvm_the_docs_name(void **state)
{
    (void)state;
    static const struct { const char *p1, *p2; int per_vcpu; } c[] = {
        { NULL, NULL, 1 },
        { "tsp.unsync=true", NULL, 0 },
        { "tsp.flood_detector=vcpu", "tsp.unsync=true", 1 },
        { "tsp.flood_detector=page", NULL, 0 },
    };
    for (unsigned i = 0; i < sizeof c / sizeof c[0]; i++) {
        struct tmachine *t = boot(c[i].p1, c[i].p2);
        assert_int_equal(SH(t)->flood_per_vcpu, c[i].per_vcpu);
        assert_int_equal(tm_destroy(t), 0);
    }
}

/* Consecutive writes to one frame flood at the threshold, not before. */
static void test_vcpu_consecutive_writes_flood_at_threshold(void **state)
{
    (void)state;
    for (unsigned thr = 2; thr <= 5; thr += 3) {
        char param[64];
        snprintf(param, sizeof param, "tsp.flood_threshold=%u", thr);
        struct tmachine *t = boot(param, NULL);
        struct task *p = proc(t, 1, 1);
        uint64_t l1 = table_of(t, p->mm, A, 1), unprot = cnt(t, CNT_shadow_unprotect);
        for (unsigned i = 0; i + 1 < thr; i++)
            store(t, l1, 300 + i);
        assert_true(shadow_protected(SH(t), l1));
        store(t, l1, 300 + thr);
        assert_false(shadow_protected(SH(t), l1));
        assert_int_equal(cnt(t, CNT_shadow_unprotect), unprot + 1);
        finish(t, p);
    }
}

/* A write to another frame restarts the count (the per-page counter of
 * tsp.flood_detector=page does not care, and floods). */
static void test_write_to_another_frame_restarts(void **state)
{
    (void)state;
    for (unsigned per_page = 0; per_page < 2; per_page++) {
        struct tmachine *t = boot(per_page ? "tsp.flood_detector=page" : NULL, NULL);
        struct task *p = proc(t, 1, 1);
        uint64_t l1 = table_of(t, p->mm, A, 1), l2 = table_of(t, p->mm, A, 2);
        assert_true(shadow_protected(SH(t), l2));
        store(t, l1, 300);
        store(t, l1, 301);
        store(t, l2, 300);
        store(t, l1, 302);
        assert_int_equal(shadow_protected(SH(t), l1), !per_page);
        if (!per_page) {
            store(t, l1, 303);             /* 2 in a row */
            assert_true(shadow_protected(SH(t), l1));
            store(t, l1, 304);             /* 3 in a row */
            assert_false(shadow_protected(SH(t), l1));
        }
        finish(t, p);
    }
}

/* A page fault given to the guest resets the count ("reset fork detector"). */
static void test_injected_fault_resets(void **state)
{
    (void)state;
    for (unsigned per_page = 0; per_page < 2; per_page++) {
        struct tmachine *t = boot(per_page ? "tsp.flood_detector=page" : NULL, NULL);
        struct task *p = proc(t, 1, 1);
        uint64_t l1 = table_of(t, p->mm, A, 1), inj = cnt(t, CNT_pf_injected), mfn;
        store(t, l1, 300);
        store(t, l1, 301);
        assert_int_equal(user_access(&t->m.k, NOWHERE, ACC_READ, &mfn), -EFAULT);
        assert_int_equal(cnt(t, CNT_pf_injected), inj + 1);
        store(t, l1, 302);
        assert_int_equal(store_any(t, l1, 303), !per_page);   /* page: the third store flooded */
        assert_int_equal(shadow_protected(SH(t), l1), !per_page);
        finish(t, p);
    }
}

/* A hidden fault that is not a write to a page table resets the count,
 * wherever it walks (tsp.flood_detector=page: only a fault through the
 * table itself resets its count). */
static void test_hidden_fault_elsewhere_resets(void **state)
{
    (void)state;
    for (unsigned per_page = 0; per_page < 2; per_page++) {
        struct tmachine *t = boot(per_page ? "tsp.flood_detector=page" : NULL, NULL);
        struct task *p = proc(t, 1, 1);
        uint64_t l1 = table_of(t, p->mm, A, 1), l1b = table_of(t, p->mm, B, 1), mfn;
        assert_int_not_equal(l1, l1b);
        store(t, l1, 300);
        store(t, l1, 301);
        /* B's leaf missing from its shadow: the access refills it, hidden */
        struct shadow_page *leaf = sp_find(SH(t), l1b, 1);
        assert_non_null(leaf);
        sp_set(SH(t), leaf, pt_index(B, 1), 0);
        cpu_hw_flush(&t->m.cpu, 1);
        uint64_t fill = cnt(t, CNT_shadow_fill), gpf = cnt(t, CNT_guest_pf);
        assert_int_equal(user_access(&t->m.k, B, ACC_READ, &mfn), 0);
        assert_int_equal(cnt(t, CNT_shadow_fill), fill + 1);
        assert_int_equal(cnt(t, CNT_guest_pf), gpf);
        store(t, l1, 302);
        assert_int_equal(store_any(t, l1, 303), !per_page);
        assert_int_equal(shadow_protected(SH(t), l1), !per_page);
        finish(t, p);
    }
}

/* last_updated_pte_accessed: mprotect flipping a page the program uses
 * between the calls never floods; flipping it unused floods at the third.
 * The propagated leaf is written with Accessed clear and the MMU sets it. */
static void test_used_pte_restarts(void **state)
{
    (void)state;
    for (unsigned use = 0; use < 2; use++) {
        struct tmachine *t = boot(NULL, NULL);
        struct task *p = proc(t, 1, 1);
        struct kernel *k = &t->m.k;
        uint64_t l1 = table_of(t, p->mm, A, 1), mfn;
        struct shadow_page *sp = sp_find(SH(t), l1, 1);
        assert_non_null(sp);
        for (unsigned i = 0; i < 6; i++) {
            uint64_t exits = cnt(t, CNT_vm_exits_pt_write), pf = cnt(t, CNT_vm_exits_pf);
            assert_int_equal(sys_mprotect(k, p, A, PAGE_SIZE, (i & 1) ? PROT_READ | PROT_EXEC : PROT_READ), 0);
            if (!use && i == 2) {          /* the third write flooded */
                assert_false(shadow_protected(SH(t), l1));
                break;
            }
            assert_int_equal(cnt(t, CNT_vm_exits_pt_write), exits + 1);
            pte_t se = pmem_read(&t->m.mem, sp->smfn, pt_index(A, 1));
            assert_true(pte_present(se) && !(se & _PAGE_ACCESSED));
            if (use) {
                /* adding exec needs no flush (pte_needs_flush): empty the
                 * TLB so that the access walks through the leaf */
                cpu_flush_all(&t->m.cpu);
                assert_int_equal(user_access(k, A, ACC_READ, &mfn), 0);
                assert_int_equal(cnt(t, CNT_vm_exits_pf), pf);   /* no fault: the MMU used the leaf */
                assert_true(pmem_read(&t->m.mem, sp->smfn, pt_index(A, 1)) & _PAGE_ACCESSED);
            }
            assert_true(shadow_protected(SH(t), l1));
        }
        finish(t, p);
    }
}

/* A fork write-protects the parent's private pages one PTE after another:
 * the third write floods and the rest of the copy runs without exits. */
static void test_fork_floods_the_parent_table(void **state)
{
    (void)state;
    struct tmachine *t = boot(NULL, NULL);
    struct task *p = proc(t, 1, 16);
    uint64_t l1 = table_of(t, p->mm, A, 1), l1b = table_of(t, p->mm, B, 1);
    uint64_t exits = cnt(t, CNT_vm_exits_pt_write);
    assert_true(do_fork(&t->m.k, p, 2) > 0);
    assert_false(shadow_protected(SH(t), l1));
    assert_false(shadow_protected(SH(t), l1b));
    assert_int_equal(cnt(t, CNT_vm_exits_pt_write), exits + 2 * 3);   /* 3 of 16 per table */
    struct task *c = task_find(&t->m.k, 2);
    assert_non_null(c);
    do_exit(&t->m.k, c);
    finish(t, p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_auto_picks_the_kvm_the_docs_name),
        cmocka_unit_test(test_vcpu_consecutive_writes_flood_at_threshold),
        cmocka_unit_test(test_write_to_another_frame_restarts),
        cmocka_unit_test(test_injected_fault_resets),
        cmocka_unit_test(test_hidden_fault_elsewhere_resets),
        cmocka_unit_test(test_used_pte_restarts),
        cmocka_unit_test(test_fork_floods_the_parent_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

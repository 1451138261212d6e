/* test_pv_xpti.c: Xen's page-table isolation for PV guests (xpti.c), as
 * xen.xpti sets it: off (no trace of it), on (every trap flushes the
 * guest's translations, the L4 copy on the way back when due) and pcid
 * (the same copies, no flush). Each trap here is a hypercall the guest
 * kernel makes (mmuext_op INVLPG_LOCAL of a page the test never touches,
 * or an mmu_update, or a NEW_BASEPTR), a system call, or a user-mode
 * fault bounced to the guest kernel. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "testutil_pv.h"

#define VA 0x20000000ull
#define FAR 0x7f0000000000ull              /* a page the test never maps */

static long hc_invlpg_far(struct tmachine *t)
{
    struct mmuext_op op = { .cmd = MMUEXT_INVLPG_LOCAL, .linear_addr = FAR };
    struct mmuext_args a = { &op, 1, 0 };
    return cpu_hypercall(&t->m.cpu, __HYPERVISOR_mmuext_op, &a);
}

/* TLB misses of one access to va, which was touched before. */
static uint64_t misses_of_access(struct tmachine *t, uint64_t va)
{
    uint64_t before = cnt(t, CNT_tlb_miss), mfn;
    assert_int_equal(user_access(K(t), va, ACC_READ, &mfn), 0);
    return cnt(t, CNT_tlb_miss) - before;
}

/* A trap between two accesses to one page: the second misses the TLB
 * only under xen.xpti=on, which flushes at every trap into Xen. */
static void test_trap_flushes_only_without_pcids(void **state)
{
    (void)state;
    static const char *const mode[] = { "xen.xpti=off", "xen.xpti=on", "xen.xpti=pcid" };
    static const uint64_t want_miss[] = { 0, 1, 0 }, want_flushes[] = { 0, 1, 0 };
    for (unsigned m = 0; m < 3; m++) {
        struct tmachine *t = boot("pv", mode[m]);
        struct task *p = spawn_proc(t, 1, VA, 1);
        assert_int_equal(misses_of_access(t, VA), 0);   /* in the TLB since spawn_proc wrote it */
        uint64_t flushes = X(t)->xpti_flushes, all = cnt(t, CNT_tlb_flush_all);
        assert_int_equal(hc_invlpg_far(t), 0);
        assert_int_equal(misses_of_access(t, VA), want_miss[m]);
        assert_int_equal(X(t)->xpti_flushes - flushes, want_flushes[m]);
        assert_int_equal(cnt(t, CNT_tlb_flush_all) - all, want_flushes[m]);
        struct task *tasks[] = { p };
        finish(t, tasks, 1);
    }
}

/* The L4 copy on the way back: after a write to the loaded L4, not after
 * a hypercall that leaves it alone; after every fault bounced to the guest
 * kernel (and the iret back), which switch between user and kernel mode.
 * The CR3 writes are charged at every trap, the copy when it is made. */
static void test_l4_copied_when_due(void **state)
{
    (void)state;
    struct tmachine *t = boot("pv", "xen.xpti=pcid");
    struct xen *x = X(t);
    struct task *p = spawn_proc(t, 1, VA, 1);
    const struct cost *c = x->cost;

    uint64_t copies = x->xpti_copies, hyp = t->m.st.cyc[CYC_hypervisor];
    assert_int_equal(hc_invlpg_far(t), 0);
    assert_int_equal(x->xpti_copies, copies);                         /* nothing to copy */
    uint64_t invlpg_cost = t->m.st.cyc[CYC_hypervisor] - hyp;
    assert_true(invlpg_cost >= 2 * c->cr3_write);                      /* the two CR3 writes */

    /* an L4 entry of the loaded L4 written again, unchanged: Xen still
     * marks the copy stale after a successful write */
    uint64_t l4 = x->guest_table;
    assert_int_not_equal(l4, 0);
    pte_t e = pmem_read(x->mem, l4, pt_index(VA, 4));
    assert_true(pte_present(e));
    copies = x->xpti_copies;
    hyp = t->m.st.cyc[CYC_hypervisor];
    assert_int_equal(hc_mmu_update(t, l4, pt_index(VA, 4), e, NULL), 0);
    assert_int_equal(x->xpti_copies, copies + 1);
    assert_true(t->m.st.cyc[CYC_hypervisor] - hyp >= 2 * c->cr3_write + c->pv_scan);

    /* a refused L4 write marks nothing */
    copies = x->xpti_copies;
    assert_int_not_equal(hc_mmu_update(t, l4, pt_index(VA, 4), e | _PAGE_PSE, NULL), 0);
    assert_int_equal(x->xpti_copies, copies);

    /* a fault on a page not yet touched: bounced to the kernel (a copy),
     * which returns with iret (another) */
    copies = x->xpti_copies;
    uint64_t pf = cnt(t, CNT_vm_exits_pf), iret = cnt(t, CNT_hc_iret), mfn;
    assert_int_equal(user_access(K(t), VA + PAGE_SIZE, ACC_WRITE, &mfn), 0);
    assert_int_equal(cnt(t, CNT_vm_exits_pf) - pf, 1);
    assert_int_equal(x->xpti_copies - copies, 1 + (cnt(t, CNT_hc_iret) - iret));
    assert_int_equal(x->xpti_flushes, 0);
    struct task *tasks[] = { p };
    finish(t, tasks, 1);
}

/* A system call bounced to the guest kernel switches to the kernel's L4:
 * exactly one copy. NEW_BASEPTR reloads the tables (write_ptbase): exactly
 * one copy, even when the base pointer is the one already loaded. */
static void test_syscall_and_baseptr_copy_once(void **state)
{
    (void)state;
    for (unsigned m = 0; m < 2; m++) {
        struct tmachine *t = boot("pv", m ? "xen.xpti=on" : "xen.xpti=pcid");
        struct xen *x = X(t);
        struct task *p = spawn_proc(t, 1, VA, 1);
        uint64_t copies = x->xpti_copies, sys = cnt(t, CNT_vm_exits_syscall);
        cpu_syscall(&t->m.cpu);
        assert_int_equal(cnt(t, CNT_vm_exits_syscall) - sys, 1);
        assert_int_equal(x->xpti_copies - copies, 1);

        copies = x->xpti_copies;
        uint64_t exits = cnt(t, CNT_vm_exits);
        assert_int_equal(hc_ext(t, MMUEXT_NEW_BASEPTR, x->guest_table), 0);
        assert_int_equal(cnt(t, CNT_vm_exits) - exits, 1);
        assert_int_equal(x->xpti_copies - copies, 1);

        /* and the next hypercall, with nothing changed, copies nothing */
        copies = x->xpti_copies;
        assert_int_equal(hc_invlpg_far(t), 0);
        assert_int_equal(x->xpti_copies, copies);
        struct task *tasks[] = { p };
        finish(t, tasks, 1);
    }
}

/* Off: no XPTI work at all, and its statistics stay zero. */
static void test_off_does_nothing(void **state)
{
    (void)state;
    struct tmachine *t = boot("pv", NULL);
    struct xen *x = X(t);
    assert_int_equal(x->xpti, XPTI_OFF);
    struct task *p = spawn_proc(t, 1, VA, NPAGES);
    assert_int_equal(hc_invlpg_far(t), 0);
    assert_int_equal(x->xpti_copies + x->xpti_flushes, 0);
    struct task *tasks[] = { p };
    finish(t, tasks, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_trap_flushes_only_without_pcids),
        cmocka_unit_test(test_l4_copied_when_due),
        cmocka_unit_test(test_syscall_and_baseptr_copy_once),
        cmocka_unit_test(test_off_does_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

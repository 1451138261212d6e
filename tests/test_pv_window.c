/* test_pv_window.c: the window of preemptible validation (XSA-296's class).
 * Xen validates a table being pinned or loaded as a base pointer in slices;
 * between two slices it returns to the guest with the continuation pending
 * (an event is pending, say), and the guest runs: it may issue any other
 * operation on the partially validated table before it re-issues the call,
 * or never re-issue it. The hook xen.h restart_to_guest makes a preempted
 * hypercall return -ERESTART to the guest instead of being re-entered at
 * once; each test then acts in the window and checks that the general and
 * type reference counts stay exact (pv_check recounts them from the tables)
 * and that, once everything is undone, every frame is back where it was:
 *  - a PIN of another type is refused and changes nothing;
 *  - a base-pointer load (hypercall or MOV CR3), a second PIN, or a parent
 *    table's validation completes the partial validation and takes it over;
 *  - the partial table is neither writable nor a live table meanwhile;
 *  - a resumed validation that fails undoes every slice;
 *  - a preempted base-pointer load, mmu_update and multicall. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>

#include "testutil_pv.h"

#define NL3 3

/* An unpinned L4, read-only in the direct map, with NL3 L3s at entries
 * 0..NL3-1, the first with an L2 at entry 7. With xen.preempt_entries=1 its
 * validation takes NL3 slices. */
struct tree {
    uint64_t l4p, l4, l3p[NL3], l3[NL3], l2p, l2;
    struct page_info b4, b3[NL3], b2;         /* as built */
};

static struct tmachine *boot_window(void)
{
    struct tmachine *t = boot("pv", "xen.preempt_entries=1");
    X(t)->restart_to_guest = 1;
    return t;
}

static void tree_build(struct tmachine *t, struct tree *tr)
{
    struct kernel *k = K(t);
    tr->l4p = kalloc_page(k, 0);
    tr->l4 = p2m(t, tr->l4p);
    tr->l2p = kalloc_page(k, 0);
    tr->l2 = p2m(t, tr->l2p);
    for (unsigned i = 0; i < NL3; i++) {
        tr->l3p[i] = kalloc_page(k, 0);
        tr->l3[i] = p2m(t, tr->l3p[i]);
        assert_int_equal(hc_mmu_update(t, tr->l4, i, pte_make(tr->l3[i], PT_TABLE_FLAGS), NULL), 0);
        assert_int_equal(hc_dmap(t, tr->l3p[i], 0), 0);
    }
    assert_int_equal(hc_mmu_update(t, tr->l3[0], 7, pte_make(tr->l2, PT_TABLE_FLAGS), NULL), 0);
    assert_int_equal(hc_dmap(t, tr->l2p, 0), 0);
    assert_int_equal(hc_dmap(t, tr->l4p, 0), 0);
    tr->b4 = *frame(X(t), tr->l4);
    tr->b2 = *frame(X(t), tr->l2);
    for (unsigned i = 0; i < NL3; i++)
        tr->b3[i] = *frame(X(t), tr->l3[i]);
    check_inv(t);
}

static void same_counts(struct tmachine *t, uint64_t mfn, const struct page_info *b, const char *what)
{
    const struct page_info *a = frame(X(t), mfn);
    if (a->count != b->count || a->type_count != b->type_count ||
        (a->flags & (PGF_partial | PGF_pinned)) != (b->flags & (PGF_partial | PGF_pinned)))
        fail_msg("%s (mfn %#llx): count %u -> %u, type count %u -> %u, flags %#x -> %#x", what,
                 (unsigned long long)mfn, b->count, a->count, b->type_count, a->type_count, b->flags, a->flags);
}

/* Every frame of the tree as built: no reference left behind, none lost. */
static void tree_as_built(struct tmachine *t, const struct tree *tr)
{
    same_counts(t, tr->l4, &tr->b4, "L4");
    same_counts(t, tr->l2, &tr->b2, "L2");
    for (unsigned i = 0; i < NL3; i++)
        same_counts(t, tr->l3[i], &tr->b3[i], "L3");
}

static void tree_free(struct tmachine *t, struct tree *tr)
{
    struct kernel *k = K(t);
    tree_as_built(t, tr);
    assert_int_equal(hc_dmap(t, tr->l4p, 1), 0);
    assert_int_equal(hc_dmap(t, tr->l2p, 1), 0);
    for (unsigned i = 0; i < NL3; i++) {
        assert_int_equal(hc_dmap(t, tr->l3p[i], 1), 0);
        assert_int_equal(hc_mmu_update(t, tr->l4, i, 0, NULL), 0);
        page_put(k, tr->l3p[i]);
    }
    assert_int_equal(hc_mmu_update(t, tr->l3[0], 7, 0, NULL), 0);
    page_put(k, tr->l2p);
    page_put(k, tr->l4p);
    X(t)->restart_to_guest = 0;          /* the guest kernel's own paths re-issue at once */
    finish(t, NULL, 0);
}

/* A partially validated frame: type count 1, partial, and one general
 * reference more than before the validation began (the partial state's). */
static void is_partial(struct tmachine *t, uint64_t mfn, const struct page_info *b, unsigned type)
{
    const struct page_info *p = frame(X(t), mfn);
    assert_int_equal(p->type, type);
    assert_int_equal(p->type_count, 1);
    assert_int_equal(p->flags & (PGF_partial | PGF_validated | PGF_pinned), PGF_partial);
    assert_int_equal(p->count, b->count + 1);
    check_inv(t);
}

static long ext(struct tmachine *t, struct mmuext_args *a)
{
    return cpu_hypercall(&t->m.cpu, __HYPERVISOR_mmuext_op, a);
}

/* Re-issue a preempted mmuext_op until it ends; returns its result. */
static long finish_ext(struct tmachine *t, struct mmuext_args *a)
{
    long rc;
    while ((rc = ext(t, a)) == -ERESTART)
        check_inv(t);
    return rc;
}

static void unpin(struct tmachine *t, uint64_t mfn)
{
    assert_int_equal(hc_ext(t, MMUEXT_UNPIN_TABLE, mfn), 0);
    check_inv(t);
}

/* ---- a PIN of another type in the window ------------------------------------ */

static void test_refused_pin_of_another_type(void **state)
{
    struct tmachine *t = boot_window();
    struct tree tr;
    tree_build(t, &tr);
    struct mmuext_op op = { .cmd = MMUEXT_PIN_L4_TABLE, .mfn = tr.l4 };
    struct mmuext_args a = { &op, 1, 0 };
    long rc;
    unsigned slices = 0;
    while ((rc = ext(t, &a)) == -ERESTART) {
        slices++;
        assert_int_equal(a.done, 0);
        is_partial(t, tr.l4, &tr.b4, PGT_l4);
        struct page_info mid = *frame(X(t), tr.l4);
        /* the guest, in the window: PINs of every other type, refused */
        for (unsigned cmd = MMUEXT_PIN_L1_TABLE; cmd <= MMUEXT_PIN_L3_TABLE; cmd++)
            assert_int_equal(hc_ext(t, cmd, tr.l4), -EINVAL);
        same_counts(t, tr.l4, &mid, "partial L4");
        check_inv(t);
    }
    assert_int_equal(rc, 0);
    assert_int_equal(slices, NL3);                      /* one entry a slice, then the rest */
    assert_int_equal(a.done, 1);
    assert_true(frame(X(t), tr.l4)->flags & PGF_pinned);
    assert_int_equal(frame(X(t), tr.l4)->count, tr.b4.count + 1);   /* the pin's only */
    check_inv(t);
    unpin(t, tr.l4);
    tree_free(t, &tr);
}

/* ---- someone else completes the validation ------------------------------------ */

/* A base-pointer load in the window completes the validation and takes the
 * partial state's type count over; the re-issued PIN then pins. */
static void baseptr_completes(unsigned cmd, int by_cr3)
{
    struct tmachine *t = boot_window();
    struct xen *x = X(t);
    struct tree tr;
    tree_build(t, &tr);
    uint64_t kbase = x->guest_table, ubase = x->guest_table_user;

    struct mmuext_op op = { .cmd = MMUEXT_PIN_L4_TABLE, .mfn = tr.l4 };
    struct mmuext_args a = { &op, 1, 0 };
    assert_int_equal(ext(t, &a), -ERESTART);
    is_partial(t, tr.l4, &tr.b4, PGT_l4);
    if (by_cr3) {
        uint64_t e0 = cnt(t, CNT_vm_exits_cr3);
        cpu_write_cr3(&t->m.cpu, tr.l4p, 0, 0);
        assert_true(cnt(t, CNT_vm_exits_cr3) > e0);
        assert_int_equal(t->m.cpu.cr3, tr.l4p);
    } else {
        /* resumed by the load, which Xen preempts as well: slices of its own */
        struct mmuext_op bop = { .cmd = cmd, .mfn = tr.l4 };
        struct mmuext_args b = { &bop, 1, 0 };
        assert_int_equal(finish_ext(t, &b), 0);
    }
    assert_int_equal(cmd == MMUEXT_NEW_BASEPTR ? x->guest_table : x->guest_table_user, tr.l4);
    const struct page_info *p = frame(x, tr.l4);
    assert_int_equal(p->flags & (PGF_partial | PGF_validated), PGF_validated);
    assert_int_equal(p->type_count, 1);
    assert_int_equal(p->count, tr.b4.count + 1);      /* the base pointer's; the partial one dropped */
    check_inv(t);

    assert_int_equal(finish_ext(t, &a), 0);           /* the re-issued PIN */
    assert_true(frame(x, tr.l4)->flags & PGF_pinned);
    assert_int_equal(frame(x, tr.l4)->type_count, 2);
    assert_int_equal(frame(x, tr.l4)->count, tr.b4.count + 2);
    check_inv(t);

    /* back to the guest's own tables: only the pin holds the tree */
    struct mmuext_op back[2] = { { .cmd = MMUEXT_NEW_BASEPTR, .mfn = kbase },
                                 { .cmd = MMUEXT_NEW_USER_BASEPTR, .mfn = ubase } };
    struct mmuext_args ba = { back, 2, 0 };
    assert_int_equal(ext(t, &ba), 0);
    check_inv(t);
    unpin(t, tr.l4);
    tree_free(t, &tr);
}

static void test_new_baseptr_completes(void **state) { baseptr_completes(MMUEXT_NEW_BASEPTR, 0); }
static void test_new_user_baseptr_completes(void **state) { baseptr_completes(MMUEXT_NEW_USER_BASEPTR, 0); }
static void test_cr3_write_completes(void **state) { baseptr_completes(MMUEXT_NEW_BASEPTR, 1); }

/* A second PIN of the same type resumes and pins; the first, re-issued, finds
 * the table pinned. */
static void test_second_pin_completes(void **state)
{
    struct tmachine *t = boot_window();
    struct tree tr;
    tree_build(t, &tr);
    struct mmuext_op op = { .cmd = MMUEXT_PIN_L4_TABLE, .mfn = tr.l4 };
    struct mmuext_args a = { &op, 1, 0 }, b = { &op, 1, 0 };
    assert_int_equal(ext(t, &a), -ERESTART);
    is_partial(t, tr.l4, &tr.b4, PGT_l4);
    assert_int_equal(finish_ext(t, &b), 0);
    assert_int_equal(finish_ext(t, &a), -EINVAL);      /* already pinned */
    assert_int_equal(frame(X(t), tr.l4)->type_count, 1);
    assert_int_equal(frame(X(t), tr.l4)->count, tr.b4.count + 1);
    check_inv(t);
    unpin(t, tr.l4);
    tree_free(t, &tr);
}

/* A parent's validation meets a partially validated child: it completes it
 * (whole: nested validations are not preempted) and holds it by its entry. */
static void test_parent_completes_child(void **state)
{
    struct tmachine *t = boot_window();
    struct tree tr;
    tree_build(t, &tr);
    struct mmuext_op op3 = { .cmd = MMUEXT_PIN_L3_TABLE, .mfn = tr.l3[0] };
    struct mmuext_args a3 = { &op3, 1, 0 };
    assert_int_equal(ext(t, &a3), -ERESTART);         /* after its one entry */
    is_partial(t, tr.l3[0], &tr.b3[0], PGT_l3);

    struct mmuext_op op4 = { .cmd = MMUEXT_PIN_L4_TABLE, .mfn = tr.l4 };
    struct mmuext_args a4 = { &op4, 1, 0 };
    assert_int_equal(finish_ext(t, &a4), 0);
    const struct page_info *c = frame(X(t), tr.l3[0]);
    assert_int_equal(c->flags & (PGF_partial | PGF_validated), PGF_validated);
    assert_int_equal(c->type_count, 1);                 /* the L4 entry's */
    assert_int_equal(c->count, tr.b3[0].count + 1);
    check_inv(t);

    assert_int_equal(finish_ext(t, &a3), 0);            /* the re-issued PIN_L3 */
    assert_int_equal(frame(X(t), tr.l3[0])->type_count, 2);
    check_inv(t);
    unpin(t, tr.l4);
    unpin(t, tr.l3[0]);
    tree_free(t, &tr);
}

/* ---- the partial table in the window ----------------------------------------- */

static void test_partial_table_is_untouchable(void **state)
{
    struct tmachine *t = boot_window();
    struct xen *x = X(t);
    struct tree tr;
    tree_build(t, &tr);
    struct mmuext_op op = { .cmd = MMUEXT_PIN_L4_TABLE, .mfn = tr.l4 };
    struct mmuext_args a = { &op, 1, 0 };
    assert_int_equal(ext(t, &a), -ERESTART);
    struct page_info mid = *frame(x, tr.l4);
    uint64_t e1 = pmem_read(&t->m.mem, tr.l4, 1);

    /* neither a live table (mmu_update, ptwr) nor writable memory */
    assert_int_equal(hc_mmu_update(t, tr.l4, 1, 0, NULL), -EINVAL);
    assert_int_equal(hc_mmu_update(t, tr.l4, 9, pte_make(tr.l2, PT_TABLE_FLAGS), NULL), -EINVAL);
    assert_int_not_equal(cpu_store(&t->m.cpu, tr.l4p, 1, 0), 0);
    assert_int_equal(hc_dmap(t, tr.l4p, 1), -EBUSY);
    assert_int_equal(pmem_read(&t->m.mem, tr.l4, 1), e1);
    assert_int_equal(pmem_read(&t->m.mem, tr.l4, 9), 0);
    /* nor mapped by an L1 writable; read-only is a plain general reference */
    x->restart_to_guest = 0;             /* the guest kernel's own paths, in the window */
    struct task *p = spawn_proc(t, 1, VA0, 1);
    x->restart_to_guest = 1;
    uint64_t l1 = p2m(t, table_pfn(t, p->mm, VA0, 1));
    assert_int_equal(hc_mmu_update(t, l1, 100, pte_make(tr.l4, USER_RW), NULL), -EBUSY);
    /* not pinned, so not unpinnable; not reachable by DMA */
    assert_int_equal(hc_ext(t, MMUEXT_UNPIN_TABLE, tr.l4), -EINVAL);
    uint64_t out;
    assert_int_equal(iommu_dma(&x->h->iommu, x->h->nic.id, tr.l4, 1, &out), -1);
    assert_int_equal(iommu_dma(&x->h->iommu, x->h->nic.id, tr.l4, 0, &out), -1);
    same_counts(t, tr.l4, &mid, "partial L4");
    check_inv(t);

    assert_int_equal(finish_ext(t, &a), 0);
    unpin(t, tr.l4);
    x->restart_to_guest = 0;
    do_exit(K(t), p);
    tree_free(t, &tr);
}

/* The guest breaks a child not yet validated, in the window: the resumed
 * validation fails and undoes the earlier slices too. The same when the
 * PIN is never re-issued and a base-pointer load resumes it instead. */
static void failed_resume(int by_baseptr)
{
    struct tmachine *t = boot_window();
    struct xen *x = X(t);
    struct tree tr;
    tree_build(t, &tr);
    uint64_t kbase = x->guest_table;
    struct mmuext_op op = { .cmd = MMUEXT_PIN_L4_TABLE, .mfn = tr.l4 };
    struct mmuext_args a = { &op, 1, 0 };
    assert_int_equal(ext(t, &a), -ERESTART);
    assert_int_equal(frame(x, tr.l3[0])->type_count, 1);     /* slice 1 validated L3 #0 */
    /* L3 #2, still plain memory, becomes writable in the direct map */
    assert_int_equal(hc_dmap(t, tr.l3p[NL3 - 1], 1), 0);
    check_inv(t);
    if (by_baseptr) {
        struct mmuext_op bop = { .cmd = MMUEXT_NEW_BASEPTR, .mfn = tr.l4 };
        struct mmuext_args b = { &bop, 1, 0 };
        assert_int_equal(finish_ext(t, &b), -EINVAL);
        assert_int_equal(x->guest_table, kbase);
    } else {
        assert_int_equal(finish_ext(t, &a), -EINVAL);
    }
    const struct page_info *p = frame(x, tr.l4);
    assert_false(p->flags & (PGF_partial | PGF_validated | PGF_pinned));
    assert_int_equal(p->type_count, 0);
    check_inv(t);
    if (by_baseptr)                                        /* re-issued now: fails afresh */
        assert_int_equal(finish_ext(t, &a), -EINVAL);
    assert_int_equal(hc_dmap(t, tr.l3p[NL3 - 1], 0), 0);
    tree_as_built(t, &tr);
    /* the type left is none, the IOMMU mapping gone with the writable type */
    assert_int_equal(p->type, PGT_none);
    tree_free(t, &tr);
}

static void test_failed_resume_undoes_all(void **state) { failed_resume(0); }
static void test_abandoned_pin_resumed_by_baseptr(void **state) { failed_resume(1); }

/* ---- other preempted operations ---------------------------------------------- */

/* NEW_BASEPTR itself is preemptible (Xen's new_guest_cr3). */
static void test_preempted_baseptr(void **state)
{
    struct tmachine *t = boot_window();
    struct xen *x = X(t);
    struct tree tr;
    tree_build(t, &tr);
    uint64_t kbase = x->guest_table;
    struct mmuext_op op = { .cmd = MMUEXT_NEW_BASEPTR, .mfn = tr.l4 };
    struct mmuext_args a = { &op, 1, 0 };
    assert_int_equal(ext(t, &a), -ERESTART);
    assert_int_equal(x->guest_table, kbase);
    is_partial(t, tr.l4, &tr.b4, PGT_l4);
    assert_int_equal(hc_ext(t, MMUEXT_PIN_L2_TABLE, tr.l4), -EINVAL);
    assert_int_equal(hc_ext(t, MMUEXT_UNPIN_TABLE, tr.l4), -EINVAL);
    check_inv(t);
    assert_int_equal(finish_ext(t, &a), 0);
    assert_int_equal(x->guest_table, tr.l4);
    assert_int_equal(frame(x, tr.l4)->type_count, 1);
    assert_int_equal(frame(x, tr.l4)->count, tr.b4.count + 1);
    check_inv(t);
    assert_int_equal(hc_ext(t, MMUEXT_NEW_BASEPTR, kbase), 0);
    check_inv(t);
    tree_free(t, &tr);
}

/* An L4 entry's new L3 is validated preemptibly by mmu_update (Xen's
 * get_page_from_l4e); the request is re-done, the entry written once. */
static void test_preempted_mmu_update(void **state)
{
    struct tmachine *t = boot_window();
    struct xen *x = X(t);
    struct tree tr;
    tree_build(t, &tr);
    struct mmuext_op op = { .cmd = MMUEXT_PIN_L4_TABLE, .mfn = tr.l4 };
    struct mmuext_args a = { &op, 1, 0 };
    assert_int_equal(finish_ext(t, &a), 0);
    /* a new L3 with two L2s below it */
    struct kernel *k = K(t);
    uint64_t n3p = kalloc_page(k, 0), n3 = p2m(t, n3p), n2p[2], n2[2];
    for (unsigned i = 0; i < 2; i++) {
        n2p[i] = kalloc_page(k, 0);
        n2[i] = p2m(t, n2p[i]);
        assert_int_equal(hc_mmu_update(t, n3, 20 + i, pte_make(n2[i], PT_TABLE_FLAGS), NULL), 0);
        assert_int_equal(hc_dmap(t, n2p[i], 0), 0);
    }
    assert_int_equal(hc_dmap(t, n3p, 0), 0);
    struct page_info b3 = *frame(x, n3);

    struct mmu_update u[2] = { { (tr.l4 << PAGE_SHIFT) | (100 << 3), pte_make(n3, PT_TABLE_FLAGS) },
                               { (tr.l4 << PAGE_SHIFT) | (101 << 3), 0 } };
    struct mmu_update_args ua = { u, 2, 0 };
    assert_int_equal(cpu_hypercall(&t->m.cpu, __HYPERVISOR_mmu_update, &ua), -ERESTART);
    assert_int_equal(ua.done, 0);
    assert_int_equal(pmem_read(&t->m.mem, tr.l4, 100), 0);
    is_partial(t, n3, &b3, PGT_l3);
    struct page_info mid = *frame(x, n3);
    assert_int_equal(hc_ext(t, MMUEXT_PIN_L2_TABLE, n3), -EINVAL);
    same_counts(t, n3, &mid, "partial L3");
    long rc;
    while ((rc = cpu_hypercall(&t->m.cpu, __HYPERVISOR_mmu_update, &ua)) == -ERESTART)
        check_inv(t);
    assert_int_equal(rc, 0);
    assert_int_equal(ua.done, 2);
    assert_int_equal(pmem_read(&t->m.mem, tr.l4, 100), pte_make(n3, PT_TABLE_FLAGS));
    assert_int_equal(frame(x, n3)->type_count, 1);
    assert_int_equal(frame(x, n3)->count, b3.count + 1);
    check_inv(t);

    assert_int_equal(hc_mmu_update(t, tr.l4, 100, 0, NULL), 0);
    same_counts(t, n3, &b3, "L3");
    check_inv(t);
    for (unsigned i = 0; i < 2; i++) {
        assert_int_equal(hc_dmap(t, n2p[i], 1), 0);
        assert_int_equal(hc_mmu_update(t, n3, 20 + i, 0, NULL), 0);
        page_put(k, n2p[i]);
    }
    assert_int_equal(hc_dmap(t, n3p, 1), 0);
    page_put(k, n3p);
    unpin(t, tr.l4);
    tree_free(t, &tr);
}

/* A multicall whose PIN is preempted returns with its arguments advanced to
 * that call (Xen rewrites call_list and nr_calls); the calls before it are
 * done and not repeated. */
static void test_preempted_multicall(void **state)
{
    struct tmachine *t = boot_window();
    struct tree tr;
    tree_build(t, &tr);
    uint64_t fl0 = cnt(t, CNT_tlb_flush_nonglobal);
    struct mmuext_op flush = { .cmd = MMUEXT_TLB_FLUSH_LOCAL };
    struct mmuext_args fa = { &flush, 1, 0 }, fb = { &flush, 1, 0 };
    struct mmuext_op pin = { .cmd = MMUEXT_PIN_L4_TABLE, .mfn = tr.l4 };
    struct mmuext_args pa = { &pin, 1, 0 };
    struct multicall_entry mc[3] = {
        { __HYPERVISOR_mmuext_op, &fa, 99 },
        { __HYPERVISOR_mmuext_op, &pa, 99 },
        { __HYPERVISOR_mmuext_op, &fb, 99 },
    };
    struct multicall_args m = { mc, 3 };
    assert_int_equal(cpu_hypercall(&t->m.cpu, __HYPERVISOR_multicall, &m), -ERESTART);
    assert_ptr_equal(m.call, &mc[1]);
    assert_int_equal(m.count, 2);
    assert_int_equal(mc[0].result, 0);
    assert_int_equal(cnt(t, CNT_tlb_flush_nonglobal), fl0 + 1);
    is_partial(t, tr.l4, &tr.b4, PGT_l4);
    assert_int_equal(hc_ext(t, MMUEXT_PIN_L1_TABLE, tr.l4), -EINVAL);
    long rc;
    while ((rc = cpu_hypercall(&t->m.cpu, __HYPERVISOR_multicall, &m)) == -ERESTART)
        check_inv(t);
    assert_int_equal(rc, 0);
    assert_int_equal(mc[1].result, 0);
    assert_int_equal(mc[2].result, 0);
    assert_int_equal(cnt(t, CNT_tlb_flush_nonglobal), fl0 + 2);
    assert_true(frame(X(t), tr.l4)->flags & PGF_pinned);
    check_inv(t);
    unpin(t, tr.l4);
    tree_free(t, &tr);
}

/* Without the hook nothing reaches the guest: the same PIN ends in one call. */
static void test_without_window(void **state)
{
    struct tmachine *t = boot("pv", "xen.preempt_entries=1");
    struct tree tr;
    tree_build(t, &tr);
    uint64_t c0 = X(t)->continuations;
    assert_int_equal(hc_ext(t, MMUEXT_PIN_L4_TABLE, tr.l4), 0);
    assert_int_equal(X(t)->continuations - c0, NL3);
    check_inv(t);
    unpin(t, tr.l4);
    tree_free(t, &tr);
}

int main(void)
{
    mv_error_quiet(1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refused_pin_of_another_type),
        cmocka_unit_test(test_new_baseptr_completes),
        cmocka_unit_test(test_new_user_baseptr_completes),
        cmocka_unit_test(test_cr3_write_completes),
        cmocka_unit_test(test_second_pin_completes),
        cmocka_unit_test(test_parent_completes_child),
        cmocka_unit_test(test_partial_table_is_untouchable),
        cmocka_unit_test(test_failed_resume_undoes_all),
        cmocka_unit_test(test_abandoned_pin_resumed_by_baseptr),
        cmocka_unit_test(test_preempted_baseptr),
        cmocka_unit_test(test_preempted_mmu_update),
        cmocka_unit_test(test_preempted_multicall),
        cmocka_unit_test(test_without_window),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_pv_hypercalls.c: the semantics of the Xen PV MMU hypercalls as the
 * model implements them (xen/arch/x86/mm.c; docs/research/xen-linux-vtd-notes.md
 * §A): pinning and the type/IOMMU coupling per profile, the references a
 * validation takes, preemptible validation with continuations, mmu_update on
 * live and non-live pages, ptwr emulation, update_va_mapping flushes,
 * multicalls, NEW_BASEPTR, and the determinism of whole pv runs. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>

#include "sim/engine.h"
#include "testutil_pv.h"

/* ---- helpers (the shared ones: testutil_pv.h) ------------------------------ */

static long hc_mmu(struct tmachine *t, uint64_t table_mfn, unsigned idx, uint64_t val)
{
    return hc_mmu_update(t, table_mfn, idx, val, NULL);
}

static int io_mapped_rw(struct tmachine *t, uint64_t mfn)
{
    int w;
    return io_mapped(t, mfn, &w) && w;
}

static int io_absent(struct tmachine *t, uint64_t mfn)
{
    uint64_t io_mfn;
    int w;
    return vtd_lookup(&X(t)->dom->vtd, mfn, &io_mfn, &w) != 0;
}

/* ---- pinning a new L1, and the IOMMU per profile ----------------------------- */

static void pin_new_l1(const char *profile, uint64_t map_psi)
{
    struct tmachine *t = boot("pv", profile);
    struct xen *x = X(t);
    uint64_t pfn = kalloc_page(K(t), 0), mfn = p2m(t, pfn);
    const struct page_info *p = frame(x, mfn);
    assert_int_equal(p->type, PGT_writable);
    assert_int_equal(p->type_count, 1);                     /* the direct map */
    assert_true(io_mapped_rw(t, mfn));
    uint32_t count0 = p->count;

    /* pinning a page the direct map still maps writable is refused */
    assert_int_equal(hc_ext(t, MMUEXT_PIN_L1_TABLE, mfn), -EINVAL);
    assert_int_equal(p->type, PGT_writable);
    assert_int_equal(p->count, count0);

    assert_int_equal(hc_dmap(t, pfn, 0), 0);
    assert_int_equal(p->type, PGT_writable);                /* count 0, still mapped */
    assert_int_equal(p->type_count, 0);
    assert_true(io_mapped_rw(t, mfn));

    uint64_t psi0 = cnt(t, CNT_iotlb_inv_psi);
    assert_int_equal(hc_ext(t, MMUEXT_PIN_L1_TABLE, mfn), 0);
    assert_int_equal(p->type, PGT_l1);
    assert_int_equal(p->type_count, 1);
    assert_true(p->flags & PGF_validated);
    assert_true(p->flags & PGF_pinned);
    assert_int_equal(p->count, count0 + 1);                 /* the pin holds a reference */
    assert_true(io_absent(t, mfn));
    assert_int_equal(cnt(t, CNT_iotlb_inv_psi), psi0 + 1);  /* the unmap: one PSI */
    check_inv(t);

    assert_int_equal(hc_ext(t, MMUEXT_UNPIN_TABLE, mfn), 0);
    assert_int_equal(p->type_count, 0);
    assert_false(p->flags & (PGF_pinned | PGF_validated));
    assert_int_equal(p->count, count0);
    assert_true(io_absent(t, mfn));                         /* still typed L1 */
    check_inv(t);

    uint64_t psi1 = cnt(t, CNT_iotlb_inv_psi);
    assert_int_equal(hc_dmap(t, pfn, 1), 0);
    assert_int_equal(p->type, PGT_writable);
    assert_int_equal(p->type_count, 1);
    assert_true(p->flags & PGF_validated);
    assert_true(io_mapped_rw(t, mfn));
    assert_int_equal(cnt(t, CNT_iotlb_inv_psi), psi1 + map_psi);
    check_inv(t);
    page_put(K(t), pfn);
    finish(t, NULL, 0);
}

static void test_pin_l1_xen42(void **state) { pin_new_l1("xen.iommu_profile=xen-4.2", 1); }
static void test_pin_l1_xen417(void **state) { pin_new_l1("xen.iommu_profile=xen-4.17", 0); }

/* ---- validation takes references --------------------------------------------- */

#define NDATA 4

static void test_validation_takes_refs(void **state)
{
    struct tmachine *t = boot("pv", NULL);
    struct xen *x = X(t);
    uint64_t tp = kalloc_page(K(t), 0), tm = p2m(t, tp);
    uint64_t dp[NDATA + 1], dm[NDATA + 1];
    struct page_info before[NDATA + 1];
    for (unsigned i = 0; i <= NDATA; i++) {
        dp[i] = kalloc_page(K(t), 0);
        dm[i] = p2m(t, dp[i]);
    }
    /* NDATA writable entries and one read-only, written while the page is plain memory */
    for (unsigned i = 0; i < NDATA; i++)
        assert_int_equal(hc_mmu(t, tm, 10 * i, pte_make(dm[i], USER_RW)), 0);
    assert_int_equal(hc_mmu(t, tm, 100, pte_make(dm[NDATA], USER_RO)), 0);
    for (unsigned i = 0; i <= NDATA; i++)
        before[i] = *frame(x, dm[i]);

    assert_int_equal(hc_dmap(t, tp, 0), 0);
    assert_int_equal(hc_ext(t, MMUEXT_PIN_L1_TABLE, tm), 0);
    for (unsigned i = 0; i < NDATA; i++) {
        assert_int_equal(frame(x, dm[i])->type, PGT_writable);
        assert_int_equal(frame(x, dm[i])->type_count, before[i].type_count + 1);
        assert_int_equal(frame(x, dm[i])->count, before[i].count + 1);
    }
    assert_int_equal(frame(x, dm[NDATA])->type_count, before[NDATA].type_count);
    assert_int_equal(frame(x, dm[NDATA])->count, before[NDATA].count + 1);
    check_inv(t);

    /* a data page mapped by the live table cannot become a table itself */
    assert_int_equal(hc_dmap(t, dp[0], 0), 0);
    assert_int_equal(hc_ext(t, MMUEXT_PIN_L1_TABLE, dm[0]), -EINVAL);
    assert_int_equal(hc_dmap(t, dp[0], 1), 0);

    assert_int_equal(hc_ext(t, MMUEXT_UNPIN_TABLE, tm), 0);
    for (unsigned i = 0; i <= NDATA; i++) {
        assert_int_equal(frame(x, dm[i])->type_count, before[i].type_count);
        assert_int_equal(frame(x, dm[i])->count, before[i].count);
    }
    check_inv(t);

    assert_int_equal(hc_dmap(t, tp, 1), 0);
    for (unsigned i = 0; i < NDATA; i++)
        assert_int_equal(hc_mmu(t, tm, 10 * i, 0), 0);
    assert_int_equal(hc_mmu(t, tm, 100, 0), 0);
    for (unsigned i = 0; i <= NDATA; i++)
        page_put(K(t), dp[i]);
    page_put(K(t), tp);
    finish(t, NULL, 0);
}

/* ---- preemptible validation --------------------------------------------------- */

struct l4_result {
    long rc;
    uint64_t continuations, exits, hypercalls;
    struct page_info l4, l3[3], l2, kl3[2];
    uint32_t kl3_delta[2];
};

/* Build an L4 (read-only, unpinned) with three new user L3s (the first with
 * an L2 below it) and the two shared kernel slots: 5 present entries; pin it
 * through the hypercall path; record the result; undo everything. */
static void pin_tree(const char *preempt, struct l4_result *r)
{
    struct tmachine *t = boot("pv", preempt);
    struct xen *x = X(t);
    struct kernel *k = K(t);
    uint64_t l4p = kalloc_page(k, 0), l2p = kalloc_page(k, 0), l3p[3];
    for (unsigned i = 0; i < 3; i++)
        l3p[i] = kalloc_page(k, 0);
    uint64_t l4 = p2m(t, l4p), l2 = p2m(t, l2p), l3[3], kl3[2];
    for (unsigned i = 0; i < 3; i++) {
        l3[i] = p2m(t, l3p[i]);
        assert_int_equal(hc_mmu(t, l4, i, pte_make(l3[i], PT_TABLE_FLAGS)), 0);
        assert_int_equal(hc_dmap(t, l3p[i], 0), 0);
    }
    assert_int_equal(hc_mmu(t, l3[0], 7, pte_make(l2, PT_TABLE_FLAGS)), 0);
    assert_int_equal(hc_dmap(t, l2p, 0), 0);
    uint32_t kl3_before[2];
    for (unsigned i = 0; i < 2; i++) {
        pte_t e = kread_entry(k, k->init_mm.pgd, 256 + i);
        assert_true(pte_present(e));
        kl3[i] = pte_frame(e);
        kl3_before[i] = frame(x, kl3[i])->type_count;
        assert_int_equal(hc_mmu(t, l4, 256 + i, e), 0);
    }
    assert_int_equal(hc_dmap(t, l4p, 0), 0);

    uint64_t c0 = x->continuations, e0 = cnt(t, CNT_vm_exits), h0 = cnt(t, CNT_hypercalls);
    r->rc = hc_ext(t, MMUEXT_PIN_L4_TABLE, l4);
    r->continuations = x->continuations - c0;
    r->exits = cnt(t, CNT_vm_exits) - e0;
    r->hypercalls = cnt(t, CNT_hypercalls) - h0;
    r->l4 = *frame(x, l4);
    for (unsigned i = 0; i < 3; i++)
        r->l3[i] = *frame(x, l3[i]);
    r->l2 = *frame(x, l2);
    for (unsigned i = 0; i < 2; i++) {
        r->kl3[i] = *frame(x, kl3[i]);
        r->kl3_delta[i] = frame(x, kl3[i])->type_count - kl3_before[i];
    }
    check_inv(t);

    /* undo: unpin (the whole tree is devalidated), make it all plain memory */
    assert_int_equal(hc_ext(t, MMUEXT_UNPIN_TABLE, l4), 0);
    for (unsigned i = 0; i < 2; i++)
        assert_int_equal(frame(x, kl3[i])->type_count, kl3_before[i]);
    assert_int_equal(frame(x, l2)->type_count, 0);
    for (unsigned i = 0; i < 3; i++)
        assert_int_equal(frame(x, l3[i])->type_count, 0);
    assert_int_equal(hc_dmap(t, l4p, 1), 0);
    assert_int_equal(hc_dmap(t, l2p, 1), 0);
    for (unsigned i = 0; i < 3; i++)
        assert_int_equal(hc_dmap(t, l3p[i], 1), 0);
    for (unsigned i = 0; i < 3; i++)
        assert_int_equal(hc_mmu(t, l4, i, 0), 0);
    for (unsigned i = 0; i < 2; i++)
        assert_int_equal(hc_mmu(t, l4, 256 + i, 0), 0);
    assert_int_equal(hc_mmu(t, l3[0], 7, 0), 0);
    page_put(k, l4p);
    page_put(k, l2p);
    for (unsigned i = 0; i < 3; i++)
        page_put(k, l3p[i]);
    finish(t, NULL, 0);
}

static void same_pi(const struct page_info *a, const struct page_info *b)
{
    assert_int_equal(a->type, b->type);
    assert_int_equal(a->type_count, b->type_count);
    assert_int_equal(a->count, b->count);
    assert_int_equal(a->flags, b->flags);
    assert_int_equal(a->nr_validated, b->nr_validated);
}

static void test_preempted_pin(void **state)
{
    struct l4_result pre, whole;
    pin_tree("xen.preempt_entries=2", &pre);
    pin_tree("xen.preempt_entries=0", &whole);

    assert_int_equal(pre.rc, 0);
    assert_int_equal(whole.rc, 0);
    /* 5 present entries, 2 per slice: two continuations, each a transition */
    assert_int_equal(pre.continuations, 2);
    assert_int_equal(pre.exits, 3);
    assert_int_equal(pre.hypercalls, 1);
    assert_int_equal(whole.continuations, 0);
    assert_int_equal(whole.exits, 1);

    assert_int_equal(pre.l4.type, PGT_l4);
    assert_int_equal(pre.l4.type_count, 1);
    assert_int_equal(pre.l4.flags & (PGF_validated | PGF_pinned | PGF_partial), PGF_validated | PGF_pinned);
    assert_int_equal(pre.l2.type, PGT_l2);
    assert_int_equal(pre.l2.type_count, 1);
    for (unsigned i = 0; i < 3; i++) {
        assert_int_equal(pre.l3[i].type, PGT_l3);
        assert_int_equal(pre.l3[i].type_count, 1);
        assert_true(pre.l3[i].flags & PGF_validated);
    }
    for (unsigned i = 0; i < 2; i++) {
        assert_int_equal(pre.kl3_delta[i], 1);
        assert_int_equal(whole.kl3_delta[i], 1);
    }
    same_pi(&pre.l4, &whole.l4);
    same_pi(&pre.l2, &whole.l2);
    for (unsigned i = 0; i < 3; i++)
        same_pi(&pre.l3[i], &whole.l3[i]);
    for (unsigned i = 0; i < 2; i++)
        same_pi(&pre.kl3[i], &whole.kl3[i]);
}

/* The preempted state itself, seen from inside (do_mmuext_op, one slice at a
 * time), and a failure in a later slice undoing the earlier slices. */
static void test_preempted_pin_slices(void **state)
{
    struct tmachine *t = boot("pv", "xen.preempt_entries=1");
    struct xen *x = X(t);
    struct kernel *k = K(t);
    uint64_t l4p = kalloc_page(k, 0), l4 = p2m(t, l4p), l3p[3], l3[3];
    for (unsigned i = 0; i < 3; i++) {
        l3p[i] = kalloc_page(k, 0);
        l3[i] = p2m(t, l3p[i]);
        assert_int_equal(hc_mmu(t, l4, 10 + i, pte_make(l3[i], PT_TABLE_FLAGS)), 0);
        assert_int_equal(hc_dmap(t, l3p[i], 0), 0);
    }
    /* the third L3 is still mapped writable by the direct map: entry 12 is bad */
    assert_int_equal(hc_dmap(t, l3p[2], 1), 0);
    assert_int_equal(hc_dmap(t, l4p, 0), 0);
    uint32_t count0 = frame(x, l4)->count;

    struct mmuext_op op = { .cmd = MMUEXT_PIN_L4_TABLE, .mfn = l4 };
    struct mmuext_args a = { &op, 1, 0 };
    assert_int_equal(do_mmuext_op(x, &a), -ERESTART);
    assert_int_equal(a.done, 0);
    assert_true(frame(x, l4)->flags & PGF_partial);
    assert_false(frame(x, l4)->flags & PGF_validated);
    assert_int_equal(frame(x, l4)->nr_validated, 11);
    assert_int_equal(frame(x, l3[0])->type, PGT_l3);
    assert_int_equal(frame(x, l3[0])->type_count, 1);
    assert_int_equal(frame(x, l3[1])->type_count, 0);
    /* while partial, the L4 is neither writable nor a live table */
    assert_int_equal(hc_mmu(t, l4, 20, 0), -EINVAL);
    assert_int_equal(do_mmuext_op(x, &a), -ERESTART);
    assert_int_equal(frame(x, l3[1])->type_count, 1);
    assert_int_equal(do_mmuext_op(x, &a), -EINVAL);         /* L3 #2 is mapped writable */
    /* everything undone: no partial state, no references left behind */
    assert_false(frame(x, l4)->flags & (PGF_partial | PGF_validated | PGF_pinned));
    assert_int_equal(frame(x, l4)->type_count, 0);
    assert_int_equal(frame(x, l4)->count, count0);
    for (unsigned i = 0; i < 2; i++)
        assert_int_equal(frame(x, l3[i])->type_count, 0);
    check_inv(t);

    assert_int_equal(hc_dmap(t, l4p, 1), 0);
    for (unsigned i = 0; i < 3; i++) {
        assert_int_equal(hc_mmu(t, l4, 10 + i, 0), 0);
        if (i < 2)
            assert_int_equal(hc_dmap(t, l3p[i], 1), 0);
        page_put(k, l3p[i]);
    }
    page_put(k, l4p);
    finish(t, NULL, 0);
}

/* ---- mmu_update on live and non-live pages -------------------------------------- */

static void test_mmu_update_live_vs_plain(void **state)
{
    struct tmachine *t = boot("pv", NULL);
    struct xen *x = X(t);
    struct task *p = spawn_proc(t, 1, VA0, NPAGES);
    uint64_t dp = kalloc_page(K(t), 0), d = p2m(t, dp);

    /* a page that is no live table: anything may be written, nothing validated */
    uint64_t pp = kalloc_page(K(t), 0), pm = p2m(t, pp), heap = hv_heap_free_frame(x->h, 0);
    struct page_info hb = *frame(x, heap), db = *frame(x, d);
    pte_t junk = pte_make(heap, _PAGE_PRESENT | _PAGE_RW | _PAGE_PCD);
    assert_int_equal(hc_mmu(t, pm, 9, junk), 0);
    assert_int_equal(pmem_read(&t->m.mem, pm, 9), junk);
    assert_int_equal(hc_mmu(t, pm, 10, pte_make(d, USER_RW)), 0);
    assert_int_equal(frame(x, heap)->count, hb.count);
    assert_int_equal(frame(x, d)->type_count, db.type_count);
    assert_int_equal(frame(x, d)->count, db.count);
    assert_int_equal(frame(x, pm)->type, PGT_writable);
    assert_int_equal(frame(x, pm)->type_count, 1);          /* the write's reference is gone */
    check_inv(t);

    /* a live L1: validated, refused with the memory unchanged */
    uint64_t l1 = p2m(t, table_pfn(t, p->mm, VA0, 1));
    unsigned idx = 200;
    assert_int_equal(pmem_read(&t->m.mem, l1, idx), 0);
    /* (which flags an entry may have, as in Xen: test_pv_hostile.c) */
    assert_int_equal(hc_mmu(t, l1, idx, pte_make(x->nframes + 1, USER_RW)), -EPERM);
    assert_int_equal(pmem_read(&t->m.mem, l1, idx), 0);
    assert_int_equal(frame(x, d)->type_count, db.type_count);
    assert_int_equal(frame(x, d)->count, db.count);
    /* a good entry lands and takes its references */
    assert_int_equal(hc_mmu(t, l1, idx, pte_make(d, USER_RW)), 0);
    assert_int_equal(pmem_read(&t->m.mem, l1, idx), pte_make(d, USER_RW));
    assert_int_equal(frame(x, d)->type_count, db.type_count + 1);
    assert_int_equal(frame(x, d)->count, db.count + 1);
    assert_int_equal(hc_mmu(t, l1, idx, pte_make(d, USER_RW | _PAGE_AVAIL0)), 0);
    assert_int_equal(frame(x, d)->type_count, db.type_count + 1);
    /* downgrade to read-only drops the type reference only */
    assert_int_equal(hc_mmu(t, l1, idx, pte_make(d, USER_RO)), 0);
    assert_int_equal(frame(x, d)->type_count, db.type_count);
    assert_int_equal(frame(x, d)->count, db.count + 1);
    check_inv(t);
    assert_int_equal(hc_mmu(t, l1, idx, 0), 0);
    assert_int_equal(frame(x, d)->count, db.count);
    /* an unknown command is refused */
    struct mmu_update u = { (l1 << PAGE_SHIFT) | (idx << 3) | 2, pte_make(d, USER_RO) };
    struct mmu_update_args ua = { &u, 1, 0 };
    assert_int_equal(cpu_hypercall(&t->m.cpu, __HYPERVISOR_mmu_update, &ua), -ENOSYS);
    assert_int_equal(pmem_read(&t->m.mem, l1, idx), 0);

    /* a batch stops at the first failure and reports what was done */
    struct mmu_update b3[3] = {
        { (l1 << PAGE_SHIFT) | (201 << 3), pte_make(d, USER_RO) },
        { (l1 << PAGE_SHIFT) | (202 << 3), pte_make(heap, USER_RO) },
        { (l1 << PAGE_SHIFT) | (203 << 3), pte_make(d, USER_RO) },
    };
    struct mmu_update_args ba = { b3, 3, 0 };
    assert_int_equal(cpu_hypercall(&t->m.cpu, __HYPERVISOR_mmu_update, &ba), -EBUSY);
    assert_int_equal(ba.done, 1);
    assert_int_equal(pmem_read(&t->m.mem, l1, 201), pte_make(d, USER_RO));
    assert_int_equal(pmem_read(&t->m.mem, l1, 202), 0);
    assert_int_equal(pmem_read(&t->m.mem, l1, 203), 0);
    assert_int_equal(hc_mmu(t, l1, 201, 0), 0);
    check_inv(t);

    assert_int_equal(hc_mmu(t, pm, 9, 0), 0);
    assert_int_equal(hc_mmu(t, pm, 10, 0), 0);
    page_put(K(t), pp);
    page_put(K(t), dp);
    finish(t, &p, 1);
}

/* ---- ptwr: a guest store into its read-only L1 ----------------------------------- */

static void test_ptwr_emulation(void **state)
{
    struct tmachine *t = boot("pv", NULL);
    struct xen *x = X(t);
    struct task *p = spawn_proc(t, 1, VA0, NPAGES);
    uint64_t l1p = table_pfn(t, p->mm, VA0, 1), l1 = p2m(t, l1p);
    uint64_t dp = kalloc_page(K(t), 0), d = p2m(t, dp);
    struct page_info db = *frame(x, d);
    unsigned idx = 300;

    uint64_t e0 = cnt(t, CNT_vm_exits);
    assert_int_equal(cpu_store(&t->m.cpu, l1p, idx, pte_make(d, USER_RW)), 0);
    assert_int_equal(cnt(t, CNT_vm_exits), e0 + 1);
    assert_int_equal(pmem_read(&t->m.mem, l1, idx), pte_make(d, USER_RW));
    assert_int_equal(frame(x, d)->type_count, db.type_count + 1);
    assert_int_equal(frame(x, d)->count, db.count + 1);
    check_inv(t);

    /* a foreign frame: refused, memory unchanged */
    e0 = cnt(t, CNT_vm_exits);
    assert_int_not_equal(cpu_store(&t->m.cpu, l1p, idx, pte_make(hv_heap_free_frame(x->h, 0), USER_RO)), 0);
    assert_int_equal(cnt(t, CNT_vm_exits), e0 + 1);
    assert_int_equal(pmem_read(&t->m.mem, l1, idx), pte_make(d, USER_RW));
    /* a frame beyond memory: refused */
    assert_int_not_equal(cpu_store(&t->m.cpu, l1p, idx + 1, pte_make(x->nframes + 3, USER_RO)), 0);
    assert_int_equal(pmem_read(&t->m.mem, l1, idx + 1), 0);
    /* only L1s are emulated: a store into the read-only L2 faults */
    uint64_t l2p = table_pfn(t, p->mm, VA0, 2), l2 = p2m(t, l2p);
    assert_int_equal(cpu_store(&t->m.cpu, l2p, 100, 0x1234000 | _PAGE_PRESENT), -EFAULT);
    assert_int_equal(pmem_read(&t->m.mem, l2, 100), 0);
    /* a store to writable memory does not trap */
    e0 = cnt(t, CNT_vm_exits);
    assert_int_equal(cpu_store(&t->m.cpu, dp, 5, 42), 0);
    assert_int_equal(cnt(t, CNT_vm_exits), e0);
    assert_int_equal(pmem_read(&t->m.mem, d, 5), 42);
    check_inv(t);

    assert_int_equal(cpu_store(&t->m.cpu, l1p, idx, 0), 0);
    assert_int_equal(frame(x, d)->type_count, db.type_count);
    assert_int_equal(frame(x, d)->count, db.count);
    assert_int_equal(cpu_store(&t->m.cpu, dp, 5, 0), 0);
    page_put(K(t), dp);
    finish(t, &p, 1);
}

/* ---- update_va_mapping on a user address ------------------------------------------ */

static void test_update_va_mapping_user(void **state)
{
    struct tmachine *t = boot("pv", NULL);
    struct xen *x = X(t);
    struct task *p = spawn_proc(t, 1, VA0, NPAGES - 1);    /* the last page stays unmapped */
    uint64_t va = VA0 + (NPAGES - 1) * PAGE_SIZE;
    uint64_t l1 = p2m(t, table_pfn(t, p->mm, va, 1));
    unsigned idx = pt_index(va, 1);
    assert_int_equal(pmem_read(&t->m.mem, l1, idx), 0);
    uint64_t dp = kalloc_page(K(t), 0), d = p2m(t, dp), got;
    struct page_info db = *frame(x, d);

    uint64_t pg0 = cnt(t, CNT_tlb_flush_page), ng0 = cnt(t, CNT_tlb_flush_nonglobal);
    assert_int_equal(hc_uva(t, va, pte_make(d, USER_RW), UVMF_INVLPG), 0);
    assert_int_equal(pmem_read(&t->m.mem, l1, idx), pte_make(d, USER_RW));
    assert_int_equal(cnt(t, CNT_tlb_flush_page), pg0 + 1);
    assert_int_equal(cnt(t, CNT_tlb_flush_nonglobal), ng0);
    assert_int_equal(frame(x, d)->type_count, db.type_count + 1);
    check_inv(t);
    /* the mapping is live for the CPU */
    assert_int_equal(cpu_access(&t->m.cpu, va, ACC_WRITE, &got), 0);
    assert_int_equal(got, d);

    /* refused updates do not flush */
    pg0 = cnt(t, CNT_tlb_flush_page);
    assert_int_equal(hc_uva(t, va, pte_make(hv_heap_free_frame(x->h, 0), USER_RO), UVMF_INVLPG), -EBUSY);
    assert_int_equal(hc_uva(t, 0x7f0000000000ull, pte_make(d, USER_RO), UVMF_INVLPG), -EINVAL);  /* no L1 */
    assert_int_equal(hc_uva(t, USER_VA_END, pte_make(d, USER_RO), UVMF_INVLPG), -EINVAL);
    assert_int_equal(cnt(t, CNT_tlb_flush_page), pg0);
    assert_int_equal(pmem_read(&t->m.mem, l1, idx), pte_make(d, USER_RW));

    /* clearing it with a full flush: the CPU no longer reaches the page */
    ng0 = cnt(t, CNT_tlb_flush_nonglobal);
    assert_int_equal(hc_uva(t, va, 0, UVMF_TLB_FLUSH), 0);
    assert_true(cnt(t, CNT_tlb_flush_nonglobal) > ng0);
    assert_int_equal(pmem_read(&t->m.mem, l1, idx), 0);
    assert_int_not_equal(cpu_access(&t->m.cpu, va, ACC_READ, &got), 0);
    assert_int_equal(frame(x, d)->type_count, db.type_count);
    assert_int_equal(frame(x, d)->count, db.count);
    page_put(K(t), dp);
    finish(t, &p, 1);
}

/* ---- multicall ---------------------------------------------------------------------- */

static void test_multicall(void **state)
{
    struct tmachine *t = boot("pv", NULL);
    struct xen *x = X(t);
    uint64_t ap = kalloc_page(K(t), 0), am = p2m(t, ap);
    uint64_t bp = kalloc_page(K(t), 0), bm = p2m(t, bp);

    struct mmu_update u = { (am << PAGE_SHIFT) | (3 << 3), 0x5000 };
    struct mmu_update_args ua = { &u, 1, 0 };
    struct update_va_mapping_args va = { DIRECTMAP_BASE + (bp << PAGE_SHIFT), pte_make(bm, PAGE_KERNEL_RO), 0 };
    struct mmuext_op ops[2] = { { .cmd = MMUEXT_PIN_L1_TABLE, .mfn = bm }, { .cmd = MMUEXT_TLB_FLUSH_LOCAL } };
    struct mmuext_args ea = { ops, 2, 0 };
    struct mmuext_op bad = { .cmd = MMUEXT_UNPIN_TABLE, .mfn = am };   /* not pinned */
    struct mmuext_args ba = { &bad, 1, 0 };
    struct multicall_args nested = { NULL, 0 };
    struct multicall_entry mc[5] = {
        { __HYPERVISOR_mmu_update, &ua, 99 },
        { __HYPERVISOR_update_va_mapping, &va, 99 },
        { __HYPERVISOR_mmuext_op, &ea, 99 },
        { __HYPERVISOR_mmuext_op, &ba, 99 },
        { __HYPERVISOR_multicall, &nested, 99 },
    };
    struct multicall_args m = { mc, 5 };
    uint64_t e0 = cnt(t, CNT_vm_exits), h0 = cnt(t, CNT_hypercalls);
    assert_int_equal(cpu_hypercall(&t->m.cpu, __HYPERVISOR_multicall, &m), 0);
    assert_int_equal(cnt(t, CNT_vm_exits), e0 + 1);
    assert_int_equal(cnt(t, CNT_hypercalls), h0 + 1);
    assert_int_equal(mc[0].result, 0);
    assert_int_equal(mc[1].result, 0);
    assert_int_equal(mc[2].result, 0);
    assert_int_equal(mc[3].result, -EINVAL);
    assert_int_equal(mc[4].result, -EINVAL);                /* no nesting */
    assert_int_equal(ea.done, 2);
    assert_int_equal(ba.done, 0);
    /* the effects of the good entries happened, in order */
    assert_int_equal(pmem_read(&t->m.mem, am, 3), 0x5000);
    assert_false(frame(x, bm)->flags & PGF_dmap_rw);
    assert_int_equal(frame(x, bm)->type, PGT_l1);
    assert_true(frame(x, bm)->flags & PGF_pinned);
    check_inv(t);

    assert_int_equal(hc_ext(t, MMUEXT_UNPIN_TABLE, bm), 0);
    assert_int_equal(hc_dmap(t, bp, 1), 0);
    assert_int_equal(hc_mmu(t, am, 3, 0), 0);
    page_put(K(t), ap);
    page_put(K(t), bp);
    finish(t, NULL, 0);
}

/* ---- NEW_BASEPTR ---------------------------------------------------------------------- */

static long baseptr(struct tmachine *t, uint64_t kernel, uint64_t user)
{
    struct mmuext_op ops[2] = { { .cmd = MMUEXT_NEW_BASEPTR, .mfn = kernel },
                                { .cmd = MMUEXT_NEW_USER_BASEPTR, .mfn = user } };
    struct mmuext_args a = { ops, 2, 0 };
    return cpu_hypercall(&t->m.cpu, __HYPERVISOR_mmuext_op, &a);
}

static void test_new_baseptr(void **state)
{
    struct tmachine *t = boot("pv", NULL);
    struct xen *x = X(t);
    struct kernel *k = K(t);
    struct task *p = spawn_proc(t, 1, VA0, 1);
    uint64_t pgd = p2m(t, p->mm->pgd), upgd = p2m(t, p->mm->user_pgd), ipgd = p2m(t, k->init_mm.pgd);
    assert_int_equal(x->guest_table, pgd);
    assert_int_equal(x->guest_table_user, upgd);
    assert_int_equal(t->m.cpu.hw_root, upgd);
    uint64_t l1 = p2m(t, table_pfn(t, p->mm, VA0, 1));

    /* an unvalidated page that is no L4: its entry maps a writable data page */
    uint64_t fp = kalloc_page(k, 0), f = p2m(t, fp), dp = kalloc_page(k, 0);
    assert_int_equal(hc_mmu(t, f, 0, pte_make(p2m(t, dp), PT_TABLE_FLAGS)), 0);
    assert_int_equal(hc_dmap(t, fp, 0), 0);
    uint64_t bad[] = { f, l1, p2m(t, dp), hv_heap_free_frame(x->h, 0), 0 };
    for (unsigned i = 0; i < 5; i++) {
        uint32_t tc = bad[i] ? frame(x, bad[i])->type_count : 0;
        assert_int_equal(hc_ext(t, MMUEXT_NEW_BASEPTR, bad[i]), -EINVAL);
        assert_int_equal(x->guest_table, pgd);
        assert_int_equal(t->m.cpu.hw_root, upgd);
        if (bad[i])
            assert_int_equal(frame(x, bad[i])->type_count, tc);
    }
    assert_false(frame(x, f)->flags & PGF_validated);
    assert_int_not_equal(frame(x, f)->type, PGT_l4);
    check_inv(t);

    /* a pinned L4: switches, takes a reference, drops the old ones */
    uint32_t tc_i = frame(x, ipgd)->type_count, tc_p = frame(x, pgd)->type_count, tc_u = frame(x, upgd)->type_count;
    assert_int_equal(baseptr(t, ipgd, 0), 0);
    assert_int_equal(x->guest_table, ipgd);
    assert_int_equal(x->guest_table_user, 0);
    assert_int_equal(t->m.cpu.hw_root, ipgd);
    assert_int_equal(t->m.cpu.cr3, k->init_mm.pgd);
    assert_int_equal(frame(x, ipgd)->type_count, tc_i + 1);
    assert_int_equal(frame(x, pgd)->type_count, tc_p - 1);
    assert_int_equal(frame(x, upgd)->type_count, tc_u - 1);
    check_inv(t);
    assert_int_equal(baseptr(t, pgd, upgd), 0);
    assert_int_equal(t->m.cpu.hw_root, upgd);
    assert_int_equal(frame(x, ipgd)->type_count, tc_i);
    assert_int_equal(frame(x, pgd)->type_count, tc_p);
    assert_int_equal(frame(x, upgd)->type_count, tc_u);

    assert_int_equal(hc_mmu(t, f, 0, 0), 0);
    assert_int_equal(hc_dmap(t, fp, 1), 0);
    page_put(k, fp);
    page_put(k, dp);
    finish(t, &p, 1);
}

/* ---- the IOMMU's 1:1 map costs memory only where it changes ------------------------------ */

/* A 64 GiB guest: every guest frame is mapped in the IOMMU, but the L1 I/O
 * tables of extents no page-table change touched stay linear frames (no
 * backing), and the invariant that every writable frame is mapped 1:1
 * still holds, checked through the tables. */
static void test_big_guest_io_tables_lazy(void **state)
{
    struct tmachine *t = boot("pv", "guest.ram_mb=65536");
    const struct domain *d = X(t)->dom;
    uint64_t ext = d->nr_pages >> P2M_EXTENT_SHIFT;
    assert_int_equal(ext, 32768);
    assert_true(d->vtd.mapped <= d->nr_pages && d->vtd.mapped + 256 > d->nr_pages);  /* tables unmapped */
    assert_true(t->m.mem.linear + 256 > ext);       /* a few extents hold page tables */
    assert_true(t->m.mem.backed < 1024);
    uint64_t mfn;
    int w;
    uint64_t pfn = d->nr_pages - 1;
    assert_int_equal(vtd_lookup(&d->vtd, p2m(t, pfn), &mfn, &w), 0);
    assert_int_equal(mfn, p2m(t, pfn));
    assert_int_equal(w, 1);
    check_inv(t);
    assert_int_equal(tm_destroy(t), 0);
}

/* ---- determinism of whole pv runs -------------------------------------------------------- */

static void run_forkstorm(struct run_result *r)
{
    struct sim_config cfg;
    assert_int_equal(config_init(&cfg, "forkstorm"), 0);
    cfg.check = 1;
    cfg.quiet = 1;
    cfg.seed = 7;
    assert_int_equal(config_param(&cfg, "forkstorm.minutes=0.5"), 0);
    assert_int_equal(config_param(&cfg, "guest.ram_mb=256"), 0);
    assert_int_equal(config_validate(&cfg), 0);
    int rc = engine_run(&cfg, mode_find("pv"), r);
    config_free(&cfg);
    if (rc)
        fail_msg("engine_run(forkstorm, pv): %s", mv_last_error());
}

static void test_pv_deterministic(void **state)
{
    struct run_result a, b;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    run_forkstorm(&a);
    run_forkstorm(&b);
    assert_true(a.st.cnt[CNT_hypercalls] > 0);
    assert_true(a.st.cnt[CNT_fork] > 0);
    assert_memory_equal(&a.st, &b.st, sizeof a.st);
    run_result_free(&a);
    run_result_free(&b);
}

int main(void)
{
    mv_error_quiet(1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pin_l1_xen42),
        cmocka_unit_test(test_pin_l1_xen417),
        cmocka_unit_test(test_validation_takes_refs),
        cmocka_unit_test(test_preempted_pin),
        cmocka_unit_test(test_preempted_pin_slices),
        cmocka_unit_test(test_mmu_update_live_vs_plain),
        cmocka_unit_test(test_ptwr_emulation),
        cmocka_unit_test(test_update_va_mapping_user),
        cmocka_unit_test(test_multicall),
        cmocka_unit_test(test_new_baseptr),
        cmocka_unit_test(test_pv_deterministic),
        cmocka_unit_test(test_big_guest_io_tables_lazy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

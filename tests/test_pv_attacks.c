/* test_pv_attacks.c: a malicious Xen PV guest against the hypervisor's MMU
 * model. The guest boots normally (mode pv or pv-pibooster), a process gets
 * real, pinned page tables, then the test issues hypercalls directly, as a
 * hostile kernel would, with machine frame numbers. Every attack must be
 * refused with the error Xen returns (docs/research/xen-linux-vtd-notes.md
 * §A6), must change nothing (frame table entries, table memory, IOMMU), and
 * must leave the security invariants intact (pv_check). Devices behind the
 * IOMMU try to DMA into page tables, PiBooster-cached pages and frames that
 * are not the domain's. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>

#include "guest/ptcache.h"
#include "testutil_pv.h"

#define TABLE_RO (_PAGE_PRESENT | _PAGE_USER | _PAGE_ACCESSED)

#define VA1 (0x40000000ull | 0x400000ull)     /* L4 0, L3 1: another L2 */

/* ---- process and hypercall helpers (the rest: testutil_pv.h) -------------- */

/* A process with NPAGES anonymous pages at va written (tables exist, pinned). */
static struct task *proc(struct tmachine *t, uint32_t pid, uint64_t va)
{
    struct task *p = spawn_proc(t, pid, va, NPAGES);
    assert_true(p->mm->pinned);
    return p;
}

/* Machine frame of the data page mapped at va. */
static uint64_t data_mfn(struct tmachine *t, struct mm *mm, uint64_t va)
{
    pte_t e = pmem_read(&t->m.mem, p2m(t, table_pfn(t, mm, va, 1)), pt_index(va, 1));
    assert_true(pte_present(e));
    return pte_frame(e);
}

/* One mmu_update; the hypercall reports it done exactly when it succeeds. */
static long hc_mmu(struct tmachine *t, uint64_t table_mfn, unsigned idx, uint64_t val)
{
    unsigned done;
    long rc = hc_mmu_update(t, table_mfn, idx, val, &done);
    assert_int_equal(done, rc ? 0 : 1);
    return rc;
}

/* PiBooster's release of n pages; *done (when done is not NULL) gets the
 * count of pages the hypercall reports released. */
static long hc_release_done(struct tmachine *t, const uint64_t *mfn, unsigned n, unsigned *done)
{
    struct ptcache_op_args a = { PTCACHE_RELEASE, mfn, n, 0 };
    long rc = cpu_hypercall(&t->m.cpu, __HYPERVISOR_ptcache_op, &a);
    if (done)
        *done = a.done;
    return rc;
}

/* A release that changes nothing when refused: it reports none done. */
static long hc_release(struct tmachine *t, const uint64_t *mfn, unsigned n)
{
    unsigned done;
    long rc = hc_release_done(t, mfn, n, &done);
    if (rc)
        assert_int_equal(done, 0);
    return rc;
}

/* ---- "nothing changed" ----------------------------------------------------- */

static struct page_info snap(struct tmachine *t, uint64_t mfn) { return *frame(X(t), mfn); }

static void same_frame(struct tmachine *t, uint64_t mfn, struct page_info b, const char *what)
{
    const struct page_info *a = frame(X(t), mfn);
    if (a->count != b.count || a->type_count != b.type_count || a->type != b.type || a->flags != b.flags ||
        a->owner != b.owner || a->nr_validated != b.nr_validated)
        fail_msg("%s (mfn %#llx) changed: count %u->%u type %u->%u type_count %u->%u flags %#x->%#x owner %u->%u",
                 what, (unsigned long long)mfn, b.count, a->count, b.type, a->type, b.type_count, a->type_count,
                 b.flags, a->flags, b.owner, a->owner);
}

/* A machine frame that is neither the domain's nor in Xen's heap. */
static uint64_t foreign_free_frame(struct tmachine *t)
{
    struct xen *x = X(t);
    for (uint64_t e = (x->nframes >> P2M_EXTENT_SHIFT) - 1; e > 8; e--) {
        uint64_t mfn = (e << P2M_EXTENT_SHIFT) + 17;
        if (mfn_to_pfn(x->dom, mfn) != UINT64_MAX || frame(x, mfn)->owner != DOMID_NONE)
            continue;
        int in_heap = 0;
        for (uint64_t i = 0; i < x->h->nheap && !in_heap; i++)
            in_heap = hv_heap_free_frame(x->h, i) == mfn;
        if (!in_heap && mfn != x->dom->vtd.root)
            return mfn;
    }
    fail_msg("no foreign frame in machine memory");
    return 0;
}

/* ---- 1. mapping a frame the guest does not own ---------------------------- */

static void test_map_foreign_frame(void **state)
{
    struct tmachine *t = boot("pv", NULL);
    struct xen *x = X(t);
    struct task *p = proc(t, 1, VA0);
    uint64_t l1 = p2m(t, table_pfn(t, p->mm, VA0, 1));
    unsigned idx = pt_index(VA0, 1) + 100;            /* an empty slot of a live L1 */
    assert_int_equal(pmem_read(&t->m.mem, l1, idx), 0);
    assert_true(frame(x, l1)->type == PGT_l1 && (frame(x, l1)->flags & PGF_pinned));

    uint64_t heap = hv_heap_free_frame(x->h, 0);
    uint64_t ioroot = x->dom->vtd.root;                /* a live I/O page table of Xen's */
    uint64_t other = foreign_free_frame(t);
    assert_int_equal(mfn_to_pfn(x->dom, heap), UINT64_MAX);
    assert_int_equal(mfn_to_pfn(x->dom, ioroot), UINT64_MAX);
    assert_int_equal(mfn_to_pfn(x->dom, other), UINT64_MAX);
    /* Xen: a frame that is not the domain's is -EBUSY; I/O space (the first
     * MiB, owned by dom_io) is -EPERM without I/O memory permission */
    uint64_t victims[] = { heap, ioroot, other, 1000 /* Xen's own image */, 100 /* I/O space */ };
    long expect[] = { -EBUSY, -EBUSY, -EBUSY, -EBUSY, -EPERM };
    struct page_info l1_before = snap(t, l1);

    for (unsigned v = 0; v < sizeof victims / sizeof victims[0]; v++) {
        struct page_info vb = snap(t, victims[v]);
        assert_int_equal(hc_mmu(t, l1, idx, pte_make(victims[v], USER_RO)), expect[v]);
        assert_int_equal(hc_mmu(t, l1, idx, pte_make(victims[v], USER_RW)), expect[v]);
        assert_int_equal(pmem_read(&t->m.mem, l1, idx), 0);
        same_frame(t, victims[v], vb, "victim");
        same_frame(t, l1, l1_before, "L1");
        check_inv(t);

        /* pinning it, or writing into it as if it were a table, is refused too */
        assert_int_equal(hc_ext(t, MMUEXT_PIN_L1_TABLE, victims[v]), -EINVAL);
        assert_int_equal(hc_ext(t, MMUEXT_PIN_L4_TABLE, victims[v]), -EINVAL);
        uint64_t word = pmem_read(&t->m.mem, victims[v], 3);
        assert_int_equal(hc_mmu(t, victims[v], 3, pte_make(l1, USER_RW)), -EINVAL);
        assert_int_equal(pmem_read(&t->m.mem, victims[v], 3), word);
        same_frame(t, victims[v], vb, "victim");
        check_inv(t);
    }
    /* beyond machine memory: Xen's -EPERM (-EINVAL for INVALID_MFN itself) */
    assert_int_equal(hc_mmu(t, l1, idx, pte_make(x->nframes + 5, USER_RO)), -EPERM);
    assert_int_equal(hc_mmu(t, l1, idx, pte_make(PTE_FRAME_MASK >> PAGE_SHIFT, USER_RO)), -EINVAL);
    assert_int_equal(hc_ext(t, MMUEXT_PIN_L1_TABLE, x->nframes + 5), -EINVAL);
    same_frame(t, l1, l1_before, "L1");
    finish(t, &p, 1);
}

/* ---- 2. mapping its own page tables writable -------------------------------- */

static void test_map_own_table_writable(void **state)
{
    struct tmachine *t = boot("pv", NULL);
    struct task *p = proc(t, 1, VA0);
    uint64_t l1p = table_pfn(t, p->mm, VA0, 1), l2p = table_pfn(t, p->mm, VA0, 2);
    uint64_t l1 = p2m(t, l1p), l2 = p2m(t, l2p), l4 = p2m(t, p->mm->pgd);
    unsigned idx = pt_index(VA0, 1) + 100;
    uint64_t targets[] = { l1, l2, l4 };
    for (unsigned i = 0; i < 3; i++) {
        struct page_info tb = snap(t, targets[i]);
        struct page_info l1b = snap(t, l1);
        assert_int_equal(hc_mmu(t, l1, idx, pte_make(targets[i], USER_RW)), -EBUSY);
        assert_int_equal(pmem_read(&t->m.mem, l1, idx), 0);
        same_frame(t, targets[i], tb, "table");
        same_frame(t, l1, l1b, "L1");
        /* the same through the write-protected L1 (ptwr emulation) */
        assert_int_not_equal(cpu_store(&t->m.cpu, l1p, idx, pte_make(targets[i], USER_RW)), 0);
        assert_int_equal(pmem_read(&t->m.mem, l1, idx), 0);
        same_frame(t, targets[i], tb, "table");
        check_inv(t);
    }
    /* control: a read-only mapping of its own table is allowed (a general
     * reference, no type reference), and dropping it gives the reference back */
    struct page_info l2b = snap(t, l2);
    assert_int_equal(hc_mmu(t, l1, idx, pte_make(l2, USER_RO)), 0);
    assert_int_equal(frame(X(t), l2)->count, l2b.count + 1);
    assert_int_equal(frame(X(t), l2)->type_count, l2b.type_count);
    check_inv(t);
    assert_int_equal(hc_mmu(t, l1, idx, 0), 0);
    same_frame(t, l2, l2b, "L2");

    /* the direct-map alias of a pinned (or live) table cannot become writable */
    uint64_t pfns[] = { l1p, l2p, p->mm->pgd, p->mm->user_pgd };
    for (unsigned i = 0; i < 4; i++) {
        uint64_t mfn = p2m(t, pfns[i]);
        struct page_info b = snap(t, mfn);
        assert_false(b.flags & PGF_dmap_rw);
        assert_int_equal(hc_dmap(t, pfns[i], 1), -EBUSY);
        same_frame(t, mfn, b, "table");
        /* and the direct map's layout is fixed: no other frame at that alias */
        assert_int_equal(hc_uva(t, DIRECTMAP_BASE + (pfns[i] << PAGE_SHIFT), pte_make(l1 == mfn ? l2 : l1, PAGE_KERNEL_RO),
                                UVMF_NONE), -EINVAL);
        same_frame(t, mfn, b, "table");
        check_inv(t);
    }
    finish(t, &p, 1);
}

/* ---- 3. pinning an L2 whose entry maps a writable page ---------------------- */

static void test_pin_l2_over_writable_page(void **state)
{
    struct tmachine *t = boot("pv", NULL);
    struct kernel *k = K(t);
    struct task *p = proc(t, 1, VA0);
    uint64_t l2p = kalloc_page(k, 0), dp = kalloc_page(k, 0);
    uint64_t l2 = p2m(t, l2p), d = p2m(t, dp);
    uint64_t user_d = data_mfn(t, p->mm, VA0);          /* writable through a user L1 too */

    assert_int_equal(hc_dmap(t, l2p, 0), 0);            /* the future L2: read-only */
    assert_int_equal(frame(X(t), l2)->type_count, 0);
    assert_int_equal(hc_mmu(t, l2, 0, pte_make(d, PT_TABLE_FLAGS)), 0);   /* a plain write */
    assert_int_equal(hc_mmu(t, l2, 1, pte_make(user_d, PT_TABLE_FLAGS)), 0);
    assert_int_equal(pmem_read(&t->m.mem, l2, 0), pte_make(d, PT_TABLE_FLAGS));
    struct page_info l2b = snap(t, l2), db = snap(t, d), udb = snap(t, user_d);
    assert_int_equal(db.type, PGT_writable);
    assert_true(db.type_count >= 1);
    assert_int_equal(udb.type, PGT_writable);
    assert_int_equal(udb.type_count, 2);                /* direct map + user L1 entry */

    assert_int_equal(hc_ext(t, MMUEXT_PIN_L2_TABLE, l2), -EINVAL);
    const struct page_info *a = frame(X(t), l2);
    assert_int_equal(a->type_count, 0);
    assert_false(a->flags & (PGF_pinned | PGF_validated | PGF_partial));
    assert_false(pgt_is_table(a->type));
    assert_int_equal(a->count, l2b.count);              /* the pin's reference was dropped */
    same_frame(t, d, db, "data page");
    same_frame(t, user_d, udb, "user data page");
    assert_int_equal(pmem_read(&t->m.mem, l2, 0), pte_make(d, PT_TABLE_FLAGS));
    check_inv(t);

    /* clean up: the page becomes plain memory again */
    assert_int_equal(hc_mmu(t, l2, 0, 0), 0);
    assert_int_equal(hc_mmu(t, l2, 1, 0), 0);
    assert_int_equal(hc_dmap(t, l2p, 1), 0);
    assert_int_equal(frame(X(t), l2)->type, PGT_writable);
    assert_true(io_mapped(t, l2, NULL));
    page_put(k, l2p);
    page_put(k, dp);
    finish(t, &p, 1);
}

/* ---- 4. an L1 used as an L2 (and as an L3 target) --------------------------- */

static void test_l1_as_l2(void **state)
{
    struct tmachine *t = boot("pv", NULL);
    struct task *p = proc(t, 1, VA0);
    uint64_t l1 = p2m(t, table_pfn(t, p->mm, VA0, 1));
    uint64_t l2 = p2m(t, table_pfn(t, p->mm, VA0, 2));
    uint64_t l3 = p2m(t, table_pfn(t, p->mm, VA0, 3));
    uint64_t l4 = p2m(t, p->mm->pgd);
    struct page_info l1b = snap(t, l1), l2b = snap(t, l2), l3b = snap(t, l3);

    assert_int_equal(hc_ext(t, MMUEXT_PIN_L2_TABLE, l1), -EINVAL);
    same_frame(t, l1, l1b, "L1");
    assert_int_equal(hc_ext(t, MMUEXT_PIN_L3_TABLE, l1), -EINVAL);
    same_frame(t, l1, l1b, "L1");
    check_inv(t);

    /* L3 entry -> live L1, writable or not (not an L2, not a linear L3) */
    unsigned i3 = pt_index(VA0, 3) + 5;
    assert_int_equal(pmem_read(&t->m.mem, l3, i3), 0);
    assert_int_equal(hc_mmu(t, l3, i3, pte_make(l1, PT_TABLE_FLAGS)), -EINVAL);
    assert_int_equal(hc_mmu(t, l3, i3, pte_make(l1, TABLE_RO)), -EINVAL);
    assert_int_equal(pmem_read(&t->m.mem, l3, i3), 0);
    /* L4 entry -> live L1 or L2; L2 entry -> live L3 */
    unsigned i4 = pt_index(VA0, 4) + 5;
    assert_int_equal(hc_mmu(t, l4, i4, pte_make(l1, PT_TABLE_FLAGS)), -EINVAL);
    assert_int_equal(hc_mmu(t, l4, i4, pte_make(l2, TABLE_RO)), -EINVAL);
    assert_int_equal(pmem_read(&t->m.mem, l4, i4), 0);
    unsigned i2 = pt_index(VA0, 2) + 5;
    assert_int_equal(hc_mmu(t, l2, i2, pte_make(l3, TABLE_RO)), -EINVAL);
    assert_int_equal(pmem_read(&t->m.mem, l2, i2), 0);
    same_frame(t, l1, l1b, "L1");
    same_frame(t, l2, l2b, "L2");
    same_frame(t, l3, l3b, "L3");
    check_inv(t);
    finish(t, &p, 1);
}

/* ---- 5. linear (same-level) entries ---------------------------------------- */

static void linear_case(int allowed)
{
    struct tmachine *t = boot("pv", allowed ? "xen.linear_pt=true" : "xen.linear_pt=false");
    struct task *p = proc(t, 1, VA0);
    uint64_t va1 = VA1;
    uint64_t mfn;
    assert_int_equal(sys_mmap(K(t), p, va1, PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANON, 0, 0),
                     (long)va1);
    assert_int_equal(user_access(K(t), va1, ACC_WRITE, &mfn), 0);
    uint64_t l2a = p2m(t, table_pfn(t, p->mm, VA0, 2));
    uint64_t l2b = p2m(t, table_pfn(t, p->mm, va1, 2));
    assert_int_not_equal(l2a, l2b);
    struct page_info ab = snap(t, l2a), bb = snap(t, l2b);
    unsigned ia = 100, is = 101;
    assert_int_equal(pmem_read(&t->m.mem, l2a, ia), 0);
    assert_int_equal(pmem_read(&t->m.mem, l2a, is), 0);

    /* writable linear entries are never allowed */
    assert_int_equal(hc_mmu(t, l2a, ia, pte_make(l2b, PT_TABLE_FLAGS)), -EINVAL);
    assert_int_equal(hc_mmu(t, l2a, is, pte_make(l2a, PT_TABLE_FLAGS)), -EINVAL);
    assert_int_equal(pmem_read(&t->m.mem, l2a, ia), 0);
    assert_int_equal(pmem_read(&t->m.mem, l2a, is), 0);
    same_frame(t, l2a, ab, "L2a");
    same_frame(t, l2b, bb, "L2b");

    long rc = hc_mmu(t, l2a, ia, pte_make(l2b, TABLE_RO));
    long rs = hc_mmu(t, l2a, is, pte_make(l2a, TABLE_RO));
    if (!allowed) {
        assert_int_equal(rc, -EINVAL);
        assert_int_equal(rs, -EINVAL);
        assert_int_equal(pmem_read(&t->m.mem, l2a, ia), 0);
        assert_int_equal(pmem_read(&t->m.mem, l2a, is), 0);
        same_frame(t, l2a, ab, "L2a");
        same_frame(t, l2b, bb, "L2b");
    } else {
        assert_int_equal(rc, 0);
        assert_int_equal(rs, 0);
        assert_int_equal(pmem_read(&t->m.mem, l2a, ia), pte_make(l2b, TABLE_RO));
        /* the linear entry holds a general and a type reference; a self-map none */
        assert_int_equal(frame(X(t), l2b)->count, bb.count + 1);
        assert_int_equal(frame(X(t), l2b)->type_count, bb.type_count + 1);
        same_frame(t, l2a, ab, "L2a");
        check_inv(t);
        /* an existing read-only linear entry cannot be upgraded to writable */
        assert_int_equal(hc_mmu(t, l2a, ia, pte_make(l2b, PT_TABLE_FLAGS)), -EINVAL);
        assert_int_equal(pmem_read(&t->m.mem, l2a, ia), pte_make(l2b, TABLE_RO));
        check_inv(t);
        assert_int_equal(hc_mmu(t, l2a, ia, 0), 0);
        assert_int_equal(hc_mmu(t, l2a, is, 0), 0);
        same_frame(t, l2a, ab, "L2a");
        same_frame(t, l2b, bb, "L2b");
    }
    check_inv(t);
    finish(t, &p, 1);
}

static void test_linear_disallowed(void **state) { linear_case(0); }
static void test_linear_allowed_readonly(void **state) { linear_case(1); }

/* ---- 6. unpinning what is not pinned --------------------------------------- */

static void test_unpin_not_pinned(void **state)
{
    struct tmachine *t = boot("pv", NULL);
    struct task *p = proc(t, 1, VA0);
    uint64_t l2 = p2m(t, table_pfn(t, p->mm, VA0, 2));
    uint64_t l3 = p2m(t, table_pfn(t, p->mm, VA0, 3));
    uint64_t d = data_mfn(t, p->mm, VA0);
    const uint64_t victims[] = { l2, l3, d };
    /* L2 and L3 are live (validated, referenced by their parent), not pinned */
    assert_true(frame(X(t), l2)->type == PGT_l2 && frame(X(t), l2)->type_count == 1);
    assert_true(frame(X(t), l2)->flags & PGF_validated);
    for (unsigned i = 0; i < 3; i++) {
        struct page_info b = snap(t, victims[i]);
        assert_false(b.flags & PGF_pinned);
        assert_int_equal(hc_ext(t, MMUEXT_UNPIN_TABLE, victims[i]), -EINVAL);
        same_frame(t, victims[i], b, "unpinned frame");
        check_inv(t);
    }
    /* a pinned L1 unpinned twice: the second is refused */
    uint64_t fp = kalloc_page(K(t), 0), f = p2m(t, fp);
    assert_int_equal(hc_dmap(t, fp, 0), 0);
    assert_int_equal(hc_ext(t, MMUEXT_PIN_L1_TABLE, f), 0);
    assert_int_equal(hc_ext(t, MMUEXT_UNPIN_TABLE, f), 0);
    struct page_info fb = snap(t, f);
    assert_int_equal(hc_ext(t, MMUEXT_UNPIN_TABLE, f), -EINVAL);
    same_frame(t, f, fb, "unpinned L1");
    assert_int_equal(hc_dmap(t, fp, 1), 0);
    page_put(K(t), fp);
    finish(t, &p, 1);
}

/* ---- 7. pinning twice ------------------------------------------------------- */

static void test_pin_twice(void **state)
{
    struct tmachine *t = boot("pv", NULL);
    struct task *p = proc(t, 1, VA0);
    uint64_t l1 = p2m(t, table_pfn(t, p->mm, VA0, 1));
    uint64_t l4 = p2m(t, p->mm->pgd);
    struct page_info b1 = snap(t, l1), b4 = snap(t, l4);
    assert_true(b1.flags & PGF_pinned);
    assert_int_equal(b1.type_count, 2);             /* the pin and the parent L2 */
    assert_int_equal(hc_ext(t, MMUEXT_PIN_L1_TABLE, l1), -EINVAL);
    same_frame(t, l1, b1, "pinned L1");
    assert_int_equal(hc_ext(t, MMUEXT_PIN_L4_TABLE, l4), -EINVAL);
    same_frame(t, l4, b4, "pinned L4");
    check_inv(t);
    finish(t, &p, 1);
}

/* ---- 8. PiBooster release of pages that must not be released ---------------- */

static void test_pibooster_release_refused(void **state)
{
    struct tmachine *t = boot("pv-pibooster", NULL);
    struct xen *x = X(t);
    struct task *live = proc(t, 1, VA0);
    struct task *gone = proc(t, 2, VA0);
    do_exit(K(t), gone);
    schedule_to(K(t), live);
    assert_true(ptcache_pool_size(K(t), 1) > 0);
    uint64_t pooled = p2m(t, K(t)->ptc->pool[1].pfn[0]);
    uint64_t l1 = p2m(t, table_pfn(t, live->mm, VA0, 1));
    uint64_t d = data_mfn(t, live->mm, VA0);
    assert_true(frame(x, l1)->flags & PGF_ptcache);          /* flagged, in use */
    assert_true(frame(x, pooled)->flags & PGF_ptcache);      /* flagged, released-able */
    assert_int_equal(frame(x, pooled)->type, PGT_writable);
    assert_false(frame(x, d)->flags & PGF_ptcache);
    assert_false(io_mapped(t, pooled, NULL));

    struct page_info bl = snap(t, l1), bp = snap(t, pooled), bd = snap(t, d);
    uint64_t rel0 = x->released, psi0 = cnt(t, CNT_iotlb_inv_psi), dsi0 = cnt(t, CNT_iotlb_inv_dsi);

    /* a batch stops at its first refusal (a refusal after a good page:
     * test_release_batch_in_order) */
    assert_int_equal(hc_release(t, &l1, 1), -EBUSY);
    assert_int_equal(hc_release(t, &d, 1), -EINVAL);
    uint64_t foreign = hv_heap_free_frame(x->h, 0);
    uint64_t mix1[] = { d, pooled }, mix2[] = { l1, pooled }, mix3[] = { foreign, pooled };
    assert_int_equal(hc_release(t, mix1, 2), -EINVAL);
    assert_int_equal(hc_release(t, mix2, 2), -EBUSY);
    assert_int_equal(hc_release(t, mix3, 2), -EINVAL);

    same_frame(t, l1, bl, "live L1");
    same_frame(t, pooled, bp, "pooled page");
    same_frame(t, d, bd, "data page");
    assert_true(frame(x, pooled)->flags & PGF_ptcache);
    assert_false(io_mapped(t, pooled, NULL));
    assert_false(io_mapped(t, l1, NULL));
    assert_int_equal(x->released, rel0);
    assert_int_equal(cnt(t, CNT_iotlb_inv_psi), psi0);
    assert_int_equal(cnt(t, CNT_iotlb_inv_dsi), dsi0);
    check_inv(t);

    /* the pooled page was a valid candidate: the guest's own release works */
    ptcache_disable(K(t));
    assert_false(frame(x, pooled)->flags & PGF_ptcache);
    assert_true(x->released > rel0);
    assert_true(io_mapped(t, pooled, NULL));
    finish(t, &live, 1);
}

/* ---- 8b. a release batch is the same requests made one at a time --------------- */

/* A guest page the hypervisor has flagged behind the guest's page-table cache:
 * a buddy page remapped read-only, pinned as L1 (flagged, out of the IOMMU),
 * unpinned and remapped writable. The guest's pools do not know it. */
static uint64_t flagged_page(struct tmachine *t)
{
    uint64_t pfn = kalloc_page(K(t), 0), mfn = p2m(t, pfn);
    assert_int_equal(hc_dmap(t, pfn, 0), 0);
    assert_int_equal(hc_ext(t, MMUEXT_PIN_L1_TABLE, mfn), 0);
    assert_int_equal(hc_ext(t, MMUEXT_UNPIN_TABLE, mfn), 0);
    assert_int_equal(hc_dmap(t, pfn, 1), 0);
    const struct page_info *p = frame(X(t), mfn);
    assert_true(p->flags & PGF_ptcache);
    assert_int_equal(p->type, PGT_writable);
    assert_false(io_mapped(t, mfn, NULL));
    return pfn;
}

/* {m, m, m}: the first releases m (mapped back into the IOMMU, counted
 * once); the second finds m no longer cached and stops the batch, as a
 * second release of m alone does. */
static void test_release_duplicates(void **state)
{
    struct tmachine *t = boot("pv-pibooster", NULL);
    struct xen *x = X(t);
    uint64_t pfn = flagged_page(t), m = p2m(t, pfn);
    uint64_t rel0 = x->released, psi0 = cnt(t, CNT_iotlb_inv_psi);
    const uint64_t batch[] = { m, m, m };
    unsigned done = 99;
    assert_int_equal(hc_release_done(t, batch, 3, &done), -EINVAL);
    assert_int_equal(done, 1);
    assert_int_equal(x->released, rel0 + 1);
    assert_int_equal(cnt(t, CNT_iotlb_inv_psi), psi0 + 1);  /* xen-4.2: the map-back flushes once */
    assert_false(frame(x, m)->flags & PGF_ptcache);
    assert_true(io_mapped(t, m, NULL));
    assert_int_equal(hc_release(t, &m, 1), -EINVAL);
    assert_int_equal(x->released, rel0 + 1);
    check_inv(t);
    page_put(K(t), pfn);
    assert_int_equal(tm_destroy(t), 0);
}

/* The frames a release batch names, built alike on every boot: three pages
 * flagged behind the guest's cache, a data page (never cached), a live
 * flagged L1 and a frame that is not the domain's. */
enum { R_M, R_N, R_O, R_DATA, R_L1, R_FOREIGN, R_NR };
struct rel_env {
    struct tmachine *t;
    struct task *p;
    uint64_t pfn[3];
    uint64_t mfn[R_NR];
};

static void rel_env_boot(struct rel_env *e)
{
    e->t = boot("pv-pibooster", NULL);
    e->p = proc(e->t, 1, VA0);
    for (unsigned i = 0; i < 3; i++) {
        e->pfn[i] = flagged_page(e->t);
        e->mfn[R_M + i] = p2m(e->t, e->pfn[i]);
    }
    e->mfn[R_DATA] = data_mfn(e->t, e->p->mm, VA0);
    e->mfn[R_L1] = p2m(e->t, table_pfn(e->t, e->p->mm, VA0, 1));
    assert_true(frame(X(e->t), e->mfn[R_L1])->flags & PGF_ptcache);
    e->mfn[R_FOREIGN] = hv_heap_free_frame(X(e->t)->h, 0);
}

/* Release what the batch left flagged, give the pages back, shut down. */
static void rel_env_finish(struct rel_env *e)
{
    for (unsigned i = 0; i < 3; i++) {
        if (frame(X(e->t), e->mfn[R_M + i])->flags & PGF_ptcache)
            assert_int_equal(hc_release(e->t, &e->mfn[R_M + i], 1), 0);
        page_put(K(e->t), e->pfn[i]);
    }
    finish(e->t, &e->p, 1);
}

/* One batch on one machine and the same pages one at a time (up to the first
 * refusal) on another: the same answer, the same count done, and the same
 * frames, IOMMU mappings, invalidations and statistics afterwards. */
static void release_as_singles(const unsigned *which, unsigned n, long want_rc, unsigned want_done)
{
    struct rel_env a, b;
    rel_env_boot(&a);
    rel_env_boot(&b);
    uint64_t batch[8];
    for (unsigned i = 0; i < n; i++) {
        assert_int_equal(a.mfn[which[i]], b.mfn[which[i]]);
        batch[i] = a.mfn[which[i]];
    }
    uint64_t rel0 = X(a.t)->released;
    unsigned done = 99;
    long rc = hc_release_done(a.t, batch, n, &done);
    assert_int_equal(rc, want_rc);
    assert_int_equal(done, want_done);
    assert_int_equal(X(a.t)->released, rel0 + want_done);

    long rc1 = 0;
    unsigned done1 = 0;
    for (; done1 < n && !(rc1 = hc_release(b.t, &batch[done1], 1)); done1++)
        ;
    assert_int_equal(rc, rc1);
    assert_int_equal(done, done1);
    assert_int_equal(X(a.t)->released, X(b.t)->released);
    for (unsigned f = 0; f < R_NR; f++) {
        same_frame(a.t, a.mfn[f], snap(b.t, b.mfn[f]), "a frame of the batch");
        assert_int_equal(io_mapped(a.t, a.mfn[f], NULL), io_mapped(b.t, b.mfn[f], NULL));
    }
    assert_int_equal(cnt(a.t, CNT_iotlb_inv_psi), cnt(b.t, CNT_iotlb_inv_psi));
    assert_int_equal(cnt(a.t, CNT_iotlb_inv_dsi), cnt(b.t, CNT_iotlb_inv_dsi));
    check_inv(a.t);
    check_inv(b.t);
    rel_env_finish(&a);
    rel_env_finish(&b);
}

static void test_release_batch_in_order(void **state)
{
    static const struct {
        unsigned which[4], n;
        long rc;
        unsigned done;
    } c[] = {
        { { R_M, R_N, R_O }, 3, 0, 3 },
        { { R_M, R_M, R_M }, 3, -EINVAL, 1 },
        { { R_M, R_N, R_M, R_O }, 4, -EINVAL, 2 },
        { { R_M, R_DATA, R_N }, 3, -EINVAL, 1 },     /* a bad page in the middle */
        { { R_M, R_L1, R_N }, 3, -EBUSY, 1 },
        { { R_M, R_N, R_FOREIGN, R_O }, 4, -EINVAL, 2 },
        { { R_DATA, R_M }, 2, -EINVAL, 0 },
    };
    for (unsigned i = 0; i < sizeof c / sizeof c[0]; i++)
        release_as_singles(c[i].which, c[i].n, c[i].rc, c[i].done);
}

/* mmuext_op and mmu_update take each request whole before the next (check
 * and apply in one step), so a request named twice in one batch acts as two
 * calls: a second PIN or UNPIN is refused and stops the batch, and an entry
 * written twice holds one reference. */
static void test_batch_duplicates(void **state)
{
    struct tmachine *t = boot("pv", NULL);
    struct task *p = proc(t, 1, VA0);
    uint64_t fp = kalloc_page(K(t), 0), f = p2m(t, fp);
    assert_int_equal(hc_dmap(t, fp, 0), 0);
    const struct page_info *fi = frame(X(t), f);

    struct mmuext_op pin[2] = { { .cmd = MMUEXT_PIN_L1_TABLE, .mfn = f }, { .cmd = MMUEXT_PIN_L1_TABLE, .mfn = f } };
    struct mmuext_args pa = { pin, 2, 0 };
    assert_int_equal(cpu_hypercall(&t->m.cpu, __HYPERVISOR_mmuext_op, &pa), -EINVAL);
    assert_int_equal(pa.done, 1);
    assert_true(fi->flags & PGF_pinned);
    assert_int_equal(fi->type, PGT_l1);
    assert_int_equal(fi->type_count, 1);                /* the one pin */
    check_inv(t);
    struct mmuext_op unpin[2] = { { .cmd = MMUEXT_UNPIN_TABLE, .mfn = f }, { .cmd = MMUEXT_UNPIN_TABLE, .mfn = f } };
    struct mmuext_args ua = { unpin, 2, 0 };
    assert_int_equal(cpu_hypercall(&t->m.cpu, __HYPERVISOR_mmuext_op, &ua), -EINVAL);
    assert_int_equal(ua.done, 1);
    assert_false(fi->flags & PGF_pinned);
    assert_int_equal(fi->type_count, 0);
    assert_int_equal(hc_dmap(t, fp, 1), 0);
    check_inv(t);

    uint64_t l1 = p2m(t, table_pfn(t, p->mm, VA0, 1));
    unsigned idx = pt_index(VA0, 1) + 100;              /* an empty slot of a live L1 */
    assert_int_equal(pmem_read(&t->m.mem, l1, idx), 0);
    uint64_t ptr = (l1 << PAGE_SHIFT) | ((uint64_t)idx << 3) | MMU_NORMAL_PT_UPDATE;
    struct mmu_update set[2] = { { ptr, pte_make(f, USER_RW) }, { ptr, pte_make(f, USER_RW) } };
    struct mmu_update_args sa = { set, 2, 0 };
    assert_int_equal(cpu_hypercall(&t->m.cpu, __HYPERVISOR_mmu_update, &sa), 0);
    assert_int_equal(sa.done, 2);
    assert_int_equal(fi->type, PGT_writable);
    assert_int_equal(fi->type_count, 2);                /* the direct map and one entry */
    check_inv(t);
    struct mmu_update clr[2] = { { ptr, 0 }, { ptr, 0 } };
    struct mmu_update_args ca = { clr, 2, 0 };
    assert_int_equal(cpu_hypercall(&t->m.cpu, __HYPERVISOR_mmu_update, &ca), 0);
    assert_int_equal(ca.done, 2);
    assert_int_equal(fi->type_count, 1);
    check_inv(t);
    page_put(K(t), fp);
    finish(t, &p, 1);
}

/* ---- 9. DMA writes into a page table ---------------------------------------- */

static void dma_into_table(const char *mode)
{
    struct tmachine *t = boot(mode, NULL);
    struct xen *x = X(t);
    struct task *p = proc(t, 1, VA0);
    uint64_t l1 = p2m(t, table_pfn(t, p->mm, VA0, 1));
    uint64_t l4 = p2m(t, p->mm->pgd);
    uint64_t d = data_mfn(t, p->mm, VA0);
    uint64_t out = 0;

    /* control: the process's data page is DMA-writable, 1:1 */
    assert_int_equal(iommu_dma(&x->h->iommu, x->h->nic.id, d, 1, &out), 0);
    assert_int_equal(out, d);

    uint64_t f0 = cnt(t, CNT_dma_faults);
    assert_int_equal(iommu_dma(&x->h->iommu, x->h->nic.id, l1, 1, &out), -1);
    assert_int_equal(cnt(t, CNT_dma_faults), f0 + 1);
    assert_int_equal(iommu_dma(&x->h->iommu, x->h->disk.id, l4, 1, &out), -1);
    assert_int_equal(cnt(t, CNT_dma_faults), f0 + 2);
    /* not even readable: page tables are out of the IOMMU altogether */
    assert_int_equal(iommu_dma(&x->h->iommu, x->h->nic.id, l1, 0, &out), -1);
    assert_int_equal(cnt(t, CNT_dma_faults), f0 + 3);
    check_inv(t);
    finish(t, &p, 1);
}

static void test_dma_write_table_pv(void **state) { dma_into_table("pv"); }
static void test_dma_write_table_pibooster(void **state) { dma_into_table("pv-pibooster"); }

/* ---- 10. DMA writes into a PiBooster-cached page ---------------------------- */

static void test_dma_write_pooled_page(void **state)
{
    struct tmachine *t = boot("pv-pibooster", NULL);
    struct xen *x = X(t);
    struct task *p = proc(t, 1, VA0);
    do_exit(K(t), p);
    assert_true(ptcache_pool_size(K(t), 0) > 0);
    assert_true(ptcache_pool_size(K(t), 1) > 0);
    uint64_t pfn = K(t)->ptc->pool[1].pfn[0], mfn = p2m(t, pfn);
    assert_int_equal(frame(x, mfn)->type, PGT_writable);   /* plain memory to Xen ... */
    assert_true(frame(x, mfn)->flags & PGF_ptcache);       /* ... but cached */
    check_inv(t);

    uint64_t out, f0 = cnt(t, CNT_dma_faults);
    assert_int_equal(iommu_dma(&x->h->iommu, x->h->nic.id, mfn, 1, &out), -1);
    assert_int_equal(cnt(t, CNT_dma_faults), f0 + 1);

    ptcache_disable(K(t));
    assert_int_equal(ptcache_pool_size(K(t), 0), 0);
    assert_false(frame(x, mfn)->flags & PGF_ptcache);
    check_inv(t);
    assert_int_equal(iommu_dma(&x->h->iommu, x->h->nic.id, mfn, 1, &out), 0);
    assert_int_equal(out, mfn);
    assert_int_equal(cnt(t, CNT_dma_faults), f0 + 1);
    finish(t, NULL, 0);
}

/* ---- 11. DMA reads of frames that are not the domain's ---------------------- */

static void test_dma_read_foreign(void **state)
{
    struct tmachine *t = boot("pv", NULL);
    struct xen *x = X(t);
    uint64_t victims[] = { hv_heap_free_frame(x->h, 0), x->dom->vtd.root, foreign_free_frame(t), 100 };
    uint64_t out, f0 = cnt(t, CNT_dma_faults);
    for (unsigned i = 0; i < 4; i++) {
        assert_int_equal(iommu_dma(&x->h->iommu, x->h->nic.id, victims[i], 0, &out), -1);
        assert_int_equal(iommu_dma(&x->h->iommu, x->h->disk.id, victims[i], 1, &out), -1);
    }
    assert_int_equal(cnt(t, CNT_dma_faults), f0 + 8);
    /* control: a frame of the domain (in the kernel image) is readable */
    uint64_t mine = p2m(t, 100);
    assert_int_equal(iommu_dma(&x->h->iommu, x->h->nic.id, mine, 0, &out), 0);
    assert_int_equal(out, mine);
    check_inv(t);
    finish(t, NULL, 0);
}

/* ---- 12. a stale IOTLB entry for a page that became a page table ------------ */

static void test_stale_iotlb(void **state)
{
    struct tmachine *t = boot("pv", NULL);
    struct xen *x = X(t);
    struct kernel *k = K(t);
    uint64_t pfn = kalloc_page(k, 0), mfn = p2m(t, pfn), out;

    assert_int_equal(iommu_dma(&x->h->iommu, x->h->nic.id, mfn, 0, &out), 0);
    uint64_t miss0 = cnt(t, CNT_iotlb_miss);
    assert_int_equal(iommu_dma(&x->h->iommu, x->h->nic.id, mfn, 0, &out), 0);
    assert_int_equal(cnt(t, CNT_iotlb_miss), miss0);        /* served by the IOTLB */

    uint64_t psi0 = cnt(t, CNT_iotlb_inv_psi);
    assert_int_equal(hc_dmap(t, pfn, 0), 0);
    assert_int_equal(hc_ext(t, MMUEXT_PIN_L1_TABLE, mfn), 0);
    assert_int_equal(cnt(t, CNT_iotlb_inv_psi), psi0 + 1);
    check_inv(t);                                            /* no stale IOTLB entry */
    uint64_t f0 = cnt(t, CNT_dma_faults);
    assert_int_equal(iommu_dma(&x->h->iommu, x->h->nic.id, mfn, 1, &out), -1);
    assert_int_equal(iommu_dma(&x->h->iommu, x->h->nic.id, mfn, 0, &out), -1);
    assert_int_equal(cnt(t, CNT_dma_faults), f0 + 2);

    assert_int_equal(hc_ext(t, MMUEXT_UNPIN_TABLE, mfn), 0);
    assert_int_equal(hc_dmap(t, pfn, 1), 0);
    assert_int_equal(iommu_dma(&x->h->iommu, x->h->nic.id, mfn, 1, &out), 0);
    page_put(k, pfn);

    /* through the guest's own paths: a new process's tables (fresh frames that
     * were plain memory) are not DMA-accessible once it runs */
    struct task *p = proc(t, 1, VA0);
    uint64_t tabs[] = { p2m(t, table_pfn(t, p->mm, VA0, 1)), p2m(t, table_pfn(t, p->mm, VA0, 2)),
                        p2m(t, table_pfn(t, p->mm, VA0, 3)), p2m(t, p->mm->pgd) };
    for (unsigned i = 0; i < 4; i++)
        assert_int_equal(iommu_dma(&x->h->iommu, x->h->nic.id, tabs[i], 1, &out), -1);
    check_inv(t);
    finish(t, &p, 1);
}

/* ---- 13. a stale CPU TLB entry for a page that becomes a page table ---------- */

static void test_stale_tlb_flushed_on_retype(void **state)
{
    struct tmachine *t = boot("pv", NULL);
    struct task *p = proc(t, 1, VA0);
    uint64_t va = VA0 + PAGE_SIZE;
    uint64_t l1 = p2m(t, table_pfn(t, p->mm, va, 1));
    unsigned idx = pt_index(va, 1);
    pte_t e = pmem_read(&t->m.mem, l1, idx);
    uint64_t d = pte_frame(e), dpfn = mfn_to_pfn(X(t)->dom, d), got;
    assert_true(e & _PAGE_RW);
    assert_int_equal(cpu_access(&t->m.cpu, va, ACC_WRITE, &got), 0);    /* TLB filled */

    /* the guest drops its only user mapping without flushing: the TLB still
     * grants write (the guest's own business) ... */
    assert_int_equal(hc_mmu(t, l1, idx, 0), 0);
    assert_int_equal(cpu_access(&t->m.cpu, va, ACC_WRITE, &got), 0);
    assert_int_equal(got, d);
    /* ... but once the frame becomes a page table Xen must have flushed it */
    assert_int_equal(hc_dmap(t, dpfn, 0), 0);
    uint64_t fl0 = cnt(t, CNT_tlb_flush_nonglobal);
    assert_int_equal(hc_ext(t, MMUEXT_PIN_L1_TABLE, d), 0);
    assert_true(cnt(t, CNT_tlb_flush_nonglobal) > fl0);
    assert_int_not_equal(cpu_access(&t->m.cpu, va, ACC_WRITE, &got), 0);
    check_inv(t);

    assert_int_equal(hc_ext(t, MMUEXT_UNPIN_TABLE, d), 0);
    assert_int_equal(hc_dmap(t, dpfn, 1), 0);
    assert_int_equal(hc_mmu(t, l1, idx, e), 0);             /* put the guest's entry back */
    finish(t, &p, 1);
}

int main(void)
{
    mv_error_quiet(1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_map_foreign_frame),
        cmocka_unit_test(test_map_own_table_writable),
        cmocka_unit_test(test_pin_l2_over_writable_page),
        cmocka_unit_test(test_l1_as_l2),
        cmocka_unit_test(test_linear_disallowed),
        cmocka_unit_test(test_linear_allowed_readonly),
        cmocka_unit_test(test_unpin_not_pinned),
        cmocka_unit_test(test_pin_twice),
        cmocka_unit_test(test_pibooster_release_refused),
        cmocka_unit_test(test_release_duplicates),
        cmocka_unit_test(test_release_batch_in_order),
        cmocka_unit_test(test_batch_duplicates),
        cmocka_unit_test(test_dma_write_table_pv),
        cmocka_unit_test(test_dma_write_table_pibooster),
        cmocka_unit_test(test_dma_write_pooled_page),
        cmocka_unit_test(test_dma_read_foreign),
        cmocka_unit_test(test_stale_iotlb),
        cmocka_unit_test(test_stale_tlb_flushed_on_retype),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

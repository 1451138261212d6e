/* test_pv_hostile.c: guest input that once reached an internal assertion,
 * or that Xen answers with a particular error, answered as Xen answers it.
 * The guest may fail or die; the hypervisor changes nothing and the
 * invariants (pv_check, with its reference recount) hold:
 *  - MOV to CR3 of a frame that cannot be an L4 (a data page, a live L1,
 *    an L2, a frame beyond the guest's memory, a hypervisor frame): #GP,
 *    the old root stays loaded;
 *  - loads and stores of frames the guest does not have: all ones, a fault;
 *    INVPCID of an invalid type: #GP;
 *  - entry flags and error codes as in Xen's get_page_from_l1e /
 *    mod_lN_entry (docs/pv.md lists the few differences);
 *  - devices programmed with frames beyond memory, hypervisor frames and the
 *    IOMMU root: every page blocked and counted;
 *  - counts at their limit: refused, not wrapped. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>

#include "testutil_pv.h"

static void same_frame(struct tmachine *t, uint64_t mfn, const struct page_info *b)
{
    const struct page_info *a = frame(X(t), mfn);
    if (a->count != b->count || a->type_count != b->type_count || a->type != b->type || a->flags != b->flags)
        fail_msg("frame %#llx changed: count %u->%u type %u->%u type_count %u->%u flags %#x->%#x",
                 (unsigned long long)mfn, b->count, a->count, b->type, a->type, b->type_count, a->type_count,
                 b->flags, a->flags);
}

/* ---- MOV to CR3 of a frame that cannot be an L4 ------------------------------- */

static void test_cr3_write_of_non_l4(void **state)
{
    struct tmachine *t = boot("pv", NULL);
    struct xen *x = X(t);
    struct kernel *k = K(t);
    struct task *p = spawn_proc(t, 1, VA0, 1);
    struct cpu *c = &t->m.cpu;
    uint64_t data = kalloc_page(k, 0);
    uint64_t l1p = table_pfn(t, p->mm, VA0, 1), l2p = table_pfn(t, p->mm, VA0, 2);
    uint64_t ro = kalloc_page(k, 0);                       /* read-only, its entry maps a writable page */
    assert_int_equal(hc_mmu_update(t, p2m(t, ro), 0, pte_make(p2m(t, data), PT_TABLE_FLAGS), NULL), 0);
    assert_int_equal(hc_dmap(t, ro, 0), 0);
    const uint64_t bad[] = { data, l1p, l2p, ro, x->dom->nr_pages, x->dom->nr_pages + 12345, UINT64_MAX >> 12,
                             UINT64_MAX };
    uint64_t cr3 = c->cr3, root = c->hw_root, gt = x->guest_table, gtu = x->guest_table_user;
    for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint64_t mfn = p2m(t, bad[i]);
        struct page_info b = mfn != UINT64_MAX ? *frame(x, mfn) : (struct page_info){ 0 };
        uint64_t e0 = cnt(t, CNT_vm_exits_cr3);
        cpu_write_cr3(c, bad[i], 0, 0);                     /* #GP: the CPU keeps its root */
        assert_int_equal(cnt(t, CNT_vm_exits_cr3), e0 + 1);
        assert_int_equal(c->cr3, cr3);
        assert_int_equal(c->hw_root, root);
        assert_int_equal(x->guest_table, gt);
        assert_int_equal(x->guest_table_user, gtu);
        /* no reference gained or lost (a frame that failed validation as
         * an L4 is left untyped, as in Xen) */
        if (mfn != UINT64_MAX) {
            assert_int_equal(frame(x, mfn)->count, b.count);
            assert_int_equal(frame(x, mfn)->type_count, b.type_count);
            assert_false(frame(x, mfn)->flags & PGF_partial);
        }
        check_inv(t);
    }
    /* control: the process's own pgd loads */
    cpu_write_cr3(c, p->mm->pgd, 0, 0);
    assert_int_equal(c->cr3, p->mm->pgd);
    assert_int_equal(x->guest_table, p2m(t, p->mm->pgd));
    check_inv(t);
    schedule_to(k, p);                                      /* the kernel's own view again */
    assert_int_equal(hc_dmap(t, ro, 1), 0);
    assert_int_equal(hc_mmu_update(t, p2m(t, ro), 0, 0, NULL), 0);
    page_put(k, ro);
    page_put(k, data);
    finish(t, &p, 1);
}

/* ---- loads, stores and INVPCID of what the guest does not have ---------------- */

static void test_memory_beyond_the_guest(void **state)
{
    const char *modes[] = { "pv", "pv-pibooster" };
    for (unsigned m = 0; m < 2; m++) {
        struct tmachine *t = boot(modes[m], NULL);
        struct cpu *c = &t->m.cpu;
        uint64_t n = X(t)->dom->nr_pages;
        const uint64_t gfns[] = { n, n + 1, n * 4, UINT64_MAX >> 12, UINT64_MAX };
        uint64_t backed = t->m.mem.backed;
        for (unsigned i = 0; i < sizeof gfns / sizeof gfns[0]; i++) {
            assert_int_equal(cpu_load(c, gfns[i], 3), UINT64_MAX);
            assert_int_not_equal(cpu_store(c, gfns[i], 3, 0x1234), 0);
        }
        /* a word index beyond the page is no address a guest can form: refused */
        uint64_t mine = kalloc_page(K(t), 0);
        assert_int_not_equal(cpu_store(c, mine, PTRS_PER_TABLE, 1), 0);
        assert_int_equal(cpu_load(c, mine, PTRS_PER_TABLE), UINT64_MAX);
        assert_int_equal(t->m.mem.backed, backed);
        page_put(K(t), mine);
        /* INVPCID of an invalid type: #GP, nothing flushed */
        uint64_t fl = cnt(t, CNT_tlb_flush_page) + cnt(t, CNT_tlb_flush_pcid) + cnt(t, CNT_tlb_flush_all);
        assert_int_equal(cpu_invpcid(c, FLUSH_INVLPG, 0, 0), -1);
        assert_int_equal(cpu_invpcid(c, (enum tlb_flush_kind)77, 0, 0), -1);
        assert_int_equal(cnt(t, CNT_tlb_flush_page) + cnt(t, CNT_tlb_flush_pcid) + cnt(t, CNT_tlb_flush_all), fl);
        assert_int_equal(cpu_invpcid(c, FLUSH_INVPCID_SINGLE, 0, 0), 0);
        check_inv(t);
        finish(t, NULL, 0);
    }
}

/* ---- flags and errors as Xen's ------------------------------------------------- */

static void flags_case(int devices)
{
    struct tmachine *t = boot("pv", devices ? "xen.iommu_sync=true" : "xen.iommu_sync=false");
    struct xen *x = X(t);
    struct task *p = spawn_proc(t, 1, VA0, 1);
    uint64_t l1 = p2m(t, table_pfn(t, p->mm, VA0, 1)), l2 = p2m(t, table_pfn(t, p->mm, VA0, 2));
    uint64_t dp = kalloc_page(K(t), 0), d = p2m(t, dp);
    unsigned i1 = 200, i2 = 300;

    /* an L1 may hold G and the software bits 52-62, as in Xen */
    const uint64_t ok1[] = { _PAGE_GLOBAL, 1ull << 52, 0x7ff0000000000000ull, _PAGE_AVAIL0 | _PAGE_AVAIL2 };
    for (unsigned i = 0; i < 4; i++) {
        assert_int_equal(hc_mmu_update(t, l1, i1, pte_make(d, USER_RW | ok1[i]), NULL), 0);
        check_inv(t);
    }
    /* cache attributes (PWT, PCD, PAT) only with passthrough devices */
    const uint64_t cache[] = { _PAGE_PWT, _PAGE_PCD, _PAGE_PSE };
    for (unsigned i = 0; i < 3; i++) {
        long rc = hc_mmu_update(t, l1, i1 + 1, pte_make(d, USER_RO | cache[i]), NULL);
        assert_int_equal(rc, devices ? 0 : -EINVAL);
        /* the fast path (same frame, same RW) checks them too */
        rc = hc_mmu_update(t, l1, i1, pte_make(d, USER_RW | cache[i]), NULL);
        assert_int_equal(rc, devices ? 0 : -EINVAL);
        check_inv(t);
    }
    assert_int_equal(hc_mmu_update(t, l1, i1, 0, NULL), 0);
    assert_int_equal(hc_mmu_update(t, l1, i1 + 1, 0, NULL), 0);
    /* an L2 entry may not have PWT, PCD, PSE (no superpages) or G */
    uint64_t np = kalloc_page(K(t), 0), n1 = p2m(t, np);
    assert_int_equal(hc_dmap(t, np, 0), 0);
    const uint64_t bad2[] = { _PAGE_PWT, _PAGE_PCD, _PAGE_PSE, _PAGE_GLOBAL };
    for (unsigned i = 0; i < 4; i++) {
        assert_int_equal(hc_mmu_update(t, l2, i2, pte_make(n1, PT_TABLE_FLAGS | bad2[i]), NULL), -EINVAL);
        assert_int_equal(pmem_read(&t->m.mem, l2, i2), 0);
    }
    assert_int_equal(hc_mmu_update(t, l2, i2, pte_make(n1, PT_TABLE_FLAGS | (1ull << 60)), NULL), 0);
    check_inv(t);
    assert_int_equal(hc_mmu_update(t, l2, i2, pte_make(n1, PT_TABLE_FLAGS | _PAGE_GLOBAL), NULL), -EINVAL);
    assert_int_equal(hc_mmu_update(t, l2, i2, 0, NULL), 0);
    assert_int_equal(hc_dmap(t, np, 1), 0);
    page_put(K(t), np);
    /* the direct map's entry is checked as an L1 entry */
    if (!devices)
        assert_int_equal(hc_uva(t, DIRECTMAP_BASE + (dp << PAGE_SHIFT), pte_make(d, PAGE_KERNEL | _PAGE_PCD), 0),
                         -EINVAL);
    assert_int_equal(hc_uva(t, DIRECTMAP_BASE + (dp << PAGE_SHIFT), pte_make(d, PAGE_KERNEL | _PAGE_GLOBAL), 0), 0);
    check_inv(t);
    page_put(K(t), dp);
    (void)x;
    finish(t, &p, 1);
}

static void test_entry_flags_with_devices(void **state) { flags_case(1); }
static void test_entry_flags_without_devices(void **state) { flags_case(0); }

static void test_error_codes(void **state)
{
    struct tmachine *t = boot("pv", NULL);
    struct xen *x = X(t);
    struct task *p = spawn_proc(t, 1, VA0, 1);
    uint64_t l1p = table_pfn(t, p->mm, VA0, 1), l1 = p2m(t, l1p);
    uint64_t l2 = p2m(t, table_pfn(t, p->mm, VA0, 2));
    unsigned idx = 77;
    struct {
        uint64_t frame;
        long l1;         /* get_page_from_l1e */
        long l2;         /* get_page_from_l2e: not an owned L1, not a linear L2 */
    } cases[] = {
        { x->nframes, -EPERM, -EINVAL },                           /* beyond RAM: no I/O permission */
        { (PTE_FRAME_MASK >> PAGE_SHIFT) - 1, -EPERM, -EINVAL },
        { PTE_FRAME_MASK >> PAGE_SHIFT, -EINVAL, -EINVAL },        /* INVALID_MFN */
        { 0x20, -EPERM, -EINVAL },                                 /* the first MiB: dom_io */
        { 0x800, -EBUSY, -EINVAL },                                /* Xen's own, not allocated to anyone */
        { hv_heap_free_frame(x->h, 0), -EBUSY, -EINVAL },          /* Xen's heap */
        { x->dom->vtd.root, -EBUSY, -EINVAL },                     /* the IOMMU root */
    };
    for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(hc_mmu_update(t, l1, idx, pte_make(cases[i].frame, USER_RO), NULL), cases[i].l1);
        assert_int_equal(hc_mmu_update(t, l1, idx, pte_make(cases[i].frame, USER_RW), NULL), cases[i].l1);
        assert_int_equal(hc_mmu_update(t, l2, idx, pte_make(cases[i].frame, PT_TABLE_FLAGS), NULL), cases[i].l2);
        /* the same through ptwr emulation: the store faults */
        assert_int_not_equal(cpu_store(&t->m.cpu, l1p, idx, pte_make(cases[i].frame, USER_RO)), 0);
        /* as the target of mmu_update or a pin: not the guest's */
        assert_int_equal(hc_mmu_update(t, cases[i].frame, 0, 0, NULL), -EINVAL);
        assert_int_equal(hc_ext(t, MMUEXT_PIN_L1_TABLE, cases[i].frame), -EINVAL);
        assert_int_equal(hc_ext(t, MMUEXT_NEW_BASEPTR, cases[i].frame), -EINVAL);
        assert_int_equal(hc_ext(t, MMUEXT_UNPIN_TABLE, cases[i].frame), -EINVAL);
        assert_int_equal(pmem_read(&t->m.mem, l1, idx), 0);
        assert_int_equal(pmem_read(&t->m.mem, l2, idx), 0);
        check_inv(t);
    }
    /* commands memvirt does not model: -ENOSYS (docs/pv.md) */
    for (unsigned cmd = 1; cmd < 8; cmd++) {
        struct mmu_update u = { (l1 << PAGE_SHIFT) | ((uint64_t)idx << 3) | cmd, 0 };
        struct mmu_update_args a = { &u, 1, 0 };
        assert_int_equal(cpu_hypercall(&t->m.cpu, __HYPERVISOR_mmu_update, &a), -ENOSYS);
    }
    const unsigned ext_cmds[] = { 10, 11, 12, 13, 16, 17, 18, 19, 20, 99, UINT32_MAX };
    for (unsigned i = 0; i < sizeof ext_cmds / sizeof ext_cmds[0]; i++)
        assert_int_equal(hc_ext(t, ext_cmds[i], l1), -ENOSYS);
    assert_int_equal(cpu_hypercall(&t->m.cpu, 9999, NULL), -ENOSYS);
    assert_int_equal(cpu_hypercall(&t->m.cpu, __HYPERVISOR_ptcache_op, NULL), -ENOSYS);   /* pv: no PiBooster */
    check_inv(t);
    finish(t, &p, 1);
}

/* ---- devices aimed at what is not the guest's ---------------------------------- */

static void test_dma_rings_beyond_memory(void **state)
{
    struct tmachine *t = boot("pv", NULL);
    struct xen *x = X(t);
    struct hv *h = x->h;
    uint64_t mine_pfn = kalloc_page(K(t), 0), mine = p2m(t, mine_pfn);
    const uint64_t ring[] = { x->nframes, x->nframes + 999, UINT64_MAX, 1ull << 36, hv_heap_free_frame(h, 0),
                              x->dom->vtd.root, 0x20, mine };
    unsigned n = sizeof ring / sizeof ring[0];
    hv_set_rings(h, ring, ring, n, ring, n);
    uint64_t f0 = h->nic.faults + h->disk.faults, p0 = h->nic.pages + h->disk.pages;
    hv_dma(h, "nic", n * PAGE_SIZE, 1);
    hv_dma(h, "disk", n * PAGE_SIZE, 0);
    assert_int_equal(h->nic.faults + h->disk.faults - f0, 2 * (n - 1));
    assert_int_equal(h->nic.pages + h->disk.pages - p0, 2);     /* only the guest's own page */
    check_inv(t);
    page_put(K(t), mine_pfn);
    finish(t, NULL, 0);
}

/* ---- counts at their limit ------------------------------------------------------ */

static void test_counts_do_not_wrap(void **state)
{
    struct tmachine *t = boot("pv", NULL);
    struct xen *x = X(t);
    struct task *p = spawn_proc(t, 1, VA0, 1);
    uint64_t l1 = p2m(t, table_pfn(t, p->mm, VA0, 1));
    uint64_t dp = kalloc_page(K(t), 0), d = p2m(t, dp);
    struct page_info *f = frame(x, d);
    struct page_info b = *f;
    /* as if 2^32 - 1 references were held: one more is refused */
    f->count = UINT32_MAX;
    assert_int_equal(hc_mmu_update(t, l1, 90, pte_make(d, USER_RO), NULL), -EBUSY);
    f->count = b.count;
    f->type_count = UINT32_MAX;
    assert_int_equal(hc_mmu_update(t, l1, 90, pte_make(d, USER_RW), NULL), -EBUSY);
    f->type_count = b.type_count;
    same_frame(t, d, &b);
    assert_int_equal(pmem_read(&t->m.mem, l1, 90), 0);
    check_inv(t);
    page_put(K(t), dp);
    finish(t, &p, 1);
}

/* ---- user faults on anything ------------------------------------------------------ */

static void test_user_faults_bounce(void **state)
{
    struct tmachine *t = boot("pv", NULL);
    struct cpu *c = &t->m.cpu;
    const uint64_t vas[] = { 0, 0x1000, USER_VA_END - 8, USER_VA_END, 0x800000000000ull, DIRECTMAP_BASE,
                             UINT64_MAX };
    for (unsigned i = 0; i < sizeof vas / sizeof vas[0]; i++) {
        for (int acc = ACC_READ; acc <= ACC_EXEC; acc++) {
            uint64_t mfn, e0 = cnt(t, CNT_vm_exits_pf);
            uint32_t pfec = cpu_access(c, vas[i], (enum access)acc, &mfn);
            assert_int_not_equal(pfec, 0);
            assert_int_equal(cpu_raise_pf(c, vas[i], pfec, &mfn), 0);   /* to the guest */
            assert_int_equal(cnt(t, CNT_vm_exits_pf), e0 + 1);
        }
    }
    check_inv(t);
    finish(t, NULL, 0);
}

int main(void)
{
    mv_error_quiet(1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cr3_write_of_non_l4),
        cmocka_unit_test(test_memory_beyond_the_guest),
        cmocka_unit_test(test_entry_flags_with_devices),
        cmocka_unit_test(test_entry_flags_without_devices),
        cmocka_unit_test(test_error_codes),
        cmocka_unit_test(test_dma_rings_beyond_memory),
        cmocka_unit_test(test_counts_do_not_wrap),
        cmocka_unit_test(test_user_faults_bounce),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

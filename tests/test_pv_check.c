/* test_pv_check.c: each condition of the PV invariant checker
 * (src/hv/pv/pv_check.c) breaks on purpose and is caught by that condition,
 * named in its message. Each case builds a correct domain (pv or
 * pv-pibooster, a process with real pinned tables), sees pv_check accept it,
 * breaks exactly one property through the real structures (a frame's type
 * or flags, an IOMMU entry, an IOTLB entry, a TLB entry, a table entry) and
 * expects the report, then repairs it and sees the check pass again. These
 * are the conditions an attack review found could be switched off with
 * every other test still passing (tests/test_checkers.c covers the rest):
 *  - a PiBooster-cached frame (writable type) left DMA-writable;
 *  - a writable frame missing from the IOMMU, or mapped to another frame;
 *  - an I/O superpage (Xen 4.17's driver) covering a page-table frame;
 *  - a stale writable IOTLB entry for a PiBooster-cached frame;
 *  - a live table mapped writable through the direct map, its type
 *    reference taken as if the mapping were legal;
 *  - an L2, L3 or L4 entry naming a frame the domain does not own;
 *  - linear-entry counts that disagree with the tables;
 *  - an L2 entry naming a writable data frame (type confusion), its
 *    general and type references taken, seen by the writable type count;
 *  - a stale writable TLB entry for a table frame in the L1 2M and 1G TLBs
 *    and in the STLB (not only the L1 4K TLB), and a writable 2M entry
 *    whose first frame is plain memory but which covers tables. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "guest/ptcache.h"
#include "testutil_pv.h"

/* pv_check reports, and its message contains what. */
static void expect_report(struct tmachine *t, const char *what)
{
    char msg[512] = "";
    if (!pv_check(X(t), msg, sizeof msg))
        fail_msg("pv_check passed; expected a report about \"%s\"", what);
    if (!strstr(msg, what))
        fail_msg("pv_check reported \"%s\"; expected a report about \"%s\"", msg, what);
}

/* The I/O page tables' level-2 entry for frame mfn (1:1, a PV domain), and
 * where it is kept (*table, *idx). */
static pte_t io_l2_entry(struct tmachine *t, uint64_t mfn, uint64_t *table, unsigned *idx)
{
    const struct vtd_domain *vd = &X(t)->dom->vtd;
    uint64_t tb = vd->root, va = mfn << PAGE_SHIFT;
    for (unsigned lvl = 4; lvl > 2; lvl--) {
        pte_t e = pmem_read(&t->m.mem, tb, pt_index(va, lvl));
        assert_true(pte_present(e) && !pte_leaf(e, lvl));
        tb = pte_frame(e);
    }
    *table = tb;
    *idx = pt_index(va, 2);
    return pmem_read(&t->m.mem, tb, *idx);
}

/* A frame of the PiBooster pool: writable to Xen, flagged, out of the IOMMU.
 * *p gets the process still alive (its tables are in use). */
static uint64_t pooled_frame(struct tmachine *t, struct task **p)
{
    struct task *gone = spawn_proc(t, 2, VA0, NPAGES);
    *p = spawn_proc(t, 1, VA0, NPAGES);
    do_exit(K(t), gone);
    schedule_to(K(t), *p);
    assert_true(ptcache_pool_size(K(t), 1) > 0);
    uint64_t mfn = p2m(t, K(t)->ptc->pool[1].pfn[0]);
    struct page_info *f = frame(X(t), mfn);
    assert_int_equal(f->type, PGT_writable);
    assert_true(f->flags & PGF_ptcache);
    assert_true(X(t)->dom->iommu_attached);
    assert_false(io_mapped(t, mfn, NULL));
    check_inv(t);
    return mfn;
}

/* Machine frame of the data page mapped at va. */
static uint64_t data_mfn(struct tmachine *t, struct mm *mm, uint64_t va)
{
    pte_t e = pmem_read(&t->m.mem, p2m(t, table_pfn(t, mm, va, 1)), pt_index(va, 1));
    assert_true(pte_present(e));
    return pte_frame(e);
}

/* ---- 4: the IOMMU ------------------------------------------------------------ */

/* A cached frame has writable type, so only its flag protects it. */
static void test_ptcache_frame_dma_writable(void **state)
{
    (void)state;
    struct tmachine *t = boot("pv-pibooster", NULL);
    struct task *p;
    uint64_t mfn = pooled_frame(t, &p);
    vtd_map_page(&X(t)->dom->vtd, mfn, mfn, 1);
    expect_report(t, "PiBooster-cached frame");
    expect_report(t, "is DMA-writable through the IOMMU");
    vtd_unmap_page(&X(t)->dom->vtd, mfn);
    finish(t, &p, 1);
}

/* Xen 4.17's driver: the domain's memory is mapped with I/O superpages,
 * split around each page-table frame. A superpage that covers one again
 * (a coalesce that missed a table among its pages) is caught. */
static void test_io_superpage_covers_table(void **state)
{
    (void)state;
    struct tmachine *t = boot("pv", "xen.iommu_profile=xen-4.17");
    struct task *p = spawn_proc(t, 1, VA0, NPAGES);
    uint64_t l1 = p2m(t, table_pfn(t, p->mm, VA0, 1)), table;
    unsigned idx;
    pte_t e = io_l2_entry(t, l1, &table, &idx);
    assert_false(pte_leaf(e, 2));                    /* split: a table of 4 KiB entries */
    assert_false(io_mapped(t, l1, NULL));
    assert_int_equal(X(t)->dom->vtd.sp_level, 3);
    assert_true(X(t)->dom->vtd.table_pages < X(t)->dom->nr_pages / 512);   /* fewer than 4 KiB entries need */
    check_inv(t);
    pmem_write(&t->m.mem, table, idx, pte_make(l1 & ~511ull, _PAGE_PRESENT | _PAGE_RW | _PAGE_PSE));
    expect_report(t, "page-table frame");
    expect_report(t, "is DMA-writable through the IOMMU");
    pmem_write(&t->m.mem, table, idx, e);
    finish(t, &p, 1);
}

static void test_writable_frame_not_in_iommu(void **state)
{
    (void)state;
    struct tmachine *t = boot("pv", NULL);
    struct task *p = spawn_proc(t, 1, VA0, NPAGES);
    uint64_t d = data_mfn(t, p->mm, VA0), other = data_mfn(t, p->mm, VA0 + PAGE_SIZE);
    assert_int_equal(frame(X(t), d)->type, PGT_writable);
    assert_true(io_mapped(t, d, NULL));
    check_inv(t);
    /* unmapped: the device loses a frame it may use (the IOMMU out of sync) */
    vtd_unmap_page(&X(t)->dom->vtd, d);
    expect_report(t, "not mapped 1:1 in the IOMMU");
    /* mapped, but to another frame: a device writing d writes other */
    vtd_map_page(&X(t)->dom->vtd, d, other, 1);
    expect_report(t, "not mapped 1:1 in the IOMMU");
    vtd_map_page(&X(t)->dom->vtd, d, d, 1);
    finish(t, &p, 1);
}

/* unit: the VT-d unit to break (1: the disk's, with iommu.units=2). */
static void stale_iotlb_ptcache_frame(unsigned unit)
{
    struct tmachine *t = boot("pv-pibooster", unit ? "iommu.units=2" : NULL);
    struct task *p;
    uint64_t mfn = pooled_frame(t, &p);
    struct iommu *io = hv_iommu_unit(X(t)->h, unit);
    uint64_t tag = io->tlb_tag[0], tmfn = io->tlb_mfn[0];
    uint8_t w = io->tlb_w[0];
    io->tlb_tag[0] = (mfn << 17) | ((uint64_t)X(t)->dom->id << 1) | 1;
    io->tlb_mfn[0] = mfn;
    io->tlb_w[0] = 1;
    expect_report(t, "stale IOTLB entry grants DMA write to PiBooster-cached frame");
    expect_report(t, unit ? "(VT-d unit 1)" : "(VT-d unit 0)");
    io->tlb_tag[0] = tag;
    io->tlb_mfn[0] = tmfn;
    io->tlb_w[0] = w;
    finish(t, &p, 1);
}

static void test_stale_iotlb_ptcache_frame(void **state) { (void)state; stale_iotlb_ptcache_frame(0); }
static void test_stale_iotlb_second_unit(void **state) { (void)state; stale_iotlb_ptcache_frame(1); }

/* ---- 2 and 3: writable mappings and counts ---------------------------------------- */

/* The direct map made writable over a live L1 the way a dmap_set that
 * forgot the type check would: the flag and its writable type reference,
 * so that every count agrees and only the rule itself is broken. */
static void test_table_writable_through_direct_map(void **state)
{
    (void)state;
    struct tmachine *t = boot("pv", NULL);
    struct task *p = spawn_proc(t, 1, VA0, NPAGES);
    uint64_t l1 = p2m(t, table_pfn(t, p->mm, VA0, 1));
    struct page_info *f = frame(X(t), l1);
    assert_int_equal(f->type, PGT_l1);
    assert_false(f->flags & PGF_dmap_rw);
    check_inv(t);
    f->flags |= PGF_dmap_rw;
    f->type_count++;
    expect_report(t, "is mapped writable 1 time(s)");
    f->flags &= (uint8_t)~PGF_dmap_rw;
    f->type_count--;
    finish(t, &p, 1);
}

/* An empty entry of the validated table at mfn (a level-lvl table). */
static unsigned free_slot(struct tmachine *t, uint64_t mfn, unsigned lvl, unsigned from)
{
    struct page_info *f = frame(X(t), mfn);
    assert_int_equal(f->type, lvl);
    assert_true((f->flags & PGF_validated) && f->type_count);
    for (unsigned i = from; i < PTRS_PER_TABLE; i++)
        if (!pte_present(pmem_read(&t->m.mem, mfn, i)))
            return i;
    fail_msg("no free entry in L%u table %#llx", lvl, (unsigned long long)mfn);
    return 0;
}

/* An entry of each upper level naming a hypervisor frame (not only L1s are
 * scanned for foreign frames). */
static void test_upper_entry_foreign_frame(void **state)
{
    (void)state;
    struct tmachine *t = boot("pv", NULL);
    struct task *p = spawn_proc(t, 1, VA0, NPAGES);
    uint64_t heap = hv_heap_free_frame(X(t)->h, 0);
    assert_false(hv_owns(X(t)->h, heap));
    check_inv(t);
    for (unsigned lvl = 2; lvl <= 4; lvl++) {
        uint64_t mfn = p2m(t, table_pfn(t, p->mm, VA0, lvl));
        unsigned i = free_slot(t, mfn, lvl, 1);
        pmem_write(&t->m.mem, mfn, i, pte_make(heap, _PAGE_PRESENT | _PAGE_USER | _PAGE_ACCESSED));
        char what[64];
        snprintf(what, sizeof what, "L%u table", lvl);
        expect_report(t, what);
        expect_report(t, "the domain does not own");
        pmem_write(&t->m.mem, mfn, i, 0);
        check_inv(t);
    }
    finish(t, &p, 1);
}

/* The count of linear entries a table holds, off by one either way (the
 * count of linear uses: tests/test_checkers.c): one too many on a table
 * without any, one too few on a table holding a real linear entry (an L2
 * naming another pinned L2, with xen.linear_pt on). */
static void test_linear_entries_count(void **state)
{
    (void)state;
    struct tmachine *t = boot("pv", "xen.linear_pt=true");
    struct task *p = spawn_proc(t, 1, VA0, NPAGES);
    struct page_info *f = frame(X(t), p2m(t, table_pfn(t, p->mm, VA0, 2)));
    assert_int_equal(f->linear_entries, 0);
    check_inv(t);
    f->linear_entries++;
    expect_report(t, "linear uses/entries 0/1 but 0/0 exist");
    f->linear_entries--;
    check_inv(t);
    uint64_t pfn[2], m[2];
    for (unsigned i = 0; i < 2; i++) {
        pfn[i] = kalloc_page(K(t), 0);
        m[i] = p2m(t, pfn[i]);
        assert_int_equal(hc_dmap(t, pfn[i], 0), 0);
        assert_int_equal(hc_ext(t, MMUEXT_PIN_L2_TABLE, m[i]), 0);
    }
    assert_int_equal(hc_mmu_update(t, m[0], 0, pte_make(m[1], _PAGE_PRESENT | _PAGE_ACCESSED), NULL), 0);
    struct page_info *a = frame(X(t), m[0]), *b = frame(X(t), m[1]);
    assert_int_equal(a->linear_entries, 1);
    assert_int_equal(b->linear_uses, 1);
    check_inv(t);
    a->linear_entries--;
    expect_report(t, "linear uses/entries 0/0 but 0/1 exist");
    a->linear_entries++;
    check_inv(t);
    assert_int_equal(hc_mmu_update(t, m[0], 0, 0, NULL), 0);
    for (unsigned i = 0; i < 2; i++) {
        assert_int_equal(hc_ext(t, MMUEXT_UNPIN_TABLE, m[i]), 0);
        assert_int_equal(hc_dmap(t, pfn[i], 1), 0);
        page_put(K(t), pfn[i]);
    }
    finish(t, &p, 1);
}

/* Type confusion: a validated L2's entry naming a writable data frame
 * directly, as if it were an L1 (the guest could then write "page-table
 * entries" Xen never validated). The frame's general and type counts are
 * raised by the reference such an entry holds, so those rules agree; only
 * the writable type count, which must equal the frame's writable mappings
 * (an L2 entry is none), sees it. */
static void test_l2_entry_to_writable_frame(void **state)
{
    (void)state;
    struct tmachine *t = boot("pv", NULL);
    struct task *p = spawn_proc(t, 1, VA0, NPAGES);
    uint64_t d = data_mfn(t, p->mm, VA0);
    struct page_info *f = frame(X(t), d);
    assert_int_equal(f->type, PGT_writable);
    check_inv(t);
    uint64_t l2 = p2m(t, table_pfn(t, p->mm, VA0, 2));
    unsigned i = free_slot(t, l2, 2, 1);
    pmem_write(&t->m.mem, l2, i, pte_make(d, _PAGE_PRESENT | _PAGE_RW | _PAGE_USER | _PAGE_ACCESSED));
    f->count++;
    f->type_count++;
    char what[128];
    snprintf(what, sizeof what, "frame %#llx: writable type count %u but %u writable mappings",
             (unsigned long long)d, f->type_count, f->type_count - 1);
    expect_report(t, what);
    pmem_write(&t->m.mem, l2, i, 0);
    f->count--;
    f->type_count--;
    finish(t, &p, 1);
}

/* ---- 5: the TLBs ------------------------------------------------------------------ */

/* A writable translation of size sz to the live L1 at va 0x7000000000, in
 * whatever arrays the geometry of boot parameter `geom` puts it. */
static void stale_tlb_entry(const char *geom, enum page_size sz, const struct tlb_array *(*where)(struct tlb *))
{
    struct tmachine *t = boot("pv", geom);
    struct task *p = spawn_proc(t, 1, VA0, NPAGES);
    uint64_t l1 = p2m(t, table_pfn(t, p->mm, VA0, 1));
    struct tlb *tlb = &t->m.cpu.tlb;
    check_inv(t);
    cpu_hw_flush(&t->m.cpu, 1);
    struct tlb_xlate w = { .frame = l1, .flags = TLB_W | TLB_U | TLB_D, .size = (uint8_t)sz };
    tlb_insert_missed(tlb, 0x7000000000ull, 0, &w);
    /* the entry sits in the array under test and in no other */
    const struct tlb_array *target = where(tlb);
    const struct tlb_array *all[] = { &tlb->l1[PG_4K], &tlb->l1[PG_2M], &tlb->l1[PG_1G], &tlb->l2 };
    for (unsigned a = 0; a < 4; a++) {
        unsigned n = 0;
        for (uint64_t i = 0; all[a]->tag && i < (uint64_t)all[a]->sets * all[a]->ways; i++)
            n += tlb_slot_valid(all[a], i) && all[a]->frame[i] == l1;
        assert_int_equal(n, all[a] == target);
    }
    expect_report(t, "a stale TLB entry grants write to frame");
    cpu_hw_flush(&t->m.cpu, 1);
    finish(t, &p, 1);
}

static const struct tlb_array *l1_2m(struct tlb *t) { return &t->l1[PG_2M]; }
static const struct tlb_array *l1_1g(struct tlb *t) { return &t->l1[PG_1G]; }
static const struct tlb_array *stlb(struct tlb *t) { return &t->l2; }

static void test_stale_tlb_l1_2m(void **state) { (void)state; stale_tlb_entry("tlb.l2_2m=false", PG_2M, l1_2m); }
static void test_stale_tlb_l1_1g(void **state) { (void)state; stale_tlb_entry(NULL, PG_1G, l1_1g); }
/* no L1 4K array: a 4K translation lives in the STLB alone */
static void test_stale_tlb_stlb(void **state) { (void)state; stale_tlb_entry("tlb.l1_4k_entries=0", PG_4K, stlb); }

/* A writable 2M entry whose first frame is plain memory but which covers
 * live tables further in (A's L1 at least): a write through it reaches them
 * all the same. */
static void test_stale_tlb_2m_covers_table(void **state)
{
    (void)state;
    struct tmachine *t = boot("pv", "tlb.l2_2m=false");
    struct task *p = spawn_proc(t, 1, VA0, NPAGES);
    uint64_t l1 = p2m(t, table_pfn(t, p->mm, VA0, 1)), base = l1 & ~511ull;
    assert_true(l1 != base);
    assert_int_equal(frame(X(t), base)->type, PGT_writable);
    check_inv(t);
    cpu_hw_flush(&t->m.cpu, 1);
    struct tlb_xlate w = { .frame = base, .flags = TLB_W | TLB_U | TLB_D, .size = PG_2M };
    tlb_insert_missed(&t->m.cpu.tlb, 0x7000000000ull, 0, &w);
    uint64_t f = base;                              /* the first table it covers: l1 or before */
    while (frame(X(t), f)->type == PGT_writable)
        f++;
    assert_true(f > base && f <= l1 && pgt_is_table(frame(X(t), f)->type));
    char what[96];
    snprintf(what, sizeof what, "a stale TLB entry grants write to frame %#llx (type %u)", (unsigned long long)f,
             frame(X(t), f)->type);
    expect_report(t, what);
    cpu_hw_flush(&t->m.cpu, 1);
    finish(t, &p, 1);
}

int main(void)
{
    mv_error_quiet(1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ptcache_frame_dma_writable),
        cmocka_unit_test(test_writable_frame_not_in_iommu),
        cmocka_unit_test(test_io_superpage_covers_table),
        cmocka_unit_test(test_stale_iotlb_ptcache_frame),
        cmocka_unit_test(test_stale_iotlb_second_unit),
        cmocka_unit_test(test_table_writable_through_direct_map),
        cmocka_unit_test(test_upper_entry_foreign_frame),
        cmocka_unit_test(test_linear_entries_count),
        cmocka_unit_test(test_l2_entry_to_writable_frame),
        cmocka_unit_test(test_stale_tlb_l1_2m),
        cmocka_unit_test(test_stale_tlb_l1_1g),
        cmocka_unit_test(test_stale_tlb_stlb),
        cmocka_unit_test(test_stale_tlb_2m_covers_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

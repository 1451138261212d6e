/* test_vtd.c: the hypervisor's VT-d driver: building and tearing down a
 * domain's I/O page tables, the flush flags of map/unmap, and which of them
 * turn into IOTLB invalidations (Xen's rules, docs/research §C). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "hv/vtd.h"
#include "testutil_io.h"

#define DID 5
#define DEV 2

struct fx {
    struct io_fx hw;                     /* the IOMMU unit under the driver */
    struct vtd_domain vd;
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    io_fx_init(&f->hw);
    assert_int_equal(vtd_domain_init(&f->vd, &f->hw.io, DID, io_fx_count_alloc, io_fx_count_free, &f->hw), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    vtd_domain_destroy(&f->vd);
    io_fx_destroy(&f->hw);
    free(f);
    return 0;
}

static uint64_t invs(const struct fx *f)
{
    return f->hw.st.cnt[CNT_iotlb_inv_psi] + f->hw.st.cnt[CNT_iotlb_inv_dsi] + f->hw.st.cnt[CNT_iotlb_inv_global];
}

static void test_init_root(void **state)
{
    struct fx *f = *state;
    assert_int_equal(f->hw.allocs, 1);
    assert_int_equal(f->vd.root, 0x1000);
    assert_int_equal(f->vd.table_pages, 0);
    assert_int_equal(f->vd.mapped, 0);
    struct fx g = { .hw.next_frame = 0x1000, .hw.limit = 0 };
    struct vtd_domain vd;
    assert_int_equal(vtd_domain_init(&vd, &f->hw.io, DID + 1, io_fx_count_alloc, io_fx_count_free, &g.hw), -1);
}

static void test_map_lookup(void **state)
{
    struct fx *f = *state;
    uint64_t mfn;
    int w;
    assert_int_equal(vtd_lookup(&f->vd, 0x1234, &mfn, &w), -1);
    assert_int_equal(vtd_map_page(&f->vd, 0x1234, 0x8000, 1), VTD_ADDED);
    assert_int_equal(vtd_map_page(&f->vd, 0x1235, 0x8001, 0), VTD_ADDED);
    assert_int_equal(vtd_lookup(&f->vd, 0x1234, &mfn, &w), 0);
    assert_int_equal(mfn, 0x8000);
    assert_int_equal(w, 1);
    assert_int_equal(vtd_lookup(&f->vd, 0x1235, &mfn, &w), 0);
    assert_int_equal(mfn, 0x8001);
    assert_int_equal(w, 0);
    assert_int_equal(vtd_lookup(&f->vd, 0x1236, &mfn, &w), -1);
    assert_int_equal(f->vd.mapped, 2);
    /* the leaf format the hardware reads */
    uint64_t t = f->vd.root;
    for (unsigned l = 4; l > 1; l--) {
        pte_t e = pmem_read(&f->hw.mem, t, pt_index(0x1234ull << PAGE_SHIFT, l));
        assert_int_equal(e & PTE_FLAGS_MASK, _PAGE_PRESENT | _PAGE_RW);
        t = pte_frame(e);
    }
    assert_int_equal(pmem_read(&f->hw.mem, t, 0x34), pte_make(0x8000, _PAGE_PRESENT | _PAGE_RW));
    assert_int_equal(pmem_read(&f->hw.mem, t, 0x35), pte_make(0x8001, _PAGE_PRESENT));
}

static void test_identical_remap(void **state)
{
    struct fx *f = *state;
    assert_int_equal(vtd_map_page(&f->vd, 7, 0x8000, 1), VTD_ADDED);
    uint64_t c0 = f->hw.st.cyc[CYC_iommu];
    assert_int_equal(vtd_map_page(&f->vd, 7, 0x8000, 1), 0);
    assert_int_equal(f->hw.st.cyc[CYC_iommu], c0);       /* nothing written */
    assert_int_equal(f->vd.mapped, 1);
}

static void test_modified(void **state)
{
    struct fx *f = *state;
    uint64_t mfn;
    int w;
    vtd_map_page(&f->vd, 7, 0x8000, 1);
    assert_int_equal(vtd_map_page(&f->vd, 7, 0x8001, 1), VTD_MODIFIED);   /* other frame */
    assert_int_equal(vtd_map_page(&f->vd, 7, 0x8001, 0), VTD_MODIFIED);   /* permission */
    assert_int_equal(vtd_lookup(&f->vd, 7, &mfn, &w), 0);
    assert_int_equal(mfn, 0x8001);
    assert_int_equal(w, 0);
    assert_int_equal(f->vd.mapped, 1);
}

static void test_unmap(void **state)
{
    struct fx *f = *state;
    uint64_t mfn;
    int w;
    assert_int_equal(vtd_unmap_page(&f->vd, 7), 0);       /* no tables at all */
    vtd_map_page(&f->vd, 7, 0x8000, 1);
    assert_int_equal(vtd_unmap_page(&f->vd, 8), 0);       /* table, empty leaf */
    uint64_t c0 = f->hw.st.cyc[CYC_iommu];
    assert_int_equal(vtd_unmap_page(&f->vd, 7), VTD_MODIFIED);
    assert_int_equal(f->hw.st.cyc[CYC_iommu] - c0, f->hw.cost.iommu_pte);
    assert_int_equal(vtd_unmap_page(&f->vd, 7), 0);
    assert_int_equal(vtd_lookup(&f->vd, 7, &mfn, &w), -1);
    assert_int_equal(f->vd.mapped, 0);
    assert_int_equal(vtd_map_page(&f->vd, 7, 0x8000, 1), VTD_ADDED);
}

static void test_table_pages(void **state)
{
    struct fx *f = *state;
    uint64_t c0 = f->hw.st.cyc[CYC_iommu];
    vtd_map_page(&f->vd, 0, 0x8000, 1);
    assert_int_equal(f->vd.table_pages, 3);               /* L3, L2, L1 */
    assert_int_equal(f->hw.allocs, 4);                       /* plus the root */
    assert_int_equal(f->hw.st.cyc[CYC_iommu] - c0, 4 * f->hw.cost.iommu_pte);  /* 3 links + leaf */
    vtd_map_page(&f->vd, 1, 0x8001, 1);
    assert_int_equal(f->vd.table_pages, 3);
    vtd_map_page(&f->vd, 512, 0x8002, 1);                 /* 2 MiB away: a new L1 */
    assert_int_equal(f->vd.table_pages, 4);
    vtd_map_page(&f->vd, 1ull << 18, 0x8003, 1);          /* 1 GiB away: L2 + L1 */
    assert_int_equal(f->vd.table_pages, 6);
    vtd_map_page(&f->vd, 1ull << 27, 0x8004, 1);          /* 512 GiB away: L3 + L2 + L1 */
    assert_int_equal(f->vd.table_pages, 9);
    assert_int_equal(f->hw.allocs, 10);
    vtd_unmap_page(&f->vd, 512);                          /* tables are kept */
    assert_int_equal(f->vd.table_pages, 9);
}

static void test_destroy_frees_all(void **state)
{
    struct fx *f = *state;
    vtd_map_page(&f->vd, 0, 0x8000, 1);
    vtd_map_page(&f->vd, 512, 0x8002, 1);
    vtd_map_page(&f->vd, 1ull << 27, 0x8004, 0);
    vtd_unmap_page(&f->vd, 512);
    uint64_t tables = f->vd.table_pages;
    assert_int_equal(tables, 7);
    assert_true(f->hw.mem.backed > 0);
    vtd_domain_destroy(&f->vd);
    assert_int_equal(f->hw.frees, tables + 1);
    assert_int_equal(f->hw.frees, f->hw.allocs);
    assert_int_equal(f->vd.table_pages, 0);
    assert_int_equal(f->vd.mapped, 0);
    assert_int_equal(f->hw.mem.backed, 0);                /* frames handed back zeroed */
    vtd_domain_destroy(&f->vd);                           /* idempotent (teardown too) */
    assert_int_equal(f->hw.frees, tables + 1);
}

static void test_destroy_detaches(void **state)
{
    struct fx *f = *state;
    vtd_map_page(&f->vd, 3, 0x8000, 1);
    vtd_assign_device(&f->vd, &f->hw.io, DEV);
    uint64_t mfn;
    assert_int_equal(iommu_dma(&f->hw.io, DEV, 3, 1, &mfn), 0);
    assert_int_equal(iommu_iotlb_count(&f->hw.io), 1);
    vtd_domain_destroy(&f->vd);
    assert_false(f->hw.io.ctx[DEV].present);
    assert_int_equal(iommu_iotlb_count(&f->hw.io), 0);
    assert_int_equal(iommu_dma(&f->hw.io, DEV, 3, 1, &mfn), -1);
}

static void test_assign_device(void **state)
{
    struct fx *f = *state;
    vtd_assign_device(&f->vd, &f->hw.io, DEV);
    assert_true(f->hw.io.ctx[DEV].present);
    assert_int_equal(f->hw.io.ctx[DEV].did, DID);
    assert_int_equal(f->hw.io.ctx[DEV].root, f->vd.root);
    assert_int_equal(f->hw.st.cnt[CNT_iotlb_inv_dsi], 1);
    assert_int_equal(invs(f), 1);
    uint64_t mfn;
    assert_int_equal(iommu_dma(&f->hw.io, DEV, 3, 0, &mfn), -1);  /* nothing mapped yet */
    vtd_flush(&f->vd, 3, vtd_map_page(&f->vd, 3, 0x8003, 0), 0);
    assert_int_equal(iommu_dma(&f->hw.io, DEV, 3, 0, &mfn), 0);
    assert_int_equal(mfn, 0x8003);
    assert_int_equal(iommu_dma(&f->hw.io, DEV, 3, 1, &mfn), -1);
}

static void test_flush_modified(void **state)
{
    struct fx *f = *state;
    vtd_map_page(&f->vd, 7, 0x8000, 1);
    unsigned fl = vtd_unmap_page(&f->vd, 7);
    uint64_t c0 = f->hw.st.cyc[CYC_iommu];
    assert_int_equal(vtd_flush(&f->vd, 7, fl, 0), 1);
    assert_int_equal(f->hw.st.cnt[CNT_iotlb_inv_psi], 1);
    assert_int_equal(invs(f), 1);
    assert_int_equal(f->hw.st.cyc[CYC_iommu] - c0, f->hw.cost.iotlb_inv);
    assert_int_equal(vtd_flush(&f->vd, 7, VTD_ADDED | VTD_MODIFIED, 0), 1);
    assert_int_equal(f->hw.st.cnt[CNT_iotlb_inv_psi], 2);
}

static void test_flush_added_skipped(void **state)
{
    struct fx *f = *state;
    unsigned fl = vtd_map_page(&f->vd, 7, 0x8000, 1);
    assert_int_equal(fl, VTD_ADDED);
    assert_int_equal(vtd_flush(&f->vd, 7, fl, 0), 0);
    assert_int_equal(vtd_flush(&f->vd, 7, 0, 1), 0);      /* no flags: nothing */
    assert_int_equal(invs(f), 0);
}

static void test_flush_on_map(void **state)
{
    struct fx *f = *state;
    unsigned fl = vtd_map_page(&f->vd, 7, 0x8000, 1);
    assert_int_equal(vtd_flush(&f->vd, 7, fl, 1), 1);
    assert_int_equal(f->hw.st.cnt[CNT_iotlb_inv_psi], 1);
    assert_int_equal(invs(f), 1);
}

static void test_flush_caching_mode(void **state)
{
    struct fx *f = *state;
    f->hw.io.cfg.caching_mode = 1;
    unsigned fl = vtd_map_page(&f->vd, 7, 0x8000, 1);
    assert_int_equal(vtd_flush(&f->vd, 7, fl, 0), 1);
    assert_int_equal(f->hw.st.cnt[CNT_iotlb_inv_psi], 1);
    assert_int_equal(invs(f), 1);
}

/* The hypervisor's flush is what keeps the device out of an unmapped frame. */
static void test_unmap_flush_blocks_dma(void **state)
{
    struct fx *f = *state;
    uint64_t mfn;
    vtd_assign_device(&f->vd, &f->hw.io, DEV);
    vtd_flush(&f->vd, 9, vtd_map_page(&f->vd, 9, 0x8009, 1), 0);
    assert_int_equal(iommu_dma(&f->hw.io, DEV, 9, 1, &mfn), 0);
    vtd_flush(&f->vd, 9, vtd_unmap_page(&f->vd, 9), 0);
    assert_int_equal(iommu_dma(&f->hw.io, DEV, 9, 1, &mfn), -1);
}

/* ---- the 1:1 map built an extent at a time (vtd_map_extent) ---- */

/* Three extents: two in one GiB, one in another, as hv_create maps them. */
static const uint64_t EXT_DFN[3] = { 0x200, 0x400, (1ull << 18) + 0x600 };
static const uint64_t EXT_MFN[3] = { 0x40000, 0x40a00, 0x41200 };

struct leafsum { uint64_t n, sum; };
static void leaf_sum(void *ctx, uint64_t dfn, pte_t e)
{
    struct leafsum *l = ctx;
    l->n++;
    l->sum += dfn * 31 + e;
}

/* The same tables, charges, counts and translations as page by page, with
 * each L1 table held as a linear frame: no backing. */
static void test_map_extent_equals_pages(void **state)
{
    struct fx *a = *state, *b;
    setup((void **)&b);
    for (unsigned x = 0; x < 3; x++) {
        vtd_map_extent(&a->vd, EXT_DFN[x], EXT_MFN[x], 1);
        for (unsigned i = 0; i < 512; i++)
            vtd_map_page(&b->vd, EXT_DFN[x] + i, EXT_MFN[x] + i, 1);
    }
    assert_int_equal(a->vd.table_pages, b->vd.table_pages);
    assert_int_equal(a->hw.allocs, b->hw.allocs);
    assert_int_equal(a->vd.mapped, b->vd.mapped);
    assert_int_equal(a->vd.mapped, 3 * 512);
    assert_int_equal(a->vd.gen, b->vd.gen);
    assert_int_equal(a->hw.st.cyc[CYC_iommu], b->hw.st.cyc[CYC_iommu]);
    assert_int_equal(a->hw.mem.linear, 3);
    assert_int_equal(a->hw.mem.backed + 3, b->hw.mem.backed);
    for (unsigned x = 0; x < 3; x++)
        for (uint64_t d = EXT_DFN[x] - 2; d < EXT_DFN[x] + 514; d++) {
            uint64_t ma = 0, mb = 0;
            int wa = -1, wb = -1;
            assert_int_equal(vtd_lookup(&a->vd, d, &ma, &wa), vtd_lookup(&b->vd, d, &mb, &wb));
            assert_int_equal(ma, mb);
            assert_int_equal(wa, wb);
        }
    struct leafsum la = { 0 }, lb = { 0 };
    vtd_for_each_leaf(&a->vd, leaf_sum, &la);
    vtd_for_each_leaf(&b->vd, leaf_sum, &lb);
    assert_int_equal(la.n, 3 * 512);
    assert_int_equal(la.n, lb.n);
    assert_int_equal(la.sum, lb.sum);
    assert_int_equal(a->hw.mem.linear, 3);          /* visiting the leaves backs nothing */
    /* DMA: the same translations, IOTLB misses and I/O walk references */
    vtd_assign_device(&a->vd, a->vd.io, DEV);
    vtd_assign_device(&b->vd, b->vd.io, DEV);
    for (unsigned x = 0; x < 3; x++)
        for (uint64_t i = 0; i < 512; i += 37) {
            uint64_t ma, mb;
            assert_int_equal(iommu_dma(&a->hw.io, DEV, EXT_DFN[x] + i, 1, &ma), 0);
            assert_int_equal(iommu_dma(&b->hw.io, DEV, EXT_DFN[x] + i, 1, &mb), 0);
            assert_int_equal(ma, EXT_MFN[x] + i);
            assert_int_equal(ma, mb);
        }
    assert_int_equal(a->hw.st.cnt[CNT_iotlb_miss], b->hw.st.cnt[CNT_iotlb_miss]);
    assert_int_equal(a->hw.st.cnt[CNT_io_walk_refs], b->hw.st.cnt[CNT_io_walk_refs]);
    teardown((void **)&b);
}

/* A change to one entry makes its L1 table a real one; the rest stays. */
static void test_map_extent_then_change(void **state)
{
    struct fx *f = *state;
    uint64_t mfn;
    int w;
    vtd_map_extent(&f->vd, EXT_DFN[0], EXT_MFN[0], 1);
    vtd_map_extent(&f->vd, EXT_DFN[1], EXT_MFN[1], 1);
    uint64_t backed = f->hw.mem.backed;
    assert_int_equal(vtd_unmap_page(&f->vd, EXT_DFN[0] + 7), VTD_MODIFIED);
    assert_int_equal(vtd_map_page(&f->vd, EXT_DFN[0] + 8, EXT_MFN[0] + 8, 0), VTD_MODIFIED);
    assert_int_equal(f->hw.mem.linear, 1);
    assert_int_equal(f->hw.mem.backed, backed + 1);
    assert_int_equal(f->vd.mapped, 2 * 512 - 1);
    assert_int_equal(vtd_lookup(&f->vd, EXT_DFN[0] + 7, &mfn, &w), -1);
    assert_int_equal(vtd_lookup(&f->vd, EXT_DFN[0] + 8, &mfn, &w), 0);
    assert_int_equal(mfn, EXT_MFN[0] + 8);
    assert_int_equal(w, 0);
    assert_int_equal(vtd_lookup(&f->vd, EXT_DFN[0] + 9, &mfn, &w), 0);
    assert_int_equal(mfn, EXT_MFN[0] + 9);
    assert_int_equal(w, 1);
    assert_int_equal(vtd_map_page(&f->vd, EXT_DFN[1] + 3, EXT_MFN[1] + 3, 1), 0);   /* identical: no write */
    assert_int_equal(f->hw.mem.linear, 1);
    vtd_domain_destroy(&f->vd);
    assert_int_equal(f->hw.mem.linear, 0);
    assert_int_equal(f->hw.mem.backed, 0);
    assert_int_equal(f->hw.frees, f->hw.allocs);
}

/* An extent whose L1 table exists already is mapped page by page. */
static void test_map_extent_over_mapped(void **state)
{
    struct fx *f = *state;
    uint64_t mfn;
    int w;
    vtd_map_page(&f->vd, EXT_DFN[0] + 5, 0x9999, 0);
    uint64_t c0 = f->hw.st.cyc[CYC_iommu];
    vtd_map_extent(&f->vd, EXT_DFN[0], EXT_MFN[0], 1);
    assert_int_equal(f->hw.mem.linear, 0);
    assert_int_equal(f->vd.mapped, 512);
    assert_int_equal(f->hw.st.cyc[CYC_iommu] - c0, 512 * f->hw.cost.iommu_pte);   /* 511 added, 1 modified */
    assert_int_equal(vtd_lookup(&f->vd, EXT_DFN[0] + 5, &mfn, &w), 0);
    assert_int_equal(mfn, EXT_MFN[0] + 5);
    assert_int_equal(w, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_init_root, setup, teardown),
        cmocka_unit_test_setup_teardown(test_map_lookup, setup, teardown),
        cmocka_unit_test_setup_teardown(test_identical_remap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_modified, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unmap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_table_pages, setup, teardown),
        cmocka_unit_test_setup_teardown(test_destroy_frees_all, setup, teardown),
        cmocka_unit_test_setup_teardown(test_destroy_detaches, setup, teardown),
        cmocka_unit_test_setup_teardown(test_assign_device, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flush_modified, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flush_added_skipped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flush_on_map, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flush_caching_mode, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unmap_flush_blocks_dma, setup, teardown),
        cmocka_unit_test_setup_teardown(test_map_extent_equals_pages, setup, teardown),
        cmocka_unit_test_setup_teardown(test_map_extent_then_change, setup, teardown),
        cmocka_unit_test_setup_teardown(test_map_extent_over_mapped, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

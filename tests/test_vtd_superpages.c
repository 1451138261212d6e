/* test_vtd_superpages.c: the I/O superpages of Xen 4.17's VT-d driver
 * (src/hv/vtd.c, xen.iommu_superpages): a table that a map leaves full of
 * one contiguous, aligned run becomes a superpage in its parent (with a
 * domain-wide flush), on up to 1 GiB where the unit takes it; a map or
 * unmap inside a superpage splits it back into a table (a flush of the
 * page); an unmap that empties a table frees it. Each translation stays
 * what page-by-page 4 KiB maps would give, and DMA walks stop at the
 * superpage. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "hv/vtd.h"
#include "testutil_io.h"

#define DID 5
#define DEV 2
#define DFN 0x200ull        /* a 2 MiB aligned run of 512 pages... */
#define MFN 0x40000ull      /* ...mapped to one, aligned too */
#define GIB (1ull << 18)    /* 4 KiB pages in 1 GiB */

struct fx {
    struct io_fx hw;
    struct vtd_domain vd;
};

static struct fx *fx_new(unsigned sp_level, int free_empty)
{
    struct fx *f = calloc(1, sizeof *f);
    io_fx_init(&f->hw);
    assert_int_equal(vtd_domain_init(&f->vd, &f->hw.io, DID, io_fx_count_alloc, io_fx_count_free, &f->hw), 0);
    f->vd.sp_level = sp_level;
    f->vd.free_empty = free_empty;
    return f;
}

static void fx_free(struct fx *f)
{
    vtd_domain_destroy(&f->vd);
    assert_int_equal(f->hw.frees, f->hw.allocs);   /* every table frame came back */
    io_fx_destroy(&f->hw);
    free(f);
}

static uint64_t cnt(const struct fx *f, enum mv_counter c) { return f->hw.st.cnt[c]; }

/* dfn translates to mfn, writable or not; or not at all (mfn UINT64_MAX). */
static void expect_map(const struct fx *f, uint64_t dfn, uint64_t mfn, int writable)
{
    uint64_t m;
    int w;
    if (mfn == UINT64_MAX) {
        assert_int_equal(vtd_lookup(&f->vd, dfn, &m, &w), -1);
        return;
    }
    assert_int_equal(vtd_lookup(&f->vd, dfn, &m, &w), 0);
    assert_int_equal(m, mfn);
    assert_int_equal(w, writable);
}

/* The level-2 entry the tables hold for dfn (0 if there is none). */
static pte_t l2_entry(const struct fx *f, uint64_t dfn)
{
    uint64_t t = f->vd.root, va = dfn << PAGE_SHIFT;
    for (unsigned lvl = 4; lvl > 2; lvl--) {
        pte_t e = pmem_read(&f->hw.mem, t, pt_index(va, lvl));
        if (!pte_present(e) || pte_leaf(e, lvl))
            return 0;
        t = pte_frame(e);
    }
    return pmem_read(&f->hw.mem, t, pt_index(va, 2));
}

/* The 512th page of a run turns its L1 table into a 2 MiB entry. */
static void test_coalesce_2m(void **state)
{
    (void)state;
    struct fx *f = fx_new(3, 1);
    for (unsigned i = 0; i < 511; i++)
        assert_int_equal(vtd_map_page(&f->vd, DFN + i, MFN + i, 1), VTD_ADDED);
    assert_int_equal(f->vd.table_pages, 3);
    assert_int_equal(cnt(f, CNT_iommu_pt_coalesces), 0);
    vtd_assign_device(&f->vd, &f->hw.io, DEV);
    uint64_t inv_dsi = cnt(f, CNT_iotlb_inv_dsi);
    unsigned flags = vtd_map_page(&f->vd, DFN + 511, MFN + 511, 1);
    assert_int_equal(flags, VTD_ADDED | VTD_MODIFIED | VTD_ALL);
    assert_int_equal(f->vd.table_pages, 2);                 /* the L1 is gone */
    assert_int_equal(f->hw.frees, 1);
    assert_int_equal(cnt(f, CNT_iommu_pt_coalesces), 1);
    assert_true(l2_entry(f, DFN) & _PAGE_PSE);
    assert_int_equal(f->vd.mapped, 512);
    for (unsigned i = 0; i < 512; i++)
        expect_map(f, DFN + i, MFN + i, 1);
    /* Xen's IOMMU_FLUSHF_all: a domain-wide invalidation, not the page's */
    uint64_t inv_psi = cnt(f, CNT_iotlb_inv_psi);
    assert_int_equal(vtd_flush(&f->vd, DFN + 511, flags, 0), 1);
    assert_int_equal(cnt(f, CNT_iotlb_inv_dsi), inv_dsi + 1);
    assert_int_equal(cnt(f, CNT_iotlb_inv_psi), inv_psi);
    /* a DMA walk stops at the 2 MiB entry: L4, L3, L2 */
    uint64_t m, refs = cnt(f, CNT_io_walk_refs);
    assert_int_equal(iommu_dma(&f->hw.io, DEV, DFN + 77, 1, &m), 0);
    assert_int_equal(m, MFN + 77);
    assert_int_equal(cnt(f, CNT_io_walk_refs) - refs, 3);
    fx_free(f);
}

/* A table that is not one aligned run of like entries stays a table. */
static void test_no_coalesce_unless_run(void **state)
{
    (void)state;
    for (unsigned c = 0; c < 4; c++) {
        struct fx *f = fx_new(c == 3 ? 1 : 3, 1);                /* 3: a whole run, superpages off */
        for (unsigned i = 0; i < 512; i++) {
            uint64_t mfn = c == 2 ? MFN + 1 + i : MFN + i;   /* 2: the run is not aligned */
            if (c == 0 && i == 300)
                mfn = MFN + 7;                               /* 0: one page out of the run */
            int w = !(c == 1 && i == 3);                     /* 1: one page read-only */
            assert_int_equal(vtd_map_page(&f->vd, DFN + i, mfn, w), VTD_ADDED);
        }
        assert_int_equal(cnt(f, CNT_iommu_pt_coalesces), 0);
        assert_int_equal(f->vd.table_pages, 3);
        assert_false(l2_entry(f, DFN) & _PAGE_PSE);
        expect_map(f, DFN + 300, c == 0 ? MFN + 7 : c == 2 ? MFN + 301 : MFN + 300, 1);
        fx_free(f);
    }
}

/* Unmapping a page of a superpage splits it: a table of the other 511,
 * and a flush of that page only. */
static void test_unmap_shatters(void **state)
{
    (void)state;
    struct fx *f = fx_new(3, 1);
    for (unsigned i = 0; i < 512; i++)
        vtd_map_page(&f->vd, DFN + i, MFN + i, 1);
    assert_int_equal(f->vd.table_pages, 2);
    uint64_t c0 = f->hw.st.cyc[CYC_iommu];
    unsigned flags = vtd_unmap_page(&f->vd, DFN + 5);
    assert_int_equal(flags, VTD_MODIFIED);
    /* the split: 64 lines of entries flushed and the parent's entry; the unmap: one entry */
    assert_int_equal(f->hw.st.cyc[CYC_iommu] - c0, (64 + 1 + 1) * f->hw.cost.iommu_pte);
    assert_int_equal(cnt(f, CNT_iommu_pt_shatters), 1);
    assert_int_equal(f->vd.table_pages, 3);
    assert_int_equal(f->vd.mapped, 511);
    for (unsigned i = 0; i < 512; i++)
        expect_map(f, DFN + i, i == 5 ? UINT64_MAX : MFN + i, 1);
    uint64_t dsi = cnt(f, CNT_iotlb_inv_dsi), psi = cnt(f, CNT_iotlb_inv_psi);
    vtd_flush(&f->vd, DFN + 5, flags, 0);
    assert_int_equal(cnt(f, CNT_iotlb_inv_psi), psi + 1);
    assert_int_equal(cnt(f, CNT_iotlb_inv_dsi), dsi);
    /* mapped back: whole again, a superpage again */
    assert_int_equal(vtd_map_page(&f->vd, DFN + 5, MFN + 5, 1), VTD_ADDED | VTD_MODIFIED | VTD_ALL);
    assert_int_equal(f->vd.table_pages, 2);
    assert_int_equal(cnt(f, CNT_iommu_pt_coalesces), 2);
    fx_free(f);
}

/* Re-mapping a page a superpage already maps the same way writes nothing
 * but the split (Xen's walk splits before it compares): a flush of the page. */
static void test_identical_map_in_superpage(void **state)
{
    (void)state;
    struct fx *f = fx_new(2, 1);
    for (unsigned i = 0; i < 512; i++)
        vtd_map_page(&f->vd, DFN + i, MFN + i, 1);
    assert_true(l2_entry(f, DFN) & _PAGE_PSE);
    assert_int_equal(vtd_map_page(&f->vd, DFN + 9, MFN + 9, 1), VTD_MODIFIED);
    assert_int_equal(cnt(f, CNT_iommu_pt_shatters), 1);
    assert_false(l2_entry(f, DFN) & _PAGE_PSE);
    for (unsigned i = 0; i < 512; i++)
        expect_map(f, DFN + i, MFN + i, 1);
    fx_free(f);
}

/* A whole GiB of extents becomes one 1 GiB entry where the unit takes
 * it, 512 entries of 2 MiB where it takes only those; an unmap inside
 * the 1 GiB page splits twice. */
static void test_extents_to_1g(void **state)
{
    (void)state;
    for (unsigned sp = 2; sp <= 3; sp++) {
        struct fx *f = fx_new(sp, 1);
        uint64_t c0 = f->hw.st.cyc[CYC_iommu];
        for (uint64_t x = 0; x < 512; x++)
            vtd_map_extent(&f->vd, GIB + x * 512, GIB + x * 512, 1);
        assert_int_equal(f->vd.mapped, GIB);
        assert_int_equal(f->vd.table_pages, sp == 3 ? 1 : 2);      /* L3 (and L2) */
        assert_int_equal(cnt(f, CNT_iommu_pt_coalesces), sp == 3 ? 1 : 0);
        /* one entry write per extent, the L3 and L2 links, and the 1 GiB entry */
        assert_int_equal(f->hw.st.cyc[CYC_iommu] - c0, (512 + 2 + (sp == 3)) * f->hw.cost.iommu_pte);
        for (uint64_t p = 0; p < GIB; p += 4099)
            expect_map(f, GIB + p, GIB + p, 1);
        vtd_unmap_page(&f->vd, GIB + 1234);
        assert_int_equal(cnt(f, CNT_iommu_pt_shatters), sp == 3 ? 2 : 1);
        assert_int_equal(f->vd.table_pages, 3);
        expect_map(f, GIB + 1234, UINT64_MAX, 0);
        expect_map(f, GIB + 1235, GIB + 1235, 1);
        expect_map(f, GIB + 9999, GIB + 9999, 1);
        fx_free(f);
    }
}

/* With Xen 4.17's driver an unmap that empties a table frees it, and the
 * L2 above it if that is left empty (never an L3), with a domain-wide
 * flush; 4.2's keeps them. */
static void test_unmap_frees_empty_tables(void **state)
{
    (void)state;
    for (int fe = 0; fe <= 1; fe++) {
        struct fx *f = fx_new(fe ? 3 : 1, fe);
        vtd_map_page(&f->vd, DFN, MFN, 1);
        vtd_map_page(&f->vd, 2 * GIB, MFN, 1);         /* another GiB: its L3 stays in use */
        assert_int_equal(f->vd.table_pages, 5);
        unsigned flags = vtd_unmap_page(&f->vd, DFN);
        assert_int_equal(flags, fe ? VTD_MODIFIED | VTD_ALL : VTD_MODIFIED);
        assert_int_equal(f->vd.table_pages, fe ? 3 : 5);   /* its L1 and L2 */
        expect_map(f, DFN, UINT64_MAX, 0);
        expect_map(f, 2 * GIB, MFN, 1);
        /* the last page of its GiB: its L1 and L2 go, the empty L3 stays,
         * as Xen's loop stops below the unit's top level */
        flags = vtd_unmap_page(&f->vd, 2 * GIB);
        assert_int_equal(flags, fe ? VTD_MODIFIED | VTD_ALL : VTD_MODIFIED);
        assert_int_equal(f->vd.table_pages, fe ? 1 : 5);
        expect_map(f, 2 * GIB, UINT64_MAX, 0);
        /* and a map under the kept L3 needs only a new L2 and L1 */
        uint64_t allocs = f->hw.allocs;
        vtd_map_page(&f->vd, DFN, MFN, 1);
        assert_int_equal(f->hw.allocs - allocs, fe ? 2 : 0);
        assert_int_equal(f->vd.table_pages, fe ? 3 : 5);
        expect_map(f, DFN, MFN, 1);
        fx_free(f);
    }
}

/* vtd_for_each_leaf visits each 4 KiB page of a superpage. */
static void each(void *ctx, uint64_t dfn, pte_t e)
{
    uint64_t *n = ctx;
    assert_int_equal(pte_frame(e), MFN + (dfn - DFN));
    assert_false(e & _PAGE_PSE);
    (*n)++;
}

static void test_for_each_leaf(void **state)
{
    (void)state;
    struct fx *f = fx_new(3, 1);
    vtd_map_extent(&f->vd, DFN, MFN, 1);
    assert_true(l2_entry(f, DFN) & _PAGE_PSE);
    uint64_t n = 0;
    vtd_for_each_leaf(&f->vd, each, &n);
    assert_int_equal(n, 512);
    fx_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_coalesce_2m),
        cmocka_unit_test(test_no_coalesce_unless_run),
        cmocka_unit_test(test_unmap_shatters),
        cmocka_unit_test(test_identical_map_in_superpage),
        cmocka_unit_test(test_extents_to_1g),
        cmocka_unit_test(test_unmap_frees_empty_tables),
        cmocka_unit_test(test_for_each_leaf),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

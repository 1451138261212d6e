/* test_iommu.c: the VT-d remapping unit: context entries, IOTLB (hits, misses,
 * permissions, staleness), I/O walk cost and PSC, invalidation granularities,
 * the invalidation queue and register mode. Tables are built by hand here. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "testutil_io.h"

#define DEV 3
#define DID 7
#define ROOT 0x100

/* The fixture is the bare unit (struct io_fx); tables are built from its
 * next_frame. */
static int setup(void **state)
{
    struct io_fx *f = calloc(1, sizeof *f);
    io_fx_init(f);
    iommu_set_context(&f->io, DEV, DID, ROOT);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct io_fx *f = *state;
    io_fx_destroy(f);
    free(f);
    return 0;
}

/* Re-create the unit with a changed configuration (context re-set). */
static void reinit(struct io_fx *f)
{
    iommu_destroy(&f->io);
    assert_int_equal(iommu_init(&f->io, &f->mem, &f->st, &f->cost, &f->cfg), 0);
    iommu_set_context(&f->io, DEV, DID, ROOT);
}

/* Write the leaf for dfn in the tables under root, building missing levels. */
static void map(struct io_fx *f, uint64_t root, uint64_t dfn, uint64_t mfn, uint64_t flags)
{
    uint64_t t = root, va = dfn << PAGE_SHIFT;
    for (unsigned l = 4; l > 1; l--) {
        pte_t e = pmem_read(&f->mem, t, pt_index(va, l));
        if (!pte_present(e)) {
            e = pte_make(f->next_frame++, _PAGE_PRESENT | _PAGE_RW);
            pmem_write(&f->mem, t, pt_index(va, l), e);
        }
        t = pte_frame(e);
    }
    pmem_write(&f->mem, t, pt_index(va, 1), flags ? pte_make(mfn, flags) : 0);
}

#define RW (_PAGE_PRESENT | _PAGE_RW)
#define RO _PAGE_PRESENT

static int dma(struct io_fx *f, uint64_t dfn, int write, uint64_t *mfn)
{
    uint64_t m = ~0ull;
    int rc = iommu_dma(&f->io, DEV, dfn, write, &m);
    if (mfn)
        *mfn = m;
    return rc;
}

static void test_config_validation(void **state)
{
    struct io_fx *f = *state;
    struct iommu io;
    struct iommu_config c = f->cfg;
    assert_int_equal(c.iotlb_entries, 64);
    assert_int_equal(c.iotlb_ways, 4);
    assert_int_equal(c.qi_entries, 256);
    assert_int_equal(c.mamv, 9);
    assert_true(c.psi && c.queued && !c.caching_mode);
    c.iotlb_entries = 60;                       /* not a multiple of the ways */
    assert_int_equal(iommu_init(&io, &f->mem, &f->st, &f->cost, &c), -1);
    c.iotlb_entries = 48;                       /* 12 sets */
    assert_int_equal(iommu_init(&io, &f->mem, &f->st, &f->cost, &c), -1);
    c.iotlb_entries = 64;
    c.qi_entries = 1;
    assert_int_equal(iommu_init(&io, &f->mem, &f->st, &f->cost, &c), -1);
    c.qi_entries = 2;
    assert_int_equal(iommu_init(&io, &f->mem, &f->st, &f->cost, &c), 0);
    iommu_destroy(&io);
}

static void test_miss_then_hit(void **state)
{
    struct io_fx *f = *state;
    uint64_t mfn;
    map(f, ROOT, 0x42, 0x9000, RW);
    assert_int_equal(dma(f, 0x42, 1, &mfn), 0);
    assert_int_equal(mfn, 0x9000);
    assert_int_equal(f->st.cnt[CNT_iotlb_miss], 1);
    assert_int_equal(iommu_iotlb_count(&f->io), 1);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(dma(f, 0x42, i & 1, &mfn), 0);
        assert_int_equal(mfn, 0x9000);
    }
    assert_int_equal(f->st.cnt[CNT_iotlb_miss], 1);
    assert_int_equal(f->st.cnt[CNT_dma_faults], 0);
}

static void test_readonly(void **state)
{
    struct io_fx *f = *state;
    uint64_t mfn;
    map(f, ROOT, 5, 0x9005, RO);
    assert_int_equal(dma(f, 5, 1, &mfn), -1);           /* write on a walk: fault */
    assert_int_equal(f->st.cnt[CNT_dma_faults], 1);
    assert_int_equal(iommu_iotlb_count(&f->io), 0);     /* not installed */
    assert_int_equal(dma(f, 5, 0, &mfn), 0);
    assert_int_equal(mfn, 0x9005);
    assert_int_equal(dma(f, 5, 1, &mfn), -1);           /* write on an IOTLB hit: fault */
    assert_int_equal(f->st.cnt[CNT_dma_faults], 2);
    assert_int_equal(f->st.cnt[CNT_iotlb_miss], 2);
}

static void test_readonly_intermediate(void **state)
{
    struct io_fx *f = *state;
    map(f, ROOT, 5, 0x9005, RW);
    pte_t l4 = pmem_read(&f->mem, ROOT, 0);
    pmem_write(&f->mem, ROOT, 0, l4 & ~_PAGE_RW);       /* W cleared above the leaf */
    assert_int_equal(dma(f, 5, 1, NULL), -1);
    assert_int_equal(dma(f, 5, 0, NULL), 0);
}

static void test_unmapped_faults(void **state)
{
    struct io_fx *f = *state;
    map(f, ROOT, 5, 0x9005, RW);
    assert_int_equal(dma(f, 6, 0, NULL), -1);           /* empty leaf */
    assert_int_equal(dma(f, 1ull << 27, 0, NULL), -1);  /* empty L4 slot */
    assert_int_equal(dma(f, 1ull << 36, 0, NULL), -1);  /* beyond 48-bit addresses */
    assert_int_equal(f->st.cnt[CNT_dma_faults], 3);
    assert_int_equal(iommu_iotlb_count(&f->io), 0);
}

static void test_no_context_faults(void **state)
{
    struct io_fx *f = *state;
    uint64_t mfn;
    map(f, ROOT, 5, 0x9005, RW);
    assert_int_equal(iommu_dma(&f->io, DEV + 1, 5, 0, &mfn), -1);
    assert_int_equal(iommu_dma(&f->io, IOMMU_MAX_DEVICES, 5, 0, &mfn), -1);
    assert_int_equal(f->st.cnt[CNT_dma_faults], 2);
    assert_int_equal(f->st.cnt[CNT_iotlb_miss], 0);
    assert_int_equal(dma(f, 5, 0, &mfn), 0);
    iommu_clear_context(&f->io, DEV);
    assert_int_equal(dma(f, 5, 0, &mfn), -1);           /* even with an IOTLB entry */
}

/* The property the hypervisor's flush protects: the IOTLB really caches. */
static void test_stale_iotlb_until_psi(void **state)
{
    struct io_fx *f = *state;
    uint64_t mfn;
    map(f, ROOT, 5, 0x9005, RW);
    assert_int_equal(dma(f, 5, 1, &mfn), 0);
    map(f, ROOT, 5, 0, 0);                              /* unmapped, no invalidation */
    assert_int_equal(dma(f, 5, 1, &mfn), 0);            /* stale entry still used */
    assert_int_equal(mfn, 0x9005);
    assert_int_equal(iommu_invalidate(&f->io, INV_PSI, DID, 5, 0), INV_PSI);
    assert_int_equal(f->st.cnt[CNT_iotlb_inv_psi], 1);
    assert_int_equal(dma(f, 5, 1, &mfn), -1);
    assert_int_equal(f->st.cnt[CNT_dma_faults], 1);
}

static void test_psi_targets_one_page(void **state)
{
    struct io_fx *f = *state;
    map(f, ROOT, 5, 0x9005, RW);
    map(f, ROOT, 6, 0x9006, RW);
    assert_int_equal(dma(f, 5, 0, NULL), 0);
    assert_int_equal(dma(f, 6, 0, NULL), 0);
    assert_int_equal(f->st.cnt[CNT_iotlb_miss], 2);
    iommu_invalidate(&f->io, INV_PSI, DID, 5, 0);
    assert_int_equal(iommu_iotlb_count(&f->io), 1);
    assert_int_equal(dma(f, 6, 0, NULL), 0);            /* still a hit */
    assert_int_equal(f->st.cnt[CNT_iotlb_miss], 2);
    assert_int_equal(dma(f, 5, 0, NULL), 0);            /* refetched */
    assert_int_equal(f->st.cnt[CNT_iotlb_miss], 3);
}

static void test_psi_order_range(void **state)
{
    struct io_fx *f = *state;
    for (uint64_t d = 0x20; d < 0x30; d++) {
        map(f, ROOT, d, 0x9000 + d, RW);
        assert_int_equal(dma(f, d, 0, NULL), 0);
    }
    assert_int_equal(iommu_iotlb_count(&f->io), 16);
    /* order 2 at 0x25: pages 0x24..0x27 */
    assert_int_equal(iommu_invalidate(&f->io, INV_PSI, DID, 0x25, 2), INV_PSI);
    assert_int_equal(iommu_iotlb_count(&f->io), 12);
    uint64_t miss = f->st.cnt[CNT_iotlb_miss];
    assert_int_equal(dma(f, 0x23, 0, NULL), 0);
    assert_int_equal(dma(f, 0x28, 0, NULL), 0);
    assert_int_equal(f->st.cnt[CNT_iotlb_miss], miss);
    assert_int_equal(dma(f, 0x24, 0, NULL), 0);
    assert_int_equal(dma(f, 0x27, 0, NULL), 0);
    assert_int_equal(f->st.cnt[CNT_iotlb_miss], miss + 2);
    /* order 6 (64 pages >= 16 sets): the scanning path */
    iommu_invalidate(&f->io, INV_PSI, DID, 0x3f, 6);
    assert_int_equal(iommu_iotlb_count(&f->io), 0);
}

static void test_dsi_per_domain(void **state)
{
    struct io_fx *f = *state;
    const uint64_t root2 = 0x200;
    iommu_set_context(&f->io, DEV + 1, DID + 1, root2);
    map(f, ROOT, 5, 0x9005, RW);
    map(f, root2, 5, 0xa005, RW);
    map(f, root2, 9, 0xa009, RW);
    uint64_t mfn;
    assert_int_equal(dma(f, 5, 0, &mfn), 0);
    assert_int_equal(mfn, 0x9005);
    assert_int_equal(iommu_dma(&f->io, DEV + 1, 5, 0, &mfn), 0);
    assert_int_equal(mfn, 0xa005);                      /* same dfn, other DID */
    assert_int_equal(iommu_dma(&f->io, DEV + 1, 9, 0, &mfn), 0);
    assert_int_equal(iommu_iotlb_count(&f->io), 3);
    assert_int_equal(iommu_invalidate(&f->io, INV_DSI, DID + 1, 0, 0), INV_DSI);
    assert_int_equal(f->st.cnt[CNT_iotlb_inv_dsi], 1);
    assert_int_equal(iommu_iotlb_count(&f->io), 1);
    uint64_t miss = f->st.cnt[CNT_iotlb_miss];
    assert_int_equal(dma(f, 5, 0, &mfn), 0);
    assert_int_equal(f->st.cnt[CNT_iotlb_miss], miss);
}

static void test_global(void **state)
{
    struct io_fx *f = *state;
    iommu_set_context(&f->io, DEV + 1, DID + 1, 0x200);
    map(f, ROOT, 5, 0x9005, RW);
    map(f, 0x200, 5, 0xa005, RW);
    assert_int_equal(dma(f, 5, 0, NULL), 0);
    assert_int_equal(iommu_dma(&f->io, DEV + 1, 5, 0, &(uint64_t){ 0 }), 0);
    assert_int_equal(iommu_invalidate(&f->io, INV_GLOBAL, 0, 0, 0), INV_GLOBAL);
    assert_int_equal(f->st.cnt[CNT_iotlb_inv_global], 1);
    assert_int_equal(iommu_iotlb_count(&f->io), 0);
    /* the PSC went too: the next walk is a full 4 references */
    uint64_t c0 = f->io.dev_cycles, cpu0 = f->st.cyc[CYC_iommu];
    assert_int_equal(dma(f, 5, 0, NULL), 0);
    assert_int_equal(f->io.dev_cycles - c0, 4 * f->cost.io_walk_ref);
    assert_int_equal(f->st.cyc[CYC_iommu], cpu0);       /* device time, not the CPU's */
}

static void test_psi_fallback_no_psi(void **state)
{
    struct io_fx *f = *state;
    f->cfg.psi = 0;
    reinit(f);
    map(f, ROOT, 5, 0x9005, RW);
    map(f, ROOT, 6, 0x9006, RW);
    dma(f, 5, 0, NULL);
    dma(f, 6, 0, NULL);
    assert_int_equal(iommu_invalidate(&f->io, INV_PSI, DID, 5, 0), INV_DSI);
    assert_int_equal(f->st.cnt[CNT_iotlb_inv_dsi], 1);
    assert_int_equal(f->st.cnt[CNT_iotlb_inv_psi], 0);
    assert_int_equal(iommu_iotlb_count(&f->io), 0);
}

static void test_psi_fallback_mamv(void **state)
{
    struct io_fx *f = *state;
    map(f, ROOT, 5, 0x9005, RW);
    map(f, ROOT, 0x10000, 0x9006, RW);                  /* far outside 2^10 pages */
    dma(f, 5, 0, NULL);
    dma(f, 0x10000, 0, NULL);
    assert_int_equal(iommu_invalidate(&f->io, INV_PSI, DID, 0, 9), INV_PSI);
    assert_int_equal(iommu_iotlb_count(&f->io), 1);
    assert_int_equal(iommu_invalidate(&f->io, INV_PSI, DID, 0, 10), INV_DSI);
    assert_int_equal(iommu_iotlb_count(&f->io), 0);
    assert_int_equal(f->st.cnt[CNT_iotlb_inv_psi], 1);
    assert_int_equal(f->st.cnt[CNT_iotlb_inv_dsi], 1);
}

static void test_queue_wraps(void **state)
{
    struct io_fx *f = *state;
    f->cfg.qi_entries = 5;
    reinit(f);
    map(f, ROOT, 5, 0x9005, RW);
    assert_int_equal(f->io.qtail, 0);
    uint64_t c0 = f->st.cyc[CYC_iommu];
    iommu_invalidate(&f->io, INV_PSI, DID, 5, 0);
    assert_int_equal(f->st.cyc[CYC_iommu] - c0, f->cost.iotlb_inv);
    assert_int_equal(f->io.qtail, 2);
    assert_int_equal(f->io.qhead, 2);                   /* consumed: synchronous */
    assert_int_equal(f->io.wait_status, 1);
    const struct qi_desc *d = &f->io.queue[0];
    assert_int_equal(d->lo & 0xf, QI_TYPE_IOTLB);
    assert_int_equal((d->lo >> 4) & 3, 3);              /* page-selective */
    assert_int_equal((d->lo >> 16) & 0xffff, DID);
    assert_int_equal(d->hi, 5ull << PAGE_SHIFT);        /* addr, am 0 */
    assert_int_equal(f->io.queue[1].lo & 0xf, QI_TYPE_WAIT);
    iommu_invalidate(&f->io, INV_DSI, DID, 0, 0);
    assert_int_equal(f->io.qtail, 4);
    iommu_invalidate(&f->io, INV_GLOBAL, 0, 0, 0);
    assert_int_equal(f->io.qtail, 1);                   /* 4, then wrapped to 0 */
    assert_int_equal(f->io.qhead, 1);
    assert_int_equal(f->io.queue[4].lo & 0xf, QI_TYPE_IOTLB);
    assert_int_equal((f->io.queue[4].lo >> 4) & 3, 1);  /* global */
    assert_int_equal(f->io.queue[0].lo & 0xf, QI_TYPE_WAIT);
    assert_int_equal(f->io.wait_status, 1);
    /* the hardware really performed what the descriptors said */
    dma(f, 5, 0, NULL);
    iommu_invalidate(&f->io, INV_PSI, DID, 4, 1);       /* pages 4..5 */
    assert_int_equal(iommu_iotlb_count(&f->io), 0);
    assert_int_equal(f->io.qtail, 3);
}

static void test_register_mode_cost(void **state)
{
    struct io_fx *f = *state;
    f->cfg.queued = 0;
    reinit(f);
    map(f, ROOT, 5, 0x9005, RW);
    dma(f, 5, 0, NULL);
    uint64_t c0 = f->st.cyc[CYC_iommu];
    assert_int_equal(iommu_invalidate(&f->io, INV_PSI, DID, 5, 0), INV_PSI);
    assert_int_equal(f->st.cyc[CYC_iommu] - c0, f->cost.iotlb_inv_reg);
    assert_int_not_equal(f->cost.iotlb_inv_reg, f->cost.iotlb_inv);
    assert_int_equal(f->io.qtail, 0);                   /* queue untouched */
    assert_int_equal(iommu_iotlb_count(&f->io), 0);
    assert_int_equal(f->st.cnt[CNT_iotlb_inv_psi], 1);
}

static void test_walk_cost_and_psc(void **state)
{
    struct io_fx *f = *state;
    const uint64_t ref = f->cost.io_walk_ref;
    map(f, ROOT, 0x200, 0x9000, RW);
    map(f, ROOT, 0x201, 0x9001, RW);                    /* same L1 table */
    map(f, ROOT, 0x400, 0x9002, RW);                    /* next 2 MiB: other L1 */
    uint64_t c0 = f->io.dev_cycles;
    assert_int_equal(dma(f, 0x200, 0, NULL), 0);
    assert_int_equal(f->io.dev_cycles - c0, 4 * ref);
    c0 = f->io.dev_cycles;
    assert_int_equal(dma(f, 0x200, 0, NULL), 0);        /* IOTLB hit: free */
    assert_int_equal(f->io.dev_cycles, c0);
    assert_int_equal(dma(f, 0x201, 0, NULL), 0);        /* PDE cache: one reference */
    assert_int_equal(f->io.dev_cycles - c0, ref);
    c0 = f->io.dev_cycles;
    assert_int_equal(dma(f, 0x400, 0, NULL), 0);        /* PDPTE cache: two */
    assert_int_equal(f->io.dev_cycles - c0, 2 * ref);
    /* another DID with the same layout does not share the PSC */
    iommu_set_context(&f->io, DEV + 1, DID + 1, ROOT);
    c0 = f->io.dev_cycles;
    assert_int_equal(iommu_dma(&f->io, DEV + 1, 0x201, 0, &(uint64_t){ 0 }), 0);
    assert_int_equal(f->io.dev_cycles - c0, 4 * ref);
    /* a PSI drops the domain's PSC entries too */
    iommu_invalidate(&f->io, INV_PSI, DID, 0x200, 0);
    c0 = f->io.dev_cycles;
    assert_int_equal(dma(f, 0x200, 0, NULL), 0);
    assert_int_equal(f->io.dev_cycles - c0, 4 * ref);
}

static void test_superpage_l2(void **state)
{
    struct io_fx *f = *state;
    map(f, ROOT, 0x200, 0x9000, RW);                    /* builds L3, L2 for 0..1G */
    uint64_t l3 = pte_frame(pmem_read(&f->mem, ROOT, 0));
    uint64_t l2 = pte_frame(pmem_read(&f->mem, l3, 0));
    pmem_write(&f->mem, l2, 2, pte_make(0x40000, RO | _PAGE_PSE));  /* dfn 0x400..0x5ff */
    uint64_t mfn;
    assert_int_equal(dma(f, 0x423, 0, &mfn), 0);
    assert_int_equal(mfn, 0x40023);
    assert_int_equal(dma(f, 0x5ff, 0, &mfn), 0);
    assert_int_equal(mfn, 0x401ff);
    assert_int_equal(dma(f, 0x424, 1, &mfn), -1);       /* read-only superpage */
}

/* An IOTLB of 2 sets of 2 ways, DMA frames 0, 2, 4 and 6 mapped (all in
 * set 0). */
static struct io_fx *two_way_iotlb(void **state)
{
    struct io_fx *f = *state;
    f->cfg.iotlb_entries = 4;
    f->cfg.iotlb_ways = 2;
    reinit(f);
    for (uint64_t d = 0; d < 8; d += 2)
        map(f, ROOT, d, 0x9000 + d, RW);
    return f;
}

static void test_lru_eviction(void **state)
{
    struct io_fx *f = two_way_iotlb(state);
    dma(f, 0, 0, NULL);
    dma(f, 2, 0, NULL);
    dma(f, 0, 0, NULL);                                 /* 2 becomes LRU */
    dma(f, 4, 0, NULL);                                 /* evicts 2 */
    assert_int_equal(iommu_iotlb_count(&f->io), 2);
    uint64_t miss = f->st.cnt[CNT_iotlb_miss];
    dma(f, 0, 0, NULL);
    assert_int_equal(f->st.cnt[CNT_iotlb_miss], miss);
    dma(f, 2, 0, NULL);
    assert_int_equal(f->st.cnt[CNT_iotlb_miss], miss + 1);
}

/* LRU stays exact past 2^32 IOTLB uses: an entry of a cold set untouched
 * for more than 2^32 uses elsewhere is still the older of its set (with
 * 32-bit stamps its age wrapped to near zero and the younger one went). */
static void test_lru_past_2_32_uses(void **state)
{
    struct io_fx *f = two_way_iotlb(state);
    dma(f, 0, 0, NULL);                                 /* 0, then 2: 0 is the older */
    dma(f, 2, 0, NULL);
    f->io.tlb_stamp += (1ull << 32) - 1;                /* as if 2^32 - 1 uses of set 1 passed */
    dma(f, 4, 0, NULL);                                 /* evicts 0, the least recently used */
    uint64_t miss = f->st.cnt[CNT_iotlb_miss];
    dma(f, 2, 0, NULL);
    assert_int_equal(f->st.cnt[CNT_iotlb_miss], miss);  /* 2 stayed */
    dma(f, 0, 0, NULL);
    assert_int_equal(f->st.cnt[CNT_iotlb_miss], miss + 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_config_validation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_miss_then_hit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_readonly, setup, teardown),
        cmocka_unit_test_setup_teardown(test_readonly_intermediate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unmapped_faults, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_context_faults, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stale_iotlb_until_psi, setup, teardown),
        cmocka_unit_test_setup_teardown(test_psi_targets_one_page, setup, teardown),
        cmocka_unit_test_setup_teardown(test_psi_order_range, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dsi_per_domain, setup, teardown),
        cmocka_unit_test_setup_teardown(test_global, setup, teardown),
        cmocka_unit_test_setup_teardown(test_psi_fallback_no_psi, setup, teardown),
        cmocka_unit_test_setup_teardown(test_psi_fallback_mamv, setup, teardown),
        cmocka_unit_test_setup_teardown(test_queue_wraps, setup, teardown),
        cmocka_unit_test_setup_teardown(test_register_mode_cost, setup, teardown),
        cmocka_unit_test_setup_teardown(test_walk_cost_and_psc, setup, teardown),
        cmocka_unit_test_setup_teardown(test_superpage_l2, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lru_eviction, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lru_past_2_32_uses, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_iommu_units.c: two VT-d units (iommu.units=2).
 *
 * The NIC sits behind unit 0 and the disk behind unit 1: each device's DMA
 * goes through its own unit (the other has no context entry for it and
 * blocks it), and every invalidation the domain needs goes to both units,
 * each waited for, as Xen's iommu_flush_iotlb does over the domain's
 * iommu_bitmap: the same guest work under pv costs exactly twice the
 * page-selective invalidations of one unit, and twice their waits. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "testutil.h"
#include "hv/hv.h"
#include "hv/pv/xen.h"

#define VA 0x10000000ull

static struct tmachine *boot(const char *mode, const char *units)
{
    const char *const p[] = { "guest.ram_mb=256", units, NULL };
    return tm_boot_params(mode, "memwalk", p);
}

/* Spawn a process that writes 4 pages (its tables are pinned: under pv each
 * table page leaves the IOMMU), then let it exit (they come back). The
 * invalidations counted and their cycles. */
static void churn(const char *units, uint64_t *psi, uint64_t *cycles, uint64_t *inv)
{
    struct tmachine *t = boot("pv", units);
    *inv = t->cfg.cost.iotlb_inv;
    uint64_t p0 = t->m.st.cnt[CNT_iotlb_inv_psi], c0 = t->m.st.cyc[CYC_iommu];
    struct task *p = tm_spawn_touching(t, VA, 4);
    tm_access_ok(t, VA + PAGE_SIZE, ACC_WRITE);
    tm_check_all(t);
    do_exit(&t->m.k, p);
    *psi = t->m.st.cnt[CNT_iotlb_inv_psi] - p0;
    *cycles = t->m.st.cyc[CYC_iommu] - c0;
    assert_int_equal(tm_destroy(t), 0);
}

static void test_every_unit_invalidated(void **state)
{
    (void)state;
    uint64_t psi1, cyc1, psi2, cyc2, inv;
    churn(NULL, &psi1, &cyc1, &inv);
    churn("iommu.units=2", &psi2, &cyc2, &inv);
    assert_true(psi1 > 0);
    assert_int_equal(psi2, 2 * psi1);
    /* the second unit's waits, on top of the same I/O page-table updates */
    assert_int_equal(cyc2 - cyc1, psi1 * inv);
}

/* Each device reaches memory through its own unit only. */
static void test_devices_behind_their_units(void **state)
{
    (void)state;
    const char *const modes[] = { "pv", "hap" };
    for (unsigned m = 0; m < 2; m++) {
        struct tmachine *t = boot(modes[m], "iommu.units=2");
        struct hv *h = t->m.hv;
        assert_ptr_equal(h->nic.io, hv_iommu_unit(h, 0));
        assert_ptr_equal(h->disk.io, hv_iommu_unit(h, 1));
        /* a guest frame the devices may use: its dfn is the mfn under pv, the gfn under hap */
        struct task *p = tm_spawn_touching(t, VA, 1);
        uint64_t mfn = tm_access_ok(t, VA, ACC_WRITE), dfn = mfn, out;
        if (m)
            dfn = mfn_to_pfn(&h->dom, mfn);
        assert_int_equal(iommu_dma(hv_iommu_unit(h, 0), h->nic.id, dfn, 0, &out), 0);
        assert_int_equal(out, mfn);
        assert_int_equal(iommu_dma(hv_iommu_unit(h, 1), h->disk.id, dfn, 0, &out), 0);
        assert_int_equal(out, mfn);
        uint64_t faults = t->m.st.cnt[CNT_dma_faults];
        assert_int_equal(iommu_dma(hv_iommu_unit(h, 0), h->disk.id, dfn, 0, &out), -1);
        assert_int_equal(iommu_dma(hv_iommu_unit(h, 1), h->nic.id, dfn, 0, &out), -1);
        assert_int_equal(t->m.st.cnt[CNT_dma_faults], faults + 2);
        assert_int_equal(iommu_iotlb_count(hv_iommu_unit(h, 0)) > 0, 1);
        assert_int_equal(iommu_iotlb_count(hv_iommu_unit(h, 1)) > 0, 1);
        tm_finish(t, p);
    }
}

/* The second unit really forgets: the disk caches a writable translation
 * of a guest frame in unit 1; the frame becoming a page table (writable ->
 * L1, as a pin makes it) must leave neither device able to write it. An
 * invalidation sent twice to the first unit instead counts the same and
 * fails here. */
static void test_second_unit_forgets(void **state)
{
    (void)state;
    struct tmachine *t = boot("pv", "iommu.units=2");
    struct hv *h = t->m.hv;
    struct task *p = tm_spawn_touching(t, VA, 1);
    uint64_t mfn = tm_access_ok(t, VA, ACC_WRITE), out;
    assert_int_equal(iommu_dma(hv_iommu_unit(h, 1), h->disk.id, mfn, 1, &out), 0);   /* cached, writable */
    assert_int_equal(iommu_dma(hv_iommu_unit(h, 0), h->nic.id, mfn, 1, &out), 0);
    iommu_sync_type_change(XEN(h), &h->dom, mfn, PGT_writable, PGT_l1);
    assert_int_equal(iommu_dma(hv_iommu_unit(h, 1), h->disk.id, mfn, 1, &out), -1);
    assert_int_equal(iommu_dma(hv_iommu_unit(h, 0), h->nic.id, mfn, 1, &out), -1);
    iommu_sync_type_change(XEN(h), &h->dom, mfn, PGT_l1, PGT_writable);          /* as it was */
    assert_int_equal(iommu_dma(hv_iommu_unit(h, 1), h->disk.id, mfn, 1, &out), 0);
    tm_finish(t, p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_unit_invalidated),
        cmocka_unit_test(test_devices_behind_their_units),
        cmocka_unit_test(test_second_unit_forgets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

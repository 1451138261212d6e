/* test_dma.c: a NIC behind the IOMMU moving data through its rings: page
 * accounting, ring wrap-around, faulting buffers, direction vs permission,
 * and the device time (dma_page per page plus I/O walks). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "hv/vtd.h"
#include "hw/dma.h"
#include "testutil_io.h"

#define DID 1
#define NIC 4
#define NBUF 8
#define BUF0 0x100        /* buffer dfns BUF0..BUF0+7 */

struct fx {
    struct io_fx hw;      /* the IOMMU unit; its frames back the domain's tables */
    struct vtd_domain vd;
    struct dma_dev nic;
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    io_fx_init(&f->hw);
    assert_int_equal(vtd_domain_init(&f->vd, &f->hw.io, DID, io_fx_alloc_frame, io_fx_free_frame, &f->hw), 0);
    vtd_assign_device(&f->vd, NIC);
    uint64_t dfns[NBUF];
    for (unsigned i = 0; i < NBUF; i++) {
        dfns[i] = BUF0 + i;
        vtd_map_page(&f->vd, dfns[i], 0x8000 + i, 1);
    }
    dma_dev_init(&f->nic, &f->hw.io, NIC, "nic");
    dma_set_ring(&f->nic.rx, dfns, NBUF);
    dma_set_ring(&f->nic.tx, dfns, NBUF);
    dfns[0] = 0xdead;                 /* the ring is a copy */
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    dma_dev_destroy(&f->nic);
    vtd_domain_destroy(&f->vd);
    io_fx_destroy(&f->hw);
    free(f);
    return 0;
}

static void test_rx_three_pages(void **state)
{
    struct fx *f = *state;
    assert_int_equal(f->nic.rx.dfn[0], BUF0);
    uint64_t t = dma_transfer(&f->nic, &f->nic.rx, 3 * 4096, 1);
    assert_int_equal(f->nic.pages, 3);
    assert_int_equal(f->nic.bytes, 3 * 4096);
    assert_int_equal(f->nic.faults, 0);
    assert_int_equal(f->nic.rx.next, 3);
    assert_int_equal(f->nic.tx.next, 0);
    assert_int_equal(f->hw.st.cnt[CNT_iotlb_miss], 3);
    /* first miss walks 4 levels, the next two hit the PDE cache: 1 each */
    uint64_t walk = 6 * f->hw.cost.io_walk_ref;
    assert_int_equal(t, 3 * f->hw.cost.dma_page + walk);
    assert_int_equal(f->nic.busy_cycles, t);
    /* again on the same buffers: all IOTLB hits, no walk time */
    f->nic.rx.next = 0;
    assert_int_equal(dma_transfer(&f->nic, &f->nic.rx, 3 * 4096, 1), 3 * f->hw.cost.dma_page);
    assert_int_equal(f->nic.busy_cycles, t + 3 * f->hw.cost.dma_page);
}

static void test_wraps_around(void **state)
{
    struct fx *f = *state;
    dma_transfer(&f->nic, &f->nic.rx, 6 * 4096, 1);
    assert_int_equal(f->nic.rx.next, 6);
    dma_transfer(&f->nic, &f->nic.rx, 20 * 1024, 1);     /* 5 slots: 6, 7, 0, 1, 2 */
    assert_int_equal(f->nic.rx.next, 3);
    assert_int_equal(f->nic.pages, 11);
    assert_int_equal(f->nic.bytes, 6 * 4096 + 20 * 1024);
}

static void test_partial_page(void **state)
{
    struct fx *f = *state;
    dma_transfer(&f->nic, &f->nic.tx, 100, 0);
    assert_int_equal(f->nic.pages, 1);
    assert_int_equal(f->nic.bytes, 100);
    assert_int_equal(f->nic.tx.next, 1);
    assert_int_equal(dma_transfer(&f->nic, &f->nic.tx, 0, 0), 0);
    assert_int_equal(f->nic.tx.next, 1);
}

static void test_unmapped_slot_faults(void **state)
{
    struct fx *f = *state;
    vtd_flush(&f->vd, BUF0 + 1, vtd_unmap_page(&f->vd, BUF0 + 1), 0);
    uint64_t t = dma_transfer(&f->nic, &f->nic.rx, 3 * 4096, 1);
    assert_int_equal(f->nic.faults, 1);
    assert_int_equal(f->hw.st.cnt[CNT_dma_faults], 1);
    assert_int_equal(f->nic.pages, 2);
    assert_int_equal(f->nic.bytes, 2 * 4096);
    assert_int_equal(f->nic.rx.next, 3);                  /* the slot is skipped */
    /* walk time of the faulting slot counts as device time, its page does not */
    assert_int_equal(t, 2 * f->hw.cost.dma_page + 6 * f->hw.cost.io_walk_ref);
}

static void test_direction_vs_permission(void **state)
{
    struct fx *f = *state;
    for (unsigned i = 0; i < NBUF; i++)
        vtd_flush(&f->vd, BUF0 + i, vtd_map_page(&f->vd, BUF0 + i, 0x8000 + i, 0), 0);
    assert_int_equal(f->hw.st.cnt[CNT_iotlb_inv_psi], NBUF);
    dma_transfer(&f->nic, &f->nic.tx, 2 * 4096, 0);      /* device reads: fine */
    assert_int_equal(f->nic.pages, 2);
    assert_int_equal(f->nic.faults, 0);
    dma_transfer(&f->nic, &f->nic.rx, 2 * 4096, 1);      /* device writes: blocked */
    assert_int_equal(f->nic.pages, 2);
    assert_int_equal(f->nic.faults, 2);
    assert_int_equal(f->nic.bytes, 2 * 4096);
}

static void test_no_context(void **state)
{
    struct fx *f = *state;
    struct dma_dev disk;
    dma_dev_init(&disk, &f->hw.io, NIC + 1, "disk");
    uint64_t d = BUF0;
    dma_set_ring(&disk.rx, &d, 1);
    dma_set_ring(&disk.rx, &d, 1);                        /* replacing frees the old copy */
    assert_int_equal(dma_transfer(&disk, &disk.rx, 8192, 1), 0);
    assert_int_equal(disk.faults, 2);
    assert_int_equal(disk.rx.next, 0);
    dma_dev_destroy(&disk);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_rx_three_pages, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wraps_around, setup, teardown),
        cmocka_unit_test_setup_teardown(test_partial_page, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unmapped_slot_faults, setup, teardown),
        cmocka_unit_test_setup_teardown(test_direction_vs_permission, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_context, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_dma.c: a NIC behind the IOMMU moving data through its rings: page
 * accounting, ring wrap-around, faulting buffers, direction vs permission,
 * the device time (dma_page per page plus I/O walks), and the device's queue
 * (a server: a transfer starts when the one before is done; bytes count as
 * moved when their transfer completes). */
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
    vtd_assign_device(&f->vd, &f->hw.io, NIC);
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

/* An idle device starts a transfer when given it; a busy one when it has
 * finished what it has; completed + queued = given, and only completed
 * transfers are retired. */
static void test_queue_server(void **state)
{
    (void)state;
    struct dma_queue q = { 0 };
    dma_queue_add(&q, 100, 50, 4096);          /* idle: runs 100..150 */
    assert_int_equal(q.free_at, 150);
    assert_int_equal(q.max_wait, 0);
    dma_queue_add(&q, 120, 50, 1000);          /* waits 30: runs 150..200 */
    dma_queue_add(&q, 130, 50, 2000);          /* waits 70: runs 200..250 */
    assert_int_equal(q.free_at, 250);
    assert_int_equal(q.max_wait, 70);
    dma_queue_retire(&q, 149);
    assert_int_equal(q.done_bytes, 0);
    assert_int_equal(q.queued_bytes, 7096);
    dma_queue_retire(&q, 200);                 /* the first two done, the third not */
    assert_int_equal(q.done_bytes, 5096);
    assert_int_equal(q.queued_bytes, 2000);
    dma_queue_add(&q, 1000, 10, 500);          /* idle again: no wait */
    assert_int_equal(q.free_at, 1010);
    assert_int_equal(q.max_wait, 70);
    dma_queue_retire(&q, 1010);
    assert_int_equal(q.done_bytes, 7596);
    assert_int_equal(q.queued_bytes, 0);
    assert_int_equal(q.n, 0);
    /* device time past 2^64 cycles saturates: that transfer never completes */
    dma_queue_add(&q, 2000, UINT64_MAX - 100, 300);
    dma_queue_add(&q, 2001, 5000, 400);
    assert_true(q.free_at == UINT64_MAX);
    dma_queue_retire(&q, UINT64_MAX - 1);
    assert_int_equal(q.queued_bytes, 700);
    dma_queue_free(&q);
}

/* A backlog larger than the ring's first allocation, retired while it
 * wraps: every byte is accounted, in order. */
static void test_queue_backlog(void **state)
{
    (void)state;
    struct dma_queue q = { 0 };
    uint64_t given = 0;
    for (uint64_t i = 0; i < 1000; i++) {
        dma_queue_add(&q, i * 10, 25, i + 1);  /* 25 cycles of work every 10 */
        given += i + 1;
        if (i % 7 == 0)
            dma_queue_retire(&q, i * 10);
        assert_int_equal(q.done_bytes + q.queued_bytes, given);
    }
    assert_int_equal(q.free_at, 25000);        /* back to back from 0 */
    assert_int_equal(q.max_wait, 999 * 25 - 999 * 10);
    dma_queue_retire(&q, 24999);               /* all but the last */
    assert_int_equal(q.queued_bytes, 1000);
    dma_queue_retire(&q, 25000);
    assert_int_equal(q.done_bytes, given);
    dma_queue_free(&q);
}

/* dma_transfer's device time is what the queue is given. */
static void test_transfer_time_queues(void **state)
{
    struct fx *f = *state;
    uint64_t t1 = dma_transfer(&f->nic, &f->nic.rx, 3 * 4096, 1);
    dma_queue_add(&f->nic.q, 0, t1, 3 * 4096);
    uint64_t t2 = dma_transfer(&f->nic, &f->nic.rx, 4096, 1);
    dma_queue_add(&f->nic.q, 1, t2, 4096);
    assert_int_equal(f->nic.q.max_wait, t1 - 1);
    assert_int_equal(f->nic.q.free_at, t1 + t2);
    dma_queue_retire(&f->nic.q, t1 + t2 - 1);
    assert_int_equal(f->nic.q.done_bytes, 3 * 4096);
    assert_int_equal(f->nic.q.queued_bytes, 4096);
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
        cmocka_unit_test(test_queue_server),
        cmocka_unit_test(test_queue_backlog),
        cmocka_unit_test_setup_teardown(test_transfer_time_queues, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* testutil_io.h: the IOMMU fixture shared by the I/O test programs
 * (test_iommu.c, test_vtd.c, test_dma.c): machine memory, statistics, the
 * default cost profile, an IOMMU with the default configuration, and a
 * trivial frame allocator for the I/O page tables. Each program wraps it with
 * what is specific to it (a VT-d domain, devices, counting allocators).
 * Include after <cmocka.h>. Everything is static so each test program gets
 * its own copy. */
#ifndef MV_TESTS_TESTUTIL_IO_H
#define MV_TESTS_TESTUTIL_IO_H
#include <stdint.h>
#include <stdlib.h>

#include "hw/iommu.h"

struct io_fx {
    struct pmem mem;
    struct mv_stats st;
    struct cost cost;
    struct iommu_config cfg;
    struct iommu io;
    uint64_t next_frame;            /* the next free frame (from 0x1000 up) */
};

/* Bring up the unit: 1 Mi frames of memory, the default cost profile and the
 * default IOMMU configuration. */
static inline void io_fx_init(struct io_fx *b)
{
    pmem_init(&b->mem, 1 << 20);
    assert_int_equal(cost_load_profile(&b->cost, "default"), 0);
    param_defaults(&iommu_params, &b->cfg);
    assert_int_equal(iommu_init(&b->io, &b->mem, &b->st, &b->cost, &b->cfg), 0);
    b->next_frame = 0x1000;
}

static inline void io_fx_destroy(struct io_fx *b)
{
    iommu_destroy(&b->io);
    pmem_destroy(&b->mem);
}

/* Frame allocator callbacks (ctx: the struct io_fx): fresh frames in order,
 * never reused. */
static inline uint64_t io_fx_alloc_frame(void *ctx) { return ((struct io_fx *)ctx)->next_frame++; }
static inline void io_fx_free_frame(void *ctx, uint64_t mfn) {}

#endif

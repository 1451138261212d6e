/* testutil_io.h: the IOMMU fixture shared by the I/O test programs
 * (test_iommu.c, test_vtd.c, test_dma.c): machine memory, statistics, the
 * default cost profile, an IOMMU with the default configuration, and frame
 * allocators for the I/O page tables (a trivial one, and one that counts and
 * can be made to fail). Each program wraps it with what is specific to it
 * (a VT-d domain, devices).
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
    uint64_t allocs, frees, limit;  /* io_fx_count_*: frames given and taken back; allocs stop at limit */
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
    b->allocs = b->frees = 0;
    b->limit = UINT64_MAX;
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

/* The same, counted: an allocation past limit fails (UINT64_MAX), and a
 * frame taken back must be one given out. */
static inline uint64_t io_fx_count_alloc(void *ctx)
{
    struct io_fx *b = ctx;
    if (b->allocs == b->limit)
        return UINT64_MAX;
    b->allocs++;
    return b->next_frame++;
}

static inline void io_fx_count_free(void *ctx, uint64_t mfn)
{
    struct io_fx *b = ctx;
    assert_true(mfn >= 0x1000 && mfn < b->next_frame);
    b->frees++;
}

#endif

/* refloop.h: the reference loop of the speed benchmark: the least a TLB
 * simulator must do for each reference of a stream, written plainly, to
 * measure memvirt against.
 *
 * An L1 TLB of 64 entries, 4-way, and an L2 (STLB) of 1536 entries, 12-way,
 * both set-associative with true LRU (a 64-bit use stamp per entry, the
 * victim the invalid way or the oldest); on an L2 miss, a walk of a 4-level
 * radix table in host memory (one load per level), filled on first touch
 * like a demand fault. No permissions, page sizes, PCIDs, walk caches, data
 * cache, statistics beyond hits and misses, or cost model: everything
 * memvirt does beyond this is its overhead. */
#ifndef MV_BENCH_REFLOOP_H
#define MV_BENCH_REFLOOP_H
#include <stdint.h>

struct refloop_counts {
    uint64_t refs, l1_hits, l2_hits, walks;
};

struct refloop;
struct refloop *refloop_new(void);
void refloop_free(struct refloop *r);
/* Run n references (8-byte aligned addresses; the low bits are ignored). */
void refloop_batch(struct refloop *r, const uint64_t *ref, uint32_t n);
struct refloop_counts refloop_counts(const struct refloop *r);

#endif

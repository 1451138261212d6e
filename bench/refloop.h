/* refloop.h: the reference loops of the speed benchmark: what a TLB
 * simulator must do for each reference of a stream, written plainly, to
 * measure memvirt against.
 *
 * The plain loop (REFLOOP_PLAIN) is the least: an L1 TLB of 64 entries,
 * 4-way, and an L2 (STLB) of 1536 entries, 12-way, both set-associative
 * with true LRU (a 64-bit use stamp per entry, the victim the invalid way
 * or the oldest); on an L2 miss, a walk of a 4-level radix table in host
 * memory (one load per level), filled on first touch like a demand fault.
 * No permissions, page sizes, PCIDs, walk caches, data cache, statistics
 * beyond hits and misses, or cost model: everything memvirt does beyond
 * this is its overhead.
 *
 * The loop with walk caches (REFLOOP_WALK_CACHES) adds, in the same plain
 * style, the two structures memvirt's native miss path models beyond that,
 * with memvirt's default geometry: paging-structure caches (PML4E 2,
 * PDPTE 4 and PDE 32 entries, fully associative, true LRU by stamps, the
 * walk starting below the deepest hit and filling the levels it read) and
 * the data cache the walk's loads go through (256 KiB of 64-byte lines,
 * 16-way, true LRU by stamps; a line is a host address here, a machine
 * address in memvirt, so the two hit rates agree only statistically), and
 * sets each entry's accessed bit. Still no permissions, page sizes, PCIDs
 * or cost model. It measures how close memvirt comes to the least a
 * simulator modelling what memvirt models must do.
 *
 * The nested loop (REFLOOP_2D) is the loop with walk caches under nested
 * paging, as memvirt's hap models it by default: the guest's tables name
 * guest frames, each translated, like the data frame at the end, through
 * a nested TLB (32 entries, 4-way) or else an EPT walk of 4 levels with
 * walk caches of its own (2, 4 and 32 entries) and through the same data
 * cache; the guest's walk caches hold host addresses (combined entries).
 * Its rate over the loop with walk caches is what hap over native costs
 * a plain simulator of the same structures. */
#ifndef MV_BENCH_REFLOOP_H
#define MV_BENCH_REFLOOP_H
#include <stdint.h>

enum refloop_kind { REFLOOP_PLAIN, REFLOOP_WALK_CACHES, REFLOOP_2D };

struct refloop_counts {
    uint64_t refs, l1_hits, l2_hits, walks;
    uint64_t walk_refs, walk_cache_misses;   /* not REFLOOP_PLAIN */
};

struct refloop;
struct refloop *refloop_new(enum refloop_kind kind);
void refloop_free(struct refloop *r);
/* Run n references (8-byte aligned addresses; the low bits are ignored). */
void refloop_batch(struct refloop *r, const uint64_t *ref, uint32_t n);
struct refloop_counts refloop_counts(const struct refloop *r);

#endif

/* dcache.h: the CPU data caches as page walks see them.
 *
 * Page-walk loads are ordinary cacheable loads: an entry read a moment ago
 * (its 64-byte line holds 8 entries) is cheap; one evicted long ago costs a
 * trip to the last-level cache or DRAM. memvirt does not model the
 * program's data accesses, so this is the share of the cache hierarchy that
 * page-table lines keep: a set-associative LRU cache of 64-byte lines
 * (cache.ptw_kb, cache.ptw_ways). A walk reference that hits costs
 * cost.walk_ref, one that misses cost.walk_ref_miss. */
#ifndef MV_HW_DCACHE_H
#define MV_HW_DCACHE_H
#include "hw/simd.h"
#include "lib/param.h"
#include <stdint.h>

struct dcache_config {
    uint64_t ptw_kb;     /* capacity in KiB (0: no cache, every reference misses) */
    uint64_t ptw_ways;
};
extern const struct param_group dcache_params;   /* prefix "cache" */

/* True LRU per set (hw/lru.h): up to 16 ways a recency order per set,
 * wider a recency list per set (links of one byte: ways <= 255, the
 * sentinel at index `ways`). Lines are never invalidated, so a
 * set's empty ways are always its last ones: the lowest is found from the
 * set's tags (up to 16 ways) or its count of valid ways (wider).
 *
 * A tag is the line address shifted right by the set bits, plus one (0: an
 * invalid way), in 32 bits: a set of 16 ways is one 64-byte host line.
 * The set a line goes in is a bijection of its low bits (dcache_set), so
 * the tag and the set name the line exactly. It fits while the machine's
 * line addresses, shifted, stay below 2^32 - 1: dcache_init refuses a
 * geometry with too few sets for the machine (dcache_min_sets). */
struct dcache {
    uint32_t *tag;       /* (line >> set_bits) + 1; 0 = invalid */
    uint64_t *order;     /* per set (ways <= 16), else NULL */
    uint8_t  *nvalid;    /* per set (ways > 16): ways holding a line (ways 0..nvalid-1) */
    uint8_t  *lprev, *lnext;   /* per set (ways > 16), ways + 1 links each: the set's
                                  valid ways, most recently used first */
    uint64_t mru_line;   /* line + 1 touched last, the most recent of its set; 0: none */
    uint32_t sets, ways, set_mask, set_bits;
};

/* -1 if the geometry is invalid, -2 if it has too few sets to tag the
 * lines of a machine of max_frames 4 KiB frames (no message). */
int  dcache_init(struct dcache *c, const struct dcache_config *cfg, uint64_t max_frames);
/* The fewest sets that tag the lines of max_frames frames in 32 bits. */
uint64_t dcache_min_sets(uint64_t max_frames);
void dcache_destroy(struct dcache *c);

/* Access the line holding machine byte address `addr`; 1 on a hit, 0 on a
 * miss (the line is then filled, evicting the set's least recently used).
 * Two copies (simd.h), called directly. */
int dcache_access_avx2(struct dcache *c, uint64_t addr);
int dcache_access_scalar(struct dcache *c, uint64_t addr);
static inline int dcache_access(struct dcache *c, uint64_t addr)
{
    if (!c->sets)
        return 0;
    return hw_simd ? dcache_access_avx2(c, addr) : dcache_access_scalar(c, addr);
}

#endif

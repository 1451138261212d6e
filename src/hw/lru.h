/* lru.h: exact true-LRU replacement for set-associative caches, in O(1).
 *
 * Real caches approximate LRU; memvirt's TLBs and caches model true LRU,
 * and this is its cheap exact form. A set of up to 16 ways keeps its
 * recency order in one 64-bit word: way numbers as 4-bit nibbles, the most
 * recently used at the bottom. Touching a way moves its nibble to the
 * bottom (a zero-nibble search and two shifts, no loop); the least recently
 * used way is the nibble at position ways-1; "already most recent" is one
 * compare, so a hit on the most recent way may skip the update exactly. A
 * bit per way says which ways hold an entry: a victim is the lowest-numbered
 * empty way, else the least recently used. Wider TLB sets keep a recency
 * list and an index instead (tlb_wide.h), wider data-cache sets a recency
 * list (dcache.h): both O(1) and exact however long the run. */
#ifndef MV_HW_LRU_H
#define MV_HW_LRU_H
#include <stdint.h>

#define LRU_ORDER_WAYS 16
#define LRU_NIBBLES 0x1111111111111111ull

/* Ways in positions 0..15: any permutation is a valid start. */
#define LRU_ORDER_INIT 0xfedcba9876543210ull

/* Position of way w in the order (w must be in it). */
static inline unsigned lru_order_pos(uint64_t o, unsigned w)
{
    uint64_t x = o ^ (w * LRU_NIBBLES);   /* w's nibble becomes 0 */
    uint64_t z = (x - LRU_NIBBLES) & ~x & (LRU_NIBBLES << 3);
    return (unsigned)__builtin_ctzll(z) >> 2;   /* the lowest zero nibble is exact */
}

/* Make way w the most recently used. */
static inline uint64_t lru_order_touch(uint64_t o, unsigned w)
{
    uint64_t below = (1ull << (4 * lru_order_pos(o, w))) - 1;   /* the nibbles more recent than w */
    return (o & ~((below << 4) | 0xf)) | ((o & below) << 4) | w;
}

/* Make the least recently used way w (at position ways-1) the most recent:
 * every other way moves down one position, w goes to the bottom. Nibbles
 * beyond position ways-1 are never looked at (the lowest match wins). */
static inline uint64_t lru_order_touch_oldest(uint64_t o, unsigned w) { return (o << 4) | w; }

static inline unsigned lru_order_oldest(uint64_t o, unsigned ways)
{
    return (unsigned)(o >> (4 * (ways - 1))) & 0xf;
}

static inline int lru_order_is_mru(uint64_t o, unsigned w) { return (o & 0xf) == w; }

#endif

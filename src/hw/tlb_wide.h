/* tlb_wide.h: the replacement state of TLB sets wider than 16 ways.
 *
 * A set of up to 16 ways keeps its recency order in one word (lru.h). A
 * wider set (a fully associative STLB, AMD's 64-entry fully associative L1
 * DTLB) used to keep a use stamp per way, so a lookup, a victim search and
 * an INVLPG each scanned the whole set: a fully associative 1536-entry STLB
 * made a random stream 70 times slower. Here the same true LRU costs O(1):
 *
 *   - the valid entries of each set on a circular doubly linked list through
 *     a sentinel (slot n + s for set s), most recently used first: a touch
 *     moves an entry to the front, the victim of a full set is the last;
 *   - a bitmap of each set's empty ways and a count of its valid ones: the
 *     victim of a set not yet full is its lowest empty way, as before;
 *   - an index from page to entries, over the whole array: a hash of the
 *     tag's page part (tag >> 13: the virtual page number and the page
 *     size, the PCID left out), chaining every valid entry of that page,
 *     whatever its PCID. An exact lookup and the global-entry match (an
 *     entry of the same page and any PCID) both walk one short chain.
 *
 * Where the scans chose among several matches (the global match), the
 * lowest-numbered way wins here too, so the choices, and every statistic,
 * are the ones the scans made. Invariant: an entry is valid iff its tag is
 * non-zero, iff it is on its set's list and in the index, iff its bit in
 * the set's empty bitmap is clear; nvalid[s] counts the set's valid ways.
 * tlb_wide_check() verifies all of it. */
#ifndef MV_HW_TLB_WIDE_H
#define MV_HW_TLB_WIDE_H
#include "hw/tlb.h"
#include "lib/err.h"

static inline uint32_t tlb_wide_bucket(const struct tlb_array *a, uint64_t tag)
{
    return (uint32_t)(((tag >> 13) * 0x9e3779b97f4a7c15ull) >> 32) & a->hmask;
}

/* The way of set s (entries from base) holding tag, or -1. Tags are unique
 * in a set. */
static inline long tlb_wide_match(const struct tlb_array *a, size_t base, uint64_t tag)
{
    for (uint32_t e = a->hidx[tlb_wide_bucket(a, tag)]; e; e = a->hnext[e - 1])
        if (a->tag[e - 1] == tag)
            return (long)(e - 1 - base);
    return -1;
}

/* The lowest way of set s holding an entry for tag's page (any PCID) that
 * is global, or with g set any such entry; -1 if none. */
static inline long tlb_wide_match_global(const struct tlb_array *a, size_t base, uint64_t tag, uint8_t g)
{
    long best = -1;
    for (uint32_t e = a->hidx[tlb_wide_bucket(a, tag)]; e; e = a->hnext[e - 1]) {
        size_t i = e - 1;
        if (!((a->tag[i] ^ tag) >> 13) && ((a->flags[i] | g) & TLB_G) && (best < 0 || i - base < (size_t)best))
            best = (long)(i - base);
    }
    return best;
}

static inline void tlb_wide_unlink(struct tlb_array *a, size_t i)
{
    uint32_t p = a->lprev[i], n = a->lnext[i];
    a->lnext[p] = n;
    a->lprev[n] = p;
}

static inline void tlb_wide_push(struct tlb_array *a, uint64_t s, size_t i)
{
    size_t head = (size_t)a->sets * a->ways + s;
    uint32_t first = a->lnext[head];
    a->lprev[i] = (uint32_t)head;
    a->lnext[i] = first;
    a->lprev[first] = (uint32_t)i;
    a->lnext[head] = (uint32_t)i;
}

/* Entry i of set s (valid) becomes the most recently used. */
static inline void tlb_wide_touch(struct tlb_array *a, uint64_t s, size_t i)
{
    if (a->lnext[(size_t)a->sets * a->ways + s] != i) {
        tlb_wide_unlink(a, i);
        tlb_wide_push(a, s, i);
    }
}

/* The way a new entry takes in set s: the lowest empty one, else the least
 * recently used. */
static inline uint32_t tlb_wide_victim(const struct tlb_array *a, uint64_t s)
{
    if (a->nvalid[s] < a->ways) {
        const uint64_t *e = &a->empty[s * a->ewords];
        uint32_t k = 0;
        while (!e[k])
            k++;
        return k * 64 + (uint32_t)__builtin_ctzll(e[k]);
    }
    return (uint32_t)(a->lprev[(size_t)a->sets * a->ways + s] - s * a->ways);
}

/* Take entry i (way w of set s, valid, its tag still in place) out of the
 * index, the list and the count; the caller clears or replaces the tag. */
static inline void tlb_wide_remove(struct tlb_array *a, uint64_t s, uint32_t w, size_t i)
{
    uint32_t *pp = &a->hidx[tlb_wide_bucket(a, a->tag[i])];
    while (*pp != i + 1) {
        MV_ASSERT(*pp, "tlb entry %zu missing from its index chain", i);
        pp = &a->hnext[*pp - 1];
    }
    *pp = a->hnext[i];
    tlb_wide_unlink(a, i);
    a->empty[s * a->ewords + w / 64] |= 1ull << (w % 64);
    a->nvalid[s]--;
}

/* Entry i (way w of set s, invalid) now holds tag: indexed, most recent. */
static inline void tlb_wide_add(struct tlb_array *a, uint64_t s, uint32_t w, size_t i, uint64_t tag)
{
    uint32_t *head = &a->hidx[tlb_wide_bucket(a, tag)];
    a->hnext[i] = *head;
    *head = (uint32_t)(i + 1);
    tlb_wide_push(a, s, i);
    a->empty[s * a->ewords + w / 64] &= ~(1ull << (w % 64));
    a->nvalid[s]++;
}

/* Every entry gone: empty lists, index and counts, every way empty. */
void tlb_wide_reset(struct tlb_array *a);
/* Allocate the state for a's geometry (ways > 16) and reset it. */
void tlb_wide_init(struct tlb_array *a);
void tlb_wide_destroy(struct tlb_array *a);
/* The invariant above; 0 if it holds, else -1 with *why set. */
int tlb_wide_check(const struct tlb_array *a, const char **why);

#endif

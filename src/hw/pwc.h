/* pwc.h: paging-structure caches ("page-walk caches").
 *
 * Intel CPUs cache upper-level paging entries so a TLB miss need not read all
 * four levels (SDM vol. 3, 4.10.3). Three fully associative LRU caches:
 *   PML4E cache: key va[47:39] -> frame of the L3 table it points to
 *   PDPTE cache: key va[47:30] -> frame of the L2 table
 *   PDE cache:   key va[47:21] -> frame of the L1 table
 * each entry tagged by PCID and holding the permissions accumulated on the way
 * down (W, U, NX as TLB_* bits). Only non-leaf entries are cached. A size of 0
 * disables a cache. */
#ifndef MV_HW_PWC_H
#define MV_HW_PWC_H
#include "hw/geom.h"
#include "hw/pte.h"
#include "hw/simd.h"
#include "lib/err.h"
#include <stdint.h>

/* One cache: n entries, struct-of-arrays so a lookup scans only tags.
 * tag 0 = invalid; else va[47:level_shift(lvl)] in place | (pcid << 1) | 1.
 * tag[n], the sentinel's, is always 0, so the head of an empty list
 * matches no tag.
 * True LRU in O(1): the valid entries on a circular doubly linked list
 * through a sentinel (slot n), most recent first; a bitmap of empty slots
 * gives the lowest one.
 * A cache of at most PWC_SCAN_MAX entries (every default size) keeps no
 * chains. With AVX2 a lookup compares a 16-bit key of its tag (fp[],
 * pwc_fp) with those of all 32 slots in two compares, and checks each slot
 * whose key matches by its whole tag (a key is never 0, an empty slot's key
 * is 0; a slot whose key matches but not its tag, one lookup in tens of
 * thousands, costs a compare). Without AVX2 it tries a hint per bucket
 * first, the slot last given or found a tag of that bucket by a scalar
 * lookup or an insert that is not the AVX2 walk's, never taken back (a
 * stale or missing hint fails its tag compare), then the tags one by one.
 * The index's upkeep at an insert or an eviction is then a store or two
 * (the key, and the hint where it is read), not a chain's (the recency
 * list is kept the same either way). Its tag array is padded to whole
 * groups of four, its key array to 32. Either way the same entry is
 * found. */
struct pwc_cache {
    uint64_t *tag;
    uint64_t *table;   /* frame of the next-level table */
    uint8_t  *perms;   /* TLB_W | TLB_U | TLB_NX accumulated from L4 down */
    uint16_t *prev, *next;   /* the recency list: n + 1 links, next[n] the most recent */
    uint64_t *empty;   /* bit i: slot i holds no entry */
    uint32_t n, valid;
    /* Above PWC_SCAN_MAX entries, an index from tag to entry, so a lookup
     * does not scan a large cache: a hash table of at least 4n buckets, each a chain
     * of slots (slot + 1; 0 ends a chain): hidx[] the first of each
     * bucket, hnext[] the next after each slot. An entry leaves its chain
     * in a few steps, however full the table. */
    uint16_t *hidx, *hnext;   /* n <= PWC_SCAN_MAX: hidx[] hints, hnext[] unused */
    uint16_t *fp;             /* n <= PWC_SCAN_MAX: each slot's key (pwc_fp), 0 if empty; else unused */
    uint32_t hmask;
};
#define PWC_MAX 4096u
#define PWC_SCAN_MAX 32u

/* lvl[4]: PML4E cache, lvl[3]: PDPTE cache, lvl[2]: PDE cache (index = level
 * of the cached entry). lvl[0], lvl[1] unused. */
struct pwc {
    struct pwc_cache lvl[5];
};

void pwc_init(struct pwc *p, uint32_t n_l4, uint32_t n_l3, uint32_t n_l2);
void pwc_destroy(struct pwc *p);

/* Find the deepest cached entry for va. Returns the level of the table the
 * walk continues from (1 after a PDE hit, 2 after a PDPTE hit, 3 after a PML4E
 * hit) with *table and *perms set; returns 4 on a complete miss (start at CR3). */
static inline unsigned pwc_lookup(struct pwc *p, uint64_t va, uint16_t pcid, uint64_t *table, uint8_t *perms);

/* Cache the entry of level lvl (2..4) for va: it points to `table`. */
void pwc_insert(struct pwc *p, unsigned lvl, uint64_t va, uint16_t pcid, uint64_t table, uint8_t perms);
/* The same, when the caller knows the cache holds no entry for (lvl, va,
 * pcid): a pwc_lookup just stopped above lvl, and nothing changed the
 * cache since. Skips the search for one to replace. */
static inline void pwc_insert_missed(struct pwc *p, unsigned lvl, uint64_t va, uint16_t pcid, uint64_t table,
                                     uint8_t perms);

void pwc_flush_pcid(struct pwc *p, uint16_t pcid);
void pwc_flush_all(struct pwc *p);

/* ---- the hot paths, inline (walk_tmpl.h instantiates them) -------------
 * Each takes the cache's size n and hash mask: the cache's own, or
 * constants of an instance compiled for one geometry (geom.h). */

/* The hash mask of a cache of n entries: at least 4n buckets, a power of
 * two (and at least 4). */
static inline uint32_t pwc_hmask(uint32_t n)
{
    return n <= 1 ? 3 : (1u << (32 - __builtin_clz(4 * n - 1))) - 1;
}

/* va's bits [47:level_shift(lvl)] where they are (level_shift >= 21 > 13,
 * so they never meet the PCID's bits): one mask, no shifts. */
static inline uint64_t pwc_tag(unsigned lvl, uint64_t va, uint16_t pcid)
{
    return (va & ((1ull << VA_BITS) - 1) & ~((1ull << level_shift(lvl)) - 1)) |
           ((uint64_t)(pcid & 0xfff) << 1) | 1;
}

static inline uint32_t pwc_hslot(uint32_t hmask, uint64_t tag)
{
    return (uint32_t)((tag * 0x9e3779b97f4a7c15ull) >> 40) & hmask;
}

/* A tag's 16-bit key for the scan: the top of the same product (so the
 * compiler computes it once with the hint's bucket), never 0. */
static inline uint16_t pwc_fp(uint64_t tag)
{
    return (uint16_t)((tag * 0x9e3779b97f4a7c15ull) >> 48) | 1;
}

/* Bit i set for each slot i < n (n <= PWC_SCAN_MAX) holding tag: every
 * slot at once, no index. Empty slots hold tag 0, which no tag is. */
static inline __attribute__((always_inline)) uint32_t pwc_scan(const struct pwc_cache *c, uint32_t n, uint64_t tag,
                                                               int simd)
{
    if (n > 16)
        return TAGS_MATCH(simd, c->tag, 16, tag) | TAGS_MATCH(simd, c->tag + 16, n - 16, tag) << 16;
    return TAGS_MATCH(simd, c->tag, n, tag);
}

/* The slot holding tag in a cache of n entries, or -1. */
static inline __attribute__((always_inline)) long pwc_find_n(const struct pwc_cache *c, uint32_t n, uint32_t hmask,
                                                             uint64_t tag, int simd)
{
    if (n <= PWC_SCAN_MAX) {
        if (simd) {
            uint32_t m = keys16_match32_avx2(c->fp, pwc_fp(tag));
            if (n < 32)
                m &= (1u << n) - 1;
            for (; m; m &= m - 1)
                if (c->tag[__builtin_ctz(m)] == tag)
                    return __builtin_ctz(m);
            return -1;
        }
        uint16_t h = c->hidx[pwc_hslot(hmask, tag)];
        if (h && c->tag[h - 1] == tag)
            return h - 1;
        uint32_t m = pwc_scan(c, n, tag, simd);
        return m ? __builtin_ctz(m) : -1;
    }
    for (uint16_t e = c->hidx[pwc_hslot(hmask, tag)]; e; e = c->hnext[e - 1])
        if (c->tag[e - 1] == tag)
            return e - 1;
    return -1;
}

static inline long pwc_find(const struct pwc_cache *c, uint32_t hmask, uint64_t tag)
{
    return pwc_find_n(c, c->n, hmask, tag, 0);
}

static inline void pwc_hindex_add(struct pwc_cache *c, uint32_t hmask, uint64_t tag, uint32_t slot)
{
    uint16_t *head = &c->hidx[pwc_hslot(hmask, tag)];
    c->hnext[slot] = *head;
    *head = (uint16_t)(slot + 1);
}

/* Take slot (indexed under its tag: every valid slot is) out of its chain. */
static inline void pwc_hindex_del(struct pwc_cache *c, uint32_t hmask, uint32_t slot)
{
    uint16_t *pp = &c->hidx[pwc_hslot(hmask, c->tag[slot])];
    while (*pp != slot + 1) {
        MV_ASSERT(*pp, "pwc slot %u missing from its index chain", slot);
        pp = &c->hnext[*pp - 1];
    }
    *pp = c->hnext[slot];
}

static inline void pwc_list_unlink(struct pwc_cache *c, uint32_t i)
{
    uint16_t pv = c->prev[i], nx = c->next[i];
    c->next[pv] = nx;
    c->prev[nx] = pv;
}

/* The sentinel is slot n. */
static inline void pwc_list_push_head(struct pwc_cache *c, uint32_t n, uint32_t i)
{
    uint16_t s = (uint16_t)n, h = c->next[s];
    c->prev[i] = s;
    c->next[i] = h;
    c->prev[h] = (uint16_t)i;
    c->next[s] = (uint16_t)i;
}

/* Make slot i the most recently used. */
static inline void pwc_touch(struct pwc_cache *c, uint32_t n, uint32_t i)
{
    if (c->next[n] != i) {
        pwc_list_unlink(c, i);
        pwc_list_push_head(c, n, i);
    }
}

/* One level of pwc_lookup, for a constant l (the lookup is unrolled, so
 * that each level's tag shift is a constant). With the size known, an
 * empty cache needs no test first: the head is the sentinel, no chain or
 * hint names a slot whose tag matches, and a scan finds none. */
static inline __attribute__((always_inline)) int pwc_lookup_level(struct pwc *p, unsigned l, uint64_t va,
                                                                  uint16_t pcid, uint64_t *table, uint8_t *perms,
                                                                  const struct pwc_geom g, int simd)
{
    struct pwc_cache *c = &p->lvl[l];
    if (!g.n[l] && !c->valid)
        return 0;
    const uint32_t n = g.n[l] ? g.n[l] : c->n;
    const uint64_t tag = pwc_tag(l, va, pcid);
    /* The most recent entry first: it needs neither the index nor a touch
     * (an empty list's head is the sentinel, whose tag is 0). */
    long i = c->next[n];
    if (c->tag[i] != tag) {
        const uint32_t hmask = g.n[l] ? pwc_hmask(g.n[l]) : c->hmask;
        i = pwc_find_n(c, n, hmask, tag, simd);
        if (i < 0)
            return 0;
        if (n <= PWC_SCAN_MAX && !simd)
            c->hidx[pwc_hslot(hmask, tag)] = (uint16_t)(i + 1);   /* the hint for the next time */
        pwc_list_unlink(c, (uint32_t)i);
        pwc_list_push_head(c, n, (uint32_t)i);
    }
    *table = c->table[i];
    *perms = c->perms[i];
    return 1;
}

/* simd: the AVX2 scans may be used (a constant where this is compiled
 * twice, as the TLB's set scans). */
static inline __attribute__((always_inline)) unsigned pwc_lookup_g(struct pwc *p, uint64_t va, uint16_t pcid,
                                                                   uint64_t *table, uint8_t *perms,
                                                                   const struct pwc_geom g, int simd)
{
    if (pwc_lookup_level(p, 2, va, pcid, table, perms, g, simd))
        return 1;
    if (pwc_lookup_level(p, 3, va, pcid, table, perms, g, simd))
        return 2;
    if (pwc_lookup_level(p, 4, va, pcid, table, perms, g, simd))
        return 3;
    return 4;
}

static inline unsigned pwc_lookup(struct pwc *p, uint64_t va, uint16_t pcid, uint64_t *table, uint8_t *perms)
{
    return pwc_lookup_g(p, va, pcid, table, perms, PWC_GEOM_ANY, 0);
}

/* Put tag into the lowest empty slot, else the least recently used one.
 * simd: the caller's lookups are the AVX2 ones, which read no hint. */
static inline __attribute__((always_inline)) long pwc_place_s(struct pwc_cache *c, uint32_t n, uint32_t hmask,
                                                              uint64_t tag, const int simd)
{
    long v;
    if (c->valid < n) {
        uint32_t w = 0;
        if (n > 64)
            while (!c->empty[w])
                w++;
        v = w * 64 + __builtin_ctzll(c->empty[w]);
        c->empty[w] &= c->empty[w] - 1;
        c->valid++;
    } else {
        v = c->prev[n];   /* the least recently used */
        pwc_list_unlink(c, (uint32_t)v);
        if (n > PWC_SCAN_MAX)
            pwc_hindex_del(c, hmask, (uint32_t)v);
    }
    c->tag[v] = tag;
    if (n > PWC_SCAN_MAX) {
        pwc_hindex_add(c, hmask, tag, (uint32_t)v);
    } else {
        if (!simd)
            c->hidx[pwc_hslot(hmask, tag)] = (uint16_t)(v + 1);
        c->fp[v] = pwc_fp(tag);
    }
    pwc_list_push_head(c, n, (uint32_t)v);
    return v;
}

static inline long pwc_place(struct pwc_cache *c, uint32_t n, uint32_t hmask, uint64_t tag)
{
    return pwc_place_s(c, n, hmask, tag, 0);
}

/* pwc_insert_missed() at level lvl, its size n and hash mask. */
static inline __attribute__((always_inline)) void pwc_insert_level(struct pwc *p, unsigned lvl, uint32_t n,
                                                                   uint32_t hmask, uint64_t va, uint16_t pcid,
                                                                   uint64_t table, uint8_t perms, const int simd)
{
    struct pwc_cache *c = &p->lvl[lvl];
    if (!n)
        return;
    long v = pwc_place_s(c, n, hmask, pwc_tag(lvl, va, pcid), simd);
    c->table[v] = table;
    c->perms[v] = perms;
}

/* With the sizes known (g), each level is its own copy, so that its size,
 * hash mask and tag shift are constants where the walker's level is not.
 * simd: as for pwc_place_s. */
static inline __attribute__((always_inline)) void pwc_insert_missed_gs(struct pwc *p, unsigned lvl, uint64_t va,
                                                                       uint16_t pcid, uint64_t table, uint8_t perms,
                                                                       const struct pwc_geom g, const int simd)
{
    MV_ASSERT(lvl >= 2 && lvl <= 4, "pwc level %u", lvl);
    if (!g.n[2] || !g.n[3] || !g.n[4]) {
        struct pwc_cache *c = &p->lvl[lvl];
        pwc_insert_level(p, lvl, c->n, c->hmask, va, pcid, table, perms, simd);
    } else if (lvl == 2) {
        pwc_insert_level(p, 2, g.n[2], pwc_hmask(g.n[2]), va, pcid, table, perms, simd);
    } else if (lvl == 3) {
        pwc_insert_level(p, 3, g.n[3], pwc_hmask(g.n[3]), va, pcid, table, perms, simd);
    } else {
        pwc_insert_level(p, 4, g.n[4], pwc_hmask(g.n[4]), va, pcid, table, perms, simd);
    }
}

static inline __attribute__((always_inline)) void pwc_insert_missed_g(struct pwc *p, unsigned lvl, uint64_t va,
                                                                      uint16_t pcid, uint64_t table, uint8_t perms,
                                                                      const struct pwc_geom g)
{
    pwc_insert_missed_gs(p, lvl, va, pcid, table, perms, g, 0);
}

static inline void pwc_insert_missed(struct pwc *p, unsigned lvl, uint64_t va, uint16_t pcid, uint64_t table,
                                     uint8_t perms)
{
    pwc_insert_missed_g(p, lvl, va, pcid, table, perms, PWC_GEOM_ANY);
}

#endif

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
#include <stdint.h>

/* One cache: n entries, struct-of-arrays so a lookup scans only tags.
 * tag 0 = invalid; else ((va >> level_shift(lvl)) << 13) | (pcid << 1) | 1.
 * True LRU in O(1): the valid entries on a circular doubly linked list
 * through a sentinel (slot n), most recent first; a bitmap of empty slots
 * gives the lowest one. */
struct pwc_cache {
    uint64_t *tag;
    uint64_t *table;   /* frame of the next-level table */
    uint8_t  *perms;   /* TLB_W | TLB_U | TLB_NX accumulated from L4 down */
    uint16_t *prev, *next;   /* the recency list: n + 1 links, next[n] the most recent */
    uint64_t *empty;   /* bit i: slot i holds no entry */
    uint32_t n, valid;
    /* An index from tag to entry (open addressing, linear probing), so a
     * lookup does not scan a fully associative cache: slot + 1, 0 empty. */
    uint16_t *hidx;
    uint32_t hmask;
};
#define PWC_MAX 4096u

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
unsigned pwc_lookup(struct pwc *p, uint64_t va, uint16_t pcid, uint64_t *table, uint8_t *perms);

/* Cache the entry of level lvl (2..4) for va: it points to `table`. */
void pwc_insert(struct pwc *p, unsigned lvl, uint64_t va, uint16_t pcid, uint64_t table, uint8_t perms);
/* The same, when the caller knows the cache holds no entry for (lvl, va,
 * pcid): a pwc_lookup just stopped above lvl, and nothing changed the
 * cache since. Skips the search for one to replace. */
void pwc_insert_missed(struct pwc *p, unsigned lvl, uint64_t va, uint16_t pcid, uint64_t table, uint8_t perms);

void pwc_flush_pcid(struct pwc *p, uint16_t pcid);
void pwc_flush_all(struct pwc *p);

#endif

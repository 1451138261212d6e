/* pagecache.h: the page cache: file pages shared by every process that maps
 * them (Linux mm/filemap.c, reduced to lookup, insert and reclaim), with one
 * LRU list of its pages (Linux mm/vmscan.c, reduced to the inactive list).
 * Pages stay cached once read until the guest runs short of memory; then
 * page_alloc.c reclaims the oldest that only the cache holds (see
 * pagecache_reclaim). */
#ifndef MV_GUEST_PAGECACHE_H
#define MV_GUEST_PAGECACHE_H
#include <stdint.h>

struct pc_entry {
    uint64_t key;           /* (inode << 32 | pgoff) + 1 */
    uint64_t pfn;
    uint32_t prev, next;    /* LRU list (entry 0 is its head); a free entry: next free */
};

struct pagecache {
    uint32_t *slot;         /* open-addressing hash of entry indices; 0 = empty */
    uint64_t cap, used;     /* slots; cached pages */
    struct pc_entry *ent;   /* ent[0]: LRU head, oldest at ent[0].next */
    uint32_t nent, entcap, free;
    uint64_t ops;           /* lookups, inserts and removes made (the tests count work by it) */
};

void     pagecache_init(struct pagecache *pc);
void     pagecache_destroy(struct pagecache *pc);
/* UINT64_MAX: miss. A hit moves the page to the young end of the LRU
 * (mark_page_accessed). */
uint64_t pagecache_lookup(struct pagecache *pc, uint32_t inode, uint64_t pgoff);
/* The same without touching the LRU order (filemap_map_pages finds pages
 * without marking them accessed). */
uint64_t pagecache_peek(struct pagecache *pc, uint32_t inode, uint64_t pgoff);
void     pagecache_insert(struct pagecache *pc, uint32_t inode, uint64_t pgoff, uint64_t pfn);
/* Take the page at (inode, pgoff) out of the cache: its frame, or
 * UINT64_MAX if none was cached (the caller drops the cache's reference). */
uint64_t pagecache_remove(struct pagecache *pc, uint32_t inode, uint64_t pgoff);
/* Call fn on every cached page (shutdown). */
void     pagecache_for_each(const struct pagecache *pc, void (*fn)(void *arg, uint64_t pfn), void *arg);
/* shrink_page_list over the LRU, oldest first: offer each page to
 * try_free, which frees it and returns 1 if it may go (then it leaves the
 * cache), or returns 0 (the page moves to the young end, as a referenced
 * page is rotated). Stops once nr pages went or every page was offered once.
 * Returns the pages that went; *scanned: the pages offered. */
uint64_t pagecache_reclaim(struct pagecache *pc, uint64_t nr, int (*try_free)(void *arg, uint64_t pfn),
                           void *arg, uint64_t *scanned);

#endif

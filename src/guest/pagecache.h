/* pagecache.h: the page cache: file pages shared by every process that maps
 * them (Linux mm/filemap.c, reduced to lookup and insert). Pages stay cached
 * once read, as on a machine whose working set fits in memory. */
#ifndef MV_GUEST_PAGECACHE_H
#define MV_GUEST_PAGECACHE_H
#include <stdint.h>

struct pagecache {
    uint64_t *key;   /* (inode << 32 | pgoff) + 1; 0 = empty */
    uint64_t *pfn;
    uint64_t cap, used;
};

void     pagecache_init(struct pagecache *pc);
void     pagecache_destroy(struct pagecache *pc);
uint64_t pagecache_lookup(const struct pagecache *pc, uint32_t inode, uint64_t pgoff); /* UINT64_MAX: miss */
void     pagecache_insert(struct pagecache *pc, uint32_t inode, uint64_t pgoff, uint64_t pfn);
/* Call fn on every cached page (shutdown). */
void     pagecache_for_each(const struct pagecache *pc, void (*fn)(void *arg, uint64_t pfn), void *arg);

#endif

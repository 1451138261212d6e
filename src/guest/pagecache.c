/* pagecache.c: the page cache as an open-addressing hash (see pagecache.h). */
#include "guest/pagecache.h"
#include "lib/err.h"
#include <stdlib.h>

static uint64_t slot_of(uint64_t key, uint64_t cap)
{
    return (key * 0x9e3779b97f4a7c15ull) >> 20 & (cap - 1);
}

void pagecache_init(struct pagecache *pc)
{
    pc->cap = 1024;
    pc->used = 0;
    pc->key = mv_calloc(pc->cap, sizeof *pc->key);
    pc->pfn = mv_calloc(pc->cap, sizeof *pc->pfn);
}

void pagecache_destroy(struct pagecache *pc)
{
    free(pc->key);
    free(pc->pfn);
    pc->key = pc->pfn = NULL;
}

static uint64_t make_key(uint32_t inode, uint64_t pgoff)
{
    MV_ASSERT(pgoff < (1ull << 32), "file offset too large: %llu pages", (unsigned long long)pgoff);
    return (((uint64_t)inode << 32) | pgoff) + 1;
}

uint64_t pagecache_lookup(const struct pagecache *pc, uint32_t inode, uint64_t pgoff)
{
    uint64_t k = make_key(inode, pgoff);
    for (uint64_t i = slot_of(k, pc->cap);; i = (i + 1) & (pc->cap - 1)) {
        if (pc->key[i] == k)
            return pc->pfn[i];
        if (!pc->key[i])
            return UINT64_MAX;
    }
}

static void put(uint64_t *keys, uint64_t *pfns, uint64_t cap, uint64_t k, uint64_t pfn)
{
    uint64_t i = slot_of(k, cap);
    while (keys[i] && keys[i] != k)
        i = (i + 1) & (cap - 1);
    keys[i] = k;
    pfns[i] = pfn;
}

void pagecache_insert(struct pagecache *pc, uint32_t inode, uint64_t pgoff, uint64_t pfn)
{
    if ((pc->used + 1) * 2 > pc->cap) {
        uint64_t ncap = pc->cap * 2;
        uint64_t *nk = mv_calloc(ncap, sizeof *nk), *np = mv_calloc(ncap, sizeof *np);
        for (uint64_t i = 0; i < pc->cap; i++)
            if (pc->key[i])
                put(nk, np, ncap, pc->key[i], pc->pfn[i]);
        free(pc->key);
        free(pc->pfn);
        pc->key = nk;
        pc->pfn = np;
        pc->cap = ncap;
    }
    put(pc->key, pc->pfn, pc->cap, make_key(inode, pgoff), pfn);
    pc->used++;
}

void pagecache_for_each(const struct pagecache *pc, void (*fn)(void *arg, uint64_t pfn), void *arg)
{
    for (uint64_t i = 0; i < pc->cap; i++)
        if (pc->key[i])
            fn(arg, pc->pfn[i]);
}

/* pagecache.c: the page cache as an open-addressing hash of entries kept on
 * one LRU list (see pagecache.h). */
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
    pc->slot = mv_calloc(pc->cap, sizeof *pc->slot);
    pc->entcap = 512;
    pc->ent = mv_calloc(pc->entcap, sizeof *pc->ent);
    pc->nent = 1;                   /* ent[0]: the LRU head */
    pc->free = 0;
    pc->ops = 0;
}

void pagecache_destroy(struct pagecache *pc)
{
    free(pc->slot);
    free(pc->ent);
    pc->slot = NULL;
    pc->ent = NULL;
}

static uint64_t make_key(uint32_t inode, uint64_t pgoff)
{
    MV_ASSERT(pgoff < (1ull << 32), "file offset too large: %llu pages", (unsigned long long)pgoff);
    return (((uint64_t)inode << 32) | pgoff) + 1;
}

static void lru_del(struct pagecache *pc, uint32_t e)
{
    pc->ent[pc->ent[e].prev].next = pc->ent[e].next;
    pc->ent[pc->ent[e].next].prev = pc->ent[e].prev;
}

static void lru_add_tail(struct pagecache *pc, uint32_t e)
{
    uint32_t last = pc->ent[0].prev;
    pc->ent[e].prev = last;
    pc->ent[e].next = 0;
    pc->ent[last].next = e;
    pc->ent[0].prev = e;
}

/* The slot holding key, or the empty slot that ends its probe. */
static uint64_t find_slot(const struct pagecache *pc, uint64_t key)
{
    uint64_t i = slot_of(key, pc->cap);
    while (pc->slot[i] && pc->ent[pc->slot[i]].key != key)
        i = (i + 1) & (pc->cap - 1);
    return i;
}

/* The entry of (inode, pgoff), 0 if none; one lookup counted. */
static uint32_t entry_of(struct pagecache *pc, uint32_t inode, uint64_t pgoff)
{
    pc->ops++;
    return pc->slot[find_slot(pc, make_key(inode, pgoff))];
}

uint64_t pagecache_lookup(struct pagecache *pc, uint32_t inode, uint64_t pgoff)
{
    uint32_t e = entry_of(pc, inode, pgoff);
    if (!e)
        return UINT64_MAX;
    lru_del(pc, e);
    lru_add_tail(pc, e);
    return pc->ent[e].pfn;
}

uint64_t pagecache_peek(struct pagecache *pc, uint32_t inode, uint64_t pgoff)
{
    uint32_t e = entry_of(pc, inode, pgoff);
    return e ? pc->ent[e].pfn : UINT64_MAX;
}

void pagecache_insert(struct pagecache *pc, uint32_t inode, uint64_t pgoff, uint64_t pfn)
{
    pc->ops++;
    uint64_t key = make_key(inode, pgoff);
    if ((pc->used + 1) * 2 > pc->cap) {
        uint64_t ocap = pc->cap;
        uint32_t *old = pc->slot;
        pc->cap *= 2;
        pc->slot = mv_calloc(pc->cap, sizeof *pc->slot);
        for (uint64_t i = 0; i < ocap; i++)
            if (old[i])
                pc->slot[find_slot(pc, pc->ent[old[i]].key)] = old[i];
        free(old);
    }
    uint64_t s = find_slot(pc, key);
    MV_ASSERT(!pc->slot[s], "page %llu of file %u is cached already", (unsigned long long)pgoff, inode);
    uint32_t e = pc->free;
    if (e) {
        pc->free = pc->ent[e].next;
    } else {
        if (pc->nent == pc->entcap) {
            MV_ASSERT(pc->entcap < (1u << 31), "page cache of %u pages", pc->entcap);
            pc->entcap *= 2;
            pc->ent = mv_realloc(pc->ent, pc->entcap * sizeof *pc->ent);
        }
        e = pc->nent++;
    }
    pc->ent[e].key = key;
    pc->ent[e].pfn = pfn;
    lru_add_tail(pc, e);
    pc->slot[s] = e;
    pc->used++;
}

/* Take entry e out of the hash (backward-shift deletion: the entries after
 * it in its probe run move up, so no lookup meets a hole) and the LRU. */
static void remove_entry(struct pagecache *pc, uint32_t e)
{
    uint64_t mask = pc->cap - 1, hole = find_slot(pc, pc->ent[e].key);
    MV_ASSERT(pc->slot[hole] == e, "page-cache entry %u not in its hash slot", e);
    for (uint64_t i = (hole + 1) & mask; pc->slot[i]; i = (i + 1) & mask) {
        uint64_t home = slot_of(pc->ent[pc->slot[i]].key, pc->cap);
        /* the entry at i may fill the hole unless its home lies cyclically in (hole, i] */
        if (((i - home) & mask) >= ((i - hole) & mask)) {
            pc->slot[hole] = pc->slot[i];
            hole = i;
        }
    }
    pc->slot[hole] = 0;
    lru_del(pc, e);
    pc->ent[e].key = 0;
    pc->ent[e].next = pc->free;
    pc->free = e;
    pc->used--;
}

uint64_t pagecache_remove(struct pagecache *pc, uint32_t inode, uint64_t pgoff)
{
    pc->ops++;
    uint32_t e = pc->slot[find_slot(pc, make_key(inode, pgoff))];
    if (!e)
        return UINT64_MAX;
    uint64_t pfn = pc->ent[e].pfn;
    remove_entry(pc, e);
    return pfn;
}

uint64_t pagecache_reclaim(struct pagecache *pc, uint64_t nr, int (*try_free)(void *arg, uint64_t pfn),
                           void *arg, uint64_t *scanned)
{
    uint64_t freed = 0, n = 0, todo = pc->used;
    while (freed < nr && n < todo) {
        uint32_t e = pc->ent[0].next;      /* the oldest */
        n++;
        if (try_free(arg, pc->ent[e].pfn)) {
            remove_entry(pc, e);
            freed++;
        } else {
            lru_del(pc, e);
            lru_add_tail(pc, e);
        }
    }
    *scanned = n;
    return freed;
}

void pagecache_for_each(const struct pagecache *pc, void (*fn)(void *arg, uint64_t pfn), void *arg)
{
    for (uint32_t e = pc->ent[0].next; e; e = pc->ent[e].next)
        fn(arg, pc->ent[e].pfn);
}

/* shmem.c: shared anonymous memory as anonymous shmem objects (see
 * shmem.h; Linux mm/shmem.c). A free object's id is reused, the last freed
 * first: the same run always hands out the same ids. */
#include "guest/kernel.h"
#include "guest/pagecache.h"
#include "guest/shmem.h"
#include "lib/err.h"
#include <stdlib.h>

static struct shmem_obj *obj(struct kernel *k, uint32_t id)
{
    MV_ASSERT(id && id <= k->nshm && k->shm[id].refs != UINT32_MAX, "no shmem object %u", id);
    return &k->shm[id];
}

uint32_t shmem_zero_setup(struct kernel *k, uint64_t size)
{
    if (!k->shm_cache) {
        k->shm_cache = mv_calloc(1, sizeof *k->shm_cache);
        pagecache_init(k->shm_cache);
    }
    /* shmem_acct_size refused anything larger (sys_mmap): every offset
     * fits the page cache's key */
    MV_ASSERT(size <= FILE_PAGES_MAX, "shmem object of %llu pages", (unsigned long long)size);
    uint32_t id = k->shm_free;
    if (id) {
        k->shm_free = k->shm[id].next_free;
    } else {
        if (k->nshm + 1 >= k->capshm) {
            MV_ASSERT(k->capshm < (1u << 30), "%u shmem objects", k->nshm);
            k->capshm = k->capshm ? k->capshm * 2 : 16;
            k->shm = mv_realloc(k->shm, k->capshm * sizeof *k->shm);
        }
        id = ++k->nshm;
    }
    k->shm[id] = (struct shmem_obj){ .refs = 0, .size = size };
    return id;
}

void shmem_get(struct kernel *k, uint32_t id)
{
    obj(k, id)->refs++;
}

static int cmp_pgoff(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* shmem_evict_inode: the last mapping went; every page leaves the cache,
 * in ascending offset order (the order the frames return to the buddy
 * allocator shapes later allocations, so it is fixed: the offsets are
 * distinct, so the sort is deterministic). Pages still queued in an
 * mmu_gather keep their own reference until it finishes. */
void shmem_put(struct kernel *k, uint32_t id)
{
    struct shmem_obj *o = obj(k, id);
    MV_ASSERT(o->refs > 0, "shmem object %u put with no reference", id);
    if (--o->refs)
        return;
    if (o->npg)                          /* an object never faulted has no list */
        qsort(o->pgoff, o->npg, sizeof *o->pgoff, cmp_pgoff);
    for (uint64_t i = 0; i < o->npg; i++) {
        uint64_t pfn = pagecache_remove(k->shm_cache, id, o->pgoff[i]);
        MV_ASSERT(pfn != UINT64_MAX, "shmem object %u: page %llu not cached", id,
                  (unsigned long long)o->pgoff[i]);
        page_put(k, pfn);
    }
    free(o->pgoff);
    *o = (struct shmem_obj){ .refs = UINT32_MAX, .next_free = k->shm_free };   /* free */
    k->shm_free = id;
}

uint64_t shmem_page(struct kernel *k, uint32_t id, uint64_t pgoff)
{
    struct shmem_obj *o = obj(k, id);
    MV_ASSERT(pgoff < o->size, "shmem object %u: page %llu past its size (%llu pages)", id,
              (unsigned long long)pgoff, (unsigned long long)o->size);
    uint64_t pfn = pagecache_lookup(k->shm_cache, id, pgoff);
    if (pfn == UINT64_MAX) {
        /* shmem_get_folio: a new page, cleared, the cache's reference */
        pfn = kalloc_page(k, PG_cache);
        stat_inc(k->st, CNT_page_zero);
        stat_charge(k->st, CYC_zero_copy, k->cost->page_zero);
        pagecache_insert(k->shm_cache, id, pgoff, pfn);
        if (o->npg == o->cappg) {
            o->cappg = o->cappg ? o->cappg * 2 : 4;
            o->pgoff = mv_realloc(o->pgoff, o->cappg * sizeof *o->pgoff);
        }
        o->pgoff[o->npg++] = pgoff;
    }
    return pfn;
}

uint64_t shmem_size(struct kernel *k, uint32_t id)
{
    return obj(k, id)->size;
}

uint64_t shmem_peek(struct kernel *k, uint32_t id, uint64_t pgoff)
{
    /* No page at or past the object's size is ever cached (its faults are
     * SIGBUS and it never shrinks), so Linux's i_size test in
     * next_uptodate_folio has nothing to refuse here. */
    return pagecache_peek(k->shm_cache, id, pgoff);
}

uint32_t shmem_refs(struct kernel *k, uint32_t id)
{
    return id && id <= k->nshm && k->shm[id].refs != UINT32_MAX ? k->shm[id].refs : 0;
}

uint64_t shmem_cached(struct kernel *k)
{
    return k->shm_cache ? k->shm_cache->used : 0;
}

static void drop_cached(void *arg, uint64_t pfn)
{
    page_put(arg, pfn);
}

void shmem_destroy(struct kernel *k)
{
    if (k->shm_cache) {
        pagecache_for_each(k->shm_cache, drop_cached, k);
        pagecache_destroy(k->shm_cache);
        free(k->shm_cache);
        k->shm_cache = NULL;
    }
    for (uint32_t id = 1; id <= k->nshm; id++)
        free(k->shm[id].pgoff);           /* live objects' (a free one's is NULL) */
    free(k->shm);
    k->shm = NULL;
    k->nshm = k->capshm = k->shm_free = 0;
}

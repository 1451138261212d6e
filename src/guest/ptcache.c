/* ptcache.c: PiBooster's per-level page-table pools (see ptcache.h). */
#include "guest/ptcache.h"
#include "guest/kernel.h"
#include "lib/err.h"
#include <stdlib.h>

void pt_page_release(struct kernel *k, uint64_t pfn, int hv_done);

void ptcache_enable(struct kernel *k)
{
    if (!k->ptc)
        k->ptc = mv_calloc(1, sizeof *k->ptc);
    if (k->ptc->enabled)
        return;
    k->ptc->enabled = 1;
    if (k->pv->ptcache_ctl)
        k->pv->ptcache_ctl(k, 1);
}

/* Release `n` pages from the bottom of the pool (the coldest) to the buddy
 * allocator: one release hypercall for those the hypervisor flagged (pages
 * that were tables before the cache was enabled never were), then each page
 * goes back. */
static void pool_release(struct kernel *k, struct ptpool *p, uint64_t n)
{
    if (!n)
        return;
    uint64_t *flagged = mv_malloc(n * sizeof *flagged);
    unsigned nf = 0;
    for (uint64_t i = 0; i < n; i++)
        if (page_of(k, p->pfn[i])->flags & PG_ptcache)
            flagged[nf++] = p->pfn[i];
    if (nf && k->pv->ptcache_release)
        k->pv->ptcache_release(k, flagged, nf);
    free(flagged);
    for (uint64_t i = 0; i < n; i++)
        pt_page_release(k, p->pfn[i], 1);
    for (uint64_t i = n; i < p->n; i++)
        p->pfn[i - n] = p->pfn[i];
    p->n -= n;
    p->released += n;
}

void ptcache_disable(struct kernel *k)
{
    if (!k->ptc || !k->ptc->enabled)
        return;
    for (unsigned l = 1; l <= 4; l++)
        pool_release(k, &k->ptc->pool[l], k->ptc->pool[l].n);
    k->ptc->enabled = 0;
    if (k->pv->ptcache_ctl)
        k->pv->ptcache_ctl(k, 0);
}

void ptcache_destroy(struct kernel *k)
{
    if (!k->ptc)
        return;
    for (unsigned l = 1; l <= 4; l++)
        free(k->ptc->pool[l].pfn);
    free(k->ptc);
    k->ptc = NULL;
}

uint64_t ptcache_get(struct kernel *k, unsigned lvl)
{
    struct ptpool *p = &k->ptc->pool[lvl];
    if (!p->n) {
        p->misses++;
        return UINT64_MAX;
    }
    p->hits++;
    return p->pfn[--p->n];
}

void ptcache_put(struct kernel *k, uint64_t pfn, unsigned lvl)
{
    struct ptpool *p = &k->ptc->pool[lvl];
    if (p->n == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 64;
        p->pfn = mv_realloc(p->pfn, p->cap * sizeof *p->pfn);
    }
    p->pfn[p->n++] = pfn;
    if (p->n > p->max_pool)
        p->max_pool = p->n;
    /* Shrink when both thresholds are exceeded: in_pool / in_use above the
     * ratio and in_pool + in_use above the total. Free in_pool - in_use (so
     * with a ratio under 100% a pool smaller than in_use does not shrink). */
    uint64_t ratio_limit = p->in_use * k->cfg.pt_cache_ratio;   /* percent */
    if (p->n * 100 > ratio_limit && p->n + p->in_use > k->cfg.pt_cache_total && p->n > p->in_use) {
        p->shrinks++;
        pool_release(k, p, p->n - p->in_use);
    }
}

void ptcache_account(struct kernel *k, unsigned lvl, int delta)
{
    struct ptpool *p = &k->ptc->pool[lvl];
    MV_ASSERT(delta > 0 || p->in_use > 0, "page-table in-use count underflow at L%u", lvl);
    p->in_use += (uint64_t)(int64_t)delta;
}

uint64_t ptcache_pool_size(const struct kernel *k, unsigned lvl)
{
    if (!k->ptc)
        return 0;
    if (lvl)
        return k->ptc->pool[lvl].n;
    uint64_t n = 0;
    for (unsigned l = 1; l <= 4; l++)
        n += k->ptc->pool[l].n;
    return n;
}

void ptcache_set_thresholds(struct kernel *k, uint64_t ratio_pct, uint64_t total)
{
    k->cfg.pt_cache_ratio = ratio_pct;
    k->cfg.pt_cache_total = total;
}

/* ptcache.c: PiBooster's per-level page-table pools (see ptcache.h). */
#include "guest/ptcache.h"
#include "guest/kernel.h"
#include "lib/err.h"
#include <stdio.h>
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

/* ---- what the cache shows and how it is steered ------------------------ */

const struct mv_control_def ptcache_controls[] = {
    { "ptcache", CTL_BOOL, "PiBooster's page-table cache on or off", 0 },
    /* as their parameters' ranges (page_alloc.c): in_use * ratio must not wrap */
    { "ptcache_ratio", CTL_U64, "shrink threshold in_pool/in_use, percent (guest.pt_cache_ratio)", 1000000 },
    { "ptcache_total", CTL_U64, "shrink threshold in_pool+in_use, pages (guest.pt_cache_total)", 1 << 30 },
    { NULL, 0, NULL, 0 },
};

static void ctl_onoff(void *ctx, uint64_t v)
{
    if (v)
        ptcache_enable(ctx);
    else
        ptcache_disable(ctx);
}

static void ctl_ratio(void *ctx, uint64_t v)
{
    struct kernel *k = ctx;
    ptcache_set_thresholds(k, v, k->cfg.pt_cache_total);
}

static void ctl_total(void *ctx, uint64_t v)
{
    struct kernel *k = ctx;
    ptcache_set_thresholds(k, k->cfg.pt_cache_ratio, v);
}

static double g_pool(const struct kernel *k, unsigned lvl) { return (double)ptcache_pool_size(k, lvl); }
static double g_pool_l1(const void *k) { return g_pool(k, 1); }
static double g_pool_l2(const void *k) { return g_pool(k, 2); }
static double g_pool_l3(const void *k) { return g_pool(k, 3); }
static double g_pool_l4(const void *k) { return g_pool(k, 4); }
static double g_pool_all(const void *k) { return g_pool(k, 0); }

static void ptcache_metrics(const void *ctx, struct mv_metrics *out)
{
    const struct kernel *k = ctx;
    const struct ptcache *ptc = k->ptc;
    if (!ptc || (!ptc->enabled && !ptc->pool[1].max_pool))
        return;
    for (unsigned l = 1; l <= 4; l++) {
        char name[MV_NAME_MAX];
        snprintf(name, sizeof name, "ptcache_max_pool_l%u", l);
        mv_metric_put(out, name, (double)ptc->pool[l].max_pool);
    }
}

void ptcache_instruments(struct kernel *k, struct mv_instruments *in)
{
    mv_add_gauge(in, "ptcache_pool_l1", g_pool_l1, k);
    mv_add_gauge(in, "ptcache_pool_l2", g_pool_l2, k);
    mv_add_gauge(in, "ptcache_pool_l3", g_pool_l3, k);
    mv_add_gauge(in, "ptcache_pool_l4", g_pool_l4, k);
    mv_add_gauge(in, "ptcache_pool", g_pool_all, k);
    mv_add_control(in, &ptcache_controls[0], ctl_onoff, k);
    mv_add_control(in, &ptcache_controls[1], ctl_ratio, k);
    mv_add_control(in, &ptcache_controls[2], ctl_total, k);
    mv_add_metrics(in, ptcache_metrics, k);
}

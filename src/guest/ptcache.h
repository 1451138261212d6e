/* ptcache.h: PiBooster's page-table cache in the guest (Zhang, Cheng et al.,
 * IEEE CLOUD 2016; REFERENCE.md §1).
 *
 * One LIFO pool per page-table level. Page-table allocation takes from the
 * pool of its level, else from the buddy allocator; freeing returns the page
 * to the pool. The hypervisor flags every page-table page of a domain whose
 * cache is enabled the first time it becomes a page table (IOMMU unmap + flush,
 * once) and leaves flagged pages out of the IOMMU ever after, so a page that
 * cycles pool -> page table -> pool costs no IOTLB flush. A pool shrinks when
 * both in_pool/in_use and in_pool+in_use exceed their thresholds, freeing
 * in_pool - in_use pages through the release hypercall (flag cleared, page
 * mapped back into the IOMMU, flush). */
#ifndef MV_GUEST_PTCACHE_H
#define MV_GUEST_PTCACHE_H
#include "lib/instr.h"
#include <stdint.h>

struct kernel;

struct ptpool {
    uint64_t *pfn;        /* LIFO stack of cached pages */
    uint64_t n, cap;
    uint64_t in_use;      /* pages of this level in use as page tables */
    uint64_t max_pool;    /* high-water mark of n */
    uint64_t hits, misses, shrinks, released;
};

struct ptcache {
    int enabled;
    struct ptpool pool[5];   /* indexed by level 1..4 */
};

void     ptcache_enable(struct kernel *k);
/* Disable: release every cached page; pages in use stay flagged until freed,
 * when they are released one by one. */
void     ptcache_disable(struct kernel *k);
void     ptcache_destroy(struct kernel *k);
/* A page for a new table of level lvl, or UINT64_MAX if the pool is empty. */
uint64_t ptcache_get(struct kernel *k, unsigned lvl);
/* Take a freed table page of level lvl (the cache is enabled). */
void     ptcache_put(struct kernel *k, uint64_t pfn, unsigned lvl);
/* Account a page-table page of level lvl coming into / going out of use. */
void     ptcache_account(struct kernel *k, unsigned lvl, int delta);
/* Change the shrink thresholds at run time (guest.pt_cache_ratio / _total);
 * pools already above them shrink at their next free. */
void     ptcache_set_thresholds(struct kernel *k, uint64_t ratio_pct, uint64_t total);
/* Pages in a pool (lvl 1..4), or all pools with lvl 0. */
uint64_t ptcache_pool_size(const struct kernel *k, unsigned lvl);
/* The controls the cache offers (NULL-name terminated), and its gauges,
 * controls and metrics registered for a kernel whose hypervisor offers it. */
extern const struct mv_control_def ptcache_controls[];
void     ptcache_instruments(struct kernel *k, struct mv_instruments *in);

#endif

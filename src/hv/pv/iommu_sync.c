/* iommu_sync.c: keeping the IOMMU in sync with page types, and PiBooster's
 * cache flag (Xen: the IOMMU block of _get_page_type; REFERENCE.md §1-2).
 *
 * For a PV domain with a passthrough device, a frame is DMA-mappable iff its
 * type is writable: writable -> anything unmaps it (and invalidates the
 * IOTLB: a synchronous PSI), anything -> writable maps it back (no
 * invalidation needed on real hardware, but the xen-4.2 profile issues one,
 * as the paper describes its Xen 4.2.1, and so does caching mode).
 * PiBooster's fine-grained validation: a frame with the cache flag stays
 * out of the IOMMU in both directions, so its type changes cost no IOMMU
 * work at all; a frame gets the flag (one unmap and flush) the first time
 * it becomes a page table while the domain's cache is on, and loses it only
 * through the release hypercall. */
#include "hv/pv/xen.h"

void iommu_sync_type_change(struct xen *x, struct domain *d, uint64_t mfn, unsigned old,
                            unsigned new_type)
{
    if (!d || (old == PGT_writable) == (new_type == PGT_writable))
        return;
    struct page_info *p = frame(x, mfn);
    if (p->flags & PGF_ptcache) {
        x->flag_skips++;
        return;
    }
    /* The flag follows the cache, with or without an IOMMU to keep in sync. */
    int flag = old == PGT_writable && x->ptcache && pgt_is_table(new_type);
    if (flag) {
        p->flags |= PGF_ptcache;
        x->flag_set++;
    }
    if (!d->iommu_attached)
        return;
    unsigned f = old == PGT_writable ? vtd_unmap_page(&d->vtd, mfn) : vtd_map_page(&d->vtd, mfn, mfn, 1);
    vtd_flush(&d->vtd, mfn, f, x->flush_on_map);
}

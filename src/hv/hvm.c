/* hvm.c: what the hardware-virtualized paging modes (hap, tsp, ssp,
 * selective) share: devices see guest-physical addresses, and the security
 * invariants of their I/O side, recomputed from the tables themselves:
 *  - the domain's I/O page tables map only its own frames, each guest frame
 *    at its own guest-physical address (dfn = gfn -> p2m(gfn)): no device
 *    reaches a hypervisor frame (EPT, shadow or I/O tables) or another
 *    domain's memory;
 *  - no IOTLB entry of the domain grants access to any other frame. */
#include "hv/hvm.h"
#include <stdio.h>

int hvm_iommu_attached(const struct hvconfig *cfg)
{
    (void)cfg;
    return 1;
}

struct io_scan {
    const struct hv *h;
    char *msg;
    unsigned len;
    int bad;
};

static void io_leaf(void *ctx, uint64_t dfn, pte_t e)
{
    struct io_scan *s = ctx;
    if (s->bad)
        return;
    uint64_t mfn = pte_frame(e);
    if (pfn_to_mfn(&s->h->dom, dfn) != mfn) {
        snprintf(s->msg, s->len, "I/O page table maps dfn %#llx to frame %#llx, not the guest's frame %#llx",
                 (unsigned long long)dfn, (unsigned long long)mfn,
                 (unsigned long long)pfn_to_mfn(&s->h->dom, dfn));
        s->bad = 1;
    }
}

int hvm_check(struct hv *h, uint64_t *io_gen_checked, char *msg, unsigned len)
{
    const struct domain *d = &h->dom;
    if (d->iommu_attached && *io_gen_checked != d->vtd.gen + 1) {
        struct io_scan s = { h, msg, len, 0 };
        vtd_for_each_leaf(&d->vtd, io_leaf, &s);
        if (s.bad)
            return -1;
        *io_gen_checked = d->vtd.gen + 1;
    }
    for (unsigned u = 0; u < hv_iommu_units(h); u++) {
        const struct iommu *io = hv_iommu_unit(h, u);
        for (uint64_t i = 0; i < (uint64_t)io->tlb_sets * io->tlb_ways; i++) {
            if (!io->tlb_tag[i])
                continue;
            uint64_t dfn = io->tlb_tag[i] >> 17, mfn = io->tlb_mfn[i];
            if (pfn_to_mfn(d, dfn) != mfn) {
                snprintf(msg, len, "an IOTLB entry maps dfn %#llx to frame %#llx, not the guest's frame (VT-d unit %u)",
                         (unsigned long long)dfn, (unsigned long long)mfn, u);
                return -1;
            }
        }
    }
    return 0;
}

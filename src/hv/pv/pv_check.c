/* pv_check.c: the security invariants of a PV domain (DESIGN.md), checked
 * under --check by recomputing them from memory, independently of the
 * bookkeeping that is supposed to maintain them:
 *  1. every entry of a live page table maps a frame the domain owns;
 *  2. no live page table is mapped writable, by a guest entry or by the
 *     direct map; and the writable type count of every frame equals the
 *     writable mappings that exist (the accounting is exact);
 *  3. no page-table frame and no PiBooster-flagged frame is DMA-writable
 *     through the IOMMU tables, and no IOTLB entry grants such access;
 *     a writable, unflagged frame is mapped (the IOMMU is in sync). */
#include "hv/pv/xen.h"
#include "lib/err.h"
#include <stdio.h>
#include <stdlib.h>

static int live_table(const struct page_info *p)
{
    return pgt_is_table(p->type) && p->type_count && (p->flags & PGF_validated);
}

int pv_check(struct xen *x, char *msg, unsigned len)
{
    struct domain *d = x->dom;
    /* Writable mappings per frame, counted from the tables themselves. */
    sparse_t wr;
    sparse_init(&wr, x->nframes, sizeof(uint32_t));
    int bad = 0;

    for (uint64_t c = 0; c < x->frames.ndir && !bad; c++) {
        if (!x->frames.dir[c])
            continue;
        for (uint64_t mfn = c * SPARSE_CHUNK; mfn < (c + 1) * SPARSE_CHUNK && mfn < x->nframes; mfn++) {
            struct page_info *p = sparse_peek(&x->frames, mfn);
            if (p->flags & PGF_dmap_rw)
                (*(uint32_t *)sparse_get(&wr, mfn))++;
            if (!live_table(p))
                continue;
            const uint64_t *t = pmem_table_peek(x->mem, mfn);
            for (unsigned i = 0; t && i < PTRS_PER_TABLE; i++) {
                pte_t e = t[i];
                if (!pte_present(e))
                    continue;
                uint64_t tgt = pte_frame(e);
                if (tgt >= x->nframes || frame(x, tgt)->owner != d->id) {
                    snprintf(msg, len, "L%u table %#llx entry %u maps frame %#llx the domain does not own",
                             p->type, (unsigned long long)mfn, i, (unsigned long long)tgt);
                    bad = 1;
                    break;
                }
                if (p->type == PGT_l1 && (e & _PAGE_RW))
                    (*(uint32_t *)sparse_get(&wr, tgt))++;
            }
        }
    }
    /* Compare, and check the IOMMU, frame by frame. */
    for (uint64_t c = 0; c < x->frames.ndir && !bad; c++) {
        if (!x->frames.dir[c])
            continue;
        for (uint64_t mfn = c * SPARSE_CHUNK; mfn < (c + 1) * SPARSE_CHUNK && mfn < x->nframes; mfn++) {
            struct page_info *p = sparse_peek(&x->frames, mfn);
            if (p->owner != d->id)
                continue;
            const uint32_t *w = sparse_peek(&wr, mfn);
            uint32_t writers = w ? *w : 0;
            if (pgt_is_table(p->type) && p->type_count && writers) {
                snprintf(msg, len, "live L%u table %#llx is mapped writable %u time(s)", p->type,
                         (unsigned long long)mfn, writers);
                bad = 1;
                break;
            }
            if (p->type == PGT_writable && p->type_count != writers) {
                snprintf(msg, len, "frame %#llx: writable type count %u but %u writable mappings",
                         (unsigned long long)mfn, p->type_count, writers);
                bad = 1;
                break;
            }
            if (!d->iommu_attached)
                continue;
            uint64_t io_mfn;
            int io_w = 0;
            int mapped = vtd_lookup(&d->vtd, mfn, &io_mfn, &io_w) == 0;
            int protect = pgt_is_table(p->type) || (p->flags & PGF_ptcache);
            if (protect && mapped && io_w) {
                snprintf(msg, len, "%s frame %#llx is DMA-writable through the IOMMU",
                         (p->flags & PGF_ptcache) ? "PiBooster-cached" : "page-table", (unsigned long long)mfn);
                bad = 1;
                break;
            }
            if (p->type == PGT_writable && !(p->flags & PGF_ptcache) && (!mapped || io_mfn != mfn)) {
                snprintf(msg, len, "writable frame %#llx is not mapped 1:1 in the IOMMU", (unsigned long long)mfn);
                bad = 1;
                break;
            }
        }
    }
    /* No IOTLB entry may grant write access to a protected frame. */
    struct iommu *io = &x->h->iommu;
    for (uint64_t i = 0; !bad && i < (uint64_t)io->tlb_sets * io->tlb_ways; i++) {
        if (!io->tlb_tag[i] || !io->tlb_w[i])
            continue;
        uint64_t mfn = io->tlb_mfn[i];
        struct page_info *p = frame(x, mfn);
        if (pgt_is_table(p->type) || (p->flags & PGF_ptcache)) {
            snprintf(msg, len, "a stale IOTLB entry grants DMA write to %s frame %#llx",
                     (p->flags & PGF_ptcache) ? "PiBooster-cached" : "page-table", (unsigned long long)mfn);
            bad = 1;
        }
    }
    sparse_free(&wr);
    return bad ? -1 : 0;
}

/* dma.c: DMA-capable devices behind the IOMMU (see dma.h): a device walks its
 * ring of 4 KiB buffers, one buffer per page, and every page it touches is
 * translated by iommu_dma; a blocked page is counted and skipped. */
#include "hw/dma.h"
#include "lib/err.h"
#include <stdlib.h>
#include <string.h>

void dma_dev_init(struct dma_dev *d, struct iommu *io, unsigned id, const char *name)
{
    memset(d, 0, sizeof *d);
    d->io = io;
    d->id = id;
    d->name = name;
}

void dma_dev_destroy(struct dma_dev *d)
{
    free(d->rx.dfn);
    free(d->tx.dfn);
    d->rx = d->tx = (struct dma_ring){ 0 };
}

void dma_set_ring(struct dma_ring *r, const uint64_t *dfns, uint32_t n)
{
    free(r->dfn);
    r->dfn = n ? mv_malloc(n * sizeof *r->dfn) : NULL;
    if (n)
        memcpy(r->dfn, dfns, n * sizeof *r->dfn);
    r->n = n;
    r->next = 0;
}

uint64_t dma_transfer(struct dma_dev *d, struct dma_ring *r, uint64_t bytes, int write)
{
    if (!r->n || !bytes)
        return 0;
    struct iommu *io = d->io;
    uint64_t walk0 = io->dev_cycles, moved = 0;
    for (uint64_t left = bytes; left; ) {
        uint64_t chunk = left < PAGE_SIZE ? left : PAGE_SIZE, mfn;
        uint64_t dfn = r->dfn[r->next];
        r->next = (r->next + 1) % r->n;
        left -= chunk;
        if (iommu_dma(io, d->id, dfn, write, &mfn)) {
            d->faults++;
            continue;
        }
        d->pages++;
        d->bytes += chunk;
        moved++;
    }
    uint64_t t = moved * io->cost->dma_page + (io->dev_cycles - walk0);
    d->busy_cycles += t;
    return t;
}

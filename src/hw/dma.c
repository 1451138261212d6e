/* dma.c: DMA-capable devices behind the IOMMU (see dma.h): a device walks its
 * ring of 4 KiB buffers, one buffer per page, and every page it touches is
 * translated by iommu_dma; a blocked page is counted and skipped. The
 * device's queue puts each transfer on its timeline (dma_queue_*). */
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
    dma_queue_free(&d->q);
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

void dma_queue_add(struct dma_queue *q, uint64_t at, uint64_t busy, uint64_t bytes)
{
    uint64_t start = q->free_at > at ? q->free_at : at;
    if (start - at > q->max_wait)
        q->max_wait = start - at;
    q->free_at = busy > UINT64_MAX - start ? UINT64_MAX : start + busy;   /* past 2^64 cycles: never done */
    if (!bytes)
        return;
    if (q->n == q->cap) {                 /* grow the ring, oldest first again */
        uint64_t cap = q->cap ? q->cap * 2 : 64;
        struct dma_pending *p = mv_malloc(cap * sizeof *p);
        for (uint64_t i = 0; i < q->n; i++)
            p[i] = q->p[(q->head + i) % q->cap];
        free(q->p);
        q->p = p;
        q->cap = cap;
        q->head = 0;
    }
    q->p[(q->head + q->n++) % q->cap] = (struct dma_pending){ q->free_at, bytes };
    q->queued_bytes += bytes;
}

void dma_queue_retire(struct dma_queue *q, uint64_t now)
{
    /* completion times rise in queue order: the device serves one at a time */
    for (; q->n && q->p[q->head].done <= now; q->n--) {
        q->done_bytes += q->p[q->head].bytes;
        q->queued_bytes -= q->p[q->head].bytes;
        q->head = (q->head + 1) % q->cap;
    }
}

void dma_queue_free(struct dma_queue *q)
{
    free(q->p);
    *q = (struct dma_queue){ 0 };
}

/* devices.c: the domain's passthrough devices at work: DMA transfers of
 * workload events, and background traffic (hv.nic_mbps, hv.disk_mbps)
 * every hv.dma_period_us of simulated time; and the clock tick that lets a
 * paging mode do periodic work. Every page a device touches is
 * translated by the IOMMU (hw/dma.c, hw/iommu.c).
 *
 * Each device is a server with one timeline for both kinds of transfer
 * (dma_queue): a transfer starts when the device has finished the one before
 * and takes the device time dma_transfer returns, so a device slowed down
 * (IOTLB misses after invalidations, a large cost.dma_page) carries less
 * than it is offered and the rest queues. Simplification: a transfer's pages
 * are translated when it is given to the device, against the IOTLB as it is
 * then; a device with a backlog would translate them when it starts the
 * transfer, after invalidations made meanwhile. Without a backlog the two
 * are the same moment (up to the event in which a period ends). */
#include "hv/hv.h"
#include "hv/paging.h"
#include <string.h>

/* A transfer the device is given at cycle `at`: the bytes it moves go on
 * its queue, to count as moved when the device completes them. */
static uint64_t transfer(struct hv *h, struct dma_dev *d, uint64_t at, uint64_t bytes, int write)
{
    uint64_t pages0 = d->pages, bytes0 = d->bytes;
    uint64_t busy = dma_transfer(d, write ? &d->rx : &d->tx, bytes, write);
    h->st->cnt[CNT_dma_pages] += d->pages - pages0;
    h->st->cnt[CNT_dma_bytes] += d->bytes - bytes0;
    dma_queue_add(&d->q, at, busy, d->bytes - bytes0);
    return busy;
}

static void devices(struct hv *h, uint64_t now)
{
    const struct hvbase *c = &h->cfg->hv;
    if (c->nic_mbps || c->disk_mbps) {
        uint64_t period = (uint64_t)((double)c->dma_period_us * h->cost->clock_ghz * 1e3);
        double secs = (double)c->dma_period_us / 1e6;
        /* a period's traffic is given to the device when the period ends */
        while (h->next_dma + period <= now) {
            h->next_dma += period;
            if (c->nic_mbps)
                transfer(h, &h->nic, h->next_dma, (uint64_t)((double)c->nic_mbps * 1e6 / 8 * secs), 1);
            if (c->disk_mbps)
                transfer(h, &h->disk, h->next_dma, (uint64_t)((double)c->disk_mbps * 1e6 / 8 * secs),
                         h->disk_dir ^= 1);
            /* what completed by the period's end leaves the queue now, not
             * after a long gap's last period: a device that keeps up holds
             * a transfer or two however long the gap (the counts are the
             * same: completions are retired in order whenever retired) */
            dma_queue_retire(&h->nic.q, h->next_dma);
            dma_queue_retire(&h->disk.q, h->next_dma);
        }
    }
    dma_queue_retire(&h->nic.q, now);
    dma_queue_retire(&h->disk.q, now);
}

uint64_t hv_dma(struct hv *h, const char *dev, uint64_t bytes, int write)
{
    /* the background periods that ended before this transfer was given go
     * to the device first: its queue is in the order the work arrived */
    devices(h, h->st->now);
    return transfer(h, !strcmp(dev, "disk") ? &h->disk : &h->nic, h->st->now, bytes, write);
}

void hv_tick(struct hv *h, uint64_t now)
{
    devices(h, now);
    if (h->pm->tick)
        h->pm->tick(h, now);
}

void hv_set_rings(struct hv *h, const uint64_t *nic_rx, const uint64_t *nic_tx, unsigned nic,
                  const uint64_t *disk, unsigned ndisk)
{
    dma_set_ring(&h->nic.rx, nic_rx, nic);
    dma_set_ring(&h->nic.tx, nic_tx, nic);
    dma_set_ring(&h->disk.rx, disk, ndisk);
    dma_set_ring(&h->disk.tx, disk, ndisk);
}

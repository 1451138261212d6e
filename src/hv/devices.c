/* devices.c: the domain's passthrough devices at work: DMA transfers of
 * workload events, and background traffic (hv.nic_mbps, hv.disk_mbps)
 * every hv.dma_period_us of simulated time; and the clock tick that lets a
 * paging mode do periodic work. Every page a device touches is
 * translated by the IOMMU (hw/dma.c, hw/iommu.c). */
#include "hv/hv.h"
#include "hv/paging.h"
#include <string.h>

static uint64_t transfer(struct hv *h, struct dma_dev *d, uint64_t bytes, int write)
{
    uint64_t pages0 = d->pages, bytes0 = d->bytes;
    uint64_t busy = dma_transfer(d, write ? &d->rx : &d->tx, bytes, write);
    h->st->cnt[CNT_dma_pages] += d->pages - pages0;
    h->st->cnt[CNT_dma_bytes] += d->bytes - bytes0;
    return busy;
}

uint64_t hv_dma(struct hv *h, const char *dev, uint64_t bytes, int write)
{
    return transfer(h, !strcmp(dev, "disk") ? &h->disk : &h->nic, bytes, write);
}

static void devices(struct hv *h, uint64_t now)
{
    const struct hvbase *c = &h->cfg->hv;
    if (!c->nic_mbps && !c->disk_mbps)
        return;
    uint64_t period = (uint64_t)((double)c->dma_period_us * h->cost->clock_ghz * 1e3);
    while (h->next_dma + period <= now) {
        h->next_dma += period;
        double secs = (double)c->dma_period_us / 1e6;
        if (c->nic_mbps)
            transfer(h, &h->nic, (uint64_t)((double)c->nic_mbps * 1e6 / 8 * secs), 1);
        if (c->disk_mbps)
            transfer(h, &h->disk, (uint64_t)((double)c->disk_mbps * 1e6 / 8 * secs), h->disk_dir ^= 1);
    }
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

/* dma.h: DMA-capable devices behind the IOMMU: a NIC with a receive and a
 * transmit ring of buffers, and a disk with a request queue. A device only
 * knows device frame numbers (the addresses the driver programmed, dfn);
 * every page it touches is translated by the IOMMU. A blocked access (a
 * DMA-remapping fault) aborts that buffer. */
#ifndef MV_HW_DMA_H
#define MV_HW_DMA_H
#include "hw/iommu.h"
#include <stdint.h>

struct dma_ring {
    uint64_t *dfn;       /* one 4 KiB buffer per slot */
    uint32_t n, next;
};

struct dma_dev {
    unsigned id;                 /* source id in the IOMMU context table */
    const char *name;
    struct iommu *io;
    struct dma_ring rx, tx;      /* rx: device writes memory; tx: device reads it */
    uint64_t bytes, pages, faults;
    uint64_t busy_cycles;        /* device time spent moving data */
};

void dma_dev_init(struct dma_dev *d, struct iommu *io, unsigned id, const char *name);
void dma_dev_destroy(struct dma_dev *d);
/* Give the device its ring buffers (copied). */
void dma_set_ring(struct dma_ring *r, const uint64_t *dfns, uint32_t n);

/* Move `bytes` through the ring (rx: device writes into memory, tx: device
 * reads from it), buffer after buffer, each page through iommu_dma. Returns
 * the device time in cycles (cost dma_page per page plus the I/O walks of
 * IOTLB misses, which iommu_dma charges), and adds it to busy_cycles. Faulted
 * pages are counted and not transferred. */
uint64_t dma_transfer(struct dma_dev *d, struct dma_ring *r, uint64_t bytes, int write);

#endif

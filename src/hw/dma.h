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

/* A device's DMA engine as a server: it works through the transfers it is
 * given one at a time, in the order given. A transfer given at cycle `at`
 * starts when the device has finished the work before it (at `at` if the
 * device is idle) and completes its device time later. The queue has no
 * bound: a device slower than its traffic builds a backlog (a real NIC would
 * drop what its on-chip buffer cannot hold, a disk stall its submitter);
 * what is still queued when a run ends is reported, not counted as moved.
 * The memory is one entry per transfer not yet completed. */
struct dma_queue {
    uint64_t free_at;         /* cycle the device finishes the work it was given */
    uint64_t done_bytes;      /* bytes of transfers completed, as of the last dma_queue_retire */
    uint64_t queued_bytes;    /* bytes of transfers given and not completed */
    uint64_t max_wait;        /* cycles the longest-waiting transfer waited to start */
    struct dma_pending { uint64_t done, bytes; } *p;   /* not completed, oldest first (a ring) */
    uint64_t head, n, cap;
};

/* Give the device a transfer of `bytes` at cycle `at` that keeps it busy
 * `busy` cycles. */
void dma_queue_add(struct dma_queue *q, uint64_t at, uint64_t busy, uint64_t bytes);
/* Simulated time is `now`: the transfers completed by then move from
 * queued_bytes to done_bytes. */
void dma_queue_retire(struct dma_queue *q, uint64_t now);
void dma_queue_free(struct dma_queue *q);

struct dma_dev {
    unsigned id;                 /* source id in the IOMMU context table */
    const char *name;
    struct iommu *io;
    struct dma_ring rx, tx;      /* rx: device writes memory; tx: device reads it */
    uint64_t bytes, pages, faults;
    uint64_t busy_cycles;        /* device time spent moving data */
    struct dma_queue q;          /* its transfers on the device's timeline */
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

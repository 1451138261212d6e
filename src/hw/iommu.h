/* iommu.h: an Intel VT-d DMA-remapping unit (VT-d spec rev. 3, ch. 3 and 6).
 *
 * Per device (source id), a context entry selects a domain id (DID) and the
 * root of a second-level I/O page table: the x86-64 4-level format of pte.h
 * in machine memory, where _PAGE_PRESENT stands for Read and _PAGE_RW for
 * Write. A DMA is translated through an IOTLB (set-associative, LRU, tagged by
 * DID) and, on a miss, a walk of the I/O tables helped by paging-structure
 * caches (struct pwc with the DID as tag); a DMA to an unmapped frame, or a
 * write to a read-only one, is a DMA-remapping fault: blocked and counted.
 *
 * Invalidation is global, domain-selective (DSI) or page-selective (PSI:
 * 2^am aligned pages; without the PSI capability, or with am above MAMV, the
 * hardware does a DSI instead), issued either through the invalidation queue
 * (an IOTLB descriptor then a wait descriptor, the CPU spinning until the wait
 * completes: synchronous) or through the IOTLB registers. Each invalidation
 * also drops the paging-structure cache entries of its scope (IH = 0). */
#ifndef MV_HW_IOMMU_H
#define MV_HW_IOMMU_H
#include "hw/cost.h"
#include "hw/pmem.h"
#include "hw/pwc.h"
#include "lib/param.h"
#include "lib/stats.h"
#include <stdint.h>

struct iommu_config {
    uint64_t iotlb_entries, iotlb_ways;
    uint64_t psc_l4, psc_l3, psc_l2;   /* paging-structure cache sizes */
    int      psi;                      /* page-selective invalidation capability */
    uint64_t mamv;                     /* maximum address mask value */
    int      caching_mode;             /* CAP.CM: not-present entries may be cached */
    int      queued;                   /* queued invalidation (else registers) */
    uint64_t qi_entries;               /* invalidation queue length in descriptors */
    /* Not of one unit but of the platform: how many units the domain's two
     * passthrough devices sit behind (the NIC behind the first, the disk
     * behind the second when 2). Each unit keeps its own IOTLB, caches and
     * queue; Xen invalidates every unit serving a device of the domain. */
    uint64_t units;
};
extern const struct param_group iommu_params;   /* prefix "iommu" */

#define IOMMU_MAX_DEVICES 256

struct iommu_context {
    int present;
    uint16_t did;
    uint64_t root;        /* machine frame of the second-level L4 */
};

/* A queued-invalidation descriptor (128 bits). */
struct qi_desc { uint64_t lo, hi; };
#define QI_TYPE_CONTEXT 1
#define QI_TYPE_IOTLB   2
#define QI_TYPE_DEVTLB  3
#define QI_TYPE_IEC     4
#define QI_TYPE_WAIT    5

struct iommu {
    struct pmem *mem;
    struct mv_stats *st;
    const struct cost *cost;
    struct iommu_config cfg;
    struct iommu_context ctx[IOMMU_MAX_DEVICES];
    /* IOTLB: sets * ways, tag 0 invalid, else (dfn << 17) | (did << 1) | 1 */
    uint64_t *tlb_tag, *tlb_mfn;
    uint64_t *tlb_lru;     /* stamp of last use: 64 bits never wrap */
    uint8_t  *tlb_w;
    uint32_t tlb_sets, tlb_ways;
    uint64_t tlb_stamp;
    struct pwc psc;
    /* invalidation queue */
    struct qi_desc *queue;
    uint64_t qhead, qtail;          /* hardware consumes at head, software adds at tail */
    uint64_t wait_status;           /* written by a completed wait descriptor */
    uint64_t dev_cycles;            /* device time spent in I/O walks (not CPU time) */
};

enum iommu_inv { INV_GLOBAL, INV_DSI, INV_PSI };

/* -1 if the configuration is invalid (no message). */
int  iommu_init(struct iommu *io, struct pmem *mem, struct mv_stats *st, const struct cost *cost,
                const struct iommu_config *cfg);
void iommu_destroy(struct iommu *io);

/* Program the context entry of a device. Changing it requires the driver to
 * invalidate (the caller does a DSI). */
void iommu_set_context(struct iommu *io, unsigned dev, uint16_t did, uint64_t root);
void iommu_clear_context(struct iommu *io, unsigned dev);

/* A device's access to device frame dfn. 0 and *mfn, or -1: blocked (a
 * DMA-remapping fault, counted in dma_faults). Counts iotlb_miss and
 * io_walk_refs; the walk's time (cost io_walk_ref per reference) is the
 * device's, added to dev_cycles, since the CPU does not wait for it. Reads
 * need R, writes need R and W. */
int iommu_dma(struct iommu *io, unsigned dev, uint64_t dfn, int write, uint64_t *mfn);

/* Invalidate the IOTLB (and PSC) entries of the scope: all, one domain, or
 * 2^order pages at dfn (aligned down) in one domain. Returns the granularity
 * the hardware actually performed; counts iotlb_inv_{global,dsi,psi} by it;
 * charges the CPU's synchronous wait (cost iotlb_inv or iotlb_inv_reg) to
 * CYC_iommu. */
enum iommu_inv iommu_invalidate(struct iommu *io, enum iommu_inv g, uint16_t did, uint64_t dfn,
                                unsigned order);

/* Valid IOTLB entries (tests). */
unsigned iommu_iotlb_count(const struct iommu *io);

#endif

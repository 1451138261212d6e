/* vtd.h: the hypervisor's VT-d driver for one domain: it builds the domain's
 * second-level I/O page tables in machine memory and decides which IOTLB
 * invalidation each change needs (Xen: drivers/passthrough/vtd/iommu.c
 * intel_iommu_map_page / unmap_page / iommu_flush_iotlb; see
 * docs/research/xen-linux-vtd-notes.md §C).
 *
 * map / unmap only change the tables and return flush flags: ADDED when a
 * not-present entry became present, MODIFIED when a present entry changed or
 * was cleared; vtd_flush() then turns the flags into an invalidation:
 * MODIFIED -> PSI of that page; ADDED alone -> nothing, unless the unit
 * reports caching mode or the caller asks to flush on map (the behaviour of
 * the xen-4.2 profile, REFERENCE.md §2); ALL (a table replaced by a
 * superpage, or freed empty: Xen's IOMMU_FLUSHF_all) -> a domain-wide
 * invalidation instead. */
#ifndef MV_HV_VTD_H
#define MV_HV_VTD_H
#include "hw/iommu.h"
#include <stdint.h>

#define VTD_ADDED    0x1
#define VTD_MODIFIED 0x2
#define VTD_ALL      0x4

#define VTD_MAX_UNITS 2

struct vtd_domain {
    struct iommu *io;                   /* the first unit: memory, statistics, costs */
    /* The units serving the domain (Xen's iommu_bitmap, whose bit a unit
     * gets when a device behind it is attached): the first unit from the
     * start, standing for the NIC that is always behind it, then each
     * other unit a device is assigned behind; each is invalidated. */
    struct iommu *unit[VTD_MAX_UNITS];
    unsigned nunits;
    uint16_t did;
    uint64_t root;                      /* machine frame of the I/O L4 */
    uint64_t (*alloc_frame)(void *ctx); /* a zeroed machine frame for a table; UINT64_MAX: none */
    void (*free_frame)(void *ctx, uint64_t mfn);
    void *frame_ctx;
    /* Xen 4.17's driver (vtd.c): the largest level of the superpages it
     * builds by coalescing full tables (1: none, 2: 2 MiB, 3: 1 GiB), and
     * whether an unmap frees a table it leaves empty. Both 1 and 0 (Xen
     * 4.2's driver) unless set before the first map. */
    unsigned sp_level;
    int free_empty;
    uint64_t table_pages;               /* I/O page-table frames in use */
    uint64_t mapped;                    /* present 4 KiB pages */
    uint64_t gen;                       /* bumped by every change to the tables */
};

/* 0, or -1 if no frame could be had for the root. */
int  vtd_domain_init(struct vtd_domain *vd, struct iommu *io, uint16_t did,
                     uint64_t (*alloc_frame)(void *), void (*free_frame)(void *, uint64_t), void *ctx);
/* Free every I/O table frame. */
void vtd_domain_destroy(struct vtd_domain *vd);
/* Attach device dev, behind unit io, to the domain (context entry + DSI on
 * that unit); the unit joins those the domain's invalidations go to. */
void vtd_assign_device(struct vtd_domain *vd, struct iommu *io, unsigned dev);
/* A domain-selective invalidation on every unit of the domain. */
void vtd_flush_domain(struct vtd_domain *vd);

/* Map dfn -> mfn (writable or read-only). Returns flush flags; identical
 * re-map returns 0. Charges iommu_pte per entry written. */
unsigned vtd_map_page(struct vtd_domain *vd, uint64_t dfn, uint64_t mfn, int writable);
/* Map the 512 pages of a 2 MiB extent, dfn..dfn+511 -> mfn..mfn+511 (both
 * aligned): the same tables, charges and counts as vtd_map_page on each
 * page in turn, but an L1 table it fills whole stays unbacked (a linear
 * frame) until one of its entries changes. With superpages, one 2 MiB
 * entry instead (Xen maps an aligned run with the largest page it can). */
void vtd_map_extent(struct vtd_domain *vd, uint64_t dfn, uint64_t mfn, int writable);
/* Unmap dfn. Returns VTD_MODIFIED if a present entry was cleared, else 0. */
unsigned vtd_unmap_page(struct vtd_domain *vd, uint64_t dfn);
/* Issue the invalidation the flags need (see the file comment), on every
 * unit of the domain, each waited for (Xen's iommu_flush_iotlb over the
 * domain's iommu_bitmap). Returns 1 if an invalidation was issued. */
int vtd_flush(struct vtd_domain *vd, uint64_t dfn, unsigned flags, int flush_on_map);

/* Software lookup (no caches, no charge): 0 and *mfn / *writable, or -1. */
int vtd_lookup(const struct vtd_domain *vd, uint64_t dfn, uint64_t *mfn, int *writable);
/* Visit every present 4 KiB page (each page of a superpage in turn). */
void vtd_for_each_leaf(const struct vtd_domain *vd, void (*fn)(void *ctx, uint64_t dfn, pte_t e), void *ctx);

#endif

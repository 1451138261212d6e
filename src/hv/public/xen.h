/* xen.h: the PV hypercall interface between a guest and the hypervisor (the
 * subset of Xen's public/xen.h that memvirt models, with Xen's numbers).
 * This is the only part of hv/ that guest/ may include: an ABI, not the
 * hypervisor's internals. Arguments are passed by pointer as a guest passes
 * the address of its argument buffer. Results are 0 or a negative errno. */
#ifndef MV_HV_PUBLIC_XEN_H
#define MV_HV_PUBLIC_XEN_H
#include <stdint.h>

#define __HYPERVISOR_mmu_update        1
#define __HYPERVISOR_multicall        13
#define __HYPERVISOR_update_va_mapping 14
#define __HYPERVISOR_iret             23   /* back to the guest's user mode (no arguments: its frame
                                              is on the guest's stack, which memvirt does not model) */
#define __HYPERVISOR_mmuext_op        26
#define __HYPERVISOR_ptcache_op       48   /* PiBooster's new hypercall */

/* mmu_update: ptr = machine address of the entry | command (low 3 bits). */
#define MMU_NORMAL_PT_UPDATE 0
struct mmu_update {
    uint64_t ptr;
    uint64_t val;
};
struct mmu_update_args {
    const struct mmu_update *req;
    unsigned count;
    unsigned done;     /* in: where to start (0); out: requests completed */
};

/* mmuext_op commands */
#define MMUEXT_PIN_L1_TABLE      0
#define MMUEXT_PIN_L2_TABLE      1
#define MMUEXT_PIN_L3_TABLE      2
#define MMUEXT_PIN_L4_TABLE      3
#define MMUEXT_UNPIN_TABLE       4
#define MMUEXT_NEW_BASEPTR       5
#define MMUEXT_TLB_FLUSH_LOCAL   6
#define MMUEXT_INVLPG_LOCAL      7
#define MMUEXT_TLB_FLUSH_MULTI   8
#define MMUEXT_INVLPG_MULTI      9
#define MMUEXT_NEW_USER_BASEPTR 15
struct mmuext_op {            /* 24 bytes, as in Xen's ABI */
    unsigned cmd;
    union {
        uint64_t mfn;            /* PIN/UNPIN/BASEPTR */
        uint64_t linear_addr;    /* INVLPG */
    };
    uint64_t vcpumask;           /* *_MULTI */
};
struct mmuext_args {
    const struct mmuext_op *op;
    unsigned count;
    unsigned done;
};

/* update_va_mapping flags */
#define UVMF_NONE       0
#define UVMF_TLB_FLUSH  1
#define UVMF_INVLPG     2
struct update_va_mapping_args {
    uint64_t va;
    uint64_t val;
    unsigned flags;
};

/* multicall: a batch of hypercalls in one transition. */
struct multicall_entry {
    unsigned op;
    void *args;
    long result;
};
struct multicall_args {
    struct multicall_entry *call;
    unsigned count;
};

/* PiBooster (Zhang, Cheng et al., 2016): enable/disable the domain's page-table
 * cache, and release cached pages (clear the cache flag, map them back into
 * the IOMMU, flush), in order, stopping at the first page refused. */
#define PTCACHE_ENABLE  1
#define PTCACHE_DISABLE 2
#define PTCACHE_RELEASE 3
struct ptcache_op_args {
    unsigned cmd;
    const uint64_t *mfn;
    unsigned count;
    unsigned done;     /* in: where to start (0); out: pages released (RELEASE) */
};

/* The guest kernel's direct map of all its memory (Linux PAGE_OFFSET with
 * 4-level paging): the hypervisor models it as one writable/read-only bit per
 * frame, updated through update_va_mapping at DIRECTMAP_BASE + (pfn << 12). */
#define DIRECTMAP_BASE 0xffff888000000000ull

/* What the domain builder hands the guest (Xen's start_info): its size and
 * the guest-physical -> machine map (mfn_list) in 2 MiB extents, and a
 * read-only view of the machine -> guest-physical table (Xen maps the M2P
 * read-only into every PV guest). */
struct xen_start_info {
    uint64_t nr_pages;
    const uint64_t *p2m_extent;      /* machine frame of the first page of each 2 MiB extent */
    uint64_t (*m2p)(const void *ctx, uint64_t mfn);   /* read-only table lookup */
    const void *m2p_ctx;
};
#define P2M_EXTENT_SHIFT 9

/* UINT64_MAX for a frame beyond the domain's memory. */
static inline uint64_t xen_pfn_to_mfn(const struct xen_start_info *si, uint64_t pfn)
{
    if (pfn >= si->nr_pages)
        return UINT64_MAX;
    return si->p2m_extent[pfn >> P2M_EXTENT_SHIFT] + (pfn & ((1u << P2M_EXTENT_SHIFT) - 1));
}

#endif

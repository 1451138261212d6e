/* xen.h: the hypervisor's internals for PV guests (Xen: xen/arch/x86/mm.c,
 * xen/arch/x86/pv/, include/asm-x86/mm.h).
 *
 * Every machine frame has a struct page_info: owner, general reference count,
 * type (none, L1..L4, seg_desc, shared, writable) with a type count, and the
 * flags validated, pinned, partial and PiBooster's cache flag. A frame has
 * one type at a time; the type changes only when the type count is zero. The
 * invariants the type system keeps (and pv_check() verifies):
 *  - a frame with a page-table type and a non-zero type count (a live table)
 *    is mapped writable by no guest entry: every writable mapping holds a
 *    writable type reference;
 *  - every entry of a live table maps a frame its domain owns;
 *  - with IOMMU sync on: a frame is mapped (1:1, read/write) in the IOMMU iff
 *    its type is writable and it is not PiBooster-flagged.
 * page_info lives in a sparse table initialised a chunk at a time, so frames
 * never touched cost nothing. */
#ifndef MV_HV_XEN_H
#define MV_HV_XEN_H
#include "hv/hvconfig.h"
#include "hv/public/xen.h"
#include "hv/vtd.h"
#include "hw/cpu.h"
#include "hw/dma.h"
#include "hw/iommu.h"
#include "lib/sparse.h"

enum pgt {
    PGT_none = 0, PGT_l1 = 1, PGT_l2 = 2, PGT_l3 = 3, PGT_l4 = 4,
    PGT_seg_desc = 5, PGT_shared = 6, PGT_writable = 7,
};
static inline int pgt_is_table(unsigned t) { return t >= PGT_l1 && t <= PGT_l4; }

#define PGF_validated 0x01
#define PGF_pinned    0x02
#define PGF_partial   0x04
#define PGF_ptcache   0x08   /* PiBooster: held by the guest's cache, never DMA-accessible */
#define PGF_dmap_rw   0x10   /* the guest's direct map maps it writable (holds refs) */

#define DOMID_NONE 0
#define DOMID_GUEST 1
#define DOMID_XEN 0x7ff0

struct page_info {
    uint32_t count;          /* general references */
    uint32_t type_count;
    uint32_t tlbflush_stamp; /* TLB clock when its type count last fell to 0 */
    uint16_t owner;
    uint16_t nr_validated;   /* entries validated so far (partial validation) */
    uint8_t  type;           /* enum pgt */
    uint8_t  flags;          /* PGF_* */
    uint8_t  pad[2];
    /* Linear page tables (XSA-240): a table may contain linear entries or be
     * the target of them, never both, so linear chains cannot form. */
    uint16_t linear_entries; /* linear entries this table contains */
    uint16_t linear_uses;    /* linear entries that point at this table */
};

struct domain {
    uint16_t id;
    uint64_t nr_pages;
    uint64_t *p2m_extent;    /* pfn >> 9 -> machine frame of the extent */
    uint64_t n_extent;
    sparse_t m2p;            /* mfn -> pfn + 1 (0: not this domain's) */
    int ptcache;             /* PiBooster: the guest's page-table cache is on */
    uint64_t guest_table;    /* L4 loaded for kernel mode (NEW_BASEPTR), 0 none */
    uint64_t guest_table_user;
    struct vtd_domain vtd;
    int iommu_attached;
};

struct xen {
    struct pmem *mem;
    struct mv_stats *st;
    const struct cost *cost;
    struct cpu *cpu;
    struct xenconfig cfg;
    int flush_on_map;        /* profile xen-4.2 */
    sparse_t frames;         /* mfn -> struct page_info */
    uint64_t nframes;
    uint32_t tlbclock;       /* bumped on every full TLB flush */
    uint32_t cpu_flush_stamp;
    /* the hypervisor's own frames (I/O page tables) */
    uint64_t *heap, nheap, capheap;
    struct domain dom;
    struct iommu iommu;
    struct dma_dev nic, disk;
    struct xen_start_info si;
    /* statistics of PiBooster's hypervisor side */
    uint64_t flag_set, flag_skips, released;
    uint64_t continuations;
    int preemptible;         /* the validation under way may be preempted (PIN ops) */
    int root_dirty;          /* a base pointer changed: reload on return to the guest */
    uint64_t next_dma;       /* background device traffic: next period */
    int disk_dir;
};

/* Build the hypervisor and one PV domain of guest_frames frames, machine
 * memory sized from cfg; install the trap handlers on cpu. -1 after mv_error. */
int  xen_create(struct xen *x, struct pmem *mem, struct cpu *cpu, struct mv_stats *st,
                const struct cost *cost, const struct hvconfig *cfg, uint64_t guest_frames,
                uint64_t seed);
void xen_destroy(struct xen *x);
uint64_t xen_machine_frames(const struct hvconfig *cfg, uint64_t guest_frames);
uint64_t xen_io_table_frames(uint64_t machine_frames, uint64_t guest_extents);
/* Is machine memory large enough for the guest and Xen's own frames?
 * -1 after mv_error if not. */
int      xen_check_memory(const struct hvconfig *cfg, uint64_t guest_frames);

extern const struct vmm_ops xen_pv_vmm_ops;

/* Frame table. */
struct page_info *frame(struct xen *x, uint64_t mfn);
uint64_t pfn_to_mfn(const struct domain *d, uint64_t pfn);    /* UINT64_MAX if out of range */
uint64_t mfn_to_pfn(const struct domain *d, uint64_t mfn);    /* UINT64_MAX if not the domain's */

/* The type system (mm.c). Errors are negative errno values. */
int  get_page(struct xen *x, uint64_t mfn, struct domain *d);
void put_page(struct xen *x, uint64_t mfn);
int  get_page_type(struct xen *x, uint64_t mfn, unsigned type);
void put_page_type(struct xen *x, uint64_t mfn);
int  get_page_and_type(struct xen *x, uint64_t mfn, struct domain *d, unsigned type);
void put_page_and_type(struct xen *x, uint64_t mfn);
int  mod_entry(struct xen *x, struct domain *d, uint64_t table, unsigned lvl, unsigned idx, pte_t val);
int  dmap_set(struct xen *x, struct domain *d, uint64_t mfn, int rw);

/* Hypercalls (hypercall.c). */
long do_mmu_update(struct xen *x, struct mmu_update_args *a);
long do_mmuext_op(struct xen *x, struct mmuext_args *a);
long do_update_va_mapping(struct xen *x, struct update_va_mapping_args *a);
long do_multicall(struct xen *x, struct multicall_args *a);
long do_ptcache_op(struct xen *x, struct ptcache_op_args *a);
long xen_dispatch(struct xen *x, unsigned nr, void *arg);
void xen_return_to_guest(struct xen *x);

/* IOMMU coupling (iommu_sync.c). */
void iommu_sync_type_change(struct xen *x, struct domain *d, uint64_t mfn, unsigned old, unsigned new_type);

/* Security invariants (pv_check.c): 0, or -1 with a message. */
int  pv_check(struct xen *x, char *msg, unsigned len);

/* Charge hypervisor work. */
static inline void xen_charge(struct xen *x, uint64_t cycles) { stat_charge(x->st, CYC_hypervisor, cycles); }

#endif

/* hv.h: the hypervisor core every paging mode shares (Xen's common code:
 * the domain builder, the p2m, the hypervisor's own frame heap, the IOMMU
 * and passthrough devices, and the exit path; KVM's vcpu_enter_guest /
 * handle_exit loop in one function).
 *
 * A domain (guest memory scattered over machine memory in 2 MiB extents,
 * its p2m and m2p, its VT-d context and its devices) is built the same way
 * for every mode; what differs is the paging mode (paging.h), a table of
 * functions the hypervisor installs on the vCPU.
 *
 * Every guest->hypervisor transition goes through hv_exit(): it counts the
 * exit by reason and charges the transition once, from the cost profile:
 * cost.vm_exit for a hardware VM exit, cost.hypercall for a PV guest's ring
 * transition (a hypercall or a trap into Xen), cost.ssp_trap for SSP's trap
 * to the highest-privilege mode (counted as ssp_traps, not as a VM exit).
 * The handler's own work is charged to the `hypervisor` bucket by the
 * handler; transitions go to the `exits` bucket. With exit clustering
 * (cluster.h), a VM exit at a guest code site may instead join the cluster
 * the previous exit opened: the handler still runs, the transition is not
 * taken or charged. */
#ifndef MV_HV_HV_H
#define MV_HV_HV_H
#include "hv/cluster.h"
#include "hv/hvconfig.h"
#include "hv/public/xen.h"
#include "hv/vtd.h"
#include "hw/cpu.h"
#include "hw/dma.h"
#include "hw/iommu.h"
#include "lib/instr.h"
#include "lib/sparse.h"

struct paging_mode;

enum exit_reason {
    EXIT_PT_WRITE,       /* a store to a write-protected page table, emulated */
    EXIT_PF,             /* a page fault the hypervisor intercepts */
    EXIT_CR3,            /* MOV to CR3 switching address spaces */
    EXIT_INVLPG,
    EXIT_FLUSH,          /* other TLB flushes: CR3 reload, CR4.PGE, INVPCID */
    EXIT_EPT_VIOLATION,
    EXIT_EPT_MISCONFIG,  /* a reserved bit in an EPT entry (counted with the violations: exit.c) */
    EXIT_HYPERCALL,
    EXIT_SYSCALL,        /* a PV guest's system call, entering Xen on its way to the guest kernel */
    EXIT__N
};

enum hv_transition {
    HV_VMEXIT,           /* hardware VM exit and VM entry */
    HV_PV_TRAP,          /* PV: ring transition into the hypervisor and back */
    HV_SSP_TRAP,         /* SSP: trap to the highest-privilege mode and back */
};

#define DOMID_NONE 0
#define DOMID_GUEST 1
#define DOMID_XEN 0x7ff0

/* A guest domain: its memory and what reaches it. */
struct domain {
    uint16_t id;
    uint64_t nr_pages;
    uint64_t *p2m_extent;    /* gfn >> 9 -> machine frame of the 2 MiB extent */
    uint64_t n_extent;
    sparse_t m2p;            /* mfn >> 9 -> (gfn >> 9) + 1 (0: not this domain's) */
    struct vtd_domain vtd;
    int iommu_attached;      /* devices reach memory through the domain's I/O tables */
    struct xen_start_info si;/* what the builder hands a PV guest */
    char crashed[192];       /* domain_crash: why ("" while the domain lives) */
};

struct hv {
    struct pmem *mem;
    struct mv_stats *st;
    const struct cost *cost;
    struct cpu *cpu;
    const struct hvconfig *cfg;
    uint64_t nframes;        /* machine frames */
    struct domain dom;
    /* the hypervisor's own frames (I/O page tables, shadow pages, the EPT):
     * the free ones (nheap) a stack of runs, the top run's first frame
     * handed out next, so a heap of whole extents costs a run per extent,
     * not a word per frame */
    struct hv_heap_run { uint64_t first, n; } *heap;
    uint64_t nheap, nruns, capruns, heap_used, heap_max;
    uint64_t heap_reserved;  /* of heap_used, frames promised but not taken yet (hv_reserve_frames) */
    struct iommu iommu;      /* VT-d unit 0: the NIC's, and the disk's unless iommu.units is 2 */
    struct iommu iommu_unit1; /* the disk's unit when iommu.units is 2 (else unused) */
    struct dma_dev nic, disk;
    uint64_t next_dma;       /* background device traffic: next period */
    int disk_dir;
    const struct paging_mode *pm;
    void *mode;              /* the paging mode's state */
    struct mv_timeline *timeline;   /* where decisions are recorded (set by hv_instruments) */
    struct hv_cluster cl;    /* exit clustering (cfg->clustering.enable) */
};

/* Machine frames for a guest of guest_frames frames under paging mode pm
 * (hv.machine_mb, or twice the guest's). */
uint64_t hv_machine_frames(const struct hvconfig *cfg, const struct paging_mode *pm, uint64_t guest_frames);
/* Is machine memory large enough for the guest and the hypervisor's frames?
 * -1 after mv_error if not: the least machine that is, and what it holds
 * (the guest, the hypervisor, the mode's own frames and the parameter that
 * sizes them, the I/O tables); the input blamed is hv.machine_mb when given,
 * else (machine sized automatically) that parameter. */
int      hv_check_memory(const struct hvconfig *cfg, const struct paging_mode *pm, uint64_t guest_frames);

/* Build the domain of guest_frames frames in machine memory mem, then the
 * paging mode, and install its traps on cpu. -1 after mv_error. */
int  hv_create(struct hv *h, struct pmem *mem, struct cpu *cpu, struct mv_stats *st, const struct cost *cost,
               const struct hvconfig *cfg, const struct paging_mode *pm, uint64_t guest_frames, uint64_t seed);
void hv_destroy(struct hv *h);
/* After the guest booted: forget what booting counted. */
void hv_booted(struct hv *h);
/* The paging mode's security invariants: 0, or -1 with a message. */
int  hv_check(struct hv *h, char *msg, unsigned len);
/* Xen's domain_crash: the domain is dead and its vCPU never runs again
 * (cpu.h, offline: the trap under way does not return to the guest); why
 * goes into dom.crashed, as Xen logs it. The hypervisor finishes the
 * operation under way (undoing what it took) before the trap returns. */
__attribute__((format(printf, 2, 3)))
void domain_crash(struct hv *h, const char *fmt, ...);
/* Register the hypervisor's gauges, metrics and controls. */
void hv_instruments(struct hv *h, struct mv_instruments *in);

/* The exit path: count one transition by reason and charge it, unless an
 * open cluster takes the operation in (cluster.h). */
void hv_exit(struct hv *h, enum hv_transition t, enum exit_reason r);
/* The guest's names for its code sites (reports only). */
void hv_set_site_names(struct hv *h, const char *const *names, unsigned n);

/* Hypervisor work, charged to the `hypervisor` bucket. */
static inline void hv_charge(struct hv *h, uint64_t cycles) { stat_charge(h->st, CYC_hypervisor, cycles); }

/* The domain's p2m (authoritative, side-effect free): UINT64_MAX outside it
 * (inline: the shadow modes ask it for every guest table they read). */
static inline uint64_t pfn_to_mfn(const struct domain *d, uint64_t pfn)
{
    if (pfn >= d->nr_pages)
        return UINT64_MAX;
    return d->p2m_extent[pfn >> P2M_EXTENT_SHIFT] + (pfn & ((1u << P2M_EXTENT_SHIFT) - 1));
}
uint64_t mfn_to_pfn(const struct domain *d, uint64_t mfn);
static inline int hv_owns(const struct hv *h, uint64_t mfn) { return mfn_to_pfn(&h->dom, mfn) != UINT64_MAX; }

/* Heap frames free for anyone to take: those not promised to a
 * reservation (hv_reserve_frames). */
static inline uint64_t hv_heap_available(const struct hv *h) { return h->nheap - h->heap_reserved; }
/* VT-d unit u, u < iommu.units. */
static inline struct iommu *hv_iommu_unit(struct hv *h, unsigned u) { return u ? &h->iommu_unit1 : &h->iommu; }
static inline unsigned hv_iommu_units(const struct hv *h) { return (unsigned)h->cfg->iommu.units; }

/* A zeroed frame from the hypervisor's heap (UINT64_MAX: none left), and
 * back. The heap is bounded; heap_used counts frames out. */
uint64_t hv_alloc_frame(struct hv *h);
void     hv_free_frame(struct hv *h, uint64_t mfn);
/* A structure that exists in full from the domain's build but is written
 * on first need (the EPT under hap.ept_populate=boot) holds n frames it has
 * not taken yet: they count as handed out (heap_used), and no one else may
 * take them. hv_alloc_reserved_frame takes one of them; hv_unreserve_frames
 * gives n back. -1 / UINT64_MAX if the heap has not that many. */
int      hv_reserve_frames(struct hv *h, uint64_t n);
uint64_t hv_alloc_reserved_frame(struct hv *h);
void     hv_unreserve_frames(struct hv *h, uint64_t n);
/* The i-th free heap frame counting from the bottom of the stack (i <
 * nheap; nheap - 1 is the one handed out next). For tests. */
uint64_t hv_heap_free_frame(const struct hv *h, uint64_t i);
/* Is mfn one of the hypervisor's heap frames (handed out or free)? */
int      hv_heap_frame(const struct hv *h, uint64_t mfn);

/* Devices: a DMA of `bytes` by device "nic" or "disk" (device time in
 * cycles). */
uint64_t hv_dma(struct hv *h, const char *dev, uint64_t bytes, int write);
/* Simulated time has advanced to `now`: background device traffic
 * (hv.nic_mbps, hv.disk_mbps) and the paging mode's periodic work. */
void     hv_tick(struct hv *h, uint64_t now);
/* Seconds of simulated time at cycle `now`. */
static inline double hv_seconds(const struct hv *h, uint64_t now) { return (double)now / (h->cost->clock_ghz * 1e9); }
/* The drivers gave the devices their buffers (bus addresses). */
void     hv_set_rings(struct hv *h, const uint64_t *nic_rx, const uint64_t *nic_tx, unsigned nic,
                      const uint64_t *disk, unsigned ndisk);

#endif

/* xen.h: Xen's PV paging mode: the frame table and page-type system of a
 * PV domain (Xen: xen/arch/x86/mm.c,
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
#ifndef MV_HV_PV_XEN_H
#define MV_HV_PV_XEN_H
#include "hv/hv.h"
#include "hv/public/xen.h"
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

#define DOMID_IO 0x7ff1      /* Xen's owner of I/O space (the first MiB, holes) */

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

/* The PV paging mode's state, one per domain (Xen: struct domain's PV MMU
 * parts, the vCPU's guest_table, and the global frame table). */
struct xen {
    struct hv *h;
    struct pmem *mem;        /* h's, for brevity */
    struct mv_stats *st;
    const struct cost *cost;
    struct cpu *cpu;
    struct domain *dom;
    struct xenconfig cfg;
    int flush_on_map;        /* profile xen-4.2 */
    sparse_t frames;         /* mfn -> struct page_info */
    uint64_t nframes;
    uint32_t tlbclock;       /* bumped on every full TLB flush */
    uint32_t cpu_flush_stamp;
    int ptcache;             /* PiBooster: the guest's page-table cache is on */
    uint64_t guest_table;    /* L4 loaded for kernel mode (NEW_BASEPTR), 0 none */
    uint64_t guest_table_user;
    /* statistics of PiBooster's hypervisor side */
    uint64_t flag_set, flag_skips, released;
    uint64_t continuations;
    int preemptible;         /* the validation under way may be preempted (PIN ops) */
    int validate_depth;      /* nesting of validations (only the outermost is preempted) */
    int root_dirty;          /* a base pointer changed: reload on return to the guest */
    /* XPTI (xpti.c): enum xpti_mode; the guest's L4 changed since the
     * per-CPU copy was taken (Xen: root_pgt_changed); its statistics */
    int xpti;
    int xpti_root_changed;
    uint64_t xpti_copies, xpti_flushes;
    /* Test hook (tests, tests/fuzz): a preempted hypercall returns -ERESTART
     * to the guest, its progress recorded in its arguments, instead of being
     * re-entered at once. The guest runs before it re-issues the call, as
     * when Xen returns to a guest with an event pending and the continuation
     * set up (XSA-296's window), and may issue other operations meanwhile. */
    int restart_to_guest;
};

static inline struct xen *XEN(struct hv *h) { return h->mode; }

/* Frame table. */
struct page_info *frame(struct xen *x, uint64_t mfn);

/* The type system (mm.c). Errors are negative errno values. */
int  get_page(struct xen *x, uint64_t mfn, struct domain *d);
void put_page(struct xen *x, uint64_t mfn);
int  get_page_type(struct xen *x, uint64_t mfn, unsigned type);
void put_page_type(struct xen *x, uint64_t mfn);
int  get_page_and_type(struct xen *x, uint64_t mfn, struct domain *d, unsigned type);
void put_page_and_type(struct xen *x, uint64_t mfn);
/* Would Xen's L1TF check refuse not-present entry e of a level-lvl table? */
int  l1tf_unsafe(const struct xen *x, unsigned lvl, pte_t e);
/* The flags an entry of a level-lvl table may not have. */
uint64_t pte_disallowed(const struct xen *x, unsigned lvl);
int  mod_entry(struct xen *x, struct domain *d, uint64_t table, unsigned lvl, unsigned idx, pte_t val);
int  dmap_set(struct xen *x, struct domain *d, uint64_t mfn, int rw);

/* Hypercalls (hypercall.c). */
long do_mmu_update(struct xen *x, struct mmu_update_args *a);
long do_mmuext_op(struct xen *x, struct mmuext_args *a);
long do_update_va_mapping(struct xen *x, struct update_va_mapping_args *a);
long do_multicall(struct xen *x, struct multicall_args *a);
long do_ptcache_op(struct xen *x, struct ptcache_op_args *a);
long xen_dispatch(struct xen *x, unsigned nr, void *arg);
/* The way back to the guest after a trap (restore_all_guest): the base
 * pointers reloaded if they changed, XPTI's L4 copy if due; toggled: the
 * trap switched between the guest's user and kernel modes (a fault or a
 * system call bounced to the kernel, the iret back to user mode). */
void xen_return_to_guest(struct xen *x, int toggled);

/* XPTI (xpti.c): xen.xpti's value; every PV trap into Xen (hv_exit and,
 * under XPTI, its CR3 switches); XPTI's part of the way back. */
enum xpti_mode { XPTI_OFF, XPTI_ON, XPTI_PCID };
int  xpti_mode(const char *v);
void xen_trap(struct xen *x, enum exit_reason r);
void xpti_return(struct xen *x, int toggled);

/* IOMMU coupling (iommu_sync.c). */
void iommu_sync_type_change(struct xen *x, struct domain *d, uint64_t mfn, unsigned old, unsigned new_type);

/* Security invariants (pv_check.c): 0, or -1 with a message. */
int  pv_check(struct xen *x, char *msg, unsigned len);

/* Charge hypervisor work. */
static inline void xen_charge(struct xen *x, uint64_t cycles) { stat_charge(x->st, CYC_hypervisor, cycles); }

#endif

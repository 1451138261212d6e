/* pv.c: Xen's PV paging modes, pv and pv-pibooster: the traps a PV guest
 * takes into Xen (x86-64 PV: faults and system calls bounced to the guest
 * kernel, writes to read-only page tables emulated as ptwr, privileged
 * instructions emulated, hypercalls), the mode's state, invariants and
 * statistics.
 *
 *   pv            the guest's page tables hold machine frames and are
 *                 validated by Xen (types, pinning, hypercalls); with a
 *                 passthrough device the IOMMU follows page types.
 *   pv-pibooster  pv plus PiBooster's hypervisor side: the cache flag and
 *                 the ptcache_op hypercall (the guest runs its page-table
 *                 cache when the hypervisor offers it).
 *
 * Every trap is a ring transition into Xen, xen_trap (hv_exit(HV_PV_TRAP,
 * reason) and XPTI's switch, xpti.c), and ends with xen_return_to_guest. */
#include "hv/paging.h"
#include "hv/pv/xen.h"
#include "lib/err.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* ---- traps ---------------------------------------------------------------- */

static uint64_t pv_g2m(void *ctx, struct cpu *c, uint64_t gfn)
{
    struct hv *h = ctx;
    return pfn_to_mfn(&h->dom, gfn);
}

/* A guest store through its direct map traps when that mapping is read-only. */
static int pv_store_traps(void *ctx, uint64_t gfn)
{
    struct xen *x = XEN(ctx);
    uint64_t mfn = pfn_to_mfn(x->dom, gfn);
    return mfn != UINT64_MAX && !(frame(x, mfn)->flags & PGF_dmap_rw);
}

/* ptwr: emulate a write to a read-only L1 with the checks of mmu_update.
 * Writes to other read-only pages are not emulated: the guest faults. An
 * unsafe not-present entry crashes the domain (Xen: X86EMUL_RETRY after
 * domain_crash); the store is not done. */
static int pv_store(void *ctx, struct cpu *c, uint64_t gfn, unsigned idx, uint64_t val)
{
    struct xen *x = XEN(ctx);
    xen_trap(x, EXIT_PT_WRITE);
    xen_charge(x, x->cost->pv_emulate);
    uint64_t mfn = pfn_to_mfn(x->dom, gfn);
    struct page_info *p = frame(x, mfn);
    int rc = p->type != PGT_l1 || !p->type_count || !(p->flags & PGF_validated) ? -EFAULT
                                                                                : mod_entry(x, x->dom, mfn, 1, idx, val);
    xen_return_to_guest(x, 0);
    return rc;
}

static int pv_page_fault(void *ctx, struct cpu *c, uint64_t va, uint32_t pfec, uint64_t *mfn)
{
    struct xen *x = XEN(ctx);
    xen_trap(x, EXIT_PF);     /* #PF -> Xen -> guest's handler */
    xen_charge(x, x->cost->pv_fault_bounce);
    xen_return_to_guest(x, 1);   /* to the guest kernel's handler */
    return 0;
}

/* A system call from user mode enters Xen (its SYSCALL entry point,
 * lstar_enter), which bounces it to the guest kernel's registered callback:
 * switch_to_kernel and create_bounce_frame, in xen/arch/x86/x86_64/entry.S.
 * The transition is a PV trap (cost.hypercall), the bounce's work
 * cost.pv_syscall_bounce; the switch to the kernel's L4 that
 * create_bounce_frame makes (toggle_guest_mode) is not charged (docs/pv.md,
 * kernel/user mode switches). The guest kernel returns with the iret
 * hypercall. */
static void pv_syscall(void *ctx, struct cpu *c)
{
    struct xen *x = XEN(ctx);
    xen_trap(x, EXIT_SYSCALL);
    xen_charge(x, x->cost->pv_syscall_bounce);
    xen_return_to_guest(x, 1);   /* to the guest kernel's callback */
}

/* MOV to CR3 from a PV kernel faults (#GP) and is emulated as NEW_BASEPTR;
 * a frame that cannot be an L4 fails the emulation: #GP to the guest. */
static int pv_write_cr3(void *ctx, struct cpu *c, uint64_t root, uint16_t pcid, int noflush)
{
    struct xen *x = XEN(ctx);
    xen_trap(x, EXIT_CR3);
    xen_charge(x, x->cost->pv_emulate);
    uint64_t mfn = pfn_to_mfn(x->dom, root);
    if (mfn == UINT64_MAX) {
        xen_return_to_guest(x, 0);
        return -1;
    }
    struct mmuext_op op = { .cmd = MMUEXT_NEW_BASEPTR, .mfn = mfn };
    struct mmuext_args a = { &op, 1, 0 };
    long rc = do_mmuext_op(x, &a);
    while (rc == -ERESTART && !x->dom->crashed[0]) {
        /* Preempted validation of the new L4: Xen's emulation retries, the
         * guest executes the MOV again (another trap) and it resumes. */
        x->continuations++;
        xen_trap(x, EXIT_CR3);
        rc = do_mmuext_op(x, &a);
    }
    xen_return_to_guest(x, 0);
    return rc ? -1 : 1;
}

/* Privileged TLB maintenance from a PV kernel is emulated; PV Linux uses
 * hypercalls instead (MMUEXT_INVLPG_LOCAL, MMUEXT_TLB_FLUSH_LOCAL). */
static int pv_tlb_flush(void *ctx, struct cpu *c, enum tlb_flush_kind kind, uint64_t va, uint16_t pcid)
{
    struct xen *x = XEN(ctx);
    int one_page = kind == FLUSH_INVLPG || kind == FLUSH_INVPCID_ADDR;
    xen_trap(x, kind == FLUSH_INVLPG ? EXIT_INVLPG : EXIT_FLUSH);
    xen_charge(x, x->cost->pv_emulate);
    cpu_hw_tlb_flush(c, kind, va, c->pcid);
    if (!one_page)
        x->cpu_flush_stamp = ++x->tlbclock;
    xen_return_to_guest(x, 0);
    return 1;
}

static long pv_hypercall(void *ctx, struct cpu *c, unsigned nr, void *arg)
{
    struct xen *x = XEN(ctx);
    x->st->cnt[CNT_hypercalls]++;
    xen_trap(x, EXIT_HYPERCALL);
    long rc = xen_dispatch(x, nr, arg);
    while (rc == -ERESTART && !x->dom->crashed[0]) {
        /* A hypercall continuation: the guest re-executes the call, at once
         * (or, under the restart_to_guest hook, when it chooses to). */
        x->continuations++;
        if (x->restart_to_guest)
            break;
        xen_trap(x, EXIT_HYPERCALL);
        rc = xen_dispatch(x, nr, arg);
    }
    xen_return_to_guest(x, nr == __HYPERVISOR_iret);   /* the iret goes back to user mode */
    return rc;
}

/* ---- the mode -------------------------------------------------------------- */

static int pv_iommu_attached(const struct hvconfig *cfg)
{
    return cfg->xen.iommu_sync;
}

/* Xen 4.17's VT-d driver coalesces and splits I/O superpages and frees the
 * tables an unmap empties (the pt-contig-markers series); 4.2's does none
 * of it. */
static void pv_iommu_driver(const struct hvconfig *cfg, struct vtd_domain *vd)
{
    const char *sp = cfg->xen.iommu_superpages;
    int v417 = !strcmp(cfg->xen.iommu_profile, "xen-4.17");
    vd->sp_level = !strcmp(sp, "2m") ? 2 : !strcmp(sp, "1g") || (!strcmp(sp, "auto") && v417) ? 3 : 1;
    vd->free_empty = v417;
}

static int pv_init(struct hv *h)
{
    struct xen *x = mv_calloc(1, sizeof *x);
    h->mode = x;
    x->h = h;
    x->mem = h->mem;
    x->st = h->st;
    x->cost = h->cost;
    x->cpu = h->cpu;
    x->dom = &h->dom;
    x->cfg = h->cfg->xen;
    x->flush_on_map = !strcmp(x->cfg.iommu_profile, "xen-4.2");
    x->xpti = xpti_mode(x->cfg.xpti);
    x->nframes = h->nframes;
    x->tlbclock = 1;
    x->cpu_flush_stamp = 1;
    sparse_init(&x->frames, x->nframes, sizeof(struct page_info));
    return 0;
}

static void pv_destroy(struct hv *h)
{
    struct xen *x = h->mode;
    if (!x)
        return;
    sparse_free(&x->frames);
    free(x);
    h->mode = NULL;
}

static void pv_booted(struct hv *h)
{
    struct xen *x = h->mode;
    x->flag_set = x->flag_skips = x->released = x->continuations = 0;
    x->xpti_copies = x->xpti_flushes = 0;
}

static int pv_mode_check(struct hv *h, char *msg, unsigned len)
{
    return pv_check(h->mode, msg, len);
}

static void pv_metrics(const void *ctx, struct mv_metrics *out)
{
    const struct xen *x = ctx;
    mv_metric_put(out, "xen_ptcache_flag_set", (double)x->flag_set);
    mv_metric_put(out, "xen_ptcache_flag_skips", (double)x->flag_skips);
    mv_metric_put(out, "xen_ptcache_released", (double)x->released);
    mv_metric_put(out, "xen_continuations", (double)x->continuations);
    if (x->xpti != XPTI_OFF) {   /* only then: results without XPTI stay as they were */
        mv_metric_put(out, "xen_xpti_l4_copies", (double)x->xpti_copies);
        mv_metric_put(out, "xen_xpti_flushes", (double)x->xpti_flushes);
    }
}

static void pv_instruments(struct hv *h, struct mv_instruments *in)
{
    mv_add_metrics(in, pv_metrics, h->mode);
}

#define PV_TRAPS                                                            \
    {                                                                       \
        .name = "xen-pv", .page_fault = pv_page_fault, .g2m = pv_g2m,       \
        .store_traps = pv_store_traps, .store = pv_store,                   \
        .write_cr3 = pv_write_cr3, .tlb_flush = pv_tlb_flush,               \
        .hypercall = pv_hypercall, .syscall = pv_syscall,                   \
    }

static const char *const xen_only[] = { "xen", NULL };   /* parameters only PV reads */

const struct paging_mode pm_pv = {
    .name = "pv",
    .doc = "Xen PV MMU: direct paging, page types, validation, pinning; IOMMU follows page types",
    .features = PM_PV_MMU,
    .iommu_attached = pv_iommu_attached,
    .iommu_driver = pv_iommu_driver,
    .init = pv_init,
    .destroy = pv_destroy,
    .booted = pv_booted,
    .check = pv_mode_check,
    .instruments = pv_instruments,
    .traps = PV_TRAPS,
    .params = xen_only,
};

const struct paging_mode pm_pv_pibooster = {
    .name = "pv-pibooster",
    .doc = "pv plus PiBooster: guest page-table cache pools and the hypervisor's cache flag",
    .features = PM_PV_MMU | PM_PTCACHE,
    .iommu_attached = pv_iommu_attached,
    .iommu_driver = pv_iommu_driver,
    .init = pv_init,
    .destroy = pv_destroy,
    .booted = pv_booted,
    .check = pv_mode_check,
    .instruments = pv_instruments,
    .traps = PV_TRAPS,
    .params = xen_only,
};

/* domain.c: building the hypervisor and its PV domain (Xen's domain builder
 * and start_info), machine memory, the p2m/m2p maps, the hypervisor's own
 * frame heap, and the trap handlers it installs on the vCPU (x86 PV traps:
 * faults bounced to the guest, writes to read-only page tables emulated,
 * privileged instructions emulated, hypercalls). */
#include "hv/xen.h"
#include "lib/err.h"
#include "lib/rng.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define XEN_RESERVED_EXTENTS 8     /* the first 16 MiB: Xen itself */

uint64_t xen_machine_frames(const struct hvconfig *cfg, uint64_t guest_frames)
{
    uint64_t mf = cfg->xen.machine_mb ? cfg->xen.machine_mb << (20 - PAGE_SHIFT) : 2 * guest_frames;
    uint64_t min = guest_frames + (uint64_t)(XEN_RESERVED_EXTENTS + 16) * 512;
    return mf < min ? min : mf;
}

/* Frames the I/O page tables of a 1:1 map of every guest frame take: an L1
 * per 2 MiB extent, an L2 per GiB of machine memory, the L3s and the root. */
uint64_t xen_io_table_frames(uint64_t machine_frames, uint64_t guest_extents)
{
    return guest_extents + 2 * ((machine_frames >> 18) + 1) + 4;
}

int xen_check_memory(const struct hvconfig *cfg, uint64_t guest_frames)
{
    uint64_t nframes = xen_machine_frames(cfg, guest_frames);
    uint64_t n_ext = guest_frames >> P2M_EXTENT_SHIFT;
    uint64_t spare_ext = (nframes >> P2M_EXTENT_SHIFT) - XEN_RESERVED_EXTENTS - n_ext;
    uint64_t heap_ext = n_ext / 64 + 16 < spare_ext ? n_ext / 64 + 16 : spare_ext;
    uint64_t need = xen_io_table_frames(nframes, n_ext);
    if (heap_ext * 512 >= need)
        return 0;
    return mv_error("--param xen.machine_mb=%llu: too small for a %llu MiB guest and Xen's I/O page "
                    "tables (need at least %llu MiB)", (unsigned long long)cfg->xen.machine_mb,
                    (unsigned long long)(guest_frames >> 8),
                    (unsigned long long)(((nframes + ((need + 511) / 512 - heap_ext) * 512) >> 8) + 2));
}

uint64_t pfn_to_mfn(const struct domain *d, uint64_t pfn)
{
    if (pfn >= d->nr_pages)
        return UINT64_MAX;
    return d->p2m_extent[pfn >> P2M_EXTENT_SHIFT] + (pfn & 511);
}

uint64_t mfn_to_pfn(const struct domain *d, uint64_t mfn)
{
    const uint64_t *e = sparse_peek(&d->m2p, mfn >> P2M_EXTENT_SHIFT);
    if (!e || !*e)
        return UINT64_MAX;
    return ((*e - 1) << P2M_EXTENT_SHIFT) + (mfn & 511);
}

static uint64_t si_m2p(const void *ctx, uint64_t mfn)
{
    return mfn_to_pfn(ctx, mfn);
}

/* The hypervisor's frame heap (I/O page tables). */
static uint64_t heap_alloc(void *ctx)
{
    struct xen *x = ctx;
    if (!x->nheap)
        return UINT64_MAX;
    uint64_t mfn = x->heap[--x->nheap];
    pmem_zero(x->mem, mfn);
    frame(x, mfn)->owner = DOMID_XEN;
    return mfn;
}

static void heap_free(void *ctx, uint64_t mfn)
{
    struct xen *x = ctx;
    pmem_zero(x->mem, mfn);
    if (x->nheap == x->capheap) {
        x->capheap = x->capheap ? 2 * x->capheap : 1024;
        x->heap = mv_realloc(x->heap, x->capheap * sizeof *x->heap);
    }
    x->heap[x->nheap++] = mfn;
}

/* ---- traps ---------------------------------------------------------------- */

static void transition(struct xen *x, uint64_t cycles)
{
    x->st->cnt[CNT_vm_exits]++;
    xen_charge(x, cycles);
}

static uint64_t pv_g2m(void *ctx, uint64_t gfn)
{
    struct xen *x = ctx;
    return pfn_to_mfn(&x->dom, gfn);
}

/* A guest store through its direct map traps when that mapping is read-only. */
static int pv_store_traps(void *ctx, uint64_t gfn)
{
    struct xen *x = ctx;
    uint64_t mfn = pfn_to_mfn(&x->dom, gfn);
    return mfn != UINT64_MAX && !(frame(x, mfn)->flags & PGF_dmap_rw);
}

/* ptwr: emulate a write to a read-only L1 with the checks of mmu_update.
 * Writes to other read-only pages are not emulated: the guest faults. */
static int pv_store(void *ctx, struct cpu *c, uint64_t gfn, unsigned idx, uint64_t val)
{
    struct xen *x = ctx;
    transition(x, x->cost->pv_emulate);
    uint64_t mfn = pfn_to_mfn(&x->dom, gfn);
    struct page_info *p = frame(x, mfn);
    if (p->type != PGT_l1 || !p->type_count || !(p->flags & PGF_validated))
        return -EFAULT;
    return mod_entry(x, &x->dom, mfn, 1, idx, val);
}

static int pv_page_fault(void *ctx, struct cpu *c, uint64_t va, uint32_t pfec)
{
    struct xen *x = ctx;
    transition(x, x->cost->pv_fault_bounce);   /* #PF -> Xen -> guest's handler */
    return 0;
}

/* MOV to CR3 from a PV kernel faults (#GP) and is emulated as NEW_BASEPTR. */
static int pv_write_cr3(void *ctx, struct cpu *c, uint64_t root, uint16_t pcid, int noflush)
{
    struct xen *x = ctx;
    transition(x, x->cost->pv_emulate);
    struct mmuext_op op = { .cmd = MMUEXT_NEW_BASEPTR, .mfn = pfn_to_mfn(&x->dom, root) };
    struct mmuext_args a = { &op, 1, 0 };
    long rc = do_mmuext_op(x, &a);
    MV_ASSERT(rc == 0, "emulated CR3 load failed (%ld)", rc);
    xen_return_to_guest(x);
    return 1;
}

static int pv_invlpg(void *ctx, struct cpu *c, uint64_t va)
{
    struct xen *x = ctx;
    transition(x, x->cost->pv_emulate);
    cpu_hw_invlpg(c, va, c->pcid);
    return 1;
}

static long pv_hypercall(void *ctx, struct cpu *c, unsigned nr, void *arg)
{
    struct xen *x = ctx;
    x->st->cnt[CNT_hypercalls]++;
    transition(x, x->cost->hypercall);
    long rc = xen_dispatch(x, nr, arg);
    while (rc == -ERESTART) {
        /* A hypercall continuation: the guest re-executes the call. */
        x->continuations++;
        transition(x, x->cost->hypercall);
        rc = xen_dispatch(x, nr, arg);
    }
    xen_return_to_guest(x);
    return rc;
}

const struct vmm_ops xen_pv_vmm_ops = {
    .name = "xen-pv",
    .page_fault = pv_page_fault,
    .g2m = pv_g2m,
    .store_traps = pv_store_traps,
    .store = pv_store,
    .write_cr3 = pv_write_cr3,
    .invlpg = pv_invlpg,
    .hypercall = pv_hypercall,
};

/* ---- build ---------------------------------------------------------------- */

int xen_create(struct xen *x, struct pmem *mem, struct cpu *cpu, struct mv_stats *st,
               const struct cost *cost, const struct hvconfig *cfg, uint64_t guest_frames,
               uint64_t seed)
{
    memset(x, 0, sizeof *x);
    x->mem = mem;
    x->st = st;
    x->cost = cost;
    x->cpu = cpu;
    x->cfg = cfg->xen;
    x->flush_on_map = !strcmp(cfg->xen.iommu_profile, "xen-4.2");
    x->nframes = mem->nframes;
    x->tlbclock = 1;
    x->cpu_flush_stamp = 1;
    sparse_init(&x->frames, x->nframes, sizeof(struct page_info));

    /* Domain memory: 2 MiB machine extents in a seeded random order, so
     * guest-physical and machine frames differ (as on a real host) and a
     * confusion of the two is caught by the oracle. */
    struct domain *d = &x->dom;
    d->id = DOMID_GUEST;
    d->nr_pages = guest_frames & ~511ull;
    d->n_extent = d->nr_pages >> P2M_EXTENT_SHIFT;
    uint64_t total_ext = x->nframes >> P2M_EXTENT_SHIFT;
    uint64_t avail = total_ext - XEN_RESERVED_EXTENTS;
    uint64_t *ext = mv_malloc(avail * sizeof *ext);
    for (uint64_t i = 0; i < avail; i++)
        ext[i] = XEN_RESERVED_EXTENTS + i;
    rng_t r;
    rng_seed(&r, seed, 0x78656e);
    for (uint64_t i = avail - 1; i > 0; i--) {
        uint64_t j = rng_below(&r, i + 1), t = ext[i];
        ext[i] = ext[j];
        ext[j] = t;
    }
    d->p2m_extent = mv_malloc(d->n_extent * sizeof *d->p2m_extent);
    sparse_init(&d->m2p, total_ext, sizeof(uint64_t));
    for (uint64_t i = 0; i < d->n_extent; i++) {
        d->p2m_extent[i] = ext[i] << P2M_EXTENT_SHIFT;
        *(uint64_t *)sparse_get(&d->m2p, ext[i]) = i + 1;
    }
    /* Xen's heap: one spare extent's worth of frames per 64 guest extents,
     * at least 16 extents, taken from the remaining ones. */
    uint64_t heap_ext = d->n_extent / 64 + 16;
    if (heap_ext > avail - d->n_extent)
        heap_ext = avail - d->n_extent;
    MV_ASSERT(heap_ext * 512 >= xen_io_table_frames(x->nframes, d->n_extent),
              "Xen's heap cannot hold the I/O page tables (checked by xen_check_memory)");
    for (uint64_t i = 0; i < heap_ext; i++)
        for (uint64_t f = 0; f < 512; f++)
            heap_free(x, (ext[d->n_extent + i] << P2M_EXTENT_SHIFT) + 511 - f);
    free(ext);

    /* The IOMMU, the domain's I/O page tables, its two passthrough devices,
     * and every writable frame mapped 1:1 (iommu_populate_page_table, one
     * flush at the end). */
    if (iommu_init(&x->iommu, mem, st, cost, &cfg->iommu))
        return mv_error("--param iommu.*: invalid IOMMU configuration");
    if (vtd_domain_init(&d->vtd, &x->iommu, d->id, heap_alloc, heap_free, x))
        return mv_error("xen: no memory for the IOMMU root table");
    dma_dev_init(&x->nic, &x->iommu, 1, "nic");
    dma_dev_init(&x->disk, &x->iommu, 2, "disk");
    vtd_assign_device(&d->vtd, x->nic.id);
    vtd_assign_device(&d->vtd, x->disk.id);
    d->iommu_attached = x->cfg.iommu_sync;
    if (d->iommu_attached) {
        for (uint64_t pfn = 0; pfn < d->nr_pages; pfn++) {
            uint64_t mfn = pfn_to_mfn(d, pfn);
            vtd_map_page(&d->vtd, mfn, mfn, 1);
        }
        iommu_invalidate(&x->iommu, INV_DSI, d->id, 0, 0);
    }

    x->si.nr_pages = d->nr_pages;
    x->si.p2m_extent = d->p2m_extent;
    x->si.m2p = si_m2p;
    x->si.m2p_ctx = d;
    cpu->vmm = &xen_pv_vmm_ops;
    cpu->vmm_ctx = x;
    cpu->pcid_enabled = 0;
    return 0;
}

void xen_destroy(struct xen *x)
{
    dma_dev_destroy(&x->nic);
    dma_dev_destroy(&x->disk);
    vtd_domain_destroy(&x->dom.vtd);
    iommu_destroy(&x->iommu);
    free(x->dom.p2m_extent);
    sparse_free(&x->dom.m2p);
    sparse_free(&x->frames);
    free(x->heap);
}

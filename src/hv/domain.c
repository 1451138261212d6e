/* domain.c: building the hypervisor and its guest domain, the same way for
 * every paging mode (Xen's domain builder: memory, p2m/m2p, the
 * hypervisor's frame heap; the IOMMU with the domain's passthrough devices).
 * Then the paging mode is initialised and its traps installed on the vCPU. */
#include "hv/hv.h"
#include "hv/paging.h"
#include "lib/err.h"
#include "lib/rng.h"
#include "hv/public/xen.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RESERVED_EXTENTS 8     /* the first 16 MiB: the hypervisor itself */

/* Frames the I/O page tables of a 1:1 map of every guest frame take: an L1
 * per 2 MiB extent, an L2 per GiB of machine memory, the L3s and the root. */
static uint64_t io_table_frames(uint64_t machine_frames, uint64_t guest_extents)
{
    return guest_extents + 2 * ((machine_frames >> 18) + 1) + 4;
}

static uint64_t heap_need(const struct hvconfig *cfg, const struct paging_mode *pm, uint64_t nframes,
                          uint64_t n_ext)
{
    uint64_t need = pm->heap_frames ? pm->heap_frames(cfg, n_ext << P2M_EXTENT_SHIFT) : 0;
    if (pm->iommu_attached(cfg))
        need += io_table_frames(nframes, n_ext);
    return need;
}

/* Heap extents: one per 64 guest extents plus 16, or what the mode and the
 * I/O tables need if that is more; at most what is spare. */
static uint64_t heap_extents(const struct hvconfig *cfg, const struct paging_mode *pm, uint64_t nframes,
                             uint64_t n_ext)
{
    uint64_t spare = (nframes >> P2M_EXTENT_SHIFT) - RESERVED_EXTENTS - n_ext;
    uint64_t want = n_ext / 64 + 16, need = (heap_need(cfg, pm, nframes, n_ext) + 511) / 512;
    if (need > want)
        want = need;
    return want < spare ? want : spare;
}

uint64_t hv_machine_frames(const struct hvconfig *cfg, const struct paging_mode *pm, uint64_t guest_frames)
{
    uint64_t mf = cfg->hv.machine_mb ? cfg->hv.machine_mb << (20 - PAGE_SHIFT) : 2 * guest_frames;
    uint64_t min = guest_frames + (uint64_t)(RESERVED_EXTENTS + 16) * 512;
    return mf < min ? min : mf;
}

static int memory_fits(const struct hvconfig *cfg, const struct paging_mode *pm, uint64_t guest_frames)
{
    uint64_t nframes = hv_machine_frames(cfg, pm, guest_frames);
    uint64_t n_ext = guest_frames >> P2M_EXTENT_SHIFT;
    return heap_extents(cfg, pm, nframes, n_ext) * 512 >= heap_need(cfg, pm, nframes, n_ext);
}

static uint64_t mib_up(uint64_t frames) { return (frames + 255) >> 8; }

int hv_check_memory(const struct hvconfig *cfg, const struct paging_mode *pm, uint64_t guest_frames)
{
    if (memory_fits(cfg, pm, guest_frames))
        return 0;
    uint64_t nframes = hv_machine_frames(cfg, pm, guest_frames);
    uint64_t n_ext = guest_frames >> P2M_EXTENT_SHIFT;
    /* The least machine that holds it: the reserved extents, the guest's
     * and the heap's (the I/O tables grow with the machine, so again until
     * it fits). */
    struct hvconfig c = *cfg;
    c.hv.machine_mb = 2 * (RESERVED_EXTENTS + n_ext + (heap_need(cfg, pm, nframes, n_ext) + 511) / 512);
    while (!memory_fits(&c, pm, guest_frames))
        c.hv.machine_mb += 2;
    uint64_t mframes = c.hv.machine_mb << (20 - PAGE_SHIFT);
    uint64_t own = pm->heap_frames ? pm->heap_frames(cfg, n_ext << P2M_EXTENT_SHIFT) : 0;
    uint64_t io = heap_need(&c, pm, mframes, n_ext) - own;
    /* What sizes the mode's own frames, among the parameters it reads */
    char setting[96] = "", sdoc[128] = "", parts[512];
    for (const char *const *g = pm->params; g && *g && !*setting; g++)
        hvconfig_heap_setting(cfg, *g, setting, sizeof setting, sdoc, sizeof sdoc);
    int n = snprintf(parts, sizeof parts, "%llu MiB for the guest (guest.ram_mb), %d MiB for the hypervisor itself",
                     (unsigned long long)(guest_frames >> 8), RESERVED_EXTENTS * 2);
    if (own)
        n += snprintf(parts + n, sizeof parts - (size_t)n, ", %llu MiB for the %s hypervisor's own frames%s%s",
                      (unsigned long long)mib_up(own), pm->name, *sdoc ? ", among them " : "", sdoc);
    if (io)
        snprintf(parts + n, sizeof parts - (size_t)n, ", %llu MiB for I/O page tables", (unsigned long long)mib_up(io));
    if (cfg->hv.machine_mb)   /* the user's machine size is the one at fault */
        return mv_error("--param hv.machine_mb=%llu: too small: the machine needs at least %llu MiB: %s",
                        (unsigned long long)cfg->hv.machine_mb, (unsigned long long)c.hv.machine_mb, parts);
    /* the machine is sized automatically: what made the mode's share too large is at fault */
    return mv_error("--param %s: the machine needs at least %llu MiB: %s; hv.machine_mb=0 gives only %llu MiB "
                    "(0: twice the guest's RAM): give hv.machine_mb=%llu or more%s%.*s",
                    *setting ? setting : "hv.machine_mb=0", (unsigned long long)c.hv.machine_mb, parts,
                    (unsigned long long)(nframes >> 8), (unsigned long long)c.hv.machine_mb,
                    *setting ? ", or a smaller " : "", (int)strcspn(setting, "="), setting);
}

/* Heap extents are marked in the m2p with a value no domain extent has. */
#define M2P_HEAP UINT64_MAX

uint64_t mfn_to_pfn(const struct domain *d, uint64_t mfn)
{
    const uint64_t *e = sparse_peek(&d->m2p, mfn >> P2M_EXTENT_SHIFT);
    if (!e || !*e || *e == M2P_HEAP)
        return UINT64_MAX;
    return ((*e - 1) << P2M_EXTENT_SHIFT) + (mfn & 511);
}

/* ---- the hypervisor's frame heap ---------------------------------------- */

uint64_t hv_alloc_frame(struct hv *h)
{
    if (!hv_heap_available(h))
        return UINT64_MAX;
    struct hv_heap_run *top = &h->heap[h->nruns - 1];
    uint64_t mfn = top->first++;
    if (!--top->n)
        h->nruns--;
    h->nheap--;
    pmem_zero(h->mem, mfn);
    if (++h->heap_used > h->heap_max)
        h->heap_max = h->heap_used;
    return mfn;
}

int hv_reserve_frames(struct hv *h, uint64_t n)
{
    if (hv_heap_available(h) < n)
        return -1;
    h->heap_reserved += n;
    h->heap_used += n;
    if (h->heap_used > h->heap_max)
        h->heap_max = h->heap_used;
    return 0;
}

uint64_t hv_alloc_reserved_frame(struct hv *h)
{
    if (!h->heap_reserved)
        return UINT64_MAX;
    hv_unreserve_frames(h, 1);     /* counted again as hv_alloc_frame takes it */
    return hv_alloc_frame(h);
}

void hv_unreserve_frames(struct hv *h, uint64_t n)
{
    MV_ASSERT(n <= h->heap_reserved, "unreserving %llu heap frames of %llu", (unsigned long long)n,
              (unsigned long long)h->heap_reserved);
    h->heap_reserved -= n;
    h->heap_used -= n;
}

/* Push mfn: it is handed out next. The frame just below the top run's
 * first joins that run (the order frames come out in is the same). */
static void heap_put(struct hv *h, uint64_t mfn)
{
    h->nheap++;
    if (h->nruns && h->heap[h->nruns - 1].first == mfn + 1) {
        h->heap[h->nruns - 1].first = mfn;
        h->heap[h->nruns - 1].n++;
        return;
    }
    if (h->nruns == h->capruns) {
        h->capruns = h->capruns ? 2 * h->capruns : 64;
        h->heap = mv_realloc(h->heap, h->capruns * sizeof *h->heap);
    }
    h->heap[h->nruns++] = (struct hv_heap_run){ mfn, 1 };
}

uint64_t hv_heap_free_frame(const struct hv *h, uint64_t i)
{
    MV_ASSERT(i < h->nheap, "free heap frame %llu of %llu", (unsigned long long)i, (unsigned long long)h->nheap);
    const struct hv_heap_run *r = h->heap;
    while (i >= r->n)
        i -= r++->n;
    return r->first + r->n - 1 - i;   /* a run's bottom frame is its last */
}

void hv_free_frame(struct hv *h, uint64_t mfn)
{
    MV_ASSERT(h->heap_used > 0 && hv_heap_frame(h, mfn), "freeing frame %#llx, not the hypervisor's",
              (unsigned long long)mfn);
    pmem_zero(h->mem, mfn);
    h->heap_used--;
    heap_put(h, mfn);
}

static uint64_t si_m2p(const void *ctx, uint64_t mfn)
{
    return mfn_to_pfn(ctx, mfn);
}

int hv_heap_frame(const struct hv *h, uint64_t mfn)
{
    const uint64_t *e = sparse_peek(&h->dom.m2p, mfn >> P2M_EXTENT_SHIFT);
    return e && *e == M2P_HEAP;
}

static uint64_t vtd_alloc(void *ctx) { return hv_alloc_frame(ctx); }
static void vtd_free(void *ctx, uint64_t mfn) { hv_free_frame(ctx, mfn); }

/* ---- build ---------------------------------------------------------------- */

int hv_create(struct hv *h, struct pmem *mem, struct cpu *cpu, struct mv_stats *st, const struct cost *cost,
              const struct hvconfig *cfg, const struct paging_mode *pm, uint64_t guest_frames, uint64_t seed)
{
    memset(h, 0, sizeof *h);
    h->mem = mem;
    h->st = st;
    h->cost = cost;
    h->cpu = cpu;
    h->cfg = cfg;
    h->pm = pm;
    h->nframes = mem->nframes;

    /* Domain memory: 2 MiB machine extents in a seeded random order, so
     * guest-physical and machine frames differ (as on a real host) and a
     * confusion of the two is caught by the oracle. */
    struct domain *d = &h->dom;
    d->id = DOMID_GUEST;
    d->vtd.root = UINT64_MAX;   /* no I/O tables yet: hv_destroy after a build that failed skips them */
    d->nr_pages = guest_frames & ~511ull;
    d->n_extent = d->nr_pages >> P2M_EXTENT_SHIFT;
    uint64_t total_ext = h->nframes >> P2M_EXTENT_SHIFT;
    uint64_t avail = total_ext - RESERVED_EXTENTS;
    uint64_t *ext = mv_malloc(avail * sizeof *ext);
    for (uint64_t i = 0; i < avail; i++)
        ext[i] = RESERVED_EXTENTS + i;
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
    uint64_t heap_ext = heap_extents(cfg, pm, h->nframes, d->n_extent);
    MV_ASSERT(heap_ext * 512 >= heap_need(cfg, pm, h->nframes, d->n_extent),
              "the hypervisor's heap is too small (checked by hv_check_memory)");
    for (uint64_t i = 0; i < heap_ext; i++) {
        *(uint64_t *)sparse_get(&d->m2p, ext[d->n_extent + i]) = M2P_HEAP;
        for (uint64_t f = 0; f < 512; f++)
            heap_put(h, (ext[d->n_extent + i] << P2M_EXTENT_SHIFT) + 511 - f);
    }
    free(ext);

    /* The IOMMU, the domain's I/O page tables and its two passthrough
     * devices; every guest frame mapped (iommu_populate_page_table, one
     * flush at the end): PV devices see machine addresses (dfn = mfn), HVM
     * devices guest-physical ones (dfn = gfn). The paging mode may change
     * the mappings later (PV: with page types). */
    for (unsigned u = 0; u < hv_iommu_units(h); u++)
        if (iommu_init(hv_iommu_unit(h, u), mem, st, cost, &cfg->iommu))
            return hvconfig_validate_iommu(&cfg->iommu) ? -1
                                                        : mv_error("--param iommu.*: invalid IOMMU configuration");
    if (vtd_domain_init(&d->vtd, &h->iommu, d->id, vtd_alloc, vtd_free, h))
        return mv_error("hv: no memory for the IOMMU root table");
    struct iommu *disk_unit = hv_iommu_unit(h, hv_iommu_units(h) - 1);
    dma_dev_init(&h->nic, &h->iommu, 1, "nic");
    dma_dev_init(&h->disk, disk_unit, 2, "disk");
    vtd_assign_device(&d->vtd, &h->iommu, h->nic.id);
    vtd_assign_device(&d->vtd, disk_unit, h->disk.id);
    if (pm->iommu_driver)
        pm->iommu_driver(cfg, &d->vtd);
    d->iommu_attached = pm->iommu_attached(cfg);
    if (d->iommu_attached) {
        /* extent by extent, in pfn order: the tables are built as a page
         * by page map would, but each L1 stays unbacked until it changes */
        for (uint64_t pfn = 0; pfn < d->nr_pages; pfn += 512) {
            uint64_t mfn = pfn_to_mfn(d, pfn);
            vtd_map_extent(&d->vtd, pm->dfn_is_gfn ? pfn : mfn, mfn, 1);
        }
        vtd_flush_domain(&d->vtd);
    }

    /* start_info: the guest's size, its p2m, a read-only view of the m2p. */
    d->si.nr_pages = d->nr_pages;
    d->si.p2m_extent = d->p2m_extent;
    d->si.m2p = si_m2p;
    d->si.m2p_ctx = d;

    cluster_init(&h->cl, &cfg->clustering);
    if (pm->init && pm->init(h))
        return -1;
    cpu->vmm = &pm->traps;
    cpu->vmm_ctx = h;
    return 0;
}

void hv_destroy(struct hv *h)
{
    if (h->pm && h->pm->destroy)
        h->pm->destroy(h);
    dma_dev_destroy(&h->nic);
    dma_dev_destroy(&h->disk);
    vtd_domain_destroy(&h->dom.vtd);
    iommu_destroy(&h->iommu);
    iommu_destroy(&h->iommu_unit1);
    free(h->dom.p2m_extent);
    sparse_free(&h->dom.m2p);
    free(h->heap);
    cluster_destroy(&h->cl);
    h->cpu->vmm = NULL;
    h->cpu->vmm_ctx = NULL;
}

void hv_booted(struct hv *h)
{
    h->next_dma = 0;
    dma_queue_free(&h->nic.q);   /* the run's clock starts at 0 */
    dma_queue_free(&h->disk.q);
    if (h->pm->booted)
        h->pm->booted(h);
    cluster_reset(&h->cl);   /* the run's counters start now */
}

void domain_crash(struct hv *h, const char *fmt, ...)
{
    if (h->dom.crashed[0])
        return;                        /* the first reason stands */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(h->dom.crashed, sizeof h->dom.crashed, fmt, ap);
    va_end(ap);
    h->cpu->offline = 1;
}

int hv_check(struct hv *h, char *msg, unsigned len)
{
    if (h->cfg->clustering.enable && cluster_check(&h->cl, h->st, msg, len))
        return -1;
    return h->pm->check ? h->pm->check(h, msg, len) : 0;
}

static double g_heap_used(const void *ctx) { return (double)((const struct hv *)ctx)->heap_used; }

static void hv_metrics(const void *ctx, struct mv_metrics *out)
{
    const struct hv *h = ctx;
    mv_metric_put(out, "hv_heap_max_frames", (double)h->heap_max);
    if (h->dom.iommu_attached)
        mv_metric_put(out, "iommu_table_pages", (double)h->dom.vtd.table_pages);
    if (h->nic.pages)
        mv_metric_put(out, "nic_device_us_per_page", cost_us(h->cost, h->nic.busy_cycles) / (double)h->nic.pages);
    if (h->nic.faults + h->disk.faults)
        mv_metric_put(out, "dma_blocked_pages", (double)(h->nic.faults + h->disk.faults));
}

void hv_instruments(struct hv *h, struct mv_instruments *in)
{
    h->timeline = &in->timeline;
    mv_add_gauge(in, "hv_heap_frames", g_heap_used, h);
    if (h->pm->instruments)
        h->pm->instruments(h, in);
    mv_add_metrics(in, hv_metrics, h);
    if (h->cfg->clustering.enable)
        cluster_instruments(&h->cl, in);
}

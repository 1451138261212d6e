/* mode_pv.c: Xen paravirtualized guests.
 *   pv            the guest's page tables hold machine frames and are
 *                 validated by Xen (types, pinning, hypercalls); with a
 *                 passthrough device the IOMMU follows page types.
 *   pv-pibooster  pv plus PiBooster: the guest's page-table cache and the
 *                 hypervisor's cache flag.
 * Machine memory is larger than the guest's (Xen's heap, other domains), and
 * the guest's frames are scattered over it in 2 MiB extents. */
#include "guest/ptcache.h"
#include "guest/pvops_xen.h"
#include "hv/xen.h"
#include "lib/err.h"
#include "sim/machine.h"
#include <stdlib.h>
#include <string.h>

static int pv_setup_common(struct machine *m)
{
    const struct sim_config *cfg = m->cfg;
    uint64_t guest_frames = cfg->guest.ram_mb << (20 - PAGE_SHIFT);
    pmem_destroy(&m->mem);
    pmem_init(&m->mem, xen_machine_frames(&cfg->hv, guest_frames));
    struct xen *x = mv_calloc(1, sizeof *x);
    m->hv = x;
    if (xen_create(x, &m->mem, &m->cpu, &m->st, &cfg->cost, &cfg->hv, guest_frames, cfg->seed))
        return -1;
    m->pv = &pv_xen_ops;
    m->pv_ctx = pv_xen_create(&x->si, cfg->hv.xen.user_pgd);
    return 0;
}

static int pv_setup(struct machine *m)
{
    return pv_setup_common(m);
}

static int pibooster_setup(struct machine *m)
{
    m->kcfg.pt_cache = 1;
    return pv_setup_common(m);
}

static void pv_teardown(struct machine *m)
{
    struct xen *x = m->hv;
    if (x) {
        xen_destroy(x);
        free(x);
    }
    if (m->pv_ctx)
        pv_xen_destroy(m->pv_ctx);
    m->hv = NULL;
    m->pv_ctx = NULL;
}

/* The drivers give each device its buffers: a NIC receive and transmit
 * ring, a disk request ring. */
#define DISK_RING 64
static void pv_booted(struct machine *m)
{
    struct xen *x = m->hv;
    unsigned nic = (unsigned)x->cfg.nic_ring;
    uint64_t *bus = mv_malloc((nic > DISK_RING ? nic : DISK_RING) * sizeof *bus);
    kernel_dma_buffers(&m->k, nic, bus);
    dma_set_ring(&x->nic.rx, bus, nic);
    kernel_dma_buffers(&m->k, nic, bus);
    dma_set_ring(&x->nic.tx, bus, nic);
    kernel_dma_buffers(&m->k, DISK_RING, bus);
    dma_set_ring(&x->disk.rx, bus, DISK_RING);
    dma_set_ring(&x->disk.tx, bus, DISK_RING);
    free(bus);
    x->next_dma = 0;
    /* The run measures the workload: forget what booting did. */
    x->flag_set = x->flag_skips = x->released = x->continuations = 0;
}

static uint64_t transfer(struct machine *m, struct dma_dev *d, uint64_t bytes, int write)
{
    uint64_t pages0 = d->pages, bytes0 = d->bytes;
    uint64_t busy = dma_transfer(d, write ? &d->rx : &d->tx, bytes, write);
    m->st.cnt[CNT_dma_pages] += d->pages - pages0;
    m->st.cnt[CNT_dma_bytes] += d->bytes - bytes0;
    return busy;
}

static uint64_t pv_dma(struct machine *m, const char *dev, uint64_t bytes, int write)
{
    struct xen *x = m->hv;
    struct dma_dev *d = !strcmp(dev, "disk") ? &x->disk : &x->nic;
    return transfer(m, d, bytes, write);
}

/* Background traffic (xen.nic_mbps, xen.disk_mbps): every dma_period_us of
 * simulated time the NIC receives and the disk reads/writes their share. */
static void pv_devices(struct machine *m, uint64_t now)
{
    struct xen *x = m->hv;
    if (!x->cfg.nic_mbps && !x->cfg.disk_mbps)
        return;
    const struct cost *c = &m->cfg->cost;
    uint64_t period = (uint64_t)((double)x->cfg.dma_period_us * c->clock_ghz * 1e3);
    while (x->next_dma + period <= now) {
        x->next_dma += period;
        double secs = (double)x->cfg.dma_period_us / 1e6;
        if (x->cfg.nic_mbps)
            transfer(m, &x->nic, (uint64_t)((double)x->cfg.nic_mbps * 1e6 / 8 * secs), 1);
        if (x->cfg.disk_mbps)
            transfer(m, &x->disk, (uint64_t)((double)x->cfg.disk_mbps * 1e6 / 8 * secs), x->disk_dir ^= 1);
    }
}

static int pv_mode_check(struct machine *m, char *msg, unsigned len)
{
    return pv_check(m->hv, msg, len);
}

static void put_metric(struct metric *out, unsigned *n, unsigned max, const char *name, double v)
{
    if (*n >= max)
        return;
    snprintf(out[*n].name, sizeof out[*n].name, "%s", name);
    out[*n].value = v;
    (*n)++;
}

static void pv_metrics(struct machine *m, struct metric *out, unsigned *n, unsigned max)
{
    struct xen *x = m->hv;
    put_metric(out, n, max, "xen_ptcache_flag_set", (double)x->flag_set);
    put_metric(out, n, max, "xen_ptcache_flag_skips", (double)x->flag_skips);
    put_metric(out, n, max, "xen_ptcache_released", (double)x->released);
    put_metric(out, n, max, "xen_continuations", (double)x->continuations);
    put_metric(out, n, max, "iommu_table_pages", (double)x->dom.vtd.table_pages);
    if (x->nic.pages)
        put_metric(out, n, max, "nic_device_us_per_page", cost_us(&m->cfg->cost, x->nic.busy_cycles) / (double)x->nic.pages);
    if (x->nic.faults + x->disk.faults)
        put_metric(out, n, max, "dma_blocked_pages", (double)(x->nic.faults + x->disk.faults));
}

/* guest.pt_cache under pv would be pv-pibooster without the hypervisor's half. */
static int pv_validate(const struct sim_config *cfg)
{
    if (cfg->guest.pt_cache)
        return mv_error("--param guest.pt_cache=true: mode pv has no page-table cache (only pv-pibooster sets it)");
    return 0;
}

const struct mode_def mode_pv = {
    .validate = pv_validate,
    .booted = pv_booted,
    .dma = pv_dma,
    .devices = pv_devices,
    .name = "pv",
    .doc = "Xen PV MMU: direct paging, page types, validation, pinning; IOMMU follows page types",
    .setup = pv_setup,
    .teardown = pv_teardown,
    .check = pv_mode_check,
    .metrics = pv_metrics,
};

const struct mode_def mode_pv_pibooster = {
    .booted = pv_booted,
    .dma = pv_dma,
    .devices = pv_devices,
    .name = "pv-pibooster",
    .doc = "pv plus PiBooster: guest page-table cache pools and the hypervisor's cache flag",
    .setup = pibooster_setup,
    .teardown = pv_teardown,
    .check = pv_mode_check,
    .metrics = pv_metrics,
};

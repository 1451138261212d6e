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
}

const struct mode_def mode_pv = {
    .name = "pv",
    .doc = "Xen PV MMU: direct paging, page types, validation, pinning; IOMMU follows page types",
    .setup = pv_setup,
    .teardown = pv_teardown,
    .check = pv_mode_check,
    .metrics = pv_metrics,
};

const struct mode_def mode_pv_pibooster = {
    .name = "pv-pibooster",
    .doc = "pv plus PiBooster: guest page-table cache pools and the hypervisor's cache flag",
    .setup = pibooster_setup,
    .teardown = pv_teardown,
    .check = pv_mode_check,
    .metrics = pv_metrics,
};

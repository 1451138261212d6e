/* machine.c: building and tearing down a machine (see machine.h). */
#include "sim/machine.h"
#include "guest/ptcache.h"
#include "guest/pvops_xen.h"
#include "guest/sites.h"
#include "hv/paging.h"
#include "lib/err.h"
#include <stdlib.h>
#include <string.h>

/* The drivers give each device its buffers: a NIC receive and transmit
 * ring, a disk request ring. A native Linux's drivers hold the same
 * buffers, so they come out of guest RAM in every mode (the same
 * guest.ram_mb leaves the same memory to the workload); only a hypervisor
 * is told where they are (to map them for its devices). */
#define DISK_RING 64
static void give_rings(struct machine *m)
{
    unsigned nic = (unsigned)m->cfg->hv.hv.nic_ring;
    uint64_t *rx = mv_malloc(nic * sizeof *rx), *tx = mv_malloc(nic * sizeof *tx);
    uint64_t disk[DISK_RING];
    kernel_dma_buffers(&m->k, nic, rx);
    kernel_dma_buffers(&m->k, nic, tx);
    kernel_dma_buffers(&m->k, DISK_RING, disk);
    if (m->hv)
        hv_set_rings(m->hv, rx, tx, nic, disk, DISK_RING);
    free(rx);
    free(tx);
}

uint64_t machine_frames(const struct sim_config *cfg, const struct mode_def *mode)
{
    uint64_t guest_frames = (cfg->guest.ram_mb << (20 - PAGE_SHIFT)) & ~511ull;
    return mode->pm ? hv_machine_frames(&cfg->hv, mode->pm, guest_frames) : guest_frames;
}

int machine_init(struct machine *m, const struct sim_config *cfg, const struct mode_def *mode)
{
    memset(m, 0, sizeof *m);
    m->mode = mode;
    m->cfg = cfg;
    const struct paging_mode *pm = mode->pm;
    uint64_t guest_frames = (cfg->guest.ram_mb << (20 - PAGE_SHIFT)) & ~511ull;
    pmem_init(&m->mem, machine_frames(cfg, mode));
    if (cpu_init(&m->cpu, 0, &m->mem, &m->st, &cfg->cost, &cfg->tlb, &cfg->dcache))
        return config_validate_caches(cfg) ? -1 : mv_error("--param tlb.* / cache.*: invalid TLB or cache geometry");
    m->pv = &pv_native_ops;
    m->kcfg = cfg->guest;
    if (pm) {
        m->hv = mv_calloc(1, sizeof *m->hv);
        if (hv_create(m->hv, &m->mem, &m->cpu, &m->st, &cfg->cost, &cfg->hv, pm, guest_frames, cfg->seed))
            return -1;
        hv_set_site_names(m->hv, guest_site_names, SITE__N);
        if (pm->features & PM_PV_MMU) {
            m->pv = &pv_xen_ops;
            m->pv_ctx = pv_xen_create(&m->hv->dom.si, cfg->hv.xen.user_pgd);
        }
        m->kcfg.ptcache_offered = (pm->features & PM_PTCACHE) != 0;
    }
    if (kernel_boot(&m->k, &m->kcfg, &m->cpu, &m->st, &cfg->cost, m->pv, m->pv_ctx))
        return -1;
    m->booted = 1;
    kernel_instruments(&m->k, &m->ins);
    give_rings(m);
    if (m->hv) {
        hv_booted(m->hv);
        hv_instruments(m->hv, &m->ins);
    }
    /* The run measures the workload: boot work is not counted. */
    memset(&m->st, 0, sizeof m->st);
    return 0;
}

int machine_destroy(struct machine *m)
{
    int rc = 0;
    if (m->booted) {
        if (!(m->failed && m->cpu.offline))   /* a run whose domain crashed: its guest runs no more */
            ptcache_disable(&m->k);
        uint64_t leaked = kernel_shutdown(&m->k);
        if (leaked && m->cfg->check && !m->failed)   /* after a failure, the first error stands */
            rc = mv_error("--check: %llu guest frames were never given back to the allocator",
                          (unsigned long long)leaked);
    }
    if (m->hv) {
        hv_destroy(m->hv);
        free(m->hv);
        m->hv = NULL;
    }
    if (m->pv_ctx)
        pv_xen_destroy(m->pv_ctx);
    m->pv_ctx = NULL;
    mv_instruments_free(&m->ins);
    dma_queue_free(&m->native_dma[0]);
    dma_queue_free(&m->native_dma[1]);
    cpu_destroy(&m->cpu);
    pmem_destroy(&m->mem);
    return rc;
}

uint64_t machine_p2m(const struct machine *m, uint64_t gfn)
{
    if (!m->hv)
        return gfn < m->mem.nframes ? gfn : UINT64_MAX;
    return pfn_to_mfn(&m->hv->dom, gfn);
}

int machine_check(struct machine *m, char *msg, unsigned len)
{
    return m->hv ? hv_check(m->hv, msg, len) : 0;
}

uint64_t machine_dma(struct machine *m, const char *dev, uint64_t bytes, int write)
{
    if (m->hv)
        return hv_dma(m->hv, dev, bytes, write);
    /* No IOMMU: the device reaches memory directly, on its own timeline
     * as behind one (hv/devices.c). */
    uint64_t pages = (bytes + PAGE_SIZE - 1) >> PAGE_SHIFT, busy = pages * m->cfg->cost.dma_page;
    m->st.cnt[CNT_dma_pages] += pages;
    m->st.cnt[CNT_dma_bytes] += bytes;
    dma_queue_add(machine_dma_queue(m, !strcmp(dev, "disk")), m->st.now, busy, bytes);
    return busy;
}

void machine_devices(struct machine *m, uint64_t now)
{
    if (m->hv)
        hv_tick(m->hv, now);
    dma_queue_retire(&m->native_dma[0], now);
    dma_queue_retire(&m->native_dma[1], now);
}

struct dma_queue *machine_dma_queue(struct machine *m, int disk)
{
    if (m->hv)
        return disk ? &m->hv->disk.q : &m->hv->nic.q;
    return &m->native_dma[disk != 0];
}

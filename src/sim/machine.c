/* machine.c: building and tearing down a machine (see machine.h). */
#include "sim/machine.h"
#include "guest/ptcache.h"
#include "lib/err.h"
#include <string.h>

const char *const gauge_names[NGAUGES] = {
    "tasks", "data_pages", "pt_pages", "ptcache_pool_l1", "ptcache_pool_l2",
    "ptcache_pool_l3", "ptcache_pool_l4", "ptcache_pool",
};

int machine_init(struct machine *m, const struct sim_config *cfg, const struct mode_def *mode)
{
    memset(m, 0, sizeof *m);
    m->mode = mode;
    m->cfg = cfg;
    uint64_t guest_frames = cfg->guest.ram_mb << (20 - PAGE_SHIFT);
    pmem_init(&m->mem, guest_frames);
    if (cpu_init(&m->cpu, 0, &m->mem, &m->st, &cfg->cost, &cfg->tlb, &cfg->dcache))
        return mv_error("--param tlb.* / cache.*: invalid TLB or cache geometry");
    m->pv = &pv_native_ops;
    m->kcfg = cfg->guest;
    if (mode->setup && mode->setup(m))
        return -1;
    if (kernel_boot(&m->k, &m->kcfg, &m->cpu, &m->st, &cfg->cost, m->pv, m->pv_ctx))
        return -1;
    m->booted = 1;
    if (mode->booted)
        mode->booted(m);
    /* The run measures the workload: boot work is not counted. */
    memset(&m->st, 0, sizeof m->st);
    return 0;
}

int machine_destroy(struct machine *m)
{
    int rc = 0;
    if (m->booted) {
        ptcache_disable(&m->k);
        uint64_t leaked = kernel_shutdown(&m->k);
        if (leaked && m->cfg->check)
            rc = mv_error("--check: %llu guest frames were never given back to the allocator",
                          (unsigned long long)leaked);
    }
    if (m->mode->teardown)
        m->mode->teardown(m);
    cpu_destroy(&m->cpu);
    pmem_destroy(&m->mem);
    return rc;
}

void machine_gauges(struct machine *m, double *g)
{
    struct kernel *k = &m->k;
    uint64_t pt = k->init_mm.pt_pages;
    for (unsigned h = 0; h < TASK_HASH; h++)
        for (struct task *t = k->tasks[h]; t; t = t->next)
            if (t->mm)
                pt += t->mm->pt_pages;   /* an mm shared by tasks is counted per task */
    g[0] = k->ntasks;
    g[1] = (double)k->data_pages;
    g[2] = (double)pt;
    for (unsigned l = 1; l <= 4; l++)
        g[2 + l] = (double)ptcache_pool_size(k, l);
    g[7] = (double)ptcache_pool_size(k, 0);
    if (m->mode->gauges)
        m->mode->gauges(m, g);
}

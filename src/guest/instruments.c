/* instruments.c: what the guest kernel shows over time (tasks, data pages,
 * page-table pages) and, when the hypervisor offers PiBooster's cache
 * flag, the cache's pools, controls and metrics. */
#include "guest/kernel.h"
#include "guest/ptcache.h"

static double g_tasks(const void *ctx) { return ((const struct kernel *)ctx)->ntasks; }
static double g_data(const void *ctx) { return (double)((const struct kernel *)ctx)->data_pages; }

static void add_pt(void *task, void *arg)
{
    const struct task *t = task;
    if (t->mm)
        *(uint64_t *)arg += t->mm->pt_pages;
}

/* Page-table pages of every address space (an mm shared by tasks is
 * counted per task) and of the kernel's own. */
static double g_pt(const void *ctx)
{
    const struct kernel *k = ctx;
    uint64_t pt = k->init_mm.pt_pages;
    task_for_each(k, add_pt, &pt);
    return (double)pt;
}

void kernel_instruments(struct kernel *k, struct mv_instruments *in)
{
    mv_add_gauge(in, "tasks", g_tasks, k);
    mv_add_gauge(in, "data_pages", g_data, k);
    mv_add_gauge(in, "pt_pages", g_pt, k);
    if (k->cfg.ptcache_offered)
        ptcache_instruments(k, in);
}

/* modes.c: the registry of memory-virtualization modes: bare metal, then
 * every hypervisor paging mode hv/paging.c registers. A new paging mode
 * appears here, in `memvirt list` and in the default `compare`, by itself. */
#include "sim/machine.h"
#include "guest/ptcache.h"
#include "hv/paging.h"
#include "hw/dcache.h"
#include "lib/err.h"
#include <pthread.h>
#include <string.h>

static const struct mode_def native = { "native", "no hypervisor: the baseline", NULL };

#define MAX_MODES 32

unsigned mode_count(void)
{
    return 1 + npaging_modes;
}

static struct mode_def table[MAX_MODES];
static pthread_once_t table_once = PTHREAD_ONCE_INIT;

static void table_build(void)
{
    MV_ASSERT(mode_count() <= MAX_MODES, "too many modes");
    table[0] = native;
    for (unsigned i = 1; i < mode_count(); i++)
        table[i] = (struct mode_def){ paging_modes[i - 1]->name, paging_modes[i - 1]->doc, paging_modes[i - 1] };
}

const struct mode_def *mode_at(unsigned i)
{
    pthread_once(&table_once, table_build);
    return i < mode_count() ? &table[i] : NULL;
}

const struct mode_def *mode_find(const char *name)
{
    for (unsigned i = 0; i < mode_count(); i++)
        if (!strcmp(mode_at(i)->name, name))
            return mode_at(i);
    return NULL;
}

static const struct mv_control_def *find_def(const struct mv_control_def *defs, const char *name)
{
    for (; defs && defs->name; defs++)
        if (!strcmp(defs->name, name))
            return defs;
    return NULL;
}

const struct mv_control_def *mode_control(const struct mode_def *md, const char *name)
{
    const struct mv_control_def *d;
    for (unsigned i = 0; (d = mode_control_at(md, i)); i++)
        if (!strcmp(d->name, name))
            return d;
    return NULL;
}

const struct mv_control_def *mode_control_at(const struct mode_def *md, unsigned i)
{
    const struct mv_control_def *sets[2] = {
        md->pm && (md->pm->features & PM_PTCACHE) ? ptcache_controls : NULL,
        md->pm ? md->pm->controls : NULL,
    };
    for (unsigned k = 0; k < 2; k++)
        for (const struct mv_control_def *d = sets[k]; d && d->name; d++)
            if (!i--)
                return d;
    return NULL;
}

const struct mv_control_def *control_def_find(const char *name)
{
    const struct mv_control_def *d = find_def(ptcache_controls, name);
    for (unsigned i = 0; !d && i < npaging_modes; i++)
        d = find_def(paging_modes[i]->controls, name);
    return d;
}

int mode_has_vmexits(const struct mode_def *md)
{
    return md->pm && !(md->pm->features & PM_PV_MMU);
}

int mode_validate(const struct mode_def *md, const struct sim_config *cfg)
{
    for (unsigned i = 0; i < cfg->nat; i++) {
        if (!mode_control(md, cfg->at[i].name))
            return mv_error("--at '%s': mode %s has no control '%s'", cfg->at[i].text, md->name, cfg->at[i].name);
    }
    if (!strcmp(cfg->guest.pt_cache, "on") && !(md->pm && (md->pm->features & PM_PTCACHE)))
        return mv_error("--param guest.pt_cache=on: mode %s offers no page-table cache (pv-pibooster does)",
                        md->name);
    if (cfg->hv.clustering.enable && !mode_has_vmexits(md)) {
        char list[256] = "";
        for (unsigned i = 0; i < mode_count(); i++)
            if (mode_has_vmexits(mode_at(i)) && strlen(list) + strlen(mode_at(i)->name) + 3 < sizeof list)
                snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", *list ? ", " : "",
                         mode_at(i)->name);
        return mv_error("%s: mode %s has no hardware VM exits to cluster (the hardware-virtualized modes have: %s)",
                        cfg->clustering_opt ? "--clustering" : "--param clustering.enable=true", md->name, list);
    }
    for (unsigned i = 0; cfg->wl->control && cfg->wl->control(cfg->wl_cfg, i); i++) {
        const char *name = cfg->wl->control(cfg->wl_cfg, i);
        if (!mode_control(md, name))
            return mv_error("workload %s: its parameters send control '%s', which mode %s does not offer",
                            cfg->wl->name, name, md->name);
    }
    uint64_t frames = machine_frames(cfg, md), sets = cfg->dcache.ptw_kb * 16 / cfg->dcache.ptw_ways;
    if (sets && sets < dcache_min_sets(frames)) {
        char kb[PARAM_SHOW_MAX], ways[PARAM_SHOW_MAX];
        return mv_error("--param %s, %s: too few sets (%llu) to tag the lines of "
                        "mode %s's %llu MiB machine in the model's 32-bit tags; it needs at least %llu (a larger "
                        "cache.ptw_kb or fewer ways)",
                        param_show(&dcache_params, &cfg->dcache, "ptw_kb", kb, sizeof kb),
                        param_show(&dcache_params, &cfg->dcache, "ptw_ways", ways, sizeof ways),
                        (unsigned long long)sets, md->name, (unsigned long long)(frames >> (20 - PAGE_SHIFT)),
                        (unsigned long long)dcache_min_sets(frames));
    }
    if (md->pm && hv_check_memory(&cfg->hv, md->pm, (cfg->guest.ram_mb << (20 - PAGE_SHIFT)) & ~511ull))
        return -1;
    return 0;
}

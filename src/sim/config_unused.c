/* config_unused.c: a parameter no mode of the run reads is said so.
 *
 * `--mode hap --param tsp.unsync=true` is valid (a sweep or a compare may
 * give one parameter set to several modes), but on its own it is almost
 * always a mistake: the result looks like an answer about tsp.unsync and
 * is not. Each paging mode lists the parameter groups only modes of its
 * kind read (struct paging_mode.params); clustering's are read only with
 * --clustering. A group of that kind that no selected mode reads, given a
 * value other than its default, gets one warning per parameter naming the
 * modes that would read it; so does one that only another setting of the
 * mode reads (tsp.oos_limit without tsp.unsync, selective.dwell_ms under a
 * selective.policy other than alternate), and a setting the workload will
 * never act on (workload_def.warn: forkstorm's cache switch timed after
 * its churn ends). The run itself is unchanged. */
#include "hv/paging.h"
#include "lib/err.h"
#include "sim/config.h"
#include "sim/machine.h"
#include <string.h>

static int lists(const char *const *groups, const char *prefix)
{
    for (; groups && *groups; groups++)
        if (!strcmp(*groups, prefix))
            return 1;
    return 0;
}

/* The modes (of all registered) that read group `prefix`, as "a, b"; empty
 * if the group is not mode-specific. */
static void readers(const char *prefix, char *buf, size_t len)
{
    size_t n = 0;
    buf[0] = 0;
    for (unsigned i = 0; i < mode_count(); i++) {
        const struct mode_def *m = mode_at(i);
        if (m->pm && lists(m->pm->params, prefix) && n < len)
            n += (size_t)snprintf(buf + n, len - n, "%s%s", n ? ", " : "", m->name);
    }
}

void config_warn_unused(const struct sim_config *c, const struct mode_def *const *sel, unsigned nsel)
{
    struct sim_config d;
    if (config_init(&d, c->wl->name))
        return;
    struct config_group g[CONFIG_MAX_GROUPS], dg[CONFIG_MAX_GROUPS];
    unsigned n = config_groups(c, g);
    MV_ASSERT(config_groups(&d, dg) == n, "config groups differ between two configurations");
    for (unsigned k = 0; k < n; k++) {
        const char *prefix = g[k].g->prefix;
        char who[256];
        int clustering = !strcmp(prefix, "clustering");
        if (clustering) {
            if (c->hv.clustering.enable)
                continue;
            snprintf(who, sizeof who, "--clustering");
        } else {
            readers(prefix, who, sizeof who);
            if (!who[0])
                continue;                  /* every mode, or the machine, reads it */
            int read = 0;
            for (unsigned i = 0; i < nsel && !read; i++)
                read = sel[i]->pm && lists(sel[i]->pm->params, prefix);
            if (read)
                continue;
        }
        for (size_t p = 0; p < g[k].g->n; p++) {
            const struct param_def *def = &g[k].g->defs[p];
            char v[PARAM_VALUE_MAX], dv[PARAM_VALUE_MAX];
            param_format(def, g[k].cfg, v, sizeof v);
            param_format(def, dg[k].cfg, dv, sizeof dv);
            if (strcmp(v, dv))
                mv_warn("--param %s.%s=%s: no mode of this run reads it (%s %s)", prefix, def->name, v,
                        clustering ? "it is read only with" : "read by", who);
        }
    }
    /* a tsp parameter read only with another set, in a run of a mode
     * that reads tsp.* (else the warning above said it) */
    int tsp_read = 0;
    for (unsigned i = 0; i < nsel && !tsp_read; i++)
        tsp_read = sel[i]->pm && lists(sel[i]->pm->params, "tsp");
    if (tsp_read && c->hv.tsp.oos_limit && !c->hv.tsp.unsync)
        mv_warn("--param tsp.oos_limit=%llu: read only with tsp.unsync=true (out-of-sync shadows are what it "
                "bounds)", (unsigned long long)c->hv.tsp.oos_limit);
    /* a selective parameter only another selective.policy reads, in a run
     * of a mode that reads selective.* (else the warning above said it) */
    int sel_read = 0;
    for (unsigned i = 0; i < nsel && !sel_read; i++)
        sel_read = sel[i]->pm && lists(sel[i]->pm->params, "selective");
    for (size_t p = 0; sel_read && p < selective_params.n; p++) {
        const struct param_def *def = &selective_params.defs[p];
        const char *policy = selconfig_policy_reading(def->name);
        if (!policy || !strcmp(policy, c->hv.selective.policy) || param_is_default(def, &c->hv.selective))
            continue;
        char v[PARAM_VALUE_MAX];
        param_format(def, &c->hv.selective, v, sizeof v);
        mv_warn("--param selective.%s=%s: read only with selective.policy=%s (this run's is %s)", def->name, v,
                policy, c->hv.selective.policy);
    }
    /* the workload's own: a setting it will never act on */
    if (c->wl->warn)
        c->wl->warn(c->wl_cfg);
    config_free(&d);
}

/* config.c: run configuration and --param routing (see config.h). */
#include "sim/config.h"
#include "hv/xen.h"
#include "lib/err.h"
#include <stdlib.h>
#include <string.h>

#define T(f, d, lo, hi, doc) PARAM_U64(struct tlb_config, f, d, lo, hi, doc)
static const struct param_def tlb_defs[] = {
    T(l1_4k_entries, "64", 0, 1 << 20, "L1 DTLB entries for 4K pages"),
    T(l1_4k_ways, "4", 1, 1 << 20, "L1 DTLB associativity for 4K pages"),
    T(l1_2m_entries, "32", 0, 1 << 20, "L1 DTLB entries for 2M pages"),
    T(l1_2m_ways, "4", 1, 1 << 20, "L1 DTLB associativity for 2M pages"),
    T(l1_1g_entries, "4", 0, 1 << 20, "L1 DTLB entries for 1G pages"),
    T(l1_1g_ways, "4", 1, 1 << 20, "L1 DTLB associativity for 1G pages"),
    T(l2_entries, "1536", 0, 1 << 24, "STLB entries (shared 4K/2M)"),
    T(l2_ways, "12", 1, 1 << 20, "STLB associativity"),
    PARAM_BOOL(struct tlb_config, l2_2m, "true", "the STLB also holds 2M translations"),
    T(pwc_l4, "2", 0, 4096, "paging-structure cache: PML4 entries (unverified)"),
    T(pwc_l3, "4", 0, 4096, "paging-structure cache: PDPT entries (unverified)"),
    T(pwc_l2, "32", 0, 4096, "paging-structure cache: PD entries (unverified)"),
};
#undef T
const struct param_group tlb_params = { "tlb", tlb_defs, sizeof tlb_defs / sizeof tlb_defs[0],
                                        "CPU TLBs and walk caches" };

static const struct param_def sim_defs[] = {
    PARAM_U64(struct simparams, series_ms, "60000", 1, 1e12, "time-series interval in simulated ms"),
    PARAM_U64(struct simparams, check_every, "2000", 1, 1e12,
              "under --check, full kernel and hypervisor checks every N events"),
};
const struct param_group sim_params = { "sim", sim_defs, sizeof sim_defs / sizeof sim_defs[0], "engine" };

struct routed { const struct param_group *g; void *cfg; };

static unsigned groups(struct sim_config *c, struct routed *r)
{
    unsigned n = 0;
    r[n++] = (struct routed){ &cost_params, &c->cost };
    r[n++] = (struct routed){ &tlb_params, &c->tlb };
    r[n++] = (struct routed){ &dcache_params, &c->dcache };
    r[n++] = (struct routed){ &kconfig_params, &c->guest };
    r[n++] = (struct routed){ &sim_params, &c->sim };
    for (unsigned i = 0; i < hv_ngroups; i++)
        r[n++] = (struct routed){ hv_groups[i], hvconfig_part(&c->hv, i) };
    r[n++] = (struct routed){ c->wl->params, c->wl_cfg };
    return n;
}

int config_init(struct sim_config *c, const char *workload)
{
    memset(c, 0, sizeof *c);
    c->wl = workload_find(workload);
    if (!c->wl)
        return mv_error("--workload: unknown workload '%s' (see 'memvirt list')", workload);
    c->wl_cfg = mv_calloc(1, c->wl->cfg_size);
    c->seed = 1;
    strcpy(c->profile, "default");
    struct routed r[16];
    unsigned n = groups(c, r);
    for (unsigned i = 0; i < n; i++)
        param_defaults(r[i].g, r[i].cfg);
    return 0;
}

void config_free(struct sim_config *c)
{
    free(c->wl_cfg);
    c->wl_cfg = NULL;
}

int config_profile(struct sim_config *c, const char *profile)
{
    if (strlen(profile) >= sizeof c->profile)
        return mv_error("--profile: unknown profile '%s' (see 'memvirt list')", profile);
    if (cost_load_profile(&c->cost, profile))
        return -1;
    strcpy(c->profile, profile);
    return 0;
}

int config_param(struct sim_config *c, const char *kv)
{
    const char *eq = strchr(kv, '=');
    const char *dot = strchr(kv, '.');
    if (!eq || !dot || dot > eq || dot == kv || eq == dot + 1)
        return mv_error("--param '%s': expected prefix.name=value (see 'memvirt list')", kv);
    char prefix[64], name[64];
    size_t pl = (size_t)(dot - kv), nl = (size_t)(eq - dot - 1);
    if (pl >= sizeof prefix || nl >= sizeof name)
        return mv_error("--param '%s': name too long", kv);
    memcpy(prefix, kv, pl);
    prefix[pl] = 0;
    memcpy(name, dot + 1, nl);
    name[nl] = 0;
    struct routed r[16];
    unsigned n = groups(c, r);
    for (unsigned i = 0; i < n; i++)
        if (!strcmp(r[i].g->prefix, prefix))
            return param_set(r[i].g, r[i].cfg, name, eq + 1, "--param");
    if (workload_find(prefix))
        return mv_error("--param '%s': parameters of workload '%s' do not apply to workload '%s'",
                        kv, prefix, c->wl->name);
    return mv_error("--param '%s': unknown parameter group '%s' (see 'memvirt list')", kv, prefix);
}

int config_at(struct sim_config *c, const char *spec)
{
    const char *colon = strchr(spec, ':'), *eq = colon ? strchr(colon, '=') : NULL;
    if (!colon || !eq || eq == colon + 1)
        return mv_error("--at '%s': expected TIME:NAME=VALUE, e.g. 5m:ptcache=on", spec);
    char num[32];
    size_t tl = (size_t)(colon - spec);
    if (tl == 0 || tl >= sizeof num)
        return mv_error("--at '%s': missing or malformed time", spec);
    memcpy(num, spec, tl);
    num[tl] = 0;
    double mult = 0;
    size_t nl = strlen(num);
    if (nl > 2 && !strcmp(num + nl - 2, "ms")) { mult = 1e6; num[nl - 2] = 0; }
    else if (nl > 1 && num[nl - 1] == 's') { mult = 1e9; num[nl - 1] = 0; }
    else if (nl > 1 && num[nl - 1] == 'm') { mult = 60e9; num[nl - 1] = 0; }
    double t;
    if (!mult || param_parse_dbl(num, &t) || t < 0)
        return mv_error("--at '%s': malformed time '%.*s' (a number with unit ms, s or m)",
                        spec, (int)tl, spec);
    struct sched_ctl ctl = { .ns = (uint64_t)(t * mult) };
    size_t kl = (size_t)(eq - colon - 1);
    if (kl >= sizeof ctl.name)
        return mv_error("--at '%s': unknown control", spec);
    memcpy(ctl.name, colon + 1, kl);
    ctl.name[kl] = 0;
    const char *val = eq + 1;
    if (!strcmp(ctl.name, "ptcache")) {
        int on;
        if (param_parse_bool(val, &on))
            return mv_error("--at '%s': ptcache takes on or off, not '%s'", spec, val);
        ctl.value = (uint64_t)on;
    } else if (!strcmp(ctl.name, "ptcache_ratio") || !strcmp(ctl.name, "ptcache_total")) {
        if (param_parse_u64(val, &ctl.value))
            return mv_error("--at '%s': %s takes a non-negative integer, not '%s'", spec, ctl.name, val);
    } else {
        return mv_error("--at '%s': unknown control '%s' (ptcache, ptcache_ratio, ptcache_total)",
                        spec, ctl.name);
    }
    if (c->nat == MAX_SCHED_CTL)
        return mv_error("--at '%s': at most %d scheduled controls", spec, MAX_SCHED_CTL);
    unsigned i = c->nat++;
    while (i > 0 && c->at[i - 1].ns > ctl.ns) {   /* keep sorted, stable */
        c->at[i] = c->at[i - 1];
        i--;
    }
    c->at[i] = ctl;
    return 0;
}

int config_validate(const struct sim_config *c)
{
    struct tlb t;
    if (tlb_init(&t, &c->tlb))
        return mv_error("--param tlb.*: invalid TLB geometry (entries must be a multiple of ways "
                        "and give a power-of-two number of sets)");
    tlb_destroy(&t);
    struct dcache dc;
    if (dcache_init(&dc, &c->dcache))
        return mv_error("--param cache.*: invalid cache geometry (lines must be a multiple of ways "
                        "and give a power-of-two number of sets)");
    dcache_destroy(&dc);
    if (xen_check_memory(&c->hv, (c->guest.ram_mb << (20 - PAGE_SHIFT)) & ~511ull))
        return -1;
    if (hvconfig_validate(&c->hv))
        return -1;
    return c->wl->validate ? c->wl->validate(c->wl_cfg) : 0;
}

void config_list_params(FILE *f)
{
    const struct param_group *g[] = { &cost_params, &tlb_params, &dcache_params, &kconfig_params, &sim_params };
    for (unsigned i = 0; i < 5; i++) {
        fprintf(f, "\n%s parameters (%s.*):\n", g[i]->doc, g[i]->prefix);
        param_print_group(f, g[i]);
    }
    for (unsigned i = 0; i < hv_ngroups; i++) {
        fprintf(f, "\n%s parameters (%s.*):\n", hv_groups[i]->doc, hv_groups[i]->prefix);
        param_print_group(f, hv_groups[i]);
    }
}

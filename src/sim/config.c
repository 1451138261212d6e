/* config.c: run configuration and --param routing (see config.h). */
#include "sim/config.h"
#include "lib/err.h"
#include "lib/text.h"
#include "sim/engine.h"
#include "sim/profile.h"
#include "workload/layouts.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
              "under --check, kernel and hypervisor invariants after every N-th event (1: each) and at the end"),
};
const struct param_group sim_params = { "sim", sim_defs, sizeof sim_defs / sizeof sim_defs[0], "engine" };

unsigned config_groups(const struct sim_config *cc, struct config_group *r)
{
    struct sim_config *c = (struct sim_config *)cc;   /* the caller decides what may change */
    unsigned n = 0;
    r[n++] = (struct config_group){ &cost_params, &c->cost };
    r[n++] = (struct config_group){ &tlb_params, &c->tlb };
    r[n++] = (struct config_group){ &dcache_params, &c->dcache };
    r[n++] = (struct config_group){ &kconfig_params, &c->guest };
    r[n++] = (struct config_group){ &sim_params, &c->sim };
    for (unsigned i = 0; i < hv_ngroups; i++)
        r[n++] = (struct config_group){ hv_groups[i], hvconfig_part(&c->hv, i) };
    if (c->wl)
        r[n++] = (struct config_group){ c->wl->params, c->wl_cfg };
    MV_ASSERT(n <= CONFIG_MAX_GROUPS, "raise CONFIG_MAX_GROUPS");
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
    struct config_group r[CONFIG_MAX_GROUPS];
    unsigned n = config_groups(c, r);
    for (unsigned i = 0; i < n; i++)
        param_defaults(r[i].g, r[i].cfg);
    return 0;
}

const char *config_seed_problem(const char *text, uint64_t *seed)
{
    uint64_t v;
    /* digits only, as the message says: a seed names a random stream, it
     * is no size, so no K/M/G/T suffix (1K was taken as 1024) */
    if (text[strspn(text, "0123456789")])
        return "malformed";
    int rc = param_parse_u64(text, &v);
    if (rc == PARAM_TOO_BIG || (!rc && v > INT64_MAX))
        return "out of range";
    if (rc)
        return "malformed";
    *seed = v;
    return NULL;
}

int config_seed_valid(const char *text, uint64_t *seed)
{
    return !config_seed_problem(text, seed);
}

int config_seed(const char *text, uint64_t *seed)
{
    const char *why = config_seed_problem(text, seed);
    if (why)
        return mv_error("--seed: value '%s' %s (expected a decimal integer from 0 to %lld)", text, why,
                        (long long)INT64_MAX);
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
        return mv_error("--profile: name longer than %zu bytes", sizeof c->profile - 1);
    if (text_utf8_name("--profile", profile))   /* before reading it: the results hold the name (validate_names) */
        return -1;
    if (cost_profile_find(profile) >= 0) {
        if (cost_load_profile(&c->cost, profile))
            return -1;
    } else {
        if (access(profile, F_OK)) {
            char names[256] = "";
            for (unsigned i = 0; i < cost_nprofiles; i++)
                snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s",
                         i ? ", " : "", cost_profiles[i].name);
            return mv_error("--profile: '%s' is neither a built-in profile (%s) nor a profile file",
                            profile, names);
        }
        struct profile p;
        if (profile_load(&p, profile))
            return -1;
        c->cost = p.cost;
        profile_free(&p);
    }
    strcpy(c->profile, profile);
    return 0;
}

/* kv's "prefix.name=value" into prefix[64] and name[64]; *value points
 * into kv. -1 if it has no such shape, -2 if a part is too long. */
static int split_kv(const char *kv, char *prefix, char *name, const char **value)
{
    const char *eq = strchr(kv, '='), *dot = strchr(kv, '.');
    if (!eq || !dot || dot > eq || dot == kv || eq == dot + 1)
        return -1;
    size_t pl = (size_t)(dot - kv), nl = (size_t)(eq - dot - 1);
    if (pl >= 64 || nl >= 64)
        return -2;
    memcpy(prefix, kv, pl);
    prefix[pl] = 0;
    memcpy(name, dot + 1, nl);
    name[nl] = 0;
    *value = eq + 1;
    return 0;
}

int config_param_canon(const struct sim_config *c, const char *kv, char *buf, size_t len)
{
    char prefix[64], name[64];
    const char *value;
    if (split_kv(kv, prefix, name, &value))
        return -1;
    struct config_group r[CONFIG_MAX_GROUPS];
    unsigned n = config_groups(c, r);
    for (unsigned i = 0; i < n; i++) {
        const struct param_def *d = strcmp(r[i].g->prefix, prefix) ? NULL : param_find(r[i].g, name);
        if (!d)
            continue;
        /* set into a scratch struct as large as the field needs, and format */
        char *scratch = mv_calloc(1, d->off + PARAM_STR_MAX + 8192);
        int quiet = mv_error_quiet(1);
        int rc = param_set(r[i].g, scratch, name, value, "--param");
        mv_error_quiet(quiet);
        if (!rc)
            param_format(d, scratch, buf, len);
        free(scratch);
        return rc ? -1 : 0;
    }
    return -1;
}

int config_param(struct sim_config *c, const char *kv)
{
    char prefix[64], name[64];
    const char *value;
    int shape = split_kv(kv, prefix, name, &value);
    if (shape == -1)
        return mv_error("--param '%s': expected prefix.name=value (see 'memvirt list')", kv);
    if (shape)
        return mv_error("--param '%s': name too long", kv);
    struct config_group r[CONFIG_MAX_GROUPS];
    unsigned n = config_groups(c, r);
    for (unsigned i = 0; i < n; i++)
        if (!strcmp(r[i].g->prefix, prefix))
            return param_set(r[i].g, r[i].cfg, name, value, "--param");
    if (workload_find(prefix))
        return mv_error("--param '%s': parameters of workload '%s' do not apply to workload '%s'",
                        kv, prefix, c->wl->name);
    return mv_error("--param '%s': unknown parameter group '%s' (see 'memvirt list')", kv, prefix);
}

static const struct { const char *unit; uint64_t ns; } time_units[] = {
    { "m", 60000000000ull }, { "s", 1000000000ull }, { "ms", 1000000ull }, { "us", 1000ull }, { "ns", 1 },
};

/* "DIGITS[.DIGITS]UNIT" to nanoseconds, exactly: -1 (no message) if malformed
 * (sign, exponent, leading zero, unknown unit), -2 if not a whole number of
 * nanoseconds, -3 if it does not fit in 64 bits. */
static int parse_time(const char *s, size_t len, uint64_t *ns)
{
    size_t i = 0;
    unsigned __int128 whole = 0, frac = 0, scale = 1;
    if (!len || s[0] < '0' || s[0] > '9' || (s[0] == '0' && len > 1 && s[1] >= '0' && s[1] <= '9'))
        return -1;
    for (; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
        whole = whole * 10 + (unsigned)(s[i] - '0');
        if (whole > UINT64_MAX)
            return -3;
    }
    if (i < len && s[i] == '.') {
        if (++i == len || s[i] < '0' || s[i] > '9')
            return -1;
        for (; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
            if (scale > UINT64_MAX)
                return -2;   /* more than 19 decimals: finer than any unit's nanosecond */
            frac = frac * 10 + (unsigned)(s[i] - '0');
            scale *= 10;
        }
    }
    for (unsigned u = 0; u < sizeof time_units / sizeof time_units[0]; u++) {
        if (strlen(time_units[u].unit) != len - i || memcmp(s + i, time_units[u].unit, len - i))
            continue;
        unsigned __int128 mult = time_units[u].ns, fns = frac * mult;
        if (fns % scale)
            return -2;
        unsigned __int128 t = whole * mult + fns / scale;
        if (t > UINT64_MAX)
            return -3;
        *ns = (uint64_t)t;
        return 0;
    }
    return -1;
}

void config_at_format(const struct sched_ctl *ctl, char *buf, size_t len)
{
    unsigned u = 0;
    while (ctl->ns % time_units[u].ns)
        u++;
    char val[32];
    const struct mv_control_def *def = control_def_find(ctl->name);
    if (def && def->type == CTL_BOOL)
        snprintf(val, sizeof val, "%s", ctl->value ? "on" : "off");
    else
        snprintf(val, sizeof val, "%llu", (unsigned long long)ctl->value);
    snprintf(buf, len, "%llu%s:%s=%s", (unsigned long long)(ctl->ns / time_units[u].ns),
             time_units[u].unit, ctl->name, val);
}

int config_at(struct sim_config *c, const char *spec)
{
    const char *colon = strchr(spec, ':'), *eq = colon ? strchr(colon, '=') : NULL;
    if (!colon || !eq || eq == colon + 1)
        return mv_error("--at '%s': expected TIME:NAME=VALUE, e.g. 5m:ptcache=on", spec);
    size_t tl = (size_t)(colon - spec);
    struct sched_ctl ctl = { 0 };
    int trc = parse_time(spec, tl, &ctl.ns);
    if (trc == -2)
        return mv_error("--at '%s': time '%.*s' is not a whole number of nanoseconds", spec, (int)tl, spec);
    if (trc == -3)
        return mv_error("--at '%s': time '%.*s' is too large (at most %llu ns)", spec, (int)tl, spec,
                        (unsigned long long)UINT64_MAX);
    if (trc)
        return mv_error("--at '%s': missing or malformed time '%.*s' (a decimal number with unit "
                        "ns, us, ms, s or m)", spec, (int)tl, spec);
    size_t kl = (size_t)(eq - colon - 1);
    if (kl >= sizeof ctl.name)
        return mv_error("--at '%s': unknown control", spec);
    memcpy(ctl.name, colon + 1, kl);
    ctl.name[kl] = 0;
    const char *val = eq + 1;
    /* Which modes offer it is checked when the modes are known
     * (mode_validate); here, that some layer defines it, and its value. */
    const struct mv_control_def *def = control_def_find(ctl.name);
    if (!def)
        return mv_error("--at '%s': unknown control '%s' (see 'memvirt list')", spec, ctl.name);
    if (mv_control_parse(def, val, &ctl.value)) {
        char what[96] = "on or off (any of " PARAM_BOOL_ALSO ")";   /* as a parameter takes them */
        if (def->type == CTL_U64)
            snprintf(what, sizeof what, "a decimal integer from 0 to %llu", (unsigned long long)(def->max ? def->max
                                                                                              : UINT64_MAX));
        return mv_error("--at '%s': %s takes %s, not '%s'", spec, ctl.name, what, val);
    }
    for (unsigned i = 0; i < c->nat; i++)
        if (c->at[i].ns == ctl.ns && !strcmp(c->at[i].name, ctl.name) && c->at[i].value != ctl.value) {
            return mv_error("--at '%s': contradicts --at '%s' at the same time", spec, c->at[i].text);
        }
    if (c->nat == MAX_SCHED_CTL)
        return mv_error("--at '%s': more than %d --at controls (a run takes at most %d)", spec, MAX_SCHED_CTL,
                        MAX_SCHED_CTL);
    if (strlen(spec) < sizeof ctl.text)
        strcpy(ctl.text, spec);
    else
        snprintf(ctl.text, sizeof ctl.text, "%.*s...", (int)sizeof ctl.text - 4, spec);
    unsigned i = c->nat++;
    while (i > 0 && c->at[i - 1].ns > ctl.ns) {   /* keep sorted, stable */
        c->at[i] = c->at[i - 1];
        i--;
    }
    c->at[i] = ctl;
    return 0;
}

int config_validate_caches(const struct sim_config *c)
{
    const struct tlb_config *t = &c->tlb;
    if (param_check_sets(&tlb_params, t, "l1_4k_entries", t->l1_4k_entries, "entries", "l1_4k_ways") ||
        param_check_sets(&tlb_params, t, "l1_2m_entries", t->l1_2m_entries, "entries", "l1_2m_ways") ||
        param_check_sets(&tlb_params, t, "l1_1g_entries", t->l1_1g_entries, "entries", "l1_1g_ways") ||
        param_check_sets(&tlb_params, t, "l2_entries", t->l2_entries, "entries", "l2_ways") ||
        param_check_sets(&dcache_params, &c->dcache, "ptw_kb", c->dcache.ptw_kb * 1024 / 64, "64-byte lines",
                         "ptw_ways"))
        return -1;
    /* what the hardware itself refuses beyond that (sizes the parameters' ranges already bound) */
    struct tlb tl;
    if (tlb_init(&tl, t))
        return mv_error("--param tlb.*: TLB geometry the hardware model refuses (see 'memvirt list' for the ranges)");
    tlb_destroy(&tl);
    struct dcache dc;
    if (dcache_init(&dc, &c->dcache, 0))   /* the machine's size is checked per mode (modes.c) */
        return mv_error("--param cache.*: cache geometry the hardware model refuses (see 'memvirt list' for the "
                        "ranges)");
    dcache_destroy(&dc);
    return 0;
}

/* The names a run's results hold as given: the profile (a file's name) and
 * every free-text parameter (trace.file). JSON strings are UTF-8, and a
 * name escaped some other way would not read back as the same file, so
 * rerun, report and sweep merge could not take the results: refused here,
 * before the run. (trace info replays a trace by trace.file without this
 * check: it writes no results.) */
static int validate_names(const struct sim_config *c)
{
    if (text_utf8_name("--profile", c->profile))
        return -1;
    struct config_group g[CONFIG_MAX_GROUPS];
    unsigned ng = config_groups(c, g);
    for (unsigned i = 0; i < ng; i++)
        for (size_t k = 0; k < g[i].g->n; k++) {
            const struct param_def *d = &g[i].g->defs[k];
            if (d->type != P_STR)
                continue;
            char what[160];
            snprintf(what, sizeof what, "--param: %s.%s", g[i].g->prefix, d->name);
            if (text_utf8_name(what, (const char *)g[i].cfg + d->off))
                return -1;
        }
    return 0;
}

int config_validate(const struct sim_config *c)
{
    if (validate_names(c) || config_validate_caches(c))
        return -1;
    /* The engine converts control times to cycles at the clock rate. */
    for (unsigned i = 0; i < c->nat; i++)
        if ((double)c->at[i].ns * c->cost.clock_ghz >= 0x1p64)
            return mv_error("--at '%s': time too large: about %.3g cycles at %g GHz, past 2^64 (at this clock "
                            "a control comes at most %.0f s in)", c->at[i].text,
                            (double)c->at[i].ns * c->cost.clock_ghz, c->cost.clock_ghz,
                            floor(0x1p64 / (c->cost.clock_ghz * 1e9)));
    if (hvconfig_validate_memory(&c->hv, c->guest.ram_mb))
        return -1;
    if (hvconfig_validate(&c->hv))
        return -1;
    /* The built-in workloads exec built-in programs (workload/layouts.c),
     * all mapped from the same address up: a vm.mmap_min_addr above it
     * fails every exec with EPERM, as Linux would (a bad parameter for
     * them, said before the run; a trace has its own layouts and is told
     * at the call it fails, engine.c). */
    if (c->wl && !c->wl->input_seal && c->guest.mmap_min_addr > layouts_lowest())
        return mv_error("--param guest.mmap_min_addr=%llu: above the address workload %s's programs are mapped "
                        "from (%llu, 0x%llx: their PIE image), so every exec would fail with EPERM, as on Linux; at "
                        "most %llu for a built-in workload (a trace's own layout may need less)",
                        (unsigned long long)c->guest.mmap_min_addr, c->wl->name,
                        (unsigned long long)layouts_lowest(), (unsigned long long)layouts_lowest(),
                        (unsigned long long)layouts_lowest());
    /* A run whose span is known (a fixed duration) and needs more samples
     * than any mode's series holds would fail when the series is full
     * (engine.c): refused now, naming the parameter. Only where it surely
     * fails: the fewest gauges a machine has give the most samples. */
    double span_ms = c->wl && c->wl->span_s ? c->wl->span_s(c->wl_cfg) * 1000.0 : 0;
    uint32_t most = engine_series_max(ENGINE_MIN_GAUGES);
    if (span_ms > ((double)most + 1) * (double)c->sim.series_ms)
        return mv_error("sim.series_ms=%llu is too fine for workload %s's %.6g simulated seconds: the time series "
                        "holds at most %u samples, so it covers at most %.6g s; sim.series_ms must be at least %llu "
                        "here", (unsigned long long)c->sim.series_ms, c->wl->name, span_ms / 1000.0, most,
                        (double)most * (double)c->sim.series_ms / 1000.0,
                        (unsigned long long)(span_ms / most) + 1);
    if (c->wl && c->wl->validate && c->wl->validate(c->wl_cfg, &c->guest))
        return -1;
    return 0;
}

void config_list_params(FILE *f)
{
    struct sim_config none = { 0 };   /* no workload: its group is listed with it */
    struct config_group r[CONFIG_MAX_GROUPS];
    unsigned n = config_groups(&none, r);
    for (unsigned i = 0; i < n; i++) {
        fprintf(f, "\n%s parameters (%s.*):\n", r[i].g->doc, r[i].g->prefix);
        param_print_group(f, r[i].g);
    }
}

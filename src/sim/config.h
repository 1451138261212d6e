/* config.h: everything one run is made of: seed, checks, cost profile,
 * hardware geometry, guest kernel, hypervisor knobs and the workload with its
 * parameters; and the routing of `--param prefix.name=value` to the right
 * table. */
#ifndef MV_SIM_CONFIG_H
#define MV_SIM_CONFIG_H
#include "guest/kernel.h"
#include "hv/hvconfig.h"
#include "hw/cost.h"
#include "hw/tlb.h"
#include "workload/workload.h"

struct simparams {
    uint64_t series_ms;     /* time-series interval, simulated milliseconds */
    uint64_t check_every;   /* under --check: full kernel/hypervisor checks every N events */
};

/* A control applied at a simulated time (--at TIME:NAME=VALUE). The value
 * is checked against the control's type when a mode is chosen (each mode
 * offers its own controls: sim/modes.c mode_validate). */
struct sched_ctl {
    uint64_t ns;
    char name[PARAM_STR_MAX];
    uint64_t value;             /* as the control's type reads it (on/off: 1/0) */
    char text[96];              /* as the user wrote it, for messages (cut with "..." if longer) */
};
#define MAX_SCHED_CTL 32        /* --at controls per run (run --help and README say it) */
#define CONFIG_PROFILE_MAX 1024

struct sim_config {
    struct sched_ctl at[MAX_SCHED_CTL];   /* sorted by time */
    unsigned nat;
    uint64_t seed;
    int check;
    int quiet;
    int clustering_opt;         /* --clustering given (messages name it; else --param clustering.enable) */
    char profile[CONFIG_PROFILE_MAX];   /* a built-in profile's name or a profile file's path */
    struct cost cost;
    struct tlb_config tlb;
    struct dcache_config dcache;
    struct kconfig guest;
    struct hvconfig hv;
    struct simparams sim;
    const struct workload_def *wl;
    void *wl_cfg;
    /* Optional: called with each event before the kernel carries it out
     * (`memvirt trace info` reads page-table counts per process here). */
    void (*observe)(void *ctx, struct kernel *k, const struct event *ev);
    void *observe_ctx;
};

extern const struct param_group tlb_params, sim_params;

/* A parameter group and the part of a sim_config it sets. */
struct config_group { const struct param_group *g; void *cfg; };
#define CONFIG_MAX_GROUPS 16
/* Every parameter group of c, the workload's last (none if c->wl is NULL). */
unsigned config_groups(const struct sim_config *c, struct config_group *out);

/* Defaults for everything; the workload by name. -1 after mv_error if the
 * workload is unknown. */
int  config_init(struct sim_config *c, const char *workload);
/* A --seed value as `memvirt run` takes it (a decimal integer from 0 to
 * INT64_MAX: digits only, no leading zero, no suffix) into *seed; -1 after mv_error ("--seed: value 'x' malformed
 * ..." or "... out of range ..."). */
int  config_seed(const char *text, uint64_t *seed);
/* The same rule, without a message: NULL and *seed set if text is one, else
 * what is wrong ("malformed", "out of range"). config_seed_valid: 1 if it is. */
const char *config_seed_problem(const char *text, uint64_t *seed);
int  config_seed_valid(const char *text, uint64_t *seed);
void config_free(struct sim_config *c);
/* Load a cost profile (resets cost.* to the profile's values): a built-in
 * profile by name, otherwise a profile file (sim/profile.h). */
int  config_profile(struct sim_config *c, const char *profile);
/* "prefix.name=value". -1 after mv_error. */
int  config_param(struct sim_config *c, const char *kv);
/* The value kv (prefix.name=value) would set, written as memvirt writes it
 * (so 'true' and '1', '4K' and '4096' agree), into buf; -1 with no message
 * if kv does not parse (config_param says why). */
int  config_param_canon(const struct sim_config *c, const char *kv, char *buf, size_t len);
/* "TIME:NAME=VALUE", TIME a decimal number with unit ns, us, ms, s or m
 * (e.g. 5m:ptcache=on, 1.5s:ptcache_ratio=100), a whole number of ns.
 * The control must be one some layer defines (control_def_find), its value
 * of the control's type; which modes offer it is checked per mode
 * (mode_validate). -1 after mv_error. */
int  config_at(struct sim_config *c, const char *spec);
/* The definition of a control some layer offers (the guest's PiBooster
 * cache, a paging mode), or NULL (sim/modes.c). */
const struct mv_control_def *control_def_find(const char *name);
/* A control as config_at reads it back, in the largest exact time unit. */
void config_at_format(const struct sched_ctl *ctl, char *buf, size_t len);
/* Cross-parameter checks (TLB geometry, memory sizes, the workload's own
 * checks, control times), and the names the results will hold (the
 * profile, trace.file) valid UTF-8. -1 after mv_error. */
int  config_validate(const struct sim_config *c);
/* Its TLB and data-cache part: a bad geometry named by its parameters. */
int  config_validate_caches(const struct sim_config *c);
/* Warn (stderr) about each parameter set away from its default in a group
 * that no mode of sel[] reads, and what the workload says it will never act
 * on (workload_def.warn) (config_unused.c); the run is unchanged. */
struct mode_def;
void config_warn_unused(const struct sim_config *c, const struct mode_def *const *sel, unsigned nsel);
/* Every parameter group, for listing. */
void config_list_params(FILE *f);

#endif

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

/* A control applied at a simulated time (--at TIME:NAME=VALUE). */
struct sched_ctl {
    uint64_t ns;
    char name[PARAM_STR_MAX];
    uint64_t value;
};
#define MAX_SCHED_CTL 32

struct sim_config {
    struct sched_ctl at[MAX_SCHED_CTL];   /* sorted by time */
    unsigned nat;
    uint64_t seed;
    int check;
    int quiet;
    char profile[PARAM_STR_MAX];
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

/* Defaults for everything; the workload by name. -1 after mv_error if the
 * workload is unknown. */
int  config_init(struct sim_config *c, const char *workload);
void config_free(struct sim_config *c);
/* Load a cost profile (resets cost.* to the profile's values). */
int  config_profile(struct sim_config *c, const char *profile);
/* "prefix.name=value". -1 after mv_error. */
int  config_param(struct sim_config *c, const char *kv);
/* "TIME:NAME=VALUE", TIME with unit ms, s or m (e.g. 5m:ptcache=on).
 * Controls: ptcache=on|off, ptcache_ratio=N, ptcache_total=N. -1 after mv_error. */
int  config_at(struct sim_config *c, const char *spec);
/* Cross-parameter checks (TLB geometry ...). -1 after mv_error. */
int  config_validate(const struct sim_config *c);
/* Every parameter group, for listing. */
void config_list_params(FILE *f);

#endif

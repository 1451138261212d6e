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

struct sim_config {
    uint64_t seed;
    int check;
    int quiet;
    char profile[PARAM_STR_MAX];
    struct cost cost;
    struct tlb_config tlb;
    struct kconfig guest;
    struct hvconfig hv;
    struct simparams sim;
    const struct workload_def *wl;
    void *wl_cfg;
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
/* Cross-parameter checks (TLB geometry ...). -1 after mv_error. */
int  config_validate(const struct sim_config *c);
/* Every parameter group, for listing. */
void config_list_params(FILE *f);

#endif

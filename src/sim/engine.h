/* engine.h: runs a workload on a machine of a given mode and collects the
 * results: counters, cycle buckets, time series and workload metrics. */
#ifndef MV_SIM_ENGINE_H
#define MV_SIM_ENGINE_H
#include "sim/machine.h"

struct series {
    double interval_s;
    uint32_t n, cap;
    double *t;                 /* end of each interval, simulated seconds */
    uint64_t *cnt;             /* n x CNT__N: counter deltas over the interval */
    unsigned ngauge;
    const char **gauge_name;   /* the machine's gauges, in registration order */
    double *gauge;             /* n x ngauge: values at the end of the interval */
};

/* A run that failed as an outcome of its mode, not of the input or of
 * memvirt: the other modes' results stay beside it (engine_run_all). */
enum run_failure {
    RUN_COMPLETED,             /* a result */
    RUN_GUEST_OOM,             /* the guest ran out of memory */
    RUN_DOMAIN_CRASHED,        /* the hypervisor crashed the domain */
};

struct run_result {
    const char *mode;
    const char *workload;
    struct mv_stats st;
    double sim_seconds;
    struct series series;
    struct mv_metrics metrics;
    struct mv_timeline timeline;   /* decisions layers recorded (the selective mode's switches) */
    unsigned at_applied;       /* --at controls applied (cfg->at[0..at_applied-1]) */
    enum run_failure failure;  /* engine_run_all: why this run has no result beside others that do */
};

/* 0 on success; -1 after mv_error (bad event, check failure);
 * ENGINE_GUEST_OOM after mv_error when the guest ran out of memory;
 * ENGINE_DOMAIN_CRASHED after mv_error when the hypervisor crashed the
 * domain (domain_crash: Xen's L1TF check, an EPT misconfiguration). */
#define ENGINE_GUEST_OOM (-3)
#define ENGINE_DOMAIN_CRASHED (-4)
int  engine_run(const struct sim_config *cfg, const struct mode_def *mode, struct run_result *out);
/* engine_run, reporting how far it is to slot `slot` of a progress
 * display (progress.h; NULL: none): engine_run_all's. */
struct progress;
int  engine_run_shown(const struct sim_config *cfg, const struct mode_def *mode, struct run_result *out,
                      struct progress *shown, unsigned slot);
/* Each of modes[0..n-1] into out[i], up to `jobs` runs at a time in threads;
 * the results are those of runs one after another. -1 if any run failed
 * otherwise than by running the guest out of memory or by having its domain
 * crashed (each reported; then no result is kept). Else, if a run failed,
 * the other runs' results are kept (the caller frees them with
 * run_result_free, as after 0) and each failed run's out[i] has its
 * failure set, its mode and workload, and nothing else; the return is
 * ENGINE_DOMAIN_CRASHED if any run's domain was crashed, ENGINE_GUEST_OOM
 * if every failed run's guest ran out of memory (whatever the modes' order). */
int  engine_run_all(const struct sim_config *cfg, const struct mode_def *const *modes, unsigned n,
                    struct run_result *out, unsigned jobs);
unsigned engine_default_jobs(void);   /* CPUs online */
void run_result_free(struct run_result *r);
/* The most samples a run's time series holds with ngauge gauges (a memory
 * limit); every machine has at least ENGINE_MIN_GAUGES, the guest
 * kernel's (guest/instruments.c), so engine_series_max(ENGINE_MIN_GAUGES)
 * bounds every mode's. */
#define ENGINE_MIN_GAUGES 3
uint32_t engine_series_max(unsigned ngauge);

#endif

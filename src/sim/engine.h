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
    double *gauge;             /* n x NGAUGES: values at the end of the interval */
};

#define MAX_METRICS 48

struct run_result {
    const char *mode;
    const char *workload;
    struct mv_stats st;
    double sim_seconds;
    struct series series;
    struct metric metric[MAX_METRICS];
    unsigned nmetric;
    unsigned at_applied;       /* --at controls applied (cfg->at[0..at_applied-1]) */
};

/* 0 on success; -1 after mv_error (bad event, check failure). */
int  engine_run(const struct sim_config *cfg, const struct mode_def *mode, struct run_result *out);
void run_result_free(struct run_result *r);

#endif

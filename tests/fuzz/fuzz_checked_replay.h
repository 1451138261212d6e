/* fuzz_checked_replay.h: replay a trace file in one mode under --check,
 * checking after every event (sim.check_every=1), as the trace fuzz targets
 * do, with guest.fault_around_bytes at fault_around (NULL: the default). Returns engine_run's status: 0, or negative with mv_last_error() set
 * (engine.h: -1, ENGINE_GUEST_OOM, ENGINE_DOMAIN_CRASHED). */
#ifndef FUZZ_CHECKED_REPLAY_H
#define FUZZ_CHECKED_REPLAY_H
#include "sim/config.h"
#include "sim/engine.h"
#include "sim/machine.h"
#include <stdio.h>
#include <stdlib.h>

static inline int fuzz_checked_replay(const char *path, const struct mode_def *mode, const char *fault_around)
{
    struct sim_config cfg;
    char kv[128], fa[64];
    snprintf(fa, sizeof fa, "guest.fault_around_bytes=%s", fault_around ? fault_around : "4096");
    snprintf(kv, sizeof kv, "trace.file=%s", path);
    if (config_init(&cfg, "trace") || config_param(&cfg, kv) || config_param(&cfg, "trace.idle=false") ||
        config_param(&cfg, "sim.check_every=1") || config_param(&cfg, fa))
        abort();
    cfg.check = 1;
    cfg.quiet = 1;
    struct run_result res;
    int rc = engine_run(&cfg, mode, &res);
    if (!rc)
        run_result_free(&res);
    config_free(&cfg);
    return rc;
}
#endif

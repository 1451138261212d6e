/* sweep_same.h: is one run of a sweep the same run as another? Two runs
 * are when their configurations are, as their results would record them
 * (config_json_write), whatever arguments made them: `seed = -, 1` makes
 * one run twice, '-' being the default seed 1. The planner (sweep_plan.c)
 * asks it of a group's runs where an axis gives '-' beside other values. */
#ifndef MV_SIM_SWEEP_SAME_H
#define MV_SIM_SWEEP_SAME_H
#include "sim/config.h"
#include <stdint.h>

/* Two 64-bit hashes of a run's configuration, and the run. */
struct sweep_same { uint64_t h[2]; unsigned run; };

struct sweep_same sweep_same_of(const struct sim_config *cfg, const char *mode, unsigned run);
/* The configuration as its result would record it (malloc'd JSON text). */
char *sweep_same_text(const struct sim_config *cfg, const char *mode);
/* Of same[n] (sorted here), the first run (*later) whose configuration an
 * earlier one (*earlier) has too: hashes that agree, then the texts
 * text(ctx, run) gives (malloc'd; NULL: none, not compared). 1 if one is,
 * else 0. */
typedef char *sweep_same_text_fn(void *ctx, unsigned run);
int sweep_same_first(struct sweep_same *same, unsigned n, sweep_same_text_fn *text, void *ctx, unsigned *earlier,
                     unsigned *later);

#endif

/* stats.c: names of the counters and cycle buckets (the output schema). */
#include "lib/stats.h"

#define MV_NAME(n) #n,
const char *const mv_counter_names[CNT__N] = { MV_COUNTERS(MV_NAME) };
const char *const mv_cycle_names[CYC__N] = { MV_CYCLES(MV_NAME) };

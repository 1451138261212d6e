/* report.h: the outputs of a run or a comparison: a side-by-side table on a
 * stream, and JSON / CSV files (schema: docs/output.md). Files are written to
 * a temporary name and renamed into place, so a failed run leaves nothing
 * half-written. */
#ifndef MV_SIM_REPORT_H
#define MV_SIM_REPORT_H
#include "sim/engine.h"
#include <stdio.h>

void report_table(FILE *f, const struct sim_config *cfg, const struct run_result *r, unsigned n);
int  report_json(const char *path, const struct sim_config *cfg, const struct run_result *r, unsigned n);
int  report_csv(const char *path, const struct sim_config *cfg, const struct run_result *r, unsigned n);

#endif

/* report.h: the outputs of a run or a comparison: a side-by-side table on a
 * stream, and JSON / CSV documents (schema: docs/output.md) that carry the
 * effective configuration, written through lib/outfile: every output path is
 * checked before the run, and all of them are written after it, or none. */
#ifndef MV_SIM_REPORT_H
#define MV_SIM_REPORT_H
#include "lib/outfile.h"
#include "sim/engine.h"
#include <stdio.h>

void report_table(FILE *f, const struct sim_config *cfg, const struct run_result *r, unsigned n);
/* The documents on a stream. 0, or -1 if the stream failed. */
int  report_json(FILE *f, const struct sim_config *cfg, const struct run_result *r, unsigned n);
int  report_csv(FILE *f, const struct sim_config *cfg, const struct run_result *r, unsigned n);

/* The --json and --csv outputs of one command (either may be NULL). */
struct report_files {
    struct outset set;
    int json, csv;   /* index in set, or -1 */
};
/* Check the paths before the run. -1 after mv_error. */
int  report_files_open(struct report_files *rf, const char *json, const char *csv);
/* An output goes to standard output: the table must go elsewhere. */
int  report_files_use_stdout(const struct report_files *rf);
/* Write every output, all or none. -1 after mv_error. */
int  report_files_commit(struct report_files *rf, const struct sim_config *cfg, const struct run_result *r,
                         unsigned n);
void report_files_close(struct report_files *rf);

#endif

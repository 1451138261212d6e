/* sweep_plan.h: a sweep spec checked against the registries and expanded
 * into independent runs of `memvirt run`, and the manifest file that lists
 * them (DIR/sweep.tsv) for GNU parallel jobs and Slurm array tasks.
 *
 * A run's id is a hash of its arguments, so a result (DIR/runs/ID.json) is
 * found again whatever its position in the spec: a resubmitted or edited
 * sweep skips every run whose result is already there. */
#ifndef MV_SIM_SWEEP_PLAN_H
#define MV_SIM_SWEEP_PLAN_H
#include "sim/sweep_spec.h"
#include <stdint.h>

struct sweep_run {
    char id[17];          /* 16 hex digits: FNV-1a 64 of args */
    char **vals;          /* one per column; NULL where not set (default, or not this workload's) */
    char *args;           /* the arguments of `memvirt run`, words separated by single spaces */
};

struct sweep_plan {
    char *spec;           /* the spec's name, for the manifest's first line */
    char **cols;          /* swept keys: [group,] mode, workload, seed, then the spec's keys */
    unsigned ncols;
    struct sweep_run *runs;
    unsigned nruns;
};

/* Check every key and value (messages "FILE:LINE:COL: ..."), then expand.
 * 0, or -1 after one mv_error. */
int  sweep_plan_build(const struct sweep_spec *s, struct sweep_plan *p);
/* A run's id is this hash (FNV-1a, 64 bits) of its arguments' text, in
 * 16 hex digits. */
uint64_t sweep_args_hash(const char *args);
void sweep_plan_free(struct sweep_plan *p);

/* Write the manifest atomically (path.tmp, then rename). 0 or -1 after mv_error. */
int  sweep_manifest_write(const struct sweep_plan *p, const char *path);
/* Read run `index` (0-based) of a manifest: its id and arguments (malloc'd),
 * which sweep_args_check has passed. 0, or -1 after mv_error naming the file
 * and line. *nruns gets the count. */
int  sweep_manifest_read(const char *path, unsigned long index, char id[17], char **args, unsigned long *nruns);
/* Visit every run line of a manifest, in order, with its line number,
 * index, id and arguments (as written: unchecked, possibly empty); a
 * visit that returns non-zero (after mv_error) stops it. 0, or -1 after
 * mv_error naming the file and line. *nruns gets the count read. */
typedef int sweep_manifest_fn(void *ctx, unsigned long lineno, unsigned long index, const char *id, const char *args);
int  sweep_manifest_each(const char *path, sweep_manifest_fn *fn, void *ctx, unsigned long *nruns);

/* Are args (a manifest's last field, which a user may edit) arguments of
 * `memvirt run` as a sweep writes them: pairs FLAG VALUE of --mode and
 * --workload (once each, known names), --seed and --profile (at most once;
 * the seed as run takes it), --at and --param? 0, or -1 with why[] filled
 * (no mv_error). */
int  sweep_args_check(const char *args, char *why, size_t n);

/* The flags a run's arguments are made of, in this order: what the
 * planner writes and what sweep_args_check takes. */
enum sweep_run_flag { SWEEP_MODE, SWEEP_WORKLOAD, SWEEP_SEED, SWEEP_PROFILE, SWEEP_AT, SWEEP_PARAM, SWEEP_NFLAGS };
extern const char *const sweep_run_flags[SWEEP_NFLAGS];

#endif

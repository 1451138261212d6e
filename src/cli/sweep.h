/* sweep.h: the pieces of `memvirt sweep` (cmd_sweep.c): running the pending
 * runs of a planned sweep through GNU parallel or a Slurm job array
 * (sweep_exec.c), and one run by its manifest index (what each parallel job
 * and array task executes). */
#ifndef MV_CLI_SWEEP_H
#define MV_CLI_SWEEP_H
#include "sim/sweep_plan.h"

struct sweep_opts {
    const char *dir;        /* absolute */
    const char *jobs;       /* -j for GNU parallel, or NULL: its default (one per core) */
    const char **sbatch;    /* extra #SBATCH options */
    unsigned nsbatch;
    int wait;               /* sbatch --wait */
    int submit;             /* 0: write the batch script only */
};

/* Indices (first of each id) of runs without a current result (none yet,
 * or a stale one: sweep_result_current). say: name the stale ones on stderr. */
unsigned sweep_pending(const struct sweep_plan *p, const char *dir, unsigned *out, int say);
/* 1 if run r has a result in dir that is current: its JSON's "revision" is
 * this memvirt's and its "params" are what r's arguments give now (a profile
 * file's contents included); 0 if none or a stale one (say: print why on
 * stderr, and that it runs again). sweep_stale.c. */
int sweep_result_current(const char *dir, const struct sweep_run *r, int say);
/* The configuration run arguments give today, as JSON text the way a
 * result records it (malloc'd), or NULL with why[] filled. files 0: without
 * reading the files they name (a profile file's costs, a trace's digest
 * are left at their defaults). sweep_planned.c. */
char *sweep_planned_json(const char *args, int files, char *why, size_t n);
/* Is done (a result's JSON document) a result of the run args describe:
 * its mode, workload, seed, profile, controls and check flag those the
 * arguments give, and so every parameter they set; a parameter they leave
 * at its default too, unless done comes from another memvirt revision
 * (whose defaults may differ) or the value comes from a file (a profile
 * file's cost.*, the digest a run takes of its trace). Reads no file the
 * arguments name. 1 if so; 0 with why[] saying the first difference
 * ("its 'seed' is 1, WHOSE 7"; whose: "the planned run's"). sweep_stale.c. */
struct json_t;
int sweep_result_of(struct json_t *done, const char *args, const char *whose, char *why, size_t n);
/* Path of run id's result: DIR/runs/ID.json (static buffer). */
const char *sweep_result_path(const char *dir, const char *id, const char *ext);

/* Can #SBATCH lines name the absolute directory abs (no space, no '%')?
 * 0, or -1 after mv_error. */
int sweep_slurm_dir_check(const char *abs);
/* Run the pending runs through GNU parallel: an exit status, or 128+SIG
 * when SIG (SIGINT, SIGTERM, SIGHUP) came while they ran: parallel was
 * told, and has stopped them. */
int sweep_exec_local(const struct sweep_opts *o, const unsigned *pending, unsigned n);
/* The signal that stopped sweep_exec_local, or 0. */
int sweep_interrupted(void);
int sweep_exec_slurm(const struct sweep_opts *o, const struct sweep_plan *p, const unsigned *pending, unsigned n);
/* `memvirt sweep _foreign DIR`, merge.py's helper: one line
 * "INDEX<TAB>WHY" on stdout for each manifest line whose result in DIR is
 * not of it (sweep_result_of). An exit status. sweep_stale.c. */
int sweep_foreign(const char *dir);
/* `memvirt sweep one DIR INDEX`. */
int sweep_one(const char *dir, const char *index);

#endif

/* progress.h: the progress display of run, compare and rerun on a
 * terminal: one line on standard error for all the runs under way, with
 * an estimate of the wall time left, redrawn by a thread of its own (so a
 * run's thread only publishes how far it is; engine_run_all). Nothing of
 * it reaches standard output or any result. */
#ifndef MV_SIM_PROGRESS_H
#define MV_SIM_PROGRESS_H
#include <stddef.h>
#include <stdint.h>

struct progress;

/* A display of n runs of the workload named, one per name; NULL (nothing
 * shown, every call below a no-op on it) when quiet, when standard error
 * is not a terminal, or when the thread cannot be started. */
struct progress *progress_start(const char *workload, const char *const *names, unsigned n, int quiet);
/* Run i has done frac of its work (0 to 1), at simulated second sim_s,
 * after refs references. From the run's own thread. */
void progress_set(struct progress *p, unsigned i, double frac, double sim_s, uint64_t refs);
/* Run i has ended (completed or failed). */
void progress_done(struct progress *p, unsigned i);
/* Stop the display and clear its line. */
void progress_stop(struct progress *p);

/* The estimate of the time left, as the line shows it: "about 45s left",
 * "about 3m05s left", "about 2h10m left", "about 3d04h left" (and "under
 * a second left", "more than 999 days left"); "" when
 * nothing can be said yet (fraction done 0, or under a second gone).
 * elapsed: wall seconds since the runs began; frac: the share of all
 * their work done. */
void progress_eta(char *buf, size_t n, double elapsed, double frac);

#endif

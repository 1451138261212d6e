/* parallel.c: running several modes on the same workload at once, one
 * thread per run, as many at a time as asked (compare --jobs, default: the
 * CPUs online). Runs share nothing but read-only configuration, so each
 * result is the one a run alone would give: output does not depend on the
 * number of threads or their timing. */
#include "sim/engine.h"
#include "lib/err.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

struct pool {
    const struct sim_config *cfg;
    const struct mode_def *const *modes;
    struct run_result *out;
    int *rc;
    unsigned n;
    atomic_uint next;
};

static void *worker(void *arg)
{
    struct pool *p = arg;
    for (unsigned i; (i = atomic_fetch_add(&p->next, 1)) < p->n;)
        p->rc[i] = engine_run(p->cfg, p->modes[i], &p->out[i]);
    return NULL;
}

unsigned engine_default_jobs(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (unsigned)n : 1;
}

int engine_run_all(const struct sim_config *cfg, const struct mode_def *const *modes, unsigned n,
                   struct run_result *out, unsigned jobs)
{
    int *rc = mv_calloc(n ? n : 1, sizeof *rc);
    struct sim_config quiet = *cfg;
    struct pool p = { cfg, modes, out, rc, n, 0 };
    if (jobs > n)
        jobs = n;
    if (jobs <= 1) {
        worker(&p);
    } else {
        quiet.quiet = 1;                 /* one progress line cannot show several runs */
        p.cfg = &quiet;
        pthread_t *t = mv_calloc(jobs, sizeof *t);
        for (unsigned i = 0; i < jobs; i++)
            if (pthread_create(&t[i], NULL, worker, &p))
                MV_ASSERT(0, "cannot start a run thread");
        for (unsigned i = 0; i < jobs; i++)
            pthread_join(t[i], NULL);
        free(t);
    }
    int failed = 0;
    for (unsigned i = 0; i < n; i++)
        failed |= rc[i] != 0;
    if (failed)   /* a failed run freed its own result; free the others' */
        for (unsigned i = 0; i < n; i++)
            if (!rc[i])
                run_result_free(&out[i]);
    free(rc);
    return failed ? -1 : 0;
}

/* parallel.c: running several modes on the same workload at once, one
 * thread per run, as many at a time as asked (compare --jobs, default: the
 * CPUs online). Runs share nothing but read-only configuration, so each
 * result is the one a run alone would give: output does not depend on the
 * number of threads or their timing. The runs' error lines are printed
 * after them, in mode order, each distinct line once: a fault of the
 * workload itself (a bad trace record) fails every mode the same way and
 * is said once, while a mode's own failure still shows. A mode whose guest
 * ran out of memory or whose domain the hypervisor crashed leaves the
 * others' results (engine.h). */
#include "sim/engine.h"
#include "lib/err.h"
#include "sim/progress.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A run thread's stack: the engine needs far less (a run went through
 * in 64 KiB); the rest is address space never touched. */
#define RUN_STACK ((size_t)16 << 20)

struct pool {
    const struct sim_config *cfg;
    const struct mode_def *const *modes;
    struct run_result *out;
    int *rc;
    char **msg;                     /* each run's error lines (NULL: printed as they come) */
    struct progress *shown;         /* the progress display, or NULL */
    unsigned n;
    atomic_uint next;
};

static void *worker(void *arg)
{
    struct pool *p = arg;
    for (unsigned i; (i = atomic_fetch_add(&p->next, 1)) < p->n;) {
        mv_error_defer(p->msg != NULL);
        p->rc[i] = engine_run_shown(p->cfg, p->modes[i], &p->out[i], p->shown, i);
        progress_done(p->shown, i);
        if (p->msg)
            p->msg[i] = mv_error_take();
        mv_error_defer(0);
    }
    return NULL;
}

/* Print the runs' lines in order, a line already printed once skipped. */
static void print_once(char **msg, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        for (char *l = msg[i], *e; l && *l; l = e + 1) {
            e = strchr(l, '\n');
            int seen = 0;
            for (unsigned j = 0; j <= i && !seen; j++)
                for (char *m = msg[j], *f; m && *m && !seen && (j < i || m < l); m = f + 1) {
                    f = strchr(m, '\n');
                    seen = f - m == e - l && !memcmp(m, l, (size_t)(e - l));
                }
            if (!seen)
                fwrite(l, 1, (size_t)(e - l + 1), stderr);
        }
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
    char **msg = n > 1 ? mv_calloc(n, sizeof *msg) : NULL;
    const char **names = mv_calloc(n ? n : 1, sizeof *names);
    for (unsigned i = 0; i < n; i++)
        names[i] = modes[i]->name;
    /* one line for all the runs, drawn by a thread of its own */
    struct pool p = { cfg, modes, out, rc, msg, progress_start(cfg->wl->name, names, n, cfg->quiet), n, 0 };
    if (jobs > n)
        jobs = n;
    if (jobs <= 1) {
        worker(&p);
    } else {
        pthread_t *t = mv_calloc(jobs, sizeof *t);
        unsigned started = 0;
        /* the threads the host lets us start (a process or memory limit
         * may refuse some); this one works too, so there is always one,
         * and the runs are taken from the pool whoever runs them */
        /* each with a stack of RUN_STACK: glibc's default is the stack
         * limit as it was when memvirt started, which main() may have had
         * to raise (`ulimit -S -s 20` was a crash in these threads) */
        pthread_attr_t attr;
        int sized = !pthread_attr_init(&attr);
        if (sized && pthread_attr_setstacksize(&attr, RUN_STACK)) {
            pthread_attr_destroy(&attr);
            sized = 0;
        }
        while (started + 1 < jobs && !pthread_create(&t[started], sized ? &attr : NULL, worker, &p))
            started++;
        if (sized)
            pthread_attr_destroy(&attr);
        worker(&p);
        for (unsigned i = 0; i < started; i++)
            pthread_join(t[i], NULL);
        free(t);
    }
    progress_stop(p.shown);
    free(names);
    if (msg) {
        print_once(msg, n);
        for (unsigned i = 0; i < n; i++)
            free(msg[i]);
        free(msg);
    }
    int failed = 0, crashed = 0, other = 0;
    for (unsigned i = 0; i < n; i++) {
        failed |= rc[i] != 0;
        crashed |= rc[i] == ENGINE_DOMAIN_CRASHED;
        other |= rc[i] != 0 && rc[i] != ENGINE_GUEST_OOM && rc[i] != ENGINE_DOMAIN_CRASHED;
    }
    /* A failed run freed its own result. A guest that ran out of memory
     * (the mode's memory overhead) and a domain the hypervisor crashed (the
     * mode's hypervisor refusing what the guest did) are outcomes of the
     * mode, so the other modes' results stay for the table; any other
     * failure keeps none. */
    for (unsigned i = 0; failed && i < n; i++) {
        if (!rc[i] && other)
            run_result_free(&out[i]);
        out[i].failure = other || !rc[i] ? RUN_COMPLETED   /* else rc[i] is one of the two */
                         : rc[i] == ENGINE_GUEST_OOM ? RUN_GUEST_OOM : RUN_DOMAIN_CRASHED;
    }
    free(rc);
    return !failed ? 0 : other ? -1 : crashed ? ENGINE_DOMAIN_CRASHED : ENGINE_GUEST_OOM;
}

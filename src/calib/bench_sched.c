/* bench_sched.c: context switches (cost.ctx_switch, cost.cr3_write), as
 * lmbench's lat_ctx measures them: two tasks pinned to one CPU pass a byte
 * back and forth through two pipes, so every round trip is two switches,
 * two writes and two reads. Between two processes each switch also changes
 * the address space (a CR3 load); between two threads of one process it
 * does not. Half the thread round trip bounds the scheduler's work of one
 * switch from above (it includes a pipe read and write); half the
 * difference bounds the address-space switch from above (it includes any
 * TLB refills the switch causes). */
#define _GNU_SOURCE
#include "calib/calib.h"
#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#define TRIPS 50   /* per sample */

struct pipes { int ab[2], ba[2]; };

static void echo(struct pipes *p)
{
    char b;
    while (read(p->ab[0], &b, 1) == 1 && b)
        if (write(p->ba[1], &b, 1) != 1)
            break;
}

static void *echo_thread(void *arg)
{
    echo(arg);
    return NULL;
}

static double trips(const struct calib *c, struct pipes *p)
{
    char b = 1;
    uint64_t t0 = calib_tsc();
    for (int i = 0; i < TRIPS; i++)
        if (write(p->ab[1], &b, 1) != 1 || read(p->ba[0], &b, 1) != 1)
            return -1;
    return calib_ns(c, calib_tsc() - t0) / TRIPS;
}

static void close_pipes(struct pipes *p)
{
    close(p->ab[0]);
    close(p->ab[1]);
    close(p->ba[0]);
    close(p->ba[1]);
}

static double one_rep(const struct calib *c, int threads)
{
    struct pipes p;
    if (pipe(p.ab))
        return -1;
    if (pipe(p.ba)) {
        close(p.ab[0]);
        close(p.ab[1]);
        return -1;
    }
    pthread_t th;
    pid_t pid = -1, parent = getpid();
    if (threads ? pthread_create(&th, NULL, echo_thread, &p) != 0 : (pid = fork()) < 0) {
        close_pipes(&p);
        return -1;
    }
    if (pid == 0) {
        /* calibrate killed (TERM) must not leave this child blocked for ever
         * in read: it holds only its own ends, so the read sees EOF, and it
         * dies with calibrate in any case */
        close(p.ab[1]);
        close(p.ba[0]);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(0);
        echo(&p);
        _exit(0);
    }
    double ns = trips(c, &p);
    char stop = 0;   /* ends the partner's loop */
    if (write(p.ab[1], &stop, 1) != 1 && pid > 0)
        kill(pid, SIGKILL);
    if (threads)
        pthread_join(th, NULL);
    else
        waitpid(pid, NULL, 0);
    close_pipes(&p);
    return ns;
}

static double proc_rep(const struct calib *c, void *arg) { (void)arg; return one_rep(c, 0); }
static double thread_rep(const struct calib *c, void *arg) { (void)arg; return one_rep(c, 1); }

void bench_sched(const struct calib *c, struct sched_result *out)
{
    calib_repeat(c, proc_rep, NULL, &out->proc_rt);
    calib_repeat(c, thread_rep, NULL, &out->thread_rt);
    out->ok = out->proc_rt.lo > 0 && out->thread_rt.lo > 0;
}

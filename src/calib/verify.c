/* verify.c: `memvirt calibrate --verify PROFILE`: memvirt's native model with
 * the profile against the same operations on this host.
 *
 * Rows:
 *   lmbench fork+exit, fork+execve, fork+sh   mean latency of one operation;
 *   memwalk fault-heavy   ns per reference of the walk phase, minus the same
 *                         run without remapping: what the churn of unmapping
 *                         and faulting memory in again costs;
 *   memwalk TLB-heavy     ns per reference of the walk phase (a pointer
 *                         chase), 4 KiB pages minus 2 MiB pages: what
 *                         translation costs.
 * memvirt models translation and the kernel's memory management, not the
 * data accesses themselves (cost.ref is a cycle); the memwalk rows subtract
 * a baseline run, on both sides alike, so that what is compared is what
 * the model models. fork+exit and fork+execve are the loops calibrate
 * fitted exec_fixed, fork_fixed and exit_fixed to, re-measured; fork+sh and
 * the memwalk rows were not fitted to. */
#define _GNU_SOURCE
#include "calib/calib.h"
#include "lib/err.h"
#include <errno.h>
#include <math.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define MW_REFS "memwalk.refs=2000000"
#define MW_REFS_N 2000000.0

static const char *const fault_heavy[] = { "memwalk.ws_mb=64", "memwalk.remap_every=2000", "memwalk.remap_kb=512",
                                           MW_REFS, NULL };
static const char *const fault_base[] = { "memwalk.ws_mb=64", MW_REFS, NULL };
static const char *const tlb_heavy[] = { "memwalk.ws_mb=1024", "memwalk.pattern=chase", MW_REFS, NULL };
static const char *const tlb_base[] = { "memwalk.ws_mb=1024", "memwalk.pattern=chase", "memwalk.page_size=2m",
                                        MW_REFS, NULL };
static const char *const chase_heavy[] = { "memwalk.ws_mb=1024", "memwalk.pattern=chase", "memwalk.write_pct=0",
                                           MW_REFS, NULL };
static const char *const chase_base[] = { "memwalk.ws_mb=1024", "memwalk.pattern=chase", "memwalk.write_pct=0",
                                          "memwalk.page_size=2m", MW_REFS, NULL };

struct replay_arg { const char *const *params; double huge; };

static double replay_rep(const struct calib *c, void *arg)
{
    struct replay_arg *ra = arg;
    double ns, huge;
    if (replay_memwalk(c, ra->params, &ns, &huge))
        return -1;
    if (huge >= 0 && (ra->huge < 0 || huge < ra->huge))
        ra->huge = huge;   /* the least covered run */
    return ns / MW_REFS_N;
}

/* Host: median over repetitions of (run a - run b), alternating; b_huge:
 * the least share of b's working set on huge pages over its runs (-1: not
 * known). -1 (why[] says why) if a replay failed. */
static int host_diff(struct calib *c, const char *const *a, const char *const *b, struct calib_stat *out,
                     double *b_huge, char *why, size_t n)
{
    unsigned reps = c->reps < 7 ? c->reps : 7;   /* each run takes a while */
    double v[7];
    struct replay_arg ra = { a, -1 }, rb = { b, -1 };
    int quiet = mv_error_quiet(1);   /* the reason goes into the row */
    int bad = replay_rep(c, &ra) < 0;              /* warm-up */
    for (unsigned i = 0; i < reps && !bad; i++) {
        double x = replay_rep(c, &ra), y = replay_rep(c, &rb);
        bad = x < 0 || y < 0;
        v[i] = x - y;
    }
    mv_error_quiet(quiet);
    if (bad) {
        snprintf(why, n, "%s", mv_last_error());
        return -1;
    }
    calib_stats(v, reps, out);
    *b_huge = rb.huge;
    return 0;
}

static void row(const char *name, const char *what, double pred, const struct calib_stat *m)
{
    double err = m->med != 0 ? (pred - m->med) / fabs(m->med) * 100 : NAN;
    printf("| %-24s | %-34s | %12.1f | %12.1f | %9.1f..%-9.1f | %+7.1f%% |\n", name, what, pred, m->med, m->lo, m->hi, err);
}

/* A row the host could not give: said in its place, and counted. */
static void not_measured(unsigned *missing, const char *name, const char *what, double pred, const char *why)
{
    printf("| %-24s | %-34s | %12.1f | not measured: %s | | |\n", name, what, pred, why);
    ++*missing;
}

static double memwalk_pred(const char *const *a, const char *const *b, const struct cost *cost)
{
    return (model_memwalk_ns(a, cost) - model_memwalk_ns(b, cost)) / MW_REFS_N;
}

/* Row i's model figure (the order of verify_pred). */
static double predict(unsigned i, const struct cost *cost)
{
    switch (i) {
    case 0: return model_eval(&MQ_FORK_EXIT, cost);
    case 1: return model_eval(&MQ_FORK_EXEC, cost);
    case 2: return model_eval(&MQ_FORK_SH, cost);
    case 3: return memwalk_pred(fault_heavy, fault_base, cost);
    case 4: return memwalk_pred(tlb_heavy, tlb_base, cost);
    default: return memwalk_pred(chase_heavy, chase_base, cost);
    }
}

/* The predictions in this process (verify_predict runs this in a child). */
static int predict_here(const struct cost *cost, const char *path, struct verify_pred *out)
{
    static const char *const rows[] = { "lmbench fork+exit", "lmbench fork+execve", "lmbench fork+sh",
                                        "memwalk fault-heavy", "memwalk TLB-heavy", "memwalk TLB-heavy, loads" };
    double *v[] = { &out->fork_exit, &out->fork_exec, &out->fork_sh, &out->fault, &out->tlb, &out->chase };
    int quiet = mv_error_quiet(1);   /* the engine's reason goes into our one line */
    unsigned i = 0;
    while (i < 6 && isfinite(*v[i] = predict(i, cost)))
        i++;
    mv_error_quiet(quiet);
    if (i < 6)
        return mv_error("calibrate --verify: %s: the native model cannot run under this profile (row '%s'): %s",
                        path, rows[i], mv_last_error());
    return 0;
}

/* The model runs in a child, which pipes its figures back: the model's
 * memwalks (one of a 1 GiB working set) left this process 37-62 MB
 * resident, so the host's fork+exit it then timed forked a process many
 * times bigger than calibrate fitted at (about 2.8 MB): -63% against the
 * fit. The child's pages go with it; this process stays as small as
 * calibrate's. */
int verify_predict(const struct cost *cost, const char *path, struct verify_pred *out)
{
    int fd[2];
    if (pipe(fd))
        return mv_error("calibrate --verify: pipe: %s", strerror(errno));
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(fd[0]);
        close(fd[1]);
        return mv_error("calibrate --verify: fork: %s", strerror(errno));
    }
    if (pid == 0) {   /* the error, if any, is said here: one line */
        close(fd[0]);
        struct verify_pred p;
        int bad = predict_here(cost, path, &p);
        fflush(stderr);
        _exit(bad || write(fd[1], &p, sizeof p) != (ssize_t)sizeof p ? 2 : 0);
    }
    close(fd[1]);
    size_t n = 0;
    ssize_t got;
    while (n < sizeof *out && ((got = read(fd[0], (char *)out + n, sizeof *out - n)) > 0 || (got < 0 && errno == EINTR)))
        n += got > 0 ? (size_t)got : 0;
    close(fd[0]);
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return mv_error("calibrate --verify: waitpid: %s", strerror(errno));
    if (WIFEXITED(st) && WEXITSTATUS(st) == 2)
        return -1;   /* the child said why */
    if (!WIFEXITED(st) || WEXITSTATUS(st) || n != sizeof *out)
        return mv_error("calibrate --verify: %s: the native model's run under this profile %s%s", path,
                        WIFSIGNALED(st) ? "was ended by signal " : "gave no figures",
                        WIFSIGNALED(st) ? strsignal(WTERMSIG(st)) : "");
    return 0;
}

/* One memwalk row: the host's a minus b against the model's `pred`; the
 * 2 MiB baseline's huge-page coverage into huge[]. */
static void memwalk_row(struct calib *c, unsigned *missing, const char *name, const char *what,
                        const char *const *a, const char *const *b, double pred, double *huge)
{
    struct calib_stat m;
    char why[600];
    *huge = -1;
    if (host_diff(c, a, b, &m, huge, why, sizeof why))
        not_measured(missing, name, what, pred, why);
    else
        row(name, what, pred, &m);
    fflush(stdout);
}

int calibrate_verify(struct calib *c, const char *path, const struct verify_pred *pred)
{
    struct profile p;
    if (profile_load(&p, path))
        return -1;
    /* the same check as calibrate's: a busy machine inflates the host's side */
    struct calib_load load0, load1;
    calib_load_read(&load0);
    calib_load_warn(&load0, "at the start");
    struct calib_host h;
    calib_host(&h);
    const struct profile_line *cpu = profile_find(&p, "host.cpu");
    printf("profile %s (measured on: %s)\nthis host: %s\npinned to CPU %d, core clock %.3f GHz\n\n", path,
           cpu ? cpu->value : "not recorded", h.cpu, c->cpu, c->core_ghz);
    if (cpu && strcmp(cpu->value, h.cpu))
        calib_log(c, "warning: the profile was measured on another CPU model\n");

    printf("| %-24s | %-34s | %12s | %12s | %-20s | %8s |\n", "workload", "quantity (ns)", "predicted", "measured",
           "measured spread", "error");
    printf("|%s|%s|%s|%s|%s|%s|\n", "--------------------------", "------------------------------------",
           "-------------:", "-------------:", "----------------------", "--------:");
    fflush(stdout);
    unsigned missing = 0;
    calib_log(c, "lmbench on the host ...\n");
    struct proc_result pr;
    bench_proc(c, &pr, 1);
    if (pr.hung) {
        profile_free(&p);
        return calib_hello_hung(c);
    }
    row("lmbench fork+exit", "latency", pred->fork_exit, &pr.fork_exit);
    if (pr.exec_ok)
        row("lmbench fork+execve", "latency", pred->fork_exec, &pr.fork_exec);
    else
        not_measured(&missing, "lmbench fork+execve", "latency", pred->fork_exec,
                     "the static test program (--hello, memvirt-hello) could not be run");
    if (pr.sh_ok)
        row("lmbench fork+sh", "latency", pred->fork_sh, &pr.fork_sh);
    else
        not_measured(&missing, "lmbench fork+sh", "latency", pred->fork_sh,
                     pr.exec_ok ? "/bin/sh -c running the static test program failed"
                                : "it runs the static test program (--hello) through /bin/sh, and that could not be run");
    fflush(stdout);

    double huge_tlb, huge_chase, huge_fault;
    calib_log(c, "memwalk fault-heavy on the host ...\n");
    memwalk_row(c, &missing, "memwalk fault-heavy", "per reference, minus no remapping", fault_heavy, fault_base,
                pred->fault, &huge_fault);
    calib_log(c, "memwalk TLB-heavy on the host ...\n");
    memwalk_row(c, &missing, "memwalk TLB-heavy", "per reference, 4 KiB minus 2 MiB", tlb_heavy, tlb_base,
                pred->tlb, &huge_tlb);
    calib_log(c, "memwalk TLB-heavy, loads only, on the host ...\n");
    memwalk_row(c, &missing, "memwalk TLB-heavy, loads", "per reference, 4 KiB minus 2 MiB", chase_heavy,
                chase_base, pred->chase, &huge_chase);
    printf("\nfault-heavy: %s; base: %s\nTLB-heavy: %s (20%% writes); base: %s\n"
           "TLB-heavy, loads: the same with memwalk.write_pct=0\n", "ws_mb=64 remap_every=2000 remap_kb=512",
           "the same without remapping", "ws_mb=1024 pattern=chase", "the same on 2 MiB pages");
    printf("memwalk rows: refs=2000000, seed 1; the host replays memwalk's own events (src/calib/replay.c).\n");
    /* The 2 MiB baselines hold only if the kernel gave huge pages (THP may
     * fall back to 4 KiB pages, e.g. when memory is fragmented). */
    const double hs[] = { huge_tlb, huge_chase };
    const char *const hn[] = { "TLB-heavy", "TLB-heavy, loads" };
    for (unsigned i = 0; i < 2; i++) {
        if (hs[i] < 0) {
            printf("%s: the 2 MiB baseline's huge-page coverage is not known (no /proc/self/smaps_rollup, "
                   "or the row was not measured)\n", hn[i]);
            continue;
        }
        printf("%s: the 2 MiB baseline had %.0f%% of its working set on huge pages (the least of its runs)\n",
               hn[i], hs[i] * 100);
        if (hs[i] < 0.9)
            calib_log(c, "warning: %s: only %.0f%% of the 2 MiB baseline was on huge pages: the row understates "
                         "what translation costs\n", hn[i], hs[i] * 100);
    }
    (void)huge_fault;
    calib_load_read(&load1);
    calib_load_warn(&load1, "at the end");
    char load_note[512];
    calib_load_note(&load0, &load1, load_note, sizeof load_note);
    printf("%s\n", load_note);
    if (missing)
        mv_error("calibrate --verify: %u row%s not measured (see the table)", missing, missing == 1 ? "" : "s");
    profile_free(&p);
    return missing ? -1 : 0;
}

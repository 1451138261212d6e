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
#include "calib/calib.h"
#include "lib/err.h"
#include <math.h>
#include <string.h>

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

struct replay_arg { const char *const *params; };

static double replay_rep(const struct calib *c, void *arg)
{
    double ns;
    if (replay_memwalk(c, ((struct replay_arg *)arg)->params, &ns))
        return -1;
    return ns / MW_REFS_N;
}

/* Host: median over repetitions of (run a - run b), alternating. */
static int host_diff(struct calib *c, const char *const *a, const char *const *b, struct calib_stat *out)
{
    unsigned reps = c->reps < 7 ? c->reps : 7;   /* each run takes a while */
    double v[7];
    struct replay_arg ra = { a }, rb = { b };
    replay_rep(c, &ra);                          /* warm-up */
    for (unsigned i = 0; i < reps; i++) {
        double x = replay_rep(c, &ra), y = replay_rep(c, &rb);
        if (x < 0 || y < 0)
            return -1;
        v[i] = x - y;
    }
    calib_stats(v, reps, out);
    return 0;
}

static void row(const char *name, const char *what, double pred, const struct calib_stat *m)
{
    double err = m->med != 0 ? (pred - m->med) / fabs(m->med) * 100 : NAN;
    printf("| %-24s | %-34s | %12.1f | %12.1f | %9.1f..%-9.1f | %+7.1f%% |\n", name, what, pred, m->med, m->lo, m->hi, err);
}

int calibrate_verify(struct calib *c, const char *path)
{
    struct profile p;
    if (profile_load(&p, path))
        return -1;
    struct calib_host h;
    calib_host(&h);
    const struct profile_line *cpu = profile_find(&p, "host.cpu");
    printf("profile %s (measured on: %s)\nthis host: %s\npinned to CPU %d, core clock %.3f GHz\n\n", path,
           cpu ? cpu->value : "not recorded", h.cpu, c->cpu, c->core_ghz);
    if (cpu && strcmp(cpu->value, h.cpu))
        calib_log(c, "warning: the profile was measured on another CPU model\n");
    const struct cost *cost = &p.cost;

    printf("| %-24s | %-34s | %12s | %12s | %-20s | %8s |\n", "workload", "quantity (ns)", "predicted", "measured",
           "measured spread", "error");
    printf("|%s|%s|%s|%s|%s|%s|\n", "--------------------------", "------------------------------------",
           "-------------:", "-------------:", "----------------------", "--------:");
    fflush(stdout);
    calib_log(c, "lmbench on the host ...\n");
    struct proc_result pr;
    bench_proc(c, &pr, 1);
    row("lmbench fork+exit", "latency", model_eval(&MQ_FORK_EXIT, cost), &pr.fork_exit);
    if (pr.exec_ok)
        row("lmbench fork+execve", "latency", model_eval(&MQ_FORK_EXEC, cost), &pr.fork_exec);
    if (pr.sh_ok)
        row("lmbench fork+sh", "latency", model_eval(&MQ_FORK_SH, cost), &pr.fork_sh);
    fflush(stdout);

    calib_log(c, "memwalk fault-heavy on the host ...\n");
    struct calib_stat m;
    if (!host_diff(c, fault_heavy, fault_base, &m)) {
        double pred = (model_memwalk_ns(fault_heavy, cost) - model_memwalk_ns(fault_base, cost)) / MW_REFS_N;
        row("memwalk fault-heavy", "per reference, minus no remapping", pred, &m);
    }
    fflush(stdout);
    calib_log(c, "memwalk TLB-heavy on the host ...\n");
    if (!host_diff(c, tlb_heavy, tlb_base, &m)) {
        double pred = (model_memwalk_ns(tlb_heavy, cost) - model_memwalk_ns(tlb_base, cost)) / MW_REFS_N;
        row("memwalk TLB-heavy", "per reference, 4 KiB minus 2 MiB", pred, &m);
    }
    calib_log(c, "memwalk TLB-heavy, loads only, on the host ...\n");
    if (!host_diff(c, chase_heavy, chase_base, &m)) {
        double pred = (model_memwalk_ns(chase_heavy, cost) - model_memwalk_ns(chase_base, cost)) / MW_REFS_N;
        row("memwalk TLB-heavy, loads", "per reference, 4 KiB minus 2 MiB", pred, &m);
    }
    printf("\nfault-heavy: %s; base: %s\nTLB-heavy: %s (20%% writes); base: %s\n"
           "TLB-heavy, loads: the same with memwalk.write_pct=0\n", "ws_mb=64 remap_every=2000 remap_kb=512",
           "the same without remapping", "ws_mb=1024 pattern=chase", "the same on 2 MiB pages");
    printf("memwalk rows: refs=2000000, seed 1; the host replays memwalk's own events (src/calib/replay.c).\n");
    profile_free(&p);
    return 0;
}

/* bench_speed.c: simulation speed, `make bench`.
 *
 * For each stream, memvirt (engine_run, as `memvirt run` does) and the
 * reference loop (refloop.h: the least a TLB simulator must do) consume the
 * same references: the reference loop takes them from memwalk's own
 * generator, with the same parameters and seed. Each is timed in CPU time
 * of this process (other users of the machine's cores do not count), the
 * set-up (mapping and prefaulting the working set) excluded by subtracting
 * a one-reference run. Each row is measured --reps times, the two loops one
 * after the other, and the medians of the rates and of the per-repetition
 * ratios are printed. Rows:
 *   seq, random 64 MiB, random 1 GiB (native memvirt against the reference);
 *   hap on random 64 MiB and 1 GiB (hap against native memvirt: the 2D walk);
 *   forkstorm: CPU seconds per simulated minute, every registered mode.
 * Wall-clock and CPU timing belong here, never in unit tests.
 *
 *   bench_speed [--reps N] [--scale F] [--minutes M] [--rows seq,rand64,rand1g,hap,forkstorm]
 *   bench_speed --refloop PATTERN WS_MB REFS   (the reference loop alone, for callgrind)
 */
#include "lib/err.h"
#include "refloop.h"
#include "sim/config.h"
#include "sim/engine.h"
#include "sim/machine.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

struct stream {
    const char *name, *pattern;
    unsigned ws_mb;
    uint64_t refs;
};

static void config(struct sim_config *cfg, const char *workload, const char *const *kv)
{
    if (config_init(cfg, workload))
        exit(1);
    cfg->quiet = 1;
    for (; *kv; kv++)
        if (config_param(cfg, *kv))
            exit(1);
    if (config_validate(cfg))
        exit(1);
}

static void stream_config(struct sim_config *cfg, const struct stream *s, uint64_t refs)
{
    char p[3][64];
    snprintf(p[0], sizeof p[0], "memwalk.refs=%llu", (unsigned long long)refs);
    snprintf(p[1], sizeof p[1], "memwalk.ws_mb=%u", s->ws_mb);
    snprintf(p[2], sizeof p[2], "memwalk.pattern=%s", s->pattern);
    const char *kv[] = { p[0], p[1], p[2], NULL };
    config(cfg, "memwalk", kv);
}

/* memvirt on the stream: CPU seconds; *miss gets the TLB misses. */
static double run_memvirt(const struct stream *s, uint64_t refs, const char *mode, uint64_t *miss)
{
    struct sim_config cfg;
    struct run_result res;
    stream_config(&cfg, s, refs);
    double t0 = cpu_now();
    if (engine_run(&cfg, mode_find(mode), &res))
        exit(1);
    double t = cpu_now() - t0;
    *miss = res.st.cnt[CNT_tlb_miss];
    run_result_free(&res);
    config_free(&cfg);
    return t;
}

/* The reference loop on the same references, from memwalk's generator. */
static double run_ref(const struct stream *s, uint64_t refs, struct refloop_counts *n)
{
    struct sim_config cfg;
    stream_config(&cfg, s, refs);
    double t0 = cpu_now();
    struct refloop *r = refloop_new();
    void *wl = cfg.wl->create(cfg.wl_cfg, cfg.seed);
    for (;;) {
        struct event ev;
        cfg.wl->next(wl, &ev);
        if (ev.type == EV_END)
            break;
        if (ev.type == EV_ACCESS)
            refloop_batch(r, ev.batch, ev.n);
    }
    cfg.wl->destroy(wl);
    *n = refloop_counts(r);
    refloop_free(r);
    double t = cpu_now() - t0;
    config_free(&cfg);
    return t;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, unsigned n)
{
    qsort(v, n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

#define MAX_REPS 15

/* memvirt (mode) against the reference loop on one stream. */
static void row_ref(const struct stream *s, unsigned reps)
{
    double rr[MAX_REPS], mr[MAX_REPS], q[MAX_REPS];
    uint64_t miss1, missn;
    struct refloop_counts c1, cn;
    for (unsigned i = 0; i < reps; i++) {
        double r = run_ref(s, s->refs, &cn) - run_ref(s, 1, &c1);
        double m = run_memvirt(s, s->refs, "native", &missn) - run_memvirt(s, 1, "native", &miss1);
        rr[i] = (double)(s->refs - 1) / r;
        mr[i] = (double)(s->refs - 1) / m;
        q[i] = mr[i] / rr[i];
    }
    double n = (double)(s->refs - 1);
    printf("| %-22s | %5.1f%% | %5.1f%% | %7.1f M/s | %7.1f M/s | %5.2f |\n", s->name,
           100.0 * (double)(missn - miss1) / n, 100.0 * (double)(cn.walks - c1.walks) / n,
           median(rr, reps) / 1e6, median(mr, reps) / 1e6, median(q, reps));
    fflush(stdout);
}

/* hap against native memvirt on one stream. */
static void row_hap(const struct stream *s, unsigned reps)
{
    double nr[MAX_REPS], hr[MAX_REPS], q[MAX_REPS];
    uint64_t m1, mn;
    for (unsigned i = 0; i < reps; i++) {
        double t_n = run_memvirt(s, s->refs, "native", &mn) - run_memvirt(s, 1, "native", &m1);
        double t_h = run_memvirt(s, s->refs, "hap", &mn) - run_memvirt(s, 1, "hap", &m1);
        nr[i] = (double)(s->refs - 1) / t_n;
        hr[i] = (double)(s->refs - 1) / t_h;
        q[i] = hr[i] / nr[i];
    }
    printf("| %-22s | %5.1f%% | %7.1f M/s | %7.1f M/s | %5.2f |\n", s->name,
           100.0 * (double)(mn - m1) / (double)(s->refs - 1), median(nr, reps) / 1e6,
           median(hr, reps) / 1e6, median(q, reps));
    fflush(stdout);
}

static void row_forkstorm(const struct mode_def *mode, double minutes, unsigned reps)
{
    double t[MAX_REPS];
    char p[64];
    snprintf(p, sizeof p, "forkstorm.minutes=%g", minutes);
    const char *kv[] = { p, NULL };
    uint64_t refs = 0;
    for (unsigned i = 0; i < reps; i++) {
        struct sim_config cfg;
        struct run_result res;
        config(&cfg, "forkstorm", kv);
        double t0 = cpu_now();
        if (engine_run(&cfg, mode, &res))
            exit(1);
        t[i] = (cpu_now() - t0) / minutes;
        refs = res.st.cnt[CNT_refs];
        run_result_free(&res);
        config_free(&cfg);
    }
    printf("| %-14s | %8.3f s | %12.1f M |\n", mode->name, median(t, reps),
           (double)refs / minutes / 1e6);
    fflush(stdout);
}

static int want(const char *rows, const char *row)
{
    size_t n = strlen(row);
    for (const char *p = rows; (p = strstr(p, row)); p += n)
        if ((p == rows || p[-1] == ',') && (p[n] == ',' || !p[n]))
            return 1;
    return 0;
}

int main(int argc, char **argv)
{
    unsigned reps = 3;
    double scale = 1, minutes = 1;
    const char *rows = "seq,rand64,rand1g,hap,forkstorm";
    if (argc == 5 && !strcmp(argv[1], "--refloop")) {
        const struct stream s = { "refloop", argv[2], (unsigned)atoi(argv[3]), strtoull(argv[4], NULL, 10) };
        struct refloop_counts n;
        run_ref(&s, s.refs, &n);
        printf("%llu references, %llu walks\n", (unsigned long long)n.refs, (unsigned long long)n.walks);
        return 0;
    }
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--reps") && i + 1 < argc)
            reps = (unsigned)atoi(argv[++i]);
        else if (!strcmp(argv[i], "--scale") && i + 1 < argc)
            scale = atof(argv[++i]);
        else if (!strcmp(argv[i], "--minutes") && i + 1 < argc)
            minutes = atof(argv[++i]);
        else if (!strcmp(argv[i], "--rows") && i + 1 < argc)
            rows = argv[++i];
        else {
            fprintf(stderr, "usage: bench_speed [--reps N (1-%d)] [--scale F] [--minutes M] "
                            "[--rows seq,rand64,rand1g,hap,forkstorm]\n", MAX_REPS);
            return 2;
        }
    }
    if (reps < 1 || reps > MAX_REPS || !(scale > 0) || !(minutes > 0)) {
        fprintf(stderr, "bench_speed: --reps 1-%d, --scale and --minutes above 0\n", MAX_REPS);
        return 2;
    }
#define REFS(n) ((uint64_t)((n) * scale) > 1 ? (uint64_t)((n) * scale) : 2)
    const struct stream seq = { "seq, 64 MiB", "seq", 64, REFS(100e6) };
    const struct stream r64 = { "random, 64 MiB", "random", 64, REFS(20e6) };
    const struct stream r1g = { "random, 1 GiB", "random", 1024, REFS(10e6) };
    const struct stream h64 = { "random, 64 MiB", "random", 64, REFS(10e6) };
    const struct stream h1g = { "random, 1 GiB", "random", 1024, REFS(4e6) };
    printf("CPU time of this process; medians of %u repetitions; set-up excluded.\n\n", reps);
    if (want(rows, "seq") || want(rows, "rand64") || want(rows, "rand1g")) {
        printf("memvirt (native) against the reference loop, same references:\n\n");
        printf("| stream                 | memvirt TLB miss | ref. walks | reference loop | memvirt | ratio |\n");
        printf("| --- | ---: | ---: | ---: | ---: | ---: |\n");
        if (want(rows, "seq"))
            row_ref(&seq, reps);
        if (want(rows, "rand64"))
            row_ref(&r64, reps);
        if (want(rows, "rand1g"))
            row_ref(&r1g, reps);
        printf("\n");
    }
    if (want(rows, "hap")) {
        printf("hap (2D walks) against native memvirt, same references:\n\n");
        printf("| stream                 | hap TLB miss | native | hap | ratio |\n");
        printf("| --- | ---: | ---: | ---: | ---: |\n");
        row_hap(&h64, reps);
        row_hap(&h1g, reps);
        printf("\n");
    }
    if (want(rows, "forkstorm")) {
        printf("forkstorm, CPU time per simulated minute (%g simulated minutes a run):\n\n", minutes);
        printf("| mode           | CPU per sim. minute | refs per sim. minute |\n");
        printf("| --- | ---: | ---: |\n");
        for (unsigned i = 0; i < mode_count(); i++)
            row_forkstorm(mode_at(i), minutes, reps);
    }
    return 0;
}

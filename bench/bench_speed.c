/* bench_speed.c: simulation speed, `make bench`.
 *
 * For each stream, memvirt (engine_run, as `memvirt run` does) and the
 * reference loops (refloop.h: the least a TLB simulator must do, and the
 * least one that also models walk caches and a data cache must do) consume
 * the same references: the reference loops take them from memwalk's own
 * generator, with the same parameters and seed. Each is timed in CPU time
 * of this process (other users of the machine's cores do not count), the
 * set-up (mapping and prefaulting the working set) excluded by subtracting
 * a one-reference run. Each row is measured --reps times, the two loops one
 * after the other, and the medians of the rates and of the per-repetition
 * ratios are printed. Rows:
 *   seq, random 64 MiB, random 1 GiB (native memvirt against both
 *   reference loops, with the walk counts of each, so that the work
 *   compared is seen to be the same);
 *   hap on random 64 MiB and 1 GiB (hap against native memvirt: the 2D
 *   walk; and the nested reference loop against the 1D one with walk
 *   caches, the same ratio for a plain simulator of the same structures);
 *   forkstorm: CPU seconds per simulated minute, every registered mode.
 * Wall-clock and CPU timing belong here, never in unit tests.
 *
 *   bench_speed [--reps N] [--scale F] [--minutes M] [--rows seq,rand64,rand1g,hap,forkstorm]
 *   bench_speed --refloop PATTERN WS_MB REFS [plain|walk-caches|2d]
 *       (a reference loop alone, for callgrind; plain by default)
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

/* memvirt on the stream: CPU seconds; *n gets the walk counts. */
static double run_memvirt(const struct stream *s, uint64_t refs, const char *mode, struct refloop_counts *n)
{
    struct sim_config cfg;
    struct run_result res;
    stream_config(&cfg, s, refs);
    double t0 = cpu_now();
    if (engine_run(&cfg, mode_find(mode), &res))
        exit(1);
    double t = cpu_now() - t0;
    *n = (struct refloop_counts){ .refs = res.st.cnt[CNT_refs], .walks = res.st.cnt[CNT_tlb_miss],
                                  .walk_refs = res.st.cnt[CNT_walk_refs],
                                  .walk_cache_misses = res.st.cnt[CNT_walk_cache_miss] };
    run_result_free(&res);
    config_free(&cfg);
    return t;
}

/* A reference loop on the same references, from memwalk's generator. */
static double run_ref(const struct stream *s, uint64_t refs, enum refloop_kind kind, struct refloop_counts *n)
{
    struct sim_config cfg;
    stream_config(&cfg, s, refs);
    double t0 = cpu_now();
    struct refloop *r = refloop_new(kind);
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

/* counts(refs) - counts(1): what the stream itself did. */
static struct refloop_counts counts_sub(struct refloop_counts a, struct refloop_counts b)
{
    return (struct refloop_counts){ .refs = a.refs - b.refs, .walks = a.walks - b.walks,
                                    .walk_refs = a.walk_refs - b.walk_refs,
                                    .walk_cache_misses = a.walk_cache_misses - b.walk_cache_misses };
}

/* Native memvirt against both reference loops on one stream. */
static void row_ref(const struct stream *s, unsigned reps)
{
    double rr[MAX_REPS], cr[MAX_REPS], mr[MAX_REPS], q[MAX_REPS], qc[MAX_REPS];
    struct refloop_counts a, b, rn, cn, mn;
    double n = (double)(s->refs - 1);
    for (unsigned i = 0; i < reps; i++) {
        double r = run_ref(s, s->refs, REFLOOP_PLAIN, &a) - run_ref(s, 1, REFLOOP_PLAIN, &b);
        rn = counts_sub(a, b);
        double c = run_ref(s, s->refs, REFLOOP_WALK_CACHES, &a) - run_ref(s, 1, REFLOOP_WALK_CACHES, &b);
        cn = counts_sub(a, b);
        double m = run_memvirt(s, s->refs, "native", &a) - run_memvirt(s, 1, "native", &b);
        mn = counts_sub(a, b);
        rr[i] = n / r;
        cr[i] = n / c;
        mr[i] = n / m;
        q[i] = mr[i] / rr[i];
        qc[i] = mr[i] / cr[i];
    }
    printf("| %-15s | %5.1f%% | %5.1f%% | %4.2f | %4.2f | %5.1f%% | %5.1f%% | %6.1f M/s | %6.1f M/s | %6.1f M/s "
           "| %4.2f | %4.2f |\n",
           s->name, 100.0 * (double)mn.walks / n, 100.0 * (double)rn.walks / n,
           mn.walks ? (double)mn.walk_refs / (double)mn.walks : 0,
           cn.walks ? (double)cn.walk_refs / (double)cn.walks : 0,
           mn.walk_refs ? 100.0 * (double)mn.walk_cache_misses / (double)mn.walk_refs : 0,
           cn.walk_refs ? 100.0 * (double)cn.walk_cache_misses / (double)cn.walk_refs : 0,
           median(rr, reps) / 1e6, median(cr, reps) / 1e6, median(mr, reps) / 1e6, median(q, reps),
           median(qc, reps));
    fflush(stdout);
}

/* hap against native memvirt on one stream, and the nested reference loop
 * against the loop with walk caches (the same structures, written plainly). */
static void row_hap(const struct stream *s, unsigned reps)
{
    double nr[MAX_REPS], hr[MAX_REPS], q[MAX_REPS], cr[MAX_REPS], dr[MAX_REPS], qr[MAX_REPS];
    struct refloop_counts a, b, hn = { 0 }, dn = { 0 };
    double n = (double)(s->refs - 1);
    for (unsigned i = 0; i < reps; i++) {
        double t_n = run_memvirt(s, s->refs, "native", &a) - run_memvirt(s, 1, "native", &b);
        double t_h = run_memvirt(s, s->refs, "hap", &a) - run_memvirt(s, 1, "hap", &b);
        hn = counts_sub(a, b);
        double t_c = run_ref(s, s->refs, REFLOOP_WALK_CACHES, &a) - run_ref(s, 1, REFLOOP_WALK_CACHES, &b);
        double t_d = run_ref(s, s->refs, REFLOOP_2D, &a) - run_ref(s, 1, REFLOOP_2D, &b);
        dn = counts_sub(a, b);
        nr[i] = n / t_n;
        hr[i] = n / t_h;
        q[i] = hr[i] / nr[i];
        cr[i] = n / t_c;
        dr[i] = n / t_d;
        qr[i] = dr[i] / cr[i];
    }
    printf("| %-15s | %5.1f%% | %4.2f | %4.2f | %5.1f%% | %5.1f%% | %6.1f M/s | %6.1f M/s | %4.2f "
           "| %6.1f M/s | %6.1f M/s | %4.2f |\n",
           s->name, 100.0 * (double)hn.walks / n, hn.walks ? (double)hn.walk_refs / (double)hn.walks : 0,
           dn.walks ? (double)dn.walk_refs / (double)dn.walks : 0,
           hn.walk_refs ? 100.0 * (double)hn.walk_cache_misses / (double)hn.walk_refs : 0,
           dn.walk_refs ? 100.0 * (double)dn.walk_cache_misses / (double)dn.walk_refs : 0,
           median(nr, reps) / 1e6, median(hr, reps) / 1e6, median(q, reps), median(cr, reps) / 1e6,
           median(dr, reps) / 1e6, median(qr, reps));
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
    if ((argc == 5 || argc == 6) && !strcmp(argv[1], "--refloop")) {
        const struct stream s = { "refloop", argv[2], (unsigned)atoi(argv[3]), strtoull(argv[4], NULL, 10) };
        enum refloop_kind kind = REFLOOP_PLAIN;
        if (argc == 6 && !strcmp(argv[5], "walk-caches"))
            kind = REFLOOP_WALK_CACHES;
        else if (argc == 6 && !strcmp(argv[5], "2d"))
            kind = REFLOOP_2D;
        else if (argc == 6 && strcmp(argv[5], "plain")) {
            fprintf(stderr, "bench_speed: --refloop ... '%s': plain, walk-caches or 2d\n", argv[5]);
            return 2;
        }
        struct refloop_counts n;
        run_ref(&s, s.refs, kind, &n);
        printf("%llu references, %llu walks", (unsigned long long)n.refs, (unsigned long long)n.walks);
        if (kind != REFLOOP_PLAIN)
            printf(", %llu walk loads, %llu of them data-cache misses", (unsigned long long)n.walk_refs,
                   (unsigned long long)n.walk_cache_misses);
        printf("\n");
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
                            "[--rows seq,rand64,rand1g,hap,forkstorm]\n"
                            "       bench_speed --refloop PATTERN WS_MB REFS [plain|walk-caches|2d]\n", MAX_REPS);
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
        printf("memvirt (native) against the reference loops, same references. Walks and\n"
               "their loads, per reference: memvirt's TLB misses and the loops' walks; loads a\n"
               "walk made, and the share that missed the data cache, in memvirt and in the loop\n"
               "with walk caches. Rates: the plain loop, the loop with walk caches and data\n"
               "cache, memvirt; memvirt's rate over each loop's:\n\n");
        printf("| stream | memvirt miss | loop walks | loads/walk | loop+ | load miss | loop+ "
               "| loop | loop+ | memvirt | /loop | /loop+ |\n");
        printf("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
        if (want(rows, "seq"))
            row_ref(&seq, reps);
        if (want(rows, "rand64"))
            row_ref(&r64, reps);
        if (want(rows, "rand1g"))
            row_ref(&r1g, reps);
        printf("\n");
    }
    if (want(rows, "hap")) {
        printf("hap (2D walks) against native memvirt, same references; and the nested\n"
               "reference loop against the loop with walk caches (the same structures, written\n"
               "plainly). Loads a walk made and the share that missed the data cache, in hap and\n"
               "in the nested loop; the rates, and hap's (the nested loop's) over native's\n"
               "(the 1D loop's):\n\n");
        printf("| stream | hap miss | loads/walk | loop 2D | load miss | loop 2D | native | hap | hap/native "
               "| loop+ | loop 2D | 2D/1D |\n");
        printf("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
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

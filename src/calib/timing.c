/* timing.c: the clocks calibrate reads, pinning, and the statistics of
 * repeated measurements.
 *
 * Two rates matter. The TSC ticks at a constant rate, measured here against
 * CLOCK_MONOTONIC_RAW; every benchmark times with it and converts ticks to
 * nanoseconds. The core's own clock (what memvirt's cycles are) can differ
 * (turbo, or a virtual CPU whose TSC is scaled): it is measured as the rate
 * of a chain of dependent register adds, one per cycle on every x86-64 core
 * since the Pentium Pro; the 90th percentile of short samples, since a
 * sample the scheduler interrupted only looks slower. The profile's
 * clock_ghz is the core clock; each cost is nanoseconds times that rate. */
#define _GNU_SOURCE
#include "calib/calib.h"
#include "lib/err.h"
#include <sched.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

uint64_t calib_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static double mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double pct(const double *sorted, unsigned n, double p)
{
    double pos = p * (double)(n - 1);
    unsigned i = (unsigned)pos;
    double f = pos - (double)i;
    return i + 1 < n ? sorted[i] * (1 - f) + sorted[i + 1] * f : sorted[n - 1];
}

void calib_stats(double *v, unsigned n, struct calib_stat *out)
{
    if (!n) {
        *out = (struct calib_stat){ 0 };
        return;
    }
    qsort(v, n, sizeof *v, cmp_dbl);
    out->med = pct(v, n, 0.5);
    out->lo = pct(v, n, 0.1);
    out->hi = pct(v, n, 0.9);
    out->reps = n;
}

void calib_repeat(const struct calib *c, double (*fn)(const struct calib *, void *), void *arg,
                  struct calib_stat *out)
{
    double *v = mv_calloc(c->reps, sizeof *v);
    fn(c, arg);   /* warm-up: caches, page tables, branch predictors */
    fn(c, arg);
    for (unsigned i = 0; i < c->reps; i++)
        v[i] = fn(c, arg);
    calib_stats(v, c->reps, out);
    free(v);
}

void calib_log(const struct calib *c, const char *fmt, ...)
{
    if (!c->log)
        return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(c->log, fmt, ap);
    va_end(ap);
    fflush(c->log);
}

/* TSC ticks per ns over 10 ms of CLOCK_MONOTONIC_RAW. */
static double tsc_rate(const struct calib *c, void *arg)
{
    (void)c;
    (void)arg;
    double t0 = mono_ns();
    uint64_t k0 = calib_tsc();
    while (mono_ns() - t0 < 10e6)
        ;
    uint64_t k1 = calib_tsc();
    double t1 = mono_ns();
    return (double)(k1 - k0) / (t1 - t0);
}

/* Core cycles per ns: 100 dependent adds per loop iteration, 20,000
 * iterations (the loop's own dec/jnz issue beside the chain): about half a
 * millisecond, short enough that most samples run uninterrupted on a busy
 * machine (an interrupted one only looks slower). */
static double core_rate(const struct calib *c, void *arg)
{
    (void)arg;
    uint64_t n = 20000, x = 0;
    uint64_t t0 = calib_tsc();
    __asm__ volatile("1:\n\t"
                     ".rept 100\n\tadd $1, %0\n\t.endr\n\t"
                     "dec %1\n\tjnz 1b"
                     : "+r"(x), "+r"(n));
    uint64_t t1 = calib_tsc();
    return 100.0 * 20000.0 / calib_ns(c, t1 - t0);
}

int calib_cpu_out_of_range(const char *text)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    char list[512] = "";
    size_t n = 0;
    if (!sched_getaffinity(0, sizeof set, &set))
        for (int i = 0; i < CPU_SETSIZE && n < sizeof list - 24; i++) {
            if (!CPU_ISSET(i, &set))
                continue;
            int j = i;
            while (j + 1 < CPU_SETSIZE && CPU_ISSET(j + 1, &set))
                j++;
            n += (size_t)snprintf(list + n, sizeof list - n, j > i ? "%s%d-%d" : "%s%d", n ? "," : "", i, j);
            i = j;
        }
    return mv_error("calibrate: --cpu %s: out of range: this process may run on CPU %s (its affinity)", text,
                    n ? list : "(none readable)");
}

int calib_init(struct calib *c, int cpu, unsigned reps)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set))
        return mv_error("calibrate: cannot read the CPU affinity");
    c->ncpus = CPU_COUNT(&set);
    c->reps = reps;
    c->hello_limit_s = CALIB_HELLO_LIMIT_S;
    if (cpu < 0) {          /* default: the highest-numbered CPU allowed */
        for (int i = CPU_SETSIZE - 1; i >= 0 && cpu < 0; i--)
            if (CPU_ISSET(i, &set))
                cpu = i;
    } else if (cpu >= CPU_SETSIZE || !CPU_ISSET(cpu, &set)) {
        char text[16];
        snprintf(text, sizeof text, "%d", cpu);
        return calib_cpu_out_of_range(text);
    }
    c->other_cpu = -1;
    for (int i = 0; i < CPU_SETSIZE && c->other_cpu < 0; i++)
        if (CPU_ISSET(i, &set) && i != cpu)
            c->other_cpu = i;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (sched_setaffinity(0, sizeof set, &set))
        return mv_error("calibrate: cannot pin to CPU %d", cpu);
    c->cpu = cpu;
    c->tsc_ghz = 1;   /* for calib_ns inside tsc_rate's repetitions: unused there */
    calib_repeat(c, tsc_rate, NULL, &c->tsc);
    c->tsc_ghz = c->tsc.med;
    calib_repeat(c, core_rate, NULL, &c->core);
    c->core_ghz = c->core.hi;   /* 90th percentile: an interrupted sample only looks slower */
    return 0;
}

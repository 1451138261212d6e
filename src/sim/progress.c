/* progress.c: the progress display on a terminal (progress.h).
 *
 * Each run's thread publishes how far it is (relaxed atomics: the display
 * only reads them); a thread of the display's own redraws one line on
 * standard error four times a second from the first second on, cut to
 * the terminal's width so that a carriage return redraws it in place.
 * The time left is estimated from the share of all the runs' work done
 * so far (each run's workload says its own share), assuming the rest goes
 * at the pace so far: a run of hours or days says so in its first
 * seconds. A message printed while the line is up (err.c) clears it
 * first, under the lock the drawing takes, and the next redraw puts it
 * back below the message. */
#include "sim/progress.h"
#include "lib/err.h"
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define PROGRESS_FIRST 1.0    /* seconds before the line first shows */
#define PROGRESS_EVERY_NS 250000000L

struct progress_slot {
    const char *name;
    atomic_uint_fast64_t frac_ppm;   /* share done, in millionths */
    atomic_uint_fast64_t sim_ns;     /* simulated time reached */
    atomic_uint_fast64_t refs;
    atomic_int state;                /* 0 waiting, 1 running, 2 ended */
};

struct progress {
    const char *workload;
    unsigned n;
    double t0;
    pthread_t thread;
    pthread_cond_t wake;
    int stop;                        /* under lock */
    struct progress_slot *slot;
};

/* One display at a time (engine_run_all runs one set of runs at a time);
 * lock guards the terminal line and `drawn` between the display's thread
 * and messages from the runs' threads. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int drawn;

static double mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

void progress_eta(char *buf, size_t n, double elapsed, double frac)
{
    if (n)
        buf[0] = '\0';
    if (!(frac > 0) || frac >= 1 || elapsed < PROGRESS_FIRST)
        return;
    double left = elapsed * (1 - frac) / frac;
    if (left >= 999.0 * 86400)
        snprintf(buf, n, "more than 999 days left");
    else if (left < 0.5)
        snprintf(buf, n, "under a second left");
    else if (left < 59.5)
        snprintf(buf, n, "about %.0fs left", left);
    else if (left < 3600 - 0.5) {
        long s = (long)(left + 0.5);
        snprintf(buf, n, "about %ldm%02lds left", s / 60, s % 60);
    } else if (left < 86400 - 30) {
        long m = (long)(left / 60 + 0.5);
        snprintf(buf, n, "about %ldh%02ldm left", m / 60, m % 60);
    } else {
        long h = (long)(left / 3600 + 0.5);
        snprintf(buf, n, "about %ldd%02ldh left", h / 24, h % 24);
    }
}

/* Clear the line before a message, and let the next redraw restore it.
 * Before a message that ends the process (2): no draw from now on
 * (`ending`, read by the display under the lock); wait up to half a second
 * for a draw under way to end, then clear the line and keep the lock. If
 * the lock does not come (this thread holds it), clear it anyway: the
 * process is ending. */
static atomic_int ending;

/* The clock's time now plus ns (under a second). */
static struct timespec clock_after(clockid_t clk, long ns)
{
    struct timespec t;
    clock_gettime(clk, &t);
    t.tv_nsec += ns;
    if (t.tv_nsec >= 1000000000L) {
        t.tv_nsec -= 1000000000L;
        t.tv_sec++;
    }
    return t;
}

static void around_message(int before)
{
    if (before == 2) {
        atomic_store(&ending, 1);
        struct timespec until = clock_after(CLOCK_REALTIME, 500000000L);
        int mine = !pthread_mutex_timedlock(&lock, &until);
        if (!mine || drawn)
            fputs("\r\033[K", stderr);
        if (mine)
            drawn = 0;
    } else if (before) {
        pthread_mutex_lock(&lock);
        if (drawn) {
            fputs("\r\033[K", stderr);
            drawn = 0;
        }
    } else {
        pthread_mutex_unlock(&lock);
    }
}

static unsigned term_width(void)
{
    struct winsize ws;
    if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 1)
        return ws.ws_col;
    return 80;
}

/* Append to line (size n, used *k) what fits. */
static void put(char *line, size_t n, size_t *k, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void put(char *line, size_t n, size_t *k, const char *fmt, ...)
{
    if (*k + 1 >= n)
        return;
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(line + *k, n - *k, fmt, ap);
    va_end(ap);
    if (w > 0)
        *k = *k + (size_t)w < n ? *k + (size_t)w : n - 1;
}

static void draw(struct progress *p)
{
    char line[1024], eta[64];
    size_t k = 0;
    double sum = 0;
    unsigned ended = 0;
    for (unsigned i = 0; i < p->n; i++) {
        int st = atomic_load_explicit(&p->slot[i].state, memory_order_relaxed);
        double f = (double)atomic_load_explicit(&p->slot[i].frac_ppm, memory_order_relaxed) / 1e6;
        sum += st == 2 ? 1 : f > 1 ? 1 : f;
        ended += st == 2;
    }
    progress_eta(eta, sizeof eta, mono_now() - p->t0, sum / p->n);
    if (p->n == 1) {
        struct progress_slot *s = &p->slot[0];
        double f = (double)atomic_load_explicit(&s->frac_ppm, memory_order_relaxed) / 1e6;
        put(line, sizeof line, &k, "%-14s %-10s %5.1f%%  sim %.2fs  %llu refs", s->name, p->workload,
            100.0 * (f > 1 ? 1 : f), (double)atomic_load_explicit(&s->sim_ns, memory_order_relaxed) / 1e9,
            (unsigned long long)atomic_load_explicit(&s->refs, memory_order_relaxed));
    } else {
        put(line, sizeof line, &k, "%s  %u of %u done", p->workload, ended, p->n);
        for (unsigned i = 0; i < p->n; i++) {
            struct progress_slot *s = &p->slot[i];
            if (atomic_load_explicit(&s->state, memory_order_relaxed) != 1)
                continue;
            double f = (double)atomic_load_explicit(&s->frac_ppm, memory_order_relaxed) / 1e6;
            put(line, sizeof line, &k, "  %s %.0f%%", s->name, 100.0 * (f > 1 ? 1 : f));
        }
    }
    if (eta[0])
        put(line, sizeof line, &k, "  %s", eta);
    unsigned w = term_width() - 1;   /* the last column would wrap on some terminals */
    if (k > w)
        k = w;
    line[k] = '\0';
    fprintf(stderr, "\r%s\033[K", line);
    fflush(stderr);
    drawn = 1;
}

static void *display(void *arg)
{
    struct progress *p = arg;
    struct timespec next;
    clock_gettime(CLOCK_MONOTONIC, &next);
    next.tv_sec += (time_t)PROGRESS_FIRST;
    pthread_mutex_lock(&lock);
    while (!p->stop && !atomic_load(&ending)) {   /* ending: no draw, the process ends */
        if (pthread_cond_timedwait(&p->wake, &lock, &next) != 0 && !p->stop && !atomic_load(&ending)) {
            draw(p);
            /* from now, not from the last slot: after a stop (Ctrl-Z) the
             * slots missed are not drawn in a burst */
            next = clock_after(CLOCK_MONOTONIC, PROGRESS_EVERY_NS);
        }
    }
    if (drawn && !atomic_load(&ending)) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
        drawn = 0;
    }
    pthread_mutex_unlock(&lock);
    return NULL;
}

struct progress *progress_start(const char *workload, const char *const *names, unsigned n, int quiet)
{
    if (quiet || !n || !isatty(STDERR_FILENO))
        return NULL;
    struct progress *p = mv_calloc(1, sizeof *p);
    p->workload = workload;
    p->n = n;
    p->t0 = mono_now();
    p->slot = mv_calloc(n, sizeof *p->slot);
    for (unsigned i = 0; i < n; i++)
        p->slot[i].name = names[i];
    pthread_condattr_t ca;
    int attr = !pthread_condattr_init(&ca);
    int ok = attr && !pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) && !pthread_cond_init(&p->wake, &ca);
    if (attr)
        pthread_condattr_destroy(&ca);
    if (!ok || pthread_create(&p->thread, NULL, display, p)) {   /* no display, the runs go on */
        if (ok)
            pthread_cond_destroy(&p->wake);
        free(p->slot);
        free(p);
        return NULL;
    }
    mv_error_hook(around_message);
    return p;
}

void progress_set(struct progress *p, unsigned i, double frac, double sim_s, uint64_t refs)
{
    if (!p)
        return;
    struct progress_slot *s = &p->slot[i];
    atomic_store_explicit(&s->frac_ppm, (uint_fast64_t)(frac > 0 ? (frac < 1 ? frac : 1) * 1e6 : 0),
                          memory_order_relaxed);
    atomic_store_explicit(&s->sim_ns, (uint_fast64_t)(sim_s > 0 && sim_s < 1.8e10 ? sim_s * 1e9 : 0),
                          memory_order_relaxed);
    atomic_store_explicit(&s->refs, refs, memory_order_relaxed);
    atomic_store_explicit(&s->state, 1, memory_order_relaxed);
}

void progress_done(struct progress *p, unsigned i)
{
    if (p)
        atomic_store_explicit(&p->slot[i].state, 2, memory_order_relaxed);
}

void progress_stop(struct progress *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&lock);
    p->stop = 1;
    pthread_cond_signal(&p->wake);
    pthread_mutex_unlock(&lock);
    pthread_join(p->thread, NULL);
    mv_error_hook(NULL);
    pthread_cond_destroy(&p->wake);
    free(p->slot);
    free(p);
}

/* forkstorm.c: the PiBooster paper's busy setting as a generator.
 *
 * A launcher shell (pid 1) lives for the whole run. Process creations arrive
 * as a Poisson stream (default 542 per simulated minute, the paper's rate):
 * most are fork+execve of a program from the launcher (a browser, one of its
 * helpers, or a shell command); the rest are fork-only children of a running
 * browser (zygote-style renderers that share its image copy-on-write). Each
 * process touches part of its image, runs in bursts of references every
 * burst_ms while it lives (exponentially distributed lifetime), and exits.
 * A burst larger than the generator's buffer is several access events, one
 * after another, before anything else happens.
 * At the end every process exits, so every page-table page is freed.
 * Optional control events switch the PiBooster cache on or off at a minute. */
#include "lib/err.h"
#include "lib/rng.h"
#include "workload/evq.h"
#include "workload/layouts.h"
#include "workload/touch.h"
#include <math.h>
#include <stdlib.h>

struct forkstorm_cfg {
    double   rate_per_min;
    double   minutes;
    double   lifetime_s;     /* mean */
    uint64_t fork_only_pct;  /* creations that fork a browser without exec */
    uint64_t browser_pct;    /* of fork+exec: a browser */
    uint64_t helper_pct;     /* of fork+exec: a helper (the rest run sh) */
    double   touch;          /* fraction of each segment touched */
    uint64_t burst_ms;       /* a live process runs every burst_ms */
    uint64_t burst_refs;     /* references per burst */
    double   ptcache_on_min; /* minute to enable the PiBooster cache; -1: never */
    double   ptcache_off_min;/* minute to disable it; -1: never */
};

#define P(f, d, lo, hi, doc) PARAM_DBL(struct forkstorm_cfg, f, d, lo, hi, doc)
#define U(f, d, lo, hi, doc) PARAM_U64(struct forkstorm_cfg, f, d, lo, hi, doc)
static const struct param_def defs[] = {
    P(rate_per_min, "542", 0.1, 1e6, "process creations per simulated minute (paper: 542)"),
    P(minutes, "30", 0.01, 1e4, "simulated minutes of churn"),
    P(lifetime_s, "5", 0.001, 1e5, "mean process lifetime in seconds (exponential)"),
    U(fork_only_pct, "30", 0, 100, "percent of creations that fork a running browser without exec"),
    U(browser_pct, "10", 0, 100, "percent of fork+exec creations that start a browser"),
    U(helper_pct, "40", 0, 100, "percent of fork+exec creations that start a helper (rest: sh)"),
    P(touch, "0.25", 0, 1, "fraction of each segment a process touches"),
    U(burst_ms, "1000", 1, 1e9, "a live process runs a burst every burst_ms"),
    U(burst_refs, "400", 0, 1e9, "references per burst"),
    P(ptcache_on_min, "-1", -1, 1e6,
      "minute at which to enable the PiBooster cache (-1: never; another minute than ptcache_off_min; "
      "one past forkstorm.minutes is never reached: a warning)"),
    P(ptcache_off_min, "-1", -1, 1e6, "minute at which to disable it (-1: never; as ptcache_on_min)"),
};
#undef P
#undef U
static const struct param_group group = { "forkstorm", defs, sizeof defs / sizeof defs[0],
                                          "process churn (PiBooster busy setting)" };

static double fs_span_s(const void *cfg)
{
    return ((const struct forkstorm_cfg *)cfg)->minutes * 60.0;   /* the churn ends then, processes after */
}

static const double NS_PER_MIN = 60e9;

/* When a switch at minute `min` comes, in the generator's nanoseconds. */
static uint64_t min_ns(double min)
{
    return (uint64_t)(min * NS_PER_MIN);
}

/* The cache's two switches: their parameters, and their minutes (-1: never). */
static const char *const switch_param[2] = { "ptcache_on_min", "ptcache_off_min" };
static void switch_minutes(const struct forkstorm_cfg *c, double at[2])
{
    at[0] = c->ptcache_on_min;
    at[1] = c->ptcache_off_min;
}

static int fs_validate(const void *cfg, const struct kconfig *guest)
{
    const struct forkstorm_cfg *c = cfg;
    (void)guest;
    char a[PARAM_SHOW_MAX], b[PARAM_SHOW_MAX];
    if (c->browser_pct + c->helper_pct > 100)
        return mv_error("--param %s, %s: they are shares of the same fork+exec creations and sum past 100",
                        param_show(&group, c, "browser_pct", a, sizeof a),
                        param_show(&group, c, "helper_pct", b, sizeof b));
    /* -1 is never; no other negative value is a minute */
    const char *const *sw = switch_param;
    double at[2];
    switch_minutes(c, at);
    for (unsigned i = 0; i < 2; i++)
        if (at[i] < 0 && at[i] != -1)
            return mv_error("--param %s: not a minute of the run (0 or more), nor -1 (never)",
                            param_show(&group, c, sw[i], a, sizeof a));
    /* on and off at one time: which would win is no answer (as --at refuses two values of a control at one time) */
    if (at[0] >= 0 && at[1] >= 0 && min_ns(at[0]) == min_ns(at[1]))
        return mv_error("--param %s and %s: the cache switched on and off at the same time: they contradict "
                        "each other", param_show(&group, c, sw[0], a, sizeof a),
                        param_show(&group, c, sw[1], b, sizeof b));
    return 0;
}

/* A switch after the churn ends is never made: the run ends first. */
static void fs_warn(const void *cfg)
{
    const struct forkstorm_cfg *c = cfg;
    const char *const *sw = switch_param;
    double at[2];
    switch_minutes(c, at);
    char a[PARAM_SHOW_MAX], b[PARAM_SHOW_MAX];
    for (unsigned i = 0; i < 2; i++)
        if (at[i] >= 0 && min_ns(at[i]) > min_ns(c->minutes))
            mv_warn("--param %s will never be applied: the run's churn ends first, at %s",
                    param_show(&group, c, sw[i], a, sizeof a), param_show(&group, c, "minutes", b, sizeof b));
}

enum { IT_ARRIVAL, IT_EXIT, IT_BURST, IT_CTL_ON, IT_CTL_OFF, IT_END };

#define BURST_BATCH 4096   /* references per access event of a burst, at most */

struct item { uint64_t t, seq; uint32_t kind, pid; };

struct proc {
    uint32_t pid;
    int alive, browser;
    const struct layout *layout;
    struct refbuf plan;
};

struct forkstorm {
    struct forkstorm_cfg c;
    rng_t rng;
    struct evq q;
    struct item *heap;
    uint32_t nheap, capheap;
    uint64_t seq;
    struct proc *procs;     /* indexed by pid */
    uint32_t nprocs, capprocs;
    uint32_t *browsers;     /* live browser pids */
    uint32_t nbrowsers, capbrowsers;
    uint64_t end_ns, now_ns;
    uint64_t burstbuf[BURST_BATCH];
    /* the burst under way: references still to make, by whom, and the
     * cluster of its plan they are drawn from */
    uint64_t burst_left;
    uint32_t burst_pid, burst_base, burst_span;
    int finished, started;
    struct refbuf launcher_plan;
};

static int item_less(const struct item *a, const struct item *b)
{
    return a->t < b->t || (a->t == b->t && a->seq < b->seq);
}

static void heap_push(struct forkstorm *s, uint64_t t, uint32_t kind, uint32_t pid)
{
    if (s->nheap == s->capheap) {
        s->capheap = s->capheap ? s->capheap * 2 : 256;
        s->heap = mv_realloc(s->heap, s->capheap * sizeof *s->heap);
    }
    struct item it = { t, s->seq++, kind, pid };
    uint32_t i = s->nheap++;
    while (i && item_less(&it, &s->heap[(i - 1) / 2])) {
        s->heap[i] = s->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    s->heap[i] = it;
}

static struct item heap_pop(struct forkstorm *s)
{
    struct item top = s->heap[0], last = s->heap[--s->nheap];
    uint32_t i = 0;
    for (;;) {
        uint32_t c = 2 * i + 1;
        if (c >= s->nheap)
            break;
        if (c + 1 < s->nheap && item_less(&s->heap[c + 1], &s->heap[c]))
            c++;
        if (!item_less(&s->heap[c], &last))
            break;
        s->heap[i] = s->heap[c];
        i = c;
    }
    if (s->nheap)
        s->heap[i] = last;
    return top;
}

static struct proc *proc_new(struct forkstorm *s)
{
    if (s->nprocs == s->capprocs) {
        s->capprocs = s->capprocs ? s->capprocs * 2 : 256;
        s->procs = mv_realloc(s->procs, s->capprocs * sizeof *s->procs);
    }
    struct proc *p = &s->procs[s->nprocs];
    *p = (struct proc){ .pid = s->nprocs, .alive = 1 };
    s->nprocs++;
    return p;
}

static void *fs_create(const void *cfg, uint64_t seed)
{
    struct forkstorm *s = mv_calloc(1, sizeof *s);
    s->c = *(const struct forkstorm_cfg *)cfg;
    rng_seed(&s->rng, seed, 0x464b53);
    s->end_ns = min_ns(s->c.minutes);
    proc_new(s);                      /* pid 0: unused */
    heap_push(s, (uint64_t)rng_exp(&s->rng, NS_PER_MIN / s->c.rate_per_min), IT_ARRIVAL, 0);
    if (s->c.ptcache_on_min >= 0)
        heap_push(s, min_ns(s->c.ptcache_on_min), IT_CTL_ON, 0);
    if (s->c.ptcache_off_min >= 0)
        heap_push(s, min_ns(s->c.ptcache_off_min), IT_CTL_OFF, 0);
    heap_push(s, s->end_ns, IT_END, 0);
    return s;
}

static void push(struct forkstorm *s, enum ev_type t, uint32_t pid)
{
    evq_push(&s->q, (struct event){ .type = t, .pid = pid });
}

static void push_access(struct forkstorm *s, uint32_t pid, const struct refbuf *b)
{
    if (!b->n)
        return;
    evq_push(&s->q, (struct event){ .type = EV_ACCESS, .pid = pid, .batch = b->ref, .n = b->n });
}

static void start_launcher(struct forkstorm *s)
{
    struct proc *p = proc_new(s);      /* pid 1 */
    p->layout = layout_get("sh");
    push(s, EV_SPAWN, 1);
    evq_push(&s->q, (struct event){ .type = EV_EXEC, .pid = 1, .layout = p->layout });
    touch_plan(&p->plan, p->layout, s->c.touch, 4, 64 << 10, &s->rng);
    push_access(s, 1, &p->plan);
}

static void arrival(struct forkstorm *s)
{
    struct proc *p = proc_new(s);
    uint32_t pid = p->pid;
    if (s->nbrowsers && rng_below(&s->rng, 100) < s->c.fork_only_pct) {
        /* a renderer: fork a running browser, run its image copy-on-write */
        struct proc *parent = &s->procs[s->browsers[rng_below(&s->rng, s->nbrowsers)]];
        p = &s->procs[pid];
        p->layout = parent->layout;
        evq_push(&s->q, (struct event){ .type = EV_FORK, .pid = parent->pid, .child = pid });
        touch_plan(&p->plan, p->layout, s->c.touch / 2, 2, 256 << 10, &s->rng);
    } else {
        uint64_t r = rng_below(&s->rng, 100);
        const char *name = r < s->c.browser_pct ? "browser"
                         : r < s->c.browser_pct + s->c.helper_pct ? "helper" : "sh";
        p->layout = layout_get(name);
        p->browser = r < s->c.browser_pct;
        evq_push(&s->q, (struct event){ .type = EV_FORK, .pid = 1, .child = pid });
        evq_push(&s->q, (struct event){ .type = EV_EXEC, .pid = pid, .layout = p->layout });
        uint64_t heap = p->browser ? 4 << 20 : 256 << 10;
        uint64_t brk = touch_heap_brk(p->layout, heap);
        if (brk)
            evq_push(&s->q, (struct event){ .type = EV_BRK, .pid = pid, .addr = brk });
        touch_plan(&p->plan, p->layout, s->c.touch, p->browser ? 32 : 8, heap, &s->rng);
        if (p->browser) {
            if (s->nbrowsers == s->capbrowsers) {
                s->capbrowsers = s->capbrowsers ? s->capbrowsers * 2 : 16;
                s->browsers = mv_realloc(s->browsers, s->capbrowsers * sizeof *s->browsers);
            }
            s->browsers[s->nbrowsers++] = pid;
        }
    }
    push_access(s, pid, &p->plan);
    uint64_t life = (uint64_t)rng_exp(&s->rng, s->c.lifetime_s * 1e9);
    heap_push(s, s->now_ns + life, IT_EXIT, pid);
    if (s->c.burst_refs)
        heap_push(s, s->now_ns + s->c.burst_ms * 1000000ull, IT_BURST, pid);
}

static void proc_exit(struct forkstorm *s, uint32_t pid)
{
    struct proc *p = &s->procs[pid];
    if (!p->alive)
        return;
    p->alive = 0;
    push(s, EV_EXIT, pid);
    if (p->browser) {
        for (uint32_t i = 0; i < s->nbrowsers; i++)
            if (s->browsers[i] == pid) {
                s->browsers[i] = s->browsers[--s->nbrowsers];
                break;
            }
    }
    /* Heap items are taken only when the event queue is empty, so no queued
     * event still points into the plan. */
    refbuf_free(&p->plan);
}

/* The next access event of the burst under way (at most BURST_BATCH of its
 * references, drawn as one burst draws them all); at its last, the
 * process's next burst is due. The event is handed out before the buffer
 * is filled again, and nothing else happens until the burst is done. */
static void burst_chunk(struct forkstorm *s)
{
    struct proc *p = &s->procs[s->burst_pid];
    uint32_t n = s->burst_left < BURST_BATCH ? (uint32_t)s->burst_left : BURST_BATCH;
    for (uint32_t i = 0; i < n; i++) {
        uint64_t ref = p->plan.ref[s->burst_base + rng_below(&s->rng, s->burst_span)];
        s->burstbuf[i] = (ref & ~0xfffull) | (rng_below(&s->rng, 512) << 3) | (ref & REF_KIND_MASK);
    }
    s->burst_left -= n;
    evq_push(&s->q, (struct event){ .type = EV_ACCESS, .pid = s->burst_pid, .batch = s->burstbuf, .n = n });
    if (!s->burst_left)
        heap_push(s, s->now_ns + s->c.burst_ms * 1000000ull, IT_BURST, s->burst_pid);
}

static void burst(struct forkstorm *s, uint32_t pid)
{
    struct proc *p = &s->procs[pid];
    if (!p->alive || !p->plan.n)
        return;
    /* A burst works on a cluster of the pages the process uses. */
    uint32_t span = p->plan.n < 64 ? p->plan.n : 64;
    s->burst_pid = pid;
    s->burst_span = span;
    s->burst_base = (uint32_t)rng_below(&s->rng, p->plan.n - span + 1);
    s->burst_left = s->c.burst_refs;
    burst_chunk(s);
}

static void fs_next(void *st, struct event *ev)
{
    struct forkstorm *s = st;
    for (;;) {
        if (evq_pop(&s->q, ev))
            return;
        if (!s->started) {
            s->started = 1;
            start_launcher(s);
            continue;
        }
        if (s->burst_left) {
            burst_chunk(s);
            continue;
        }
        if (s->finished || !s->nheap) {
            *ev = (struct event){ .type = EV_END };
            return;
        }
        struct item it = heap_pop(s);
        if (it.t > s->now_ns) {
            s->now_ns = it.t;
            evq_push(&s->q, (struct event){ .type = EV_IDLE_UNTIL, .ns = it.t });
        }
        switch (it.kind) {
        case IT_ARRIVAL:
            arrival(s);
            heap_push(s, s->now_ns + (uint64_t)rng_exp(&s->rng, NS_PER_MIN / s->c.rate_per_min),
                      IT_ARRIVAL, 0);
            break;
        case IT_EXIT:
            proc_exit(s, it.pid);
            break;
        case IT_BURST:
            burst(s, it.pid);
            break;
        case IT_CTL_ON:
        case IT_CTL_OFF:
            evq_push(&s->q, (struct event){ .type = EV_CTL, .name = "ptcache",
                                            .addr = it.kind == IT_CTL_ON });
            break;
        case IT_END:
            for (uint32_t pid = s->nprocs - 1; pid >= 2; pid--)
                proc_exit(s, pid);
            proc_exit(s, 1);
            s->finished = 1;
            break;
        }
    }
}

static double fs_progress(void *st)
{
    struct forkstorm *s = st;
    return s->end_ns ? (double)s->now_ns / (double)s->end_ns : 1.0;
}

static void fs_destroy(void *st)
{
    struct forkstorm *s = st;
    for (uint32_t i = 0; i < s->nprocs; i++)
        refbuf_free(&s->procs[i].plan);
    free(s->procs);
    free(s->heap);
    free(s->browsers);
    evq_free(&s->q);
    free(s);
}

static const char *fs_control(const void *cfg, unsigned i)
{
    const struct forkstorm_cfg *c = cfg;
    return i == 0 && (c->ptcache_on_min >= 0 || c->ptcache_off_min >= 0) ? "ptcache" : NULL;
}

const struct workload_def wl_forkstorm = {
    .name = "forkstorm",
    .doc = "steady process churn: ~542 creations/exits per simulated minute (PiBooster busy setting)",
    .params = &group,
    .cfg_size = sizeof(struct forkstorm_cfg),
    .validate = fs_validate,
    .create = fs_create,
    .next = fs_next,
    .progress = fs_progress,
    .destroy = fs_destroy,
    .control = fs_control,
    .span_s = fs_span_s,
    .warn = fs_warn,
};

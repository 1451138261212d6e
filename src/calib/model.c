/* model.c: memvirt's `native` model of the loops calibrate times on the host,
 * run in-process with a candidate cost table (see calib.h).
 *
 * The fork, exec and exit loops are memvirt's own lmbench workload; where
 * the host times only part of a loop (the parent's fork), a wrapper brackets
 * just those events with marks. The fault and mmap loops, which no built-in
 * workload has, are a small workload here that issues the same events the
 * host loop makes, in the same order. The model's answer is the mean of the
 * marked spans, in nanoseconds. */
#include "calib/calib.h"
#include "lib/err.h"
#include "sim/engine.h"
#include "workload/layouts.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define HEAP_PAGES 16384u           /* 64 MiB of written heap for MQ_FORK_HEAP_SLOPE */
#define FAULT_BASE 0x100000000000ull
#define MMAP_LOOPS 1000

uint64_t model_heap_pages(void) { return HEAP_PAGES; }

/* ---- a run of the native model ---- */

static void model_config(struct sim_config *cfg, const char *wl, const struct cost *cost, const char *const *params)
{
    int rc = config_init(cfg, wl);
    MV_ASSERT(rc == 0, "calibrate: workload %s", wl);
    cfg->quiet = 1;
    /* Only marks and metrics are read, never the time series; at the
     * default interval a slow clock and costly entries (a profile `run`
     * accepts) outlast the series and fail the run. At the longest
     * interval the cycle counter ends before the series fills, at any
     * clock_ghz. A parameter may still set it. */
    cfg->sim.series_ms = 1000000000000ull;
    for (unsigned i = 0; params && params[i]; i++) {
        rc = config_param(cfg, params[i]);
        MV_ASSERT(rc == 0, "calibrate: model parameter %s", params[i]);
    }
    cfg->cost = *cost;
}

/* The metric in ns; NaN if the run failed (after mv_error): the costs come
 * from a profile file, so a failure is the input's, not a broken
 * invariant. NaN carries through every figure made from it. */
static double run(struct sim_config *cfg, const char *metric, struct run_result *keep)
{
    struct run_result r;
    if (engine_run(cfg, mode_find("native"), &r))
        return NAN;   /* r freed */
    double v = -1;
    for (unsigned i = 0; metric && i < r.metrics.n; i++)
        if (!strcmp(r.metrics.m[i].name, metric))
            v = r.metrics.m[i].value * 1e3;   /* µs -> ns */
    MV_ASSERT(!metric || v >= 0, "calibrate: no metric %s", metric);
    if (keep)
        *keep = r;
    else
        run_result_free(&r);
    return v;
}

/* ---- a wrapper that brackets chosen events of another workload with marks ---- */

struct wrap_cfg {
    const struct workload_def *inner;
    void *inner_cfg;
    enum ev_type type;       /* mark every event of this type, or */
    uint64_t skip_refs;      /* (type == EV_END) mark from this many references after the first mmap to exit */
};

struct wrap {
    struct wrap_cfg c;
    void *inner;
    struct event pend[3];
    unsigned npend, ipend;
    int mapped, open;
    uint64_t refs;
};

static void *wrap_create(const void *cfg, uint64_t seed)
{
    struct wrap *w = mv_calloc(1, sizeof *w);
    w->c = *(const struct wrap_cfg *)cfg;
    w->inner = w->c.inner->create(w->c.inner_cfg, seed);
    return w;
}

static void wrap_next(void *st, struct event *ev)
{
    struct wrap *w = st;
    if (w->ipend < w->npend) {
        *ev = w->pend[w->ipend++];
        return;
    }
    w->npend = w->ipend = 0;
    struct event e;
    do
        w->c.inner->next(w->inner, &e);
    while (e.type == EV_MARK_BEGIN || e.type == EV_MARK_END);   /* only ours count */
    struct event mark = { .name = "calib" };
    if (w->c.type != EV_END) {
        if (e.type == w->c.type) {
            mark.type = EV_MARK_BEGIN;
            w->pend[w->npend++] = mark;
            w->pend[w->npend++] = e;
            mark.type = EV_MARK_END;
            w->pend[w->npend++] = mark;
            *ev = w->pend[w->ipend++];
            return;
        }
    } else {
        int begin = 0;
        if (e.type == EV_MMAP && !w->mapped) {
            w->mapped = 1;
            begin = !w->c.skip_refs;
            w->pend[w->npend++] = e;
        } else if (e.type == EV_EXIT && w->open) {
            mark.type = EV_MARK_END;
            w->pend[w->npend++] = mark;
            w->pend[w->npend++] = e;
            w->open = 0;
        } else {
            w->pend[w->npend++] = e;
            if (e.type == EV_ACCESS && w->mapped && !w->open) {
                w->refs += e.n;
                begin = w->refs >= w->c.skip_refs;
            }
        }
        if (begin && !w->open) {
            w->open = 1;
            mark.type = EV_MARK_BEGIN;
            w->pend[w->npend++] = mark;
        }
        *ev = w->pend[w->ipend++];
        return;
    }
    *ev = e;
}

static double wrap_progress(void *st) { (void)st; return 0; }

static void wrap_destroy(void *st)
{
    struct wrap *w = st;
    w->c.inner->destroy(w->inner);
    free(w);
}

static const struct workload_def wrap_def = {
    .name = "calib-marks", .doc = "calibrate: marks around chosen events of another workload",
    .params = NULL, .cfg_size = sizeof(struct wrap_cfg),
    .create = wrap_create, .next = wrap_next, .progress = wrap_progress, .destroy = wrap_destroy,
};

/* Wrap cfg's workload; returns the inner config to free after the run. */
static void *wrap(struct sim_config *cfg, enum ev_type type, uint64_t skip_refs)
{
    struct wrap_cfg *wc = mv_calloc(1, sizeof *wc);
    *wc = (struct wrap_cfg){ cfg->wl, cfg->wl_cfg, type, skip_refs };
    cfg->wl = &wrap_def;
    cfg->wl_cfg = wc;
    return wc->inner_cfg;
}

/* ---- the fault and mmap loops ---- */

enum loop_kind { LOOP_READ, LOOP_WRITE, LOOP_WRITE_2M, LOOP_MMAP };

struct loop {
    enum loop_kind kind;
    unsigned stage;          /* events issued so far */
    uint64_t *refs;
    uint32_t nrefs;
};

static void *loop_create(const void *cfg, uint64_t seed)
{
    (void)seed;
    struct loop *l = mv_calloc(1, sizeof *l);
    l->kind = *(const enum loop_kind *)cfg;
    if (l->kind != LOOP_MMAP) {
        uint64_t stride = l->kind == LOOP_WRITE_2M ? (2ull << 20) : 4096;
        l->nrefs = MODEL_FAULT_PAGES;
        l->refs = mv_calloc(l->nrefs, sizeof *l->refs);
        for (uint32_t i = 0; i < l->nrefs; i++)
            l->refs[i] = (FAULT_BASE + i * stride) | (l->kind == LOOP_READ ? 0 : REF_WRITE);
    }
    return l;
}

/* spawn, exec; then either
 *   mmap the area, mark, touch every page once, mark          (fault loops)
 *   MMAP_LOOPS x (mark, mmap one page, munmap it, mark)       (mmap loop)
 * then exit. */
static void loop_next(void *st, struct event *ev)
{
    struct loop *l = st;
    unsigned s = l->stage++;
    struct event mark = { .type = EV_MARK_BEGIN, .name = "calib" };
    struct event map = { .type = EV_MMAP, .pid = 1, .prot = PROT_READ | PROT_WRITE, .flags = MAP_PRIVATE | MAP_ANON };
    unsigned body = l->kind == LOOP_MMAP ? 4 * MMAP_LOOPS : 4;
    if (s == 0) {
        *ev = (struct event){ .type = EV_SPAWN, .pid = 1 };
    } else if (s == 1) {
        *ev = (struct event){ .type = EV_EXEC, .pid = 1, .layout = layout_get("memwalk") };
    } else if (s - 2 < body && l->kind == LOOP_MMAP) {
        map.addr = MODEL_MMAP_ADDR;
        map.len = 4096;
        switch ((s - 2) % 4) {
        case 0: *ev = mark; break;
        case 1: *ev = map; break;
        case 2: *ev = (struct event){ .type = EV_MUNMAP, .pid = 1, .addr = MODEL_MMAP_ADDR, .len = 4096 }; break;
        default: mark.type = EV_MARK_END; *ev = mark; break;
        }
    } else if (s - 2 < body) {
        switch (s - 2) {
        case 0:
            map.addr = FAULT_BASE;
            map.len = (uint64_t)l->nrefs * (l->kind == LOOP_WRITE_2M ? (2ull << 20) : 4096);
            *ev = map;
            break;
        case 1: *ev = mark; break;
        case 2: *ev = (struct event){ .type = EV_ACCESS, .pid = 1, .batch = l->refs, .n = l->nrefs }; break;
        default: mark.type = EV_MARK_END; *ev = mark; break;
        }
    } else if (s - 2 == body) {
        *ev = (struct event){ .type = EV_EXIT, .pid = 1 };
    } else {
        *ev = (struct event){ .type = EV_END };
    }
}

static double loop_progress(void *st) { (void)st; return 0; }

static void loop_destroy(void *st)
{
    struct loop *l = st;
    free(l->refs);
    free(l);
}

static const struct workload_def loop_def = {
    .name = "calib-loop", .doc = "calibrate: the host's fault and mmap loops",
    .params = NULL, .cfg_size = sizeof(enum loop_kind),
    .create = loop_create, .next = loop_next, .progress = loop_progress, .destroy = loop_destroy,
};

static double eval_loop(const struct model_q *q, const struct cost *cost)
{
    struct sim_config cfg;
    model_config(&cfg, "memwalk", cost, NULL);
    free(cfg.wl_cfg);
    enum loop_kind *k = mv_calloc(1, sizeof *k);
    *k = (enum loop_kind)q->arg;
    cfg.wl = &loop_def;
    cfg.wl_cfg = k;
    double ns = run(&cfg, "lat_calib_us", NULL);
    config_free(&cfg);   /* frees k */
    return q->arg == LOOP_MMAP ? ns : ns / MODEL_FAULT_PAGES;
}

/* ---- lmbench ---- */

static double eval_lmbench(const struct model_q *q, const struct cost *cost)
{
    char heap[64];
    snprintf(heap, sizeof heap, "lmbench.heap_kb=%u", q->arg ? HEAP_PAGES * 4 : 128);
    const char *const params[] = { "lmbench.iterations=100", heap, NULL };
    struct sim_config cfg;
    model_config(&cfg, "lmbench", cost, params);
    double ns;
    if (!strcmp(q->name, "fork")) {
        void *inner = wrap(&cfg, EV_FORK, 0);
        ns = run(&cfg, "lat_calib_us", NULL);
        free(inner);
    } else {
        char metric[48];
        snprintf(metric, sizeof metric, "lat_%s_us", q->name);
        ns = run(&cfg, metric, NULL);
    }
    config_free(&cfg);
    return ns;
}

/* What each written heap page adds to the parent's fork. */
static double eval_fork_slope(const struct model_q *q, const struct cost *cost)
{
    (void)q;
    const struct model_q plain = { "fork", eval_lmbench, 0 }, heap = { "fork", eval_lmbench, 1 };
    return (eval_lmbench(&heap, cost) - eval_lmbench(&plain, cost)) / (HEAP_PAGES - 128 / 4);   /* over 128 KiB */
}

const struct model_q MQ_READ_FAULT = { "read_fault", eval_loop, LOOP_READ };
const struct model_q MQ_WRITE_FAULT = { "write_fault", eval_loop, LOOP_WRITE };
const struct model_q MQ_WRITE_FAULT_NEW_PTE = { "write_fault_new_pte", eval_loop, LOOP_WRITE_2M };
const struct model_q MQ_MMAP_MUNMAP = { "mmap_munmap", eval_loop, LOOP_MMAP };
const struct model_q MQ_FORK = { "fork", eval_lmbench, 0 };
const struct model_q MQ_FORK_HEAP_SLOPE = { "fork_heap_slope", eval_fork_slope, 0 };
const struct model_q MQ_FORK_EXIT = { "fork_exit", eval_lmbench, 0 };
const struct model_q MQ_FORK_EXEC = { "fork_execve", eval_lmbench, 0 };
const struct model_q MQ_FORK_SH = { "fork_sh", eval_lmbench, 0 };

/* ---- memwalk ---- */

double model_memwalk_ns(const char *const *params, const struct cost *cost)
{
    struct sim_config cfg;
    model_config(&cfg, "memwalk", cost, params);
    const struct param_def *ws = param_find(cfg.wl->params, "ws_mb"), *pf = param_find(cfg.wl->params, "prefault");
    MV_ASSERT(ws && pf, "memwalk has ws_mb and prefault");
    uint64_t ws_mb;
    int prefault;
    memcpy(&ws_mb, (char *)cfg.wl_cfg + ws->off, sizeof ws_mb);
    memcpy(&prefault, (char *)cfg.wl_cfg + pf->off, sizeof prefault);
    void *inner = wrap(&cfg, EV_END, prefault ? (ws_mb << 20) >> 12 : 0);
    double ns = run(&cfg, "lat_calib_us", NULL);
    free(inner);
    config_free(&cfg);
    return ns;
}

double model_chase_overhead(const struct model_q *q, const struct cost *cost)
{
    char ws[48];
    snprintf(ws, sizeof ws, "memwalk.ws_mb=%u", q->arg);
    const char *const p4[] = { ws, "memwalk.pattern=chase", "memwalk.refs=200000", "memwalk.page_size=4k", NULL };
    const char *const p2[] = { ws, "memwalk.pattern=chase", "memwalk.refs=200000", "memwalk.page_size=2m", NULL };
    return (model_memwalk_ns(p4, cost) - model_memwalk_ns(p2, cost)) / 200000;
}

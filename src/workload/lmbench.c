/* lmbench.c: analogs of lmbench's lat_proc (McVoy and Staelin): a parent
 * process repeatedly creates a child and waits for it:
 *   fork+exit    the child exits at once;
 *   fork+execve  the child execs a tiny program, which runs and exits;
 *   fork+sh      the child execs a shell, which execs the tiny program.
 * Each operation is bracketed by marks; the engine reports the mean latency
 * of each in simulated microseconds (metrics lat_<name>_us). */
#include "guest/kernel.h"
#include "lib/err.h"
#include "lib/rng.h"
#include "workload/evq.h"
#include "workload/layouts.h"
#include "workload/touch.h"
#include <stdlib.h>

struct lmbench_cfg {
    uint64_t iterations;   /* measured operations per test */
    uint64_t warmup;       /* unmeasured operations before them */
    double   touch;        /* fraction of each segment a program touches */
    uint64_t heap_kb;      /* heap the parent has written before forking */
};

static const struct param_def defs[] = {
    PARAM_U64(struct lmbench_cfg, iterations, "200", 1, 1e7, "measured operations per test"),
    PARAM_U64(struct lmbench_cfg, warmup, "10", 0, 1e6, "unmeasured operations before them"),
    PARAM_DBL(struct lmbench_cfg, touch, "0.2", 0, 1, "fraction of each segment a program touches"),
    PARAM_U64(struct lmbench_cfg, heap_kb, "128", 0, 1 << 20, "heap the parent has written before forking"),
};
static const struct param_group group = { "lmbench", defs, sizeof defs / sizeof defs[0], "lmbench lat_proc analogs" };

static int lm_validate(const void *cfg, const struct kconfig *guest)
{
    const struct lmbench_cfg *c = cfg;
    if (c->heap_kb > guest->ram_mb << 10)
        return mv_error("--param lmbench.heap_kb=%llu: the heap is larger than the guest's RAM (guest.ram_mb=%llu)",
                        (unsigned long long)c->heap_kb, (unsigned long long)guest->ram_mb);
    return 0;
}

enum { T_FORK_EXIT, T_FORK_EXEC, T_FORK_SH, T__N };
#define SH_HEAP (16 << 10)      /* heap the shell writes */
static const char *const tname[T__N] = { "fork_exit", "fork_execve", "fork_sh" };

struct lmbench {
    struct lmbench_cfg c;
    rng_t rng;
    struct evq q;
    struct refbuf parent_plan, hello_plan, sh_plan;
    uint64_t done, total;
    unsigned test;
    uint64_t iter;
    uint32_t next_pid;
    int started;
    uint64_t wait_ref;     /* the parent's stack write after wait() */
};

static void *lm_create(const void *cfg, uint64_t seed)
{
    struct lmbench *s = mv_calloc(1, sizeof *s);
    s->c = *(const struct lmbench_cfg *)cfg;
    rng_seed(&s->rng, seed, 0x4c4d42);
    s->next_pid = 2;
    s->wait_ref = (STACK_TOP - 4096 + 128) | REF_WRITE;
    s->total = T__N * (s->c.iterations + s->c.warmup);
    touch_plan(&s->parent_plan, layout_get("lat_proc"), s->c.touch, 4, s->c.heap_kb << 10, &s->rng);
    touch_plan(&s->hello_plan, layout_get("hello"), s->c.touch, 2, 0, &s->rng);
    touch_plan(&s->sh_plan, layout_get("sh"), s->c.touch, 4, SH_HEAP, &s->rng);
    return s;
}

static struct event ev_of(enum ev_type t, uint32_t pid)
{
    return (struct event){ .type = t, .pid = pid };
}

static void push_access(struct evq *q, uint32_t pid, const struct refbuf *b)
{
    struct event e = ev_of(EV_ACCESS, pid);
    e.batch = b->ref;
    e.n = b->n;
    evq_push(q, e);
}

static void push_exec(struct evq *q, uint32_t pid, const char *layout, const struct refbuf *plan,
                      uint64_t heap_bytes)
{
    struct event e = ev_of(EV_EXEC, pid);
    e.layout = layout_get(layout);
    evq_push(q, e);
    uint64_t brk = touch_heap_brk(e.layout, heap_bytes);
    if (brk) {
        struct event b = ev_of(EV_BRK, pid);
        b.addr = brk;
        evq_push(q, b);
    }
    push_access(q, pid, plan);
}

/* One operation of test t, measured unless warming up. */
static void push_op(struct lmbench *s, unsigned t, int measured)
{
    uint32_t child = s->next_pid++;
    struct event m = ev_of(EV_MARK_BEGIN, 1);
    m.name = tname[t];
    if (measured)
        evq_push(&s->q, m);
    struct event f = ev_of(EV_FORK, 1);
    f.child = child;
    evq_push(&s->q, f);
    if (t == T_FORK_EXEC) {
        push_exec(&s->q, child, "hello", &s->hello_plan, 0);
    } else if (t == T_FORK_SH) {
        push_exec(&s->q, child, "sh", &s->sh_plan, SH_HEAP);
        push_exec(&s->q, child, "hello", &s->hello_plan, 0);
    }
    evq_push(&s->q, ev_of(EV_EXIT, child));
    /* the parent returns from wait() and writes its stack */
    struct event w = ev_of(EV_ACCESS, 1);
    w.batch = &s->wait_ref;
    w.n = 1;
    evq_push(&s->q, w);
    if (measured) {
        m.type = EV_MARK_END;
        evq_push(&s->q, m);
    }
}

static void lm_next(void *st, struct event *ev)
{
    struct lmbench *s = st;
    for (;;) {
        if (evq_pop(&s->q, ev))
            return;
        if (!s->started) {
            s->started = 1;
            evq_push(&s->q, ev_of(EV_SPAWN, 1));
            push_exec(&s->q, 1, "lat_proc", &s->parent_plan, s->c.heap_kb << 10);
            continue;
        }
        if (s->test == T__N) {
            s->test++;
            evq_push(&s->q, ev_of(EV_EXIT, 1));
            continue;
        }
        if (s->test > T__N) {
            *ev = ev_of(EV_END, 0);
            return;
        }
        push_op(s, s->test, s->iter >= s->c.warmup);
        s->done++;
        if (++s->iter == s->c.warmup + s->c.iterations) {
            s->iter = 0;
            s->test++;
        }
    }
}

static double lm_progress(void *st)
{
    struct lmbench *s = st;
    return s->total ? (double)s->done / (double)s->total : 1.0;
}

static void lm_destroy(void *st)
{
    struct lmbench *s = st;
    evq_free(&s->q);
    refbuf_free(&s->parent_plan);
    refbuf_free(&s->hello_plan);
    refbuf_free(&s->sh_plan);
    free(s);
}

const struct workload_def wl_lmbench = {
    .name = "lmbench",
    .doc = "lat_proc analogs: fork+exit, fork+execve, fork+sh; mean latency of each",
    .params = &group,
    .cfg_size = sizeof(struct lmbench_cfg),
    .validate = lm_validate,
    .create = lm_create,
    .next = lm_next,
    .progress = lm_progress,
    .destroy = lm_destroy,
};

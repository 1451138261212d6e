/* memwalk.c: memory access kernels over a working set.
 *
 * One process maps an anonymous working set and walks it with one of four
 * patterns: seq (8-byte steps), stride (fixed stride, wrapping), random
 * (independent uniform addresses) or chase (a pointer chase: a random cyclic
 * order over the pages, each visited once per lap). Knobs give a TLB-heavy
 * program like mcf (a large working set, random or chase) or a fault-heavy
 * one like gcc (remap: every remap_every references a random chunk is
 * unmapped and mapped afresh, so it faults in again). */
#include "guest/kernel.h"
#include "lib/err.h"
#include "lib/rng.h"
#include "workload/evq.h"
#include "workload/layouts.h"
#include "workload/touch.h"
#include <stdlib.h>
#include <string.h>

struct memwalk_cfg {
    uint64_t ws_mb;
    char     pattern[PARAM_STR_MAX];
    uint64_t stride;
    uint64_t refs;
    uint64_t write_pct;
    char     page_size[PARAM_STR_MAX];
    uint64_t remap_every;
    uint64_t remap_kb;
    int      prefault;
};

static const struct param_def defs[] = {
    PARAM_U64(struct memwalk_cfg, ws_mb, "256", 1, 1 << 22, "working set in MiB"),
    PARAM_CHOICE(struct memwalk_cfg, pattern, "random", "seq|stride|random|chase", "access pattern"),
    PARAM_U64(struct memwalk_cfg, stride, "4096", 8, 1ull << 30, "stride in bytes (pattern=stride)"),
    PARAM_U64(struct memwalk_cfg, refs, "20000000", 1, 1e12, "references to make"),
    PARAM_U64(struct memwalk_cfg, write_pct, "20", 0, 100, "percent of references that write"),
    PARAM_CHOICE(struct memwalk_cfg, page_size, "4k", "4k|2m", "page size of the working set (2m: huge pages)"),
    PARAM_U64(struct memwalk_cfg, remap_every, "0", 0, 1e12, "references between remaps of a chunk (0: never)"),
    PARAM_U64(struct memwalk_cfg, remap_kb, "1024", 4, 1 << 30, "size of a remapped chunk in KiB"),
    PARAM_BOOL(struct memwalk_cfg, prefault, "true", "write every page of the working set before walking it"),
};
static const struct param_group group = { "memwalk", defs, sizeof defs / sizeof defs[0], "memory access kernels" };

static int mw_validate(const void *cfg, const struct kconfig *guest)
{
    const struct memwalk_cfg *c = cfg;
    if (c->ws_mb > guest->ram_mb)
        return mv_error("--param memwalk.ws_mb=%llu: the working set is larger than the guest's RAM "
                        "(guest.ram_mb=%llu)", (unsigned long long)c->ws_mb, (unsigned long long)guest->ram_mb);
    if (c->remap_every && c->remap_kb > c->ws_mb << 10)
        return mv_error("--param memwalk.remap_kb=%llu: the remapped chunk is larger than the working set "
                        "(memwalk.ws_mb=%llu)", (unsigned long long)c->remap_kb, (unsigned long long)c->ws_mb);
    unsigned page_kb = !strcmp(c->page_size, "2m") ? 2048 : 4;
    if (c->remap_every && c->remap_kb % page_kb)
        return mv_error("--param memwalk.remap_kb=%llu: not a whole number of pages (memwalk.page_size=%s: "
                        "a multiple of %u)", (unsigned long long)c->remap_kb, c->page_size, page_kb);
    return 0;
}

#define WS_BASE 0x100000000000ull   /* 16 TiB: far from the image */
#define BATCH 4096

enum { PAT_SEQ, PAT_STRIDE, PAT_RANDOM, PAT_CHASE };

struct memwalk {
    struct memwalk_cfg c;
    rng_t rng;
    struct evq q;
    unsigned pat;
    uint64_t ws, pages, done, pos;
    uint64_t chase_mask, chase_a, chase_c;
    uint64_t since_remap;
    uint64_t buf[BATCH];
    uint64_t prefault_page;
    int stage;   /* 0 start, 1 prefault, 2 walk, 3 exit, 4 end */
    struct refbuf plan;
};

static void *mw_create(const void *cfg, uint64_t seed)
{
    struct memwalk *s = mv_calloc(1, sizeof *s);
    s->c = *(const struct memwalk_cfg *)cfg;
    rng_seed(&s->rng, seed, 0x4d57);
    static const char *const pats[] = { "seq", "stride", "random", "chase" };
    for (unsigned i = 0; i < 4; i++)
        if (!strcmp(s->c.pattern, pats[i]))
            s->pat = i;
    s->ws = s->c.ws_mb << 20;
    s->pages = s->ws >> 12;
    /* chase: an LCG with full period over the next power of two >= pages,
     * skipping values beyond the working set (cycle walking). */
    s->chase_mask = 1;
    while (s->chase_mask < s->pages)
        s->chase_mask <<= 1;
    s->chase_mask--;
    s->chase_a = (rng_next(&s->rng) & ~3ull) | 1;   /* a = 1 mod 4 */
    s->chase_c = rng_next(&s->rng) | 1;             /* c odd */
    s->pos = rng_below(&s->rng, s->pages);
    touch_plan(&s->plan, layout_get("memwalk"), 0.2, 4, 0, &s->rng);
    return s;
}

/* Whether the next reference writes: a draw per reference, as the stream
 * has always made it. */
static inline uint64_t write_bit(rng_t *r, uint64_t pct)
{
    return pct && rng_below(r, 100) < pct ? REF_WRITE : 0;
}

/* The next n references of the walk. One loop per pattern, the generator's
 * state in locals: seq and stride advance an offset instead of dividing
 * (the same offsets as (pos * step) % ws while pos * step fits in 64 bits,
 * and the division itself once it would not). */
static void walk_batch(struct memwalk *s, uint64_t *buf, uint32_t n)
{
    rng_t r = s->rng;
    const uint64_t pct = s->c.write_pct, ws = s->ws;
    uint64_t pos = s->pos;
    switch (s->pat) {
    case PAT_SEQ:
    case PAT_STRIDE: {
        uint64_t step = s->pat == PAT_SEQ ? 8 : s->c.stride;
        if (pos + n > UINT64_MAX / step) {   /* pos * step would wrap: the formula itself */
            for (uint32_t i = 0; i < n; i++, pos++)
                buf[i] = (WS_BASE + (pos * step) % ws) | write_bit(&r, pct);
            break;
        }
        uint64_t off = (pos * step) % ws, inc = step % ws;
        for (uint32_t i = 0; i < n; i++) {
            buf[i] = (WS_BASE + off) | write_bit(&r, pct);
            off += inc;
            off -= off >= ws ? ws : 0;
        }
        pos += n;
        break;
    }
    case PAT_RANDOM:
        for (uint32_t i = 0; i < n; i++) {
            uint64_t off = rng_below(&r, ws) & ~7ull;
            buf[i] = (WS_BASE + off) | write_bit(&r, pct);
        }
        break;
    default: /* PAT_CHASE */
        for (uint32_t i = 0; i < n; i++) {
            do
                pos = (pos * s->chase_a + s->chase_c) & s->chase_mask;
            while (pos >= s->pages);
            uint64_t off = (pos << 12) | ((pos * 0x9e3779b97f4a7c15ull >> 52) & 0xff8);
            buf[i] = (WS_BASE + off) | write_bit(&r, pct);
        }
        break;
    }
    s->pos = pos;
    s->rng = r;
}

static void push_ws_map(struct memwalk *s, uint64_t addr, uint64_t len)
{
    evq_push(&s->q, (struct event){ .type = EV_MMAP, .pid = 1, .addr = addr, .len = len,
                                    .prot = PROT_READ | PROT_WRITE,
                                    .flags = MAP_PRIVATE | MAP_ANON |
                                             (!strcmp(s->c.page_size, "2m") ? MAP_HUGETLB : 0) });
}

static void mw_next(void *st, struct event *ev)
{
    struct memwalk *s = st;
    for (;;) {
        if (evq_pop(&s->q, ev))
            return;
        switch (s->stage) {
        case 0:
            evq_push(&s->q, (struct event){ .type = EV_SPAWN, .pid = 1 });
            evq_push(&s->q, (struct event){ .type = EV_EXEC, .pid = 1, .layout = layout_get("memwalk") });
            evq_push(&s->q, (struct event){ .type = EV_ACCESS, .pid = 1, .batch = s->plan.ref, .n = s->plan.n });
            push_ws_map(s, WS_BASE, s->ws);
            s->stage = s->c.prefault ? 1 : 2;
            continue;
        case 1: {
            uint32_t n = 0;
            while (n < BATCH && s->prefault_page < s->pages)
                s->buf[n++] = (WS_BASE + (s->prefault_page++ << 12)) | REF_WRITE;
            if (s->prefault_page == s->pages)
                s->stage = 2;
            *ev = (struct event){ .type = EV_ACCESS, .pid = 1, .batch = s->buf, .n = n };
            return;
        }
        case 2: {
            if (s->done >= s->c.refs) {
                s->stage = 3;
                continue;
            }
            uint64_t want = s->c.refs - s->done;
            uint32_t n = want < BATCH ? (uint32_t)want : BATCH;
            if (s->c.remap_every && s->c.remap_every - s->since_remap < n)
                n = (uint32_t)(s->c.remap_every - s->since_remap);
            walk_batch(s, s->buf, n);
            s->done += n;
            s->since_remap += n;
            *ev = (struct event){ .type = EV_ACCESS, .pid = 1, .batch = s->buf, .n = n };
            if (s->c.remap_every && s->since_remap >= s->c.remap_every) {
                s->since_remap = 0;
                uint64_t chunk = s->c.remap_kb << 10;
                if (chunk > s->ws)
                    chunk = s->ws;
                uint64_t align = !strcmp(s->c.page_size, "2m") ? (2ull << 20) : 4096;
                chunk = (chunk + align - 1) & ~(align - 1);
                if (chunk > s->ws)
                    chunk = s->ws;
                uint64_t at = WS_BASE + (rng_below(&s->rng, (s->ws - chunk) / align + 1) * align);
                evq_push(&s->q, (struct event){ .type = EV_MUNMAP, .pid = 1, .addr = at, .len = chunk });
                push_ws_map(s, at, chunk);
            }
            return;
        }
        case 3:
            s->stage = 4;
            evq_push(&s->q, (struct event){ .type = EV_EXIT, .pid = 1 });
            continue;
        default:
            *ev = (struct event){ .type = EV_END };
            return;
        }
    }
}

static double mw_progress(void *st)
{
    struct memwalk *s = st;
    return (double)s->done / (double)s->c.refs;
}

static void mw_destroy(void *st)
{
    struct memwalk *s = st;
    evq_free(&s->q);
    refbuf_free(&s->plan);
    free(s);
}

const struct workload_def wl_memwalk = {
    .name = "memwalk",
    .doc = "access kernels (seq, stride, random, chase) over a working set; TLB- or fault-heavy",
    .params = &group,
    .cfg_size = sizeof(struct memwalk_cfg),
    .validate = mw_validate,
    .create = mw_create,
    .next = mw_next,
    .progress = mw_progress,
    .destroy = mw_destroy,
};

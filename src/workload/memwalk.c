/* memwalk.c: memory access kernels over a working set (see memwalk.h).
 *
 * One process maps an anonymous working set and walks it with one of four
 * patterns: seq (8-byte steps), stride (fixed stride in bytes, wrapping;
 * each reference is to the 8-byte word holding the byte), random
 * (independent uniform addresses) or chase (a pointer chase: a random cyclic
 * order over the pages, each visited once per lap). Knobs give a TLB-heavy
 * program like mcf (a large working set, random or chase) or a fault-heavy
 * one like gcc (remap: every remap_every references a random chunk is
 * unmapped and mapped afresh, so it faults in again). With phase_refs set,
 * the program alternates between two such kernels (phase A: the plain
 * parameters; phase B: the b_ ones), each over its own working set. */
#include "guest/kernel.h"
#include "lib/err.h"
#include "lib/rng.h"
#include "workload/evq.h"
#include "workload/layouts.h"
#include "workload/memwalk.h"
#include "workload/touch.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct param_def defs[] = {
    MEMWALK_PARAMS("256", "random", "20000000", "20", "4k", "0", "1024", "1"),
};
static const struct param_group group = { "memwalk", defs, sizeof defs / sizeof defs[0], "memory access kernels" };

/* "prefix.[p]name=value", "(the default)" after a value the user did not give. */
static const char *show(const struct param_group *g, const void *cfg, const char *p, const char *name, char *buf,
                        size_t len)
{
    char full[64];
    snprintf(full, sizeof full, "%s%s", p, name);
    return param_show(g, cfg, full, buf, len);
}

/* The checks of one phase's kernel: p is "" (phase A, or the only one) or "b_". */
static int check_phase(const struct param_group *g, const struct memwalk_cfg *c, const char *p, uint64_t ws_mb,
                       uint64_t remap_every, uint64_t remap_kb, const struct kconfig *guest)
{
    char a[PARAM_SHOW_MAX], b[PARAM_SHOW_MAX];
    if (ws_mb > guest->ram_mb)
        return mv_error("--param %s: the working set is larger than the guest's RAM, %s",
                        show(g, c, p, "ws_mb", a, sizeof a), param_show(&kconfig_params, guest, "ram_mb", b, sizeof b));
    /* 2 MiB pages: a working set of whole ones, or its tail would be 4 KiB
     * pages (a huge page maps only a 2 MiB region the mapping covers
     * entirely), not the huge-page run asked for */
    int huge = !strcmp(c->page_size, "2m");
    if (huge && ws_mb % 2)
        return mv_error("--param %s: not a whole number of pages of %s (a multiple of 2 MiB)",
                        show(g, c, p, "ws_mb", a, sizeof a), show(g, c, "", "page_size", b, sizeof b));
    if (remap_every && remap_kb > ws_mb << 10)
        return mv_error("--param %s: the remapped chunk is larger than the working set, %s",
                        show(g, c, p, "remap_kb", a, sizeof a), show(g, c, p, "ws_mb", b, sizeof b));
    unsigned page_kb = huge ? 2048 : 4;
    if (remap_every && remap_kb % page_kb)
        return mv_error("--param %s: not a whole number of pages of %s (a multiple of %u)",
                        show(g, c, p, "remap_kb", a, sizeof a), show(g, c, "", "page_size", b, sizeof b), page_kb);
    return 0;
}

int memwalk_check(const struct memwalk_cfg *c, const struct kconfig *guest, const struct param_group *g)
{
    char a[PARAM_SHOW_MAX], b[PARAM_SHOW_MAX], r[PARAM_SHOW_MAX];
    if (check_phase(g, c, "", c->ws_mb, c->remap_every, c->remap_kb, guest))
        return -1;
    /* its working sets are fixed mappings at base_gb: below vm.mmap_min_addr the mmap fails (EPERM) */
    for (int ph = 0; ph < 1 + !!c->phase_refs; ph++) {
        uint64_t gb = ph ? c->b_base_gb : c->base_gb;
        if (gb << 30 < guest->mmap_min_addr)
            return mv_error("--param %s: above 0x%llx, where %s maps the working set: the mmap would fail "
                            "with EPERM, as on Linux",
                            param_show(&kconfig_params, guest, "mmap_min_addr", a, sizeof a),
                            (unsigned long long)(gb << 30), show(g, c, ph ? "b_" : "", "base_gb", b, sizeof b));
    }
    if (!c->phase_refs)
        return 0;
    if (check_phase(g, c, "b_", c->b_ws_mb, c->b_remap_every, c->b_remap_kb, guest))
        return -1;
    if (c->ws_mb + c->b_ws_mb > guest->ram_mb)
        return mv_error("--param %s and %s: the two working sets are larger than the guest's RAM, %s",
                        show(g, c, "", "ws_mb", a, sizeof a), show(g, c, "b_", "ws_mb", b, sizeof b),
                        param_show(&kconfig_params, guest, "ram_mb", r, sizeof r));
    uint64_t a_end = c->base_gb + ((c->ws_mb + 1023) >> 10), b_end = c->b_base_gb + ((c->b_ws_mb + 1023) >> 10);
    if (c->base_gb < b_end && c->b_base_gb < a_end)
        return mv_error("--param %s: phase B's working set overlaps phase A's, at %s with %s",
                        show(g, c, "b_", "base_gb", a, sizeof a), show(g, c, "", "base_gb", b, sizeof b),
                        show(g, c, "", "ws_mb", r, sizeof r));
    return 0;
}

static int mw_validate(const void *cfg, const struct kconfig *guest)
{
    return memwalk_check(cfg, guest, &group);
}

#define BATCH 4096

enum { PAT_SEQ, PAT_STRIDE, PAT_RANDOM, PAT_CHASE };

/* One kernel: a pattern over a working set, its own random stream. */
struct walker {
    rng_t rng;
    unsigned pat;
    uint64_t base, ws, pages, pos, stride;
    uint64_t chase_mask, chase_a, chase_c;
    uint64_t remap_every, remap_kb, since_remap, write_pct;
    uint64_t phase_refs;      /* references before the other phase's turn (0: no phases) */
    double ipr;
};

struct memwalk {
    struct memwalk_cfg c;
    struct evq q;
    struct walker w[2];
    unsigned nw, cur;
    uint64_t done, in_phase;
    double batch_ipr;         /* instructions per reference of the last batch */
    uint64_t buf[BATCH];
    uint64_t prefault_page;
    unsigned prefault_w;
    int huge;
    int stage;   /* 0 start, 1 prefault, 2 walk, 3 exit, 4 end */
    struct refbuf plan;
};

static unsigned pattern_of(const char *name)
{
    static const char *const pats[] = { "seq", "stride", "random", "chase" };
    for (unsigned i = 0; i < 4; i++)
        if (!strcmp(name, pats[i]))
            return i;
    return PAT_RANDOM;
}

/* chase: an LCG with full period over the next power of two >= pages,
 * skipping values beyond the working set (cycle walking). */
static void walker_init(struct walker *w, unsigned pat, uint64_t base_gb, uint64_t ws_mb)
{
    w->pat = pat;
    w->base = base_gb << 30;
    w->ws = ws_mb << 20;
    w->pages = w->ws >> 12;
    w->chase_mask = 1;
    while (w->chase_mask < w->pages)
        w->chase_mask <<= 1;
    w->chase_mask--;
    w->chase_a = (rng_next(&w->rng) & ~3ull) | 1;   /* a = 1 mod 4 */
    w->chase_c = rng_next(&w->rng) | 1;             /* c odd */
    w->pos = rng_below(&w->rng, w->pages);
}

void *memwalk_create(const void *cfg, uint64_t seed)
{
    struct memwalk *s = mv_calloc(1, sizeof *s);
    s->c = *(const struct memwalk_cfg *)cfg;
    const struct memwalk_cfg *c = &s->c;
    s->huge = !strcmp(c->page_size, "2m");
    struct walker *a = &s->w[0];
    rng_seed(&a->rng, seed, 0x4d57);
    walker_init(a, pattern_of(c->pattern), c->base_gb, c->ws_mb);
    a->stride = c->stride;
    a->remap_every = c->remap_every;
    a->remap_kb = c->remap_kb;
    a->write_pct = c->write_pct;
    a->phase_refs = c->phase_refs;
    a->ipr = c->instr_per_ref;
    s->batch_ipr = a->ipr;
    touch_plan(&s->plan, layout_get("memwalk"), 0.2, 4, 0, &a->rng);
    s->nw = 1;
    if (c->phase_refs) {
        struct walker *b = &s->w[1];
        rng_seed(&b->rng, seed, 0x4d58);
        walker_init(b, pattern_of(c->b_pattern), c->b_base_gb, c->b_ws_mb);
        b->stride = c->stride;
        b->remap_every = c->b_remap_every;
        b->remap_kb = c->b_remap_kb;
        b->write_pct = c->b_write_pct;
        b->phase_refs = c->b_phase_refs;
        b->ipr = c->b_instr_per_ref;
        s->nw = 2;
    }
    return s;
}

/* Whether the next reference writes: a draw per reference, as the stream
 * has always made it. */
static inline uint64_t write_bit(rng_t *r, uint64_t pct)
{
    return pct && rng_below(r, 100) < pct ? REF_WRITE : 0;
}

/* The reference to the byte at va: the 8-byte word it falls in (a stride
 * is in bytes, any number of them; the low bits of a reference are its
 * kind, workload.h). */
static inline uint64_t word_of(uint64_t va)
{
    return va & ~(uint64_t)REF_KIND_MASK;
}

/* The next n references of walker w. One loop per pattern, the generator's
 * state in locals: seq and stride advance an offset instead of dividing
 * (the same offsets as (pos * step) % ws while pos * step fits in 64 bits,
 * and the division itself once it would not). */
static void walk_batch(struct walker *w, uint64_t *buf, uint32_t n)
{
    rng_t r = w->rng;
    const uint64_t pct = w->write_pct, ws = w->ws, base = w->base;
    uint64_t pos = w->pos;
    switch (w->pat) {
    case PAT_SEQ:
    case PAT_STRIDE: {
        uint64_t step = w->pat == PAT_SEQ ? 8 : w->stride;
        if (pos + n > UINT64_MAX / step) {   /* pos * step would wrap: the formula itself */
            for (uint32_t i = 0; i < n; i++, pos++)
                buf[i] = word_of(base + (pos * step) % ws) | write_bit(&r, pct);
            break;
        }
        uint64_t off = (pos * step) % ws, inc = step % ws;
        for (uint32_t i = 0; i < n; i++) {
            buf[i] = word_of(base + off) | write_bit(&r, pct);
            off += inc;
            off -= off >= ws ? ws : 0;
        }
        pos += n;
        break;
    }
    case PAT_RANDOM:
        for (uint32_t i = 0; i < n; i++) {
            uint64_t off = rng_below(&r, ws) & ~7ull;
            buf[i] = (base + off) | write_bit(&r, pct);
        }
        break;
    default: /* PAT_CHASE */
        for (uint32_t i = 0; i < n; i++) {
            do
                pos = (pos * w->chase_a + w->chase_c) & w->chase_mask;
            while (pos >= w->pages);
            uint64_t off = (pos << 12) | ((pos * 0x9e3779b97f4a7c15ull >> 52) & 0xff8);
            buf[i] = (base + off) | write_bit(&r, pct);
        }
        break;
    }
    w->pos = pos;
    w->rng = r;
}

static void push_ws_map(struct memwalk *s, uint64_t addr, uint64_t len)
{
    evq_push(&s->q, (struct event){ .type = EV_MMAP, .pid = 1, .addr = addr, .len = len,
                                    .prot = PROT_READ | PROT_WRITE,
                                    .flags = MAP_PRIVATE | MAP_ANON | (s->huge ? MAP_HUGETLB : 0) });
}

/* Every remap_every references of a walker, a random chunk goes and comes
 * back empty. */
static void remap(struct memwalk *s, struct walker *w)
{
    w->since_remap = 0;
    uint64_t chunk = w->remap_kb << 10;
    if (chunk > w->ws)
        chunk = w->ws;
    uint64_t align = s->huge ? (2ull << 20) : 4096;
    chunk = (chunk + align - 1) & ~(align - 1);
    if (chunk > w->ws)
        chunk = w->ws;
    uint64_t at = w->base + (rng_below(&w->rng, (w->ws - chunk) / align + 1) * align);
    evq_push(&s->q, (struct event){ .type = EV_MUNMAP, .pid = 1, .addr = at, .len = chunk });
    push_ws_map(s, at, chunk);
}

void memwalk_next(void *st, struct event *ev)
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
            for (unsigned i = 0; i < s->nw; i++)
                push_ws_map(s, s->w[i].base, s->w[i].ws);
            s->stage = s->c.prefault ? 1 : 2;
            continue;
        case 1: {
            struct walker *w = &s->w[s->prefault_w];
            uint32_t n = 0;
            while (n < BATCH && s->prefault_page < w->pages)
                s->buf[n++] = (w->base + (s->prefault_page++ << 12)) | REF_WRITE;
            if (s->prefault_page == w->pages) {
                s->prefault_page = 0;
                if (++s->prefault_w == s->nw)
                    s->stage = 2;
            }
            *ev = (struct event){ .type = EV_ACCESS, .pid = 1, .batch = s->buf, .n = n };
            return;
        }
        case 2: {
            if (s->done >= s->c.refs) {
                s->stage = 3;
                continue;
            }
            if (s->nw == 2 && s->in_phase >= s->w[s->cur].phase_refs) {
                s->cur ^= 1;             /* the other phase's turn */
                s->in_phase = 0;
            }
            struct walker *w = &s->w[s->cur];
            s->batch_ipr = w->ipr;
            uint64_t want = s->c.refs - s->done;
            uint32_t n = want < BATCH ? (uint32_t)want : BATCH;
            if (w->remap_every && w->remap_every - w->since_remap < n)
                n = (uint32_t)(w->remap_every - w->since_remap);
            if (w->phase_refs && w->phase_refs - s->in_phase < n)
                n = (uint32_t)(w->phase_refs - s->in_phase);
            walk_batch(w, s->buf, n);
            s->done += n;
            w->since_remap += n;
            s->in_phase += n;
            *ev = (struct event){ .type = EV_ACCESS, .pid = 1, .batch = s->buf, .n = n };
            if (w->remap_every && w->since_remap >= w->remap_every)
                remap(s, w);
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

/* The references just handed out stand for the instructions of the phase
 * they came from (the image and the prefault: phase A's). */
double memwalk_instr_per_ref(void *st)
{
    return ((struct memwalk *)st)->batch_ipr;
}

double memwalk_progress(void *st)
{
    struct memwalk *s = st;
    return (double)s->done / (double)s->c.refs;
}

void memwalk_destroy(void *st)
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
    .create = memwalk_create,
    .next = memwalk_next,
    .progress = memwalk_progress,
    .destroy = memwalk_destroy,
    .instr_per_ref = memwalk_instr_per_ref,
};

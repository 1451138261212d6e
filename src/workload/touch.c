/* touch.c: reference plans over a layout (see touch.h). */
#include "workload/touch.h"
#include "guest/kernel.h"
#include "lib/err.h"
#include "workload/workload.h"
#include <stdlib.h>

void refbuf_push(struct refbuf *b, uint64_t ref)
{
    if (b->n == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 1024;
        b->ref = mv_realloc(b->ref, b->cap * sizeof *b->ref);
    }
    b->ref[b->n++] = ref;
}

void refbuf_free(struct refbuf *b)
{
    free(b->ref);
    *b = (struct refbuf){ 0 };
}

static void touch_range(struct refbuf *b, uint64_t start, uint64_t len, double frac,
                        uint64_t kind, rng_t *r)
{
    uint64_t pages = len >> 12;
    if (!pages)
        return;
    uint64_t want = (uint64_t)((double)pages * frac + 0.5);
    if (want < 1)
        want = 1;
    if (want > pages)
        want = pages;
    /* A run of pages from a random start: programs touch code and data in
     * clusters; the offset inside the page varies. */
    uint64_t first = rng_below(r, pages - want + 1);
    for (uint64_t i = 0; i < want; i++) {
        uint64_t off = rng_below(r, 512) * 8;
        refbuf_push(b, (start + ((first + i) << 12) + off) | kind);
    }
}

void touch_plan(struct refbuf *b, const struct layout *l, double frac, unsigned stack_pages,
                uint64_t heap_bytes, rng_t *r)
{
    for (unsigned i = 0; i < l->nseg; i++) {
        const struct segment *s = &l->seg[i];
        switch (s->kind) {
        case SEG_FILE:
            if (s->prot & PROT_EXEC)
                touch_range(b, s->start, s->len, frac, REF_EXEC, r);
            else if (s->prot & PROT_WRITE)
                touch_range(b, s->start, s->len, frac, REF_WRITE, r);
            else
                touch_range(b, s->start, s->len, frac, 0, r);
            break;
        case SEG_ANON:
            touch_range(b, s->start, s->len, frac, REF_WRITE, r);
            break;
        case SEG_HEAP:
            if (heap_bytes)
                touch_range(b, s->start, heap_bytes, 1.0, REF_WRITE, r);
            break;
        case SEG_STACK: {
            uint64_t n = stack_pages < (s->len >> 12) ? stack_pages : (s->len >> 12);
            for (uint64_t p = 1; p <= n; p++)
                refbuf_push(b, (s->start + s->len - (p << 12) + 64) | REF_WRITE);
            break;
        }
        }
    }
}

uint64_t touch_heap_brk(const struct layout *l, uint64_t heap_bytes)
{
    for (unsigned i = 0; i < l->nseg; i++)
        if (l->seg[i].kind == SEG_HEAP)
            return heap_bytes > l->seg[i].len ? l->seg[i].start + heap_bytes : 0;
    return 0;
}

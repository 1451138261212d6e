/* touch.h: turning "a process uses part of its image" into references.
 *
 * touch_plan() picks, deterministically from an rng, a fraction of the pages
 * of each segment of a layout and the kind of access a program makes there:
 * instruction fetches in text, reads of read-only data, writes to data, bss,
 * heap and the top of the stack. The plan is a list of references a generator
 * hands out in batches. */
#ifndef MV_WORKLOAD_TOUCH_H
#define MV_WORKLOAD_TOUCH_H
#include "guest/layout.h"
#include "lib/rng.h"
#include <stdint.h>

struct refbuf {
    uint64_t *ref;
    uint32_t n, cap;
};

void refbuf_push(struct refbuf *b, uint64_t ref);
void refbuf_free(struct refbuf *b);

/* Append a plan for layout l: `frac` of each file/anon segment's pages (at
 * least one page each), `stack_pages` at the top of the stack, and `heap_bytes`
 * of the heap from its start. If heap_bytes is more than the heap the image
 * starts with, the generator must grow the break first: touch_heap_brk()
 * says to where. */
void touch_plan(struct refbuf *b, const struct layout *l, double frac, unsigned stack_pages,
                uint64_t heap_bytes, rng_t *r);
/* The break a plan with heap_bytes needs, or 0 if the initial heap is enough. */
uint64_t touch_heap_brk(const struct layout *l, uint64_t heap_bytes);

#endif

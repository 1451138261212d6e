/* walk.c: the hardware page walker for every table format (see walk.h):
 * the walk log, and walk() compiled from the body in walk_tmpl.h. */
#include "hw/walk.h"
#include "hw/walk_tmpl.h"
#include "lib/err.h"
#include <stdlib.h>
#include <string.h>

void walk_log_grow(struct walk_log *l)
{
    uint32_t cap = l->cap * 2;
    struct walk_ref *r = mv_malloc(cap * sizeof *r);
    memcpy(r, l->ref, l->n * sizeof *r);
    if (l->ref != l->inline_ref)
        free(l->ref);
    l->ref = r;
    l->cap = cap;
}

void walk_log_free(struct walk_log *l)
{
    if (l->ref != l->inline_ref)
        free(l->ref);
    walk_log_init(l);
}

uint32_t walk(struct pmem *m, uint64_t root, uint64_t va, enum access acc, int user,
              const struct walk_params *p, struct walk_result *r)
{
    return walk_tmpl(m, root, va, acc, user, p, r);
}

uint32_t walk_1d(struct pmem *m, uint64_t root, uint64_t va, enum access acc, int user,
                 struct pwc *pwc, uint16_t pcid, unsigned flags, struct walk_result *r)
{
    const struct walk_params p = { .fmt = PTF_X86, .flags = flags, .pwc = pwc, .tag = pcid };
    return walk(m, root, va, acc, user, &p, r);
}

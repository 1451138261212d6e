/* walk.c: the hardware page walker for every table format (see walk.h):
 * walk() compiled from the body in walk_tmpl.h, its parameters unknown. */
#include "hw/walk.h"
#include "hw/walk_tmpl.h"

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

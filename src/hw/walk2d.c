/* walk2d.c: the 2D walk of nested paging (see walk2d.h). */
#include "hw/walk2d.h"
#include "hw/ept.h"

uint32_t ept_translate(struct cpu *c, uint64_t gfn, enum access acc, uint64_t *mfn, unsigned *size)
{
    struct nested_mmu *n = &c->nested;
    uint64_t gpa = gfn << PAGE_SHIFT;
    struct tlb_xlate x;
    if (gfn >> (EPT_GPA_BITS - PAGE_SHIFT))   /* beyond what a 4-level EPT translates: a violation */
        return 1;
    if (n->ntlb_on && tlb_lookup(&n->ntlb, gpa, 0, &x)) {
        c->st->cnt[CNT_ntlb_hit]++;
        *mfn = x.frame;
        *size = x.size;
        return 0;
    }
    const struct walk_params p = { .fmt = PTF_EPT, .pwc = n->ept_pwc_on ? &n->ept_pwc : NULL,
                                   .log = &c->log, .dim = WALK_DIM_HOST };
    struct walk_result r;
    uint32_t e = walk(c->mem, n->eptp, gpa, acc, 0, &p, &r);
    c->st->cnt[CNT_ept_pwc_hit] += 4 - r.pwc_level;
    if (e)
        return e;
    x = (struct tlb_xlate){ .frame = r.frame, .flags = r.flags, .size = r.size };
    if (n->ntlb_on)
        tlb_insert_missed(&n->ntlb, gpa, 0, &x);
    *mfn = r.frame;
    *size = r.size;
    return 0;
}

/* The guest dimension's table-fetch step: guest table frames are read
 * through the EPT (a read: EPT A/D flags are not modelled). */
static uint32_t fetch_table(void *ctx, uint64_t gfn, uint64_t *mfn)
{
    unsigned size;
    return ept_translate(ctx, gfn, ACC_READ, mfn, &size);
}

uint32_t walk2d(struct cpu *c, uint64_t va, enum access acc, int user, struct tlb_xlate *x,
                uint64_t *viol_gfn)
{
    struct nested_mmu *n = &c->nested;
    const struct walk_fetch fetch = { fetch_table, c };
    const struct walk_params p = { .fmt = PTF_X86, .flags = WALK_SET_AD,
                                   .pwc = n->guest_pwc ? &c->pwc : NULL, .tag = c->pcid,
                                   .fetch = &fetch, .log = &c->log, .dim = WALK_DIM_GUEST };
    struct walk_result r;
    c->log.n = 0;
    uint32_t pfec = walk(c->mem, c->cr3, va, acc, user, &p, &r);
    c->st->cnt[CNT_pwc_hit] += 4 - r.pwc_level;
    if (pfec == WALK_FETCH_FAILED) {
        *viol_gfn = r.fetch_frame;
    } else if (!pfec) {
        uint64_t mfn;
        unsigned esize;
        if (ept_translate(c, r.frame, acc, &mfn, &esize)) {
            *viol_gfn = r.frame;
            pfec = WALK_FETCH_FAILED;
        } else {
            x->frame = mfn;
            x->flags = r.flags;
            x->size = (uint8_t)(esize < r.size ? esize : r.size);
        }
    }
    cpu_charge_walk(c, 1);
    return pfec;
}

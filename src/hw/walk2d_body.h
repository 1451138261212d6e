/* walk2d_body.h: the 2D walk of nested paging as an inline body (see
 * walk2d.h).
 *
 * The walk is walk_tmpl.h instantiated twice, for the guest format with
 * the EPT translation as its table-fetch step and for the EPT format; with
 * the nested TLB's lookup and install (tlb_body.h) they are compiled into
 * one function, so that a 2D walk makes no call it need not: in walk2d.c
 * once per set-scan kind (simd.h), for any geometry; in walk2d_geom.c once
 * more, with the AVX2 scans, for the default geometry (geom.h), which a
 * CPU whose structures all have it takes (nested_mmu.geom_default). Two
 * files, as for the miss path (cpu_miss.h): gcc bounds how much inlining
 * may grow one. Nothing here is part of the walk's interface. */
#ifndef MV_HW_WALK2D_BODY_H
#define MV_HW_WALK2D_BODY_H
#include "hw/ept.h"
#include "hw/geom.h"
#include "hw/tlb_body.h"
#include "hw/walk2d.h"
#include "hw/walk_tmpl.h"

#define W2D_BODY static inline __attribute__((always_inline))

/* A 2D walk under way: its CPU, and its host-dimension references so far
 * (the EPT walks') with how many of them missed the data cache. */
struct walk2d {
    struct cpu *c;
    uint32_t host_refs, host_miss;
};

/* gfn's machine frame through the nested TLB, else an EPT walk (its
 * references counted in w). 0 and *mfn, *size; non-zero: an EPT violation. */

W2D_BODY uint32_t ept_translate_body(struct walk2d *w, uint64_t gfn, enum access acc, uint64_t *mfn,
                                     unsigned *size, const int simd, const int geom)
{
    struct cpu *c = w->c;
    struct nested_mmu *n = &c->nested;
    uint64_t gpa = gfn << PAGE_SHIFT;
    struct tlb_xlate x;
    if (gfn >> (EPT_GPA_BITS - PAGE_SHIFT))   /* beyond what a 4-level EPT translates: a violation */
        return 1;
    if (n->ntlb_on && tlb_lookup_body_g(&n->ntlb, gpa, 0, &x, simd, GEOM_OF(geom, GEOM_NTLB))) {
        c->st->cnt[CNT_ntlb_hit]++;
        *mfn = x.frame;
        *size = x.size;
        return 0;
    }
    if (n->prebuilt)
        n->prebuilt(n->prebuilt_ctx, gfn);
    const struct walk_params p = { .fmt = PTF_EPT, .pwc = n->ept_pwc_on ? &n->ept_pwc : NULL,
                                   .dc = &c->dc, .simd = simd,
                                   .geom = geom ? WALK_GEOM_EPT : 0 };
    struct walk_result r = { .frame = 0 };
    uint32_t e = walk_tmpl(c->mem, n->eptp, gpa, acc, 0, &p, &r);
    c->st->cnt[CNT_ept_pwc_hit] += 4 - r.pwc_level;
    w->host_refs += r.refs;
    w->host_miss += r.dc_miss;
    if (e)
        return e;
    x = (struct tlb_xlate){ .frame = r.frame, .flags = r.flags, .size = r.size };
    if (n->ntlb_on)
        tlb_insert_missed_body_g(&n->ntlb, gpa, 0, &x, simd, GEOM_OF(geom, GEOM_NTLB),
                                 GEOM_OF(geom, GEOM_ABSENT));
    *mfn = r.frame;
    *size = r.size;
    return 0;
}

/* The guest dimension's table-fetch step: guest table frames are read
 * through the EPT (a read: EPT A/D flags are not modelled). Called through
 * a constant pointer, which the compiler resolves; always inline, so that
 * the EPT translation of each guest table is part of the walk (gcc left it
 * a call, which cost hap's random references 4-5% more host instructions). */
W2D_BODY HW_SIMD_TARGET uint32_t fetch_table_avx2(void *ctx, uint64_t gfn, uint64_t *mfn)
{
    unsigned size;
    return ept_translate_body(ctx, gfn, ACC_READ, mfn, &size, 1, 0);
}
W2D_BODY HW_SIMD_TARGET uint32_t fetch_table_avx2_geom(void *ctx, uint64_t gfn, uint64_t *mfn)
{
    unsigned size;
    return ept_translate_body(ctx, gfn, ACC_READ, mfn, &size, 1, 1);
}
W2D_BODY uint32_t fetch_table_scalar(void *ctx, uint64_t gfn, uint64_t *mfn)
{
    unsigned size;
    return ept_translate_body(ctx, gfn, ACC_READ, mfn, &size, 0, 0);
}

W2D_BODY uint32_t walk2d_body(struct cpu *c, uint64_t va, enum access acc, int user, struct tlb_xlate *x,
                              uint64_t *viol_gfn, const int simd, const int geom)
{
    struct nested_mmu *n = &c->nested;
    struct walk2d w = { .c = c };
    const struct walk_fetch fetch = { !simd ? fetch_table_scalar : geom ? fetch_table_avx2_geom : fetch_table_avx2,
                                      &w };
    const struct walk_params p = { .fmt = PTF_X86, .flags = WALK_SET_AD,
                                   .pwc = n->guest_pwc ? &c->pwc : NULL, .tag = c->pcid,
                                   .fetch = &fetch, .dc = &c->dc, .simd = simd,
                                   .geom = geom ? WALK_GEOM_CPU : 0 };
    struct walk_result r = { .frame = 0 };
    uint32_t pfec = walk_tmpl(c->mem, c->cr3, va, acc, user, &p, &r);
    c->st->cnt[CNT_pwc_hit] += 4 - r.pwc_level;
    if (pfec == WALK_FETCH_FAILED) {
        *viol_gfn = r.fetch_frame;
    } else if (!pfec) {
        uint64_t mfn;
        unsigned esize;
        if (ept_translate_body(&w, r.frame, acc, &mfn, &esize, simd, geom)) {
            *viol_gfn = r.frame;
            pfec = WALK_FETCH_FAILED;
        } else {
            x->frame = mfn;
            x->flags = r.flags;
            x->size = (uint8_t)(esize < r.size ? esize : r.size);
            if (x->size < r.size) {     /* the TLB will hold the guest's page in pieces */
                x->flags |= TLB_FRAC;
                c->tlb.frac = 1;
            }
        }
    }
    /* every reference went through the data cache as it was made, the
     * guest's and the EPT walks' interleaved as the walk made them */
    cpu_charge_walk(c, r.refs + w.host_refs, r.dc_miss + w.host_miss);
    c->st->cnt[CNT_walk_refs_guest] += r.refs;
    c->st->cnt[CNT_walk_refs_host] += w.host_refs;
    return pfec;
}

#endif

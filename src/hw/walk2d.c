/* walk2d.c: the 2D walk of nested paging (see walk2d.h): its body
 * (walk2d_body.h) compiled for any geometry, once per set-scan kind
 * (simd.h); walk2d_geom.c has the copy for the default geometry. */
#include "hw/walk2d.h"
#include "hw/walk2d_body.h"

static HW_SIMD_TARGET GEOM_COPY uint32_t walk2d_avx2(struct cpu *c, uint64_t va, enum access acc, int user,
                                                    struct tlb_xlate *x, uint64_t *viol_gfn)
{
    return walk2d_body(c, va, acc, user, x, viol_gfn, 1, 0);
}
static GEOM_COPY uint32_t walk2d_scalar(struct cpu *c, uint64_t va, enum access acc, int user, struct tlb_xlate *x,
                                       uint64_t *viol_gfn)
{
    return walk2d_body(c, va, acc, user, x, viol_gfn, 0, 0);
}
uint32_t walk2d(struct cpu *c, uint64_t va, enum access acc, int user, struct tlb_xlate *x, uint64_t *viol_gfn)
{
    if (!hw_simd)
        return walk2d_scalar(c, va, acc, user, x, viol_gfn);
    return c->nested.geom_default ? walk2d_avx2_geom(c, va, acc, user, x, viol_gfn)
                                  : walk2d_avx2(c, va, acc, user, x, viol_gfn);
}

/* The EPT walk says which (WALK_EPT_MISCONFIG), but carrying its word out
 * of the inlined 2D walk cost every hap reference 15 host instructions
 * (bench/instr_per_ref.sh hap, 1 GiB random), and walking again cost each
 * violation hundreds: so the reason is read here, off the hot path, from
 * the one entry that can give it. The only reserved EPT bit memvirt
 * models is bit 7 of an L4 (walk_tmpl.h, fmt_rsvd), and the L4 entry is
 * the first a walk from the root reads: a walk without caches
 * misconfigures exactly when that entry is present with bit 7 set. */
int walk2d_ept_misconfig(struct cpu *c, uint64_t gfn)
{
    if (gfn >> (EPT_GPA_BITS - PAGE_SHIFT))
        return 0;
    pte_t e = pmem_read(c->mem, c->nested.eptp, pt_index(gfn << PAGE_SHIFT, 4));
    return ept_l4_rsvd(e);
}

/* walk_tmpl.h: the body of the page walker (walk.h), inline.
 *
 * walk() is this body compiled once with its parameters unknown. A caller
 * on a hot path whose parameters are constants (the format, whether there
 * is a fetch step, a data cache, the set scans, the geometry of the walk
 * caches and the data cache: walk_params.geom) includes this file and
 * calls walk_tmpl() with a constant struct walk_params: the compiler then
 * drops the branches of the other formats, as KVM's paging_tmpl.h is
 * instantiated once per format. One walker, written once; only where it is
 * compiled differs. */
#ifndef MV_HW_WALK_TMPL_H
#define MV_HW_WALK_TMPL_H
#include "hw/dcache_body.h"
#include "hw/ept.h"
#include "hw/tlb.h"
#include "hw/walk.h"

/* ---- the formats ---------------------------------------------------------- */

static inline int fmt_present(enum pt_format f, pte_t e)
{
    return f == PTF_EPT ? ept_present(e) : pte_present(e);
}

/* Does the walk stop at this present entry? x86: at a leaf. EPT: at a
 * leaf or at bit 7 of an L4, reserved (a misconfiguration), which the leaf
 * branch refuses: tested with the leaf bit, it costs an EPT walk nothing. */
static inline int fmt_leaf(enum pt_format f, pte_t e, unsigned lvl)
{
    return f == PTF_EPT ? lvl == 1 || (e & EPT_PS) : pte_leaf(e, lvl);
}

/* fmt_perms moves the bits by shifts: x86 RW and USER (bits 1 and 2) one
 * place down onto W and U, NX (bit 63) onto TLB_NX; EPT's W (bit 1) onto
 * W, and X (bit 2) already where TLB_NX is, inverted. */
_Static_assert(TLB_W == 1 && TLB_U == 2 && TLB_NX == 4, "TLB permission bits");
_Static_assert(_PAGE_RW == 2 && _PAGE_USER == 4 && _PAGE_NX == 1ull << 63, "x86 permission bits");
_Static_assert(EPT_W == 2 && EPT_X == 4, "EPT permission bits");

/* An entry's permissions as TLB_W / TLB_U / TLB_NX bits. EPT has no user
 * bit (both privilege levels get what R/W/X grant). */
static inline uint8_t fmt_perms(enum pt_format f, pte_t e)
{
    if (f == PTF_EPT)
        return (uint8_t)(((e >> 1) & TLB_W) | TLB_U | (~e & TLB_NX));
    return (uint8_t)(((e >> 1) & (TLB_W | TLB_U)) | ((e >> 61) & TLB_NX));
}

/* Permissions combine as W and U intersect, NX unites. */
static inline uint8_t perms_combine(uint8_t acc, uint8_t e)
{
    return (uint8_t)((acc & e & (TLB_W | TLB_U)) | ((acc | e) & TLB_NX));
}

/* The error code of a fault: the access's x86 bits, or 1 (an EPT violation);
 * made only when the walk faults. */
static inline uint32_t walk_fault(enum pt_format f, enum access acc, int user)
{
    return f == PTF_EPT ? 1 : pfec_of(acc, user);
}

/* A reserved bit in a present entry: a #PF with P and RSVD (SDM 4.7), or
 * an EPT misconfiguration. */
static inline uint32_t walk_rsvd_fault(enum pt_format f, enum access acc, int user)
{
    return f == PTF_EPT ? WALK_EPT_MISCONFIG : pfec_of(acc, user) | PFEC_P | PFEC_RSVD;
}

/* ---- the walk --------------------------------------------------------------- */

static inline __attribute__((always_inline)) uint32_t
walk_tmpl(struct pmem *m, uint64_t root, uint64_t va, enum access acc, int user, const struct walk_params *p,
          struct walk_result *r)
{
    const enum pt_format fmt = p->fmt;
    const struct pwc_geom pg = p->geom == WALK_GEOM_CPU ? GEOM_PWC : p->geom == WALK_GEOM_EPT ? GEOM_EPT_PWC
                                                                                              : PWC_GEOM_ANY;
    const struct geom dg = p->geom ? GEOM_DCACHE : GEOM_ANY;
    uint8_t perms = TLB_W | TLB_U;
    unsigned lvl = 4;
    uint64_t table;

    r->refs = 0;
    r->dc_miss = 0;
    r->pwc_level = 4;
    r->fetch_code = 0;
    if (fmt == PTF_X86 && !va_canonical(va)) {
        r->level = 4;
        r->leaf_table = root;
        return walk_fault(fmt, acc, user) | PFEC_RSVD;
    }
    if (p->pwc && (lvl = pwc_lookup_g(p->pwc, va, p->tag, &table, &perms, pg, p->simd)) < 4) {
        /* the cache holds the machine frame of a deeper table */
    } else {
        lvl = 4;
        table = root;
        if (p->fetch && (r->fetch_code = p->fetch->fn(p->fetch->ctx, root, &table))) {
            r->level = 4;
            r->fetch_frame = root;
            return WALK_FETCH_FAILED;
        }
    }
    r->pwc_level = (uint8_t)lvl;

    for (;; lvl--) {
        if (!pmem_valid(m, table)) {
            r->level = (uint8_t)lvl;
            r->leaf_table = table;
            return walk_fault(fmt, acc, user) | PFEC_RSVD;
        }
        unsigned idx = pt_index(va, lvl);
        pte_t e = pmem_read_valid(m, table, idx);   /* tested just above */
        if (p->dc)
            r->dc_miss += !((dg.sets || p->dc->sets) &&
                            dcache_access_body(p->dc, (table << PAGE_SHIFT) | ((uint64_t)idx << 3), p->simd, dg));
        r->refs++;
        r->level = (uint8_t)lvl;
        r->leaf_table = table;
        if (!fmt_present(fmt, e))
            return walk_fault(fmt, acc, user);
        perms = perms_combine(perms, fmt_perms(fmt, e));
        if (fmt_leaf(fmt, e, lvl)) {
            if (lvl > 1 && (fmt == PTF_X86 ? pte_large_rsvd(e, lvl) : lvl == 4))
                return walk_rsvd_fault(fmt, acc, user);   /* reserved frame bits; EPT: bit 7 of an L4 */
            if (!(p->flags & WALK_NOCHECK)) {
                /* user needs U, a write W, an exec no NX: one mask and compare */
                const uint8_t need = (uint8_t)((user ? TLB_U : 0) | (acc == ACC_WRITE ? TLB_W : 0));
                const uint8_t look = (uint8_t)(need | (acc == ACC_EXEC ? TLB_NX : 0));
                if ((perms & look) != need || (fmt == PTF_EPT && acc == ACC_READ && !(e & EPT_R)))
                    return walk_fault(fmt, acc, user) | PFEC_P;
            }
            unsigned size = lvl - 1;
            uint64_t base = pte_frame(e);
            if (size) /* large page: its low frame bit is PAT, the others were checked zero */
                base &= ~((1ull << (9 * size)) - 1);
            if (fmt == PTF_X86 && (p->flags & WALK_SET_AD) &&
                (!(e & _PAGE_ACCESSED) || (acc == ACC_WRITE && !(e & _PAGE_DIRTY)))) {
                e |= _PAGE_ACCESSED | (acc == ACC_WRITE ? _PAGE_DIRTY : 0);
                pmem_write(m, table, idx, e);
            }
            r->frame = base + ((va >> PAGE_SHIFT) & ((1ull << (9 * size)) - 1));
            r->size = (uint8_t)size;
            r->flags = (uint8_t)(perms | (fmt == PTF_X86 && (e & _PAGE_GLOBAL) ? TLB_G : 0) |
                                 (fmt == PTF_EPT || (e & _PAGE_DIRTY) ? TLB_D : 0));
            return 0;
        }
        /* An entry the walk goes through: bit 7 set here is an L4's (at
         * L2 and L3 it made the entry a leaf), a reserved bit (SDM 4.5).
         * In the x86 format it is tested with Accessed, which the walk
         * tests anyway: a walk pays for it only on an entry that is not
         * accessed or has it set. */
        if (fmt == PTF_X86 && __builtin_expect((e & (_PAGE_ACCESSED | _PAGE_PSE)) != _PAGE_ACCESSED, 0)) {
            if (e & _PAGE_PSE)
                return walk_rsvd_fault(fmt, acc, user);
            if (p->flags & WALK_SET_AD)
                pmem_write(m, table, idx, e | _PAGE_ACCESSED);
        }
        uint64_t next = pte_frame(e);
        if (p->fetch && (r->fetch_code = p->fetch->fn(p->fetch->ctx, next, &next))) {
            r->fetch_frame = pte_frame(e);
            return WALK_FETCH_FAILED;
        }
        table = next;
        if (p->pwc)   /* the lookup above missed at this level and below */
            pwc_insert_missed_gs(p->pwc, lvl, va, p->tag, table, perms, pg, p->simd);
    }
}

#endif

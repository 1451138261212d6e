/* walk.c: the x86-64 hardware page walker (see walk.h). */
#include "hw/walk.h"
#include "hw/tlb.h"

static inline uint8_t entry_perms(pte_t e)
{
    return (uint8_t)(((e & _PAGE_RW) ? TLB_W : 0) | ((e & _PAGE_USER) ? TLB_U : 0) |
                     ((e & _PAGE_NX) ? TLB_NX : 0));
}

/* Permissions combine as W and U intersect, NX unites. */
static inline uint8_t perms_combine(uint8_t acc, uint8_t e)
{
    return (uint8_t)((acc & e & (TLB_W | TLB_U)) | ((acc | e) & TLB_NX));
}

uint32_t walk_1d(struct pmem *m, uint64_t root, uint64_t va, enum access acc, int user,
                 struct pwc *pwc, uint16_t pcid, unsigned flags, struct walk_result *r)
{
    uint32_t pfec = pfec_of(acc, user);
    uint64_t table = root;
    uint8_t perms = TLB_W | TLB_U;
    unsigned lvl = 4;

    r->refs = 0;
    r->pwc_level = 4;
    if (!va_canonical(va)) {
        r->level = 4;
        r->leaf_table = root;
        return pfec | PFEC_RSVD;
    }
    if (pwc)
        lvl = pwc_lookup(pwc, va, pcid, &table, &perms);
    r->pwc_level = (uint8_t)lvl;

    for (;; lvl--) {
        if (!pmem_valid(m, table)) {
            r->level = (uint8_t)lvl;
            r->leaf_table = table;
            return pfec | PFEC_RSVD;
        }
        unsigned idx = pt_index(va, lvl);
        pte_t e = pmem_read(m, table, idx);
        r->ref_addr[r->refs & 3] = (table << PAGE_SHIFT) | ((uint64_t)idx << 3);
        r->refs++;
        r->level = (uint8_t)lvl;
        r->leaf_table = table;
        if (!pte_present(e))
            return pfec;
        perms = perms_combine(perms, entry_perms(e));
        if (pte_leaf(e, lvl)) {
            if (!(flags & WALK_NOCHECK)) {
                if ((user && !(perms & TLB_U)) || (acc == ACC_WRITE && !(perms & TLB_W)) ||
                    (acc == ACC_EXEC && (perms & TLB_NX)))
                    return pfec | PFEC_P;
            }
            unsigned size = lvl - 1;
            uint64_t base = pte_frame(e);
            if (size) /* large page: frame bits below the page size must be zero */
                base &= ~((1ull << (9 * size)) - 1);
            if ((flags & WALK_SET_AD) && (!(e & _PAGE_ACCESSED) || (acc == ACC_WRITE && !(e & _PAGE_DIRTY)))) {
                e |= _PAGE_ACCESSED | (acc == ACC_WRITE ? _PAGE_DIRTY : 0);
                pmem_write(m, table, idx, e);
            }
            r->frame = base + ((va >> PAGE_SHIFT) & ((1ull << (9 * size)) - 1));
            r->size = (uint8_t)size;
            r->flags = (uint8_t)(perms | ((e & _PAGE_GLOBAL) ? TLB_G : 0) | ((e & _PAGE_DIRTY) ? TLB_D : 0));
            return 0;
        }
        if ((flags & WALK_SET_AD) && !(e & _PAGE_ACCESSED))
            pmem_write(m, table, idx, e | _PAGE_ACCESSED);
        table = pte_frame(e);
        if (pwc)
            pwc_insert(pwc, lvl, va, pcid, table, perms);
    }
}

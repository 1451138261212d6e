/* oracle.c: the reference translation (see oracle.h). It walks with the
 * guest's view of its tables (entries decoded by the guest's own pte_val,
 * table frames through the hypervisor's map), independently of the TLBs, the
 * walk caches and the mode's walker. */
#include "sim/oracle.h"
#include "hw/tlb.h"
#include <stdio.h>

uint32_t oracle_translate(struct machine *m, struct mm *mm, uint64_t va, enum access acc, uint64_t *mfn)
{
    struct kernel *k = &m->k;
    uint32_t pfec = pfec_of(acc, 1);
    uint64_t table = mm->pgd;
    int w = 1, u = 1, nx = 0;
    for (unsigned lvl = 4; lvl >= 1; lvl--) {
        uint64_t tm = machine_p2m(m, table);
        if (tm == UINT64_MAX)
            return pfec | PFEC_RSVD;
        pte_t e = pmem_read(&m->mem, tm, pt_index(va, lvl));
        if (!pte_present(e))
            return pfec;
        w &= !!(e & _PAGE_RW);
        u &= !!(e & _PAGE_USER);
        nx |= !!(e & _PAGE_NX);
        uint64_t gfn = k->pv->entry_pfn(k, e);
        if (pte_leaf(e, lvl)) {
            if (!u || (acc == ACC_WRITE && !w) || (acc == ACC_EXEC && nx))
                return pfec | PFEC_P;
            unsigned size = lvl - 1;
            uint64_t off = (va >> PAGE_SHIFT) & ((1ull << (9 * size)) - 1);
            *mfn = machine_p2m(m, gfn + off);
            return *mfn == UINT64_MAX ? (pfec | PFEC_RSVD) : 0;
        }
        table = gfn;
    }
    return pfec | PFEC_RSVD;
}

int oracle_check(struct machine *m, struct mm *mm, uint64_t va, enum access acc, uint64_t mfn,
                 char *msg, unsigned len)
{
    uint64_t ref;
    uint32_t pfec = oracle_translate(m, mm, va, acc, &ref);
    if (pfec) {
        snprintf(msg, len, "va %#llx (%s): hardware translated to frame %#llx but the guest's tables "
                 "do not allow the access (error code %#x)", (unsigned long long)va,
                 acc == ACC_WRITE ? "write" : acc == ACC_EXEC ? "exec" : "read",
                 (unsigned long long)mfn, pfec);
        return -1;
    }
    if (ref != mfn) {
        snprintf(msg, len, "va %#llx: hardware translated to frame %#llx, reference is %#llx",
                 (unsigned long long)va, (unsigned long long)mfn, (unsigned long long)ref);
        return -1;
    }
    return 0;
}

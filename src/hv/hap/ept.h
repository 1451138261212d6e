/* ept.h: a domain's extended page table, as the hypervisor builds it (Xen:
 * xen/arch/x86/mm/p2m-ept.c; KVM: arch/x86/kvm/mmu/tdp_mmu.c): a 4-level
 * table in machine memory (format hw/ept.h) mapping guest-physical frames
 * to the machine frames of the domain's p2m, with 4 KiB or 2 MiB leaves.
 * Table frames come from the hypervisor's heap. Entries are only ever added
 * (the guest's memory never moves), so no INVEPT is needed. */
#ifndef MV_HV_HAP_EPT_H
#define MV_HV_HAP_EPT_H
#include "hv/hv.h"

struct ept {
    struct hv *h;
    uint64_t root;        /* machine frame of the EPT L4 */
    int huge;             /* 2 MiB leaves */
    uint64_t table_pages; /* table frames, root included */
    uint64_t leaves;      /* present leaf entries */
};

/* 0, or -1 if no heap frame is left for the root. */
int  ept_init(struct ept *e, struct hv *h, int huge);
void ept_destroy(struct ept *e);
/* Map gfn (and, with 2 MiB leaves, its whole extent) to the p2m's frame.
 * Returns the number of entries written (0: already mapped), or -1 if gfn
 * is not the domain's or no heap frame is left. */
int  ept_map(struct ept *e, uint64_t gfn);
/* Software lookup: the machine frame of gfn, or UINT64_MAX if unmapped. */
uint64_t ept_lookup(const struct ept *e, uint64_t gfn);

/* Visit every present leaf: gfn of its first frame, its level, the entry. */
void ept_for_each_leaf(const struct ept *e, void (*fn)(void *ctx, uint64_t gfn, unsigned lvl, pte_t ent),
                       void *ctx);

#endif

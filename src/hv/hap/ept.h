/* ept.h: a domain's extended page table, as the hypervisor builds it (Xen:
 * xen/arch/x86/mm/p2m-ept.c; KVM: arch/x86/kvm/mmu/tdp_mmu.c): a 4-level
 * table in machine memory (format hw/ept.h) mapping guest-physical frames
 * to the machine frames of the domain's p2m, with 4 KiB or 2 MiB leaves.
 * Table frames come from the hypervisor's heap. Entries are only ever added
 * (the guest's memory never moves), so no INVEPT is needed.
 *
 * A prebuilt EPT (Xen's, which is the p2m: every frame of guest RAM mapped
 * when the domain is built) is written on first need all the same, so that
 * memvirt's memory follows what the guest uses, not its RAM: the table
 * frames a full EPT has are reserved from the heap at ept_init and counted
 * as the EPT's, and each is taken when an entry under it is first written.
 * Simplification: the tables' machine frames follow first use, not gfn
 * order. */
#ifndef MV_HV_HAP_EPT_H
#define MV_HV_HAP_EPT_H
#include "hv/hv.h"
#include "lib/sparse.h"

struct ept {
    struct hv *h;
    uint64_t root;        /* machine frame of the EPT L4 */
    int huge;             /* 2 MiB leaves */
    uint64_t table_pages; /* table frames written, root included */
    uint64_t leaves;      /* present leaf entries */
    uint64_t unbuilt;     /* prebuilt: table frames of the full EPT not written yet (reserved) */
    /* prebuilt: a bit per guest frame whose entry is known written (entries
     * are never removed), so that ept_ensure need not walk the table again;
     * a 64-bit word per 64 frames, in chunks allocated as frames are used */
    sparse_t written;
};

/* Table frames of an EPT mapping guest frames 0..guest_frames-1, root included. */
uint64_t ept_full_tables(uint64_t guest_frames, int huge);
/* 0, or -1 if no heap frame is left for the root (prebuilt: for the full
 * EPT of the domain's RAM). */
int  ept_init(struct ept *e, struct hv *h, int huge, int prebuilt);
void ept_destroy(struct ept *e);
/* Map gfn (and, with 2 MiB leaves, its whole extent) to the p2m's frame.
 * Returns the number of entries written (0: already mapped), or -1 if gfn
 * is not the domain's or no heap frame is left. */
int  ept_map(struct ept *e, uint64_t gfn);
/* A prebuilt EPT's entry for gfn, written if it is not yet (ept_map): what
 * a walk of the EPT built at boot finds. Not the simulated hardware: the
 * simulator's bookkeeping, which costs nothing simulated. */
void ept_ensure(struct ept *e, uint64_t gfn);
/* Software lookup: the machine frame of gfn, or UINT64_MAX if unmapped. */
uint64_t ept_lookup(const struct ept *e, uint64_t gfn);

/* Visit every present leaf: gfn of its first frame, its level, the entry. */
void ept_for_each_leaf(const struct ept *e, void (*fn)(void *ctx, uint64_t gfn, unsigned lvl, pte_t ent),
                       void *ctx);

#endif

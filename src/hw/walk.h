/* walk.h: the hardware page walker, written once for every table format.
 *
 * walk() is what the MMU does on a TLB miss: start at the root frame (or at
 * a deeper table a paging-structure cache remembers), read one entry per
 * level, stop at a leaf (4K, 2M or 1G), accumulate permissions, check the
 * access, set Accessed/Dirty bits, and count the memory references it makes
 * (and, given the CPU's data cache, send each through it as it is made).
 * Two entry formats share it (struct pt_format): the x86-64 4-level format
 * of pte.h (native and PV guest tables, shadow tables) and Intel's EPT
 * format (nested paging's host dimension). The IOMMU's walk of VT-d tables
 * (hw/iommu.c) and the oracle's reference walk (sim/oracle.c) are written
 * apart on purpose: the oracle must not share the code it checks.
 *
 * Between reading an entry and reading the table it names, the walker calls
 * a table-fetch step. In a 1D walk it is the identity: entries hold the
 * machine frames the walker reads. In the guest dimension of a 2D walk
 * (walk2d.h) entries hold guest-physical frames, and the fetch step
 * translates each through the EPT, itself a walk of the EPT format whose
 * references are the host dimension's. This is the shape of KVM's
 * paging_tmpl.h (one walker instantiated per format, with the nested fetch
 * of the guest table frames) without its macros: the body is in
 * walk_tmpl.h, and hot callers instantiate it with constant parameters.
 */
#ifndef MV_HW_WALK_H
#define MV_HW_WALK_H
#include "hw/dcache.h"
#include "hw/geom.h"
#include "hw/pmem.h"
#include "hw/pwc.h"
#include <stdint.h>

/* x86 page-fault error code bits. */
#define PFEC_P    0x01   /* the fault was a protection violation (entry present) */
#define PFEC_W    0x02   /* the access was a write */
#define PFEC_U    0x04   /* the access came from user mode */
#define PFEC_RSVD 0x08   /* reserved bit set (with PFEC_P: only a present entry's bits are
                            checked, SDM 4.7) / frame outside memory (memvirt's) */
#define PFEC_I    0x10   /* instruction fetch */
/* Not an x86 bit: the walk stopped because its table-fetch step failed
 * (nested paging: an EPT violation on a guest table frame). */
#define WALK_FETCH_FAILED 0x80000000u
/* Not an x86 bit: an EPT walk met a present entry with a reserved bit set
 * (bit 7 of an EPT PML4E), an EPT misconfiguration (SDM 29.3.3.1): a VM
 * exit of its own, not a violation. An EPT walk returns it alone. */
#define WALK_EPT_MISCONFIG 0x40000000u

#define WALK_SET_AD  0x1  /* set Accessed/Dirty bits like the hardware does */
#define WALK_NOCHECK 0x2  /* report the translation without checking permissions */

/* Entry formats. */
enum pt_format {
    PTF_X86 = 0,   /* IA-32e paging: P, R/W, U/S, A, D, PS, G, NX (pte.h) */
    PTF_EPT = 1,   /* Intel EPT: R, W, X in bits 0..2, PS in bit 7 (ept.h) */
};

/* The table-fetch step: the machine frame holding the table that an entry
 * (or the root) names as `frame`. Returns 0 and *mfn, or a non-zero code
 * that ends the walk (the walker returns WALK_FETCH_FAILED and keeps the
 * code in walk_result.fetch_code). */
struct walk_fetch {
    uint32_t (*fn)(void *ctx, uint64_t frame, uint64_t *mfn);
    void *ctx;
};

struct walk_params {
    enum pt_format fmt;
    unsigned flags;                 /* WALK_SET_AD, WALK_NOCHECK */
    struct pwc *pwc;                /* paging-structure caches, or NULL */
    uint16_t tag;                   /* their tag (PCID; 0 for EPT) */
    const struct walk_fetch *fetch; /* NULL: entries name machine frames */
    struct dcache *dc;              /* the data cache each reference goes through, in the order
                                       the walk makes them, its misses counted in
                                       walk_result.dc_miss; NULL: none */
    int simd;                       /* the set scans dc uses (hw_simd; a constant in an instance) */
    int geom;                       /* WALK_GEOM_*: pwc and dc have the default geometry, known
                                       to an instance as constants (geom.h); 0: read theirs */
};
#define WALK_GEOM_CPU 1   /* the CPU's walk caches and data cache (GEOM_PWC, GEOM_DCACHE) */
#define WALK_GEOM_EPT 2   /* the EPT walk caches and the CPU's data cache (GEOM_EPT_PWC, GEOM_DCACHE) */

struct walk_result {
    uint64_t frame;      /* 4 KiB frame holding va, as the leaf names it (valid on success) */
    uint64_t leaf_table; /* machine frame of the table holding the leaf (or faulting) entry */
    uint32_t refs;       /* references this walk made in its own dimension */
    uint32_t dc_miss;    /* of them, misses in walk_params.dc */
    uint32_t fetch_code; /* the fetch step's code when WALK_FETCH_FAILED */
    uint64_t fetch_frame;/* the frame whose fetch failed */
    uint8_t  flags;      /* effective TLB_W / TLB_U / TLB_NX, TLB_G and TLB_D of the leaf */
    uint8_t  size;       /* enum page_size */
    uint8_t  level;      /* level of the leaf or of the entry that faulted */
    uint8_t  pwc_level;  /* level the walk started from (4 = root) */
};

/* Walk the tables under `root` (named as entries name frames: through the
 * fetch step) for va. Returns 0 on success, else a page-fault error code
 * (x86 bits: PFEC_P | PFEC_RSVD for a reserved bit in a present entry, PS
 * in an L4 or a large page's frame bits below its size; for EPT walks
 * WALK_EPT_MISCONFIG for a reserved bit, else non-zero means an EPT
 * violation, with PFEC_P if an entry was present but denied the access) or
 * WALK_FETCH_FAILED. */
uint32_t walk(struct pmem *m, uint64_t root, uint64_t va, enum access acc, int user,
              const struct walk_params *p, struct walk_result *r);

/* The 1D x86 walk with the given paging-structure caches and no data
 * cache (r->refs counts its references). */
uint32_t walk_1d(struct pmem *m, uint64_t root, uint64_t va, enum access acc, int user,
                 struct pwc *pwc, uint16_t pcid, unsigned flags, struct walk_result *r);

/* Error code an access of this kind would carry. */
static inline uint32_t pfec_of(enum access acc, int user)
{
    return (acc == ACC_WRITE ? PFEC_W : 0) | (acc == ACC_EXEC ? PFEC_I : 0) | (user ? PFEC_U : 0);
}

#endif

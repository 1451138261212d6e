/* walk.h: the hardware page walker (x86-64 4-level, IA-32e paging).
 *
 * walk_1d() is what the MMU does on a TLB miss: start at the root frame (from
 * the paging-structure caches if they hold a deeper entry), read one entry per
 * level, stop at a leaf (4K, 2M or 1G), accumulate permissions, check the
 * access, set Accessed/Dirty bits, and count every memory reference. The same
 * walker serves every table format memvirt builds (guest tables under native
 * and PV, shadow tables, host tables); the 2D walk of nested paging composes
 * it (walk2d.h). With flags = 0 and no PWC it is also the side-effect-free
 * reference walk the correctness oracle uses. */
#ifndef MV_HW_WALK_H
#define MV_HW_WALK_H
#include "hw/pmem.h"
#include "hw/pwc.h"
#include <stdint.h>

/* x86 page-fault error code bits. */
#define PFEC_P    0x01   /* the fault was a protection violation (entry present) */
#define PFEC_W    0x02   /* the access was a write */
#define PFEC_U    0x04   /* the access came from user mode */
#define PFEC_RSVD 0x08   /* reserved bit set / frame outside memory */
#define PFEC_I    0x10   /* instruction fetch */

#define WALK_SET_AD  0x1  /* set Accessed/Dirty bits like the hardware does */
#define WALK_NOCHECK 0x2  /* report the translation without checking permissions */

struct walk_result {
    uint64_t frame;   /* 4 KiB frame holding va (valid when the walk succeeds) */
    uint64_t leaf_table; /* frame of the table holding the leaf (or faulting) entry */
    uint32_t refs;    /* memory references made */
    uint64_t ref_addr[4]; /* machine byte address of each reference */
    uint8_t  flags;   /* effective TLB_W / TLB_U / TLB_NX, TLB_G and TLB_D of the leaf */
    uint8_t  size;    /* enum page_size */
    uint8_t  level;   /* level of the leaf or of the entry that faulted */
    uint8_t  pwc_level; /* level the walk started from (4 = root) */
};

/* Returns 0 on success, else a page-fault error code (non-zero). */
uint32_t walk_1d(struct pmem *m, uint64_t root, uint64_t va, enum access acc, int user,
                 struct pwc *pwc, uint16_t pcid, unsigned flags, struct walk_result *r);

/* Error code an access of this kind would carry. */
static inline uint32_t pfec_of(enum access acc, int user)
{
    return (acc == ACC_WRITE ? PFEC_W : 0) | (acc == ACC_EXEC ? PFEC_I : 0) | (user ? PFEC_U : 0);
}

#endif

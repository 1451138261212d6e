/* ept.h: Intel's extended page-table entry format (SDM vol. 3, 29.3.2, "EPT
 * Translation Mechanism"). The layout of an EPT table is that of an x86-64
 * table (512 64-bit entries, 4 levels, bits 12..51 the frame), but the
 * permission bits differ: bit 0 Read, bit 1 Write, bit 2 eXecute (for
 * supervisor and user alike: EPT has no user bit); an entry with bits 2:0
 * clear is not present. Bit 7 in an L2/L3 entry maps a 2 MiB / 1 GiB page;
 * in an L4 (EPT PML4E) it is reserved, and a walk that reads such a present
 * entry stops with an EPT misconfiguration (SDM 29.3.3.1), not a violation
 * (walk.h, WALK_EPT_MISCONFIG). memvirt models no other reserved EPT bit.
 * Accessed/dirty flags for EPT (bits 8, 9) are optional in hardware and
 * not modelled: memvirt runs with EPT A/D disabled. */
#ifndef MV_HW_EPT_H
#define MV_HW_EPT_H
#include "hw/pte.h"

#define EPT_R     (1ull << 0)
#define EPT_W     (1ull << 1)
#define EPT_X     (1ull << 2)
#define EPT_RWX   (EPT_R | EPT_W | EPT_X)
#define EPT_PS    (1ull << 7)   /* large page, in L2/L3 entries; reserved in an L4 */

static inline int ept_present(pte_t e) { return (e & EPT_RWX) != 0; }
static inline int ept_leaf(pte_t e, unsigned lvl) { return lvl == 1 || (lvl <= 3 && (e & EPT_PS)); }
/* A present EPT L4 entry with bit 7 set: reserved, a walk through it is an
 * EPT misconfiguration. */
static inline int ept_l4_rsvd(pte_t e) { return ept_present(e) && (e & EPT_PS); }
static inline pte_t ept_make(uint64_t frame, uint64_t flags) { return (frame << PAGE_SHIFT) | flags; }

/* Guest-physical address bits a 4-level EPT translates (bits 47:0); a
 * guest-physical address beyond them has no EPT entry: a violation. */
#define EPT_GPA_BITS 48

#endif

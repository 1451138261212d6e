/* walk2d.h: the two-dimensional page walk of nested paging (Intel EPT, AMD
 * NPT; Bhargava et al., ASPLOS'08; Intel SDM vol. 3, 29.3 and 29.4).
 *
 * The guest's 4-level tables hold guest-physical frames. On a TLB miss the
 * MMU walks them with walk() in the guest dimension; each guest table frame
 * (the root and every table an entry names) is first translated through the
 * EPT by a walk in the host dimension, and so is the guest-physical frame of
 * the final translation. With nothing cached that is 4 x 4 + 4 + 4 = 24
 * references. Three structures cut it, each optional:
 *  - the CPU's paging-structure caches, used for the guest dimension, hold
 *    combined entries (guest-linear prefix -> host-physical frame of the next
 *    guest table), so a hit skips guest references and their EPT walks;
 *  - EPT paging-structure caches (a nested walk cache) skip upper EPT levels;
 *  - a nested TLB of guest-physical -> host-physical translations skips a
 *    whole EPT walk.
 * The TLB entry installed is the combined guest-linear -> host-physical
 * translation, of the smaller of the guest and EPT page sizes. */
#ifndef MV_HW_WALK2D_H
#define MV_HW_WALK2D_H
#include "hw/cpu.h"

/* Resolve va under nested paging. Returns 0 with *x filled, a guest
 * page-fault error code, or WALK_FETCH_FAILED for an EPT violation on the
 * guest-physical frame *viol_gfn (the hypervisor must handle it and the
 * access is retried). Its references, the guest's and the EPT walks',
 * go through the data cache as they are made and are charged. */
uint32_t walk2d(struct cpu *c, uint64_t va, enum access acc, int user, struct tlb_xlate *x,
                uint64_t *viol_gfn);

#endif

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
 * page-fault error code, or WALK_FETCH_FAILED for an EPT exit on the
 * guest-physical frame *viol_gfn: a violation (the hypervisor must handle
 * it and the access is retried) or a misconfiguration (walk2d_ept_misconfig
 * says which, as the exit reason in the VMCS does). Its references, the
 * guest's and the EPT walks', go through the data cache as they are made
 * and are charged. */
uint32_t walk2d(struct cpu *c, uint64_t va, enum access acc, int user, struct tlb_xlate *x,
                uint64_t *viol_gfn);
/* The reason of the EPT exit walk2d just took on gfn: 1 for an EPT
 * misconfiguration (an EPT entry on the way has a reserved bit set: bit 7
 * of an L4, ept.h; the hypervisor wrote it, and a retry would meet it
 * again), 0 for a violation. Simplification: it walks the EPT again
 * without the EPT paging-structure caches, so where a stale one let the
 * failed walk skip the L4 (memvirt's EPT entries change only when
 * something writes them behind the hypervisor: there is no INVEPT), the
 * reason is the one a walk without it meets. */
int walk2d_ept_misconfig(struct cpu *c, uint64_t gfn);
/* walk2d() as it is compiled for the default geometry with the AVX2 scans
 * (walk2d_geom.c): what walk2d() calls for a CPU whose nested structures
 * have that geometry (nested_mmu.geom_default) while the AVX2 scans are
 * in use (hw_simd), for a caller that has chosen already (the miss path's
 * AVX2 copies). */
uint32_t walk2d_avx2_geom(struct cpu *c, uint64_t va, enum access acc, int user, struct tlb_xlate *x,
                          uint64_t *viol_gfn);

#endif

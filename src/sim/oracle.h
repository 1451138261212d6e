/* oracle.h: the correctness oracle (DESIGN.md). Every translation the
 * simulated hardware produces, through a TLB, a shadow table or a 2D walk,
 * must equal the reference: walk the guest's own page tables (as the guest
 * wrote them) to a guest frame, then the hypervisor's p2m to a machine
 * frame.
 *
 * Stale translations are allowed exactly where the architecture allows
 * them: between a change to the guest's tables and the flush that covers
 * it, the translation in effect before the change may still be used. The
 * oracle keeps its own architectural TLB of unlimited size: every
 * translation in effect at a checked reference is remembered, per PCID and
 * at the guest's page size, until a TLB invalidation covering it executes
 * on the CPU (INVLPG, a PCID or full flush, a CR3 load that flushes: it
 * watches the CPU's invalidations, whoever issues them). A hardware answer
 * that differs from the reference is accepted only if it is such a
 * remembered translation allowing the access (counted as oracle_stale).
 * In a strict oracle (oracle_set_strict, what a workload run uses) even
 * that is an error: memvirt's guest kernel finishes every operation,
 * flushes included, before the program's next reference, so a superseded
 * translation used at a reference is a flush the guest skipped (or reported
 * without making). Tests that step between a change and its flush leave it
 * off, and the window then bounds the staleness.
 * Simplification: translations a walk could build from stale
 * paging-structure-cache entries without ever having been in effect at a
 * reference are not allowed (a guest must not rely on them either). */
#ifndef MV_SIM_ORACLE_H
#define MV_SIM_ORACLE_H
#include "sim/machine.h"

struct oracle;

/* Reference translation of va in mm for an access. 0 and *mfn, or a
 * page-fault error code if the guest's tables do not allow it. */
uint32_t oracle_translate(struct machine *m, struct mm *mm, uint64_t va, enum access acc, uint64_t *mfn);

/* An oracle for machine m, watching its CPU's TLB invalidations. */
struct oracle *oracle_create(struct machine *m);
void oracle_destroy(struct oracle *o);

/* Strict (1) or not (0, the default): see above. */
void oracle_set_strict(struct oracle *o, int strict);

/* 0 if the hardware's answer (mfn) for va in mm, the loaded address space,
 * is the reference or (not strict) a translation still allowed to be
 * cached; else -1 with a one-line message naming va, the frames and whether
 * the translation was one the guest had not flushed yet. */
int oracle_check(struct oracle *o, struct mm *mm, uint64_t va, enum access acc, uint64_t mfn,
                 char *msg, unsigned len);

#endif

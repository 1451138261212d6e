/* oracle.h: the correctness oracle (DESIGN.md). Every translation the
 * simulated hardware produces must equal the reference: walk the guest's own
 * page tables (as the guest wrote them) to a guest frame, then the
 * hypervisor's guest-to-machine map to a machine frame.
 *
 * The window in which a stale translation is architecturally allowed (between
 * a PTE change and the flush the guest must issue) never spans a user
 * reference here: the kernel's operations run to completion, flushes
 * included, before the workload's next reference. So at a reference, any
 * difference is a bug, except a TLB entry more restrictive than the tables,
 * which the hardware refetches (counted as a spurious fault) and which never
 * reaches the oracle. */
#ifndef MV_SIM_ORACLE_H
#define MV_SIM_ORACLE_H
#include "sim/machine.h"

/* Reference translation of va in mm for an access. 0 and *mfn, or a
 * page-fault error code if the guest's tables do not allow it. */
uint32_t oracle_translate(struct machine *m, struct mm *mm, uint64_t va, enum access acc, uint64_t *mfn);

/* 0 if the hardware's answer (mfn) matches; else -1 with a message. */
int oracle_check(struct machine *m, struct mm *mm, uint64_t va, enum access acc, uint64_t mfn,
                 char *msg, unsigned len);

#endif

/* exit.c: the one path every guest->hypervisor transition takes (see hv.h).
 * It counts the exit by reason and charges the transition once, by kind:
 * a hardware VM exit (cost.vm_exit), a PV guest's trap or hypercall into
 * the hypervisor (cost.hypercall), or SSP's trap to the highest-privilege
 * mode (cost.ssp_trap, counted in ssp_traps: it is not a VM exit). */
#include "hv/hv.h"
#include "lib/err.h"

static const enum mv_counter exit_counter[EXIT__N] = {
    [EXIT_PT_WRITE] = CNT_vm_exits_pt_write,
    [EXIT_PF] = CNT_vm_exits_pf,
    [EXIT_CR3] = CNT_vm_exits_cr3,
    [EXIT_INVLPG] = CNT_vm_exits_invlpg,
    [EXIT_FLUSH] = CNT_vm_exits_flush,
    [EXIT_EPT_VIOLATION] = CNT_vm_exits_ept_violation,
    [EXIT_HYPERCALL] = CNT_vm_exits_hypercall,
};

void hv_exit(struct hv *h, enum hv_transition t, enum exit_reason r)
{
    MV_ASSERT(r < EXIT__N, "exit reason %d", (int)r);
    uint64_t cycles;
    switch (t) {
    case HV_SSP_TRAP:
        h->st->cnt[CNT_ssp_traps]++;
        cycles = h->cost->ssp_trap;
        break;
    case HV_PV_TRAP:
        h->st->cnt[CNT_vm_exits]++;
        h->st->cnt[exit_counter[r]]++;
        cycles = h->cost->hypercall;
        break;
    default:
        h->st->cnt[CNT_vm_exits]++;
        h->st->cnt[exit_counter[r]]++;
        cycles = h->cost->vm_exit;
        break;
    }
    stat_charge(h->st, CYC_exits, cycles);
}

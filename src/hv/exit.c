/* exit.c: the one path every guest->hypervisor transition takes (see hv.h).
 * It counts the exit by reason and charges the transition once, by kind:
 * a hardware VM exit (cost.vm_exit), a PV guest's trap or hypercall into
 * the hypervisor (cost.hypercall), or SSP's trap to the highest-privilege
 * mode (cost.ssp_trap, counted in ssp_traps: it is not a VM exit). With
 * clustering on, a VM exit at a guest code site goes to the cluster first.
 * Without VPIDs (hv.vpid false) a VM exit flushes the guest's TLB. */
#include "hv/hv.h"
#include "lib/err.h"

static const enum mv_counter exit_counter[EXIT__N] = {
    [EXIT_PT_WRITE] = CNT_vm_exits_pt_write,
    [EXIT_PF] = CNT_vm_exits_pf,
    [EXIT_CR3] = CNT_vm_exits_cr3,
    [EXIT_INVLPG] = CNT_vm_exits_invlpg,
    [EXIT_FLUSH] = CNT_vm_exits_flush,
    [EXIT_EPT_VIOLATION] = CNT_vm_exits_ept_violation,
    /* memvirt's hypervisor writes no EPT entry that misconfigures, so a
     * correct run has none, and one that meets one ends with the domain
     * crashed (hap.c): it has no counter of its own */
    [EXIT_EPT_MISCONFIG] = CNT_vm_exits_ept_violation,
    [EXIT_HYPERCALL] = CNT_vm_exits_hypercall,
    [EXIT_SYSCALL] = CNT_vm_exits_syscall,
};

/* Exits at a guest code site the monitor can handle inside a translated
 * cluster; the others (faults, EPT violations, hypercalls) end it. */
static int clusterable(enum exit_reason r)
{
    return r == EXIT_PT_WRITE || r == EXIT_CR3 || r == EXIT_INVLPG || r == EXIT_FLUSH;
}

void hv_exit(struct hv *h, enum hv_transition t, enum exit_reason r)
{
    MV_ASSERT(r < EXIT__N, "exit reason %d", (int)r);
    int cluster = t == HV_VMEXIT && h->cfg->clustering.enable;
    if (cluster) {
        if (!clusterable(r)) {
            cluster_close(&h->cl);
            cluster = 0;
        } else if (cluster_join(&h->cl, h->st, h->cost, h->cpu->site, h->cpu->user_entries)) {
            return;
        }
    }
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
    /* without VPIDs the exit and the entry after it flush the guest's
     * linear and combined translations, global ones too */
    if (t == HV_VMEXIT && !h->cfg->hv.vpid)
        cpu_hw_flush(h->cpu, 1);
    if (cluster)
        cluster_open(&h->cl, h->st, h->cost, h->cpu->site, h->cpu->user_entries);
}

void hv_set_site_names(struct hv *h, const char *const *names, unsigned n)
{
    h->cl.site_names = names;
    h->cl.nsite_names = n;
}

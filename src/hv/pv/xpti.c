/* xpti.c: Xen's page-table isolation for 64-bit PV guests (XPTI, with the
 * XSA-254 fixes: 4.10.1 on; `xpti=` on Xen's command line, on by default
 * for a domU on an Intel host that Meltdown affects:
 * xen/arch/x86/spec_ctrl.c). Modelled as in Xen 4.11 (and 4.10.2), which
 * copies the L4 only when it changed; 4.10.1 copied it at every exit.
 *
 * Under XPTI a PV guest runs on a per-CPU root page table, a copy of its
 * L4's guest slots beside the few Xen mappings entry needs. Every entry
 * into Xen (a fault, a system call, a hypercall, an emulated instruction)
 * switches CR3 to Xen's full page tables, and the way back
 * (restore_all_guest, x86_64/entry.S) switches back to the per-CPU copy,
 * first copying the guest's current L4 into it when it changed
 * (root_pgt_changed: a new base pointer, an L4 entry written through
 * mmu_update, and every switch between the guest's user and kernel modes,
 * _toggle_guest_pt). Xen runs such a guest without global pages. Without
 * PCIDs (xen.xpti=on) each of the two CR3 writes flushes the TLB and the
 * paging-structure caches; with them (xen.xpti=pcid: Xen 4.11's pcid=xpti,
 * its default where the CPU has PCID and INVPCID) the guest's and Xen's translations carry different PCIDs
 * and survive. Those CR3 writes, done in entry.S, do not tick Xen's TLB
 * clock, so they do not spare it a flush its page-type filter asks for.
 *
 * Modelled per trap: the two CR3 writes (cost.cr3_write each, hypervisor
 * time), under `on` one whole flush of the guest's translations (counted
 * in tlb_flush_all and xen_xpti_flushes; the entry's and the exit's
 * flushes have no guest reference between them, so they are one), and on
 * the way back the L4 copy when it is due (cost.pv_scan: a table's
 * entries, about a cycle each; counted in xen_xpti_l4_copies). Simplified:
 * the copy is charged whole (Xen copies the guest's slots, all but
 * Xen's 16), and nothing Xen itself maps is modelled in the TLB. Not
 * modelled (docs/pv.md): the local flushes current Xen adds after L2-L4
 * writes (XSA-286), interrupts and upcalls, and a continued hypercall's
 * intermediate returns (one copy per call). */
#include "hv/pv/xen.h"
#include <string.h>

int xpti_mode(const char *v) { return !strcmp(v, "on") ? XPTI_ON : !strcmp(v, "pcid") ? XPTI_PCID : XPTI_OFF; }

void xen_trap(struct xen *x, enum exit_reason r)
{
    hv_exit(x->h, HV_PV_TRAP, r);
    if (x->xpti == XPTI_OFF)
        return;
    xen_charge(x, 2 * x->cost->cr3_write);   /* to Xen's page tables, and back to the per-CPU copy */
    if (x->xpti == XPTI_ON) {
        cpu_hw_flush(x->cpu, 1);
        x->st->cnt[CNT_tlb_flush_all]++;
        x->xpti_flushes++;
    }
}

void xpti_return(struct xen *x, int toggled)
{
    if (x->xpti == XPTI_OFF)
        return;
    if (toggled || x->xpti_root_changed) {
        xen_charge(x, x->cost->pv_scan);
        x->xpti_copies++;
    }
    x->xpti_root_changed = 0;
}

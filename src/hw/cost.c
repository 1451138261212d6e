/* cost.c: the cost profile table, its defaults and named profiles.
 * Sources and reasoning for each figure: docs/cost-model.md. */
#include "hw/cost.h"
#include "lib/err.h"
#include <string.h>

#define C(f, d, doc) PARAM_U64(struct cost, f, d, 0, 1e9, doc)
static const struct param_def defs[] = {
    PARAM_DBL(struct cost, clock_ghz, "2.4", 0.1, 10, "clock rate in GHz (cycles -> time)"),
    PARAM_DBL(struct cost, cpi, "1", 0, 100, "cycles per instruction of a program's work between its "
              "references (compute; workloads say how many instructions a reference stands for; unverified)"),
    C(ref, "1", "reference that hits the L1 TLB"),
    C(stlb_hit, "7", "extra cycles for an STLB hit (unverified)"),
    C(walk_start, "10", "fixed part of a page walk (unverified)"),
    C(walk_ref, "14", "walk reference that hits the data cache (about an L2 hit; unverified)"),
    C(walk_ref_miss, "60", "walk reference that misses it: LLC or DRAM, averaged (unverified)"),
    C(tlb_invlpg, "120", "one INVLPG (unverified)"),
    C(tlb_flush, "200", "a full/PCID TLB flush, not counting refills (unverified)"),
    C(cr3_write, "150", "MOV to CR3 (unverified)"),
    C(fault_entry, "700", "exception entry/exit and fault dispatch (unverified)"),
    C(fault_handle, "600", "handle_mm_fault bookkeeping per fault (unverified)"),
    C(fault_around_page, "150", "fault-around: map one more cached file page, the PTE store aside: "
      "page-cache walk, reference and mapcount (unverified)"),
    C(syscall, "250", "system-call entry/exit (unverified)"),
    C(page_zero, "400", "clear one 4 KiB page (unverified)"),
    C(page_copy, "800", "copy one 4 KiB page (unverified)"),
    C(buddy_op, "150", "one buddy allocator call (unverified)"),
    C(buddy_step, "40", "each buddy split or merge (unverified)"),
    C(pt_alloc_path, "300", "page-table page alloc path: ctor, accounting (unverified)"),
    C(pt_free_path, "350", "page-table page free path: dtor, batching (unverified)"),
    C(pte_write, "4", "native store of one page-table entry"),
    C(pte_copy, "6", "copy one entry in fork's copy_page_range (unverified)"),
    C(vma_op, "250", "create/split/merge/free one VMA (unverified)"),
    C(fork_fixed, "60000", "fork work outside the address space (unverified)"),
    C(exec_fixed, "150000", "execve work outside the address space (unverified)"),
    C(exit_fixed, "40000", "exit work outside the address space (unverified)"),
    C(ctx_switch, "1500", "scheduler work of one context switch (unverified)"),
    C(vm_exit, "2550", "VM exit + re-entry (REFERENCE 5: 2,528-2,576 cycles, AMD SVM)"),
    C(hypercall, "1000", "PV hypercall round trip (REFERENCE 5: unknown; unverified)"),
    C(hc_entry, "40", "each entry of a batched hypercall (unverified)"),
    C(pv_validate_entry, "15", "validate one page-table entry (REFERENCE 5: unverified)"),
    C(pv_scan, "512", "scan a table's 512 entries when validating or devalidating it (unverified)"),
    C(pv_ref, "10", "take or drop one page reference (unverified)"),
    C(pv_type_change, "150", "switch a frame's type, incl. TLB-flush filter (unverified)"),
    C(pv_emulate, "500", "PV: emulate a trapped page-table write, MOV CR3 or INVLPG, beyond the "
                         "trap itself (cost.hypercall) (unverified)"),
    C(pv_fault_bounce, "0", "PV: bounce a guest page fault to the guest kernel, beyond the trap "
                            "itself (cost.hypercall; 0: the trap covers it) (unverified)"),
    C(pv_syscall_bounce, "0", "PV: bounce a system call from user mode to the guest kernel, beyond the trap "
                              "itself (cost.hypercall; 0: the trap covers it, as for a fault) (unverified)"),
    C(pv_iret, "0", "PV: the iret hypercall's work returning to user mode, beyond the transition "
                    "(cost.hypercall; 0: the transition covers it) (unverified)"),
    C(iotlb_inv, "1920", "queued IOTLB invalidation + wait (REFERENCE 5: ~800 ns at 2.4 GHz)"),
    C(iotlb_inv_reg, "2400", "register-based IOTLB invalidation incl. polling (unverified)"),
    C(iommu_pte, "60", "update one I/O page-table entry (unverified)"),
    C(io_walk_ref, "100", "each memory reference of an IOMMU walk (unverified)"),
    C(dma_page, "800", "device time per 4 KiB moved (unverified)"),
    C(ssp_trap, "300", "SSP: trap to the hardware (RISC-V machine) mode and back (REFERENCE 7: unverified)"),
    C(shadow_entry, "20", "shadow paging: read one guest entry or write one shadow entry (unverified)"),
    C(shadow_page, "800", "shadow paging: allocate, clear and hash one shadow page, or drop one (unverified)"),
    C(shadow_emulate, "500", "TSP: emulate a trapped page-table write, beyond the VM exit (unverified)"),
    C(ept_fill, "1000", "HAP: handle an EPT violation (walk and fill the EPT), beyond the VM exit (unverified)"),
    C(bt_translate, "20000", "exit clustering: inspect and translate the guest code at one site, once per "
                             "cached translation (unverified)"),
    PARAM_DBL(struct cost, bt_slowdown, "1.5", 1, 100, "exit clustering: guest code between the exits of a "
              "cluster runs translated, this many times slower than directly (unverified)"),
};
#undef C

const struct param_group cost_params = {
    "cost", defs, sizeof defs / sizeof defs[0], "cost profile (cycles per event)"
};

const struct cost_profile_def cost_profiles[] = {
    { "default", "a 2.4 GHz x86-64 server; VM exit from REFERENCE 5 (AMD SVM round trip)", "" },
    { "nested", "the guest's hypervisor itself runs in a VM (REFERENCE 5: 18,890 cycles, KVM on Hyper-V): each "
                "VM exit and SSP trap is emulated by the outer VMM; a PV guest's traps and hypercalls are ring "
                "transitions inside that VM and keep their cost",
      "vm_exit=18890,ssp_trap=18890" },
    { "enlightened", "nested with enlightened VMCS (REFERENCE 5: 8,304 cycles)", "vm_exit=8304,ssp_trap=8304" },
};
const unsigned cost_nprofiles = sizeof cost_profiles / sizeof cost_profiles[0];

int cost_profile_find(const char *name)
{
    for (unsigned i = 0; i < cost_nprofiles; i++)
        if (!strcmp(cost_profiles[i].name, name))
            return (int)i;
    return -1;
}

int cost_load_profile(struct cost *c, const char *profile)
{
    param_defaults(&cost_params, c);
    int i = cost_profile_find(profile);
    if (i >= 0) {
        char buf[256];
        snprintf(buf, sizeof buf, "%s", cost_profiles[i].overrides);
        for (char *save = NULL, *kv = strtok_r(buf, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
            char *eq = strchr(kv, '=');
            MV_ASSERT(eq, "profile %s: malformed override %s", profile, kv);
            *eq = 0;
            int rc = param_set(&cost_params, c, kv, eq + 1, "profile");
            MV_ASSERT(rc == 0, "profile %s: bad override %s", profile, kv);
        }
        return 0;
    }
    return mv_error("--profile: unknown profile '%s' (see 'memvirt list')", profile);
}

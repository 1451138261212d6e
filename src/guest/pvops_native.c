/* pvops_native.c: the native paravirt backend: plain stores to page tables
 * and privileged instructions on the CPU (Linux's native_* pv_ops defaults).
 * Used on bare metal and by every HVM mode, where the hypervisor decides
 * through its paging mode whether a store or a CR3 write exits. */
#include "guest/kernel.h"
#include "lib/err.h"

/* pfn_pte and pte_pfn, with the L1TF inversion of a not-present entry's
 * frame (protnone_mask, kernel.h). */
static pte_t native_make_entry(struct kernel *k, uint64_t pfn, uint64_t flags)
{
    return pte_make(pfn, flags) ^ protnone_mask(k, flags);
}

static uint64_t native_entry_pfn(struct kernel *k, pte_t e)
{
    return pte_frame(e ^ protnone_mask(k, e));
}

static void native_set_entry(struct kernel *k, struct mm *mm, uint64_t table, unsigned lvl,
                             unsigned idx, pte_t e)
{
    stat_charge(k->st, CYC_pgtable, k->cost->pte_write);
    int rc = cpu_store(this_cpu(k), table, idx, e);
    MV_ASSERT(rc == 0, "native page-table store refused at L%u[%u]", lvl, idx);
}

static void native_write_cr3(struct kernel *k, struct mm *mm, uint16_t pcid, int noflush)
{
    cpu_write_cr3(this_cpu(k), mm->pgd, pcid, noflush);
}

static void native_flush_one_user(struct kernel *k, uint64_t va)
{
    cpu_invlpg(this_cpu(k), va);
}

/* native_flush_tlb_local: reload CR3 (with PCIDs, that flushes the current
 * PCID's non-global entries); a hypervisor may intercept it. */
static void native_flush_local(struct kernel *k)
{
    cpu_reload_cr3(this_cpu(k));
}

static void native_flush_multi(struct kernel *k, uint64_t cpumask, struct mm *mm,
                               uint64_t start, uint64_t end)
{
    /* One vCPU: no other CPU can be in the mask. */
    MV_ASSERT(cpumask == 0, "remote flush with one CPU");
}

const struct pv_mmu_ops pv_native_ops = {
    .name = "native",
    .make_entry = native_make_entry,
    .entry_pfn = native_entry_pfn,
    .set_entry = native_set_entry,
    .write_cr3 = native_write_cr3,
    .flush_tlb_one_user = native_flush_one_user,
    .flush_tlb_local = native_flush_local,
    .flush_tlb_multi = native_flush_multi,
    .pcid_capable = 1,
    .huge_capable = 1,
};

/* tlbflush.c: TLB shootdown and address-space switching, where Linux does
 * them (arch/x86/mm/tlb.c: flush_tlb_mm_range, switch_mm_irqs_off,
 * choose_new_asid).
 *
 * With PCIDs, each CPU keeps NR_ASIDS slots, each remembering which mm it
 * last held and that mm's flush generation then. Switching to an mm whose
 * slot is current needs no flush; a flush request for an mm not loaded here
 * only bumps its generation, and the flush happens when it is next loaded. */
#include "guest/kernel.h"
#include "guest/sites.h"
#include "lib/err.h"

static int pcid_on(struct kernel *k) { return this_cpu(k)->pcid_enabled; }

static void local_flush(struct kernel *k, uint64_t start, uint64_t end)
{
    uint64_t pages = (end - start) >> PAGE_SHIFT;
    if (start == 0 && end == UINT64_MAX)
        pages = UINT64_MAX;
    if (pages > k->cfg.flush_ceiling) {
        guest_site(this_cpu(k), SITE_FLUSH_LOCAL);
        k->pv->flush_tlb_local(k);
        return;
    }
    guest_site(this_cpu(k), SITE_INVLPG);
    for (uint64_t va = start; va < end; va += PAGE_SIZE)
        k->pv->flush_tlb_one_user(k, va);
}

static void flush_tlb_mm_range(struct kernel *k, struct mm *mm, uint64_t start, uint64_t end)
{
    struct percpu *pc = &k->pcpu[0];
    mm->tlb_gen++;
    if (pc->loaded_mm == mm) {
        local_flush(k, start, end);
        if (pcid_on(k))
            pc->asid[pc->cur_asid].gen = mm->tlb_gen;
    }
    uint64_t others = mm->cpumask & ~(1ull << this_cpu(k)->id);
    if (others) {
        stat_inc(k->st, CNT_tlb_flush_remote);
        k->pv->flush_tlb_multi(k, others, mm, start, end);
    }
}

void flush_tlb_page(struct kernel *k, struct mm *mm, uint64_t va)
{
    flush_tlb_mm_range(k, mm, va, va + PAGE_SIZE);
}

void flush_tlb_range(struct kernel *k, struct mm *mm, uint64_t start, uint64_t end)
{
    flush_tlb_mm_range(k, mm, start, end);
}

void flush_tlb_mm(struct kernel *k, struct mm *mm)
{
    flush_tlb_mm_range(k, mm, 0, UINT64_MAX);
}

void switch_mm(struct kernel *k, struct mm *prev, struct mm *next)
{
    struct percpu *pc = &k->pcpu[0];
    if (prev == next && pc->loaded_mm == next)
        return;
    uint16_t pcid = 0;
    int noflush = 0;
    if (pcid_on(k)) {
        unsigned slot = NR_ASIDS;
        for (unsigned i = 0; i < NR_ASIDS; i++)
            if (pc->asid[i].mm_id == next->id)
                slot = i;
        if (slot < NR_ASIDS) {
            noflush = pc->asid[slot].gen == next->tlb_gen;
        } else {
            slot = pc->next_asid;
            pc->next_asid = (pc->next_asid + 1) % NR_ASIDS;
            pc->asid[slot].mm_id = next->id;
        }
        pc->asid[slot].gen = next->tlb_gen;
        pc->cur_asid = slot;
        pcid = (uint16_t)(slot + 1);   /* kernel PCIDs 1..6, as Linux's kern_pcid() */
    }
    if (prev)
        prev->cpumask &= ~(1ull << this_cpu(k)->id);
    next->cpumask |= 1ull << this_cpu(k)->id;
    pc->loaded_mm = next;
    guest_site(this_cpu(k), SITE_SWITCH_MM);
    k->pv->write_cr3(k, next, pcid, noflush);
}

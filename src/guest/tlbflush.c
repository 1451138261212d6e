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

/* INVLPG every 2^stride_shift bytes of [start, end) (one per page, or
 * per huge page when only PMDs changed: INVLPG drops the translation of
 * any size that holds its address, and every paging-structure-cache entry
 * of the PCID, SDM 4.10.4.1, so a freed table needs one), or a whole
 * flush past the ceiling (flush_tlb_func). */
static void local_flush(struct kernel *k, uint64_t start, uint64_t end, unsigned stride_shift)
{
    uint64_t n = (end - start) >> stride_shift;
    if (start == 0 && end == UINT64_MAX)
        n = UINT64_MAX;
    if (n > k->cfg.flush_ceiling) {
        guest_site(this_cpu(k), SITE_FLUSH_LOCAL);
        k->pv->flush_tlb_local(k);
        return;
    }
    guest_site(this_cpu(k), SITE_INVLPG);
    for (uint64_t va = start; va < end; va += 1ull << stride_shift)
        k->pv->flush_tlb_one_user(k, va);
}

static void flush_tlb_mm_range(struct kernel *k, struct mm *mm, uint64_t start, uint64_t end,
                               unsigned stride_shift)
{
    struct percpu *pc = &k->pcpu[0];
    mm->tlb_gen++;
    if (pc->loaded_mm == mm) {
        local_flush(k, start, end, stride_shift);
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
    flush_tlb_mm_range(k, mm, va, va + PAGE_SIZE, PAGE_SHIFT);
}

void flush_tlb_range(struct kernel *k, struct mm *mm, uint64_t start, uint64_t end)
{
    flush_tlb_mm_range(k, mm, start, end, PAGE_SHIFT);
}

void flush_tlb_mm(struct kernel *k, struct mm *mm)
{
    flush_tlb_mm_range(k, mm, 0, UINT64_MAX, PAGE_SHIFT);
}

/* __tlb_adjust_range plus the cleared_* bit of the entry's level. */
void tlb_span_add(struct tlb_span *s, uint64_t addr, uint64_t size, unsigned lvl)
{
    if (!s->end || addr < s->start)
        s->start = addr;
    if (addr + size > s->end)
        s->end = addr + size;
    s->cleared |= 1u << (lvl - 1);
}

/* tlb_flush (arch/x86/include/asm/tlb.h): the span, at the stride of the
 * smallest level changed (tlb_get_unmap_shift); nothing if it is empty. */
void tlb_span_flush(struct kernel *k, struct mm *mm, struct tlb_span *s)
{
    if (s->end) {
        unsigned lvl = (unsigned)__builtin_ctz(s->cleared) + 1;
        flush_tlb_mm_range(k, mm, s->start, s->end, level_shift(lvl));
    }
    *s = (struct tlb_span){ 0 };
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

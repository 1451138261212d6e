/* thp.c: transparent huge pages for anonymous memory (Linux
 * mm/huge_memory.c: do_huge_pmd_anonymous_page, do_huge_pmd_wp_page,
 * copy_huge_pmd, __split_huge_pmd). A VMA mapped with MAP_HUGETLB on a
 * backend that allows 2 MiB user pages gets a huge page for every 2 MiB
 * aligned region it covers entirely, on the first fault there.
 *
 * Simplifications: no huge zero page (a read fault allocates, like a write);
 * splitting a huge page still shared copy-on-write first gives this address
 * space its own copy (Linux can map parts of a shared compound page), then
 * splits the private page into 512 ordinary pages; the copy stands for the
 * shared page Linux would keep mapping, so it is not marked exclusive
 * (PageAnonExclusive): mprotect leaves its entries read-only, and the write
 * fault reuses it (where Linux's would copy the still shared page). */
#include "guest/kernel.h"
#include "guest/sites.h"
#include "lib/err.h"

static pte_t huge_flags(const struct vma *v, int writable)
{
    pte_t f = _PAGE_PRESENT | _PAGE_USER | _PAGE_ACCESSED | _PAGE_PSE;
    if (writable)
        f |= _PAGE_RW | _PAGE_DIRTY;
    if (!(v->flags & VM_EXEC))
        f |= _PAGE_NX;
    return f;
}

static uint64_t huge_copy(struct kernel *k)
{
    uint64_t n = kalloc_huge(k, PG_anon | KALLOC_NOZERO);
    stat_add(k->st, CNT_page_copy, 512);
    stat_charge(k->st, CYC_zero_copy, 512 * k->cost->page_copy);
    return n;
}

/* Replace the huge entry at pmd[i] (pmdp_huge_clear_flush + set_pmd_at). */
static void replace_pmd(struct kernel *k, struct mm *mm, uint64_t pmd, unsigned i, uint64_t hs, pte_t e)
{
    guest_site(this_cpu(k), SITE_THP);
    pte_store_direct(k, pmd, i, 0);
    flush_tlb_range(k, mm, hs, hs + HPAGE_SIZE);
    guest_site(this_cpu(k), SITE_THP);
    set_entry(k, mm, pmd, 2, i, e);
}

int do_huge_pmd_fault(struct kernel *k, struct mm *mm, struct vma *v, uint64_t va, enum access acc)
{
    uint64_t hs = va & ~(HPAGE_SIZE - 1);
    if (!(v->flags & VM_HUGEPAGE) || hs < v->start || hs + HPAGE_SIZE > v->end)
        return 0;
    unsigned i;
    uint64_t pmd = pmd_table(k, mm, hs, 1, &i);
    pte_t e = kread_entry(k, pmd, i);
    MV_ASSERT(!pte_protnone(e), "huge fault on a PROTNONE pmd at %#llx of an accessible VMA",
              (unsigned long long)va);
    if (!pte_present(e)) {
        uint64_t head = kalloc_huge(k, PG_anon);
        v->flags |= VM_ANONVMA;
        mm->rss += 512;
        stat_inc(k->st, CNT_pf_anon);
        guest_site(this_cpu(k), SITE_THP);
        set_entry(k, mm, pmd, 2, i, k->pv->make_entry(k, head, huge_flags(v, (v->flags & VM_WRITE) != 0)));
        return 1;
    }
    if (!(e & _PAGE_PSE))
        return 0;                                   /* split earlier: 4K path */
    if (acc == ACC_WRITE && !(e & _PAGE_RW)) {      /* do_huge_pmd_wp_page */
        uint64_t old = k->pv->entry_pfn(k, e);
        stat_inc(k->st, CNT_pf_cow);
        if (page_of(k, old)->count == 1) {
            page_of(k, old)->anon_exclusive = 1;      /* SetPageAnonExclusive */
            guest_site(this_cpu(k), SITE_THP);
            set_entry(k, mm, pmd, 2, i, e | _PAGE_RW | _PAGE_DIRTY);
        } else {
            uint64_t n = huge_copy(k);
            replace_pmd(k, mm, pmd, i, hs, k->pv->make_entry(k, n, huge_flags(v, 1)));
            page_put(k, old);
        }
    }
    return 1;
}

void copy_huge_pmd(struct kernel *k, struct mm *dst, struct mm *src, uint64_t va, int cow)
{
    unsigned si, di;
    uint64_t spmd = pmd_table(k, src, va, 0, &si);
    pte_t e = kread_entry(k, spmd, si);
    if (cow && (e & _PAGE_RW)) {
        e &= ~_PAGE_RW;
        guest_site(this_cpu(k), SITE_THP);
        pte_store_direct(k, spmd, si, e);           /* pmdp_set_wrprotect */
    }
    uint64_t dpmd = pmd_table(k, dst, va, 1, &di);
    page_get(k, k->pv->entry_pfn(k, e));
    page_of(k, k->pv->entry_pfn(k, e))->anon_exclusive = 0;   /* folio_try_dup_anon_rmap_pmd */
    dst->rss += 512;
    guest_site(this_cpu(k), SITE_THP);
    set_entry(k, dst, dpmd, 2, di, e);
}

void split_huge_pmd(struct kernel *k, struct mm *mm, uint64_t va)
{
    uint64_t hs = va & ~(HPAGE_SIZE - 1);
    unsigned i;
    uint64_t pmd = pmd_table(k, mm, hs, 0, &i);
    if (!pmd)
        return;
    pte_t e = kread_entry(k, pmd, i);
    if (!pte_mapped(e) || !(e & _PAGE_PSE))
        return;
    uint64_t head = k->pv->entry_pfn(k, e);
    if (page_of(k, head)->count > 1) {
        /* still shared after fork: take a private copy first; it stands
         * for the shared page Linux would go on mapping, so it is not
         * exclusive (see above) */
        uint64_t n = huge_copy(k);
        page_put(k, head);
        head = n;
        page_of(k, head)->anon_exclusive = 0;
        e = (e & PTE_FLAGS_MASK) | (k->pv->make_entry(k, head, e & PTE_FLAGS_MASK) & PTE_FRAME_MASK);
    }
    /* The private huge page becomes 512 ordinary pages, each as exclusive
     * as it was (__split_huge_pmd_locked: RMAP_EXCLUSIVE per page). */
    page_of(k, head)->flags &= (uint8_t)~PG_huge;
    for (unsigned j = 1; j < 512; j++)
        *page_of(k, head + j) = (struct page){ .count = 1, .flags = PG_used | PG_anon,
                                               .anon_exclusive = page_of(k, head)->anon_exclusive };
    uint64_t l1 = pt_alloc(k, mm, 1);
    pte_t flags = (e & PTE_FLAGS_MASK & ~_PAGE_PSE);
    int own_lazy = !k->lazy_mmu;     /* mprotect calls us in lazy mode already */
    if (own_lazy)
        lazy_mmu_enter(k);
    guest_site(this_cpu(k), SITE_THP);
    for (unsigned j = 0; j < 512; j++)
        set_entry(k, mm, l1, 1, j, k->pv->make_entry(k, head + j, flags));
    if (own_lazy)
        lazy_mmu_leave(k);
    replace_pmd(k, mm, pmd, i, hs, k->pv->make_entry(k, l1, PT_TABLE_FLAGS));
}

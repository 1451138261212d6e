/* pgtable.c: page-table pages and entries (Linux mm/memory.c __pte_alloc,
 * free_pgtables; arch/x86/mm/pgtable.c pgd_alloc/pgd_free).
 *
 * Every page-table page comes from pt_alloc and goes back through pt_free, so
 * the per-level counts and the per-level allocation/freeing time (the
 * PiBooster paper's measure) are taken in one place. The time includes all
 * the backend does on the path (hypercalls, validation, IOMMU flushes); for
 * a table linked under a parent it includes the populate, as Linux's
 * __pte_alloc, __pmd_alloc and __pud_alloc do (pt_alloc_populate). */
#include "guest/kernel.h"
#include "guest/ptcache.h"
#include "guest/sites.h"
#include "lib/err.h"

uint64_t buddy_get_page(struct kernel *k);
void     buddy_put_page(struct kernel *k, uint64_t pfn);

uint64_t pt_alloc(struct kernel *k, struct mm *mm, unsigned lvl)
{
    uint64_t t0 = k->st->now;
    uint64_t pfn = UINT64_MAX;
    int enabled = k->ptc && k->ptc->enabled;
    if (enabled)
        pfn = ptcache_get(k, lvl);
    if (pfn == UINT64_MAX)
        pfn = buddy_get_page(k);
    struct page *p = page_of(k, pfn);
    MV_ASSERT(!(p->flags & PG_pgtable), "page-table page %#llx already in use", (unsigned long long)pfn);
    /* PG_ptcache mirrors the hypervisor's cache flag: a page gets it when it
     * becomes a page table while the cache is on, and keeps it until it is
     * released back to the buddy allocator. */
    p->count = 1;
    p->level = (uint8_t)lvl;
    p->flags = (uint8_t)(PG_used | PG_pgtable | ((enabled || (p->flags & PG_ptcache)) ? PG_ptcache : 0));
    if (k->ptc)
        ptcache_account(k, lvl, +1);

    /* __GFP_ZERO: the guest clears the page before use (its first stores
     * trap while the hypervisor still write-protects the frame). */
    clear_page_stores(k, pfn, 1);
    pmem_zero(this_cpu(k)->mem, cpu_gfn_to_mfn(this_cpu(k), pfn));
    stat_inc(k->st, CNT_page_zero);
    stat_charge(k->st, CYC_zero_copy, k->cost->page_zero);
    stat_charge(k->st, CYC_pgtable, k->cost->pt_alloc_path);

    mm->pt_pages++;
    stat_inc(k->st, CNT_pt_pages_alloc);
    stat_inc(k->st, (enum mv_counter)(CNT_pt_alloc_l1 + lvl - 1));
    if (lvl < 4 && k->pv->alloc_pt)
        k->pv->alloc_pt(k, mm, pfn, lvl);
    stat_add(k->st, (enum mv_counter)(CNT_pt_alloc_cycles_l1 + lvl - 1), k->st->now - t0);
    return pfn;
}

/* __pte_alloc / __pmd_alloc / __pud_alloc: a new table of level lvl, linked
 * into entry idx of `parent` (level lvl + 1). The populate (pmd_populate,
 * pud_populate, p4d_populate) is part of the allocation path and of its
 * time, at every level alike: in a pinned Xen PV mm it is the mmu_update
 * whose validation of the parent's new entry takes the new table's type,
 * the type change of an L2 or L3 with its IOMMU work (an L1 was pinned
 * already by alloc_pt, and is only referenced). */
static uint64_t pt_alloc_populate(struct kernel *k, struct mm *mm, unsigned lvl, uint64_t parent, unsigned idx)
{
    uint64_t child = pt_alloc(k, mm, lvl);
    uint64_t t0 = k->st->now;
    guest_site(this_cpu(k), SITE_PT_POPULATE);
    set_entry(k, mm, parent, lvl + 1, idx, k->pv->make_entry(k, child, PT_TABLE_FLAGS));
    stat_add(k->st, (enum mv_counter)(CNT_pt_alloc_cycles_l1 + lvl - 1), k->st->now - t0);
    return child;
}

/* A page leaves page-table use for good: tell the hypervisor if it holds the
 * cache flag, drop its contents (memvirt backs only live tables; the stores
 * of that clear trap while the frame is write-protected) and give it back
 * to the buddy allocator. */
void pt_page_release(struct kernel *k, uint64_t pfn, int hv_done)
{
    struct page *p = page_of(k, pfn);
    if ((p->flags & PG_ptcache) && !hv_done && k->pv->ptcache_release)
        k->pv->ptcache_release(k, &pfn, 1);
    p->flags = 0;
    p->count = 0;
    /* the contents dropped as a clear would: through the vCPU while the
     * frame is still write-protected (Xen unshadows a table the guest
     * clears before freeing it; KVM's flooding does the same after a few) */
    clear_page_stores(k, pfn, 1);
    pmem_zero(this_cpu(k)->mem, cpu_gfn_to_mfn(this_cpu(k), pfn));
    buddy_put_page(k, pfn);
}

void pt_free(struct kernel *k, struct mm *mm, uint64_t pfn, unsigned lvl)
{
    uint64_t t0 = k->st->now;
    struct page *p = page_of(k, pfn);
    MV_ASSERT((p->flags & PG_pgtable) && p->level == lvl, "pt_free of %#llx: not an L%u table",
              (unsigned long long)pfn, lvl);
    if (lvl < 4 && k->pv->release_pt)
        k->pv->release_pt(k, mm, pfn, lvl);
    stat_charge(k->st, CYC_pgtable, k->cost->pt_free_path);
    mm->pt_pages--;
    stat_inc(k->st, CNT_pt_pages_free);
    stat_inc(k->st, (enum mv_counter)(CNT_pt_free_l1 + lvl - 1));
    if (k->ptc)
        ptcache_account(k, lvl, -1);
    if (k->ptc && k->ptc->enabled) {
        p->flags = (uint8_t)(PG_used | (p->flags & PG_ptcache));
        p->count = 0;
        ptcache_put(k, pfn, lvl);
    } else {
        pt_page_release(k, pfn, 0);
    }
    stat_add(k->st, (enum mv_counter)(CNT_pt_free_cycles_l1 + lvl - 1), k->st->now - t0);
}

const pte_t *kmap_table(struct kernel *k, uint64_t table)
{
    static const pte_t zero[PTRS_PER_TABLE];
    struct cpu *c = this_cpu(k);
    uint64_t mfn = cpu_gfn_to_mfn(c, table);
    MV_ASSERT(mfn != UINT64_MAX, "table %#llx is not mapped", (unsigned long long)table);
    const pte_t *t = pmem_table_peek(c->mem, mfn);
    return t ? t : zero;
}

void set_entry(struct kernel *k, struct mm *mm, uint64_t table, unsigned lvl, unsigned idx, pte_t e)
{
    MV_ASSERT(idx < PTRS_PER_TABLE, "kernel store to entry %u of an L%u table %#llx", idx, lvl,
              (unsigned long long)table);
    stat_inc(k->st, CNT_pte_writes);
    k->pv->set_entry(k, mm, table, lvl, idx, e);
}

void lazy_mmu_enter(struct kernel *k)
{
    MV_ASSERT(!k->lazy_mmu, "nested lazy MMU mode");
    k->lazy_mmu = 1;
    if (k->pv->lazy_mmu_enter)
        k->pv->lazy_mmu_enter(k);
}

void lazy_mmu_leave(struct kernel *k)
{
    MV_ASSERT(k->lazy_mmu, "leaving lazy MMU mode not entered");
    k->lazy_mmu = 0;
    if (k->pv->lazy_mmu_leave)
        k->pv->lazy_mmu_leave(k);
}

/* The table of level `stop` covering va (missing levels above it allocated
 * if alloc, else 0), and va's index in it. */
static uint64_t table_at(struct kernel *k, struct mm *mm, uint64_t va, unsigned stop, int alloc, unsigned *idx)
{
    uint64_t table = mm->pgd;
    for (unsigned lvl = 4; lvl > stop; lvl--) {
        unsigned i = pt_index(va, lvl);
        pte_t e = kread_entry(k, table, i);
        if (!pte_present(e)) {
            if (!alloc)
                return 0;
            table = pt_alloc_populate(k, mm, lvl - 1, table, i);
        } else {
            /* PS in a pgd entry is a reserved bit the kernel never sets:
             * the MMU refuses such an entry (a user access through it
             * faults with RSVD, and the task is killed: pgtable_bad), while
             * the kernel's own walks follow the table it names.
             * Simplification: Linux's walkers find it p4d_bad, report it and
             * clear it, leaking the tables below; memvirt's kernel keeps
             * them, so that its frame accounting stays exact
             * (docs/shadow-nested.md, "Reserved bits"). */
            MV_ASSERT(lvl == 4 || !(e & _PAGE_PSE), "1 GiB page in a user table at %#llx", (unsigned long long)va);
            table = k->pv->entry_pfn(k, e);
        }
    }
    *idx = pt_index(va, stop);
    return table;
}

uint64_t pmd_table(struct kernel *k, struct mm *mm, uint64_t va, int alloc, unsigned *idx)
{
    return table_at(k, mm, va, 2, alloc, idx);
}

uint64_t pud_table(struct kernel *k, struct mm *mm, uint64_t va, int alloc, unsigned *idx)
{
    return table_at(k, mm, va, 3, alloc, idx);
}

uint64_t pt_none_end(struct kernel *k, struct mm *mm, uint64_t va, uint64_t end)
{
    unsigned i;
    unsigned shift = pud_table(k, mm, va, 0, &i) ? level_shift(3) : level_shift(4);
    uint64_t next = (va | ((1ull << shift) - 1)) + 1;
    return next > end || next == 0 ? end : next;
}

uint64_t pte_table(struct kernel *k, struct mm *mm, uint64_t va, int alloc)
{
    unsigned i;
    uint64_t pmd = pmd_table(k, mm, va, alloc, &i);
    if (!pmd)
        return 0;
    pte_t e = kread_entry(k, pmd, i);
    if (pte_mapped(e)) {
        if (e & _PAGE_PSE)
            return 0;                 /* a huge page maps the whole region */
        return k->pv->entry_pfn(k, e);
    }
    if (!alloc)
        return 0;
    return pt_alloc_populate(k, mm, 1, pmd, i);
}

int pgd_alloc(struct kernel *k, struct mm *mm)
{
    mm->pgd = pt_alloc(k, mm, 4);
    /* pgd_ctor: clone the kernel half with plain stores (the page is new). */
    for (unsigned i = 0; i < k->cfg.kernel_pgd_slots; i++) {
        guest_site(this_cpu(k), SITE_PGD_CTOR);
        int rc = cpu_store(this_cpu(k), mm->pgd, 256 + i,
                           k->pv->make_entry(k, k->kernel_l3[i], PT_TABLE_FLAGS & ~_PAGE_USER));
        MV_ASSERT(rc == 0, "pgd_ctor store into a fresh pgd trapped");
        stat_charge(k->st, CYC_pgtable, k->cost->pte_write);
    }
    if (k->pv->pgd_alloc)
        k->pv->pgd_alloc(k, mm);
    return 0;
}

void pgd_free(struct kernel *k, struct mm *mm)
{
    if (k->pv->pgd_free)
        k->pv->pgd_free(k, mm);
    pt_free(k, mm, mm->pgd, 4);
    mm->pgd = 0;
}

/* Free the tables under entry idx of `table` (level lvl) covering a region
 * with no VMA left; recurse into tables whose regions are partly in use. */
static int free_level(struct kernel *k, struct mm *mm, uint64_t table, unsigned lvl,
                      uint64_t base, uint64_t start, uint64_t end)
{
    uint64_t span = 1ull << level_shift(lvl);
    unsigned first = start > base ? (unsigned)((start - base) / span) : 0;
    unsigned last = (unsigned)((end - 1 - base) / span);
    if (last > 511)
        last = 511;
    if (lvl == 4 && last > 255)
        last = 255;            /* never the kernel half */
    int freed = 0;
    for (unsigned i = first; i <= last; i++) {
        uint64_t rs = base + i * span, re = rs + span;
        pte_t e = kread_entry(k, table, i);
        if (!pte_present(e) || pte_leaf(e, lvl))
            continue;                  /* a huge page is zapped, not freed here (PS in a pgd entry is
                                          no page: its tables are freed, as table_at follows them) */
        uint64_t child = k->pv->entry_pfn(k, e);
        if (lvl > 2)
            free_level(k, mm, child, lvl - 1, rs, start > rs ? start : rs, end < re ? end : re);
        if (!vma_intersects(mm, rs, re)) {
            guest_site(this_cpu(k), SITE_FREE_PGTABLES);
            set_entry(k, mm, table, lvl, i, 0);
            tlb_remove_table(k, child, lvl - 1, rs);
            freed++;
        }
    }
    return freed;
}

void free_pgtables(struct kernel *k, struct mm *mm, uint64_t start, uint64_t end)
{
    if (start >= end)
        return;
    free_level(k, mm, mm->pgd, 4, 0, start, end);
}

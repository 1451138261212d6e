/* mremap.c: resizing and moving a mapping (Linux mm/mremap.c: mremap,
 * vma_to_resize, move_vma, move_page_tables/move_ptes).
 *
 * A recorded trace says where the mapping ended up, so the caller gives the
 * final address: equal to the old one for a shrink or an in-place expansion,
 * another for a move (MREMAP_MAYMOVE or MREMAP_FIXED). A move carries the
 * present entries over to the new range (the pages stay where they are, as
 * in Linux), then unmaps the old range, whose entries are by then empty.
 * Growing a shared anonymous mapping grows the VMA only: its shmem object
 * keeps its size, and a fault past that is SIGBUS (fault.c), as in Linux. */
#include "guest/kernel.h"
#include "guest/sites.h"
#include "lib/err.h"
#include <errno.h>

static uint64_t page_align(uint64_t len) { return (len + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1); }

static int range_ok(uint64_t addr, uint64_t len)
{
    return !(addr & (PAGE_SIZE - 1)) && len && addr + len > addr && addr + len <= USER_VA_END;
}

#define PUD_SIZE (1ull << 30)

/* get_extent: from o (n at the same offset) up to the nearer of the next
 * size boundary of either address and the end of the move (left bytes). */
static uint64_t get_extent(uint64_t o, uint64_t n, uint64_t left, uint64_t size)
{
    uint64_t e = size - (o & (size - 1)), en = size - (n & (size - 1));
    if (e > left)
        e = left;
    return e < en ? e : en;
}

/* move_normal_pmd (lvl 2) / move_normal_pud (lvl 3): the entry of o at
 * level lvl names a whole table whose range moves entirely (the caller
 * checked the extent); relink that table under n's entry instead of
 * copying what it maps. Refused (0) when o has no such entry or n's entry
 * is in use. pmd_clear and pmd_populate are set_pmd under paravirt (a Xen
 * PV guest: one mmu_update each), and pmd_populate first calls
 * paravirt_alloc_pte (Xen: the table is already pinned, so only its
 * direct-map entry is made read-only again, no second pin). */
static int move_normal_entry(struct kernel *k, struct mm *mm, uint64_t o, uint64_t n, unsigned lvl)
{
    unsigned oi, ni;
    uint64_t ot = lvl == 2 ? pmd_table(k, mm, o, 0, &oi) : pud_table(k, mm, o, 0, &oi);
    pte_t e = ot ? kread_entry(k, ot, oi) : 0;
    if (!pte_present(e) || (e & _PAGE_PSE))
        return 0;
    uint64_t nt = lvl == 2 ? pmd_table(k, mm, n, 1, &ni) : pud_table(k, mm, n, 1, &ni);
    if (pte_present(kread_entry(k, nt, ni)))
        return 0;                              /* WARN_ON_ONCE(!pmd_none(*new_pmd)) */
    uint64_t child = k->pv->entry_pfn(k, e);
    guest_site(this_cpu(k), SITE_MREMAP_PMD);
    set_entry(k, mm, ot, lvl, oi, 0);          /* pmd_clear */
    if (k->pv->alloc_pt)
        k->pv->alloc_pt(k, mm, child, lvl - 1);
    guest_site(this_cpu(k), SITE_MREMAP_PMD);
    set_entry(k, mm, nt, lvl, ni, k->pv->make_entry(k, child, PT_TABLE_FLAGS));
    flush_tlb_range(k, mm, o, o + (1ull << level_shift(lvl)));
    return 1;
}

/* move_ptes: the mapped entries (present or PROTNONE) of [o, o + len), within one L1 table, to
 * the same offsets at n; the destination table is found or allocated first,
 * then the entries move in lazy MMU mode (Linux allocates with pte_alloc
 * before move_ptes enters lazy mode: a Xen guest batches its table writes
 * there, so a table allocated inside would not yet be linked when the next
 * entry looks for it). The old range is flushed if anything moved. */
static void move_ptes(struct kernel *k, struct mm *mm, uint64_t st, uint64_t o, uint64_t n, uint64_t len)
{
    uint64_t dt = pte_table(k, mm, n, 1);
    int moved = 0;
    lazy_mmu_enter(k);
    for (uint64_t off = 0; off < len; off += PAGE_SIZE) {
        unsigned si = pt_index(o + off, 1);
        pte_t e = kread_entry(k, st, si);
        if (!pte_mapped(e))                    /* present or PROTNONE */
            continue;
        guest_site(this_cpu(k), SITE_MREMAP_PTE);
        pte_store_direct(k, st, si, 0);        /* ptep_get_and_clear */
        set_entry(k, mm, dt, 1, pt_index(n + off, 1), e);
        moved = 1;
    }
    lazy_mmu_leave(k);
    if (moved)
        flush_tlb_range(k, mm, o, o + len);
}

/* move_page_tables: [old, old + len) to the same offsets at new, one
 * extent at a time, as Linux (CONFIG_HAVE_MOVE_PUD and HAVE_MOVE_PMD, both
 * selected by x86): an extent that is a whole 1 GiB at both addresses
 * relinks its L2 table, a whole 2 MiB its L1 table (no table allocated,
 * no entry copied, one flush of the old range); anything else moves entry
 * by entry. Linux's realignment of a mutually misaligned start down to a
 * 2 MiB boundary (try_realign_addr, 6.7 on) is not modelled; a huge page
 * is split and moved page by page (Linux moves the huge entry whole). */
static void move_page_tables(struct kernel *k, struct mm *mm, uint64_t old, uint64_t new, uint64_t len)
{
    uint64_t extent;
    for (uint64_t off = 0; off < len; off += extent) {
        uint64_t o = old + off, n = new + off;
        extent = get_extent(o, n, len - off, PUD_SIZE);
        if (extent == PUD_SIZE && move_normal_entry(k, mm, o, n, 3))
            continue;
        /* get_old_pud: o's L3 entry empty (no L2 table), nothing to move
         * up to the end of the empty stretch (its 1 GiB, which Linux skips
         * as a whole, or its L4 entry's 512 GiB: pt_none_end); a 32 TiB
         * move over unpopulated space stepped every 2 MiB */
        unsigned pi;
        uint64_t pmd = pmd_table(k, mm, o, 0, &pi);
        if (!pmd) {
            extent = pt_none_end(k, mm, o, old + len) - o;
            continue;
        }
        extent = get_extent(o, n, len - off, HPAGE_SIZE);
        pte_t pe = kread_entry(k, pmd, pi);
        if (!pte_mapped(pe))
            continue;                          /* get_old_pmd: nothing here */
        if (pe & _PAGE_PSE)
            split_huge_pmd(k, mm, o);          /* moved page by page below */
        else if (extent == HPAGE_SIZE && move_normal_entry(k, mm, o, n, 2))
            continue;
        uint64_t st = pte_table(k, mm, o, 0);
        if (st)
            move_ptes(k, mm, st, o, n, extent);
    }
}

long sys_mremap(struct kernel *k, struct task *t, uint64_t addr, uint64_t old_len,
                uint64_t new_addr, uint64_t new_len)
{
    stat_charge(k->st, CYC_kernel, k->cost->syscall);
    struct mm *mm = t->mm;
    old_len = page_align(old_len);
    new_len = page_align(new_len);
    if (!range_ok(addr, old_len) || !range_ok(new_addr, new_len))
        return -EINVAL;
    /* vma_to_resize: the old range lies in one VMA. */
    struct vma *v = find_vma(mm, addr);
    if (!v || addr + old_len > v->end)
        return -EFAULT;
    if (v->file && v->pgoff + ((addr - v->start) >> PAGE_SHIFT) + (new_len >> PAGE_SHIFT) > FILE_PAGES_MAX)
        return -EINVAL;                           /* past the largest file offset */
    if (new_addr == addr) {
        if (new_len < old_len) {
            if (munmap_over_map_count(k, mm, addr + new_len, addr + old_len))
                return -ENOMEM;
            do_munmap(k, mm, addr + new_len, addr + old_len);
            return (long)addr;
        }
        if (new_len > old_len) {
            if (addr + old_len != v->end || vma_intersects(mm, addr + old_len, addr + new_len))
                return -ENOMEM;                   /* cannot grow in place */
            struct vma ext = *v;
            ext.start = addr + old_len;
            ext.end = addr + new_len;
            if (ext.file)
                ext.pgoff = v->pgoff + ((ext.start - v->start) >> PAGE_SHIFT);
            int rc = vma_insert(k, mm, &ext);
            MV_ASSERT(rc == 0, "mremap: free range refused");
            vma_merge_around(k, mm, addr, addr + new_len);
        }
        return (long)addr;
    }
    /* move_vma */
    if (new_addr < addr + old_len && addr < new_addr + new_len)
        return -EINVAL;                           /* overlapping source and target */
    if (new_addr < k->cfg.mmap_min_addr)
        return -EPERM;                            /* mremap_to: get_unmapped_area, vm.mmap_min_addr */
    /* move_vma: "avoid failure later on in do_munmap: which may split one
     * vma into three before unmapping" (vm.max_map_count) */
    if (mm->nvma + 3 >= k->cfg.max_map_count)
        return -ENOMEM;
    if (new_len < old_len) {
        do_munmap(k, mm, addr + new_len, addr + old_len);
        old_len = new_len;
        v = find_vma(mm, addr);
    }
    struct vma nv = *v;
    nv.start = new_addr;
    nv.end = new_addr + new_len;
    if (nv.file)
        nv.pgoff = v->pgoff + ((addr - v->start) >> PAGE_SHIFT);
    do_munmap(k, mm, new_addr, new_addr + new_len);   /* MREMAP_FIXED: the target goes first */
    int rc = vma_insert(k, mm, &nv);
    MV_ASSERT(rc == 0, "mremap: target range still occupied");
    move_page_tables(k, mm, addr, new_addr, old_len);
    do_munmap(k, mm, addr, addr + old_len);
    vma_merge_around(k, mm, new_addr, new_addr + new_len);
    return (long)new_addr;
}

/* mremap.c: resizing and moving a mapping (Linux mm/mremap.c: mremap,
 * vma_to_resize, move_vma, move_page_tables/move_ptes).
 *
 * A recorded trace says where the mapping ended up, so the caller gives the
 * final address: equal to the old one for a shrink or an in-place expansion,
 * another for a move (MREMAP_MAYMOVE or MREMAP_FIXED). A move carries the
 * present entries over to the new range (the pages stay where they are, as
 * in Linux), then unmaps the old range, whose entries are by then empty. */
#include "guest/kernel.h"
#include "guest/sites.h"
#include "lib/err.h"
#include <errno.h>

static uint64_t page_align(uint64_t len) { return (len + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1); }

static int range_ok(uint64_t addr, uint64_t len)
{
    return !(addr & (PAGE_SIZE - 1)) && len && addr + len > addr && addr + len <= USER_VA_END;
}

/* move_page_tables: every present entry of [old, old + len) to the same
 * offset at new, one L1's worth at a time: the destination table is found
 * or allocated first, then the entries move in lazy MMU mode (Linux
 * allocates with alloc_new_pmd before move_ptes enters lazy mode: a Xen
 * guest batches its table writes there, so a table allocated inside would
 * not yet be linked when the next entry looks for it). */
static void move_page_tables(struct kernel *k, struct mm *mm, uint64_t old, uint64_t new, uint64_t len)
{
    for (uint64_t off = 0; off < len;) {
        uint64_t o = old + off, n = new + off;
        uint64_t end = len;
        uint64_t bo = ((o | (HPAGE_SIZE - 1)) + 1) - old, bn = ((n | (HPAGE_SIZE - 1)) + 1) - new;
        if (bo < end)
            end = bo;
        if (bn < end)
            end = bn;
        unsigned pi;
        uint64_t pmd = pmd_table(k, mm, o, 0, &pi);
        pte_t pe = pmd ? kread_entry(k, pmd, pi) : 0;
        if (pte_mapped(pe) && (pe & _PAGE_PSE))
            split_huge_pmd(k, mm, o);          /* moved page by page below */
        uint64_t st = pte_table(k, mm, o, 0);
        if (!st) {
            off = end;
            continue;
        }
        uint64_t dt = pte_table(k, mm, n, 1);
        lazy_mmu_enter(k);
        for (; off < end; off += PAGE_SIZE) {
            unsigned si = pt_index(old + off, 1);
            pte_t e = kread_entry(k, st, si);
            if (!pte_mapped(e))
                continue;
            guest_site(this_cpu(k), SITE_MREMAP_PTE);
            pte_store_direct(k, st, si, 0);    /* ptep_get_and_clear */
            set_entry(k, mm, dt, 1, pt_index(new + off, 1), e);
        }
        lazy_mmu_leave(k);
    }
    flush_tlb_range(k, mm, old, old + len);
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

/* mm.c: address spaces: creation, teardown, unmapping and the memory system
 * calls (Linux kernel/fork.c mm_alloc/mmput, mm/mmap.c exit_mmap, do_munmap,
 * do_brk, mm/mprotect.c, mm/memory.c zap_pte_range, mm/mmu_gather.c). */
#include "guest/kernel.h"
#include "guest/shmem.h"
#include "guest/sites.h"
#include "lib/err.h"
#include <errno.h>
#include <stdlib.h>

struct mm *mm_alloc(struct kernel *k)
{
    struct mm *mm = mv_calloc(1, sizeof *mm);
    k->mm_new = mm;              /* the caller clears it once a task holds mm */
    mm->id = k->next_mm_id++;
    mm->users = 1;
    pgd_alloc(k, mm);
    return mm;
}

void pte_store_direct(struct kernel *k, uint64_t table, unsigned idx, pte_t e)
{
    stat_inc(k->st, CNT_pte_writes);
    stat_charge(k->st, CYC_pgtable, k->cost->pte_write);
    int rc = cpu_store(this_cpu(k), table, idx, e);
    MV_ASSERT(rc == 0, "direct page-table store refused (frame %#llx[%u])",
              (unsigned long long)table, idx);
}

void tlb_remove_page(struct kernel *k, uint64_t pfn)
{
    if (k->gather.nd == k->gather.capd) {
        k->gather.capd = k->gather.capd ? k->gather.capd * 2 : 256;
        k->gather.data = mv_realloc(k->gather.data, k->gather.capd * sizeof *k->gather.data);
    }
    k->gather.data[k->gather.nd++] = pfn;
}

/* pte_free_tlb, pmd_free_tlb, pud_free_tlb: the entry that pointed to the
 * table is cleared, so the flush covers one page at the address of the
 * region it mapped (tlb_flush_pmd_range(tlb, address, PAGE_SIZE) ...). */
void tlb_remove_table(struct kernel *k, uint64_t pfn, unsigned lvl, uint64_t addr)
{
    tlb_span_add(&k->gather.span, addr, PAGE_SIZE, lvl + 1);
    if (k->gather.nt == k->gather.capt) {
        k->gather.capt = k->gather.capt ? k->gather.capt * 2 : 64;
        k->gather.tab = mv_realloc(k->gather.tab, k->gather.capt * sizeof *k->gather.tab);
    }
    k->gather.tab[k->gather.nt].pfn = pfn;
    k->gather.tab[k->gather.nt].lvl = lvl;
    k->gather.nt++;
}

/* tlb_finish_mmu: flush what the gather's span covers, as x86's
 * tlb_flush does (a freed table needs no more than the page flush at its
 * address: INVLPG drops the paging-structure caches too; which other CPUs
 * must hear of it, Linux's freed_tables, does not arise with one vCPU);
 * fullmm (exit_mmap) flushes the whole address space. Nothing cleared,
 * nothing freed: no flush. Then free what was queued. */
void tlb_finish_mmu(struct kernel *k, struct mm *mm, int fullmm)
{
    if (fullmm && k->gather.span.end) {
        flush_tlb_mm(k, mm);
        k->gather.span = (struct tlb_span){ 0 };
    } else {
        tlb_span_flush(k, mm, &k->gather.span);
    }
    for (uint64_t i = 0; i < k->gather.nd; i++)
        page_put(k, k->gather.data[i]);
    for (uint64_t i = 0; i < k->gather.nt; i++)
        pt_free(k, mm, k->gather.tab[i].pfn, k->gather.tab[i].lvl);
    k->gather.nd = k->gather.nt = 0;
}

/* zap_pte_range over [start, end): clear every present or PROTNONE PTE and
 * queue its page. */
void zap_range(struct kernel *k, struct mm *mm, uint64_t start, uint64_t end)
{
    for (uint64_t va = start; va < end;) {
        uint64_t next = (va | ((1ull << level_shift(2)) - 1)) + 1;
        if (next > end || next == 0)
            next = end;
        unsigned pi;
        uint64_t pmd = pmd_table(k, mm, va, 0, &pi);
        if (!pmd) {                                 /* nothing in this 1 GiB, or 512 GiB */
            va = pt_none_end(k, mm, va, end);
            continue;
        }
        pte_t pe = kread_entry(k, pmd, pi);
        if (pte_mapped(pe) && (pe & _PAGE_PSE)) {
            if (next - va == HPAGE_SIZE) {          /* zap_huge_pmd */
                guest_site(this_cpu(k), SITE_ZAP_PTE);
                pte_store_direct(k, pmd, pi, 0);
                tlb_span_add(&k->gather.span, va, HPAGE_SIZE, 2);   /* tlb_remove_pmd_tlb_entry */
                mm->rss -= 512;
                tlb_remove_page(k, k->pv->entry_pfn(k, pe));
                va = next;
                continue;
            }
            split_huge_pmd(k, mm, va);
        }
        uint64_t table = pte_table(k, mm, va, 0);
        if (table) {
            const pte_t *tv = kmap_table(k, table);
            lazy_mmu_enter(k);
            for (uint64_t a = va; a < next; a += PAGE_SIZE) {
                unsigned idx = pt_index(a, 1);
                pte_t e = tv[idx];
                if (!pte_mapped(e))
                    continue;
                guest_site(this_cpu(k), SITE_ZAP_PTE);
                pte_store_direct(k, table, idx, 0);
                tlb_span_add(&k->gather.span, a, PAGE_SIZE, 1);    /* tlb_remove_tlb_entry */
                uint64_t pfn = k->pv->entry_pfn(k, e);
                mm->rss--;
                if (pfn == k->zero_pfn)
                    continue;
                /* zap_present_pte: a file page's dirty entry marks the page
                 * dirty (folio_mark_dirty); shmem's, written through an
                 * entry a read fault mapped writable, is known no other way */
                if ((e & _PAGE_DIRTY) && (page_of(k, pfn)->flags & PG_cache))
                    page_of(k, pfn)->dirty = 1;
                tlb_remove_page(k, pfn);
            }
            lazy_mmu_leave(k);
        }
        va = next;
    }
}

/* unmap_region: zap, drop the VMAs, free the tables no VMA needs, flush,
 * free. Where no VMA meets the range (an mmap into free space) there is
 * nothing to split, zap or drop: one lookup says so. */
static void unmap_region(struct kernel *k, struct mm *mm, uint64_t start, uint64_t end)
{
    if (vma_intersects(mm, start, end)) {
        vma_split_at(k, mm, start);
        vma_split_at(k, mm, end);
        struct vma *v;
        for_each_vma_range(mm, v, start, end)
            zap_range(k, mm, v->start, v->end);
        vma_remove_range(k, mm, start, end);
    }
    free_pgtables(k, mm, start, end);
    tlb_finish_mmu(k, mm, 0);
}

/* vm.max_map_count for an unmap of [start, end) (Linux do_vmi_align_munmap):
 * only a hole strictly inside one VMA adds one, and it is refused when the
 * count is already at the limit; cutting a head or a tail may pass the
 * limit for a moment, as Linux lets it, "to help free resources". */
int munmap_over_map_count(struct kernel *k, struct mm *mm, uint64_t start, uint64_t end)
{
    const struct vma *v = find_vma(mm, start);
    return v && v->start < start && end < v->end && mm->nvma >= k->cfg.max_map_count;
}

void do_munmap(struct kernel *k, struct mm *mm, uint64_t start, uint64_t end)
{
    unmap_region(k, mm, start, end);
}

/* exit_mmap: tear the whole user address space down, then the pgd. */
static void exit_mmap(struct kernel *k, struct mm *mm)
{
    if (k->pv->exit_mmap)
        k->pv->exit_mmap(k, mm);
    struct vma *v;
    for_each_vma(mm, v)
        zap_range(k, mm, v->start, v->end);
    for_each_vma(mm, v) {
        stat_charge(k->st, CYC_kernel, k->cost->vma_op);
        if (v->flags & VM_SHMEM)
            shmem_put(k, v->file);
    }
    vma_tree_free(mm);
    free_pgtables(k, mm, 0, USER_VA_END);
    tlb_finish_mmu(k, mm, 1);
    MV_ASSERT(mm->rss == 0, "exit_mmap left %llu pages mapped", (unsigned long long)mm->rss);
    pgd_free(k, mm);
    MV_ASSERT(mm->pt_pages == 0, "exit_mmap left %llu page-table pages", (unsigned long long)mm->pt_pages);
}

void mmput(struct kernel *k, struct mm *mm)
{
    MV_ASSERT(mm->users > 0, "mmput of a dead mm");
    if (--mm->users)
        return;
    MV_ASSERT(k->pcpu[0].loaded_mm != mm, "mmput of the loaded mm");
    exit_mmap(k, mm);
    free(mm);
}

static int range_ok(uint64_t addr, uint64_t len)
{
    return !(addr & (PAGE_SIZE - 1)) && len && addr + len > addr && addr + len <= USER_VA_END;
}

static uint64_t page_align(uint64_t len) { return (len + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1); }

static uint32_t prot_to_vm(unsigned prot)
{
    return (prot & PROT_READ ? VM_READ : 0) | (prot & PROT_WRITE ? VM_WRITE : 0) |
           (prot & PROT_EXEC ? VM_EXEC : 0);
}

long sys_munmap(struct kernel *k, struct task *t, uint64_t addr, uint64_t len)
{
    stat_inc(k->st, CNT_munmap);
    stat_charge(k->st, CYC_kernel, k->cost->syscall);
    len = page_align(len);
    if (!range_ok(addr, len))
        return -EINVAL;
    if (munmap_over_map_count(k, t->mm, addr, addr + len))
        return -ENOMEM;
    unmap_region(k, t->mm, addr, addr + len);
    return 0;
}

long sys_mmap(struct kernel *k, struct task *t, uint64_t addr, uint64_t len, unsigned prot,
              unsigned flags, uint32_t file, uint64_t pgoff)
{
    stat_inc(k->st, CNT_mmap);
    stat_charge(k->st, CYC_kernel, k->cost->syscall);
    len = page_align(len);
    if (!range_ok(addr, len) || !(flags & (MAP_SHARED | MAP_PRIVATE)) ||
        ((flags & MAP_ANON) != 0) != (file == 0) ||
        ((flags & MAP_HUGETLB) && (file || (flags & MAP_SHARED))))
        return -EINVAL;                        /* huge pages: anonymous private memory only */
    if (file && (pgoff > FILE_PAGES_MAX || (len >> PAGE_SHIFT) > FILE_PAGES_MAX - pgoff))
        return -EOVERFLOW;
    /* Too many mappings? (do_mmap: ">", so the count may reach max + 1) */
    if (t->mm->nvma > k->cfg.max_map_count)
        return -ENOMEM;
    /* get_unmapped_area's security_mmap_addr: below vm.mmap_min_addr
     * (no CAP_SYS_RAWIO in the guest's processes) */
    if (addr < k->cfg.mmap_min_addr)
        return -EPERM;
    /* MAP_FIXED: whatever was there goes first (mmap_region's munmap, with
     * its own limit). */
    if (munmap_over_map_count(k, t->mm, addr, addr + len))
        return -ENOMEM;
    /* shmem_zero_setup's shmem_acct_size: Linux charges the whole object
     * to the commit limit (__vm_enough_memory), and under its default
     * heuristic overcommit refuses with ENOMEM an object larger than RAM
     * plus swap. memvirt refuses only one past what its page cache can key
     * (FILE_PAGES_MAX pages, 16 TiB): beyond any guest's RAM (guest.ram_mb
     * is at most 1 TiB, no swap), so whatever is refused here Linux refuses
     * too; what lies between RAM and 16 TiB is accepted (as Linux with
     * overcommit_memory=1 or MAP_NORESERVE would). Refused before the old
     * range goes, so the call changes nothing (as Linux 6.12 on, whose
     * mmap_region restores the gathered VMAs: vms_abort_munmap_vmas). */
    if ((flags & MAP_SHARED) && (flags & MAP_ANON) && (len >> PAGE_SHIFT) > FILE_PAGES_MAX)
        return -ENOMEM;
    unmap_region(k, t->mm, addr, addr + len);
    struct vma v = { .start = addr, .end = addr + len, .flags = prot_to_vm(prot),
                     .file = file, .pgoff = pgoff };
    if (flags & MAP_SHARED)
        v.flags |= VM_SHARED;
    if ((flags & MAP_SHARED) && (flags & MAP_ANON)) {
        /* shmem_zero_setup: backed by a new anonymous shmem object of
         * the mapping's length, so a fork shares the pages faulted after
         * it too (the offset is 0) */
        v.file = shmem_zero_setup(k, len >> PAGE_SHIFT);
        v.pgoff = 0;
        v.flags |= VM_SHMEM;
    }
    if ((flags & MAP_HUGETLB) && k->pv->huge_capable)
        v.flags |= VM_HUGEPAGE;                /* else THP is unavailable: 4K pages */
    int rc = vma_insert(k, t->mm, &v);
    MV_ASSERT(rc == 0, "mmap range still occupied after unmap");
    vma_merge_around(k, t->mm, addr, addr + len);
    return (long)addr;
}

/* can_change_pte_writable (mm/mprotect.c, Linux 5.19 on; for a huge pmd
 * can_change_pmd_writable, the same rule): may mprotect make the entry
 * (its new flags f) writable at once, as the write fault would without a
 * second look? Asked where vma_wants_manual_pte_write_upgrade: a private
 * writable mapping (copy-on-write), or a shared one that wants write-notify
 * (of memvirt's, a regular file's: shmem's vm_page_prot carries write
 * itself). In a private mapping only for an anonymous page that is
 * exclusive (PageAnonExclusive: not shared copy-on-write since a fork; not
 * the zero page, not a file's page); in a shared one only for a dirty
 * entry (the filesystem was told of the write already). Linux's other
 * refusals do not arise here: soft-dirty tracking (no clear_refs in the
 * guest, so every VMA keeps VM_SOFTDIRTY) and userfaultfd write-protect. */
static int can_change_pte_writable(struct kernel *k, pte_t e, pte_t f, const struct vma *v)
{
    if (!(v->flags & VM_SHARED)) {
        const struct page *p = page_of(k, k->pv->entry_pfn(k, e));
        return (p->flags & PG_anon) && p->anon_exclusive;
    }
    return (f & _PAGE_DIRTY) != 0;
}

/* change_pte_range: drop write and exec at once. Where vm_page_prot carries
 * write (shmem, vma_page_prot_writable: pte_modify with PAGE_SHARED) every
 * entry becomes writable at once; elsewhere (MM_CP_TRY_CHANGE_WRITABLE)
 * those can_change_pte_writable allows, and the others wait for their
 * write fault (COW, write-notify). No access at all makes the
 * entry PROTNONE (pte_modify with PAGE_NONE): not present, frame kept; any
 * access back makes it present again. pte_modify reads the frame through
 * pte_pfn and builds the entry again (the L1TF inversion flipped on the way
 * to or from PROTNONE, flip_protnone_guard; under Xen PV the machine frame
 * of a present entry, the pseudo-physical one of a PROTNONE entry). */
static pte_t change_prot(struct kernel *k, pte_t e, const struct vma *v)
{
    const uint32_t vmf = v->flags;
    pte_t f = e & PTE_FLAGS_MASK;
    if (!(vmf & (VM_READ | VM_WRITE | VM_EXEC))) {
        f = (f & ~(_PAGE_PRESENT | _PAGE_RW)) | _PAGE_PROTNONE | _PAGE_NX;
    } else {
        if (pte_protnone(f))
            f = (f & ~_PAGE_PROTNONE) | _PAGE_PRESENT;
        if (!(vmf & VM_WRITE))
            f &= ~_PAGE_RW;
        else if (vma_page_prot_writable(v) || can_change_pte_writable(k, e, f, v))
            f |= _PAGE_RW;   /* pte_mkwrite: Dirty as it was */
        f = (vmf & VM_EXEC) ? (f & ~_PAGE_NX) : (f | _PAGE_NX);
    }
    if (f == (e & PTE_FLAGS_MASK))
        return e;
    return k->pv->make_entry(k, k->pv->entry_pfn(k, e), f);
}

/* pte_needs_flush (arch/x86/include/asm/tlbflush.h), for an entry
 * rewritten: an entry that was not present (PROTNONE) needs none;
 * otherwise a new frame, a cleared present or dirty bit, a set NX, or any
 * change of the bits that shape the translation needs the old one
 * flushed; a widening (NX cleared) does not: a stale entry then only
 * faults spuriously, and the fault drops it. The accessed bit is ignored,
 * as mprotect asks. */
static int pte_needs_flush(pte_t old, pte_t new)
{
    if (!(old & _PAGE_PRESENT))   /* not present (PROTNONE): nothing cached to flush */
        return 0;
    if (pte_frame(old) != pte_frame(new))
        return 1;
    pte_t diff = (old ^ new) & ~_PAGE_ACCESSED;
    const pte_t on_clear = _PAGE_PRESENT | _PAGE_DIRTY, on_set = _PAGE_NX,
                on_change = _PAGE_RW | _PAGE_USER | _PAGE_PWT | _PAGE_PCD | _PAGE_PSE | _PAGE_GLOBAL;
    return (diff & old & on_clear) || (diff & new & on_set) || (diff & on_change);
}

/* change_protection over one VMA whose flags changed: rewrite each present
 * entry whose protection changes, and add to span those whose old
 * translation must go (change_pmd_range: a huge page the VMA covers whole
 * goes through change_huge_pmd, one it covers in part is split first; then
 * change_pte_range for the table of each 2 MiB). change_pte_range enters
 * lazy MMU mode around its one table and leaves it after, so a Xen guest's
 * batch is sent table by table (xen_leave_lazy_mmu flushes it). */
static void change_protection(struct kernel *k, struct mm *mm, const struct vma *v, struct tlb_span *span)
{
    for (uint64_t va = v->start; va < v->end;) {
        uint64_t next = (va | (HPAGE_SIZE - 1)) + 1;
        if (next > v->end)
            next = v->end;
        unsigned pi;
        uint64_t pmd = pmd_table(k, mm, va, 0, &pi);
        if (!pmd) {                                 /* nothing in this 1 GiB, or 512 GiB */
            va = pt_none_end(k, mm, va, v->end);
            continue;
        }
        pte_t pe = kread_entry(k, pmd, pi);
        if (pte_mapped(pe) && (pe & _PAGE_PSE)) {
            uint64_t hs = va & ~(HPAGE_SIZE - 1);
            if (hs >= v->start && hs + HPAGE_SIZE <= v->end) {   /* change_huge_pmd */
                pte_t n = change_prot(k, pe, v);
                if (n != pe) {
                    guest_site(this_cpu(k), SITE_MPROTECT_PTE);
                    set_entry(k, mm, pmd, 2, pi, n);
                    if (pte_needs_flush(pe, n))
                        tlb_span_add(span, hs, HPAGE_SIZE, 2);
                }
                va = next;
                continue;
            }
            split_huge_pmd(k, mm, va);
        }
        uint64_t table = pte_table(k, mm, va, 0);
        if (!table) {                               /* nothing in this 2 MiB */
            va = next;
            continue;
        }
        const pte_t *tv = kmap_table(k, table);
        lazy_mmu_enter(k);
        for (uint64_t a = va; a < next; a += PAGE_SIZE) {
            unsigned idx = pt_index(a, 1);
            pte_t e = tv[idx];
            if (!pte_mapped(e))
                continue;
            pte_t n = change_prot(k, e, v);
            if (n != e) {
                guest_site(this_cpu(k), SITE_MPROTECT_PTE);
                set_entry(k, mm, table, 1, idx, n);
                if (pte_needs_flush(e, n))
                    tlb_span_add(span, a, PAGE_SIZE, 1);       /* tlb_flush_pte_range */
            }
        }
        lazy_mmu_leave(k);
        va = next;
    }
}

long sys_mprotect(struct kernel *k, struct task *t, uint64_t addr, uint64_t len, unsigned prot)
{
    stat_inc(k->st, CNT_mprotect);
    stat_charge(k->st, CYC_kernel, k->cost->syscall);
    struct mm *mm = t->mm;
    len = page_align(len);
    if (!range_ok(addr, len))
        return -EINVAL;
    uint64_t end = addr + len;
    /* Every page of the range must be mapped. */
    for (uint64_t a = addr; a < end;) {
        struct vma *v = find_vma(mm, a);
        if (!v)
            return -ENOMEM;
        a = v->end;
    }
    /* vm.max_map_count: mprotect_fixup splits a VMA at a boundary inside it
     * whose protection changes, and split_vma refuses when the count is at
     * the limit (checked for each split in turn; here both before anything
     * changes). A split Linux's vma_merge would avoid by extending the
     * neighbour is counted too: at the limit this refuses a little early. */
    uint32_t vmf = prot_to_vm(prot), splits = 0;
    const uint32_t rwx = VM_READ | VM_WRITE | VM_EXEC;
    const struct vma *sv = find_vma(mm, addr);
    if (sv->start < addr && (sv->flags & rwx) != vmf)
        splits++;
    sv = find_vma(mm, end);
    if (sv && sv->start < end && (sv->flags & rwx) != vmf)
        splits++;
    if (splits && mm->nvma + splits - 1 >= k->cfg.max_map_count)
        return -ENOMEM;
    /* do_mprotect_pkey: each VMA in turn; one whose flags stay as they are
     * is left alone, unsplit and unwalked (mprotect_fixup's early return);
     * the flush at the end covers only the entries that needed it. */
    struct tlb_span span = { 0 };
    int changed = 0;
    for (uint64_t a = addr; a < end;) {
        struct vma *v = find_vma(mm, a);
        uint64_t ve = v->end < end ? v->end : end;
        if ((v->flags & rwx) != vmf) {
            vma_split_at(k, mm, a);
            vma_split_at(k, mm, ve);
            v = find_vma(mm, a);
            v->flags = (v->flags & ~rwx) | vmf;
            change_protection(k, mm, v, &span);
            changed = 1;
        }
        a = ve;
    }
    if (changed)
        vma_merge_around(k, mm, addr, end);
    tlb_span_flush(k, mm, &span);
    return 0;
}

long sys_brk(struct kernel *k, struct task *t, uint64_t brk)
{
    struct mm *mm = t->mm;
    stat_inc(k->st, CNT_brk);
    stat_charge(k->st, CYC_kernel, k->cost->syscall);
    if (brk < mm->start_brk || brk >= USER_VA_END)
        return (long)mm->brk;
    uint64_t old = page_align(mm->brk), new = page_align(brk);
    if (new < old) {
        if (munmap_over_map_count(k, mm, new, old))
            return (long)mm->brk;
        unmap_region(k, mm, new, old);
    } else if (new > old) {
        /* check_brk_limits (below vm.mmap_min_addr), do_brk_flags: too many
         * mappings, or the range is taken */
        if (old < k->cfg.mmap_min_addr || mm->nvma > k->cfg.max_map_count || vma_intersects(mm, old, new))
            return (long)mm->brk;
        struct vma v = { .start = old, .end = new, .flags = VM_READ | VM_WRITE };
        int rc = vma_insert(k, mm, &v);
        MV_ASSERT(rc == 0, "brk range occupied");
        vma_merge_around(k, mm, old, new);
    }
    mm->brk = brk;
    return (long)brk;
}

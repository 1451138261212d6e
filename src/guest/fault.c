/* fault.c: the guest's page-fault handler (Linux arch/x86/mm/fault.c
 * do_user_addr_fault, mm/memory.c handle_mm_fault: do_anonymous_page,
 * do_fault, do_wp_page). Demand-zero, the shared zero page, page-cache pages,
 * private file COW, and copy-on-write after fork (reuse when the page is ours
 * alone, copy otherwise). Shared anonymous memory is shmem (shmem.c): its
 * faults are file faults, through the object's own cache; with no
 * write-notify its pages map writable on any fault, and a fault past the
 * object's size is SIGBUS. */
#include "guest/kernel.h"
#include "guest/pagecache.h"
#include "guest/shmem.h"
#include "guest/sites.h"
#include "lib/err.h"
#include <errno.h>

static pte_t user_flags(const struct vma *v, int writable, int dirty)
{
    pte_t f = _PAGE_PRESENT | _PAGE_USER | _PAGE_ACCESSED;
    if (writable)
        f |= _PAGE_RW;
    if (dirty)
        f |= _PAGE_DIRTY;
    if (!(v->flags & VM_EXEC))
        f |= _PAGE_NX;
    return f;
}

static uint64_t file_page(struct kernel *k, const struct vma *v, uint64_t va)
{
    uint64_t pgoff = v->pgoff + ((va - v->start) >> PAGE_SHIFT);
    if (v->flags & VM_SHMEM)
        return shmem_page(k, v->file, pgoff);      /* shmem_fault */
    uint64_t pfn = pagecache_lookup(k->pcache, v->file, pgoff);
    if (pfn == UINT64_MAX) {
        /* Read from the file: a page-cache page, referenced by the cache. */
        pfn = kalloc_page(k, PG_cache);
        stat_inc(k->st, CNT_page_copy);
        stat_charge(k->st, CYC_zero_copy, k->cost->page_copy);
        pagecache_insert(k->pcache, v->file, pgoff, pfn);
    }
    return pfn;
}

/* fault_around_bytes in pages, as Linux's debugfs setter keeps it: rounded
 * down to a power of two, at least one (one: no fault-around). */
static unsigned fault_around_pages(const struct kernel *k)
{
    uint64_t b = k->cfg.fault_around_bytes >> PAGE_SHIFT;
    unsigned n = 1;
    while ((uint64_t)n * 2 <= b)
        n *= 2;
    return n;
}

/* do_fault_around with filemap_map_pages (Linux mm/memory.c, mm/filemap.c),
 * before a read fault on a file page reads it: in the fault's window of
 * fault_around_pages entries (aligned to its size, inside the VMA and the
 * PTE table), map every page the file's cache (shmem's, below its size)
 * already holds, where the entry is still none. Returns 1 if that mapped
 * the faulting page (VM_FAULT_NOPAGE): the fault is done. No page is read,
 * and none is marked accessed (the LRU order stays). Each entry is set as
 * the fault's own would be (set_pte_range: read-only unless vm_page_prot
 * carries write, dirty only if the page is), by its own set_ptes: Linux
 * enters and leaves lazy MMU mode around each, so under Xen PV each is one
 * mmu_update, and under tsp a store to a table still shadowed traps. */
static int fault_around(struct kernel *k, struct mm *mm, struct vma *v, uint64_t va, uint64_t table)
{
    uint64_t nr = fault_around_pages(k);
    if (nr <= 1)
        return 0;
    uint64_t pte_off = pt_index(va, 1), vma_off = (va - v->start) >> PAGE_SHIFT;
    uint64_t vma_pages = (v->end - v->start) >> PAGE_SHIFT;
    uint64_t from = pte_off & ~(nr - 1), first = pte_off - (vma_off < pte_off ? vma_off : pte_off);
    if (from < first)
        from = first;                                 /* not below the VMA's start */
    uint64_t to = from + nr;                          /* nr entries from there, as Linux counts them */
    if (to > PTRS_PER_TABLE)
        to = PTRS_PER_TABLE;
    if (to > pte_off + vma_pages - vma_off)
        to = pte_off + vma_pages - vma_off;           /* nor past its end */
    uint64_t base = va - (pte_off << PAGE_SHIFT);     /* the table's first address */
    int writable = vma_page_prot_writable(v), hit = 0;
    for (uint64_t i = from; i < to; i++) {
        if (kread_entry(k, table, (unsigned)i))
            continue;                                 /* not none: left to its own fault */
        uint64_t addr = base + (i << PAGE_SHIFT), pgoff = v->pgoff + ((addr - v->start) >> PAGE_SHIFT);
        uint64_t pfn = (v->flags & VM_SHMEM) ? shmem_peek(k, v->file, pgoff)
                                             : pagecache_peek(k->pcache, v->file, pgoff);
        if (pfn == UINT64_MAX)
            continue;
        page_get(k, pfn);
        mm->rss++;
        if (i == pte_off) {
            hit = 1;
        } else {
            stat_inc(k->st, CNT_pf_around);
            stat_charge(k->st, CYC_fault, k->cost->fault_around_page);
        }
        guest_site(this_cpu(k), SITE_FAULT_AROUND);
        set_entry(k, mm, table, 1, (unsigned)i,
                  k->pv->make_entry(k, pfn, user_flags(v, writable, writable && page_of(k, pfn)->dirty)));
        /* update_mmu_cache_range over the pages set_pte_range mapped (the
         * faulting page's flush is handle_mm_fault's, below) */
        if (i != pte_off && k->cfg.flush_after_fault)
            flush_tlb_page(k, mm, addr);
    }
    return hit;
}

/* do_wp_page: a write to a present, read-only PTE of a writable VMA. */
static void do_wp_page(struct kernel *k, struct mm *mm, struct vma *v, uint64_t va,
                       uint64_t table, unsigned idx, pte_t e)
{
    uint64_t old = k->pv->entry_pfn(k, e);
    struct page *p = page_of(k, old);
    stat_inc(k->st, CNT_pf_cow);
    if ((v->flags & VM_SHARED) || ((p->flags & PG_anon) && p->count == 1)) {
        /* wp_page_shared / wp_page_reuse: a shared mapping, or an anonymous
         * page that is ours alone: make it writable in place (an upgrade:
         * no flush, a stale read-only TLB entry just faults spuriously). */
        if (p->flags & PG_cache)
            p->dirty = 1;                      /* set_page_dirty */
        else if (!(v->flags & VM_SHARED))
            p->anon_exclusive = 1;             /* wp_can_reuse_anon_folio: SetPageAnonExclusive */
        guest_site(this_cpu(k), SITE_WP_PTE);
        set_entry(k, mm, table, 1, idx, e | _PAGE_RW | _PAGE_DIRTY | _PAGE_ACCESSED);
        return;
    }
    /* wp_page_copy */
    uint64_t new;
    if (old == k->zero_pfn) {
        new = kalloc_page(k, PG_anon);
    } else {
        new = kalloc_page(k, PG_anon | KALLOC_NOZERO);
        stat_inc(k->st, CNT_page_copy);
        stat_charge(k->st, CYC_zero_copy, k->cost->page_copy);
    }
    v->flags |= VM_ANONVMA;
    guest_site(this_cpu(k), SITE_WP_PTE);
    pte_store_direct(k, table, idx, 0);        /* ptep_clear_flush */
    flush_tlb_page(k, mm, va);
    guest_site(this_cpu(k), SITE_WP_PTE);
    set_entry(k, mm, table, 1, idx, k->pv->make_entry(k, new, user_flags(v, 1, 1)));
    if (old != k->zero_pfn)
        page_put(k, old);
}

static inline __attribute__((always_inline)) int __handle_mm_fault(struct kernel *k, struct mm *mm, uint64_t va,
                                                                  enum access acc)
{
    struct vma *v = find_vma(mm, va);
    if (!v || (acc == ACC_WRITE && !(v->flags & VM_WRITE)) ||
        (acc == ACC_EXEC && !(v->flags & VM_EXEC)) ||
        (acc == ACC_READ && !(v->flags & (VM_READ | VM_WRITE | VM_EXEC)))) {
        k->segv_code = v ? KSEGV_ACCERR : KSEGV_MAPERR;   /* bad_area / bad_area_access_error */
        stat_inc(k->st, CNT_segv);
        return -EFAULT;
    }
    stat_charge(k->st, CYC_fault, k->cost->fault_handle);
    /* shmem_fault past the object's size (a mapping grown by mremap):
     * VM_FAULT_SIGBUS, do_sigbus. No page there was ever mapped (the size
     * never shrinks), so this is decided before the tables are walked;
     * Linux has allocated the upper tables by then, memvirt allocates
     * none (the process dies either way). */
    if ((v->flags & VM_SHMEM) && v->pgoff + ((va - v->start) >> PAGE_SHIFT) >= shmem_size(k, v->file)) {
        k->segv_code = KSIGBUS_ADRERR;
        stat_inc(k->st, CNT_segv);
        return -EFAULT;
    }
    if ((v->flags & VM_HUGEPAGE) && do_huge_pmd_fault(k, mm, v, va, acc))
        return 0;
    uint64_t page_va = va & ~(PAGE_SIZE - 1);
    uint64_t table = pte_table(k, mm, page_va, 1);
    unsigned idx = pt_index(page_va, 1);
    pte_t e = kread_entry(k, table, idx);

    /* Linux's do_numa_page aside (not modelled), mprotect keeps a PROTNONE
     * entry only in a VMA with no access, which faulted above. */
    MV_ASSERT(!pte_protnone(e), "fault on a PROTNONE pte at %#llx of an accessible VMA",
              (unsigned long long)va);
    if (pte_present(e)) {
        if (acc == ACC_WRITE && !(e & _PAGE_RW))
            do_wp_page(k, mm, v, page_va, table, idx, e);
        return 0;   /* otherwise: already resolved (spurious) */
    }

    uint64_t pfn;
    int writable = 0, dirty = 0;
    if (!v->file) {
        stat_inc(k->st, CNT_pf_anon);
        if (acc != ACC_WRITE && k->cfg.zero_page && !(v->flags & VM_SHARED)) {
            pfn = k->zero_pfn;             /* do_anonymous_page: my_zero_pfn */
        } else {
            pfn = kalloc_page(k, PG_anon);
            v->flags |= VM_ANONVMA;
            writable = dirty = (v->flags & VM_WRITE) != 0;
        }
    } else {
        stat_inc(k->st, CNT_pf_file);
        if (acc != ACC_WRITE && fault_around(k, mm, v, page_va, table))
            return 0;                      /* do_read_fault: map_pages mapped it */
        uint64_t cache = file_page(k, v, page_va);
        if (acc == ACC_WRITE && !(v->flags & VM_SHARED)) {
            /* do_cow_fault: a private copy of the file page, held while
             * the copy is allocated (reclaim may run there, and would
             * otherwise take the page being copied) */
            page_get(k, cache);
            pfn = kalloc_page(k, PG_anon | KALLOC_NOZERO);
            page_put(k, cache);
            stat_inc(k->st, CNT_page_copy);
            stat_charge(k->st, CYC_zero_copy, k->cost->page_copy);
            v->flags |= VM_ANONVMA;
            writable = dirty = 1;
        } else {
            /* set_pte_range: the entry from vm_page_prot, made writable and
             * dirty by a write fault (whose fault_dirty_shared_page marks
             * the page dirty); a read fault maps it writable only where
             * vm_page_prot carries write (shmem: vma_page_prot_writable),
             * and dirty only if the page already is (Linux since 2025's
             * "mm: set the pte dirty if the folio is already dirty"; a
             * clean entry's first write has the hardware set Dirty, no
             * fault). A regular file's read fault maps it read-only: the
             * first write faults for write-notify (do_wp_page). */
            pfn = cache;
            page_get(k, pfn);
            struct page *p = page_of(k, pfn);
            if (acc == ACC_WRITE) {
                writable = dirty = 1;
                p->dirty = 1;
            } else if (vma_page_prot_writable(v)) {
                writable = 1;
                dirty = p->dirty;
            }
        }
    }
    mm->rss++;
    guest_site(this_cpu(k), SITE_FAULT_SET_PTE);
    set_entry(k, mm, table, 1, idx, k->pv->make_entry(k, pfn, user_flags(v, writable, dirty)));
    return 0;
}

/* With guest.flush_after_fault, the guest flushes the page a fault has
 * mapped, as RISC-V Linux's update_mmu_cache does (an SFENCE.VMA after
 * installing an entry, in every fault handler: the user fault's, and
 * get_user_pages' on exec's new stack; on an mm not loaded here the flush
 * is the generation bump flush_tlb_page makes). x86 Linux flushes nothing
 * when an entry becomes present. */
int handle_mm_fault(struct kernel *k, struct mm *mm, uint64_t va, enum access acc)
{
    int rc = __handle_mm_fault(k, mm, va, acc);
    if (!rc && k->cfg.flush_after_fault)
        flush_tlb_page(k, mm, va & ~(uint64_t)(PAGE_SIZE - 1));
    return rc;
}

int do_page_fault(struct kernel *k, uint64_t va, uint32_t pfec)
{
    stat_inc(k->st, CNT_guest_pf);
    stat_charge(k->st, CYC_fault, k->cost->fault_entry);
    MV_ASSERT(k->current && k->current->mm, "user fault with no current task");
    if (pfec & PFEC_RSVD) {      /* a corrupt table (Linux: pgtable_bad, the task killed) */
        k->segv_code = KSEGV_PTBAD;
        stat_inc(k->st, CNT_segv);
        return -EFAULT;
    }
    enum access acc = (pfec & PFEC_W) ? ACC_WRITE : (pfec & PFEC_I) ? ACC_EXEC : ACC_READ;
    return handle_mm_fault(k, k->current->mm, va, acc);
}

int user_access_fault(struct kernel *k, uint64_t va, enum access acc, uint64_t *mfn, uint32_t pfec)
{
    struct cpu *c = this_cpu(k);
    for (int tries = 0; tries < 8; tries++) {
        if (tries && !(pfec = cpu_access(c, va, acc, mfn)))
            return 0;
        int hv = cpu_raise_pf(c, va, pfec, mfn);
        if (hv == 2)
            return 0;            /* the hypervisor emulated the access */
        if (hv)
            continue;            /* the hypervisor resolved it */
        k->in_kernel = 1;        /* the fault enters the kernel (exc_page_fault) */
        if (do_page_fault(k, va, c->inject_pfec))
            return -EFAULT;
        kernel_exit_to_user(k);  /* IRET: the access is retried in user mode */
    }
    MV_ASSERT(0, "access to %#llx still faulting after the kernel resolved it", (unsigned long long)va);
    return -EFAULT;
}

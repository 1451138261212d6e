/* kernel.h: the guest kernel: its state, its page metadata, and the paravirt
 * MMU interface through which it touches page tables and TLBs.
 *
 * One guest kernel serves every mode. What differs between bare metal and a
 * Xen PV guest lives behind struct pv_mmu_ops, a table of function pointers
 * like Linux's pv_ops.mmu: the native backend (pvops_native.c) does plain
 * stores and privileged instructions; the Xen backend (pvops_xen.c) batches
 * hypercalls. Modelled on Linux: mm/memory.c, mm/mmap.c, kernel/fork.c,
 * fs/exec.c, arch/x86/mm/tlb.c, arch/x86/xen/mmu_pv.c. */
#ifndef MV_GUEST_KERNEL_H
#define MV_GUEST_KERNEL_H
#include "guest/buddy.h"
#include "hw/cpu.h"
#include "lib/instr.h"
#include "lib/param.h"
#include "lib/range_tree.h"
#include "lib/sparse.h"
#include <setjmp.h>
#include <stdint.h>

struct kernel;
struct mm;
struct ptcache;

/* Guest kernel configuration (--param guest.*). */
struct kconfig {
    uint64_t ram_mb;            /* guest RAM */
    int      pcid;              /* use PCIDs (6 per CPU, as Linux) where the backend allows */
    uint64_t flush_ceiling;     /* tlb_single_page_flush_ceiling */
    uint64_t kernel_pgd_slots;  /* kernel-half pgd entries every address space shares */
    int      zero_page;         /* read faults on anonymous memory map the shared zero page */
    char     pt_cache[PARAM_STR_MAX]; /* PiBooster's cache at boot: auto (on if offered) | on | off */
    uint64_t pt_cache_ratio;    /* PiBooster shrink threshold: in_pool / in_use (percent) */
    uint64_t pt_cache_total;    /* PiBooster shrink threshold: in_pool + in_use (pages) */
    /* vm.max_map_count (Linux mm/mmap.c sysctl_max_map_count): VMAs one
     * address space may have (guest.max_map_count); 0 at boot, in a
     * kconfig made by hand, means DEFAULT_MAX_MAP_COUNT. */
    uint64_t max_map_count;
    /* vm.mmap_min_addr (Linux mm/util.c, security/min_addr.c): no user
     * mapping starts below it (guest.mmap_min_addr; Debian's 65536). */
    uint64_t mmap_min_addr;
    /* Linux 4.19's L1TF mitigation: a not-present entry's frame bits are
     * stored inverted (guest.l1tf_invert; false: an older kernel). */
    int      l1tf_invert;
    /* fault_around_bytes (Linux mm/memory.c, its debugfs file): a read
     * fault on a file page also maps the pages of its aligned window of this
     * many bytes that are already cached (guest.fault_around_bytes; rounded
     * down to a power of two, as Linux does; a page or less: off, the
     * default, as before Linux 3.15 brought it with 64 KiB). */
    uint64_t fault_around_bytes;
    /* Flush each page a fault maps (the faulting one, and those
     * fault-around maps) after mapping it, as RISC-V Linux's
     * update_mmu_cache_range (an eager SFENCE.VMA) does and x86's does not
     * (guest.flush_after_fault). */
    int      flush_after_fault;
    /* Not a parameter: what the hypervisor offers (Xen: XENVER_get_features). */
    int      ptcache_offered;   /* the hypervisor has PiBooster's cache flag */
};
extern const struct param_group kconfig_params;
#define DEFAULT_MAX_MAP_COUNT 65530   /* Linux include/linux/mm.h: USHRT_MAX - MAPCOUNT_ELF_CORE_MARGIN */

/* struct page: what the guest kernel knows of each of its frames. Kept in a
 * sparse array, so only frames ever used cost memory. */
#define PG_used     0x01   /* allocated (not in the buddy allocator) */
#define PG_pgtable  0x02   /* a page-table page (level in `level`) */
#define PG_anon     0x04   /* anonymous data */
#define PG_cache    0x08   /* page-cache page (file data) */
#define PG_zero     0x10   /* the shared zero page */
#define PG_ptcache  0x20   /* held by the PiBooster page-table cache (in a pool) */
#define PG_pinned   0x40   /* Xen PV: pinned (PagePinned) */
#define PG_huge     0x80   /* head of a 2 MiB anonymous page (512 frames; count on the head) */
struct page {
    uint32_t count;        /* references: mappings + page cache + kernel */
    uint8_t  flags;
    uint8_t  level;        /* page-table level if PG_pgtable */
    uint8_t  dirty;        /* PG_cache: written through a shared mapping (no writeback is
                              modelled: it stays dirty, so reclaim never takes it) */
    uint8_t  anon_exclusive;   /* PG_anon (a huge page: on its head): PageAnonExclusive, mapped
                              by one address space alone, not shared copy-on-write. A new
                              page has it (folio_add_new_anon_rmap's RMAP_EXCLUSIVE), fork
                              clears it (folio_try_dup_anon_rmap), a write fault that
                              reuses the page sets it again (do_wp_page); mprotect makes
                              an entry of such a page writable at once */
};

/* Process address space. */
#define VM_READ     0x1
#define VM_WRITE    0x2
#define VM_EXEC     0x4
#define VM_SHARED   0x8
#define VM_GROWSDOWN 0x10
#define VM_ANONVMA  0x20   /* has (had) anonymous/COW pages: fork must copy its ptes */
#define VM_HUGEPAGE 0x40   /* back aligned 2 MiB regions with huge pages (THP) */
#define VM_SHMEM    0x80   /* shared anonymous memory: `file` is a shmem object id (shmem.c) */

struct vma {
    uint64_t start, end;   /* [start, end), page aligned */
    uint32_t flags;        /* VM_* */
    uint32_t file;         /* 0: anonymous; else inode number (VM_SHMEM: shmem object id) */
    uint64_t pgoff;        /* file offset of start, in pages */
};

/* Whether the VMA's vm_page_prot carries write, so that a fault of any
 * kind, and mprotect, map its pages writable at once (mm/mmap.c
 * vma_set_page_prot, vma_wants_writenotify): a shared writable mapping
 * whose backing needs no write notification. Of memvirt's mappings that is
 * shmem (no page_mkwrite, no writeback: no dirty accounting). A regular
 * file's shared mapping keeps write-notify (its filesystem tracks dirty
 * pages: the first write to a page takes a fault), and a private mapping
 * is copy-on-write (do_anonymous_page adds write itself). */
static inline int vma_page_prot_writable(const struct vma *v)
{
    const uint32_t want = VM_WRITE | VM_SHARED | VM_SHMEM;
    return (v->flags & want) == want;
}

/* A VMA in its address space's tree (vma.c; lib/range_tree.h): find_vma
 * and the walks below hand out &node->vma, which stays where it is while
 * other VMAs come and go (until its own is removed or merged away). */
struct vma_node {
    RB_ENTRY(vma_node) vm_rb;
    struct vma vma;
};
RB_HEAD(vma_rb, vma_node);

#define MAX_CPUS 64
struct mm {
    uint64_t id;           /* unique, never reused */
    uint64_t pgd;          /* guest frame of the L4 */
    uint64_t user_pgd;     /* Xen PV x86-64: the user-mode L4 (0 if none) */
    /* The VMAs, non-overlapping, by address: a red-black tree (Linux
     * before 6.1: mm_rb; since: the maple tree mm_mt), and how many
     * there are (Linux's map_count, which vm.max_map_count bounds). */
    struct vma_rb mm_rb;
    uint32_t nvma;
    uint64_t start_brk, brk;
    uint64_t rss;          /* data pages mapped */
    uint64_t pt_pages;     /* page-table pages, all levels */
    uint64_t tlb_gen;      /* bumped by every flush request (PCID bookkeeping) */
    uint64_t cpumask;      /* CPUs that may hold its translations */
    uint32_t users;        /* tasks using it */
    int      pinned;       /* Xen PV: pinned */
};

struct task {
    uint32_t pid;          /* first: the key of the task tree (lib/tree.h) */
    uint32_t ppid;
    struct mm *mm;
};

/* Paravirt MMU operations. The kernel calls these where Linux calls pv_ops. */
struct pv_mmu_ops {
    const char *name;
    /* make_pte / pte_val: entry <-> guest frame */
    pte_t    (*make_entry)(struct kernel *k, uint64_t pfn, uint64_t flags);
    uint64_t (*entry_pfn)(struct kernel *k, pte_t e);
    /* set_pte / set_pmd / set_pud / set_pgd */
    void (*set_entry)(struct kernel *k, struct mm *mm, uint64_t table, unsigned lvl,
                      unsigned idx, pte_t e);
    /* pgd_alloc / pgd_free extras (Xen: the user pgd) */
    void (*pgd_alloc)(struct kernel *k, struct mm *mm);
    void (*pgd_free)(struct kernel *k, struct mm *mm);
    /* paravirt_alloc_pte/pmd/pud and paravirt_release_* */
    void (*alloc_pt)(struct kernel *k, struct mm *mm, uint64_t pfn, unsigned lvl);
    void (*release_pt)(struct kernel *k, struct mm *mm, uint64_t pfn, unsigned lvl);
    /* address-space lifecycle hooks (Xen: pin and unpin) */
    void (*activate_mm)(struct kernel *k, struct mm *prev, struct mm *next);
    void (*dup_mmap)(struct kernel *k, struct mm *oldmm, struct mm *mm);
    void (*exit_mmap)(struct kernel *k, struct mm *mm);
    /* load an address space */
    void (*write_cr3)(struct kernel *k, struct mm *mm, uint16_t pcid, int noflush);
    /* TLB maintenance */
    void (*flush_tlb_one_user)(struct kernel *k, uint64_t va);
    void (*flush_tlb_local)(struct kernel *k);
    void (*flush_tlb_multi)(struct kernel *k, uint64_t cpumask, struct mm *mm,
                            uint64_t start, uint64_t end);
    /* lazy MMU mode (batching) */
    void (*lazy_mmu_enter)(struct kernel *k);
    void (*lazy_mmu_leave)(struct kernel *k);
    /* The return to user mode (Linux's paravirt iret: Xen's xen_iret, the
     * iret hypercall; xen_sysret64 after a system call in kernels before
     * 5.x, the same hypercall). NULL: SYSRET or IRET, nothing to add. */
    void (*iret)(struct kernel *k);
    /* PiBooster: tell the hypervisor the cache is on / off, and release
     * cached pages (clear the flag, map back into the IOMMU, flush). */
    void (*ptcache_ctl)(struct kernel *k, int enable);
    void (*ptcache_release)(struct kernel *k, const uint64_t *pfns, unsigned n);
    /* Can this backend use PCIDs? 2 MiB pages in user tables? */
    int pcid_capable;
    int huge_capable;
};

extern const struct pv_mmu_ops pv_native_ops;

/* Per-CPU state (arch/x86/mm/tlb.c: cpu_tlbstate). */
#define NR_ASIDS 6
struct percpu {
    struct cpu *cpu;
    struct mm *loaded_mm;
    struct { uint64_t mm_id, gen; } asid[NR_ASIDS];
    unsigned next_asid;
    unsigned cur_asid;
};

/* The addresses a batch of page-table changes leaves stale, as Linux's
 * mmu_gather keeps them (include/asm-generic/tlb.h: start, end, cleared_*):
 * [start, end) grows by each cleared or narrowed leaf (a page, or a huge
 * page's 2 MiB) and by one page at the address of each freed table;
 * `cleared` has bit lvl-1 set for each level changed (a freed table clears
 * an entry of the level above it), and the smallest gives the stride of the
 * flush (tlb_get_unmap_shift). Empty (end == 0): nothing to flush. */
struct tlb_span {
    uint64_t start, end;
    unsigned cleared;
};

struct kernel {
    struct kconfig cfg;
    struct mv_stats *st;
    const struct cost *cost;
    struct percpu pcpu[1];       /* one vCPU for now; per-CPU parts stay per-CPU */
    unsigned ncpus;
    struct buddy buddy;
    sparse_t pages;              /* pfn -> struct page */
    uint64_t nr_pages;
    const struct pv_mmu_ops *pv;
    void *pv_ctx;                /* backend state (Xen: multicall buffer ...) */
    struct ptcache *ptc;         /* PiBooster page-table cache, or NULL */
    struct mm init_mm;           /* kernel-only address space (swapper_pg_dir) */
    uint64_t kernel_l3[4];       /* shared kernel-half tables */
    uint64_t zero_pfn;
    /* The tasks by pid: a balanced tree (lib/tree.h), so that no
     * choice of pids in a trace makes finding one cost more than log n
     * (a hash by pid mod 1024 took 6-20 s for 50,000 threads whose pids
     * shared the remainder). */
    void *tasks;
    uint32_t ntasks;
    struct task *current;
    uint64_t next_mm_id;
    struct pagecache *pcache;
    /* shared anonymous memory (shmem.c): its own page cache, which reclaim
     * never scans, and its objects by id (1..nshm; id 0 is unused) */
    struct pagecache *shm_cache;
    struct shmem_obj *shm;
    uint32_t nshm, capshm, shm_free;
    /* Out of memory (page_alloc.c, after reclaim): where the kernel's caller
     * set up to be returned to (longjmp), abandoning the operation under
     * way: the run is over, the kernel is only shut down after it. NULL:
     * one message and exit(3). */
    jmp_buf *oom;
    struct mm *mm_new;           /* an mm being built (exec, fork), not yet a task's: shutdown frees it */
    int lazy_mmu;
    /* The CPU is in the kernel: entered from user mode (a system call, a
     * fault) or switching tasks, and not yet back (kernel_exit_to_user). */
    int in_kernel;
    uint64_t data_pages;         /* data/page-cache frames in use */
    int segv_code;               /* why the last fault was fatal: KSEGV_* (SIGSEGV) or KSIGBUS_ADRERR, as Linux's si_code */
    /* mmu_gather: pages unmapped or tables unlinked, freed only after the TLB
     * flush that makes them unreachable (mm/mmu_gather.c). */
    uint64_t *dma_buf;           /* driver buffers (pfns) */
    unsigned ndma_buf;
    struct {
        uint64_t *data;
        uint64_t nd, capd;
        struct { uint64_t pfn; unsigned lvl; } *tab;
        uint64_t nt, capt;
        struct tlb_span span;    /* what the flush at the end must cover */
    } gather;
};

/* Boot: RAM from cfg, the given paravirt backend, CPU already set up. */
int  kernel_boot(struct kernel *k, const struct kconfig *cfg, struct cpu *cpu,
                 struct mv_stats *st, const struct cost *cost,
                 const struct pv_mmu_ops *pv, void *pv_ctx);
/* Drops the page cache and frees the kernel's structures. Returns the number
 * of frames still allocated beyond the boot tables and the zero page: every
 * other frame must be back in the buddy allocator (0 = nothing leaked). */
uint64_t kernel_shutdown(struct kernel *k);

static inline struct page *page_of(struct kernel *k, uint64_t pfn)
{
    return (struct page *)sparse_get(&k->pages, pfn);
}
static inline struct cpu *this_cpu(struct kernel *k) { return k->pcpu[0].cpu; }

/* Frames (page_alloc.c). */
#define KALLOC_NOZERO 0x100                              /* caller fills it (COW copy) */
uint64_t kalloc_page(struct kernel *k, unsigned flags);  /* zeroed if PG_anon */
uint64_t kalloc_huge(struct kernel *k, unsigned flags);  /* 512 frames, head flagged PG_huge */
/* clear_page's (copy_page's) stores that trap into a write-protected frame:
 * a rep of elem-byte iterations (clear_page_erms and copies from a file:
 * 1; copy_page: 8) */
void     clear_page_stores(struct kernel *k, uint64_t pfn, unsigned elem);
void     page_get(struct kernel *k, uint64_t pfn);
void     page_put(struct kernel *k, uint64_t pfn);

/* Guest kernel loads of table entries. The kernel never indexes past a
 * table (the CPU would answer such a load with all ones, which a caller
 * testing for a none entry would take for a present one and skip). */
static inline pte_t kread_entry(struct kernel *k, uint64_t table, unsigned idx)
{
    MV_ASSERT(idx < PTRS_PER_TABLE, "kernel read of entry %u of table %#llx", idx, (unsigned long long)table);
    return cpu_load(this_cpu(k), table, idx);
}

/* The 512 entries of a table, read-only, for loops over a whole table (one
 * translation instead of one per entry). Stores to the table (set_entry,
 * pte_store_direct) show through it; it stays valid while the frame is a
 * table. */
const pte_t *kmap_table(struct kernel *k, uint64_t table);

/* Page-table pages and entries (pgtable.c). */
uint64_t pt_alloc(struct kernel *k, struct mm *mm, unsigned lvl);
void     pt_free(struct kernel *k, struct mm *mm, uint64_t pfn, unsigned lvl);
void     set_entry(struct kernel *k, struct mm *mm, uint64_t table, unsigned lvl, unsigned idx, pte_t e);
/* Find the L1 table covering va, allocating missing levels if alloc. 0 if
 * absent, or if va is mapped by a huge page (see pmd_entry). */
uint64_t pte_table(struct kernel *k, struct mm *mm, uint64_t va, int alloc);
/* The L2 table covering va (allocating missing levels if alloc; 0 if absent)
 * and the index of va's entry in it. */
uint64_t pmd_table(struct kernel *k, struct mm *mm, uint64_t va, int alloc, unsigned *idx);
/* The same one level up: the L3 table covering va and va's index in it. */
uint64_t pud_table(struct kernel *k, struct mm *mm, uint64_t va, int alloc, unsigned *idx);
/* Where va's 1 GiB has no L2 table (pmd_table found none): the end of the
 * empty stretch, the next 1 GiB boundary, or the next 512 GiB one where
 * va's L4 entry is empty too (Linux's walkers skip pgd_none and p4d_none
 * entries whole); at most end. */
uint64_t pt_none_end(struct kernel *k, struct mm *mm, uint64_t va, uint64_t end);
/* Split the huge mapping of va's 2 MiB region into 512 PTEs (thp.c). */
void split_huge_pmd(struct kernel *k, struct mm *mm, uint64_t va);
/* Huge-page faults and copy (thp.c): 1 if handled. */
int  do_huge_pmd_fault(struct kernel *k, struct mm *mm, struct vma *v, uint64_t va, enum access acc);
void copy_huge_pmd(struct kernel *k, struct mm *dst, struct mm *src, uint64_t va, int cow);
#define HPAGE_SIZE (1ull << 21)
/* Free page-table pages wholly inside [start, end) that no VMA needs any more. */
void     free_pgtables(struct kernel *k, struct mm *mm, uint64_t start, uint64_t end);
int      pgd_alloc(struct kernel *k, struct mm *mm);
void     pgd_free(struct kernel *k, struct mm *mm);
void     lazy_mmu_enter(struct kernel *k);
void     lazy_mmu_leave(struct kernel *k);
#define  PT_TABLE_FLAGS (_PAGE_PRESENT | _PAGE_RW | _PAGE_USER | _PAGE_ACCESSED | _PAGE_DIRTY)
/* PROT_NONE (Linux arch/x86/include/asm/pgtable_types.h _PAGE_PROTNONE): a
 * user leaf of a VMA with no access is not present to the hardware, so every
 * access faults, but keeps its frame, marked by the global bit (meaningless
 * in a not-present entry); zap, fork, mremap, mprotect and the checks still
 * see the page. pte_mapped is Linux's pte_present (present or PROTNONE);
 * the hardware's present bit is pte_present (hw/pte.h). */
#define  _PAGE_PROTNONE _PAGE_GLOBAL
static inline int pte_protnone(pte_t e) { return (e & (_PAGE_PRESENT | _PAGE_PROTNONE)) == _PAGE_PROTNONE; }
static inline int pte_mapped(pte_t e) { return (e & (_PAGE_PRESENT | _PAGE_PROTNONE)) != 0; }
/* Linux's L1TF mitigation (4.19 on, arch/x86/include/asm/pgtable-invert.h):
 * a non-zero entry that is not present (PROTNONE; swap entries are not
 * modelled) holds its frame bits inverted (__pte_needs_invert), so the
 * address a speculating CPU would look up lies far above RAM. pfn_pte
 * inverts by the flags it is given, pte_pfn undoes it by the entry's own
 * (protnone_mask); a 2 MiB entry inverts only the bits of a 2 MiB frame
 * (pfn_pmd, PHYSICAL_PMD_PAGE_MASK). Both backends' make_entry and
 * entry_pfn go through it, so every reader of a PROTNONE entry's frame (zap,
 * fork's copy, mremap, THP, mprotect making it present again, the
 * self-check) gets the frame back. guest.l1tf_invert=false is a kernel
 * before the mitigation: the frame as it is. */
#define  PMD_FRAME_MASK (PTE_FRAME_MASK & ~((1ull << 21) - 1))
static inline int pte_needs_invert(pte_t e) { return e && !(e & _PAGE_PRESENT); }
static inline pte_t protnone_mask(const struct kernel *k, pte_t e)
{
    if (!k->cfg.l1tf_invert || !pte_needs_invert(e))
        return 0;
    return (e & _PAGE_PSE) ? PMD_FRAME_MASK : PTE_FRAME_MASK;
}

/* TLB flushing (tlbflush.c), where Linux issues them. */
void flush_tlb_page(struct kernel *k, struct mm *mm, uint64_t va);
void flush_tlb_range(struct kernel *k, struct mm *mm, uint64_t start, uint64_t end);
void flush_tlb_mm(struct kernel *k, struct mm *mm);
/* Grow span by [addr, addr + size) for an entry of level lvl (1: a PTE, 2: a
 * PMD ...); flush what it covers (nothing if empty) and empty it. */
void tlb_span_add(struct tlb_span *s, uint64_t addr, uint64_t size, unsigned lvl);
void tlb_span_flush(struct kernel *k, struct mm *mm, struct tlb_span *s);
void switch_mm(struct kernel *k, struct mm *prev, struct mm *next);

/* Address spaces (mm.c, vma.c). */
struct mm *mm_alloc(struct kernel *k);
void       mmput(struct kernel *k, struct mm *mm);
struct vma *find_vma(struct mm *mm, uint64_t va);           /* vma containing va, or NULL */
/* The VMAs in address order (vma.c): the first; the first that ends past
 * va (Linux's find_vma); the one after / before v (v: a VMA of the tree,
 * never a copy); NULL past the ends. */
struct vma *vma_first(struct mm *mm);
struct vma *vma_first_after(struct mm *mm, uint64_t va);
struct vma *vma_next(struct vma *v);
struct vma *vma_prev(struct vma *v);
/* Every VMA of mm; those that meet [start, end). The loop's body must not
 * remove or merge v (Linux's for_each_vma, for_each_vma_range). */
#define for_each_vma(mm, v) for ((v) = vma_first(mm); (v); (v) = vma_next(v))
#define for_each_vma_range(mm, v, start, end) \
    for ((v) = vma_first_after((mm), (start)); (v) && (v)->start < (end); (v) = vma_next(v))
/* Free every VMA node of mm without accounting or shmem references (an
 * mm that is only being freed: shutdown's). */
void vma_tree_free(struct mm *mm);
/* The tree's own consistency (kernel_check): order, disjoint page-aligned
 * ranges, red-black shape, nvma; 0 or -1 with msg. Its depth, for tests. */
int  vma_tree_check(struct mm *mm, char *msg, unsigned len);
unsigned vma_tree_depth(struct mm *mm);
int  vma_intersects(struct mm *mm, uint64_t start, uint64_t end);
int  vma_insert(struct kernel *k, struct mm *mm, const struct vma *v); /* -1 if it overlaps */
void vma_split_at(struct kernel *k, struct mm *mm, uint64_t addr);
void vma_merge_around(struct kernel *k, struct mm *mm, uint64_t start, uint64_t end);
void vma_remove_range(struct kernel *k, struct mm *mm, uint64_t start, uint64_t end); /* split at both first */
void zap_range(struct kernel *k, struct mm *mm, uint64_t start, uint64_t end);
/* Queue a data page / a level-lvl table page that mapped the region at
 * addr for freeing after the flush; then flush what the gather's span
 * covers (fullmm: the whole address space, as exit_mmap) and free
 * everything queued. */
void tlb_remove_page(struct kernel *k, uint64_t pfn);
void tlb_remove_table(struct kernel *k, uint64_t pfn, unsigned lvl, uint64_t addr);
void tlb_finish_mmu(struct kernel *k, struct mm *mm, int fullmm);
/* A store the kernel makes without a paravirt hook (ptep_get_and_clear,
 * ptep_set_wrprotect): a plain store, which traps if the table is read-only. */
void pte_store_direct(struct kernel *k, uint64_t table, unsigned idx, pte_t e);
/* Resolve a fault at va in mm (also used for get_user_pages on a new mm). */
int handle_mm_fault(struct kernel *k, struct mm *mm, uint64_t va, enum access acc);

/* System calls (mm.c). Errors are negative errno values. */
#define PROT_READ  0x1
#define PROT_WRITE 0x2
#define PROT_EXEC  0x4
#define MAP_SHARED 0x1
#define MAP_PRIVATE 0x2
#define MAP_ANON   0x20
#define MAP_HUGETLB 0x40000   /* back with 2 MiB pages (THP-like, anonymous only) */
/* The page cache keys a file page by a 32-bit offset: a mapping reaches at
 * most this far into its file (16 TiB), else mmap fails with EOVERFLOW and
 * mremap with EINVAL, as Linux's do past MAX_LFS_FILESIZE. A shared
 * anonymous mapping's shmem object is no larger (mmap fails with ENOMEM,
 * as Linux's shmem_acct_size does past RAM plus swap). */
#define FILE_PAGES_MAX (1ull << 32)
long sys_mmap(struct kernel *k, struct task *t, uint64_t addr, uint64_t len, unsigned prot,
              unsigned flags, uint32_t file, uint64_t pgoff);
long sys_munmap(struct kernel *k, struct task *t, uint64_t addr, uint64_t len);
long sys_mprotect(struct kernel *k, struct task *t, uint64_t addr, uint64_t len, unsigned prot);
long sys_brk(struct kernel *k, struct task *t, uint64_t brk);
/* mremap to a known result (mremap.c): new_addr == addr shrinks or grows in
 * place, another address moves the mapping. new_addr or a negative errno. */
long sys_mremap(struct kernel *k, struct task *t, uint64_t addr, uint64_t old_len,
                uint64_t new_addr, uint64_t new_len);
/* Unmap [start, end) in mm without the system call's accounting (do_munmap). */
void do_munmap(struct kernel *k, struct mm *mm, uint64_t start, uint64_t end);
int  munmap_over_map_count(struct kernel *k, struct mm *mm, uint64_t start, uint64_t end);

/* Page faults (fault.c): 0 if resolved, -EFAULT (a fatal signal) otherwise,
 * the reason then in k->segv_code, as Linux gives it in siginfo's si_code.
 * The signal kills the process: memvirt ends the run there with one line
 * (sim/engine.c), as for every fault the kernel cannot resolve. */
#define KSEGV_MAPERR 1   /* SIGSEGV: no VMA at the address */
#define KSEGV_ACCERR 2   /* SIGSEGV: a VMA whose protection forbids the access */
#define KSEGV_PTBAD  3   /* SIGSEGV: a page-table entry with a reserved bit set (Linux: pgtable_bad) */
#define KSIGBUS_ADRERR 4 /* SIGBUS (BUS_ADRERR): a shmem page at or past the object's size
                            (VM_FAULT_SIGBUS, arch/x86/mm/fault.c do_sigbus) */
int do_page_fault(struct kernel *k, uint64_t va, uint32_t pfec);

/* Processes (process.c). */
struct layout;
struct task *task_find(struct kernel *k, uint32_t pid);
/* fn on every task (a struct task *), in pid order. */
void task_for_each(const struct kernel *k, void (*fn)(void *task, void *arg), void *arg);
struct task *kernel_spawn(struct kernel *k, uint32_t pid);     /* init-like task, empty mm */
long do_fork(struct kernel *k, struct task *parent, uint32_t child_pid);
/* clone: with CLONE_VM the child shares the parent's address space (threads,
 * vfork, posix_spawn); without it, a fork. */
#define CLONE_VM 0x100
long do_clone(struct kernel *k, struct task *parent, uint32_t child_pid, unsigned long flags);
long do_execve(struct kernel *k, struct task *t, const struct layout *l);
void do_exit(struct kernel *k, struct task *t);
void schedule_to(struct kernel *k, struct task *t);

/* The current task's system call: SYSCALL from its user code into the
 * kernel (Linux: entry_SYSCALL_64; under Xen PV it enters Xen first, which
 * bounces it to the kernel: xen_entry_SYSCALL_64). */
static inline void kernel_syscall_entry(struct kernel *k)
{
    k->in_kernel = 1;
    cpu_syscall(this_cpu(k));
}

/* Back to the current task's user code (Linux: syscall_exit_to_user_mode,
 * irqentry_exit_to_user_mode): SYSRET or IRET on its vCPU, through the
 * paravirt iret if the kernel was entered since its last return (a Xen PV
 * kernel's is a hypercall). A return with the CPU already in user mode (the
 * simulator's return before each of a task's events, docs/pv.md) adds
 * nothing but the count. */
static inline void kernel_exit_to_user(struct kernel *k)
{
    if (k->in_kernel) {
        k->in_kernel = 0;
        if (k->pv->iret)
            k->pv->iret(k);
    }
    cpu_return_to_user(this_cpu(k));
}

/* User access on behalf of the current task (the hot path, inline). Returns
 * 0, or -EFAULT if the fault could not be resolved. *mfn receives the frame.
 * user_access_fault() is the rest of it once the first attempt faulted. */
int user_access_fault(struct kernel *k, uint64_t va, enum access acc, uint64_t *mfn, uint32_t pfec);
static inline int user_access(struct kernel *k, uint64_t va, enum access acc, uint64_t *mfn)
{
    struct cpu *c = this_cpu(k);
    c->st->cnt[CNT_refs]++;
    uint32_t pfec = cpu_access(c, va, acc, mfn);
    return __builtin_expect(!pfec, 1) ? 0 : user_access_fault(k, va, acc, mfn, pfec);
}

/* The program will soon reference va: a host prefetch hint (cpu_prefetch),
 * with no simulated effect, worth giving while user_prefetching() says so. */
static inline int user_prefetching(struct kernel *k) { return cpu_prefetching(this_cpu(k)); }
static inline void user_prefetch(struct kernel *k, uint64_t va)
{
    cpu_prefetch(this_cpu(k), va);
}

/* Device drivers (driver.c): n pages of DMA buffers; bus[] receives the
 * addresses to program the device with (what make_entry puts in a present
 * entry: machine frames under Xen PV, guest frames otherwise). Freed at shutdown. */
void kernel_dma_buffers(struct kernel *k, unsigned n, uint64_t *bus);

/* The kernel's gauges (tasks, data pages, page-table pages), and PiBooster's
 * pools, controls and metrics when the hypervisor offers the cache. */
void kernel_instruments(struct kernel *k, struct mv_instruments *in);

/* Consistency of the kernel's own bookkeeping (under --check). */
int kernel_check(struct kernel *k, char *msg, unsigned len);

#endif

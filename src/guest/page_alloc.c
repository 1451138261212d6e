/* page_alloc.c: guest boot, frame allocation and page reference counts
 * (Linux mm/page_alloc.c, mm/swap.c put_page). Data pages come from the buddy
 * allocator one at a time; a page goes back to it when its last reference is
 * dropped. */
#include "guest/kernel.h"
#include "guest/pagecache.h"
#include "guest/ptcache.h"
#include "guest/shmem.h"
#include "guest/sites.h"
#include "lib/err.h"
#include "lib/tree.h"
#include <stdlib.h>
#include <string.h>

#define KP(f, d, lo, hi, doc) PARAM_U64(struct kconfig, f, d, lo, hi, doc)
static const struct param_def kdefs[] = {
    KP(ram_mb, "2048", 64, 1 << 20, "guest RAM in MiB (memvirt's own memory grows by about 18 KB per GiB of it, 40-45 KB under a hypervisor: docs/performance.md)"),
    PARAM_BOOL(struct kconfig, pcid, "true", "use PCIDs (6 ASIDs per CPU, as Linux) where the backend can"),
    KP(flush_ceiling, "33", 0, 1 << 20, "tlb_single_page_flush_ceiling: pages above this flush the whole TLB"),
    KP(kernel_pgd_slots, "2", 0, 4, "kernel-half pgd entries shared by every address space"),
    PARAM_BOOL(struct kconfig, zero_page, "true", "read faults on anonymous memory map the shared zero page"),
    PARAM_CHOICE(struct kconfig, pt_cache, "auto", "auto|on|off",
                 "PiBooster: page-table cache at boot (auto: on where the hypervisor offers it, "
                 "pv-pibooster; off: off until the ptcache control turns it on)"),
    KP(pt_cache_ratio, "200", 0, 1000000, "PiBooster: shrink when in_pool/in_use exceeds this percentage..."),
    KP(pt_cache_total, "256", 0, 1 << 30, "PiBooster: ...and in_pool+in_use exceeds this many pages"),
    KP(max_map_count, "65530", 1, 2147483647, "vm.max_map_count: mappings an address space may hold (Linux's "
       "default); past it mmap and the splits of munmap, mprotect and mremap fail with ENOMEM"),
    KP(mmap_min_addr, "65536", 0, 1ull << 47, "vm.mmap_min_addr: lowest address a mapping may start at "
       "(Debian's default); mmap, mremap and exec below it fail with EPERM"),
    PARAM_BOOL(struct kconfig, l1tf_invert, "true",
               "Linux 4.19+'s L1TF mitigation: a PROTNONE entry holds its frame bits inverted, so its "
               "address lies above RAM (false: an older kernel keeps the frame as is, which Xen's "
               "xen.l1tf_check refuses under pv)"),
    KP(fault_around_bytes, "4096", 0, 2097152, "fault_around_bytes: a read fault on a file page also maps the "
       "cached pages of its aligned window of this size (rounded down to a power of two, as Linux; "
       "4096 or less: off, memvirt's default, as in the kernels before Linux 3.15 that the papers ran; "
       "65536 since)"),
    PARAM_BOOL(struct kconfig, flush_after_fault, "false",
               "after each page fault it handles, flush the page it mapped from the TLB (and each page "
               "fault-around mapped), as RISC-V Linux's "
               "update_mmu_cache does (x86 Linux does not: no TLB caches a not-present entry); "
               "SSP's premise, every page-table update followed by a flush (see ssp.flush_fill)"),
};
#undef KP
const struct param_group kconfig_params = {
    "guest", kdefs, sizeof kdefs / sizeof kdefs[0], "guest kernel"
};

static void task_free(void *p)
{
    struct task *t = p;
    if (t->mm && !--t->mm->users) {
        vma_tree_free(t->mm);
        free(t->mm);
    }
    free(t);
}

/* Frames below this are the kernel image and boot data (16 MiB). */
#define RESERVED_PFNS 4096

static void buddy_account(struct kernel *k, const struct buddy_stats *before)
{
    const struct buddy_stats *now = &k->buddy.st;
    uint64_t calls = (now->alloc - before->alloc) + (now->free - before->free) + (now->fail - before->fail);
    uint64_t steps = (now->split - before->split) + (now->merge - before->merge);
    stat_add(k->st, CNT_buddy_alloc, now->alloc - before->alloc);
    stat_add(k->st, CNT_buddy_free, now->free - before->free);
    stat_add(k->st, CNT_buddy_split, now->split - before->split);
    stat_add(k->st, CNT_buddy_merge, now->merge - before->merge);
    stat_charge(k->st, CYC_buddy, calls * k->cost->buddy_op + steps * k->cost->buddy_step);
}

/* Reclaim (Linux mm/vmscan.c, much reduced): when the buddy allocator has
 * no block for a request, the page cache gives back pages that only it
 * holds (no mapping, no mmu_gather or driver reference) and that are clean,
 * oldest first, SWAP_CLUSTER_MAX at a time, until the request is met or
 * nothing more can go; only then is the guest out of memory.
 * Simplifications: one LRU list of cache pages (Linux's inactive file list:
 * no active list, no second chance, no anonymous or page-table pages); a
 * cache page still mapped is rotated to the young end, as a referenced one;
 * a page written through a shared mapping stays dirty (no writeback is
 * modelled) and is never taken; reclaim runs only where an allocation would
 * fail (direct reclaim at the last moment: no kswapd, no watermarks), so a
 * workload that fits in memory is unaffected.
 * Cost: each page looked at is a buddy_step, each page taken a buddy_op
 * (removing it from the cache and the LRU: the closest cost the model has)
 * besides the buddy free every freed page is charged. */
#define SWAP_CLUSTER_MAX 32

static int reclaim_one(void *arg, uint64_t pfn)
{
    struct kernel *k = arg;
    struct page *p = page_of(k, pfn);
    MV_ASSERT((p->flags & PG_cache) && p->count > 0, "page-cache page %#llx is not one", (unsigned long long)pfn);
    if (p->count != 1 || p->dirty)
        return 0;
    page_put(k, pfn);      /* the cache's reference, the last */
    return 1;
}

static uint64_t shrink_page_cache(struct kernel *k, uint64_t nr)
{
    uint64_t scanned = 0, freed = 0;
    if (k->pcache)
        freed = pagecache_reclaim(k->pcache, nr, reclaim_one, k, &scanned);
    stat_charge(k->st, CYC_buddy, scanned * k->cost->buddy_step + freed * k->cost->buddy_op);
    return freed;
}

static uint64_t buddy_get_pages(struct kernel *k, unsigned order)
{
    for (;;) {
        struct buddy_stats before = k->buddy.st;
        uint64_t pfn = buddy_alloc(&k->buddy, order);
        buddy_account(k, &before);
        if (pfn != UINT64_MAX)
            return pfn;
        uint64_t want = 1ull << order;
        if (!shrink_page_cache(k, want > SWAP_CLUSTER_MAX ? want : SWAP_CLUSTER_MAX))
            break;
    }
    if (k->oom)
        longjmp(*k->oom, 1);
    mv_error_fatal();
    fprintf(stderr, "memvirt: the guest ran out of memory (guest.ram_mb=%llu); "
                    "raise it with --param guest.ram_mb=N\n", (unsigned long long)k->cfg.ram_mb);
    exit(3);
}

uint64_t buddy_get_page(struct kernel *k)
{
    return buddy_get_pages(k, 0);
}

static void buddy_put_pages(struct kernel *k, uint64_t pfn, unsigned order)
{
    struct buddy_stats before = k->buddy.st;
    buddy_free(&k->buddy, pfn, order);
    buddy_account(k, &before);
}

void buddy_put_page(struct kernel *k, uint64_t pfn)
{
    buddy_put_pages(k, pfn, 0);
}

/* clear_page (or copy_page) into frame pfn: clear_page_erms's rep stosb
 * (elem 1), copy_page's rep movsq (elem 8), a copy from a file's page
 * cache rep movsb (copy_user_enhanced_fast_string, elem 1). It traps while
 * the hypervisor write-protects the frame (tsp: KVM retries it natively
 * after zapping the frame's shadows, or emulates it in one exit per 1024
 * iterations while the frame stays protected: cpu_store_string_page).
 * Where nothing is protected (native, hap, an unshadowed frame) nothing
 * traps and this adds nothing. A Xen PV kernel clears through its direct
 * map, which Xen keeps writable for pages that are not tables: only the
 * native backend's stores are trapped this way. The page's contents (zero,
 * or a copy memvirt does not model) are left to the caller. */
void clear_page_stores(struct kernel *k, uint64_t pfn, unsigned elem)
{
    struct cpu *c = this_cpu(k);
    if (k->pv != &pv_native_ops || !c->vmm || !c->vmm->store_traps || !c->vmm->store_traps(c->vmm_ctx, pfn))
        return;
    uint16_t site = c->site;
    guest_site(c, SITE_CLEAR_PAGE);
    cpu_store_string_page(c, pfn, 0, elem);
    c->site = site;
}

/* Data pages the CPU fills (anonymous: cleared or copied; page cache: the
 * file's contents copied in); a DMA buffer is the device's to fill. */
static void kalloc_fill(struct kernel *k, uint64_t pfn, unsigned n, unsigned flags)
{
    unsigned elem = (flags & KALLOC_NOZERO) && (flags & PG_anon) ? 8 : 1;   /* copy_page, or a clear or file copy */
    for (unsigned i = 0; (flags & (PG_anon | PG_cache)) && i < n; i++)
        clear_page_stores(k, pfn + i, elem);
}

uint64_t kalloc_huge(struct kernel *k, unsigned flags)
{
    uint64_t pfn = buddy_get_pages(k, 9);
    struct page *p = page_of(k, pfn);
    MV_ASSERT(!(p->flags & PG_used), "buddy handed out a used page %#llx", (unsigned long long)pfn);
    *p = (struct page){ .count = 1, .flags = (uint8_t)(PG_used | PG_huge | (flags & 0xff)),
                        .anon_exclusive = (flags & PG_anon) != 0 };   /* see kalloc_page */
    kalloc_fill(k, pfn, 512, flags);
    if (!(flags & KALLOC_NOZERO)) {          /* clear_huge_page */
        stat_add(k->st, CNT_page_zero, 512);
        stat_charge(k->st, CYC_zero_copy, 512 * k->cost->page_zero);
    }
    stat_add(k->st, CNT_data_pages_alloc, 512);
    k->data_pages += 512;
    return pfn;
}

uint64_t kalloc_page(struct kernel *k, unsigned flags)
{
    uint64_t pfn = buddy_get_page(k);
    struct page *p = page_of(k, pfn);
    MV_ASSERT(!(p->flags & PG_used), "buddy handed out a used page %#llx", (unsigned long long)pfn);
    /* an anonymous page is allocated for the one mapping the fault that
     * asked for it makes: exclusive (folio_add_new_anon_rmap, RMAP_EXCLUSIVE) */
    *p = (struct page){ .count = 1, .flags = (uint8_t)(PG_used | (flags & 0xff)),
                        .anon_exclusive = (flags & PG_anon) != 0 };
    kalloc_fill(k, pfn, 1, flags);
    if ((flags & PG_anon) && !(flags & KALLOC_NOZERO)) {
        stat_inc(k->st, CNT_page_zero);
        stat_charge(k->st, CYC_zero_copy, k->cost->page_zero);
    }
    stat_inc(k->st, CNT_data_pages_alloc);
    k->data_pages++;
    return pfn;
}

void page_get(struct kernel *k, uint64_t pfn)
{
    struct page *p = page_of(k, pfn);
    MV_ASSERT(p->flags & PG_used, "reference to free page %#llx", (unsigned long long)pfn);
    p->count++;
}

void page_put(struct kernel *k, uint64_t pfn)
{
    struct page *p = page_of(k, pfn);
    MV_ASSERT((p->flags & PG_used) && p->count > 0, "put of free page %#llx", (unsigned long long)pfn);
    if (--p->count)
        return;
    MV_ASSERT(!(p->flags & (PG_pgtable | PG_zero)), "last put of a page-table or zero page");
    unsigned order = (p->flags & PG_huge) ? 9 : 0;
    p->flags = 0;
    stat_add(k->st, CNT_data_pages_free, 1ull << order);
    k->data_pages -= 1ull << order;
    buddy_put_pages(k, pfn, order);
}

int kernel_boot(struct kernel *k, const struct kconfig *cfg, struct cpu *cpu,
                struct mv_stats *st, const struct cost *cost,
                const struct pv_mmu_ops *pv, void *pv_ctx)
{
    memset(k, 0, sizeof *k);
    k->cfg = *cfg;
    if (!k->cfg.max_map_count)
        k->cfg.max_map_count = DEFAULT_MAX_MAP_COUNT;
    k->st = st;
    k->cost = cost;
    k->ncpus = 1;
    k->pcpu[0].cpu = cpu;
    k->pv = pv;
    k->pv_ctx = pv_ctx;
    k->in_kernel = 1;            /* the kernel runs first; its first return to user is the first task's */
    /* Whole 2 MiB extents, as a hypervisor hands memory out. */
    k->nr_pages = (cfg->ram_mb << (20 - PAGE_SHIFT)) & ~511ull;
    sparse_init(&k->pages, k->nr_pages, sizeof(struct page));
    buddy_init(&k->buddy, RESERVED_PFNS, k->nr_pages - RESERVED_PFNS);
    k->pcache = mv_calloc(1, sizeof *k->pcache);
    pagecache_init(k->pcache);
    cpu->pcid_enabled = cfg->pcid && pv->pcid_capable;
    k->next_mm_id = 1;
    k->ptc = mv_calloc(1, sizeof *k->ptc);   /* counts in-use tables even while off */
    if (cfg->ptcache_offered && strcmp(cfg->pt_cache, "off"))
        ptcache_enable(k);

    /* The shared zero page. */
    k->zero_pfn = kalloc_page(k, PG_zero);

    /* swapper_pg_dir and the kernel-half tables every pgd shares. */
    k->init_mm.id = k->next_mm_id++;
    k->init_mm.users = 1;
    k->init_mm.pgd = pt_alloc(k, &k->init_mm, 4);
    for (unsigned i = 0; i < cfg->kernel_pgd_slots; i++) {
        k->kernel_l3[i] = pt_alloc(k, &k->init_mm, 3);
        set_entry(k, &k->init_mm, k->init_mm.pgd, 4, 256 + i,
                  pv->make_entry(k, k->kernel_l3[i], PT_TABLE_FLAGS & ~_PAGE_USER));
    }
    if (pv->activate_mm)
        pv->activate_mm(k, NULL, &k->init_mm);
    switch_mm(k, NULL, &k->init_mm);
    return 0;
}

static void drop_cached(void *arg, uint64_t pfn)
{
    page_put(arg, pfn);
}

uint64_t kernel_shutdown(struct kernel *k)
{
    if (k->pcache) {
        pagecache_for_each(k->pcache, drop_cached, k);
        pagecache_destroy(k->pcache);
        free(k->pcache);
        k->pcache = NULL;
    }
    shmem_destroy(k);
    ptcache_destroy(k);
    if (k->mm_new) {             /* a run that failed while building it */
        vma_tree_free(k->mm_new);
        free(k->mm_new);
        k->mm_new = NULL;
    }
    for (unsigned i = 0; i < k->ndma_buf; i++)
        page_put(k, k->dma_buf[i]);
    free(k->dma_buf);
    k->dma_buf = NULL;
    k->ndma_buf = 0;
    uint64_t used = k->buddy.npages - k->buddy.free_pages;
    uint64_t expected = k->init_mm.pt_pages + 1;   /* boot tables + zero page */
    uint64_t leaked = used > expected ? used - expected : 0;
    /* a run that failed leaves tasks: their frames count as leaked above;
     * the host memory of their mm goes with them */
    tree_destroy(k->tasks, task_free);
    k->tasks = NULL;
    k->ntasks = 0;
    buddy_destroy(&k->buddy);
    sparse_free(&k->pages);
    vma_tree_free(&k->init_mm);
    free(k->gather.data);
    free(k->gather.tab);
    return leaked;
}

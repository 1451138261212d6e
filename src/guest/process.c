/* process.c: processes: fork, execve, exit and the scheduler's switch
 * (Linux kernel/fork.c copy_process/dup_mmap, mm/memory.c copy_page_range,
 * fs/exec.c exec_mmap, kernel/exit.c exit_mm, kernel/sched/core.c).
 *
 * One vCPU: a task runs until the workload names another; the switch costs
 * the scheduler's work and a switch_mm. */
#include "guest/kernel.h"
#include "guest/layout.h"
#include "guest/sites.h"
#include "lib/err.h"
#include "lib/tree.h"
#include <errno.h>
#include <stdlib.h>

struct task *task_find(struct kernel *k, uint32_t pid)
{
    return tree_find(&k->tasks, pid);
}

void task_for_each(const struct kernel *k, void (*fn)(void *task, void *arg), void *arg)
{
    tree_each(k->tasks, fn, arg);
}

static struct task *task_new(struct kernel *k, uint32_t pid, uint32_t ppid)
{
    MV_ASSERT(!task_find(k, pid), "pid %u in use", pid);
    struct task *t = mv_calloc(1, sizeof *t);
    t->pid = pid;
    t->ppid = ppid;
    tree_insert(&k->tasks, t);
    k->ntasks++;
    return t;
}

static void task_delete(struct kernel *k, struct task *t)
{
    tree_delete(&k->tasks, t);
    k->ntasks--;
    free(t);
}

void schedule_to(struct kernel *k, struct task *t)
{
    if (k->current == t)
        return;
    stat_charge(k->st, CYC_ctx_switch, k->cost->ctx_switch);
    /* The switch is made in the kernel, and t goes back to user mode from
     * there. What brought the CPU into the kernel when the workload names
     * no system call (a timer interrupt, a blocking call such as wait())
     * is not modelled (docs/pv.md). */
    k->in_kernel = 1;
    struct mm *prev = k->pcpu[0].loaded_mm;
    k->current = t;
    if (t->mm != prev)
        switch_mm(k, prev, t->mm);
}

struct task *kernel_spawn(struct kernel *k, uint32_t pid)
{
    struct task *t = task_new(k, pid, 0);
    t->mm = mm_alloc(k);
    k->mm_new = NULL;
    if (k->pv->activate_mm)
        k->pv->activate_mm(k, k->pcpu[0].loaded_mm, t->mm);
    return t;
}

/* copy_pte_range for one VMA: share every present or PROTNONE page with the child,
 * write-protecting private writable ones in both (copy-on-write). */
static void copy_page_range(struct kernel *k, struct mm *dst, struct mm *src, const struct vma *v)
{
    int cow = !(v->flags & VM_SHARED) && (v->flags & VM_WRITE);
    for (uint64_t va = v->start; va < v->end;) {
        uint64_t next = (va | ((1ull << level_shift(2)) - 1)) + 1;
        if (next > v->end)
            next = v->end;
        unsigned pi;
        uint64_t pmd = pmd_table(k, src, va, 0, &pi);
        if (!pmd) {                                 /* nothing in this 1 GiB, or 512 GiB */
            va = pt_none_end(k, src, va, v->end);
            continue;
        }
        pte_t pe = kread_entry(k, pmd, pi);
        if (pte_mapped(pe) && (pe & _PAGE_PSE)) {
            copy_huge_pmd(k, dst, src, va, cow);
            va = next;
            continue;
        }
        uint64_t st = pte_table(k, src, va, 0);
        if (!st) {
            va = next;
            continue;
        }
        /* copy_pte_range: the child's table is allocated first
         * (pte_alloc_map_lock), then its entries are copied in lazy MMU
         * mode, entered and left around this one table: leaving flushes a
         * Xen guest's multicall batch (xen_leave_lazy_mmu), so each table's
         * entries go to Xen in batches of their own. */
        uint64_t dt = pte_table(k, dst, va, 1);
        const pte_t *sv = kmap_table(k, st);
        lazy_mmu_enter(k);
        for (uint64_t a = va; a < next; a += PAGE_SIZE) {
            unsigned idx = pt_index(a, 1);
            pte_t e = sv[idx];
            if (!pte_mapped(e))
                continue;
            stat_charge(k->st, CYC_kernel, k->cost->pte_copy);
            if (cow && (e & _PAGE_RW)) {
                e &= ~_PAGE_RW;
                guest_site(this_cpu(k), SITE_FORK_WRPROTECT);
                pte_store_direct(k, st, idx, e);     /* ptep_set_wrprotect */
            }
            uint64_t pfn = k->pv->entry_pfn(k, e);
            if (pfn != k->zero_pfn)
                page_get(k, pfn);
            if (page_of(k, pfn)->flags & PG_anon)
                page_of(k, pfn)->anon_exclusive = 0;   /* folio_try_dup_anon_rmap_pte: shared now */
            dst->rss++;
            guest_site(this_cpu(k), SITE_FORK_COPY_PTE);
            set_entry(k, dst, dt, 1, idx, e & ~(pte_t)_PAGE_ACCESSED);   /* pte_mkold, set_pte_at */
        }
        lazy_mmu_leave(k);
        va = next;
    }
}

static struct mm *dup_mm(struct kernel *k, struct mm *old)
{
    struct mm *mm = mm_alloc(k);
    mm->start_brk = old->start_brk;
    mm->brk = old->brk;
    struct vma *v;
    for_each_vma(old, v) {
        int rc = vma_insert(k, mm, v);
        MV_ASSERT(rc == 0, "dup_mmap: overlapping vma");
        /* vma_needs_copy: only VMAs with anonymous pages; file pages refault */
        if (v->flags & VM_ANONVMA)
            copy_page_range(k, mm, old, v);
    }
    if (k->pv->dup_mmap)
        k->pv->dup_mmap(k, old, mm);
    flush_tlb_mm(k, old);
    return mm;
}

long do_clone(struct kernel *k, struct task *parent, uint32_t child_pid, unsigned long flags)
{
    if (task_find(k, child_pid))
        return -EEXIST;
    stat_inc(k->st, CNT_fork);
    stat_charge(k->st, CYC_kernel, k->cost->syscall + k->cost->fork_fixed);
    struct task *c = task_new(k, child_pid, parent->pid);
    if (flags & CLONE_VM) {          /* copy_mm: share, take a user reference */
        c->mm = parent->mm;
        c->mm->users++;
    } else {
        c->mm = dup_mm(k, parent->mm);
        k->mm_new = NULL;
    }
    return child_pid;
}

long do_fork(struct kernel *k, struct task *parent, uint32_t child_pid)
{
    return do_clone(k, parent, child_pid, 0);
}

static unsigned seg_prot_vm(unsigned prot)
{
    return (prot & PROT_READ ? VM_READ : 0) | (prot & PROT_WRITE ? VM_WRITE : 0) |
           (prot & PROT_EXEC ? VM_EXEC : 0);
}

long do_execve(struct kernel *k, struct task *t, const struct layout *l)
{
    stat_inc(k->st, CNT_exec);
    stat_charge(k->st, CYC_kernel, k->cost->syscall + k->cost->exec_fixed);
    /* load_elf_binary's elf_map (vm_mmap) and the stack's setup refuse a
     * segment below vm.mmap_min_addr with EPERM. Linux finds it after the
     * point of no return and kills the task; here it is found before
     * anything changes and the exec fails (a replay stops there). */
    for (unsigned i = 0; i < l->nseg; i++)
        if (l->seg[i].start < k->cfg.mmap_min_addr && (l->seg[i].len || l->seg[i].kind != SEG_HEAP))
            return -EPERM;
    struct mm *mm = mm_alloc(k);
    const struct segment *stack = NULL;

    /* bprm_mm_init: the stack VMA first, and the arguments copied into its
     * top page through get_user_pages on the new, not yet active mm. */
    for (unsigned i = 0; i < l->nseg; i++)
        if (l->seg[i].kind == SEG_STACK)
            stack = &l->seg[i];
    MV_ASSERT(stack, "layout %s has no stack", l->name);
    struct vma sv = { .start = stack->start, .end = stack->start + stack->len,
                      .flags = seg_prot_vm(stack->prot) | VM_GROWSDOWN };
    int rc = vma_insert(k, mm, &sv);
    MV_ASSERT(rc == 0, "stack vma");
    rc = handle_mm_fault(k, mm, sv.end - PAGE_SIZE, ACC_WRITE);
    MV_ASSERT(rc == 0, "argument page");

    /* exec_mmap: activate the new mm and drop the old one. */
    struct mm *old = t->mm;
    if (k->pv->activate_mm)
        k->pv->activate_mm(k, old, mm);
    t->mm = mm;
    k->mm_new = NULL;
    if (k->current == t)
        switch_mm(k, k->pcpu[0].loaded_mm, mm);
    if (old)
        mmput(k, old);

    /* load_elf_binary and ld.so: map the image and the libraries, each
     * mapping through do_mmap's vm.max_map_count test (map_count > max:
     * ENOMEM) and merged with its neighbours as mmap_region merges it. Past
     * the point of no return, as in Linux (which kills the task): the exec
     * fails and the run stops there. */
    for (unsigned i = 0; i < l->nseg; i++) {
        const struct segment *s = &l->seg[i];
        if (s->kind == SEG_STACK)
            continue;
        struct vma v = { .start = s->start, .end = s->start + s->len, .flags = seg_prot_vm(s->prot) };
        if (s->kind == SEG_FILE) {
            v.file = s->file;
            v.pgoff = s->pgoff;
        }
        if (s->kind == SEG_HEAP) {
            mm->start_brk = s->start;
            mm->brk = s->start + s->len;
            if (!s->len)
                continue;
        }
        if (mm->nvma > k->cfg.max_map_count)
            return -ENOMEM;
        rc = vma_insert(k, mm, &v);
        MV_ASSERT(rc == 0, "layout %s: segment %u overlaps another", l->name, i);
        vma_merge_around(k, mm, v.start, v.end);
    }
    return 0;
}

void do_exit(struct kernel *k, struct task *t)
{
    stat_inc(k->st, CNT_exit);
    stat_charge(k->st, CYC_kernel, k->cost->exit_fixed);
    struct mm *mm = t->mm;
    t->mm = NULL;
    /* exit_mm only drops this task's use. The last user's exit tears the
     * address space down, so the CPU leaves it for the kernel's own tables
     * first; while a thread or a vfork parent still uses it, CR3 stays: the
     * next task to run loads its own mm, which is no switch at all if it
     * is this one (switch_mm_irqs_off to the loaded mm). */
    if (k->pcpu[0].loaded_mm == mm && mm->users == 1)
        switch_mm(k, mm, &k->init_mm);
    if (k->current == t)
        k->current = NULL;
    mmput(k, mm);
    task_delete(k, t);
}

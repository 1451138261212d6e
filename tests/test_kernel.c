/* test_kernel.c: the guest kernel driven through its own API on a real
 * machine (machine_init, mode native, --check): VMA split and merge, demand
 * zero and the shared zero page, copy-on-write after fork, shared file
 * mappings, munmap freeing data and page-table pages and the TLB, brk, exit
 * leaving nothing behind, and the PCID bookkeeping of switch_mm. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>

#include "guest/kernel.h"
#include "guest/pagecache.h"
#include "sim/oracle.h"
#include "workload/layouts.h"
#include "testutil.h"

#define PG PAGE_SIZE
#define A 0x10000000ull             /* a user range below the PIE image */
#define R 0x200000000000ull         /* PML4 slot 64: tables of its own */
#define FILE_INO 77

#define K(t) (&(t)->m.k)
#define CNT(t, c) ((t)->m.st.cnt[CNT_##c])

static void kcheck(struct tmachine *t)
{
    char msg[512] = "";
    if (kernel_check(K(t), msg, sizeof msg))
        fail_msg("kernel_check: %s", msg);
}

static struct task *spawn(struct tmachine *t, uint32_t pid)
{
    struct task *task = kernel_spawn(K(t), pid);
    assert_non_null(task);
    assert_ptr_equal(task_find(K(t), pid), task);
    return task;
}

/* Reference translation of va in task's tables (read access). */
static uint64_t xlate(struct tmachine *t, struct task *task, uint64_t va)
{
    uint64_t mfn = UINT64_MAX;
    uint32_t pfec = oracle_translate(&t->m, task->mm, va, ACC_READ, &mfn);
    if (pfec)
        fail_msg("va %#llx not mapped in pid %u (pfec %#x)", (unsigned long long)va, task->pid, pfec);
    return mfn;
}

/* A user access by the current task that must succeed and agree with the
 * reference translation; returns the frame. */
static void acc_fails(struct tmachine *t, uint64_t va, enum access acc)
{
    uint64_t mfn = 0;
    uint64_t segv = CNT(t, segv);
    assert_int_equal(user_access(K(t), va, acc, &mfn), -EFAULT);
    assert_int_equal(CNT(t, segv), segv + 1);
}

static void mmap_ok(struct tmachine *t, struct task *task, uint64_t addr, uint64_t len, unsigned prot,
                    unsigned flags, uint32_t file, uint64_t pgoff)
{
    assert_int_equal(sys_mmap(K(t), task, addr, len, prot, flags, file, pgoff), (long)addr);
}

static void mmap_anon(struct tmachine *t, struct task *task, uint64_t addr, uint64_t len, unsigned prot)
{
    mmap_ok(t, task, addr, len, prot, MAP_PRIVATE | MAP_ANON, 0, 0);
}

/* Switch to task, give it one private writable page at A and write it;
 * returns the page's frame. */
static uint64_t switch_and_write_page(struct tmachine *t, struct task *task)
{
    schedule_to(K(t), task);
    mmap_anon(t, task, A, PG, PROT_READ | PROT_WRITE);
    return tm_access_ok(t, A, ACC_WRITE);
}

static void assert_vma(struct mm *mm, uint32_t i, uint64_t start, uint64_t end)
{
    assert_true(i < mm->nvma);
    assert_non_null(tm_vma(mm, i));
    assert_int_equal(tm_vma(mm, i)->start, start);
    assert_int_equal(tm_vma(mm, i)->end, end);
}

/* Exit every task; then nothing the tasks had may remain. */
static void collect_task(void *task, void *arg)
{
    struct task ***next = arg;
    *(*next)++ = task;
}

/* Every task exits, in pid order (collected first: the walk must not see
 * the tree change under it). */
static void exit_all(struct tmachine *t)
{
    struct kernel *k = K(t);
    struct task **all = mv_calloc(k->ntasks + 1, sizeof *all), **next = all;
    task_for_each(k, collect_task, &next);
    assert_int_equal(next - all, k->ntasks);
    for (struct task **p = all; p < next; p++)
        do_exit(k, *p);
    free(all);
    assert_int_equal(k->ntasks, 0);
    assert_null(k->current);
    assert_ptr_equal(k->pcpu[0].loaded_mm, &k->init_mm);
    kcheck(t);
}

static void finish(struct tmachine *t)
{
    struct kernel *k = K(t);
    exit_all(t);
    /* every page-table page allocated during the test was freed */
    assert_int_equal(CNT(t, pt_pages_alloc), CNT(t, pt_pages_free));
    assert_int_equal(k->init_mm.pt_pages, 1 + k->cfg.kernel_pgd_slots);
    const struct mv_instruments *in = &t->m.ins;
    assert_string_equal(in->gauge[0].name, "tasks");
    assert_string_equal(in->gauge[2].name, "pt_pages");
    assert_true(in->gauge[0].read(in->gauge[0].ctx) == 0);
    assert_true(in->gauge[2].read(in->gauge[2].ctx) == (double)k->init_mm.pt_pages);
    /* data pages left: the page cache, the zero page and the drivers' rings */
    assert_int_equal(k->data_pages, k->pcache->used + 1 + k->ndma_buf);
    assert_int_equal(CNT(t, data_pages_alloc) - CNT(t, data_pages_free), k->pcache->used);
    /* with --check, shutdown verifies every frame went back */
    assert_int_equal(tm_destroy(t), 0);
}

static struct tmachine *boot_one(struct task **p)
{
    struct tmachine *t = tm_boot("native");
    *p = spawn(t, 1);
    schedule_to(K(t), *p);
    assert_ptr_equal(K(t)->current, *p);
    return t;
}

struct pid_walk {
    uint32_t n, last;
    int ordered;
};

static void walk_pid(void *task, void *arg)
{
    const struct task *t = task;
    struct pid_walk *w = arg;
    w->ordered &= !w->n || t->pid > w->last;
    w->last = t->pid;
    w->n++;
}

/* Threads whose pids share a remainder (what a hash by pid mod 1024 chained
 * into one bucket, 6-20 s for 50,000 of them in a trace; now 0.06 s): every
 * one found, the walk in pid order, exits in any order leave the rest. */
static void test_many_tasks_colliding_pids(void **state)
{
    (void)state;
    struct task *p;
    struct tmachine *t = boot_one(&p);
    struct kernel *k = K(t);
    enum { N = 4000 };
    for (uint32_t i = N; i > 0; i--)                /* descending, 1024 apart */
        assert_int_equal(do_clone(k, p, 4096 + 1024 * i, CLONE_VM), 4096 + 1024 * i);
    assert_int_equal(k->ntasks, N + 1);
    for (uint32_t i = 1; i <= N; i++) {
        struct task *c = task_find(k, 4096 + 1024 * i);
        assert_non_null(c);
        assert_int_equal(c->pid, 4096 + 1024 * i);
        assert_ptr_equal(c->mm, p->mm);
    }
    assert_null(task_find(k, 4096));
    assert_null(task_find(k, 4096 + 1024 * (N + 1)));
    struct pid_walk w = { 0, 0, 1 };
    task_for_each(k, walk_pid, &w);
    assert_int_equal(w.n, N + 1);
    assert_true(w.ordered);
    for (uint32_t i = 1; i <= N; i += 2)            /* every other thread exits */
        do_exit(k, task_find(k, 4096 + 1024 * i));
    assert_int_equal(k->ntasks, N / 2 + 1);
    for (uint32_t i = 1; i <= N; i++)
        assert_true((task_find(k, 4096 + 1024 * i) != NULL) == !(i & 1));
    w = (struct pid_walk){ 0, 0, 1 };
    task_for_each(k, walk_pid, &w);
    assert_int_equal(w.n, N / 2 + 1);
    assert_true(w.ordered);
    kcheck(t);
    finish(t);
}

static void test_boot_and_shutdown(void **state)
{
    (void)state;
    struct tmachine *t = tm_boot("native");
    /* boot work is not counted */
    assert_int_equal(CNT(t, pt_pages_alloc), 0);
    assert_int_equal(t->m.st.now, 0);
    assert_true(t->m.booted);
    assert_int_not_equal(K(t)->zero_pfn, 0);
    kcheck(t);
    finish(t);
}

static void test_vma_merge_and_munmap_split(void **state)
{
    (void)state;
    struct task *p;
    struct tmachine *t = boot_one(&p);
    struct mm *mm = p->mm;
    assert_int_equal(mm->nvma, 0);

    mmap_anon(t, p, A, 4 * PG, PROT_READ | PROT_WRITE);
    mmap_anon(t, p, A + 4 * PG, 4 * PG, PROT_READ | PROT_WRITE);
    mmap_anon(t, p, A + 8 * PG, 4 * PG, PROT_READ | PROT_WRITE);
    assert_int_equal(mm->nvma, 1);
    assert_vma(mm, 0, A, A + 12 * PG);
    assert_int_equal(tm_vma(mm, 0)->flags & (VM_READ | VM_WRITE | VM_EXEC), VM_READ | VM_WRITE);
    assert_int_equal(CNT(t, mmap), 3);
    kcheck(t);

    for (unsigned i = 0; i < 12; i++)
        tm_access_ok(t, A + i * PG, ACC_WRITE);
    assert_int_equal(mm->rss, 12);
    kcheck(t);

    /* the middle page goes: two VMAs around the hole */
    assert_int_equal(sys_munmap(K(t), p, A + 6 * PG, PG), 0);
    assert_int_equal(mm->nvma, 2);
    assert_vma(mm, 0, A, A + 6 * PG);
    assert_vma(mm, 1, A + 7 * PG, A + 12 * PG);
    assert_int_equal(mm->rss, 11);
    acc_fails(t, A + 6 * PG, ACC_READ);
    tm_access_ok(t, A + 5 * PG, ACC_READ);
    tm_access_ok(t, A + 7 * PG, ACC_WRITE);
    kcheck(t);

    /* mapping the hole again: [A, A+12p) is covered without a gap and the
     * new page demand-faults */
    mmap_anon(t, p, A + 6 * PG, PG, PROT_READ | PROT_WRITE);
    tm_access_ok(t, A + 6 * PG, ACC_WRITE);
    assert_int_equal(tm_vma(mm, 0)->start, A);
    for (uint32_t i = 1; i < mm->nvma; i++)
        assert_int_equal(tm_vma(mm, i)->start, tm_vma(mm, i - 1)->end);
    assert_int_equal(tm_vma(mm, mm->nvma - 1)->end, A + 12 * PG);
    uint32_t n = mm->nvma;

    /* a different protection next to it does not merge */
    mmap_anon(t, p, A + 12 * PG, 2 * PG, PROT_READ);
    assert_int_equal(mm->nvma, n + 1);
    assert_vma(mm, n, A + 12 * PG, A + 14 * PG);
    /* nor does a range that is not adjacent, even with the same protection */
    mmap_anon(t, p, A + 20 * PG, 2 * PG, PROT_READ);
    assert_int_equal(mm->nvma, n + 2);
    assert_vma(mm, n + 1, A + 20 * PG, A + 22 * PG);
    n = mm->nvma;

    /* bad arguments */
    assert_int_equal(sys_munmap(K(t), p, A + 1, PG), -EINVAL);
    assert_int_equal(sys_munmap(K(t), p, A, 0), -EINVAL);
    assert_int_equal(sys_mmap(K(t), p, A, PG, PROT_READ, MAP_ANON, 0, 0), -EINVAL);
    assert_int_equal(sys_mmap(K(t), p, A, PG, PROT_READ, MAP_PRIVATE | MAP_ANON, 5, 0), -EINVAL);
    assert_int_equal(sys_mmap(K(t), p, USER_VA_END - PG, 2 * PG, PROT_READ, MAP_PRIVATE | MAP_ANON, 0, 0),
                     -EINVAL);
    assert_int_equal(mm->nvma, n);
    kcheck(t);
    finish(t);
}

static void test_mprotect_split_merge(void **state)
{
    (void)state;
    struct task *p;
    struct tmachine *t = boot_one(&p);
    struct mm *mm = p->mm;
    mmap_anon(t, p, A, 12 * PG, PROT_READ | PROT_WRITE);
    uint64_t frames[12];
    for (unsigned i = 0; i < 12; i++)
        frames[i] = tm_access_ok(t, A + i * PG, ACC_WRITE);

    assert_int_equal(sys_mprotect(K(t), p, A + 4 * PG, 4 * PG, PROT_READ), 0);
    assert_int_equal(mm->nvma, 3);
    assert_vma(mm, 0, A, A + 4 * PG);
    assert_vma(mm, 1, A + 4 * PG, A + 8 * PG);
    assert_vma(mm, 2, A + 8 * PG, A + 12 * PG);
    assert_int_equal(tm_vma(mm, 0)->flags & (VM_READ | VM_WRITE), VM_READ | VM_WRITE);
    assert_int_equal(tm_vma(mm, 1)->flags & (VM_READ | VM_WRITE), VM_READ);
    assert_int_equal(tm_vma(mm, 2)->flags & (VM_READ | VM_WRITE), VM_READ | VM_WRITE);
    kcheck(t);

    /* the TLB was flushed: the writable translations are gone */
    acc_fails(t, A + 5 * PG, ACC_WRITE);
    assert_int_equal(tm_access_ok(t, A + 5 * PG, ACC_READ), frames[5]);
    assert_int_equal(tm_access_ok(t, A + 3 * PG, ACC_WRITE), frames[3]);
    assert_int_equal(tm_access_ok(t, A + 8 * PG, ACC_WRITE), frames[8]);

    /* and back: one VMA again */
    assert_int_equal(sys_mprotect(K(t), p, A + 4 * PG, 4 * PG, PROT_READ | PROT_WRITE), 0);
    assert_int_equal(mm->nvma, 1);
    assert_vma(mm, 0, A, A + 12 * PG);
    /* the write is granted again on the same page, without a new frame */
    uint64_t allocs = CNT(t, data_pages_alloc);
    for (unsigned i = 4; i < 8; i++)
        assert_int_equal(tm_access_ok(t, A + i * PG, ACC_WRITE), frames[i]);
    assert_int_equal(CNT(t, data_pages_alloc), allocs);
    kcheck(t);

    /* an unmapped page in the range: -ENOMEM, nothing changes */
    assert_int_equal(sys_mprotect(K(t), p, A + 10 * PG, 4 * PG, PROT_READ), -ENOMEM);
    assert_int_equal(mm->nvma, 1);
    assert_int_equal(tm_access_ok(t, A + 11 * PG, ACC_WRITE), frames[11]);

    /* removing exec / read-only at the edge splits in two */
    assert_int_equal(sys_mprotect(K(t), p, A, 2 * PG, PROT_READ), 0);
    assert_int_equal(mm->nvma, 2);
    assert_vma(mm, 0, A, A + 2 * PG);
    assert_vma(mm, 1, A + 2 * PG, A + 12 * PG);
    acc_fails(t, A + PG, ACC_WRITE);
    acc_fails(t, A + PG, ACC_EXEC);
    kcheck(t);
    finish(t);
}

static void test_demand_zero_and_zero_page(void **state)
{
    (void)state;
    struct task *p;
    struct tmachine *t = boot_one(&p);
    struct kernel *k = K(t);
    mmap_anon(t, p, A, 8 * PG, PROT_READ | PROT_WRITE);
    assert_int_equal(CNT(t, guest_pf), 0);
    assert_int_equal(p->mm->rss, 0);

    /* a write to untouched memory: one fault, a new zeroed page */
    uint64_t data = k->data_pages;
    uint64_t f0 = tm_access_ok(t, A, ACC_WRITE);
    assert_int_equal(CNT(t, guest_pf), 1);
    assert_int_equal(CNT(t, pf_anon), 1);
    assert_int_equal(k->data_pages, data + 1);
    assert_int_not_equal(f0, k->zero_pfn);
    assert_true(page_of(k, f0)->flags & PG_anon);
    /* again: no fault */
    assert_int_equal(tm_access_ok(t, A + 8, ACC_WRITE), f0);
    assert_int_equal(tm_access_ok(t, A + 16, ACC_READ), f0);
    assert_int_equal(CNT(t, guest_pf), 1);

    /* reads of untouched memory map the shared zero page */
    assert_int_equal(tm_access_ok(t, A + PG, ACC_READ), k->zero_pfn);
    assert_int_equal(tm_access_ok(t, A + 2 * PG, ACC_READ), k->zero_pfn);
    assert_int_equal(CNT(t, guest_pf), 3);
    assert_int_equal(CNT(t, pf_anon), 3);
    assert_int_equal(k->data_pages, data + 1);
    assert_int_equal(p->mm->rss, 3);
    kcheck(t);

    /* a write to a zero-page mapping gets a private page */
    uint64_t f1 = tm_access_ok(t, A + PG, ACC_WRITE);
    assert_int_not_equal(f1, k->zero_pfn);
    assert_int_not_equal(f1, f0);
    assert_int_equal(CNT(t, pf_cow), 1);
    assert_int_equal(k->data_pages, data + 2);
    assert_int_equal(xlate(t, p, A + PG), f1);
    /* the other zero-page mapping is untouched */
    assert_int_equal(xlate(t, p, A + 2 * PG), k->zero_pfn);
    assert_int_equal(tm_access_ok(t, A + 2 * PG, ACC_READ), k->zero_pfn);
    kcheck(t);

    /* munmap of zero-page mappings frees no data page */
    assert_int_equal(sys_munmap(K(t), p, A + 2 * PG, PG), 0);
    assert_int_equal(k->data_pages, data + 2);
    finish(t);
}

static void test_no_zero_page(void **state)
{
    (void)state;
    static const char *const params[] = { "guest.zero_page=false", NULL };
    struct tmachine *t = tm_boot_params("native", "memwalk", params);
    struct task *p = spawn(t, 1);
    schedule_to(K(t), p);
    mmap_anon(t, p, A, 2 * PG, PROT_READ | PROT_WRITE);
    uint64_t data = K(t)->data_pages;
    uint64_t f = tm_access_ok(t, A, ACC_READ);
    assert_int_not_equal(f, K(t)->zero_pfn);
    assert_int_equal(K(t)->data_pages, data + 1);
    /* and the later write needs no copy */
    assert_int_equal(tm_access_ok(t, A, ACC_WRITE), f);
    assert_int_equal(CNT(t, pf_cow), 0);
    finish(t);
}

static void test_fork_cow(void **state)
{
    (void)state;
    struct task *p;
    struct tmachine *t = boot_one(&p);
    struct kernel *k = K(t);
    mmap_anon(t, p, A, 4 * PG, PROT_READ | PROT_WRITE);
    uint64_t f = tm_access_ok(t, A, ACC_WRITE);
    assert_int_equal(tm_access_ok(t, A + PG, ACC_READ), k->zero_pfn);

    assert_int_equal(do_fork(k, p, 2), 2);
    assert_int_equal(CNT(t, fork), 1);
    struct task *c = task_find(k, 2);
    assert_non_null(c);
    assert_ptr_not_equal(c->mm, p->mm);
    assert_int_equal(c->ppid, 1);
    assert_int_equal(do_fork(k, p, 2), -EEXIST);
    kcheck(t);

    /* both see the same frame, read-only, with two references */
    assert_int_equal(xlate(t, p, A), f);
    assert_int_equal(xlate(t, c, A), f);
    assert_int_equal(xlate(t, c, A + PG), k->zero_pfn);
    assert_int_equal(page_of(k, f)->count, 2);
    uint64_t dummy;
    assert_int_equal(oracle_translate(&t->m, p->mm, A, ACC_WRITE, &dummy), PFEC_P | PFEC_W | PFEC_U);
    assert_int_equal(oracle_translate(&t->m, c->mm, A, ACC_WRITE, &dummy), PFEC_P | PFEC_W | PFEC_U);
    assert_int_equal(c->mm->rss, p->mm->rss);
    /* the child's copy is old (copy_present_pte's pte_mkold), the parent's not */
    assert_true(kread_entry(k, pte_table(k, p->mm, A, 0), pt_index(A, 1)) & _PAGE_ACCESSED);
    assert_false(kread_entry(k, pte_table(k, c->mm, A, 0), pt_index(A, 1)) & _PAGE_ACCESSED);

    /* the child writes: it gets a copy, the parent keeps the original */
    schedule_to(k, c);
    uint64_t allocs = CNT(t, data_pages_alloc);
    uint64_t g = tm_access_ok(t, A, ACC_WRITE);
    assert_int_not_equal(g, f);
    assert_int_equal(CNT(t, pf_cow), 1);
    assert_int_equal(CNT(t, page_copy), 1);
    assert_int_equal(CNT(t, data_pages_alloc), allocs + 1);
    assert_int_equal(xlate(t, c, A), g);
    assert_int_equal(xlate(t, p, A), f);
    assert_int_equal(page_of(k, f)->count, 1);
    assert_int_equal(page_of(k, g)->count, 1);
    kcheck(t);

    /* the parent writes: its page is its own again, reused in place */
    schedule_to(k, p);
    allocs = CNT(t, data_pages_alloc);
    assert_int_equal(tm_access_ok(t, A, ACC_WRITE), f);
    assert_int_equal(CNT(t, pf_cow), 2);
    assert_int_equal(CNT(t, data_pages_alloc), allocs);
    assert_int_equal(CNT(t, page_copy), 1);
    assert_int_equal(page_of(k, f)->count, 1);
    assert_int_equal(oracle_translate(&t->m, p->mm, A, ACC_WRITE, &dummy), 0);
    assert_int_equal(xlate(t, c, A), g);
    kcheck(t);

    /* the child's zero-page mapping is still the zero page */
    schedule_to(k, c);
    assert_int_equal(tm_access_ok(t, A + PG, ACC_READ), k->zero_pfn);
    finish(t);
}

/* The parent's writable TLB entry must not survive fork: its first write
 * afterwards copies, and the child keeps seeing the original. */
static void test_fork_parent_writes_first(void **state)
{
    (void)state;
    struct task *p;
    struct tmachine *t = boot_one(&p);
    struct kernel *k = K(t);
    mmap_anon(t, p, A, PG, PROT_READ | PROT_WRITE);
    uint64_t f = tm_access_ok(t, A, ACC_WRITE);
    tm_access_ok(t, A, ACC_WRITE);   /* cached writable and dirty */
    assert_int_equal(do_fork(k, p, 2), 2);
    struct task *c = task_find(k, 2);
    assert_ptr_equal(k->current, p);
    uint64_t pf = CNT(t, guest_pf);
    uint64_t h = tm_access_ok(t, A, ACC_WRITE);
    assert_int_equal(CNT(t, guest_pf), pf + 1);
    assert_int_not_equal(h, f);
    assert_int_equal(xlate(t, c, A), f);
    assert_int_equal(xlate(t, p, A), h);
    /* the child, alone with the original now, reuses it */
    schedule_to(k, c);
    uint64_t allocs = CNT(t, data_pages_alloc);
    assert_int_equal(tm_access_ok(t, A, ACC_WRITE), f);
    assert_int_equal(CNT(t, data_pages_alloc), allocs);
    kcheck(t);
    finish(t);
}

static void test_shared_file_mapping(void **state)
{
    (void)state;
    struct tmachine *t = tm_boot("native");
    struct kernel *k = K(t);
    struct task *p1 = spawn(t, 1), *p2 = spawn(t, 2);
    const uint64_t B = A + 0x400000;

    schedule_to(k, p1);
    mmap_ok(t, p1, A, 4 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, FILE_INO, 0);
    assert_true(tm_vma(p1->mm, 0)->flags & VM_SHARED);
    uint64_t f = tm_access_ok(t, A, ACC_READ);
    assert_int_equal(CNT(t, pf_file), 1);
    assert_int_not_equal(f, k->zero_pfn);
    assert_true(page_of(k, f)->flags & PG_cache);
    uint64_t f1 = tm_access_ok(t, A + PG, ACC_READ);
    assert_int_not_equal(f1, f);

    /* another process, another address, the same file: the same frames */
    schedule_to(k, p2);
    mmap_ok(t, p2, B, 4 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, FILE_INO, 0);
    assert_int_equal(tm_access_ok(t, B, ACC_READ), f);
    /* a write through a shared mapping stays on the shared frame */
    assert_int_equal(tm_access_ok(t, B, ACC_WRITE), f);
    assert_int_equal(tm_access_ok(t, B + PG, ACC_WRITE), f1);
    schedule_to(k, p1);
    assert_int_equal(tm_access_ok(t, A, ACC_WRITE), f);
    assert_int_equal(xlate(t, p2, B), f);
    kcheck(t);

    /* an offset mapping starts at the right page */
    schedule_to(k, p2);
    mmap_ok(t, p2, B + 0x100000, PG, PROT_READ, MAP_SHARED, FILE_INO, 1);
    assert_int_equal(tm_access_ok(t, B + 0x100000, ACC_READ), f1);

    /* a private mapping of the file reads the cached page, writes a copy */
    mmap_ok(t, p2, B + 0x200000, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, FILE_INO, 0);
    assert_int_equal(tm_access_ok(t, B + 0x200000, ACC_READ), f);
    uint64_t priv = tm_access_ok(t, B + 0x200000, ACC_WRITE);
    assert_int_not_equal(priv, f);
    assert_int_equal(xlate(t, p1, A), f);
    assert_int_equal(xlate(t, p2, B), f);
    kcheck(t);

    /* after both exit the page stays cached (held by the cache alone) */
    exit_all(t);
    assert_int_equal(page_of(k, f)->count, 1);
    assert_true(page_of(k, f)->flags & PG_used);
    finish(t);
}

static void test_munmap_frees(void **state)
{
    (void)state;
    struct task *p;
    struct tmachine *t = boot_one(&p);
    struct kernel *k = K(t);
    struct mm *mm = p->mm;
    const unsigned N = 64;
    mmap_anon(t, p, R, N * PG, PROT_READ | PROT_WRITE);
    for (unsigned i = 0; i < N; i++)
        tm_access_ok(t, R + i * PG, ACC_WRITE);
    assert_int_equal(tm_access_ok(t, R, ACC_READ), xlate(t, p, R));  /* cached in the TLB */
    kcheck(t);

    /* half of it: the data pages go, the tables stay (still in use) */
    uint64_t data = k->data_pages, freed = CNT(t, pt_pages_free), ptp = mm->pt_pages;
    assert_int_equal(sys_munmap(k, p, R + (N / 2) * PG, (N / 2) * PG), 0);
    assert_int_equal(k->data_pages, data - N / 2);
    assert_int_equal(CNT(t, pt_pages_free), freed);
    assert_int_equal(mm->pt_pages, ptp);
    acc_fails(t, R + (N / 2) * PG, ACC_READ);
    acc_fails(t, R + (N - 1) * PG, ACC_WRITE);
    tm_access_ok(t, R + (N / 2 - 1) * PG, ACC_READ);
    kcheck(t);

    /* the rest: the region's L3, L2 and L1 tables are freed too */
    data = k->data_pages;
    assert_int_equal(sys_munmap(k, p, R, (N / 2) * PG), 0);
    assert_int_equal(k->data_pages, data - N / 2);
    assert_int_equal(CNT(t, pt_pages_free), freed + 3);
    assert_int_equal(mm->pt_pages, ptp - 3);
    assert_int_equal(mm->pt_pages, 1);   /* only the pgd is left */
    assert_int_equal(mm->rss, 0);
    assert_int_equal(mm->nvma, 0);
    uint64_t mfn;
    assert_int_not_equal(oracle_translate(&t->m, mm, R, ACC_READ, &mfn), 0);
    /* the TLB no longer translates it */
    acc_fails(t, R, ACC_READ);
    acc_fails(t, R + PG, ACC_WRITE);
    /* munmap of nothing is fine */
    assert_int_equal(sys_munmap(k, p, R, N * PG), 0);
    kcheck(t);
    finish(t);
}

static void test_brk(void **state)
{
    (void)state;
    struct task *p;
    struct tmachine *t = boot_one(&p);
    struct kernel *k = K(t);
    const struct layout *sh = layout_get("sh");
    assert_non_null(sh);
    assert_int_equal(do_execve(k, p, sh), 0);
    assert_int_equal(CNT(t, exec), 1);
    struct mm *mm = p->mm;
    assert_ptr_equal(k->pcpu[0].loaded_mm, mm);
    uint64_t sb = mm->start_brk, b = mm->brk;
    assert_true(b > sb);
    assert_int_equal(b & (PG - 1), 0);
    tm_access_ok(t, sb, ACC_WRITE);
    tm_access_ok(t, b - 8, ACC_WRITE);
    acc_fails(t, b, ACC_WRITE);
    kcheck(t);

    /* grow by 64 KiB: the new part is usable */
    assert_int_equal(sys_brk(k, p, b + 0x10000), (long)(b + 0x10000));
    assert_int_equal(mm->brk, b + 0x10000);
    for (uint64_t a = b; a < b + 0x10000; a += PG)
        tm_access_ok(t, a, ACC_WRITE);
    tm_access_ok(t, b + 0x10000 - 8, ACC_READ);
    acc_fails(t, b + 0x10000, ACC_READ);
    kcheck(t);

    /* shrink to one page: everything beyond faults, its pages are freed */
    uint64_t data = k->data_pages;
    assert_int_equal(sys_brk(k, p, sb + PG), (long)(sb + PG));
    assert_true(k->data_pages < data);
    tm_access_ok(t, sb, ACC_READ);
    acc_fails(t, sb + PG, ACC_READ);
    acc_fails(t, b, ACC_WRITE);
    acc_fails(t, b + 0x8000, ACC_WRITE);
    kcheck(t);

    /* a break below the start is refused: the break stays */
    assert_int_equal(sys_brk(k, p, sb - PG), (long)(sb + PG));
    assert_int_equal(mm->brk, sb + PG);
    assert_int_equal(CNT(t, brk), 3);
    /* an unaligned break is kept as given; its page is usable */
    assert_int_equal(sys_brk(k, p, sb + PG + 100), (long)(sb + PG + 100));
    tm_access_ok(t, sb + PG + 96, ACC_WRITE);
    acc_fails(t, sb + 2 * PG, ACC_WRITE);
    kcheck(t);
    finish(t);
}

static void test_exec_and_exit_leave_nothing(void **state)
{
    (void)state;
    struct task *p;
    struct tmachine *t = boot_one(&p);
    struct kernel *k = K(t);
    assert_int_equal(do_execve(k, p, layout_get("sh")), 0);
    /* the argument page at the top of the stack is mapped */
    assert_int_equal(p->mm->rss, 1);
    for (unsigned i = 0; i < 3; i++)
        tm_access_ok(t, STACK_TOP - (i + 1) * PG, ACC_WRITE);
    tm_access_ok(t, p->mm->start_brk, ACC_WRITE);
    kcheck(t);

    for (uint32_t pid = 2; pid < 6; pid++) {
        assert_int_equal(do_fork(k, p, pid), (long)pid);
        struct task *c = task_find(k, pid);
        schedule_to(k, c);
        tm_access_ok(t, STACK_TOP - PG, ACC_WRITE);
        if (pid % 2 == 0) {
            assert_int_equal(do_execve(k, c, layout_get("hello")), 0);
            tm_access_ok(t, STACK_TOP - 2 * PG, ACC_WRITE);
        }
        kcheck(t);
        schedule_to(k, p);
    }
    assert_int_equal(k->ntasks, 5);
    /* exit the children, one with the machine on its own mm */
    struct task *c5 = task_find(k, 5);
    schedule_to(k, c5);
    do_exit(k, c5);
    assert_null(task_find(k, 5));
    assert_null(k->current);
    kcheck(t);
    assert_int_equal(CNT(t, exit), 1);
    finish(t);
}

static void test_pcid_switch(void **state)
{
    (void)state;
    struct tmachine *t = tm_boot("native");
    struct kernel *k = K(t);
    assert_true(t->m.cpu.pcid_enabled);
    struct task *a = spawn(t, 1), *b = spawn(t, 2);

    uint64_t fa = switch_and_write_page(t, a);
    uint64_t fb = switch_and_write_page(t, b);
    assert_int_not_equal(fa, fb);
    assert_int_not_equal(t->m.cpu.pcid, 0);

    /* back and forth: no flush, and the translations survive */
    uint64_t fl = CNT(t, tlb_flush_pcid), miss = CNT(t, tlb_miss), sw = CNT(t, ctx_switch);
    schedule_to(k, a);
    assert_int_equal(CNT(t, ctx_switch), sw + 1);
    assert_int_equal(tm_access_ok(t, A, ACC_READ), fa);
    schedule_to(k, b);
    assert_int_equal(tm_access_ok(t, A, ACC_READ), fb);
    schedule_to(k, a);
    assert_int_equal(tm_access_ok(t, A, ACC_WRITE), fa);
    assert_int_equal(CNT(t, tlb_flush_pcid), fl);
    assert_int_equal(CNT(t, tlb_flush_nonglobal), 0);
    assert_int_equal(CNT(t, tlb_miss), miss);
    assert_int_equal(CNT(t, ctx_switch), sw + 3);

    /* a flush request for b while a is loaded: only b's generation moves */
    schedule_to(k, a);
    uint64_t gen = b->mm->tlb_gen;
    flush_tlb_mm(k, b->mm);
    assert_int_equal(b->mm->tlb_gen, gen + 1);
    assert_int_equal(CNT(t, tlb_flush_pcid), fl);
    assert_int_equal(tm_access_ok(t, A, ACC_READ), fa);
    assert_int_equal(CNT(t, tlb_miss), miss);
    /* the switch to b flushes its PCID; its access walks again */
    schedule_to(k, b);
    assert_int_equal(CNT(t, tlb_flush_pcid), fl + 1);
    assert_int_equal(tm_access_ok(t, A, ACC_READ), fb);
    assert_int_equal(CNT(t, tlb_miss), miss + 1);
    /* a was not flushed */
    schedule_to(k, a);
    assert_int_equal(CNT(t, tlb_flush_pcid), fl + 1);
    assert_int_equal(tm_access_ok(t, A, ACC_READ), fa);
    assert_int_equal(CNT(t, tlb_miss), miss + 1);
    kcheck(t);
    finish(t);
}

static void test_no_pcid_switch_flushes(void **state)
{
    (void)state;
    static const char *const params[] = { "guest.pcid=false", NULL };
    struct tmachine *t = tm_boot_params("native", "memwalk", params);
    struct kernel *k = K(t);
    assert_false(t->m.cpu.pcid_enabled);
    struct task *a = spawn(t, 1), *b = spawn(t, 2);
    uint64_t fa = switch_and_write_page(t, a);
    schedule_to(k, b);
    uint64_t fl = CNT(t, tlb_flush_nonglobal), miss = CNT(t, tlb_miss);
    schedule_to(k, a);
    assert_int_equal(CNT(t, tlb_flush_nonglobal), fl + 1);
    assert_int_equal(tm_access_ok(t, A, ACC_READ), fa);
    assert_int_equal(CNT(t, tlb_miss), miss + 1);
    assert_int_equal(CNT(t, tlb_flush_pcid), 0);
    finish(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_boot_and_shutdown),
        cmocka_unit_test(test_vma_merge_and_munmap_split),
        cmocka_unit_test(test_mprotect_split_merge),
        cmocka_unit_test(test_demand_zero_and_zero_page),
        cmocka_unit_test(test_no_zero_page),
        cmocka_unit_test(test_fork_cow),
        cmocka_unit_test(test_fork_parent_writes_first),
        cmocka_unit_test(test_shared_file_mapping),
        cmocka_unit_test(test_munmap_frees),
        cmocka_unit_test(test_brk),
        cmocka_unit_test(test_exec_and_exit_leave_nothing),
        cmocka_unit_test(test_pcid_switch),
        cmocka_unit_test(test_no_pcid_switch_flushes),
        cmocka_unit_test(test_many_tasks_colliding_pids),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_pv_lazy_mmu.c: the scope of lazy MMU mode in a Xen PV guest, as
 * Linux's mm code sets it: copy_pte_range (fork), change_pte_range
 * (mprotect) and zap_pte_range each enter lazy mode around one page table
 * and leave it after, and leaving sends the batch (xen_leave_lazy_mmu ->
 * xen_mc_flush). So the child's entries of each table reach Xen in an
 * mmu_update of their own, never merged with another table's. The
 * hypercalls are watched through a wrapper around the hypervisor's
 * hypercall handler, which sees each mmu_update, plain or inside a
 * multicall. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "testutil_pv.h"

#define NTABLES 6                          /* PTE tables the parent fills */
#define PER_TABLE 3                        /* pages written in each */
#define BASE 0x10000000ull                 /* 2 MiB aligned, one L2 */

/* ---- watching the mmu_update hypercalls ------------------------------------ */

static const struct vmm_ops *real_ops;
static struct vmm_ops watch_ops;
static struct {
    unsigned calls;                        /* mmu_update hypercalls (each entry of a multicall counts) */
    unsigned requests;                     /* their requests */
    unsigned mixed;                        /* calls whose requests name more than one table */
    unsigned most;                         /* the most requests in one call */
    uint64_t table[64];                    /* the table (machine frame) of each call */
    unsigned ext_calls, ext_ops, ext_most; /* the same of mmuext_op hypercalls and their ops */
} seen;

static void note_mmuext_op(const struct mmuext_args *a)
{
    seen.ext_calls++;
    seen.ext_ops += a->count;
    if (a->count > seen.ext_most)
        seen.ext_most = a->count;
}

static void note_mmu_update(const struct mmu_update_args *a)
{
    uint64_t first = a->req[0].ptr >> PAGE_SHIFT;
    for (unsigned i = 1; i < a->count; i++)
        if (a->req[i].ptr >> PAGE_SHIFT != first) {
            seen.mixed++;
            break;
        }
    if (seen.calls < 64)
        seen.table[seen.calls] = first;
    seen.calls++;
    seen.requests += a->count;
    if (a->count > seen.most)
        seen.most = a->count;
}

static long watch_hypercall(void *ctx, struct cpu *c, unsigned nr, void *arg)
{
    if (nr == __HYPERVISOR_mmu_update) {
        note_mmu_update(arg);
    } else if (nr == __HYPERVISOR_mmuext_op) {
        note_mmuext_op(arg);
    } else if (nr == __HYPERVISOR_multicall) {
        const struct multicall_args *m = arg;
        for (unsigned i = 0; i < m->count; i++)
            if (m->call[i].op == __HYPERVISOR_mmu_update)
                note_mmu_update(m->call[i].args);
            else if (m->call[i].op == __HYPERVISOR_mmuext_op)
                note_mmuext_op(m->call[i].args);
    }
    return real_ops->hypercall(ctx, c, nr, arg);
}

static void watch(struct tmachine *t)
{
    real_ops = t->m.cpu.vmm;
    watch_ops = *real_ops;
    watch_ops.hypercall = watch_hypercall;
    t->m.cpu.vmm = &watch_ops;
    memset(&seen, 0, sizeof seen);
}

static void unwatch(struct tmachine *t) { t->m.cpu.vmm = real_ops; }

/* A running process whose anonymous memory spans NTABLES PTE tables, with
 * PER_TABLE pages written in each. */
static struct task *parent_with_tables(struct tmachine *t)
{
    struct kernel *k = K(t);
    struct task *p = kernel_spawn(k, 1);
    schedule_to(k, p);
    uint64_t len = NTABLES * HPAGE_SIZE;
    assert_int_equal(sys_mmap(k, p, BASE, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANON, 0, 0), (long)BASE);
    for (unsigned tb = 0; tb < NTABLES; tb++)
        for (unsigned i = 0; i < PER_TABLE; i++) {
            uint64_t mfn;
            assert_int_equal(user_access(k, BASE + tb * HPAGE_SIZE + i * 7 * PAGE_SIZE, ACC_WRITE, &mfn), 0);
        }
    return p;
}

/* fork: one mmu_update per table of the child, holding that table's
 * entries and no other's (with one lazy scope around the whole copy, the
 * NTABLES * PER_TABLE requests merged into a single mmu_update). */
static void test_fork_sends_each_table_apart(void **state)
{
    (void)state;
    struct tmachine *t = boot("pv", NULL);
    struct kernel *k = K(t);
    struct task *p = parent_with_tables(t);
    watch(t);
    assert_int_equal(do_fork(k, p, 2), 2);
    unwatch(t);
    struct task *c = task_find(k, 2);
    assert_non_null(c);
    assert_int_equal(seen.requests, NTABLES * PER_TABLE);
    assert_int_equal(seen.mixed, 0);
    assert_true(seen.calls >= NTABLES);                /* at least one per non-empty child table */
    assert_int_equal(seen.calls, NTABLES);             /* and, under 32 entries a table, exactly one */
    for (unsigned tb = 0; tb < NTABLES; tb++)          /* the child's tables, in order */
        assert_int_equal(seen.table[tb], p2m(t, table_pfn(t, c->mm, BASE + tb * HPAGE_SIZE, 1)));
    struct task *tasks[] = { c, p };
    finish(t, tasks, 2);
}

/* mprotect: the entries of each table are changed in a lazy scope of
 * their own, so each table's go to Xen in an mmu_update of their own. */
static void test_mprotect_sends_each_table_apart(void **state)
{
    (void)state;
    struct tmachine *t = boot("pv", NULL);
    struct kernel *k = K(t);
    struct task *p = parent_with_tables(t);
    watch(t);
    assert_int_equal(sys_mprotect(k, p, BASE, NTABLES * HPAGE_SIZE, PROT_READ), 0);
    unwatch(t);
    assert_int_equal(seen.requests, NTABLES * PER_TABLE);
    assert_int_equal(seen.mixed, 0);
    assert_int_equal(seen.calls, NTABLES);
    for (unsigned tb = 0; tb < NTABLES; tb++)
        assert_int_equal(seen.table[tb], p2m(t, table_pfn(t, p->mm, BASE + tb * HPAGE_SIZE, 1)));
    struct task *tasks[] = { p };
    finish(t, tasks, 1);
}

/* n requests reached Xen in `calls` hypercalls of at most `most` each:
 * want of them in want_calls, none holding more than a batch's limit. */
static void assert_batched(unsigned n, unsigned calls, unsigned most, unsigned want, unsigned want_calls,
                           unsigned limit)
{
    assert_int_equal(n, want);
    assert_int_equal(calls, want_calls);
    assert_int_equal(most, limit < want ? limit : want);
}

/* A table with more entries than a batch holds: Linux's multicall buffer
 * takes 31 mmu_updates of 16 bytes (its argument area of 512 bytes is
 * never filled to the last byte: `argidx + size >= MC_ARGS`), so 32
 * entries take two calls, and 63 three. */
static void test_mprotect_batches_31_updates(void **state)
{
    (void)state;
    static const unsigned pages[] = { 31, 32, 63 }, calls[] = { 1, 2, 3 };
    for (unsigned c = 0; c < 3; c++) {
        struct tmachine *t = boot("pv", NULL);
        struct kernel *k = K(t);
        struct task *p = kernel_spawn(k, 1);
        schedule_to(k, p);
        assert_int_equal(sys_mmap(k, p, BASE, HPAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANON, 0, 0),
                         (long)BASE);
        for (unsigned i = 0; i < pages[c]; i++) {
            uint64_t mfn;
            assert_int_equal(user_access(k, BASE + i * PAGE_SIZE, ACC_WRITE, &mfn), 0);
        }
        watch(t);
        assert_int_equal(sys_mprotect(k, p, BASE, HPAGE_SIZE, PROT_READ), 0);
        unwatch(t);
        assert_batched(seen.requests, seen.calls, seen.most, pages[c], calls[c], 31);
        struct task *tasks[] = { p };
        finish(t, tasks, 1);
    }
}

/* The same limit for mmuext_ops, 24 bytes each: 21 in a batch (22 would
 * fill the 512 bytes to the last byte, which `argidx + size >= MC_ARGS`
 * refuses). No path of the guest queues that many in one lazy scope, so
 * the ops are queued here through the paravirt table itself: single-page
 * flushes (MMUEXT_INVLPG_LOCAL), which a lazy scope holds back until it
 * is left. */
static void test_lazy_scope_batches_21_mmuext_ops(void **state)
{
    (void)state;
    static const unsigned ops[] = { 21, 22, 42, 43 }, calls[] = { 1, 2, 2, 3 };
    for (unsigned c = 0; c < 4; c++) {
        struct tmachine *t = boot("pv", NULL);
        struct kernel *k = K(t);
        struct task *p = kernel_spawn(k, 1);
        schedule_to(k, p);
        watch(t);
        lazy_mmu_enter(k);
        for (unsigned i = 0; i < ops[c]; i++)
            k->pv->flush_tlb_one_user(k, BASE + i * PAGE_SIZE);
        assert_int_equal(seen.ext_ops, (ops[c] - 1) / 21 * 21);   /* each batch sent when the next op did not fit */
        lazy_mmu_leave(k);
        unwatch(t);
        assert_batched(seen.ext_ops, seen.ext_calls, seen.ext_most, ops[c], calls[c], 21);
        struct task *tasks[] = { p };
        finish(t, tasks, 1);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fork_sends_each_table_apart),
        cmocka_unit_test(test_mprotect_sends_each_table_apart),
        cmocka_unit_test(test_mprotect_batches_31_updates),
        cmocka_unit_test(test_lazy_scope_batches_21_mmuext_ops),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_vma_tree.c: the guest's VMAs in a balanced tree (guest/vma.c on
 * lib/range_tree.h), driven through the system calls a trace makes:
 *  - 200,000 one-page mmaps at descending addresses (what made the sorted
 *    array move its whole tail at each one: n^2 / 2 VMA copies) with
 *    vm.max_map_count raised: every VMA is there, in order, the tree at
 *    most 2 log2(n + 1) deep and well formed (kernel_check), and the VMA
 *    mapped first is still where it was (a tree node does not move when
 *    others come; the array's element moved with every insertion below it,
 *    so this fails on the array);
 *  - the holes mapped again, from the top down: each mmap merges its two
 *    neighbours into one, until one VMA covers it all; an mprotect of
 *    every other page cuts it back into 2n - 1 and an mprotect of the whole
 *    merges them again; one munmap removes it;
 *  - a fork copies the VMAs in order, with their shmem references: each
 *    object referenced once by each address space that maps it. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <math.h>
#include <string.h>

#include "guest/kernel.h"
#include "guest/shmem.h"
#include "testutil.h"

#define PG PAGE_SIZE
#define TOP 0x7f0000000000ull
#define RW (PROT_READ | PROT_WRITE)
#define ANON (MAP_PRIVATE | MAP_ANON)

static void expect_ok(struct kernel *k)
{
    char msg[512] = "";
    if (kernel_check(k, msg, sizeof msg))
        fail_msg("kernel_check failed: %s", msg);
}

static unsigned rb_bound(uint64_t n) { return (unsigned)(2 * log2((double)n + 1)); }

static void test_descending_mmaps(void **state)
{
    (void)state;
    enum { N = 200000 };
    struct tmachine *t = tm_boot("native");
    struct kernel *k = &t->m.k;
    k->cfg.max_map_count = 2 * N + 10;
    struct task *p = kernel_spawn(k, 1);
    schedule_to(k, p);
    struct mm *mm = p->mm;
    /* VMA i at TOP - 2i pages: a hole of one page between neighbours */
    struct vma *first = NULL;
    for (uint64_t i = 0; i < N; i++) {
        uint64_t a = TOP - 2 * i * PG;
        assert_int_equal(sys_mmap(k, p, a, PG, RW, ANON, 0, 0), (long)a);
        if (!i)
            first = find_vma(mm, TOP);
    }
    assert_int_equal(mm->nvma, N);
    assert_ptr_equal(find_vma(mm, TOP), first);
    assert_int_equal(first->start, TOP);
    assert_int_equal(first->end, TOP + PG);
    assert_true(vma_tree_depth(mm) <= rb_bound(N));
    expect_ok(k);
    /* in order, every one there */
    uint64_t i = N;
    struct vma *v;
    for_each_vma(mm, v) {
        i--;
        assert_int_equal(v->start, TOP - 2 * i * PG);
        assert_int_equal(v->end, TOP - 2 * i * PG + PG);
    }
    assert_int_equal(i, 0);
    assert_null(find_vma(mm, TOP - PG));                     /* a hole */
    assert_ptr_equal(vma_first_after(mm, TOP - PG), first);
    assert_null(vma_first_after(mm, TOP + PG));

    /* the holes, from the top down: each merges its neighbours */
    for (uint64_t j = 1; j < N; j++) {
        uint64_t a = TOP - (2 * j - 1) * PG;
        assert_int_equal(sys_mmap(k, p, a, PG, RW, ANON, 0, 0), (long)a);
        assert_int_equal(mm->nvma, N - j);
    }
    const uint64_t lo = TOP - 2 * (N - 1) * PG, hi = TOP + PG;
    assert_int_equal(mm->nvma, 1);
    assert_int_equal(vma_first(mm)->start, lo);
    assert_int_equal(vma_first(mm)->end, hi);
    expect_ok(k);

    /* every other page read-only from the bottom up: 2N - 1 VMAs */
    for (uint64_t a = lo; a < hi; a += 2 * PG)
        assert_int_equal(sys_mprotect(k, p, a, PG, PROT_READ), 0);
    assert_int_equal(mm->nvma, 2 * N - 1);
    assert_true(vma_tree_depth(mm) <= rb_bound(2 * N - 1));
    expect_ok(k);
    assert_int_equal(sys_mprotect(k, p, lo, hi - lo, RW), 0);
    assert_int_equal(mm->nvma, 1);
    assert_int_equal(sys_munmap(k, p, lo, hi - lo), 0);
    assert_int_equal(mm->nvma, 0);
    assert_null(vma_first(mm));
    expect_ok(k);
    do_exit(k, p);
    assert_int_equal(tm_destroy(t), 0);
}

#define S 0x80000000ull

static void test_fork_copies_in_order(void **state)
{
    (void)state;
    struct tmachine *t = tm_boot("native");
    struct kernel *k = &t->m.k;
    struct task *p = kernel_spawn(k, 1);
    schedule_to(k, p);
    /* descending, alternating private and shared anonymous: none merge */
    enum { N = 64 };
    for (uint64_t i = 0; i < N; i++) {
        uint64_t a = S - 2 * i * PG;
        unsigned fl = i % 2 ? (MAP_SHARED | MAP_ANON) : ANON;
        assert_int_equal(sys_mmap(k, p, a, PG, RW, fl, 0, 0), (long)a);
    }
    uint64_t mfn;
    assert_int_equal(user_access(k, S, ACC_WRITE, &mfn), 0);     /* VM_ANONVMA: fork copies its pte */
    assert_int_equal(do_fork(k, p, 2), 2);
    struct task *c = task_find(k, 2);
    assert_non_null(c);
    assert_int_equal(c->mm->nvma, N);
    struct vma *a = vma_first(p->mm), *b = vma_first(c->mm);
    for (; a && b; a = vma_next(a), b = vma_next(b)) {
        assert_ptr_not_equal(a, b);
        assert_int_equal(a->start, b->start);
        assert_int_equal(a->end, b->end);
        assert_int_equal(a->flags, b->flags);
        assert_int_equal(a->file, b->file);
        if (a->flags & VM_SHMEM)
            assert_int_equal(shmem_refs(k, a->file), 2);
    }
    assert_null(a);
    assert_null(b);
    expect_ok(k);
    do_exit(k, c);
    struct vma *v;
    for_each_vma(p->mm, v)
        if (v->flags & VM_SHMEM)
            assert_int_equal(shmem_refs(k, v->file), 1);
    expect_ok(k);
    do_exit(k, p);
    assert_int_equal(tm_destroy(t), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_descending_mmaps),
        cmocka_unit_test(test_fork_copies_in_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

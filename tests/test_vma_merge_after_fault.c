/* test_vma_merge_after_fault.c (was pending: failed before the fix it describes;
 * low severity, a fidelity gap rather than a correctness bug).
 *
 * vma.c says VMAs are "split and merged as munmap and mprotect cut them
 * (Linux mm/mmap.c __split_vma, vma_merge)". But can_merge()
 * (src/guest/vma.c:74) compares the whole flags word, including the internal
 * VM_ANONVMA bit that the fault handler sets once a VMA has anonymous pages.
 * So a fresh anonymous mapping never merges with a neighbour that has been
 * written: munmap one page in the middle of a written region, mmap it again
 * with the same protection, and the address space keeps three VMAs where
 * Linux (whose vma_merge accepts a VMA without an anon_vma next to one with
 * it) has one. VMA counts, and the vma_op cycles charged, drift from Linux's
 * on workloads that remap (memwalk remap_every). Move to tests/ once fixed. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "guest/kernel.h"
#include "testutil.h"

#define A 0x10000000ull
#define PG PAGE_SIZE

static void test_remapped_hole_merges(void **state)
{
    (void)state;
    struct tmachine *t = tm_boot("native");
    struct kernel *k = &t->m.k;
    struct task *p = kernel_spawn(k, 1);
    schedule_to(k, p);
    assert_int_equal(sys_mmap(k, p, A, 8 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANON, 0, 0),
                     (long)A);
    uint64_t mfn;
    for (unsigned i = 0; i < 8; i++)
        assert_int_equal(user_access(k, A + i * PG, ACC_WRITE, &mfn), 0);
    assert_int_equal(sys_munmap(k, p, A + 4 * PG, PG), 0);
    assert_int_equal(p->mm->nvma, 2);
    assert_int_equal(sys_mmap(k, p, A + 4 * PG, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANON, 0, 0),
                     (long)(A + 4 * PG));
    assert_int_equal(p->mm->nvma, 1);
    assert_int_equal(p->mm->vma[0].start, A);
    assert_int_equal(p->mm->vma[0].end, A + 8 * PG);
    do_exit(k, p);
    assert_int_equal(tm_destroy(t), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_remapped_hole_merges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_vma_merge_after_fault.c: an anonymous mapping merges with a
 * neighbour that has anonymous pages, as Linux's vma_merge allows: munmap
 * one page in the middle of a written region, mmap it again with the same
 * protection, and the address space is one VMA again. Regression: the
 * internal VM_ANONVMA bit once kept them apart (three VMAs). */
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
    assert_int_equal(tm_vma(p->mm, 0)->start, A);
    assert_int_equal(tm_vma(p->mm, 0)->end, A + 8 * PG);
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

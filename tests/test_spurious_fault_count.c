/* test_spurious_fault_count.c: a write through a cached read-only entry to a
 * page whose PTE is read-only too (the zero page, a COW page) is a real
 * protection fault, not a spurious one: spurious_fault stays 0. Regression:
 * it was counted before the re-walk had decided. The positive case (an entry
 * more restrictive than the tables) is in test_cpu.c. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "guest/kernel.h"
#include "testutil.h"

#define VA 0x10000000ull

static void test_real_protection_fault_not_spurious(void **state)
{
    (void)state;
    struct tmachine *t = tm_boot("native");
    struct kernel *k = &t->m.k;
    struct task *p = kernel_spawn(k, 1);
    schedule_to(k, p);
    assert_int_equal(sys_mmap(k, p, VA, PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANON, 0, 0),
                     (long)VA);
    uint64_t mfn;
    /* read: maps the zero page read-only; the translation is cached */
    assert_int_equal(user_access(k, VA, ACC_READ, &mfn), 0);
    assert_int_equal(mfn, k->zero_pfn);
    assert_int_equal(user_access(k, VA, ACC_READ, &mfn), 0);
    uint64_t pf = t->m.st.cnt[CNT_guest_pf];
    /* write: the PTE is read-only, so this is a real (COW) fault */
    assert_int_equal(user_access(k, VA, ACC_WRITE, &mfn), 0);
    assert_int_not_equal(mfn, k->zero_pfn);
    assert_int_equal(t->m.st.cnt[CNT_guest_pf], pf + 1);
    assert_int_equal(t->m.st.cnt[CNT_spurious_fault], 0);
    do_exit(k, p);
    assert_int_equal(tm_destroy(t), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_real_protection_fault_not_spurious),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

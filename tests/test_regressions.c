/* test_regressions.c: bugs found in review, each reproduced as it was found.
 *  - munmap of a region whose only cleared entries mapped the zero page must
 *    still flush the TLB (it did not: the stale entry outlived the unmap);
 *  - a PV address-space switch is one CR3 load: one non-global flush, one
 *    cr3_write charge (it counted four and charged two);
 *  - shared anonymous memory never maps the shared zero page writable;
 *  - a refused mmap leaves the old mapping alone. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "guest/kernel.h"
#include "sim/oracle.h"
#include "testutil.h"
#include <errno.h>

#define A 0x40000000ull
#define B (A + 16 * PAGE_SIZE)          /* same 2 MiB region as A */

static void test_zero_page_unmap_flushes(void **state)
{
    (void)state;
    static const char *const which[] = { "native", "pv" };
    for (unsigned m = 0; m < 2; m++) {
        struct tmachine *t = tm_boot(which[m]);
        struct oracle *o = oracle_create(&t->m);   /* remembers what every access used */
        struct kernel *k = &t->m.k;
        struct task *p = kernel_spawn(k, 1);
        schedule_to(k, p);
        uint64_t mfn;
        char msg[256];
        assert_int_equal(sys_mmap(k, p, A, PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANON, 0, 0), (long)A);
        assert_int_equal(sys_mmap(k, p, B, PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANON, 0, 0), (long)B);
        assert_int_equal(user_access(k, B, ACC_WRITE, &mfn), 0);   /* keeps the L1 table alive */
        assert_int_equal(oracle_check(o, p->mm, B, ACC_WRITE, mfn, msg, sizeof msg), 0);
        assert_int_equal(user_access(k, A, ACC_READ, &mfn), 0);    /* maps the zero page */
        assert_int_equal(oracle_check(o, p->mm, A, ACC_READ, mfn, msg, sizeof msg), 0);
        assert_int_equal(sys_munmap(k, p, A, PAGE_SIZE), 0);
        assert_int_equal(user_access(k, A, ACC_READ, &mfn), -EFAULT);
        /* a file mapped there now must be what a read sees: munmap's flush
         * ended the zero page's allowance */
        assert_int_equal(sys_mmap(k, p, A, PAGE_SIZE, PROT_READ, MAP_PRIVATE, 77, 0), (long)A);
        assert_int_equal(user_access(k, A, ACC_READ, &mfn), 0);
        assert_int_equal(oracle_check(o, p->mm, A, ACC_READ, mfn, msg, sizeof msg), 0);
        assert_int_equal(t->m.st.cnt[CNT_oracle_stale], 0);
        do_exit(k, p);
        oracle_destroy(o);
        assert_int_equal(tm_destroy(t), 0);
    }
}

static void test_pv_switch_is_one_cr3_load(void **state)
{
    (void)state;
    struct tmachine *t = tm_boot("pv");
    struct kernel *k = &t->m.k;
    struct task *a = kernel_spawn(k, 1), *b = kernel_spawn(k, 2);
    schedule_to(k, a);
    uint64_t flushes = t->m.st.cnt[CNT_tlb_flush_nonglobal], cyc = t->m.st.cyc[CYC_ctx_switch];
    schedule_to(k, b);
    assert_int_equal(t->m.st.cnt[CNT_tlb_flush_nonglobal], flushes + 1);
    assert_int_equal(t->m.st.cyc[CYC_ctx_switch], cyc + t->cfg.cost.ctx_switch + t->cfg.cost.cr3_write);
    /* and the hardware now walks b's user tables */
    assert_int_equal(t->m.cpu.hw_root, cpu_gfn_to_mfn(&t->m.cpu, b->mm->user_pgd));
    do_exit(k, a);
    do_exit(k, b);
    assert_int_equal(tm_destroy(t), 0);
}

static void test_shared_anon_not_zero_page(void **state)
{
    (void)state;
    struct tmachine *t = tm_boot("native");
    struct kernel *k = &t->m.k;
    struct task *p = kernel_spawn(k, 1);
    schedule_to(k, p);
    uint64_t mfn;
    assert_int_equal(sys_mmap(k, p, A, PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANON, 0, 0), (long)A);
    assert_int_equal(user_access(k, A, ACC_READ, &mfn), 0);
    assert_int_not_equal(mfn, k->zero_pfn);
    assert_int_equal(user_access(k, A, ACC_WRITE, &mfn), 0);
    assert_int_not_equal(mfn, k->zero_pfn);
    /* a fork shares it: the child sees the same frame, even after writing */
    assert_int_equal(do_fork(k, p, 2), 2);
    struct task *c = task_find(k, 2);
    schedule_to(k, c);
    uint64_t cm;
    assert_int_equal(user_access(k, A, ACC_WRITE, &cm), 0);
    assert_int_equal(cm, mfn);
    do_exit(k, c);
    do_exit(k, p);
    assert_int_equal(tm_destroy(t), 0);
}

static void test_refused_mmap_keeps_old_mapping(void **state)
{
    (void)state;
    struct tmachine *t = tm_boot("native");
    struct kernel *k = &t->m.k;
    struct task *p = kernel_spawn(k, 1);
    schedule_to(k, p);
    uint64_t mfn, again;
    assert_int_equal(sys_mmap(k, p, A, PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANON, 0, 0), (long)A);
    assert_int_equal(user_access(k, A, ACC_WRITE, &mfn), 0);
    assert_int_equal(sys_mmap(k, p, A, PAGE_SIZE, PROT_READ, MAP_PRIVATE | MAP_HUGETLB, 77, 0), -EINVAL);
    assert_int_equal(user_access(k, A, ACC_WRITE, &again), 0);
    assert_int_equal(again, mfn);
    do_exit(k, p);
    assert_int_equal(tm_destroy(t), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_zero_page_unmap_flushes),
        cmocka_unit_test(test_pv_switch_is_one_cr3_load),
        cmocka_unit_test(test_shared_anon_not_zero_page),
        cmocka_unit_test(test_refused_mmap_keeps_old_mapping),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

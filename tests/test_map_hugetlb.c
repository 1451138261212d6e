/* test_map_hugetlb.c: transparent huge pages for anonymous memory
 * (guest/thp.c): one fault maps a whole 2 MiB page without an L1 table; a
 * partial munmap or mprotect splits it into 512 PTEs; fork shares it
 * copy-on-write and a write copies it; PV guests fall back to 4 KiB pages.
 * (Written while the feature was missing; it failed then.) */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>

#include "guest/kernel.h"
#include "testutil.h"

#define HUGE (2ull << 20)
#define A (0x40000000ull)          /* 2 MiB aligned */

static void test_hugetlb_one_fault_per_2m(void **state)
{
    (void)state;
    struct tmachine *t = tm_boot("native");
    struct kernel *k = &t->m.k;
    struct task *p = kernel_spawn(k, 1);
    schedule_to(k, p);
    assert_int_equal(sys_mmap(k, p, A, 2 * HUGE, PROT_READ | PROT_WRITE,
                              MAP_PRIVATE | MAP_ANON | MAP_HUGETLB, 0, 0), (long)A);
    uint64_t mfn0, mfn;
    assert_int_equal(user_access(k, A, ACC_WRITE, &mfn0), 0);
    for (uint64_t off = PAGE_SIZE; off < HUGE; off += PAGE_SIZE) {
        assert_int_equal(user_access(k, A + off, ACC_WRITE, &mfn), 0);
        assert_int_equal(mfn, mfn0 + off / PAGE_SIZE);   /* contiguous frames */
    }
    assert_int_equal(t->m.st.cnt[CNT_guest_pf], 1);
    assert_int_equal(t->m.st.cnt[CNT_pt_alloc_l1], 0);
    do_exit(k, p);
    assert_int_equal(tm_destroy(t), 0);
}


static uint64_t pmd_entry_of(struct kernel *k, struct mm *mm, uint64_t va)
{
    unsigned i;
    uint64_t pmd = pmd_table(k, mm, va, 0, &i);
    return pmd ? kread_entry(k, pmd, i) : 0;
}

static void test_hugetlb_split_on_partial_ops(void **state)
{
    (void)state;
    struct tmachine *t = tm_boot("native");
    struct kernel *k = &t->m.k;
    struct task *p = kernel_spawn(k, 1);
    schedule_to(k, p);
    uint64_t mfn, first;
    assert_int_equal(sys_mmap(k, p, A, 2 * HUGE, PROT_READ | PROT_WRITE,
                              MAP_PRIVATE | MAP_ANON | MAP_HUGETLB, 0, 0), (long)A);
    assert_int_equal(user_access(k, A, ACC_WRITE, &first), 0);
    assert_int_equal(user_access(k, A + HUGE, ACC_WRITE, &mfn), 0);
    assert_true(pmd_entry_of(k, p->mm, A) & _PAGE_PSE);
    uint64_t rss = p->mm->rss, data = k->data_pages;
    assert_int_equal(rss, 1024);
    /* munmap one 4 KiB page in the middle of the first huge page: split */
    assert_int_equal(sys_munmap(k, p, A + 5 * PAGE_SIZE, PAGE_SIZE), 0);
    pte_t pe = pmd_entry_of(k, p->mm, A);
    assert_true(pte_present(pe));
    assert_false(pe & _PAGE_PSE);
    assert_int_equal(p->mm->rss, rss - 1);
    assert_int_equal(k->data_pages, data - 1);
    /* the rest of the split page keeps its frames */
    assert_int_equal(user_access(k, A, ACC_READ, &mfn), 0);
    assert_int_equal(mfn, first);
    assert_int_equal(user_access(k, A + 6 * PAGE_SIZE, ACC_READ, &mfn), 0);
    assert_int_equal(mfn, first + 6);
    assert_int_equal(user_access(k, A + 5 * PAGE_SIZE, ACC_READ, &mfn), -EFAULT);
    /* mprotect half of the second huge page read-only: split, then a write faults */
    assert_int_equal(sys_mprotect(k, p, A + HUGE, HUGE / 2, PROT_READ), 0);
    assert_false(pmd_entry_of(k, p->mm, A + HUGE) & _PAGE_PSE);
    assert_int_equal(user_access(k, A + HUGE, ACC_WRITE, &mfn), -EFAULT);
    assert_int_equal(user_access(k, A + HUGE + HUGE / 2, ACC_WRITE, &mfn), 0);
    char msg[256];
    assert_int_equal(kernel_check(k, msg, sizeof msg), 0);
    do_exit(k, p);
    assert_int_equal(tm_destroy(t), 0);
}

static void test_hugetlb_fork_cow(void **state)
{
    (void)state;
    struct tmachine *t = tm_boot("native");
    struct kernel *k = &t->m.k;
    struct task *p = kernel_spawn(k, 1);
    schedule_to(k, p);
    uint64_t pm, cm;
    assert_int_equal(sys_mmap(k, p, A, HUGE, PROT_READ | PROT_WRITE,
                              MAP_PRIVATE | MAP_ANON | MAP_HUGETLB, 0, 0), (long)A);
    assert_int_equal(user_access(k, A, ACC_WRITE, &pm), 0);
    uint64_t pm0 = pm;
    assert_int_equal(do_fork(k, p, 2), 2);
    struct task *c = task_find(k, 2);
    schedule_to(k, c);
    assert_int_equal(user_access(k, A + 64, ACC_READ, &cm), 0);
    assert_int_equal(cm, pm);                           /* shared */
    uint64_t cow = t->m.st.cnt[CNT_pf_cow];
    assert_int_equal(user_access(k, A + 64, ACC_WRITE, &cm), 0);
    assert_int_not_equal(cm, pm);                       /* the child got a copy */
    assert_int_equal(t->m.st.cnt[CNT_pf_cow], cow + 1);
    assert_true(pmd_entry_of(k, c->mm, A) & _PAGE_PSE);
    schedule_to(k, p);
    uint64_t cow2 = t->m.st.cnt[CNT_pf_cow];
    assert_int_equal(user_access(k, A, ACC_WRITE, &pm), 0);
    assert_int_equal(pm, pm0);                          /* parent reuses its page in place */
    assert_int_equal(t->m.st.cnt[CNT_pf_cow], cow2 + 1);
    char msg[256];
    assert_int_equal(kernel_check(k, msg, sizeof msg), 0);
    do_exit(k, c);
    do_exit(k, p);
    assert_int_equal(tm_destroy(t), 0);
}

/* Xen refuses PSE in a PV guest's L2 entries: the backend is not
 * huge-capable, so MAP_HUGETLB falls back to 4 KiB pages. */
static void test_hugetlb_pv_falls_back(void **state)
{
    (void)state;
    struct tmachine *t = tm_boot("pv");
    struct kernel *k = &t->m.k;
    struct task *p = kernel_spawn(k, 1);
    schedule_to(k, p);
    uint64_t mfn;
    assert_int_equal(sys_mmap(k, p, A, HUGE, PROT_READ | PROT_WRITE,
                              MAP_PRIVATE | MAP_ANON | MAP_HUGETLB, 0, 0), (long)A);
    uint64_t pf = t->m.st.cnt[CNT_guest_pf];
    assert_int_equal(user_access(k, A, ACC_WRITE, &mfn), 0);
    assert_int_equal(user_access(k, A + PAGE_SIZE, ACC_WRITE, &mfn), 0);
    assert_int_equal(t->m.st.cnt[CNT_guest_pf], pf + 2);   /* one fault per 4 KiB page */
    assert_int_equal(p->mm->rss, 2);
    pte_t pe = pmd_entry_of(k, p->mm, A);
    assert_true(pte_present(pe));
    assert_false(pe & _PAGE_PSE);
    do_exit(k, p);
    assert_int_equal(tm_destroy(t), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hugetlb_pv_falls_back),
        cmocka_unit_test(test_hugetlb_split_on_partial_ops),
        cmocka_unit_test(test_hugetlb_fork_cow),
        cmocka_unit_test(test_hugetlb_one_fault_per_2m),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

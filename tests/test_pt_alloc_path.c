/* test_pt_alloc_path.c: what the per-level allocation-path time
 * (pt_alloc_cycles_l1..l3, docs/pibooster.md table 2) covers. As Linux's
 * __pte_alloc, __pmd_alloc and __pud_alloc, the path is the allocation and
 * the populate that links the new table under its parent, at every level:
 * in a pinned Xen PV mm the populate is the mmu_update whose validation
 * gives a new L2 or L3 its type, unmapping it from the IOMMU (a PSI). So a
 * walk that allocates one table spends all its time in that level's path. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "testutil_pv.h"

#define NEW_L1 (VA0 + HPAGE_SIZE)             /* VA0's L2 exists, this 2 MiB has no L1 */
#define NEW_L2 (1ull << 30)                   /* VA0's L3 exists, this 1 GiB has no L2 */
#define NEW_L3 (1ull << 39)                   /* VA0's L4 exists, this 512 GiB has no L3 */

struct before {
    uint64_t now, cycles, psi, hv;
};

static struct before before(struct tmachine *t, unsigned lvl)
{
    return (struct before){ t->m.st.now, cnt(t, (enum mv_counter)(CNT_pt_alloc_cycles_l1 + lvl - 1)),
                            cnt(t, CNT_iotlb_inv_psi), t->m.st.cyc[CYC_hypervisor] };
}

/* The walk to va allocated one table of level lvl: all the time it took is
 * in that level's allocation path. */
static void all_in_path(struct tmachine *t, unsigned lvl, struct before b)
{
    uint64_t path = cnt(t, (enum mv_counter)(CNT_pt_alloc_cycles_l1 + lvl - 1)) - b.cycles;
    assert_true(path > 0);
    assert_int_equal(path, t->m.st.now - b.now);
}

/* A pinned pv mm: the new L2's path holds its validation (the type change
 * and the IOMMU unmap with its PSI), made by the populate's mmu_update. */
static void test_pv_l2_path_holds_validation(void **state)
{
    (void)state;
    struct tmachine *t = boot("pv", NULL);
    struct kernel *k = K(t);
    struct task *p = spawn_proc(t, 1, VA0, 1);
    assert_true(p->mm->pinned);
    struct before b = before(t, 2);
    unsigned idx;
    uint64_t l2 = pmd_table(k, p->mm, NEW_L2, 1, &idx);
    assert_true(l2);
    const struct page_info *f = frame(X(t), p2m(t, l2));
    assert_int_equal(f->type, PGT_l2);                       /* validated by the populate */
    assert_true(f->flags & PGF_validated);
    assert_int_equal(cnt(t, CNT_iotlb_inv_psi) - b.psi, 1);  /* its IOMMU unmap */
    all_in_path(t, 2, b);
    assert_true(t->m.st.cyc[CYC_hypervisor] > b.hv);
    struct task *tasks[] = { p };
    finish(t, tasks, 1);
}

/* The same at the other levels, pinned or not: an L3 (validated by the
 * populate too), an L1 (pinned by alloc_pt, referenced by the populate). */
static void test_pv_l1_l3_paths(void **state)
{
    (void)state;
    struct tmachine *t = boot("pv", NULL);
    struct kernel *k = K(t);
    struct task *p = spawn_proc(t, 1, VA0, 1);
    unsigned idx;
    struct before b = before(t, 3);
    uint64_t l3 = pud_table(k, p->mm, NEW_L3, 1, &idx);
    assert_int_equal(frame(X(t), p2m(t, l3))->type, PGT_l3);
    assert_int_equal(cnt(t, CNT_iotlb_inv_psi) - b.psi, 1);
    all_in_path(t, 3, b);
    b = before(t, 1);
    uint64_t l1 = pte_table(k, p->mm, NEW_L1, 1);
    assert_int_equal(frame(X(t), p2m(t, l1))->type, PGT_l1);
    all_in_path(t, 1, b);
    struct task *tasks[] = { p };
    finish(t, tasks, 1);
}

/* Bare metal: the populate is a store, still on the path. */
static void test_native_paths(void **state)
{
    (void)state;
    struct tmachine *t = tm_boot("native");
    struct kernel *k = &t->m.k;
    struct task *p = tm_spawn_touching(t, VA0, 1);
    unsigned idx;
    struct before b = before(t, 2);
    assert_true(pmd_table(k, p->mm, NEW_L2, 1, &idx));
    all_in_path(t, 2, b);
    b = before(t, 1);
    assert_true(pte_table(k, p->mm, NEW_L1, 1));
    all_in_path(t, 1, b);
    tm_finish(t, p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pv_l2_path_holds_validation),
        cmocka_unit_test(test_pv_l1_l3_paths),
        cmocka_unit_test(test_native_paths),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_pv_linear_chain.c: Xen's rule against linear page-table chains
 * (XSA-240): a table may contain linear entries or be the target of them,
 * never both (docs/research/xen-linux-vtd-notes.md §A3). Regression: without
 * it a guest could chain L2 -> L2 -> ... with read-only linear entries and,
 * by unpinning the head, drive the hypervisor's devalidation into recursion
 * deep enough to overflow the stack (a chain of 50,000 L2s crashed the
 * simulator).
 *
 * This test checks the rule itself on three pinned L2s. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>

#include "hv/pv/xen.h"
#include "testutil.h"

#define PAGE_KERNEL    (_PAGE_PRESENT | _PAGE_RW | _PAGE_ACCESSED | _PAGE_DIRTY | _PAGE_NX)
#define PAGE_KERNEL_RO (_PAGE_PRESENT | _PAGE_ACCESSED | _PAGE_NX)
#define LINEAR_RO (_PAGE_PRESENT | _PAGE_ACCESSED)

static struct tmachine *t;

static long hc(unsigned nr, void *a) { return cpu_hypercall(&t->m.cpu, nr, a); }

static long dmap(uint64_t pfn, uint64_t mfn, int rw)
{
    struct update_va_mapping_args a = { DIRECTMAP_BASE + (pfn << PAGE_SHIFT),
                                        pte_make(mfn, rw ? PAGE_KERNEL : PAGE_KERNEL_RO), 0 };
    return hc(__HYPERVISOR_update_va_mapping, &a);
}

static long ext(unsigned cmd, uint64_t mfn)
{
    struct mmuext_op op = { .cmd = cmd, .mfn = mfn };
    struct mmuext_args a = { &op, 1, 0 };
    return hc(__HYPERVISOR_mmuext_op, &a);
}

static long mmu(uint64_t table, unsigned idx, uint64_t val)
{
    struct mmu_update u = { (table << PAGE_SHIFT) | ((uint64_t)idx << 3), val };
    struct mmu_update_args a = { &u, 1, 0 };
    return hc(__HYPERVISOR_mmu_update, &a);
}

static void test_linear_table_cannot_be_both_user_and_target(void **state)
{
    const char *const params[] = { "guest.ram_mb=256", "xen.linear_pt=true", NULL };
    t = tm_boot_params("pv", "memwalk", params);
    struct xen *x = XEN(t->m.hv);
    uint64_t pfn[3], m[3];
    for (unsigned i = 0; i < 3; i++) {
        pfn[i] = kalloc_page(&t->m.k, 0);
        m[i] = pfn_to_mfn(x->dom, pfn[i]);
        assert_int_equal(dmap(pfn[i], m[i], 0), 0);
        assert_int_equal(ext(MMUEXT_PIN_L2_TABLE, m[i]), 0);
    }
    /* a -> b: allowed (a contains a linear entry, b is used linearly) */
    assert_int_equal(mmu(m[0], 0, pte_make(m[1], LINEAR_RO)), 0);
    /* b -> c: b is already a linear target: refused */
    assert_int_equal(mmu(m[1], 0, pte_make(m[2], LINEAR_RO)), -EINVAL);   /* XSA-240: refused */
    assert_int_equal(pmem_read(&t->m.mem, m[1], 0), 0);
    /* c -> a: a already contains a linear entry: refused */
    assert_int_equal(mmu(m[2], 0, pte_make(m[0], LINEAR_RO)), -EINVAL);
    assert_int_equal(frame(x, m[0])->type_count, 1);                      /* only its pin */
    char msg[256] = "";
    if (pv_check(x, msg, sizeof msg))
        fail_msg("pv_check: %s", msg);

    assert_int_equal(mmu(m[0], 0, 0), 0);
    for (unsigned i = 0; i < 3; i++) {
        assert_int_equal(ext(MMUEXT_UNPIN_TABLE, m[i]), 0);
        assert_int_equal(dmap(pfn[i], m[i], 1), 0);
        page_put(&t->m.k, pfn[i]);
    }
    assert_int_equal(tm_destroy(t), 0);
}

int main(void)
{
    mv_error_quiet(1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_linear_table_cannot_be_both_user_and_target),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_pv_linear_selfmap_pin.c: a root table that maps itself (a read-only
 * self-map, as Mini-OS or NetBSD PV kernels set up before pinning) can be
 * pinned: Xen accepts a self-map before any other linear-entry check, "also
 * necessary to allow validation of a root table mapping itself"
 * (xen/arch/x86/mm.c get_*_linear_pagetable). Regression: the model checked
 * "target already validated" first, so such a pin failed with -EINVAL. */
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

static long hc(struct tmachine *t, unsigned nr, void *a) { return cpu_hypercall(&t->m.cpu, nr, a); }

static void test_pin_l4_with_readonly_selfmap(void **state)
{
    const char *const params[] = { "guest.ram_mb=256", "xen.linear_pt=true", NULL };
    struct tmachine *t = tm_boot_params("pv", "memwalk", params);
    struct xen *x = XEN(t->m.hv);
    uint64_t pfn = kalloc_page(&t->m.k, 0), mfn = pfn_to_mfn(x->dom, pfn);

    /* the recursive slot, written while the page is plain memory */
    struct mmu_update u = { (mfn << PAGE_SHIFT) | (300 << 3), pte_make(mfn, _PAGE_PRESENT | _PAGE_ACCESSED) };
    struct mmu_update_args ua = { &u, 1, 0 };
    assert_int_equal(hc(t, __HYPERVISOR_mmu_update, &ua), 0);
    struct update_va_mapping_args ro = { DIRECTMAP_BASE + (pfn << PAGE_SHIFT), pte_make(mfn, PAGE_KERNEL_RO), 0 };
    assert_int_equal(hc(t, __HYPERVISOR_update_va_mapping, &ro), 0);
    uint32_t count0 = frame(x, mfn)->count;

    struct mmuext_op pin = { .cmd = MMUEXT_PIN_L4_TABLE, .mfn = mfn };
    struct mmuext_args pa = { &pin, 1, 0 };
    assert_int_equal(hc(t, __HYPERVISOR_mmuext_op, &pa), 0);      /* a self-map validates */
    assert_int_equal(frame(x, mfn)->type, PGT_l4);
    assert_int_equal(frame(x, mfn)->type_count, 1);                /* the self-map holds none */
    assert_int_equal(frame(x, mfn)->count, count0 + 1);
    char msg[256] = "";
    if (pv_check(x, msg, sizeof msg))
        fail_msg("pv_check: %s", msg);

    struct mmuext_op unpin = { .cmd = MMUEXT_UNPIN_TABLE, .mfn = mfn };
    struct mmuext_args ub = { &unpin, 1, 0 };
    assert_int_equal(hc(t, __HYPERVISOR_mmuext_op, &ub), 0);
    struct update_va_mapping_args rw = { DIRECTMAP_BASE + (pfn << PAGE_SHIFT), pte_make(mfn, PAGE_KERNEL), 0 };
    assert_int_equal(hc(t, __HYPERVISOR_update_va_mapping, &rw), 0);
    u.val = 0;
    ua.done = 0;
    assert_int_equal(hc(t, __HYPERVISOR_mmu_update, &ua), 0);
    page_put(&t->m.k, pfn);
    assert_int_equal(tm_destroy(t), 0);
}

int main(void)
{
    mv_error_quiet(1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pin_l4_with_readonly_selfmap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

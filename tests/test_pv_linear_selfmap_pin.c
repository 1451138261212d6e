/* test_pv_linear_selfmap_pin.c (was pending: failed before the fix it describes).
 *
 * Suspected bug: src/hv/mm.c, get_entry_refs(), lines 190-197. For a linear
 * (same-level) entry the model checks that the target table is already
 * validated (`!(c->flags & PGF_validated)` -> -EINVAL) BEFORE it checks for a
 * self-map (`if (mfn == table) return 0;`). While a table is being validated
 * (pinned, or loaded by NEW_BASEPTR) its own PGF_validated is clear, so a
 * read-only entry mapping the table itself is refused and the pin fails with
 * -EINVAL, even with xen.linear_pt=true.
 *
 * Evidence: Xen's get_##level##_linear_pagetable (xen/arch/x86/mm.c, every
 * version from 3.x to current) returns 1 for a self-map before any other
 * check: `if ( (pfn = level##e_get_pfn(pde)) != pde_pfn ) { ...owner,
 * already-validated and count checks... } return 1;`, and its comment says
 * the self-map rule is "also necessary to allow validation of a root table
 * mapping itself" (the recursive L4 slot Mini-OS/NetBSD-style PV kernels set
 * up before pinning). The model accepts the same entry through mmu_update on
 * an already-validated table (mod_entry), so a table that has a self-map can
 * never be validated again once it is unpinned: observed here, PIN_L4 of an
 * L4 whose only present entry is a read-only self-map returns -EINVAL.
 *
 * Fix direction: in get_entry_refs, test `mfn == table` (self-map: no
 * reference, only the RW/linear_pt checks) before the validated/type checks. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>

#include "hv/xen.h"
#include "testutil.h"

#define PAGE_KERNEL    (_PAGE_PRESENT | _PAGE_RW | _PAGE_ACCESSED | _PAGE_DIRTY | _PAGE_NX)
#define PAGE_KERNEL_RO (_PAGE_PRESENT | _PAGE_ACCESSED | _PAGE_NX)

static long hc(struct tmachine *t, unsigned nr, void *a) { return cpu_hypercall(&t->m.cpu, nr, a); }

static void test_pin_l4_with_readonly_selfmap(void **state)
{
    const char *const params[] = { "guest.ram_mb=256", "xen.linear_pt=true", NULL };
    struct tmachine *t = tm_boot_params("pv", "memwalk", params);
    struct xen *x = t->m.hv;
    uint64_t pfn = kalloc_page(&t->m.k, 0), mfn = pfn_to_mfn(&x->dom, pfn);

    /* the recursive slot, written while the page is plain memory */
    struct mmu_update u = { (mfn << PAGE_SHIFT) | (300 << 3), pte_make(mfn, _PAGE_PRESENT | _PAGE_ACCESSED) };
    struct mmu_update_args ua = { &u, 1, 0 };
    assert_int_equal(hc(t, __HYPERVISOR_mmu_update, &ua), 0);
    struct update_va_mapping_args ro = { DIRECTMAP_BASE + (pfn << PAGE_SHIFT), pte_make(mfn, PAGE_KERNEL_RO), 0 };
    assert_int_equal(hc(t, __HYPERVISOR_update_va_mapping, &ro), 0);
    uint32_t count0 = frame(x, mfn)->count;

    struct mmuext_op pin = { .cmd = MMUEXT_PIN_L4_TABLE, .mfn = mfn };
    struct mmuext_args pa = { &pin, 1, 0 };
    assert_int_equal(hc(t, __HYPERVISOR_mmuext_op, &pa), 0);      /* the model: -EINVAL */
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

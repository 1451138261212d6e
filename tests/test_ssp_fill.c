/* test_ssp_fill.c: ssp.flush_fill (shadow_fill_va, hv/shadow/shadow_fault.c)
 * at the entry level. An INVLPG fills the shadow leaf the guest's tables
 * have and the shadow lacks, but only where the guest has used the whole
 * path (Accessed set at every level): a leaf with Accessed clear (a fork's
 * child's entries, say) gets no shadow entry, since an access through one
 * would never set the guest's Accessed bit. A filled leaf is speculative
 * (Accessed clear in the shadow); without ssp.flush_fill nothing is filled.
 * An INVLPG of an entry the shadow already holds makes no room for a fill:
 * with the shadow pool full, no root is evicted and the current root's
 * subtrees stay. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include "guest/kernel.h"
#include "hv/shadow/shadow.h"
#include "testutil.h"

#define VA 0x10000000ull
#define VB (VA + 2 * PAGE_SIZE)   /* mapped, never touched: no guest entry, no shadow */

/* The guest's L1 entry slot of va as machine frame and index. */
static uint64_t guest_l1_mfn(struct tmachine *t, uint64_t va)
{
    return machine_p2m(&t->m, tm_guest_table(t, va, 1));
}

static void fill(int on)
{
    const char *const p[] = { "guest.ram_mb=256", on ? "ssp.flush_fill=true" : "ssp.flush_fill=false", NULL };
    struct tmachine *t = tm_boot_params("ssp", "memwalk", p);
    struct task *pr = tm_spawn_touching(t, VA, 4);
    uint64_t l1 = guest_l1_mfn(t, VA);
    pte_t ga = pmem_read(&t->m.mem, l1, pt_index(VA, 1));
    assert_true(pte_present(ga) && (ga & _PAGE_ACCESSED));
    assert_false(pte_present(tm_hw_entry(t, VB, 1, NULL)));
    /* the guest stores an entry for VB (a plain store under ssp) with
     * Accessed clear, and flushes it */
    pmem_write(&t->m.mem, l1, pt_index(VB, 1), ga & ~(pte_t)_PAGE_ACCESSED);
    cpu_invlpg(&t->m.cpu, VB);
    assert_false(pte_present(tm_hw_entry(t, VB, 1, NULL)));
    /* Accessed set: filled (with the fill on), speculatively */
    pmem_write(&t->m.mem, l1, pt_index(VB, 1), ga);
    cpu_invlpg(&t->m.cpu, VB);
    pte_t s = tm_hw_entry(t, VB, 1, NULL);
    if (on) {
        assert_true(pte_present(s));
        assert_int_equal(pte_frame(s), pte_frame(tm_hw_entry(t, VA, 1, NULL)));
        assert_false(s & _PAGE_ACCESSED);
    } else {
        assert_false(pte_present(s));
    }
    /* the entry taken back (the guest's own accounting never saw it) */
    pmem_write(&t->m.mem, l1, pt_index(VB, 1), 0);
    cpu_invlpg(&t->m.cpu, VB);
    assert_false(pte_present(tm_hw_entry(t, VB, 1, NULL)));
    tm_check_all(t);
    do_exit(&t->m.k, pr);
    assert_int_equal(tm_destroy(t), 0);
}

static void test_fill_on(void **state)
{
    (void)state;
    fill(1);
}

static void test_fill_off(void **state)
{
    (void)state;
    fill(0);
}

static void test_present_no_room(void **state)
{
    (void)state;
    const char *const p[] = { "guest.ram_mb=256", "ssp.flush_fill=true", NULL };
    struct tmachine *t = tm_boot_params("ssp", "memwalk", p);
    struct task *pr = tm_spawn_touching(t, VA, 4);
    struct shadow *s = t->m.hv->mode;
    assert_true(pte_present(tm_hw_entry(t, VA, 1, NULL)));
    uint64_t evicted = t->m.st.cnt[CNT_shadow_root_evict], pages = s->npages, max = s->pool_max;
    s->pool_max = s->npages;   /* full: a preallocation would have to evict */
    cpu_invlpg(&t->m.cpu, VA);
    assert_true(pte_present(tm_hw_entry(t, VA, 1, NULL)));
    assert_int_equal(t->m.st.cnt[CNT_shadow_root_evict], evicted);
    assert_int_equal(s->npages, pages);
    s->pool_max = max;
    tm_check_all(t);
    do_exit(&t->m.k, pr);
    assert_int_equal(tm_destroy(t), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fill_on),
        cmocka_unit_test(test_fill_off),
        cmocka_unit_test(test_present_no_room),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

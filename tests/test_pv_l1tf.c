/* test_pv_l1tf.c: Xen's L1TF check of the not-present entries a PV guest
 * writes (xen.l1tf_check; Xen's pv_l1tf_check_pte, is_l1tf_safe_maddr):
 *  - mmu_update of a not-present L1 entry naming a frame of RAM crashes the
 *    domain (-ERESTART, as mod_l1_entry returns it, the vCPU offline, Xen's
 *    log line kept) and writes nothing, inside a multicall too (which stops
 *    there); the same for a ptwr store and for a
 *    table validated with such an entry in it (PIN_L1: the validation is
 *    undone); PSE in a not-present L2 entry too;
 *  - what is safe passes: an address of 0, Linux's inverted PROTNONE entry,
 *    an address at the top-quarter limit (3 << 44) and the highest page the
 *    L1D looks up (46 bits); the page below the limit does not;
 *  - with xen.l1tf_check=false the unsafe entry is written;
 *  - the invariant checker (pv_check) reports an unsafe not-present entry
 *    that got into a live table anyway, and is quiet once it is repaired or
 *    when the check is off. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "testutil_pv.h"

#define PROTNONE_FLAGS (_PAGE_GLOBAL | _PAGE_USER | _PAGE_ACCESSED | _PAGE_DIRTY | _PAGE_NX)
#define SAFE_LIMIT (3ull << 44)

static void expect_crashed(struct tmachine *t, const char *what)
{
    if (!t->m.cpu.offline || !strstr(t->m.hv->dom.crashed, what))
        fail_msg("domain not crashed as expected (offline %d, \"%s\"; expected \"%s\")", t->m.cpu.offline,
                 t->m.hv->dom.crashed, what);
}

static void expect_alive(struct tmachine *t)
{
    if (t->m.cpu.offline || t->m.hv->dom.crashed[0])
        fail_msg("domain crashed: %s", t->m.hv->dom.crashed);
}

/* pv_check reports, and its message contains what. */
static void expect_report(struct tmachine *t, const char *what)
{
    char msg[512] = "";
    if (!pv_check(X(t), msg, sizeof msg))
        fail_msg("pv_check passed; expected a report about \"%s\"", what);
    if (!strstr(msg, what))
        fail_msg("pv_check reported \"%s\"; expected a report about \"%s\"", msg, what);
}

/* A process with its first page written; the machine frame of its L1 and
 * the index of the written page's entry, and the page's guest frame. */
static struct task *setup(struct tmachine *t, uint64_t *l1, unsigned *idx, uint64_t *pfn)
{
    struct task *p = spawn_proc(t, 1, VA0, 1);
    uint64_t l1p = table_pfn(t, p->mm, VA0, 1);
    *l1 = p2m(t, l1p);
    *idx = pt_index(VA0, 1);
    *pfn = K(t)->pv->entry_pfn(K(t), kread_entry(K(t), l1p, *idx));
    return p;
}

/* Safe not-present entries are written; the first unsafe one crashes the
 * domain and is not written. */
static void test_mmu_update_checks_not_present(void **state)
{
    (void)state;
    struct tmachine *t = boot("pv", NULL);
    uint64_t l1, pfn;
    unsigned idx;
    struct task *p = setup(t, &l1, &idx, &pfn);
    unsigned j = idx + 1;                         /* an empty entry beside it */
    const pte_t safe[] = {
        _PAGE_RW | _PAGE_USER,                                          /* address 0 */
        pte_make(pfn, PROTNONE_FLAGS) ^ PTE_FRAME_MASK,                 /* Linux's PROTNONE */
        pte_make(SAFE_LIMIT >> PAGE_SHIFT, PROTNONE_FLAGS),             /* the limit itself */
        pte_make(((1ull << 46) >> PAGE_SHIFT) - 1, PROTNONE_FLAGS),     /* the L1D's highest page */
    };
    for (unsigned i = 0; i < sizeof safe / sizeof safe[0]; i++) {
        if (hc_mmu_update(t, l1, j, safe[i], NULL))
            fail_msg("safe entry %#llx refused", (unsigned long long)safe[i]);
        assert_int_equal(pmem_read(&t->m.mem, l1, j), safe[i]);
        expect_alive(t);
        check_inv(t);
    }
    assert_int_equal(hc_mmu_update(t, l1, j, 0, NULL), 0);
    /* the page below the limit, then a frame of RAM: machine or pseudo-physical */
    pte_t bad = pte_make((SAFE_LIMIT >> PAGE_SHIFT) - 1, PROTNONE_FLAGS);
    unsigned done = 9;
    assert_int_equal(hc_mmu_update(t, l1, j, bad, &done), -ERESTART);
    assert_int_equal(done, 0);
    assert_int_equal(pmem_read(&t->m.mem, l1, j), 0);                  /* nothing written */
    expect_crashed(t, "L1TF-vulnerable L1e 80002ffffffff164");
    check_inv(t);
    finish(t, &p, 1);

    t = boot("pv-pibooster", NULL);
    p = setup(t, &l1, &idx, &pfn);
    pte_t e = pmem_read(&t->m.mem, l1, idx);
    assert_int_equal(hc_mmu_update(t, l1, idx, pte_make(pfn, PROTNONE_FLAGS), NULL), -ERESTART);
    assert_int_equal(pmem_read(&t->m.mem, l1, idx), e);                /* the old entry stays */
    expect_crashed(t, "Crashing (xen.l1tf_check");
    check_inv(t);
    finish(t, &p, 1);
}

/* The same mmu_update inside a multicall: the multicall stops there (its
 * -ERESTART is not re-entered: the domain is dead); before, it was
 * re-entered for ever (found by make fuzz). */
static void test_multicall_stops_at_crash(void **state)
{
    (void)state;
    struct tmachine *t = boot("pv", NULL);
    uint64_t l1, pfn;
    unsigned idx;
    struct task *p = setup(t, &l1, &idx, &pfn);
    struct mmu_update u[2] = {
        { (l1 << PAGE_SHIFT) | ((uint64_t)(idx + 1) << 3) | MMU_NORMAL_PT_UPDATE, pte_make(pfn, PROTNONE_FLAGS) },
        { (l1 << PAGE_SHIFT) | ((uint64_t)(idx + 2) << 3) | MMU_NORMAL_PT_UPDATE, 0 },
    };
    struct mmu_update_args a0 = { &u[0], 1, 0 }, a1 = { &u[1], 1, 0 };
    struct multicall_entry mc[2] = { { __HYPERVISOR_mmu_update, &a0, 0 }, { __HYPERVISOR_mmu_update, &a1, 0 } };
    struct multicall_args m = { mc, 2 };
    assert_int_equal(cpu_hypercall(&t->m.cpu, __HYPERVISOR_multicall, &m), -ERESTART);
    assert_int_equal(pmem_read(&t->m.mem, l1, idx + 1), 0);
    assert_int_equal(a1.done, 0);                 /* the second call never ran */
    expect_crashed(t, "L1TF-vulnerable L1e");
    check_inv(t);
    finish(t, &p, 1);
}

/* A trapped store to a pinned L1 (ptwr) is checked the same way. */
static void test_ptwr_checks_not_present(void **state)
{
    (void)state;
    struct tmachine *t = boot("pv", NULL);
    uint64_t l1, pfn;
    unsigned idx;
    struct task *p = setup(t, &l1, &idx, &pfn);
    uint64_t l1p = table_pfn(t, p->mm, VA0, 1);
    pte_t e = pmem_read(&t->m.mem, l1, idx);
    assert_int_equal(cpu_store(&t->m.cpu, l1p, idx + 1, pte_make(pfn, PROTNONE_FLAGS) ^ PTE_FRAME_MASK), 0);
    expect_alive(t);
    assert_int_equal(cpu_store(&t->m.cpu, l1p, idx + 1, 0), 0);
    assert_int_not_equal(cpu_store(&t->m.cpu, l1p, idx, pte_make(p2m(t, pfn), PROTNONE_FLAGS)), 0);
    assert_int_equal(pmem_read(&t->m.mem, l1, idx), e);
    expect_crashed(t, "L1TF-vulnerable L1e");
    check_inv(t);
    finish(t, &p, 1);
}

/* Validation: an unsafe not-present entry in a table being pinned fails
 * the pin (Xen's promote_l1_table: -EINTR, the references it took undone)
 * and crashes the domain; PSE in a not-present L2 entry likewise. */
static void test_validation_checks_not_present(void **state)
{
    (void)state;
    struct tmachine *t = boot("pv", NULL);
    uint64_t l1, pfn;
    unsigned idx;
    struct task *p = setup(t, &l1, &idx, &pfn);
    uint64_t pg = kalloc_page(K(t), 0), m = p2m(t, pg);
    uint32_t count = frame(X(t), p2m(t, pfn))->count;
    pmem_write(&t->m.mem, m, 0, pte_make(p2m(t, pfn), USER_RO));            /* takes a reference */
    pmem_write(&t->m.mem, m, 1, pte_make(pfn, PROTNONE_FLAGS));
    assert_int_equal(hc_dmap(t, pg, 0), 0);
    assert_int_equal(hc_ext(t, MMUEXT_PIN_L1_TABLE, m), -EINTR);
    expect_crashed(t, "L1TF-vulnerable L1e");
    assert_int_equal(frame(X(t), m)->type, PGT_none);                      /* left untyped */
    assert_int_equal(frame(X(t), p2m(t, pfn))->count, count);              /* undone */
    check_inv(t);
    pmem_write(&t->m.mem, m, 0, 0);
    pmem_write(&t->m.mem, m, 1, 0);
    assert_int_equal(hc_dmap(t, pg, 1), 0);
    page_put(K(t), pg);
    finish(t, &p, 1);

    t = boot("pv", NULL);
    p = setup(t, &l1, &idx, &pfn);
    uint64_t l2 = p2m(t, table_pfn(t, p->mm, VA0, 2));
    unsigned j = pt_index(VA0, 2) + 1;
    assert_int_equal(hc_mmu_update(t, l2, j, _PAGE_PSE | _PAGE_USER, NULL), -ERESTART);
    expect_crashed(t, "L1TF-vulnerable L2e 0000000000000084");
    assert_int_equal(pmem_read(&t->m.mem, l2, j), 0);
    finish(t, &p, 1);
}

/* xen.l1tf_check=false (an unaffected host, or pv-l1tf=domu=0): written. */
static void test_check_off(void **state)
{
    (void)state;
    struct tmachine *t = boot("pv", "xen.l1tf_check=false");
    uint64_t l1, pfn;
    unsigned idx;
    struct task *p = setup(t, &l1, &idx, &pfn);
    pte_t bad = pte_make(pfn, PROTNONE_FLAGS);
    assert_int_equal(hc_mmu_update(t, l1, idx + 1, bad, NULL), 0);
    assert_int_equal(pmem_read(&t->m.mem, l1, idx + 1), bad);
    expect_alive(t);
    check_inv(t);                                 /* the invariant is the check's */
    assert_int_equal(hc_mmu_update(t, l1, idx + 1, 0, NULL), 0);
    finish(t, &p, 1);
}

/* pv_check: an unsafe not-present entry that got into a live table anyway
 * (written behind Xen's back), at L1 and, with PSE, at L2. */
static void test_checker_catches_unsafe_entry(void **state)
{
    (void)state;
    struct tmachine *t = boot("pv", NULL);
    uint64_t l1, pfn;
    unsigned idx;
    struct task *p = setup(t, &l1, &idx, &pfn);
    check_inv(t);
    pmem_write(&t->m.mem, l1, idx + 1, pte_make(p2m(t, pfn), PROTNONE_FLAGS));
    expect_report(t, "is not present but names address");
    expect_report(t, "L1TF-unsafe");
    pmem_write(&t->m.mem, l1, idx + 1, pte_make(pfn, PROTNONE_FLAGS) ^ PTE_FRAME_MASK);
    check_inv(t);                                 /* inverted: safe */
    pmem_write(&t->m.mem, l1, idx + 1, 0);
    uint64_t l2 = p2m(t, table_pfn(t, p->mm, VA0, 2));
    unsigned j = pt_index(VA0, 2) + 1;
    pmem_write(&t->m.mem, l2, j, _PAGE_PSE);
    expect_report(t, "L2 table");
    pmem_write(&t->m.mem, l2, j, 0);
    check_inv(t);
    expect_alive(t);
    finish(t, &p, 1);
}

int main(void)
{
    mv_error_quiet(1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mmu_update_checks_not_present),
        cmocka_unit_test(test_multicall_stops_at_crash),
        cmocka_unit_test(test_ptwr_checks_not_present),
        cmocka_unit_test(test_validation_checks_not_present),
        cmocka_unit_test(test_check_off),
        cmocka_unit_test(test_checker_catches_unsafe_entry),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_hvm_check.c: conditions of the HVM invariant checkers broken on
 * purpose and caught, each by its own condition, named in its message:
 * shadow paging (src/hv/shadow/shadow_check.c), the I/O side every HVM mode
 * shares (src/hv/hvm.c) and nested paging's EPT (src/hv/hap/hap.c). Each
 * case builds a correct machine with a running process, sees the check
 * accept it, breaks one property through the real structures (a shadow
 * entry, a guest table entry, an IOTLB entry, an EPT entry), expects the
 * report, repairs it and sees the check pass again. These are the
 * conditions an attack review found could be switched off with every other
 * test still passing (tests/test_checkers.c covers the rest):
 *  - a shadow leaf executable where the guest entry is NX, or
 *    user-accessible where the guest entry is supervisor-only (tsp, ssp);
 *  - a shadow leaf mapping a hypervisor heap frame: a shadow table's own
 *    frame (the guest could rewrite its shadows);
 *  - an IOTLB entry translating a device frame to a frame other than the
 *    guest's (hap, tsp, ssp);
 *  - an EPT leaf whose first frame is right and later ones wrong: a 1 GiB
 *    leaf over guest RAM, which the p2m places in 2 MiB extents. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "hv/hap/ept.h"
#include "hv/paging.h"
#include "hv/shadow/shadow.h"
#include "hw/ept.h"
#include "testutil.h"

#define A 0x400000ull

static struct tmachine *boot_units(const char *mode, const char *units)
{
    const char *const p[] = { "guest.ram_mb=256", units, NULL };
    return tm_boot_params(mode, "memwalk", p);
}

static struct tmachine *boot(const char *mode) { return boot_units(mode, NULL); }

/* A running process with two pages at A written. */
static struct task *proc(struct tmachine *t)
{
    struct task *p = tm_spawn_touching(t, A, 8);
    uint64_t mfn;
    assert_int_equal(user_access(&t->m.k, A + PAGE_SIZE, ACC_WRITE, &mfn), 0);
    return p;
}

static void done(struct tmachine *t, struct task *p)
{
    do_exit(&t->m.k, p);
    assert_int_equal(tm_destroy(t), 0);
}

static void expect_ok(struct tmachine *t)
{
    char msg[512] = "";
    if (machine_check(&t->m, msg, sizeof msg))
        fail_msg("check failed: %s", msg);
}

/* The mode's check reports, and its message contains what. */
static void expect_report(struct tmachine *t, const char *what)
{
    char msg[512] = "";
    if (!machine_check(&t->m, msg, sizeof msg))
        fail_msg("the check passed; expected a report about \"%s\"", what);
    if (!strstr(msg, what))
        fail_msg("the check reported \"%s\"; expected a report about \"%s\"", msg, what);
}

/* ---- shadow paging: no shadow grants more than the guest ------------------------- */

/* The shadow leaf for A loses NX while the guest entry keeps it. */
static void shadow_exec_where_guest_nx(const char *mode)
{
    struct tmachine *t = boot(mode);
    struct task *p = proc(t);
    struct pmem *m = &t->m.mem;
    uint64_t st = tm_hw_l1(t, A);
    unsigned i = pt_index(A, 1);
    pte_t se = pmem_read(m, st, i), g = kread_entry(&t->m.k, tm_guest_table(t, A, 1), i);
    assert_true(pte_present(se) && (se & _PAGE_NX) && (g & _PAGE_NX));
    expect_ok(t);
    pmem_write(m, st, i, se & ~(pte_t)_PAGE_NX);
    expect_report(t, "it grants a permission the guest entry does not");
    pmem_write(m, st, i, se);
    expect_ok(t);
    done(t, p);
}

/* The guest entry for A made supervisor-only while the shadow stays
 * user-accessible. */
static void shadow_user_where_guest_not(const char *mode)
{
    struct tmachine *t = boot(mode);
    struct task *p = proc(t);
    struct pmem *m = &t->m.mem;
    uint64_t st = tm_hw_l1(t, A), gl1 = pfn_to_mfn(&t->m.hv->dom, tm_guest_table(t, A, 1));
    unsigned i = pt_index(A, 1);
    pte_t se = pmem_read(m, st, i), g = pmem_read(m, gl1, i);
    assert_true(pte_present(se) && (se & _PAGE_USER) && (g & _PAGE_USER));
    expect_ok(t);
    pmem_write(m, gl1, i, g & ~(pte_t)_PAGE_USER);
    expect_report(t, "it grants a permission the guest entry does not");
    pmem_write(m, gl1, i, g);
    expect_ok(t);
    done(t, p);
}

static void test_shadow_exec_where_guest_nx_tsp(void **state) { (void)state; shadow_exec_where_guest_nx("tsp"); }
static void test_shadow_exec_where_guest_nx_ssp(void **state) { (void)state; shadow_exec_where_guest_nx("ssp"); }
static void test_shadow_user_where_guest_not_tsp(void **state) { (void)state; shadow_user_where_guest_not("tsp"); }
static void test_shadow_user_where_guest_not_ssp(void **state) { (void)state; shadow_user_where_guest_not("ssp"); }

/* ---- shadow paging: leaves map only the domain's frames --------------------------- */

/* A shadow leaf pointed at the frame of a shadow table (a hypervisor heap
 * frame in use): through it the guest would rewrite its own shadows. The
 * domain never owns a heap frame: hv_owns is false for every one (the m2p
 * marks heap extents apart), so the ownership test alone already excludes
 * them. */
static void test_shadow_leaf_maps_shadow_table(void **state)
{
    (void)state;
    struct tmachine *t = boot("tsp");
    struct task *p = proc(t);
    struct pmem *m = &t->m.mem;
    struct hv *h = t->m.hv;
    uint64_t st = tm_hw_l1(t, A);
    unsigned i = pt_index(A, 1);
    pte_t se = pmem_read(m, st, i);
    assert_true(hv_heap_frame(h, st));
    assert_false(hv_owns(h, st));
    expect_ok(t);
    pmem_write(m, st, i, pte_make(st, se & PTE_FLAGS_MASK));
    expect_report(t, "which the domain does not own");
    pmem_write(m, st, i, se);
    expect_ok(t);
    done(t, p);
}

/* ---- every HVM mode: the IOTLB ---------------------------------------------------- */

/* An IOTLB entry of the domain for device frame 7 translating to a
 * hypervisor frame, then to another of the guest's own frames. */
static void iotlb_wrong_frame(const char *mode, unsigned unit)
{
    struct tmachine *t = boot_units(mode, unit ? "iommu.units=2" : NULL);
    struct task *p = proc(t);
    struct hv *h = t->m.hv;
    struct iommu *io = hv_iommu_unit(h, unit);
    uint64_t tag = io->tlb_tag[0], tmfn = io->tlb_mfn[0];
    uint8_t w = io->tlb_w[0];
    expect_ok(t);
    io->tlb_tag[0] = (7ull << 17) | ((uint64_t)h->dom.id << 1) | 1;
    io->tlb_w[0] = 1;
    io->tlb_mfn[0] = pfn_to_mfn(&h->dom, 7);
    expect_ok(t);                                   /* the right translation passes */
    io->tlb_mfn[0] = hv_heap_free_frame(h, 0);
    expect_report(t, "an IOTLB entry maps dfn 0x7 to frame");
    io->tlb_mfn[0] = pfn_to_mfn(&h->dom, 8);
    expect_report(t, "an IOTLB entry maps dfn 0x7 to frame");
    expect_report(t, unit ? "(VT-d unit 1)" : "(VT-d unit 0)");
    io->tlb_tag[0] = tag;
    io->tlb_mfn[0] = tmfn;
    io->tlb_w[0] = w;
    expect_ok(t);
    done(t, p);
}

static void test_iotlb_wrong_frame_hap(void **state) { (void)state; iotlb_wrong_frame("hap", 0); }
static void test_iotlb_wrong_frame_tsp(void **state) { (void)state; iotlb_wrong_frame("tsp", 0); }
static void test_iotlb_wrong_frame_ssp(void **state) { (void)state; iotlb_wrong_frame("ssp", 0); }
static void test_iotlb_wrong_frame_second_unit(void **state) { (void)state; iotlb_wrong_frame("hap", 1); }

/* ---- nested paging: every frame of a huge EPT leaf -------------------------------- */

/* The EPT's L3 entry for guest RAM's first GiB replaced by a 1 GiB leaf at
 * the machine frame of gfn 0: frame 0 is right, but the p2m places guest
 * RAM in shuffled 2 MiB extents, so later frames are not. (A 2 MiB leaf
 * right in its first frame is right in all 512: an extent is contiguous.) */
static void test_ept_huge_leaf_later_frames(void **state)
{
    (void)state;
    struct tmachine *t = boot("hap");
    struct task *p = proc(t);
    struct hv *h = t->m.hv;
    struct pmem *m = &t->m.mem;
    struct ept *e = h->mode;   /* struct hap begins with its struct ept */
    uint64_t l3 = pte_frame(pmem_read(m, e->root, 0));
    pte_t old = pmem_read(m, l3, 0);
    assert_true(ept_present(old) && !ept_leaf(old, 3));
    uint64_t base = pfn_to_mfn(&h->dom, 0), bad = 1;
    while (bad < h->dom.nr_pages && pfn_to_mfn(&h->dom, bad) == base + bad)
        bad++;
    assert_true(bad < h->dom.nr_pages);             /* some frame of guest RAM differs */
    expect_ok(t);
    pmem_write(m, l3, 0, ept_make(base, EPT_RWX | EPT_PS));
    char what[96];
    snprintf(what, sizeof what, "EPT maps gfn %#llx to frame %#llx", (unsigned long long)bad,
             (unsigned long long)(base + bad));
    expect_report(t, what);
    pmem_write(m, l3, 0, old);
    expect_ok(t);
    done(t, p);
}

int main(void)
{
    mv_error_quiet(1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shadow_exec_where_guest_nx_tsp),
        cmocka_unit_test(test_shadow_exec_where_guest_nx_ssp),
        cmocka_unit_test(test_shadow_user_where_guest_not_tsp),
        cmocka_unit_test(test_shadow_user_where_guest_not_ssp),
        cmocka_unit_test(test_shadow_leaf_maps_shadow_table),
        cmocka_unit_test(test_iotlb_wrong_frame_hap),
        cmocka_unit_test(test_iotlb_wrong_frame_tsp),
        cmocka_unit_test(test_iotlb_wrong_frame_ssp),
        cmocka_unit_test(test_iotlb_wrong_frame_second_unit),
        cmocka_unit_test(test_ept_huge_leaf_later_frames),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_rsvd_pml4e.c: a PML4 entry with PS (bit 7) set, which x86-64's
 * 4-level paging reserves (SDM 4.5), under every mode, --check on:
 *  - native, tsp, ssp, hap, selective (nested and shadowed): the guest
 *    writes such an entry above a mapping it uses; after its flush a user
 *    read or write there faults with P and RSVD (SDM 4.7: the hardware's,
 *    KVM's FNAME(walk_addr_generic) for the shadow's walk), the oracle
 *    gives the same error code, the kernel kills the task (pgtable_bad),
 *    nothing was mapped through the entry, and the guest kernel's and the
 *    hypervisor's self-checks hold; put back, the same frame is reached;
 *    left in place, the process exits with no frame leaked;
 *  - pv, pv-pibooster: mmu_update of such an L4 entry is refused with
 *    -EINVAL (Xen's L4 disallow mask holds _PAGE_PSE) and changes nothing;
 *    one written behind Xen's back is reported by pv_check, and the
 *    hardware refuses it all the same;
 *  - the checkers: tsp's shadow check reports a shadow that still links
 *    through a guest L4 entry with PS set (written behind the shadow's
 *    back);
 *  - nested paging: bit 7 of an EPT L4 entry (reserved: an EPT
 *    misconfiguration, SDM 29.3.3.1) written behind the hypervisor's back
 *    is reported by hap's check, and a walk through it crashes the domain
 *    as Xen does, through the run's way back (the vCPU does not return). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>

#include "guest/kernel.h"
#include "hw/ept.h"
#include "testutil_pv.h"

#define B 0x10000000ull                  /* L4 slot 0; 8 pages mapped, 4 written */
#define RSVD_READ (PFEC_P | PFEC_RSVD | PFEC_U)

static struct tmachine *boot_mode(const char *mode, const char *extra)
{
    const char *const p[] = { "guest.ram_mb=256", "selective.policy=fixed", extra, NULL };
    return tm_boot_params(mode, "memwalk", p);
}

static void expect_report(struct tmachine *t, const char *what)
{
    char msg[512] = "";
    if (!machine_check(&t->m, msg, sizeof msg))
        fail_msg("%s: the check passed; expected a report about \"%s\"", t->m.mode->name, what);
    if (!strstr(msg, what))
        fail_msg("%s: the check reported \"%s\"; expected \"%s\"", t->m.mode->name, msg, what);
}

/* Does the hardware walk a shadow of the guest's tables (tsp, ssp,
 * selective while shadowed)? */
static int shadowed(struct tmachine *t)
{
    const struct cpu *c = &t->m.cpu;
    if (!t->m.hv || !c->vmm)
        return 0;
    return !c->vmm->tlb_fill || (c->vmm->walk_kind && c->vmm->walk_kind(c->vmm_ctx) == CPU_WALK_1D);
}

/* A user access at va faults with error code want (the guest sees it, the
 * oracle computes it), and the kernel kills the task for a bad table. */
static void expect_rsvd(struct tmachine *t, uint64_t va, enum access acc, uint32_t want)
{
    struct kernel *k = &t->m.k;
    uint64_t mfn = UINT64_MAX, ref = UINT64_MAX, segv = t->m.st.cnt[CNT_segv];
    k->segv_code = 0;
    int rc = user_access(k, va, acc, &mfn);
    if (rc != -EFAULT)
        fail_msg("%s: access %d to %#llx gave %d (frame %#llx), not a fault", t->m.mode->name, acc,
                 (unsigned long long)va, rc, (unsigned long long)mfn);
    assert_int_equal(t->m.cpu.inject_pfec, want);
    assert_int_equal(k->segv_code, KSEGV_PTBAD);
    assert_int_equal(t->m.st.cnt[CNT_segv], segv + 1);
    assert_int_equal(oracle_translate(&t->m, k->current->mm, va, acc, &ref), want);
}

/* ---- the guest writes one: every hardware-virtualized mode and native ----- */

static void guest_writes_ps(const char *mode, const char *extra, int shadow, int restore)
{
    struct tmachine *t = boot_mode(mode, extra);
    struct kernel *k = &t->m.k;
    struct cpu *c = &t->m.cpu;
    struct task *p = tm_spawn_touching(t, B, 8);
    assert_int_equal(shadowed(t), shadow);
    uint64_t mfn[4];
    for (unsigned i = 0; i < 4; i++)
        mfn[i] = tm_access_ok(t, B + i * PAGE_SIZE, ACC_WRITE);
    uint64_t pgd = p->mm->pgd;
    unsigned i4 = pt_index(B, 4);
    pte_t e = kread_entry(k, pgd, i4);
    assert_true(pte_present(e) && !(e & _PAGE_PSE));
    pte_store_direct(k, pgd, i4, e | _PAGE_PSE);
    cpu_flush_all(c);                  /* the guest's flush after changing a mapping it used */
    tm_check_all(t);
    expect_rsvd(t, B, ACC_READ, RSVD_READ);
    expect_rsvd(t, B + PAGE_SIZE, ACC_WRITE, RSVD_READ | PFEC_W);
    expect_rsvd(t, B + 6 * PAGE_SIZE, ACC_READ, RSVD_READ);   /* never touched: no page is made for it */
    assert_int_equal(p->mm->rss, 4);
    /* a shadow keeps no link through it: the guest's walk faults there */
    if (shadow)
        assert_false(tm_hw_entry(t, B, 4, NULL) & _PAGE_PRESENT);
    tm_check_all(t);
    if (restore) {
        pte_store_direct(k, pgd, i4, e);
        cpu_flush_all(c);
        for (unsigned i = 0; i < 4; i++)
            assert_int_equal(tm_access_ok(t, B + i * PAGE_SIZE, ACC_READ), mfn[i]);
        tm_check_all(t);
    }
    /* left in place, the exit frees every table and page under it */
    tm_finish(t, p);
}

static void every_mode(int restore)
{
    guest_writes_ps("native", NULL, 0, restore);
    guest_writes_ps("tsp", NULL, 1, restore);
    guest_writes_ps("tsp", "tsp.unsync=true", 1, restore);
    guest_writes_ps("ssp", NULL, 1, restore);
    guest_writes_ps("hap", NULL, 0, restore);
    guest_writes_ps("selective", "selective.start=hap", 0, restore);
    guest_writes_ps("selective", "selective.start=shadow", 1, restore);
}

static void test_guest_entry_put_back(void **state)
{
    (void)state;
    every_mode(1);
}

static void test_guest_entry_left_at_exit(void **state)
{
    (void)state;
    every_mode(0);
}

/* ---- Xen PV: refused, and caught behind Xen's back ------------------------ */

static void pv_case(const char *mode)
{
    struct tmachine *t = boot_mode(mode, NULL);
    struct kernel *k = &t->m.k;
    struct cpu *c = &t->m.cpu;
    struct task *p = tm_spawn_touching(t, B, 8);
    uint64_t mfn = tm_access_ok(t, B, ACC_WRITE);
    unsigned i4 = pt_index(B, 4);
    /* the L4s the guest's user half lives in: the pgd and Xen's user pgd */
    uint64_t l4[2] = { p2m(t, p->mm->pgd), p->mm->user_pgd ? p2m(t, p->mm->user_pgd) : 0 };
    for (unsigned j = 0; j < 2 && l4[j]; j++) {
        pte_t e = pmem_read(&t->m.mem, l4[j], i4);
        assert_true(pte_present(e));
        unsigned done = 9;
        assert_int_equal(hc_mmu_update(t, l4[j], i4, e | _PAGE_PSE, &done), -EINVAL);
        assert_int_equal(done, 0);
        assert_int_equal(pmem_read(&t->m.mem, l4[j], i4), e);
        check_inv(t);
    }
    assert_int_equal(tm_access_ok(t, B, ACC_READ), mfn);
    /* written behind Xen's back: pv_check names it, the hardware refuses it */
    pte_t saved[2];
    for (unsigned j = 0; j < 2 && l4[j]; j++) {
        saved[j] = pmem_read(&t->m.mem, l4[j], i4);
        pmem_write(&t->m.mem, l4[j], i4, saved[j] | _PAGE_PSE);
    }
    expect_report(t, "PS in an L4: a reserved bit");
    cpu_hw_flush(c, 1);
    expect_rsvd(t, B, ACC_READ, RSVD_READ);
    for (unsigned j = 0; j < 2 && l4[j]; j++)
        pmem_write(&t->m.mem, l4[j], i4, saved[j]);
    cpu_hw_flush(c, 1);
    check_inv(t);
    assert_int_equal(tm_access_ok(t, B, ACC_READ), mfn);
    (void)k;
    finish(t, &p, 1);
}

static void test_pv_refuses_and_checks(void **state)
{
    (void)state;
    pv_case("pv");
    pv_case("pv-pibooster");
}

/* ---- the shadow checker ---------------------------------------------------- */

/* tsp: a guest L4 entry given PS behind the shadow's back (no trapped
 * write): the shadow still links through it, which the check reports. */
static void test_shadow_check_sees_ps_behind_its_back(void **state)
{
    (void)state;
    struct tmachine *t = boot_mode("tsp", NULL);
    struct task *p = tm_spawn_touching(t, B, 8);
    tm_access_ok(t, B, ACC_READ);
    uint64_t gl4 = pfn_to_mfn(&t->m.hv->dom, p->mm->pgd);
    unsigned i4 = pt_index(B, 4);
    pte_t e = pmem_read(&t->m.mem, gl4, i4);
    assert_true(tm_hw_entry(t, B, 4, NULL) & _PAGE_PRESENT);
    pmem_write(&t->m.mem, gl4, i4, e | _PAGE_PSE);
    expect_report(t, "the guest entry has PS set, a reserved bit in an L4");
    pmem_write(&t->m.mem, gl4, i4, e);
    tm_check_all(t);
    tm_finish(t, p);
}

/* ---- nested paging: bit 7 of an EPT L4 entry ------------------------------ */

static void ept_misconfig(const char *mode, const char *extra)
{
    struct tmachine *t = boot_mode(mode, extra);
    struct cpu *c = &t->m.cpu;
    struct task *p = tm_spawn_touching(t, B, 8);
    tm_access_ok(t, B, ACC_READ);
    uint64_t eptp = c->nested.eptp;
    pte_t e = pmem_read(&t->m.mem, eptp, 0);   /* the L4 entry over all of guest RAM */
    assert_true(ept_present(e) && !(e & EPT_PS));
    pmem_write(&t->m.mem, eptp, 0, e | EPT_PS);
    expect_report(t, "EPT L4 entry 0");
    cpu_invept(c);
    cpu_hw_flush(c, 1);
    uint64_t exits = t->m.st.cnt[CNT_vm_exits_ept_violation], mfn;
    /* the run's way back: the vCPU of a crashed domain does not return */
    jmp_buf back;
    c->offline_ret = &back;
    if (!setjmp(back)) {
        user_access(&t->m.k, B, ACC_READ, &mfn);
        c->offline_ret = NULL;
        fail_msg("%s: the access returned from a walk through a misconfigured EPT", mode);
    }
    c->offline_ret = NULL;
    assert_true(c->offline);
    if (!strstr(t->m.hv->dom.crashed, "EPT misconfiguration"))
        fail_msg("%s: crashed for \"%s\"", mode, t->m.hv->dom.crashed);
    assert_int_equal(t->m.st.cnt[CNT_vm_exits_ept_violation], exits + 1);   /* one exit, no retry loop */
    pmem_write(&t->m.mem, eptp, 0, e);
    cpu_invept(c);
    tm_finish(t, p);
}

static void test_ept_misconfig_crashes_the_domain(void **state)
{
    (void)state;
    ept_misconfig("hap", NULL);
    ept_misconfig("hap", "hap.ept_populate=boot");
    ept_misconfig("selective", "selective.start=hap");
}

int main(void)
{
    mv_error_quiet(1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_guest_entry_put_back),
        cmocka_unit_test(test_guest_entry_left_at_exit),
        cmocka_unit_test(test_pv_refuses_and_checks),
        cmocka_unit_test(test_shadow_check_sees_ps_behind_its_back),
        cmocka_unit_test(test_ept_misconfig_crashes_the_domain),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

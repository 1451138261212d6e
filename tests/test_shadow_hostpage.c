/* test_shadow_hostpage.c: what a shadow entry may map, and what a fault
 * fills besides its own entry, in the shadow modes (tsp, ssp, selective
 * while shadowed).
 *  - hv.host_page_size: a guest 2 MiB page over 4 KiB host pages (the
 *    default, as hap's default EPT) is splintered into 4 KiB shadow leaves,
 *    as KVM never maps more than the host page (kvm_mmu_max_mapping_level);
 *    over 2 MiB host pages it is one 2 MiB shadow leaf. The link to the
 *    splinters is writable only once the guest entry is dirty (Linux's
 *    huge page fault maps it dirty at once).
 *  - shadow.prefetch: a fault on a guest L1 fills the other entries of its
 *    aligned group of 8 the guest has used, speculatively (Accessed clear),
 *    stopping at the first it has not used or not at all (KVM's
 *    FNAME(pte_prefetch), prefetch_invalid_gpte); a
 *    splintered page fills its neighbouring frames. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "hv/selective/selective.h"
#include "hv/shadow/shadow.h"
#include "testutil.h"

#define A 0x40000000ull     /* a 2 MiB-aligned region */
#define HUGE (2ull << 20)

static const char *const modes[] = { "tsp", "ssp", "selective" };

static struct tmachine *boot(const char *mode, const char *p1)
{
    const char *const p[] = { "guest.ram_mb=256", "selective.policy=fixed", "selective.start=shadow", p1, NULL };
    return tm_boot_params(mode, "memwalk", p);
}

static uint64_t cnt(struct tmachine *t, enum mv_counter c) { return t->m.st.cnt[c]; }

static struct shadow *SH(struct tmachine *t, const char *mode)
{
    return strcmp(mode, "selective") ? t->m.hv->mode : &((struct selective *)t->m.hv->mode)->sh;
}

static pte_t hw_entry(struct tmachine *t, uint64_t va, unsigned lvl) { return tm_hw_entry(t, va, lvl, NULL); }

static void check_ok(struct tmachine *t)
{
    char msg[512] = "";
    if (machine_check(&t->m, msg, sizeof msg))
        fail_msg("invariants: %s", msg);
}

static void finish(struct tmachine *t, struct task *p) { tm_finish(t, p); }

static struct task *spawn(struct tmachine *t)
{
    struct task *p = kernel_spawn(&t->m.k, 1);
    schedule_to(&t->m.k, p);
    return p;
}

static void test_guest_huge_page_over_4k_host_pages(void **state)
{
    (void)state;
    /* the link to the splinters: the guest entry's permissions, writable once dirty */
    pte_t g = pte_make(0x200, _PAGE_PRESENT | _PAGE_RW | _PAGE_USER | _PAGE_PSE);
    assert_false(shadow_fl1_link_perms(g) & _PAGE_RW);
    assert_true(shadow_fl1_link_perms(g | _PAGE_DIRTY) & _PAGE_RW);
    for (unsigned m = 0; m < 3; m++)
        for (unsigned host2m = 0; host2m < 2; host2m++) {
            struct tmachine *t = boot(modes[m], host2m ? "hv.host_page_size=2m" : NULL);
            struct kernel *k = &t->m.k;
            struct task *p = spawn(t);
            assert_int_equal(sys_mmap(k, p, A, HUGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANON | MAP_HUGETLB, 0, 0),
                             (long)A);
            uint64_t mfn, fills = cnt(t, CNT_shadow_fill), pre = cnt(t, CNT_shadow_prefetch);
            assert_int_equal(user_access(k, A + 3 * PAGE_SIZE, ACC_READ, &mfn), 0);
            pte_t l2 = hw_entry(t, A, 2);
            assert_true(pte_present(l2));
            if (host2m) {
                assert_true(l2 & _PAGE_PSE);
                assert_int_equal(cnt(t, CNT_shadow_prefetch), pre);
            } else {
                assert_false(l2 & _PAGE_PSE);
                assert_true(pte_present(hw_entry(t, A + 3 * PAGE_SIZE, 1)));
                /* the fault's frame and the 7 others of its group of 8 */
                assert_int_equal(cnt(t, CNT_shadow_prefetch), pre + 7);
                for (unsigned i = 0; i < 8; i++)
                    assert_true(pte_present(hw_entry(t, A + i * PAGE_SIZE, 1)));
                assert_false(pte_present(hw_entry(t, A + 8 * PAGE_SIZE, 1)));
                assert_false(hw_entry(t, A + 5 * PAGE_SIZE, 1) & _PAGE_ACCESSED);   /* speculative */
                /* a write: the guest entry becomes dirty and the link writable */
                assert_int_equal(user_access(k, A + 3 * PAGE_SIZE, ACC_WRITE, &mfn), 0);
                assert_true(hw_entry(t, A, 2) & _PAGE_RW);
                assert_true(hw_entry(t, A + 3 * PAGE_SIZE, 1) & _PAGE_RW);
            }
            assert_true(cnt(t, CNT_shadow_fill) > fills);
            check_ok(t);
            /* a flush (ssp resyncs everything it holds) keeps the splinters */
            cpu_flush_all(&t->m.cpu);
            assert_int_equal(user_access(k, A + 3 * PAGE_SIZE, ACC_READ, &mfn), 0);
            assert_int_equal(!(hw_entry(t, A, 2) & _PAGE_PSE), !host2m);
            finish(t, p);
        }
}

/* Pages 0-7 written but 6, page 4's entry made old (Accessed clear, as
 * Linux's fork leaves a child's), the L1 shadow dropped: a fault on page 2
 * fills it and prefetches 0, 1 and 3, stopping at the old entry 4
 * (prefetch_invalid_gpte); a fault on 4 then prefetches 5 and stops at the
 * untouched 6; 7 faults. With shadow.prefetch=0 each of the seven faults. */
static void test_prefetch_fills_the_group(void **state)
{
    (void)state;
    for (unsigned m = 0; m < 3; m++)
        for (unsigned on = 0; on < 2; on++) {
            struct tmachine *t = boot(modes[m], on ? NULL : "shadow.prefetch=0");
            struct kernel *k = &t->m.k;
            struct task *p = spawn(t);
            assert_int_equal(sys_mmap(k, p, A, 16 * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANON, 0, 0),
                             (long)A);
            uint64_t mfn;
            for (unsigned i = 0; i < 8; i++)
                if (i != 6)
                    assert_int_equal(user_access(k, A + i * PAGE_SIZE, ACC_WRITE, &mfn), 0);
            uint64_t l1 = tm_guest_table(t, A, 1);
            pte_t e4 = kread_entry(k, l1, pt_index(A + 4 * PAGE_SIZE, 1));
            assert_true(e4 & _PAGE_ACCESSED);
            pte_store_direct(k, l1, pt_index(A + 4 * PAGE_SIZE, 1), e4 & ~(pte_t)_PAGE_ACCESSED);
            /* drop the L1 shadow of A (under tsp a write-protected table) */
            struct shadow *sh = SH(t, modes[m]);
            struct shadow_page *sp = sp_find(sh, l1, 1);
            assert_non_null(sp);
            sp_zap(sh, sp);
            cpu_flush_all(&t->m.cpu);
            uint64_t pre = cnt(t, CNT_shadow_prefetch), fills = cnt(t, CNT_shadow_fill);
            assert_int_equal(user_access(k, A + 2 * PAGE_SIZE, ACC_READ, &mfn), 0);
            assert_int_equal(cnt(t, CNT_shadow_prefetch) - pre, on ? 3 : 0);      /* 0, 1, 3 */
            for (unsigned i = 0; i < 8; i++)
                if (i != 6)
                    assert_int_equal(user_access(k, A + i * PAGE_SIZE, ACC_READ, &mfn), 0);
            assert_int_equal(cnt(t, CNT_shadow_prefetch) - pre, on ? 4 : 0);      /* and 5 */
            assert_int_equal(cnt(t, CNT_shadow_fill) - fills, on ? 3 : 7);        /* 2, 4, 7 */
            finish(t, p);
        }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_guest_huge_page_over_4k_host_pages),
        cmocka_unit_test(test_prefetch_fills_the_group),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

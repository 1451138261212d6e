/* test_refs_counted_once.c: `refs` counts each workload reference once,
 * however many attempts a fault makes it take: refs == oracle_checks in a
 * --check run, and a faulting access is one reference (and two TLB misses:
 * the faulting attempt and the retried one both walk). Regression: refs once
 * counted every attempt (cpu_access incremented it on each call). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "guest/kernel.h"
#include "sim/engine.h"
#include "testutil.h"

static void test_workload_refs_equal_oracle_checks(void **state)
{
    (void)state;
    struct sim_config cfg;
    struct run_result r;
    assert_int_equal(config_init(&cfg, "memwalk"), 0);
    cfg.check = 1;
    cfg.quiet = 1;
    assert_int_equal(config_param(&cfg, "memwalk.refs=50000"), 0);
    assert_int_equal(config_param(&cfg, "memwalk.ws_mb=32"), 0);
    assert_int_equal(engine_run(&cfg, mode_find("native"), &r), 0);
    assert_true(r.st.cnt[CNT_guest_pf] > 0);
    assert_int_equal(r.st.cnt[CNT_refs], r.st.cnt[CNT_oracle_checks]);
    run_result_free(&r);
    config_free(&cfg);
}

static void test_faulting_access_is_one_ref(void **state)
{
    (void)state;
    struct tmachine *t = tm_boot("native");
    struct kernel *k = &t->m.k;
    struct task *p = kernel_spawn(k, 1);
    schedule_to(k, p);
    assert_int_equal(sys_mmap(k, p, 0x10000000, PAGE_SIZE, PROT_READ | PROT_WRITE,
                              MAP_PRIVATE | MAP_ANON, 0, 0), 0x10000000);
    uint64_t mfn, refs = t->m.st.cnt[CNT_refs], miss = t->m.st.cnt[CNT_tlb_miss];
    assert_int_equal(user_access(k, 0x10000000, ACC_WRITE, &mfn), 0);
    assert_int_equal(t->m.st.cnt[CNT_guest_pf], 1);
    assert_int_equal(t->m.st.cnt[CNT_refs], refs + 1);
    /* Two walks, though: x86 caches no not-present translation, so the
     * faulting attempt and the re-executed one each miss and walk. */
    assert_int_equal(t->m.st.cnt[CNT_tlb_miss], miss + 2);
    do_exit(k, p);
    assert_int_equal(tm_destroy(t), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_workload_refs_equal_oracle_checks),
        cmocka_unit_test(test_faulting_access_is_one_ref),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_dma_idle.c: background device traffic over a long idle gap
 * (hv/devices.c). The periods of a gap are given to the device one by one
 * when the clock next ticks; what the device completed by each period's end
 * must leave its queue then, so that a device that keeps up holds a
 * transfer or two however long the gap. It held every period of the gap
 * until the gap's end: a day of 1 ms periods queued 86.4 million entries
 * (2.1 GB; an attack run found it with a two-record trace). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "testutil.h"
#include "hv/hv.h"

static void gap(const char *mode)
{
    const char *const p[] = { "guest.ram_mb=256", "hv.nic_mbps=100", "hv.disk_mbps=100",
                              "hv.dma_period_us=1000", NULL };
    struct tmachine *t = tm_boot_params(mode, "memwalk", p);
    struct hv *h = t->m.hv;
    assert_non_null(h);
    const uint64_t sec = (uint64_t)(t->cfg.cost.clock_ghz * 1e9);
    uint64_t b0 = t->m.st.cnt[CNT_dma_bytes];
    hv_tick(h, t->m.st.now + 100 * sec);   /* 100 s: 100,000 periods of each device */
    /* a hundred seconds of 100 Mbit/s on each device, all of it completed
     * but for the last period's */
    uint64_t moved = t->m.st.cnt[CNT_dma_bytes] - b0;
    assert_true(moved >= 2 * 100 * 12500000ull * 99 / 100);
    assert_true(h->nic.q.n <= 2 && h->disk.q.n <= 2);
    assert_true(h->nic.q.cap <= 64 && h->disk.q.cap <= 64);   /* never grew past its first ring */
    assert_int_equal(h->nic.q.max_wait, 0);
    assert_int_equal(tm_destroy(t), 0);
}

static void test_gap_pv(void **state)
{
    (void)state;
    gap("pv");
}

static void test_gap_hap(void **state)
{
    (void)state;
    gap("hap");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gap_pv),
        cmocka_unit_test(test_gap_hap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

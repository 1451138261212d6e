/* test_cpu.c: the vCPU's access path (hw/cpu.c) around stale TLB entries:
 *  - an entry more restrictive than the tables (the tables were upgraded
 *    without a flush, which the architecture allows) makes the access fault
 *    spuriously: the entry is dropped, the re-walk succeeds, and the event
 *    is counted as spurious_fault;
 *  - an entry that denies an access the tables deny too is a real fault,
 *    not a spurious one;
 *  - a write through a clean writable entry re-walks to set D (no fault). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "hw/cpu.h"
#include <stdlib.h>
#include <string.h>

struct fx {
    struct pmem mem;
    struct mv_stats st;
    struct cost cost;
    struct cpu c;
};

static const uint64_t U = _PAGE_PRESENT | _PAGE_USER | _PAGE_ACCESSED;

static struct fx *setup(uint64_t leaf_flags)
{
    struct fx *f = calloc(1, sizeof *f);
    struct tlb_config tc = { 64, 4, 32, 4, 4, 4, 1536, 12, 1, 2, 4, 32 };
    struct dcache_config dc = { 256, 16 };
    pmem_init(&f->mem, 1 << 16);
    assert_int_equal(cost_load_profile(&f->cost, "default"), 0);
    assert_int_equal(cpu_init(&f->c, 0, &f->mem, &f->st, &f->cost, &tc, &dc), 0);
    pmem_write(&f->mem, 10, 0, pte_make(11, U | _PAGE_RW));
    pmem_write(&f->mem, 11, 0, pte_make(12, U | _PAGE_RW));
    pmem_write(&f->mem, 12, 0, pte_make(13, U | _PAGE_RW));
    pmem_write(&f->mem, 13, 0, pte_make(100, leaf_flags));
    f->c.hw_root = 10;
    return f;
}

static void teardown(struct fx *f)
{
    cpu_destroy(&f->c);
    pmem_destroy(&f->mem);
    free(f);
}

static void test_spurious_after_upgrade(void **state)
{
    (void)state;
    struct fx *f = setup(U);                          /* read-only */
    uint64_t frame;
    assert_int_equal(cpu_access(&f->c, 0x10, ACC_READ, &frame), 0);   /* caches RO */
    assert_int_equal(frame, 100);
    /* the tables are upgraded to writable, the TLB is not flushed */
    pmem_write(&f->mem, 13, 0, pte_make(100, U | _PAGE_RW | _PAGE_DIRTY));
    uint64_t miss = f->st.cnt[CNT_tlb_miss];
    assert_int_equal(cpu_access(&f->c, 0x10, ACC_WRITE, &frame), 0);
    assert_int_equal(frame, 100);
    assert_int_equal(f->st.cnt[CNT_spurious_fault], 1);
    assert_int_equal(f->st.cnt[CNT_tlb_miss], miss);  /* it hit, then was refetched */
    assert_int_equal(f->st.cyc[CYC_fault], f->cost.fault_entry);
    /* now the entry is writable: no more faults */
    assert_int_equal(cpu_access(&f->c, 0x18, ACC_WRITE, &frame), 0);
    assert_int_equal(f->st.cnt[CNT_spurious_fault], 1);
    teardown(f);
}

static void test_real_fault_not_spurious(void **state)
{
    (void)state;
    struct fx *f = setup(U);
    uint64_t frame;
    assert_int_equal(cpu_access(&f->c, 0x10, ACC_READ, &frame), 0);
    uint32_t pfec = cpu_access(&f->c, 0x10, ACC_WRITE, &frame);
    assert_true(pfec & PFEC_P);
    assert_true(pfec & PFEC_W);
    assert_int_equal(f->st.cnt[CNT_spurious_fault], 0);
    teardown(f);
}

/* MEMVIRT_PREFETCH: auto (the host's L2 in frames), on (always), off
 * (never), anything else a warning naming it and auto. */
static void test_prefetch_choice(void **state)
{
    (void)state;
    char w[200];
    assert_int_equal(cpu_prefetch_choose(NULL, 256, w, sizeof w), 256);
    assert_string_equal(w, "");
    assert_int_equal(cpu_prefetch_choose("", 512, w, sizeof w), 512);
    assert_int_equal(cpu_prefetch_choose("auto", 512, w, sizeof w), 512);
    assert_string_equal(w, "");
    assert_int_equal(cpu_prefetch_choose("on", 512, w, sizeof w), 0);
    assert_int_equal(cpu_prefetch_choose("off", 512, w, sizeof w), UINT64_MAX);
    assert_string_equal(w, "");
    assert_int_equal(cpu_prefetch_choose("yes", 512, w, sizeof w), 512);
    assert_non_null(strstr(w, "MEMVIRT_PREFETCH='yes'"));
}

static void test_dirty_assist_not_a_fault(void **state)
{
    (void)state;
    struct fx *f = setup(U | _PAGE_RW);              /* writable, clean */
    uint64_t frame;
    assert_int_equal(cpu_access(&f->c, 0x10, ACC_READ, &frame), 0);
    assert_false(pmem_read(&f->mem, 13, 0) & _PAGE_DIRTY);
    assert_int_equal(cpu_access(&f->c, 0x10, ACC_WRITE, &frame), 0);
    assert_true(pmem_read(&f->mem, 13, 0) & _PAGE_DIRTY);           /* the re-walk set D */
    assert_int_equal(f->st.cnt[CNT_spurious_fault], 0);
    assert_int_equal(f->st.cyc[CYC_fault], 0);
    teardown(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spurious_after_upgrade),
        cmocka_unit_test(test_real_fault_not_spurious),
        cmocka_unit_test(test_dirty_assist_not_a_fault),
        cmocka_unit_test(test_prefetch_choice),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

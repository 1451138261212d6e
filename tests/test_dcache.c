/* test_dcache.c: the data cache page walks see (hw/dcache.c) and how a walk
 * is charged by where its references hit (cpu_charge_walk). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "hw/cpu.h"
#include "hw/dcache.h"
#include <string.h>

static void test_geometry(void **state)
{
    (void)state;
    struct dcache c;
    struct dcache_config ok = { 256, 16 }, bad_ways = { 256, 12 }, none = { 0, 16 };
    assert_int_equal(dcache_init(&c, &ok, 1 << 20), 0);
    assert_int_equal(c.sets, 256);      /* 4096 lines / 16 ways */
    dcache_destroy(&c);
    assert_int_equal(dcache_init(&c, &bad_ways, 1 << 20), -1);   /* 4096 % 12 != 0 */
    assert_int_equal(dcache_init(&c, &none, 1 << 20), 0);
    assert_int_equal(dcache_access(&c, 0x1000), 0);     /* no cache: always a miss */
    assert_int_equal(dcache_access(&c, 0x1000), 0);
    dcache_destroy(&c);
}

/* Tags are 32 bits: a geometry needs enough sets that the machine's last
 * line, shifted by the set bits, still has a tag. */
static void test_tag_width(void **state)
{
    (void)state;
    struct dcache c;
    struct dcache_config one_set = { 1, 16 }, many = { 1 << 20, 16 };   /* 1 set; 65536 sets */
    assert_int_equal(dcache_min_sets(1ull << 20), 1);                    /* 4 GiB: 2^26 lines */
    assert_int_equal(dcache_min_sets(1ull << 26), 2);                    /* 256 GiB: 2^32 lines */
    assert_int_equal(dcache_min_sets((1ull << 26) - 1), 1);
    assert_int_equal(dcache_min_sets(1ull << 32), 128);                  /* 16 TiB: 2^38 lines */
    assert_int_equal(dcache_init(&c, &one_set, 1ull << 25), 0);
    dcache_destroy(&c);
    assert_int_equal(dcache_init(&c, &one_set, 1ull << 26), -2);
    assert_int_equal(dcache_init(&c, &many, 1ull << 32), 0);
    /* a 16 TiB machine's last line and its first are cached and told apart */
    uint64_t last = ((1ull << 32) << 12) - 64;
    assert_int_equal(dcache_access(&c, last), 0);
    assert_int_equal(dcache_access(&c, 0), 0);
    assert_int_equal(dcache_access(&c, last), 1);
    assert_int_equal(dcache_access(&c, 0), 1);
    dcache_destroy(&c);
}

static void test_hit_same_line(void **state)
{
    (void)state;
    struct dcache c;
    struct dcache_config cfg = { 64, 4 };
    assert_int_equal(dcache_init(&c, &cfg, 1 << 20), 0);
    assert_int_equal(dcache_access(&c, 0x12340), 0);
    assert_int_equal(dcache_access(&c, 0x12378), 1);    /* same 64-byte line */
    assert_int_equal(dcache_access(&c, 0x12380), 0);    /* next line */
    dcache_destroy(&c);
}

static void test_lru_eviction(void **state)
{
    (void)state;
    struct dcache c;
    struct dcache_config cfg = { 1, 16 };               /* 16 lines, one set */
    assert_int_equal(dcache_init(&c, &cfg, 1 << 20), 0);
    assert_int_equal(c.sets, 1);
    for (uint64_t i = 0; i < 16; i++)
        assert_int_equal(dcache_access(&c, i * 64), 0);
    assert_int_equal(dcache_access(&c, 0), 1);          /* line 0 is now the most recent */
    assert_int_equal(dcache_access(&c, 16 * 64), 0);    /* evicts line 1, the LRU */
    assert_int_equal(dcache_access(&c, 0), 1);
    assert_int_equal(dcache_access(&c, 2 * 64), 1);
    assert_int_equal(dcache_access(&c, 1 * 64), 0);
    dcache_destroy(&c);
}

/* A walk's references are charged walk_ref on a hit, walk_ref_miss on a miss. */
static void test_walk_charge(void **state)
{
    (void)state;
    struct pmem mem;
    struct mv_stats st;
    struct cost cost;
    struct cpu c;
    struct tlb_config tc = { 64, 4, 32, 4, 4, 4, 1536, 12, 1, 0, 0, 0 };   /* no walk caches */
    struct dcache_config dc = { 256, 16 };
    memset(&st, 0, sizeof st);
    pmem_init(&mem, 1 << 16);
    assert_int_equal(cost_load_profile(&cost, "default"), 0);
    assert_int_equal(cpu_init(&c, 0, &mem, &st, &cost, &tc, &dc), 0);
    /* tables at frames 10 (L4), 11, 12, 13 (L1); two pages, 4K apart */
    pmem_write(&mem, 10, 0, pte_make(11, _PAGE_PRESENT | _PAGE_RW | _PAGE_USER));
    pmem_write(&mem, 11, 0, pte_make(12, _PAGE_PRESENT | _PAGE_RW | _PAGE_USER));
    pmem_write(&mem, 12, 0, pte_make(13, _PAGE_PRESENT | _PAGE_RW | _PAGE_USER));
    pmem_write(&mem, 13, 0, pte_make(100, _PAGE_PRESENT | _PAGE_RW | _PAGE_USER));
    pmem_write(&mem, 13, 1, pte_make(101, _PAGE_PRESENT | _PAGE_RW | _PAGE_USER));
    c.hw_root = 10;
    struct tlb_xlate x;
    assert_int_equal(cpu_native_fill(&c, 0x0, ACC_READ, 1, &x), 0);
    assert_int_equal(x.frame, 100);
    assert_int_equal(st.cnt[CNT_walk_cache_miss], 4);
    assert_int_equal(st.cyc[CYC_walk], cost.walk_start + 4 * cost.walk_ref_miss);
    /* the neighbouring page: the same four lines, all hits now */
    assert_int_equal(cpu_native_fill(&c, 0x1000, ACC_READ, 1, &x), 0);
    assert_int_equal(x.frame, 101);
    assert_int_equal(st.cnt[CNT_walk_cache_miss], 4);
    assert_int_equal(st.cyc[CYC_walk], 2 * cost.walk_start + 4 * cost.walk_ref_miss + 4 * cost.walk_ref);
    assert_int_equal(st.cnt[CNT_walk_refs], 8);
    cpu_destroy(&c);
    pmem_destroy(&mem);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_geometry),
        cmocka_unit_test(test_tag_width),
        cmocka_unit_test(test_hit_same_line),
        cmocka_unit_test(test_lru_eviction),
        cmocka_unit_test(test_walk_charge),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

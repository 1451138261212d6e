/* test_lru.c: the O(1) recency order of hw/lru.h against a plain list, on
 * every set width it serves and long random sequences of touches. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "hw/lru.h"
#include "lib/rng.h"
#include <string.h>

/* The reference: ways in an array, most recent first. */
static void list_touch(unsigned *l, unsigned ways, unsigned w)
{
    unsigned p = 0;
    while (l[p] != w)
        p++;
    memmove(&l[1], &l[0], p * sizeof *l);
    l[0] = w;
}

static void test_against_list(void **state)
{
    (void)state;
    rng_t r;
    rng_seed(&r, 42, 1);
    for (unsigned ways = 1; ways <= LRU_ORDER_WAYS; ways++) {
        uint64_t o = LRU_ORDER_INIT;
        unsigned list[LRU_ORDER_WAYS];
        for (unsigned i = 0; i < ways; i++)
            list[i] = i;
        for (unsigned n = 0; n < 20000; n++) {
            /* bias towards recent ways, as caches see them */
            unsigned w = rng_below(&r, 4) ? list[rng_below(&r, ways < 3 ? ways : 3)] : (unsigned)rng_below(&r, ways);
            assert_int_equal(lru_order_is_mru(o, w), list[0] == w);
            list_touch(list, ways, w);
            /* the oldest way has its own, cheaper touch */
            o = w == lru_order_oldest(o, ways) && rng_below(&r, 2) ? lru_order_touch_oldest(o, w)
                                                                    : lru_order_touch(o, w);
            for (unsigned p = 0; p < ways; p++)
                assert_int_equal(lru_order_pos(o, list[p]), p);
            assert_int_equal(lru_order_oldest(o, ways), list[ways - 1]);
        }
    }
}

static void test_touch_most_recent_is_identity(void **state)
{
    (void)state;
    uint64_t o = LRU_ORDER_INIT;
    o = lru_order_touch(o, 5);
    o = lru_order_touch(o, 15);
    assert_true(lru_order_is_mru(o, 15));
    assert_int_equal(lru_order_touch(o, 15), o);
    assert_int_equal(lru_order_oldest(o, 16), 14);   /* 15 and 5 moved up; 14 is last */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_against_list),
        cmocka_unit_test(test_touch_most_recent_is_identity),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

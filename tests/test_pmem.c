/* test_pmem.c: machine memory (hw/pmem.c): frames backed on first write,
 * dropped when zeroed, and linear frames (an identity-mapped extent's L1
 * table held as a formula) that read like the table they stand for and
 * become a real one when written. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "hw/pmem.h"

#define FIRST ((0x12345ull << PAGE_SHIFT) | _PAGE_PRESENT | _PAGE_RW)

static void test_backing(void **state)
{
    (void)state;
    struct pmem m;
    pmem_init(&m, 4096);
    assert_int_equal(pmem_read(&m, 7, 3), 0);
    assert_null(pmem_table_peek(&m, 7));
    assert_int_equal(m.backed, 0);
    pmem_write(&m, 7, 3, 42);
    assert_int_equal(pmem_read(&m, 7, 3), 42);
    assert_int_equal(m.backed, 1);
    pmem_zero(&m, 7);
    assert_int_equal(pmem_read(&m, 7, 3), 0);
    assert_int_equal(m.backed, 0);
    pmem_destroy(&m);
}

static void test_linear_reads(void **state)
{
    (void)state;
    struct pmem m;
    pmem_init(&m, 4096);
    pmem_set_linear(&m, 9, FIRST);
    assert_int_equal(m.linear, 1);
    assert_int_equal(m.backed, 0);
    for (unsigned i = 0; i < PTRS_PER_TABLE; i++)
        assert_int_equal(pmem_read(&m, 9, i), FIRST + ((uint64_t)i << PAGE_SHIFT));
    assert_int_equal(m.backed, 0);          /* reading never backs it */
    pmem_zero(&m, 9);
    assert_int_equal(m.linear, 0);
    assert_int_equal(pmem_read(&m, 9, 5), 0);
    pmem_destroy(&m);
}

/* A write fills the words in first: every other entry keeps its value. */
static void test_linear_write_fills(void **state)
{
    (void)state;
    struct pmem m;
    pmem_init(&m, 4096);
    pmem_set_linear(&m, 9, FIRST);
    pmem_write(&m, 9, 100, 0);
    assert_int_equal(m.linear, 0);
    assert_int_equal(m.backed, 1);
    for (unsigned i = 0; i < PTRS_PER_TABLE; i++)
        assert_int_equal(pmem_read(&m, 9, i), i == 100 ? 0 : FIRST + ((uint64_t)i << PAGE_SHIFT));
    pmem_destroy(&m);
}

static void test_linear_peek_and_copy(void **state)
{
    (void)state;
    struct pmem m;
    pmem_init(&m, 4096);
    pmem_set_linear(&m, 9, FIRST);
    pmem_copy(&m, 10, 9);                   /* from a linear frame */
    assert_int_equal(pmem_read(&m, 10, 511), FIRST + (511ull << PAGE_SHIFT));
    const uint64_t *t = pmem_table_peek(&m, 9);
    assert_non_null(t);
    assert_int_equal(t[1], FIRST + (1ull << PAGE_SHIFT));
    assert_int_equal(m.linear, 0);
    assert_int_equal(m.backed, 2);
    pmem_set_linear(&m, 11, FIRST);
    pmem_destroy(&m);                       /* a linear frame has nothing to free */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_backing),
        cmocka_unit_test(test_linear_reads),
        cmocka_unit_test(test_linear_write_fills),
        cmocka_unit_test(test_linear_peek_and_copy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

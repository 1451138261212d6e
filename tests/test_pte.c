/* test_pte.c: the x86-64 paging-entry format helpers of hw/pte.h: entry
 * encode/decode, per-level index extraction, leaf detection and canonical
 * addresses (Intel SDM vol. 3, 4.5). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "hw/pte.h"
#include "hw/walk.h"

static void test_make_and_decode(void **state)
{
    (void)state;
    const uint64_t flags = _PAGE_PRESENT | _PAGE_RW | _PAGE_USER | _PAGE_ACCESSED |
                           _PAGE_DIRTY | _PAGE_GLOBAL | _PAGE_NX;
    pte_t e = pte_make(0x12345, flags);
    assert_int_equal(pte_frame(e), 0x12345);
    assert_int_equal(e & PTE_FLAGS_MASK, flags);
    assert_int_equal(e & PTE_FRAME_MASK, 0x12345ull << PAGE_SHIFT);
    assert_true(pte_present(e));
    assert_false(pte_present(pte_make(0x12345, _PAGE_RW | _PAGE_USER)));

    /* The whole 40-bit frame field round-trips and stays out of the flags. */
    const uint64_t maxf = (1ull << 40) - 1;
    e = pte_make(maxf, 0);
    assert_int_equal(pte_frame(e), maxf);
    assert_int_equal(e & PTE_FLAGS_MASK, 0);
    e = pte_make(maxf, _PAGE_NX | _PAGE_PRESENT);
    assert_int_equal(pte_frame(e), maxf);
    assert_true(e & _PAGE_NX);

    /* Flags never alter the frame, software bits included. */
    e = pte_make(7, _PAGE_AVAIL0 | _PAGE_AVAIL1 | _PAGE_AVAIL2 | _PAGE_PSE | _PAGE_PCD | _PAGE_PWT);
    assert_int_equal(pte_frame(e), 7);
    assert_int_equal(pte_frame(0), 0);

    /* Each flag is its architectural bit. */
    assert_int_equal(_PAGE_PRESENT, 1ull << 0);
    assert_int_equal(_PAGE_RW, 1ull << 1);
    assert_int_equal(_PAGE_USER, 1ull << 2);
    assert_int_equal(_PAGE_ACCESSED, 1ull << 5);
    assert_int_equal(_PAGE_DIRTY, 1ull << 6);
    assert_int_equal(_PAGE_PSE, 1ull << 7);
    assert_int_equal(_PAGE_GLOBAL, 1ull << 8);
    assert_int_equal(_PAGE_NX, 1ull << 63);
    assert_int_equal(PTE_FRAME_MASK & PTE_FLAGS_MASK, 0);
    assert_int_equal(PTE_FRAME_MASK | PTE_FLAGS_MASK, ~0ull);
}

static void test_level_shift(void **state)
{
    (void)state;
    assert_int_equal(level_shift(1), 12);
    assert_int_equal(level_shift(2), 21);
    assert_int_equal(level_shift(3), 30);
    assert_int_equal(level_shift(4), 39);
    assert_int_equal(pg_shift(PG_4K), 12);
    assert_int_equal(pg_shift(PG_2M), 21);
    assert_int_equal(pg_shift(PG_1G), 30);
}

static uint64_t va_of(unsigned i4, unsigned i3, unsigned i2, unsigned i1, uint64_t off)
{
    return ((uint64_t)i4 << 39) | ((uint64_t)i3 << 30) | ((uint64_t)i2 << 21) |
           ((uint64_t)i1 << 12) | off;
}

static void test_pt_index(void **state)
{
    (void)state;
    const unsigned idx[][4] = {
        { 0, 0, 0, 0 }, { 1, 2, 3, 4 }, { 511, 511, 511, 511 }, { 255, 0, 511, 1 },
        { 170, 341, 85, 256 },
    };
    for (size_t n = 0; n < sizeof idx / sizeof idx[0]; n++) {
        uint64_t va = va_of(idx[n][0], idx[n][1], idx[n][2], idx[n][3], 0xabc);
        assert_int_equal(pt_index(va, 4), idx[n][0]);
        assert_int_equal(pt_index(va, 3), idx[n][1]);
        assert_int_equal(pt_index(va, 2), idx[n][2]);
        assert_int_equal(pt_index(va, 1), idx[n][3]);
    }
    /* The page offset never reaches an index, and a kernel-half address
     * indexes the upper half of the PML4 (the sign extension is ignored). */
    assert_int_equal(pt_index(0xfff, 1), 0);
    assert_int_equal(pt_index(0x1000, 1), 1);
    assert_int_equal(pt_index(0xffff800000000000ull, 4), 256);
    assert_int_equal(pt_index(0xffffffffffffffffull, 4), 511);
    assert_int_equal(pt_index(0xffffffffffffffffull, 1), 511);
    assert_int_equal(pt_index(0x00007fffffffffffull, 4), 255);
}

static void test_leaf(void **state)
{
    (void)state;
    const pte_t plain = pte_make(0x200, _PAGE_PRESENT | _PAGE_RW);
    const pte_t ps = plain | _PAGE_PSE;
    /* An L1 entry is always a leaf; PS is bit 7 (PAT) there. */
    assert_true(pte_leaf(plain, 1));
    assert_true(pte_leaf(ps, 1));
    /* PS makes a 2M leaf at L2 and a 1G leaf at L3. */
    assert_true(pte_leaf(ps, 2));
    assert_true(pte_leaf(ps, 3));
    assert_false(pte_leaf(plain, 2));
    assert_false(pte_leaf(plain, 3));
    /* PS is reserved at L4: never a leaf. */
    assert_false(pte_leaf(ps, 4));
    assert_false(pte_leaf(plain, 4));
}

static void test_canonical(void **state)
{
    (void)state;
    assert_true(va_canonical(0));
    assert_true(va_canonical(0x1000));
    assert_true(va_canonical(0x00007fffffffffffull));
    assert_true(va_canonical(USER_VA_END - 1));
    assert_false(va_canonical(USER_VA_END));
    assert_false(va_canonical(0x0000800000000000ull));
    assert_false(va_canonical(0x0001000000000000ull));
    assert_false(va_canonical(0x8000000000000000ull));
    assert_false(va_canonical(0xffff7fffffffffffull));
    assert_false(va_canonical(0xfffe800000000000ull));
    assert_true(va_canonical(0xffff800000000000ull));
    assert_true(va_canonical(0xffffffff81000000ull));
    assert_true(va_canonical(0xffffffffffffffffull));
}

static void test_pfec_of(void **state)
{
    (void)state;
    assert_int_equal(pfec_of(ACC_READ, 0), 0);
    assert_int_equal(pfec_of(ACC_READ, 1), PFEC_U);
    assert_int_equal(pfec_of(ACC_WRITE, 0), PFEC_W);
    assert_int_equal(pfec_of(ACC_WRITE, 1), PFEC_W | PFEC_U);
    assert_int_equal(pfec_of(ACC_EXEC, 1), PFEC_I | PFEC_U);
    assert_int_equal(pfec_of(ACC_EXEC, 0), PFEC_I);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_make_and_decode),
        cmocka_unit_test(test_level_shift),
        cmocka_unit_test(test_pt_index),
        cmocka_unit_test(test_leaf),
        cmocka_unit_test(test_canonical),
        cmocka_unit_test(test_pfec_of),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_build_vmas.c: the importers' model of an address space
 * (trace/build.c, its VMAs in a red-black tree: lib/range_tree.h) on the
 * pattern that made its sorted array quadratic, judged by what it lets
 * into the trace (its counters):
 *  - 50,000 one-page mmaps at descending addresses, a page apart: a
 *    reference into a hole is dropped, one into a mapping kept;
 *  - the holes mapped from the top down merge everything into one VMA: an
 *    mprotect of the whole range is accepted (it must be covered), every
 *    other page made read-only splits it again, and writes are kept or
 *    dropped page by page as the protection says;
 *  - a fork copies the VMAs: the child's munmap of the whole range leaves
 *    the parent's mappings as they were;
 *  - the stack grows down under a touch below it (the VMA after the
 *    address, and the one before it, looked up), not under a touch below
 *    another mapping. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include "trace/build.h"

#define PG 4096ull
#define TOP 0x7f0000000000ull
#define STACK_HI 0x7ffffffff000ull
#define STACK_LO (STACK_HI - 33 * PG)

static const char *K[] = { "source" }, *V[] = { "test" };

static void test_descending_merge_fork(void **state)
{
    (void)state;
    enum { N = 50000 };
    struct trace_writer *w = trace_writer_mem(K, V, 1);
    struct build *b = build_new(w);
    uint64_t t = 1;
    struct trace_seg stack = { .start = STACK_LO, .len = STACK_HI - STACK_LO, .prot = TRP_READ | TRP_WRITE,
                               .kind = TRS_STACK };
    assert_int_equal(build_exec(b, t++, 1, "/bin/x", &stack, 1, 0), 0);
    for (uint64_t i = 0; i < N; i++)
        assert_int_equal(build_mmap(b, t++, 1, TOP - 2 * i * PG, PG, TRP_READ | TRP_WRITE, TRM_ANON, 0, 0, 0), 0);
    const uint64_t lo = TOP - 2 * (N - 1) * PG, hi = TOP + PG;
    assert_int_equal(build_ref(b, t++, 1, TOP - PG, TRR_WRITE), 0);         /* a hole */
    assert_int_equal(build_count(b, BC_REF_UNMAPPED), 1);
    assert_int_equal(build_ref(b, t++, 1, lo, TRR_WRITE), 0);
    assert_int_equal(build_count(b, BC_REFS), 1);
    /* an mprotect over a range with holes: refused */
    assert_int_equal(build_mprotect(b, t++, 1, lo, hi - lo, TRP_READ), 0);
    assert_int_equal(build_count(b, BC_CALL_REFUSED), 1);

    for (uint64_t j = 1; j < N; j++)
        assert_int_equal(build_mmap(b, t++, 1, TOP - (2 * j - 1) * PG, PG, TRP_READ | TRP_WRITE, TRM_ANON, 0, 0, 0),
                         0);
    assert_int_equal(build_mprotect(b, t++, 1, lo, hi - lo, TRP_READ | TRP_WRITE), 0);
    assert_int_equal(build_count(b, BC_CALL_REFUSED), 1);                    /* covered now */
    for (uint64_t a = lo; a < hi; a += 2 * PG)
        assert_int_equal(build_mprotect(b, t++, 1, a, PG, TRP_READ), 0);
    assert_int_equal(build_count(b, BC_CALL_REFUSED), 1);
    assert_int_equal(build_ref(b, t++, 1, lo + 2 * PG, TRR_WRITE), 0);      /* read-only */
    assert_int_equal(build_count(b, BC_REF_PROT), 1);
    assert_int_equal(build_ref(b, t++, 1, lo + 3 * PG, TRR_WRITE), 0);      /* read-write */
    assert_int_equal(build_count(b, BC_REFS), 2);

    /* the child unmaps it all; the parent keeps it */
    assert_int_equal(build_fork(b, t++, 1, 2, 0), 0);
    assert_int_equal(build_ref(b, t++, 2, lo + 3 * PG, TRR_WRITE), 0);
    assert_int_equal(build_count(b, BC_REFS), 3);
    assert_int_equal(build_munmap(b, t++, 2, lo, hi - lo), 0);
    assert_int_equal(build_ref(b, t++, 2, lo + 3 * PG, TRR_WRITE), 0);
    assert_int_equal(build_count(b, BC_REF_UNMAPPED), 2);
    assert_int_equal(build_ref(b, t++, 1, lo + 3 * PG, TRR_WRITE), 0);
    assert_int_equal(build_count(b, BC_REFS), 4);

    /* below the stack: it grows; below the lowest mapping: nothing */
    assert_int_equal(build_ref(b, t++, 1, STACK_LO - 3 * PG, TRR_WRITE), 0);
    assert_int_equal(build_count(b, BC_STACK_GROW), 1);
    assert_int_equal(build_count(b, BC_REFS), 5);
    assert_int_equal(build_ref(b, t++, 1, lo - PG, TRR_WRITE), 0);
    assert_int_equal(build_count(b, BC_REF_UNMAPPED), 3);
    assert_int_equal(build_count(b, BC_STACK_GROW), 1);

    assert_int_equal(build_finish(b), 0);
    build_free(b);
    unsigned char *buf;
    size_t len;
    assert_int_equal(trace_writer_commit_mem(w, &buf, &len), 0);
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_descending_merge_fork),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_hv_heap.c: the hypervisor's frame heap (hv/domain.c), kept as a
 * stack of runs so that a heap of whole extents costs a run per extent and
 * not a word per frame, hands frames out in exactly the order the plain
 * per-frame stack it replaced did: a reference stack of frame numbers is
 * driven beside it through random allocations and frees (frees of adjacent
 * frames, which merge runs, included), and every frame handed out and the
 * whole free stack are compared. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "testutil.h"
#include "hv/hv.h"
#include "lib/rng.h"

static void test_heap_order_matches_per_frame_stack(void **state)
{
    (void)state;
    struct tmachine *t = tm_boot("pv");
    struct hv *h = t->m.hv;
    uint64_t n = h->nheap;
    assert_true(n > 512);
    /* the heap's runs: far fewer than its frames */
    assert_true(h->nruns * 64 < n);
    uint64_t *ref = malloc((n + 1) * sizeof *ref), nref = n;
    uint64_t *out = malloc((n + 1) * sizeof *out), nout = 0;
    assert_non_null(ref);
    assert_non_null(out);
    for (uint64_t i = 0; i < n; i++)
        ref[i] = hv_heap_free_frame(h, i);
    rng_t r;
    rng_seed(&r, 3, 9);
    for (unsigned op = 0; op < 20000; op++) {
        unsigned k = (unsigned)rng_below(&r, 10);
        if (k < 6 && nref) {                     /* allocate */
            uint64_t f = hv_alloc_frame(h);
            assert_int_equal(f, ref[--nref]);
            out[nout++] = f;
        } else if (k < 8 && nout) {              /* free the most recent: it comes back first */
            uint64_t f = out[--nout];
            hv_free_frame(h, f);
            ref[nref++] = f;
        } else if (nout) {                       /* free any frame handed out */
            uint64_t j = rng_below(&r, nout), f = out[j];
            out[j] = out[--nout];
            hv_free_frame(h, f);
            ref[nref++] = f;
        }
        assert_int_equal(h->nheap, nref);
        if (op % 1000 == 0)
            for (uint64_t i = 0; i < nref; i++)
                assert_int_equal(hv_heap_free_frame(h, i), ref[i]);
    }
    /* hand everything out: the same order to the last frame, then none */
    while (nref) {
        assert_int_equal(hv_heap_free_frame(h, nref - 1), ref[nref - 1]);
        assert_int_equal(hv_alloc_frame(h), ref[--nref]);
    }
    assert_int_equal(hv_alloc_frame(h), UINT64_MAX);
    assert_int_equal(h->nruns, 0);
    while (nout)
        hv_free_frame(h, out[--nout]);
    free(ref);
    free(out);
    tm_destroy(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_heap_order_matches_per_frame_stack),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

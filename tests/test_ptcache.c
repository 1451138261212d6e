/* test_ptcache.c: PiBooster's pools and their shrink policy (guest/ptcache.c),
 * driven through pt_alloc / pt_free so every count is exact:
 *  - freeing returns a page to its level's pool, allocation takes it back
 *    (LIFO: the most recently freed first);
 *  - a pool shrinks only when both in_pool/in_use > ratio and
 *    in_pool + in_use > total, and then releases in_pool - in_use pages,
 *    the coldest (earliest freed) first;
 *  - a ratio under 100% acts as 100%: a pool never shrinks below in_use;
 *  - thresholds changed at run time take effect at the next free;
 *  - under pv-pibooster a release goes through Xen: the flag is cleared and
 *    the page is mapped back into the IOMMU. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "guest/ptcache.h"
#include "hv/pv/xen.h"
#include "testutil.h"
#include <string.h>

#define N 20

/* Boot with the cache on: pv-pibooster turns it on at boot; under native
 * (no hypervisor to offer the cache flag) the guest's pools are exercised
 * alone, switched on directly. */
static struct tmachine *boot(const char *mode, const char *ratio, const char *total)
{
    const char *const p[] = { ratio, total, NULL };
    struct tmachine *t = tm_boot_params(mode, "memwalk", p);
    ptcache_enable(&t->m.k);
    assert_true(t->m.k.ptc->enabled);
    return t;
}

/* Allocate n L1 tables for a scratch address space. */
static void alloc_n(struct kernel *k, struct mm *mm, uint64_t *pfn, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        pfn[i] = pt_alloc(k, mm, 1);
}

static void test_lifo_reuse(void **state)
{
    (void)state;
    struct tmachine *t = boot("native", "guest.pt_cache_ratio=200", "guest.pt_cache_total=1000");
    struct kernel *k = &t->m.k;
    struct mm mm = { .id = 999 };
    uint64_t pfn[N];
    alloc_n(k, &mm, pfn, 3);
    pt_free(k, &mm, pfn[0], 1);
    pt_free(k, &mm, pfn[1], 1);
    assert_int_equal(ptcache_pool_size(k, 1), 2);
    assert_int_equal(ptcache_pool_size(k, 2), 0);
    assert_int_equal(pt_alloc(k, &mm, 1), pfn[1]);      /* most recently freed */
    assert_int_equal(pt_alloc(k, &mm, 1), pfn[0]);
    assert_int_equal(k->ptc->pool[1].hits, 2);
    for (unsigned i = 0; i < 3; i++)
        pt_free(k, &mm, pfn[i], 1);
    assert_int_equal(mm.pt_pages, 0);
    assert_int_equal(tm_destroy(t), 0);                  /* the pool went back at shutdown */
}

static void test_shrink_both_thresholds(void **state)
{
    (void)state;
    struct tmachine *t = boot("native", "guest.pt_cache_ratio=200", "guest.pt_cache_total=16");
    struct kernel *k = &t->m.k;
    struct ptpool *p = &k->ptc->pool[1];
    struct mm mm = { .id = 999 };
    uint64_t pfn[N];
    alloc_n(k, &mm, pfn, N);
    assert_int_equal(p->in_use, N);
    /* Free 14: after the 14th, in_pool 14 > 2 x in_use 6 and 14 + 6 > 16:
     * release 14 - 6 = 8, the 8 freed first. */
    for (unsigned i = 0; i < 13; i++) {
        pt_free(k, &mm, pfn[i], 1);
        assert_int_equal(p->shrinks, 0);
    }
    pt_free(k, &mm, pfn[13], 1);
    assert_int_equal(p->shrinks, 1);
    assert_int_equal(p->released, 8);
    assert_int_equal(p->n, 6);
    assert_int_equal(p->in_use, 6);
    for (unsigned i = 0; i < 6; i++)
        assert_int_equal(p->pfn[i], pfn[8 + i]);         /* the warm ones stayed */
    for (unsigned i = 0; i < 8; i++)
        assert_false(page_of(k, pfn[i])->flags & PG_used);   /* back in the buddy allocator */
    /* 15th: in_pool 7, in_use 5: 7 > 10 fails: no shrink */
    pt_free(k, &mm, pfn[14], 1);
    assert_int_equal(p->shrinks, 1);
    assert_int_equal(p->n, 7);
    for (unsigned i = 15; i < N; i++)
        pt_free(k, &mm, pfn[i], 1);
    assert_int_equal(tm_destroy(t), 0);
}

static void test_total_threshold_blocks(void **state)
{
    (void)state;
    struct tmachine *t = boot("native", "guest.pt_cache_ratio=100", "guest.pt_cache_total=1000");
    struct kernel *k = &t->m.k;
    struct mm mm = { .id = 999 };
    uint64_t pfn[N];
    alloc_n(k, &mm, pfn, N);
    for (unsigned i = 0; i < N; i++)
        pt_free(k, &mm, pfn[i], 1);
    /* the ratio is exceeded all along, the total never: nothing released */
    assert_int_equal(k->ptc->pool[1].shrinks, 0);
    assert_int_equal(ptcache_pool_size(k, 1), N);
    assert_int_equal(tm_destroy(t), 0);
}

static void test_low_ratio_never_below_in_use(void **state)
{
    (void)state;
    struct tmachine *t = boot("native", "guest.pt_cache_ratio=50", "guest.pt_cache_total=0");
    struct kernel *k = &t->m.k;
    struct ptpool *p = &k->ptc->pool[1];
    struct mm mm = { .id = 999 };
    uint64_t pfn[N];
    alloc_n(k, &mm, pfn, N);
    /* Frees 1..10: in_pool <= in_use, no shrink (a 50% ratio alone would
     * shrink at 6). From the 11th on, each free leaves in_pool = in_use + 2
     * and releases 2 (the last: in_pool 1, in_use 0, releases 1). */
    for (unsigned i = 1; i <= N; i++) {
        pt_free(k, &mm, pfn[i - 1], 1);
        assert_int_equal(p->in_use, N - i);
        if (i <= 10) {
            assert_int_equal(p->n, i);
            assert_int_equal(p->shrinks, 0);
        } else {
            assert_int_equal(p->n, p->in_use);
            assert_int_equal(p->shrinks, i - 10);
        }
    }
    assert_int_equal(p->released, N);
    assert_int_equal(tm_destroy(t), 0);
}

static void test_retune_at_run_time(void **state)
{
    (void)state;
    struct tmachine *t = boot("native", "guest.pt_cache_ratio=400", "guest.pt_cache_total=1000");
    struct kernel *k = &t->m.k;
    struct ptpool *p = &k->ptc->pool[1];
    struct mm mm = { .id = 999 };
    uint64_t pfn[N];
    alloc_n(k, &mm, pfn, N);
    for (unsigned i = 0; i < 15; i++)
        pt_free(k, &mm, pfn[i], 1);
    assert_int_equal(p->shrinks, 0);                    /* loose thresholds */
    assert_int_equal(p->n, 15);
    ptcache_set_thresholds(k, 100, 16);
    pt_free(k, &mm, pfn[15], 1);                        /* in_pool 16 > in_use 4, 20 > 16 */
    assert_int_equal(p->shrinks, 1);
    assert_int_equal(p->n, 4);
    assert_int_equal(p->released, 12);
    for (unsigned i = 16; i < N; i++)
        pt_free(k, &mm, pfn[i], 1);
    assert_int_equal(tm_destroy(t), 0);
}

/* Under pv-pibooster the release is Xen's: flag cleared, page back in the IOMMU. */
static void test_release_through_xen(void **state)
{
    (void)state;
    struct tmachine *t = boot("pv-pibooster", "guest.pt_cache_ratio=200", "guest.pt_cache_total=16");
    struct kernel *k = &t->m.k;
    struct xen *x = XEN(t->m.hv);
    struct task *task = kernel_spawn(k, 1);      /* a pinned mm: its tables become page tables */
    schedule_to(k, task);
    struct mm *mm = task->mm;
    uint64_t pfn[N];
    alloc_n(k, mm, pfn, N);
    for (unsigned i = 0; i < N; i++) {
        uint64_t mfn = xen_pfn_to_mfn(&x->dom->si, pfn[i]);
        assert_true(frame(x, mfn)->flags & PGF_ptcache);
        uint64_t io;
        int w;
        assert_int_equal(vtd_lookup(&x->dom->vtd, mfn, &io, &w), -1);   /* out of the IOMMU */
    }
    for (unsigned i = 0; i < 14; i++)
        pt_free(k, mm, pfn[i], 1);
    assert_int_equal(k->ptc->pool[1].released, 8);
    assert_int_equal(x->released, 8);
    for (unsigned i = 0; i < 8; i++) {
        uint64_t mfn = xen_pfn_to_mfn(&x->dom->si, pfn[i]), io;
        int w;
        assert_false(frame(x, mfn)->flags & PGF_ptcache);
        assert_int_equal(vtd_lookup(&x->dom->vtd, mfn, &io, &w), 0);     /* mapped back */
        assert_int_equal(io, mfn);
        assert_true(w);
    }
    for (unsigned i = 8; i < 14; i++)                    /* still pooled: still flagged */
        assert_true(frame(x, xen_pfn_to_mfn(&x->dom->si, pfn[i]))->flags & PGF_ptcache);
    char msg[256];
    assert_int_equal(pv_check(x, msg, sizeof msg), 0);
    for (unsigned i = 14; i < N; i++)
        pt_free(k, mm, pfn[i], 1);
    do_exit(k, task);
    assert_int_equal(tm_destroy(t), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lifo_reuse),
        cmocka_unit_test(test_shrink_both_thresholds),
        cmocka_unit_test(test_total_threshold_blocks),
        cmocka_unit_test(test_low_ratio_never_below_in_use),
        cmocka_unit_test(test_retune_at_run_time),
        cmocka_unit_test(test_release_through_xen),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

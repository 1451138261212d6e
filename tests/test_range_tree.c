/* test_range_tree.c: lib/range_tree.h against a plain array of ranges.
 * Pseudo-random inserts and removals of disjoint page ranges: after each,
 * the in-order walk is the array, every probe address's lower bound and
 * containing range agree with the array's, the tree passes its own check,
 * and its depth stays within the red-black bound 2 log2(n + 1). 200,000
 * ranges inserted at descending addresses (what made the sorted array
 * quadratic) keep that bound too: a tree that did not rebalance would be
 * 200,000 deep. Each rule of the check is then broken on purpose, one
 * corruption at a time, and caught with its message; clear visits every
 * node once. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "lib/range_tree.h"

struct rng_range { uint64_t start, end; };
struct rnode {
    RB_ENTRY(rnode) link;
    struct rng_range r;
    unsigned cleared;
};
RB_HEAD(rtree, rnode);
RANGE_TREE_GENERATE(rtree, rnode, link, r)

#define PG 4096ull

static uint64_t seed = 88172645463325252ull;
static uint64_t next_rand(void)
{
    seed ^= seed << 13;
    seed ^= seed >> 7;
    seed ^= seed << 17;
    return seed;
}

/* The reference: sorted, disjoint ranges. */
struct ref { struct rng_range *r; unsigned n; };

static unsigned ref_lower(const struct ref *f, uint64_t va)
{
    unsigned i = 0;
    while (i < f->n && f->r[i].end <= va)
        i++;
    return i;
}

static unsigned bound(unsigned n)
{
    return (unsigned)(2 * log2((double)n + 1));
}

static void assert_same(struct rtree *h, const struct ref *f)
{
    char msg[200];
    if (rtree_check(h, f->n, msg, sizeof msg))
        fail_msg("check: %s", msg);
    unsigned i = 0;
    for (struct rnode *n = rtree_first(h); n; n = rtree_next(n), i++) {
        assert_true(i < f->n);
        assert_int_equal(n->r.start, f->r[i].start);
        assert_int_equal(n->r.end, f->r[i].end);
    }
    assert_int_equal(i, f->n);
    i = f->n;
    for (struct rnode *n = rtree_last(h); n; n = rtree_prev(n))
        assert_int_equal(n->r.start, f->r[--i].start);
    assert_int_equal(i, 0);
    assert_true(rtree_depth(h) <= bound(f->n));
    for (unsigned p = 0; p < 64; p++) {
        uint64_t va = next_rand() % (1100 * PG);
        unsigned j = ref_lower(f, va);
        struct rnode *lo = rtree_lower(h, va), *in = rtree_find(h, va);
        if (j == f->n) {
            assert_null(lo);
        } else {
            assert_non_null(lo);
            assert_int_equal(lo->r.start, f->r[j].start);
        }
        if (j < f->n && f->r[j].start <= va)
            assert_ptr_equal(in, lo);
        else
            assert_null(in);
    }
}

static void free_node(struct rnode *n) { free(n); }

static void test_random_against_array(void **state)
{
    (void)state;
    struct rtree h = RB_INITIALIZER(&h);
    struct ref f = { calloc(1024, sizeof *f.r), 0 };
    for (unsigned step = 0; step < 6000; step++) {
        uint64_t s = (next_rand() % 1024) * PG, e = s + (1 + next_rand() % 4) * PG;
        unsigned j = ref_lower(&f, s);
        int insert = next_rand() % 4 != 0;
        if (insert && (j == f.n || f.r[j].start >= e)) {
            struct rnode *n = calloc(1, sizeof *n);
            n->r = (struct rng_range){ s, e };
            rtree_insert(&h, n);
            memmove(&f.r[j + 1], &f.r[j], (f.n - j) * sizeof *f.r);
            f.r[j] = n->r;
            f.n++;
        } else if (!insert && j < f.n) {
            struct rnode *n = rtree_find(&h, f.r[j].start);
            assert_non_null(n);
            rtree_remove(&h, n);
            free(n);
            memmove(&f.r[j], &f.r[j + 1], (f.n - j - 1) * sizeof *f.r);
            f.n--;
        }
        assert_same(&h, &f);
    }
    assert_true(f.n > 100);
    rtree_clear(&h, free_node);
    assert_null(RB_ROOT(&h));
    free(f.r);
}

static void test_descending_stays_balanced(void **state)
{
    (void)state;
    enum { N = 200000 };
    struct rtree h = RB_INITIALIZER(&h);
    struct rnode *first = NULL;
    char msg[200];
    for (uint64_t i = 0; i < N; i++) {
        struct rnode *n = calloc(1, sizeof *n);
        n->r = (struct rng_range){ (2 * (N - i)) * PG, (2 * (N - i) + 1) * PG };
        rtree_insert(&h, n);
        if (!first)
            first = n;
    }
    assert_true(rtree_depth(&h) <= bound(N));       /* 35 */
    if (rtree_check(&h, N, msg, sizeof msg))
        fail_msg("check: %s", msg);
    /* the node inserted first is where it was, found by address */
    assert_ptr_equal(rtree_find(&h, 2 * N * PG), first);
    assert_ptr_equal(rtree_last(&h), first);
    assert_int_equal(rtree_first(&h)->r.start, 2 * PG);
    assert_null(rtree_find(&h, 3 * PG));             /* the gap */
    assert_int_equal(rtree_lower(&h, 3 * PG)->r.start, 4 * PG);
    rtree_clear(&h, free_node);
}

/* ---- the check catches each broken rule ---- */

static struct rnode *nodes[7];

/* Seven ranges inserted in order: a shape the RB rules fix (root black;
 * [3p,4p) at the root of the 7). */
static void build7(struct rtree *h)
{
    RB_INIT(h);
    for (unsigned i = 0; i < 7; i++) {
        nodes[i] = calloc(1, sizeof *nodes[i]);
        nodes[i]->r = (struct rng_range){ (2 * i + 1) * PG, (2 * i + 2) * PG };
        rtree_insert(h, nodes[i]);
    }
    char msg[200];
    if (rtree_check(h, 7, msg, sizeof msg))
        fail_msg("check: %s", msg);
}

static void expect(struct rtree *h, uint64_t count, const char *what)
{
    char msg[200] = "";
    assert_int_equal(rtree_check(h, count, msg, sizeof msg), -1);
    if (!strstr(msg, what))
        fail_msg("expected '%s', got '%s'", what, msg);
    rtree_clear(h, free_node);
}

static void test_check_catches(void **state)
{
    (void)state;
    struct rtree h;
    struct rnode *n;

    build7(&h);                                  /* two ranges swapped: out of order */
    struct rng_range t = nodes[2]->r;
    nodes[2]->r = nodes[4]->r;
    nodes[4]->r = t;
    expect(&h, 7, "is out of order after");

    build7(&h);                                  /* one runs into the next */
    nodes[2]->r.end = nodes[3]->r.start + PG;
    expect(&h, 7, "overlaps");

    build7(&h);                                  /* an empty range */
    nodes[5]->r.end = nodes[5]->r.start;
    expect(&h, 7, "is empty");

    build7(&h);                                  /* the count */
    expect(&h, 8, "7 ranges in the tree, 8 counted");

    build7(&h);                                  /* the root red */
    RB_COLOR(RB_ROOT(&h), link) = RB_RED;
    expect(&h, 7, "is not black");

    build7(&h);                                  /* a colour that is neither */
    RB_COLOR(nodes[6], link) = 7;
    expect(&h, 7, "neither red nor black");

    build7(&h);                                  /* a child's parent link elsewhere */
    n = RB_LEFT(RB_ROOT(&h), link);
    RB_PARENT(n, link) = RB_RIGHT(RB_ROOT(&h), link);
    expect(&h, 7, "parent link");

    build7(&h);                                  /* red under red (below the root) */
    for (n = rtree_first(&h); n && !(RB_COLOR(n, link) == RB_RED && RB_PARENT(n, link) &&
                                     RB_PARENT(n, link) != RB_ROOT(&h));
         n = rtree_next(n))
        ;
    assert_non_null(n);
    RB_COLOR(RB_PARENT(n, link), link) = RB_RED;
    expect(&h, 7, "has a red parent");

    build7(&h);                                  /* one path with a black node more */
    for (n = rtree_first(&h); n && RB_COLOR(n, link) != RB_RED; n = rtree_next(n))
        ;
    assert_non_null(n);
    RB_COLOR(n, link) = RB_BLACK;
    expect(&h, 7, "black nodes below it");
}

static unsigned cleared;
static void count_free(struct rnode *n)
{
    assert_int_equal(n->cleared++, 0);
    cleared++;
    free(n);
}

static void test_clear_visits_each_once(void **state)
{
    (void)state;
    struct rtree h;
    build7(&h);
    cleared = 0;
    rtree_clear(&h, count_free);
    assert_int_equal(cleared, 7);
    assert_null(RB_ROOT(&h));
    assert_int_equal(rtree_depth(&h), 0);
    char msg[200];
    assert_int_equal(rtree_check(&h, 0, msg, sizeof msg), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_against_array),
        cmocka_unit_test(test_descending_stays_balanced),
        cmocka_unit_test(test_check_catches),
        cmocka_unit_test(test_clear_visits_each_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_tree.c: lib/tree.h against a plain array, on keys that a hash by
 * key mod a power of two would chain together (multiples of 4096, given in
 * descending order) and on pseudo-random keys: every item found by its key,
 * none found after its deletion, tree_each in ascending key order. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include "lib/tree.h"

struct item {
    uint32_t key;                 /* first, as tree.h asks */
    uint32_t value;
};

struct walk {
    uint32_t n, last;
    int ordered;
};

static void count(void *item, void *arg)
{
    const struct item *it = item;
    struct walk *w = arg;
    w->ordered &= !w->n || it->key > w->last;
    w->last = it->key;
    w->n++;
}

static unsigned freed;
static void free_item(void *item)
{
    freed++;
    free(item);
}

static void run(const uint32_t *keys, unsigned n)
{
    void *root = NULL;
    struct item **it = calloc(n, sizeof *it);
    for (unsigned i = 0; i < n; i++) {
        it[i] = malloc(sizeof **it);
        *it[i] = (struct item){ keys[i], i };
        tree_insert(&root, it[i]);
    }
    for (unsigned i = 0; i < n; i++)
        assert_ptr_equal(tree_find(&root, keys[i]), it[i]);
    struct walk w = { 0, 0, 1 };
    tree_each(root, count, &w);
    assert_int_equal(w.n, n);
    assert_true(w.ordered);
    for (unsigned i = 0; i < n; i += 2) {          /* every other item leaves */
        tree_delete(&root, it[i]);
        assert_null(tree_find(&root, keys[i]));
        free(it[i]);
    }
    for (unsigned i = 1; i < n; i += 2)
        assert_ptr_equal(tree_find(&root, keys[i]), it[i]);
    w = (struct walk){ 0, 0, 1 };
    tree_each(root, count, &w);
    assert_int_equal(w.n, n / 2);
    assert_true(w.ordered);
    freed = 0;
    tree_destroy(root, free_item);
    assert_int_equal(freed, n / 2);
    free(it);
}

static void test_colliding_keys(void **state)
{
    (void)state;
    enum { N = 20000 };
    uint32_t *k = malloc(N * sizeof *k);
    for (unsigned i = 0; i < N; i++)
        k[i] = 100 + 4096u * (N - i);
    run(k, N);
    free(k);
}

static void test_random_keys(void **state)
{
    (void)state;
    enum { N = 5000 };
    uint32_t *k = malloc(N * sizeof *k), x = 12345;
    for (unsigned i = 0; i < N; i++) {
        x = x * 1103515245u + 12345u;
        k[i] = (x & 0xffff0000u) | i;              /* distinct: the low half is i */
    }
    run(k, N);
    free(k);
}

static void test_empty(void **state)
{
    (void)state;
    void *root = NULL;
    assert_null(tree_find(&root, 7));
    struct walk w = { 0, 0, 1 };
    tree_each(root, count, &w);
    assert_int_equal(w.n, 0);
    tree_destroy(root, free_item);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_colliding_keys),
        cmocka_unit_test(test_random_keys),
        cmocka_unit_test(test_empty),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

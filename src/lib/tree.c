/* tree.c: see tree.h. */
#define _GNU_SOURCE   /* twalk_r, tdestroy */
#include "lib/tree.h"
#include "lib/err.h"
#include <search.h>

static int cmp_key(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

void *tree_find(void *const *root, uint32_t key)
{
    void *const *node = tfind(&key, root, cmp_key);
    return node ? *node : NULL;
}

void tree_insert(void **root, void *item)
{
    void **node = tsearch(item, root, cmp_key);
    if (!node)
        mv_out_of_memory(0);
    MV_ASSERT(*node == item, "tree: key %u already present", *(const uint32_t *)item);
}

void tree_delete(void **root, const void *item)
{
    MV_ASSERT(tdelete(item, root, cmp_key), "tree: key %u not present", *(const uint32_t *)item);
}

struct each {
    void (*fn)(void *item, void *arg);
    void *arg;
};

static void visit(const void *node, VISIT v, void *closure)
{
    const struct each *e = closure;
    if (v == postorder || v == leaf)      /* once each: a leaf, or a node after its left subtree */
        e->fn(*(void *const *)node, e->arg);
}

void tree_each(const void *root, void (*fn)(void *item, void *arg), void *arg)
{
    struct each e = { fn, arg };
    twalk_r(root, visit, &e);
}

void tree_destroy(void *root, void (*free_item)(void *item))
{
    tdestroy(root, free_item);
}

/* range_tree.h: ordered sets of disjoint [start, end) ranges (a process's
 * VMAs) in a red-black tree, on the RB_* macros of libbsd's
 * <bsd/sys/tree.h> (header only; Debian's libbsd-dev). The guest kernel's
 * VMAs (guest/vma.c) and the importers' model of them (trace/build.c) are
 * kept in one: finding the VMA at an address, the first one ending past it
 * (a lower bound), inserting, removing and stepping to a neighbour each cost
 * O(log n), so no order of mmaps a trace chooses makes an address space of
 * n VMAs cost more than n log n (a sorted array moved its tail at each
 * insertion: n mmaps at descending addresses cost n^2). Linux keeps them in
 * the maple tree (a B-tree of ranges, since 6.1; an rbtree, mm->mm_rb,
 * before): the same bounds, not its node layout.
 *
 * RANGE_TREE_GENERATE(name, type, field, r) makes the functions, static to
 * the file, for nodes of struct type, linked by `RB_ENTRY(type) field` and
 * holding their range in the member r, a struct with uint64_t start, end;
 * the tree is `RB_HEAD(name, type)` (struct name), empty when zeroed. Nodes
 * are ordered by start; the ranges are disjoint, so by end as well.
 *
 *   name_lower(head, va)     the first node with end > va, or NULL (Linux's find_vma)
 *   name_find(head, va)      the node whose range holds va, or NULL
 *   name_insert(head, n)     link n (its range meets no other: the caller checked)
 *   name_remove(head, n)     unlink n (not freed; the other nodes do not move)
 *   name_first/last(head), name_next/prev(n)   in address order, NULL past the ends
 *   name_clear(head, fn)     fn on every node (children before parents: fn may
 *                            free it), leaving the tree empty
 *   name_depth(head)         nodes on the longest path from the root (0: empty)
 *   name_check(head, count, msg, len)   0, or -1 and what is wrong in msg:
 *       each range non-empty, in order and disjoint from the one before it,
 *       the tree's links consistent (each child's parent link, a black
 *       root), red-black (no red node with a red child, the same number of
 *       black nodes on every path), and `count` nodes in all.
 */
#ifndef MV_LIB_RANGE_TREE_H
#define MV_LIB_RANGE_TREE_H
#include <bsd/sys/tree.h>
#include <stdint.h>
#include <stdio.h>

#define RANGE_TREE_GENERATE(name, type, field, r)                                          \
    static inline int name##_cmp(const struct type *a, const struct type *b)              \
    {                                                                                      \
        return a->r.start < b->r.start ? -1 : a->r.start > b->r.start;                     \
    }                                                                                      \
    /* RB_GENERATE_STATIC's __unused is one libbsd leaves undefined */                     \
    RB_GENERATE_INTERNAL(name, type, field, name##_cmp, __attribute__((unused)) static)   \
                                                                                           \
    __attribute__((unused)) static struct type *name##_lower(const struct name *h, uint64_t va) \
    {                                                                                      \
        struct type *n = RB_ROOT(h), *best = NULL;                                         \
        while (n) {                                                                        \
            if (n->r.end > va) {                                                           \
                best = n;                                                                  \
                n = RB_LEFT(n, field);                                                     \
            } else {                                                                       \
                n = RB_RIGHT(n, field);                                                    \
            }                                                                              \
        }                                                                                  \
        return best;                                                                       \
    }                                                                                      \
    __attribute__((unused)) static struct type *name##_find(const struct name *h, uint64_t va) \
    {                                                                                      \
        struct type *n = RB_ROOT(h);                                                       \
        while (n) {                                                                        \
            if (va < n->r.start)                                                           \
                n = RB_LEFT(n, field);                                                     \
            else if (va >= n->r.end)                                                       \
                n = RB_RIGHT(n, field);                                                    \
            else                                                                           \
                return n;                                                                  \
        }                                                                                  \
        return NULL;                                                                       \
    }                                                                                      \
    __attribute__((unused)) static void name##_insert(struct name *h, struct type *n)     \
    {                                                                                      \
        RB_INSERT(name, h, n);                                                             \
    }                                                                                      \
    __attribute__((unused)) static void name##_remove(struct name *h, struct type *n)     \
    {                                                                                      \
        RB_REMOVE(name, h, n);                                                             \
    }                                                                                      \
    __attribute__((unused)) static struct type *name##_first(struct name *h)              \
    {                                                                                      \
        return RB_MIN(name, h);                                                            \
    }                                                                                      \
    __attribute__((unused)) static struct type *name##_last(struct name *h)               \
    {                                                                                      \
        return RB_MAX(name, h);                                                            \
    }                                                                                      \
    __attribute__((unused)) static struct type *name##_next(struct type *n)               \
    {                                                                                      \
        return RB_NEXT(name, NULL, n);                                                     \
    }                                                                                      \
    __attribute__((unused)) static struct type *name##_prev(struct type *n)               \
    {                                                                                      \
        return RB_PREV(name, NULL, n);                                                     \
    }                                                                                      \
    static void name##_clear_node(struct type *n, void (*fn)(struct type *))               \
    {                                                                                      \
        if (!n)                                                                            \
            return;                                                                        \
        name##_clear_node(RB_LEFT(n, field), fn);                                          \
        name##_clear_node(RB_RIGHT(n, field), fn);                                         \
        fn(n);                                                                             \
    }                                                                                      \
    __attribute__((unused)) static void name##_clear(struct name *h, void (*fn)(struct type *)) \
    {                                                                                      \
        name##_clear_node(RB_ROOT(h), fn);                                                 \
        RB_INIT(h);                                                                        \
    }                                                                                      \
    static unsigned name##_depth_of(const struct type *n)                                  \
    {                                                                                      \
        if (!n)                                                                            \
            return 0;                                                                      \
        unsigned a = name##_depth_of(RB_LEFT(n, field)), b = name##_depth_of(RB_RIGHT(n, field)); \
        return 1 + (a > b ? a : b);                                                        \
    }                                                                                      \
    __attribute__((unused)) static unsigned name##_depth(const struct name *h)            \
    {                                                                                      \
        return name##_depth_of(RB_ROOT(h));                                                \
    }                                                                                      \
    /* The subtree at n, in order: its black height, or -1 (message written). */           \
    static int name##_check_node(const struct type *n, const struct type *parent,         \
                                 const struct type **prev, uint64_t *count, char *msg,     \
                                 unsigned len)                                             \
    {                                                                                      \
        if (!n)                                                                            \
            return 1;                                                                      \
        if (RB_PARENT(n, field) != parent) {                                               \
            snprintf(msg, len, "the parent link of [%#llx, %#llx) is not its parent's",    \
                     (unsigned long long)n->r.start, (unsigned long long)n->r.end);        \
            return -1;                                                                     \
        }                                                                                  \
        if (RB_COLOR(n, field) != RB_BLACK && RB_COLOR(n, field) != RB_RED) {              \
            snprintf(msg, len, "[%#llx, %#llx) is neither red nor black",                  \
                     (unsigned long long)n->r.start, (unsigned long long)n->r.end);        \
            return -1;                                                                     \
        }                                                                                  \
        if (RB_COLOR(n, field) == RB_RED && parent && RB_COLOR(parent, field) == RB_RED) { \
            snprintf(msg, len, "red [%#llx, %#llx) has a red parent",                      \
                     (unsigned long long)n->r.start, (unsigned long long)n->r.end);        \
            return -1;                                                                     \
        }                                                                                  \
        int lh = name##_check_node(RB_LEFT(n, field), n, prev, count, msg, len);           \
        if (lh < 0)                                                                        \
            return -1;                                                                     \
        if (n->r.start >= n->r.end) {                                                      \
            snprintf(msg, len, "range [%#llx, %#llx) is empty",                            \
                     (unsigned long long)n->r.start, (unsigned long long)n->r.end);        \
            return -1;                                                                     \
        }                                                                                  \
        if (*prev && (*prev)->r.end > n->r.start) {                                        \
            snprintf(msg, len, "range [%#llx, %#llx) %s [%#llx, %#llx) before it",         \
                     (unsigned long long)n->r.start, (unsigned long long)n->r.end,         \
                     (*prev)->r.start >= n->r.start ? "is out of order after" : "overlaps", \
                     (unsigned long long)(*prev)->r.start, (unsigned long long)(*prev)->r.end); \
            return -1;                                                                     \
        }                                                                                  \
        *prev = n;                                                                         \
        ++*count;                                                                          \
        int rh = name##_check_node(RB_RIGHT(n, field), n, prev, count, msg, len);          \
        if (rh < 0)                                                                        \
            return -1;                                                                     \
        if (lh != rh) {                                                                    \
            snprintf(msg, len, "[%#llx, %#llx) has %d black nodes below it on the left, %d on the right", \
                     (unsigned long long)n->r.start, (unsigned long long)n->r.end, lh, rh); \
            return -1;                                                                     \
        }                                                                                  \
        return lh + (RB_COLOR(n, field) == RB_BLACK);                                      \
    }                                                                                      \
    __attribute__((unused)) static int name##_check(const struct name *h, uint64_t count, \
                                                    char *msg, unsigned len)               \
    {                                                                                      \
        const struct type *root = RB_ROOT(h), *prev = NULL;                                \
        uint64_t seen = 0;                                                                 \
        if (root && RB_COLOR(root, field) != RB_BLACK) {                                   \
            snprintf(msg, len, "the root [%#llx, %#llx) is not black",                     \
                     (unsigned long long)root->r.start, (unsigned long long)root->r.end);  \
            return -1;                                                                     \
        }                                                                                  \
        if (name##_check_node(root, NULL, &prev, &seen, msg, len) < 0)                     \
            return -1;                                                                     \
        if (seen != count) {                                                               \
            snprintf(msg, len, "%llu ranges in the tree, %llu counted",                    \
                     (unsigned long long)seen, (unsigned long long)count);                 \
            return -1;                                                                     \
        }                                                                                  \
        return 0;                                                                          \
    }

#endif

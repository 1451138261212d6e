/* tree.h: balanced search trees of items keyed by a leading uint32_t (a
 * pid, a tid), on glibc's tsearch family. The guest's tasks and the
 * importers' are kept in them: whatever keys a trace or a log chooses, a
 * lookup costs log n, where a hash by key could be made to chain them all. */
#ifndef MV_LIB_TREE_H
#define MV_LIB_TREE_H
#include <stdint.h>

/* Every item of a tree begins with its uint32_t key; keys are distinct. */
void *tree_find(void *const *root, uint32_t key);          /* the item, or NULL */
void  tree_insert(void **root, void *item);                /* its key is not in the tree */
void  tree_delete(void **root, const void *item);          /* it is in the tree */
/* fn on every item, in key order (the tree must not change meanwhile). */
void  tree_each(const void *root, void (*fn)(void *item, void *arg), void *arg);
/* Drop every node, free_item on every item. */
void  tree_destroy(void *root, void (*free_item)(void *item));

#endif

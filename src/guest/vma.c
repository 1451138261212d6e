/* vma.c: the VMA list of an address space: non-overlapping [start, end)
 * ranges in address order, split and merged as munmap and mprotect cut them
 * (Linux mm/mmap.c __split_vma, vma_merge). A red-black tree
 * (lib/range_tree.h, on libbsd's <bsd/sys/tree.h>) stands in for the maple
 * tree: finding the VMA at an address, and each VMA a syscall inserts,
 * splits off, merges away or removes, costs O(log n), so a syscall visits
 * only the VMAs its range meets and no order of mmaps makes n of them cost
 * more than n log n (the sorted array before it moved its tail at each
 * insertion: 65,000 mmaps at descending addresses took 1.2 s). Linux's
 * maple tree is a B-tree of ranges; the order, the bounds and what each
 * operation does to the VMAs are the same, not its node layout or its
 * memory. */
#include "guest/kernel.h"
#include "guest/shmem.h"
#include "lib/err.h"
#include <stddef.h>
#include <stdlib.h>

RANGE_TREE_GENERATE(vma_rb, vma_node, vm_rb, vma)

static struct vma_node *node_of(struct vma *v)
{
    return (struct vma_node *)((char *)v - offsetof(struct vma_node, vma));
}

static struct vma *vma_of(struct vma_node *n) { return n ? &n->vma : NULL; }

struct vma *vma_first(struct mm *mm) { return vma_of(vma_rb_first(&mm->mm_rb)); }
struct vma *vma_first_after(struct mm *mm, uint64_t va) { return vma_of(vma_rb_lower(&mm->mm_rb, va)); }
struct vma *vma_next(struct vma *v) { return vma_of(vma_rb_next(node_of(v))); }
struct vma *vma_prev(struct vma *v) { return vma_of(vma_rb_prev(node_of(v))); }
struct vma *find_vma(struct mm *mm, uint64_t va) { return vma_of(vma_rb_find(&mm->mm_rb, va)); }

static void vma_link(struct kernel *k, struct mm *mm, const struct vma *v)
{
    struct vma_node *n = mv_malloc(sizeof *n);
    n->vma = *v;
    vma_rb_insert(&mm->mm_rb, n);
    mm->nvma++;
    if (v->flags & VM_SHMEM)
        shmem_get(k, v->file);               /* the new VMA's reference (get_file) */
}

/* Unlink and free v; the caller dropped its references. */
static void vma_unlink(struct mm *mm, struct vma *v)
{
    struct vma_node *n = node_of(v);
    vma_rb_remove(&mm->mm_rb, n);
    mm->nvma--;
    free(n);
}

int vma_insert(struct kernel *k, struct mm *mm, const struct vma *v)
{
    MV_ASSERT(v->start < v->end && !(v->start & (PAGE_SIZE - 1)) && !(v->end & (PAGE_SIZE - 1)),
              "bad vma [%#llx, %#llx)", (unsigned long long)v->start, (unsigned long long)v->end);
    if (vma_intersects(mm, v->start, v->end))
        return -1;
    vma_link(k, mm, v);
    stat_charge(k->st, CYC_kernel, k->cost->vma_op);
    return 0;
}

void vma_split_at(struct kernel *k, struct mm *mm, uint64_t addr)
{
    struct vma *v = find_vma(mm, addr);
    if (!v || v->start == addr)
        return;
    struct vma hi = *v;
    hi.start = addr;
    if (hi.file)
        hi.pgoff += (addr - v->start) >> PAGE_SHIFT;
    v->end = addr;
    vma_link(k, mm, &hi);
    stat_charge(k->st, CYC_kernel, k->cost->vma_op);
}

/* Linux merges anonymous VMAs whose anon_vmas are compatible; here every
 * anonymous VMA of one mm is compatible, so VM_ANONVMA does not block it. */
static int can_merge(const struct vma *a, const struct vma *b)
{
    if (a->end != b->start || ((a->flags ^ b->flags) & ~(uint32_t)VM_ANONVMA) || a->file != b->file)
        return 0;
    return !a->file || a->pgoff + ((a->end - a->start) >> PAGE_SHIFT) == b->pgoff;
}

/* From the VMA before the first that ends past start, each VMA that begins
 * at or before end absorbs every mergeable neighbour after it. */
void vma_merge_around(struct kernel *k, struct mm *mm, uint64_t start, uint64_t end)
{
    /* with no VMA ending past start, none after it can merge either */
    struct vma *w = vma_first_after(mm, start), *r, *p;
    if (!w)
        return;
    if ((p = vma_prev(w)))
        w = p;
    while ((r = vma_next(w)) && w->start <= end) {
        if (can_merge(w, r)) {
            uint64_t rend = r->end;
            uint32_t rflags = r->flags, rfile = r->file;
            vma_unlink(mm, r);
            w->end = rend;
            w->flags |= rflags & VM_ANONVMA;
            if (rflags & VM_SHMEM)
                shmem_put(k, rfile);             /* the absorbed VMA's reference */
            stat_charge(k->st, CYC_kernel, k->cost->vma_op);
        } else {
            w = r;
        }
    }
}

int vma_intersects(struct mm *mm, uint64_t start, uint64_t end)
{
    const struct vma *v = vma_first_after(mm, start);
    return v && v->start < end;
}

/* The caller split the VMAs at start and end (unmap_region). */
void vma_remove_range(struct kernel *k, struct mm *mm, uint64_t start, uint64_t end)
{
    struct vma *v = vma_first_after(mm, start);
    while (v && v->end <= end) {
        MV_ASSERT(v->start >= start, "vma straddles a split point");
        stat_charge(k->st, CYC_kernel, k->cost->vma_op);
        if (v->flags & VM_SHMEM)
            shmem_put(k, v->file);               /* fput */
        struct vma *next = vma_next(v);
        vma_unlink(mm, v);
        v = next;
    }
}

static void free_node(struct vma_node *n) { free(n); }

void vma_tree_free(struct mm *mm)
{
    vma_rb_clear(&mm->mm_rb, free_node);
    mm->nvma = 0;
}

int vma_tree_check(struct mm *mm, char *msg, unsigned len)
{
    char why[200];
    if (vma_rb_check(&mm->mm_rb, mm->nvma, why, sizeof why)) {
        snprintf(msg, len, "vma tree: %s", why);
        return -1;
    }
    struct vma *v;
    for_each_vma(mm, v)
        if ((v->start | v->end) & (PAGE_SIZE - 1)) {
            snprintf(msg, len, "vma [%#llx, %#llx) is not page aligned",
                     (unsigned long long)v->start, (unsigned long long)v->end);
            return -1;
        }
    return 0;
}

unsigned vma_tree_depth(struct mm *mm) { return vma_rb_depth(&mm->mm_rb); }

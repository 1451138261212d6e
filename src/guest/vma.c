/* vma.c: the VMA list of an address space: sorted, non-overlapping
 * [start, end) ranges, split and merged as munmap and mprotect cut them
 * (Linux mm/mmap.c __split_vma, vma_merge). A sorted array stands in for the
 * maple tree: address spaces here hold tens of VMAs. */
#include "guest/kernel.h"
#include "lib/err.h"
#include <string.h>

static uint32_t vma_index(const struct mm *mm, uint64_t va)
{
    /* first vma with end > va */
    uint32_t lo = 0, hi = mm->nvma;
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (mm->vma[mid].end <= va)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

struct vma *find_vma(struct mm *mm, uint64_t va)
{
    uint32_t i = vma_index(mm, va);
    if (i < mm->nvma && mm->vma[i].start <= va)
        return &mm->vma[i];
    return NULL;
}

static void vma_insert_at(struct mm *mm, uint32_t i, const struct vma *v)
{
    if (mm->nvma == mm->cap) {
        mm->cap = mm->cap ? mm->cap * 2 : 16;
        mm->vma = mv_realloc(mm->vma, mm->cap * sizeof *mm->vma);
    }
    memmove(&mm->vma[i + 1], &mm->vma[i], (mm->nvma - i) * sizeof *mm->vma);
    mm->vma[i] = *v;
    mm->nvma++;
}

static void vma_delete_at(struct mm *mm, uint32_t i)
{
    memmove(&mm->vma[i], &mm->vma[i + 1], (mm->nvma - i - 1) * sizeof *mm->vma);
    mm->nvma--;
}

int vma_insert(struct kernel *k, struct mm *mm, const struct vma *v)
{
    MV_ASSERT(v->start < v->end && !(v->start & (PAGE_SIZE - 1)) && !(v->end & (PAGE_SIZE - 1)),
              "bad vma [%#llx, %#llx)", (unsigned long long)v->start, (unsigned long long)v->end);
    uint32_t i = vma_index(mm, v->start);
    if (i < mm->nvma && mm->vma[i].start < v->end)
        return -1;
    vma_insert_at(mm, i, v);
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
    vma_insert_at(mm, (uint32_t)(v - mm->vma) + 1, &hi);
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

void vma_merge_around(struct kernel *k, struct mm *mm, uint64_t start, uint64_t end)
{
    uint32_t i = vma_index(mm, start);
    if (i > 0)
        i--;
    while (i + 1 < mm->nvma && mm->vma[i].start <= end) {
        if (can_merge(&mm->vma[i], &mm->vma[i + 1])) {
            mm->vma[i].end = mm->vma[i + 1].end;
            mm->vma[i].flags |= mm->vma[i + 1].flags & VM_ANONVMA;
            vma_delete_at(mm, i + 1);
            stat_charge(k->st, CYC_kernel, k->cost->vma_op);
        } else {
            i++;
        }
    }
}

int vma_intersects(struct mm *mm, uint64_t start, uint64_t end)
{
    uint32_t i = vma_index(mm, start);
    return i < mm->nvma && mm->vma[i].start < end;
}

void vma_remove_range(struct kernel *k, struct mm *mm, uint64_t start, uint64_t end)
{
    vma_split_at(k, mm, start);
    vma_split_at(k, mm, end);
    uint32_t i = vma_index(mm, start);
    while (i < mm->nvma && mm->vma[i].end <= end) {
        MV_ASSERT(mm->vma[i].start >= start, "vma straddles a split point");
        vma_delete_at(mm, i);
        stat_charge(k->st, CYC_kernel, k->cost->vma_op);
    }
}

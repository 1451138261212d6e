/* vma.c: the VMA list of an address space: sorted, non-overlapping
 * [start, end) ranges, split and merged as munmap and mprotect cut them
 * (Linux mm/mmap.c __split_vma, vma_merge). A sorted array stands in for the
 * maple tree: a syscall visits only the VMAs its range meets (vma_index, a
 * binary search), never the whole list. */
#include "guest/kernel.h"
#include "guest/shmem.h"
#include "lib/err.h"
#include <string.h>

uint32_t vma_index(const struct mm *mm, uint64_t va)
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

static void vma_insert_at(struct kernel *k, struct mm *mm, uint32_t i, const struct vma *v)
{
    if (mm->nvma == mm->cap) {
        mm->cap = mm->cap ? mm->cap * 2 : 16;
        mm->vma = mv_realloc(mm->vma, mm->cap * sizeof *mm->vma);
    }
    memmove(&mm->vma[i + 1], &mm->vma[i], (mm->nvma - i) * sizeof *mm->vma);
    mm->vma[i] = *v;
    mm->nvma++;
    if (mm->vma[i].flags & VM_SHMEM)
        shmem_get(k, mm->vma[i].file);       /* the new VMA's reference (get_file) */
}

int vma_insert(struct kernel *k, struct mm *mm, const struct vma *v)
{
    MV_ASSERT(v->start < v->end && !(v->start & (PAGE_SIZE - 1)) && !(v->end & (PAGE_SIZE - 1)),
              "bad vma [%#llx, %#llx)", (unsigned long long)v->start, (unsigned long long)v->end);
    uint32_t i = vma_index(mm, v->start);
    if (i < mm->nvma && mm->vma[i].start < v->end)
        return -1;
    vma_insert_at(k, mm, i, v);
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
    vma_insert_at(k, mm, (uint32_t)(v - mm->vma) + 1, &hi);
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
    if (i >= mm->nvma)
        return;
    /* One compacting pass: vma[w] absorbs or keeps vma[r]; the tail moves
     * once at the end, not once per merge (which made a range of n
     * mergeable VMAs cost O(n * nvma)). */
    uint32_t w = i, r = i + 1;
    while (r < mm->nvma && mm->vma[w].start <= end) {
        if (can_merge(&mm->vma[w], &mm->vma[r])) {
            mm->vma[w].end = mm->vma[r].end;
            mm->vma[w].flags |= mm->vma[r].flags & VM_ANONVMA;
            if (mm->vma[r].flags & VM_SHMEM)
                shmem_put(k, mm->vma[r].file);   /* the absorbed VMA's reference */
            stat_charge(k->st, CYC_kernel, k->cost->vma_op);
        } else if (++w != r) {
            mm->vma[w] = mm->vma[r];
        }
        r++;
    }
    if (w + 1 < r) {
        memmove(&mm->vma[w + 1], &mm->vma[r], (mm->nvma - r) * sizeof *mm->vma);
        mm->nvma -= r - (w + 1);
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
    uint32_t i = vma_index(mm, start), j = i;
    while (j < mm->nvma && mm->vma[j].end <= end) {
        MV_ASSERT(mm->vma[j].start >= start, "vma straddles a split point");
        stat_charge(k->st, CYC_kernel, k->cost->vma_op);
        if (mm->vma[j].flags & VM_SHMEM)
            shmem_put(k, mm->vma[j].file);       /* fput */
        j++;
    }
    /* one move for the whole run, not one per VMA (none when nothing
     * goes: the array may not exist yet) */
    if (j > i) {
        memmove(&mm->vma[i], &mm->vma[j], (mm->nvma - j) * sizeof *mm->vma);
        mm->nvma -= j - i;
    }
}

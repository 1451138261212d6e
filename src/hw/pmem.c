/* pmem.c: lazily backed machine memory (see pmem.h). */
#include "hw/pmem.h"
#include "lib/err.h"
#include <stdlib.h>

void pmem_init(struct pmem *m, uint64_t nframes)
{
    m->nframes = nframes;
    m->backed = 0;
    m->linear = 0;
    sparse_init(&m->frames, nframes, sizeof(uint64_t));
}

void pmem_destroy(struct pmem *m)
{
    for (uint64_t d = 0; d < m->frames.ndir; d++) {
        uint64_t *chunk = m->frames.dir[d];
        if (!chunk)
            continue;
        for (unsigned i = 0; i < SPARSE_CHUNK; i++)
            if (!(chunk[i] & 1))
                free((void *)(uintptr_t)chunk[i]);
    }
    sparse_free(&m->frames);
    m->backed = 0;
    m->linear = 0;
}

uint64_t *pmem_table_slow(struct pmem *m, uint64_t frame)
{
    MV_ASSERT(frame < m->nframes, "machine frame %#llx beyond memory (%llu frames)",
              (unsigned long long)frame, (unsigned long long)m->nframes);
    uint64_t *slot = (uint64_t *)sparse_get(&m->frames, frame);
    if (*slot & 1)
        return pmem_fill_linear(m, frame);
    if (!*slot) {
        *slot = (uint64_t)(uintptr_t)mv_calloc(PTRS_PER_TABLE, sizeof(uint64_t));
        m->backed++;
    }
    return (uint64_t *)(uintptr_t)*slot;
}

uint64_t *pmem_fill_linear(struct pmem *m, uint64_t frame)
{
    uint64_t *slot = (uint64_t *)sparse_get(&m->frames, frame);
    MV_ASSERT(*slot & 1, "frame %#llx is not linear", (unsigned long long)frame);
    uint64_t first = *slot, *t = mv_malloc(PTRS_PER_TABLE * sizeof *t);
    for (unsigned i = 0; i < PTRS_PER_TABLE; i++)
        t[i] = first + ((uint64_t)i << PAGE_SHIFT);
    *slot = (uint64_t)(uintptr_t)t;
    m->linear--;
    m->backed++;
    return t;
}

void pmem_set_linear(struct pmem *m, uint64_t frame, uint64_t first)
{
    MV_ASSERT(frame < m->nframes && (first & 1) && first + ((uint64_t)(PTRS_PER_TABLE - 1) << PAGE_SHIFT) > first,
              "linear frame %#llx, first entry %#llx", (unsigned long long)frame, (unsigned long long)first);
    uint64_t *slot = (uint64_t *)sparse_get(&m->frames, frame);
    MV_ASSERT(!*slot, "linear frame %#llx already has contents", (unsigned long long)frame);
    *slot = first;
    m->linear++;
}

void pmem_zero(struct pmem *m, uint64_t frame)
{
    uint64_t *slot = (uint64_t *)sparse_peek(&m->frames, frame);
    if (!slot || !*slot)
        return;
    if (*slot & 1) {
        m->linear--;
    } else {
        free((void *)(uintptr_t)*slot);
        m->backed--;
    }
    *slot = 0;
}

void pmem_copy(struct pmem *m, uint64_t dst, uint64_t src)
{
    const uint64_t *s = pmem_table_peek(m, src);
    if (!s) {
        pmem_zero(m, dst);
        return;
    }
    memcpy(pmem_table(m, dst), s, PAGE_SIZE);
}

/* pmem.c: lazily backed machine memory (see pmem.h). */
#include "hw/pmem.h"
#include "lib/err.h"
#include <stdlib.h>

#define CHUNK_PAGES 64   /* host pages per chunk (256 KiB) */

/* A host page for a frame's words: from the free list, else the next page
 * of the current chunk, else a new chunk. Not zeroed. */
static uint64_t *page_alloc(struct pmem *m)
{
    if (m->free_pages) {
        uint64_t *p = m->free_pages;
        m->free_pages = *(void **)p;
        return p;
    }
    if (!m->nchunks || m->chunk_used == CHUNK_PAGES) {
        if (m->nchunks == m->capchunks) {
            m->capchunks = m->capchunks ? 2 * m->capchunks : 16;
            m->chunks = mv_realloc(m->chunks, m->capchunks * sizeof *m->chunks);
        }
        uint64_t *c = mv_aligned_alloc(PAGE_SIZE, CHUNK_PAGES * PAGE_SIZE);
        m->chunks[m->nchunks++] = c;
        m->chunk_used = 0;
    }
    return m->chunks[m->nchunks - 1] + (size_t)m->chunk_used++ * PTRS_PER_TABLE;
}

static void page_free(struct pmem *m, uint64_t *p)
{
    *(void **)p = m->free_pages;
    m->free_pages = p;
}

void pmem_init(struct pmem *m, uint64_t nframes)
{
    m->nframes = nframes;
    m->backed = 0;
    m->linear = 0;
    m->free_pages = NULL;
    m->chunks = NULL;
    m->nchunks = m->capchunks = m->chunk_used = 0;
    sparse_init(&m->frames, nframes, sizeof(uint64_t));
}

void pmem_destroy(struct pmem *m)
{
    for (uint32_t i = 0; i < m->nchunks; i++)
        free(m->chunks[i]);
    free(m->chunks);
    m->chunks = NULL;
    m->nchunks = m->capchunks = m->chunk_used = 0;
    m->free_pages = NULL;
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
        uint64_t *t = page_alloc(m);
        memset(t, 0, PAGE_SIZE);
        *slot = (uint64_t)(uintptr_t)t;
        m->backed++;
    }
    return (uint64_t *)(uintptr_t)*slot;
}

uint64_t *pmem_fill_linear(struct pmem *m, uint64_t frame)
{
    uint64_t *slot = (uint64_t *)sparse_get(&m->frames, frame);
    MV_ASSERT(*slot & 1, "frame %#llx is not linear", (unsigned long long)frame);
    uint64_t first = *slot, *t = page_alloc(m);
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
        page_free(m, (uint64_t *)(uintptr_t)*slot);
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

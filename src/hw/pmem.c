/* pmem.c: lazily backed machine memory (see pmem.h). */
#include "hw/pmem.h"
#include "lib/err.h"
#include <stdlib.h>

void pmem_init(struct pmem *m, uint64_t nframes)
{
    m->nframes = nframes;
    m->backed = 0;
    sparse_init(&m->frames, nframes, sizeof(uint64_t *));
}

void pmem_destroy(struct pmem *m)
{
    for (uint64_t d = 0; d < m->frames.ndir; d++) {
        uint64_t **chunk = m->frames.dir[d];
        if (!chunk)
            continue;
        for (unsigned i = 0; i < SPARSE_CHUNK; i++)
            free(chunk[i]);
    }
    sparse_free(&m->frames);
    m->backed = 0;
}

uint64_t *pmem_table_slow(struct pmem *m, uint64_t frame)
{
    MV_ASSERT(frame < m->nframes, "machine frame %#llx beyond memory (%llu frames)",
              (unsigned long long)frame, (unsigned long long)m->nframes);
    uint64_t **slot = (uint64_t **)sparse_get(&m->frames, frame);
    if (!*slot) {
        *slot = mv_calloc(PTRS_PER_TABLE, sizeof(uint64_t));
        m->backed++;
    }
    return *slot;
}

void pmem_zero(struct pmem *m, uint64_t frame)
{
    uint64_t **slot = (uint64_t **)sparse_peek(&m->frames, frame);
    if (slot && *slot) {
        free(*slot);
        *slot = NULL;
        m->backed--;
    }
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

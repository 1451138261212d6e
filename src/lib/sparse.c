/* sparse.c: lazily populated two-level arrays (see sparse.h). */
#include "lib/sparse.h"
#include "lib/err.h"
#include <stdlib.h>

void sparse_init(sparse_t *s, uint64_t limit, size_t elem)
{
    s->ndir = (limit + SPARSE_CHUNK - 1) >> SPARSE_CHUNK_SHIFT;
    if (s->ndir == 0)
        s->ndir = 1;
    s->dir = mv_calloc(s->ndir, sizeof(void *));
    s->elem = elem;
    s->nchunks = 0;
}

void sparse_free(sparse_t *s)
{
    if (!s->dir)
        return;
    for (uint64_t i = 0; i < s->ndir; i++)
        free(s->dir[i]);
    free(s->dir);
    s->dir = NULL;
    s->ndir = 0;
    s->nchunks = 0;
}

void *sparse_get_slow(sparse_t *s, uint64_t idx)
{
    uint64_t d = idx >> SPARSE_CHUNK_SHIFT;
    MV_ASSERT(d < s->ndir, "sparse index %llu beyond limit %llu",
              (unsigned long long)idx, (unsigned long long)(s->ndir << SPARSE_CHUNK_SHIFT));
    if (!s->dir[d]) {
        s->dir[d] = mv_calloc(SPARSE_CHUNK, s->elem);
        s->nchunks++;
    }
    return (char *)s->dir[d] + (idx & (SPARSE_CHUNK - 1)) * s->elem;
}

uint64_t sparse_bytes(const sparse_t *s)
{
    return s->ndir * sizeof(void *) + s->nchunks * SPARSE_CHUNK * s->elem;
}

/* sparse.h: a lazily populated two-level array indexed by frame number.
 *
 * memvirt keeps per-frame state (table bytes, page metadata, type counts) for
 * machines of up to 2^40 frames, but must cost memory in proportion to the
 * frames actually used, not to the RAM size. A sparse_t is a directory of
 * chunks of SPARSE_CHUNK elements, each chunk allocated (zeroed) the first time
 * an element in it is asked for with sparse_get(). sparse_peek() never
 * allocates and returns NULL for untouched elements, so readers of untouched
 * state see zeros without growing memory. */
#ifndef MV_LIB_SPARSE_H
#define MV_LIB_SPARSE_H
#include <stddef.h>
#include <stdint.h>

#define SPARSE_CHUNK_SHIFT 9
#define SPARSE_CHUNK (1u << SPARSE_CHUNK_SHIFT)

typedef struct {
    void   **dir;       /* dir[i] -> chunk of SPARSE_CHUNK elements, or NULL */
    uint64_t ndir;      /* number of directory slots */
    size_t   elem;      /* element size in bytes */
    uint64_t nchunks;   /* chunks allocated */
} sparse_t;

/* limit: the highest index + 1 ever asked for; elem: element size. */
void sparse_init(sparse_t *s, uint64_t limit, size_t elem);
void sparse_free(sparse_t *s);
void *sparse_get_slow(sparse_t *s, uint64_t idx);

static inline void *sparse_peek(const sparse_t *s, uint64_t idx)
{
    uint64_t d = idx >> SPARSE_CHUNK_SHIFT;
    if (d >= s->ndir || !s->dir[d])
        return NULL;
    return (char *)s->dir[d] + (idx & (SPARSE_CHUNK - 1)) * s->elem;
}

/* The element idx of a sparse_t of uint64_t elements (elem 8), 0 if
 * untouched: found by a shift, not sparse_peek's multiply by elem. The
 * _in form is for an idx below the limit sparse_init was given, which the
 * directory covers: no bound test. */
static inline uint64_t sparse_peek_u64_in(const sparse_t *s, uint64_t idx)
{
    const uint64_t *chunk = (const uint64_t *)s->dir[idx >> SPARSE_CHUNK_SHIFT];
    return chunk ? chunk[idx & (SPARSE_CHUNK - 1)] : 0;
}

/* (written out, not as a bound test before sparse_peek_u64_in: that form
 * cost native's TLB miss 9 host instructions, bench/instr_per_ref.sh) */
static inline uint64_t sparse_peek_u64(const sparse_t *s, uint64_t idx)
{
    uint64_t d = idx >> SPARSE_CHUNK_SHIFT;
    if (d >= s->ndir)
        return 0;
    const uint64_t *chunk = (const uint64_t *)s->dir[d];
    return chunk ? chunk[idx & (SPARSE_CHUNK - 1)] : 0;
}

/* Where element idx of a sparse_t of uint64_t elements lies, or NULL if
 * its chunk is untouched. A chunk never moves while the sparse_t lives. */
static inline const uint64_t *sparse_ref_u64(const sparse_t *s, uint64_t idx)
{
    uint64_t d = idx >> SPARSE_CHUNK_SHIFT;
    if (d >= s->ndir || !s->dir[d])
        return NULL;
    return (const uint64_t *)s->dir[d] + (idx & (SPARSE_CHUNK - 1));
}

static inline void *sparse_get(sparse_t *s, uint64_t idx)
{
    void *p = sparse_peek(s, idx);
    return p ? p : sparse_get_slow(s, idx);
}

/* Bytes of memory held (directory plus chunks). */
uint64_t sparse_bytes(const sparse_t *s);

#endif

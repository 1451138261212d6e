/* pmem.h: machine physical memory.
 *
 * Memory is a space of 4 KiB machine frames. Only frames that are read or
 * written as 64-bit tables (page tables, shadow tables, I/O page tables) get
 * backing bytes, allocated the first time they are written; reading an
 * unbacked frame gives zeros. Data pages are never backed: memvirt models
 * where data lives, not what it holds. So a 64 GiB machine costs nothing until
 * tables are built in it. Each backed frame also has a per-frame tag word that
 * the owning layer may use (hw leaves it alone). */
#ifndef MV_HW_PMEM_H
#define MV_HW_PMEM_H
#include "hw/pte.h"
#include "lib/sparse.h"
#include <stdint.h>
#include <string.h>

struct pmem {
    uint64_t nframes;
    sparse_t frames;      /* frame -> uint64_t * (512 words), or NULL */
    uint64_t backed;      /* frames currently backed */
};

void pmem_init(struct pmem *m, uint64_t nframes);
void pmem_destroy(struct pmem *m);

static inline uint64_t *pmem_table_peek(const struct pmem *m, uint64_t frame)
{
    uint64_t **slot = (uint64_t **)sparse_peek(&m->frames, frame);
    return slot ? *slot : NULL;
}

uint64_t *pmem_table_slow(struct pmem *m, uint64_t frame);

/* The frame's 512 words, backed on first use. */
static inline uint64_t *pmem_table(struct pmem *m, uint64_t frame)
{
    uint64_t *t = pmem_table_peek(m, frame);
    return t ? t : pmem_table_slow(m, frame);
}

static inline uint64_t pmem_read(const struct pmem *m, uint64_t frame, unsigned idx)
{
    const uint64_t *t = pmem_table_peek(m, frame);
    return t ? t[idx] : 0;
}

static inline void pmem_write(struct pmem *m, uint64_t frame, unsigned idx, uint64_t v)
{
    pmem_table(m, frame)[idx] = v;
}

/* Zero a frame: drops its backing, since an unbacked frame reads as zeros. */
void pmem_zero(struct pmem *m, uint64_t frame);

/* Copy a frame's contents (both frames become backed if src is). */
void pmem_copy(struct pmem *m, uint64_t dst, uint64_t src);

static inline int pmem_valid(const struct pmem *m, uint64_t frame) { return frame < m->nframes; }

#endif

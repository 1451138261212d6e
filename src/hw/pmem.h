/* pmem.h: machine physical memory.
 *
 * Memory is a space of 4 KiB machine frames. Only frames that are read or
 * written as 64-bit tables (page tables, shadow tables, I/O page tables) get
 * backing bytes, allocated the first time they are written; reading an
 * unbacked frame gives zeros. Data pages are never backed: memvirt models
 * where data lives, not what it holds. So a 64 GiB machine costs nothing until
 * tables are built in it.
 *
 * A frame may also be *linear*: word i reads as first + i * 4096, the 512
 * consecutive 4 KiB mappings of one identity-mapped extent (the IOMMU's 1:1
 * tables), held in its slot with no backing until something writes it, when
 * the words are filled in. A slot holds a pointer to the frame's words
 * (bit 0 clear), or first (bit 0 set: first is a present entry), or 0. */
#ifndef MV_HW_PMEM_H
#define MV_HW_PMEM_H
#include "hw/pte.h"
#include "lib/sparse.h"
#include <stdint.h>
#include <string.h>

struct pmem {
    uint64_t nframes;
    sparse_t frames;      /* frame -> slot: uint64_t * (512 words), linear first | 1, or 0 */
    uint64_t backed;      /* frames currently backed */
    uint64_t linear;      /* frames currently linear */
    /* Backing comes from chunks of host pages, each frame's words in a
     * host page of its own (one host TLB entry per table a walk reads),
     * freed ones on a list for reuse. */
    void *free_pages;     /* a freed page holds the next one's address */
    uint64_t **chunks;
    uint32_t nchunks, capchunks, chunk_used;
};

static inline int pmem_valid(const struct pmem *m, uint64_t frame) { return frame < m->nframes; }

void pmem_init(struct pmem *m, uint64_t nframes);
void pmem_destroy(struct pmem *m);

/* A frame's slot (the directory holds uint64_t slots: pmem_init). */
static inline uint64_t pmem_slot(const struct pmem *m, uint64_t frame)
{
    return sparse_peek_u64(&m->frames, frame);
}

/* The same for a frame below nframes (pmem_valid), the limit the
 * directory was made for: no bound test. The walkers test pmem_valid
 * first. */
static inline uint64_t pmem_slot_valid(const struct pmem *m, uint64_t frame)
{
    return sparse_peek_u64_in(&m->frames, frame);
}

/* Back a linear frame with its words (the slot then points to them). */
uint64_t *pmem_fill_linear(struct pmem *m, uint64_t frame);

/* The frame's 512 words, or NULL if it has none (reads as zeros). A linear
 * frame gets its words filled in. */
static inline uint64_t *pmem_table_peek(const struct pmem *m, uint64_t frame)
{
    uint64_t s = pmem_slot(m, frame);
    if (__builtin_expect(s & 1, 0))
        return pmem_fill_linear((struct pmem *)m, frame);
    return (uint64_t *)(uintptr_t)s;
}

uint64_t *pmem_table_slow(struct pmem *m, uint64_t frame);

/* The frame's 512 words, backed on first use. */
static inline uint64_t *pmem_table(struct pmem *m, uint64_t frame)
{
    uint64_t s = pmem_slot(m, frame);
    return s && !(s & 1) ? (uint64_t *)(uintptr_t)s : pmem_table_slow(m, frame);
}

/* Word idx of the frame with slot s. */
static inline uint64_t pmem_slot_word(uint64_t s, unsigned idx)
{
    if (__builtin_expect(s & 1, 0))
        return s + ((uint64_t)idx << PAGE_SHIFT);   /* s is the first entry, present */
    return s ? ((const uint64_t *)(uintptr_t)s)[idx] : 0;
}

static inline uint64_t pmem_read(const struct pmem *m, uint64_t frame, unsigned idx)
{
    return pmem_slot_word(pmem_slot(m, frame), idx);
}

/* pmem_read of a frame the caller found pmem_valid. */
static inline uint64_t pmem_read_valid(const struct pmem *m, uint64_t frame, unsigned idx)
{
    return pmem_slot_word(pmem_slot_valid(m, frame), idx);
}

static inline void pmem_write(struct pmem *m, uint64_t frame, unsigned idx, uint64_t v)
{
    pmem_table(m, frame)[idx] = v;
}

/* Make an unbacked frame linear: word i reads first + i * 4096. first must
 * be a present entry (bit 0 set) and the last word must not overflow. */
void pmem_set_linear(struct pmem *m, uint64_t frame, uint64_t first);

/* Zero a frame: drops its backing (or linear content), since an unbacked
 * frame reads as zeros. */
void pmem_zero(struct pmem *m, uint64_t frame);

/* Copy a frame's contents (both frames become backed if src is). */
void pmem_copy(struct pmem *m, uint64_t dst, uint64_t src);

#endif

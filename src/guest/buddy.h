/* buddy.h: the guest kernel's buddy allocator (Linux mm/page_alloc.c).
 *
 * Manages guest frames [base, base + npages) in power-of-two blocks of orders
 * 0..BUDDY_MAX_ORDER. Allocation takes the most recently freed block of the
 * smallest order that fits (LIFO, like the head of Linux's free lists, which
 * hands out cache-hot pages first) and splits it, returning the upper halves to
 * the lower orders. Freeing coalesces with the buddy while the buddy is free.
 *
 * Memory: proportional to the number of free blocks, not to the frames managed:
 * each order keeps its free blocks in a dense array (for LIFO order) indexed by
 * an open-addressing hash (for O(1) buddy lookup while coalescing). */
#ifndef MV_GUEST_BUDDY_H
#define MV_GUEST_BUDDY_H
#include <stdint.h>

#define BUDDY_MAX_ORDER 10

struct buddy_area {
    uint64_t *blocks;    /* free block start frames; last = most recently freed */
    uint64_t  n, cap;
    uint64_t *hkey;      /* hash: block start frame + 1 (0 = empty slot) */
    uint64_t *hval;      /* index into blocks[] */
    uint64_t  hcap;      /* power of two */
    uint64_t  hused;     /* occupied slots, tombstones included */
};

struct buddy_stats {
    uint64_t alloc, free, split, merge, fail;
};

struct buddy {
    uint64_t base, npages;
    uint64_t free_pages;
    struct buddy_area area[BUDDY_MAX_ORDER + 1];
    struct buddy_stats st;
};

/* Frames [base, base+npages) all start free. base need not be aligned:
 * blocks are aligned relative to frame 0 (as in Linux), and the range is cut
 * into the largest aligned blocks that fit. */
void buddy_init(struct buddy *b, uint64_t base, uint64_t npages);
void buddy_destroy(struct buddy *b);

/* Allocate 2^order frames. Returns the first frame, or UINT64_MAX if no block
 * is large enough (st.fail counts it). */
uint64_t buddy_alloc(struct buddy *b, unsigned order);

/* Free a block previously returned by buddy_alloc with the same order. A frame
 * outside the range, a misaligned block or a block that overlaps a free block
 * (double free) breaks an invariant and aborts. */
void buddy_free(struct buddy *b, uint64_t frame, unsigned order);

/* Number of free blocks of one order. */
uint64_t buddy_nr_free(const struct buddy *b, unsigned order);

/* Check every invariant: free blocks aligned and in range, no overlap, no two
 * free buddies left unmerged, free_pages equals the sum. Returns 0 if all hold,
 * otherwise -1 with a description in msg. */
int buddy_check(const struct buddy *b, char *msg, unsigned msglen);

#endif

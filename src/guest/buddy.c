/* buddy.c: the guest kernel's binary buddy allocator, modelled on Linux
 * mm/page_alloc.c. Each order keeps its free blocks in a dense LIFO array plus
 * an open-addressing hash (block start -> array index) so that the buddy can
 * be found and unlinked in O(1) while coalescing. Memory is proportional to the
 * number of free blocks, never to the number of frames managed. */
#include "guest/buddy.h"
#include "lib/err.h"
#include <stdlib.h>
#include <string.h>

#define TOMB UINT64_MAX /* hkey of a deleted slot; 0 marks an empty one */

static inline uint64_t hslot(const struct buddy_area *a, uint64_t frame)
{
    unsigned bits = (unsigned)__builtin_ctzll(a->hcap);
    return bits ? (frame * 0x9E3779B97F4A7C15ull) >> (64 - bits) : 0;
}

/* Slot holding frame, or UINT64_MAX if frame is not a free block here. */
static uint64_t hfind(const struct buddy_area *a, uint64_t frame)
{
    if (!a->hcap)
        return UINT64_MAX;
    uint64_t mask = a->hcap - 1;
    for (uint64_t s = hslot(a, frame);; s = (s + 1) & mask) {
        if (a->hkey[s] == 0)
            return UINT64_MAX;
        if (a->hkey[s] == frame + 1)
            return s;
    }
}

/* Put blocks[i] into the hash; the caller guarantees room and absence. */
static void hput(struct buddy_area *a, uint64_t i)
{
    uint64_t mask = a->hcap - 1, s = hslot(a, a->blocks[i]);
    while (a->hkey[s] != 0 && a->hkey[s] != TOMB)
        s = (s + 1) & mask;
    if (a->hkey[s] == 0)
        a->hused++;
    a->hkey[s] = a->blocks[i] + 1;
    a->hval[s] = i;
}

/* Rebuild the hash from blocks[], sized so the load is at most 25%. */
static void hrebuild(struct buddy_area *a)
{
    uint64_t cap = 16;
    while (cap < 4 * (a->n + 1))
        cap *= 2;
    free(a->hkey);
    free(a->hval);
    a->hkey = mv_calloc(cap, sizeof *a->hkey);
    a->hval = mv_malloc(cap * sizeof *a->hval);
    a->hcap = cap;
    a->hused = 0;
    for (uint64_t i = 0; i < a->n; i++)
        hput(a, i);
}

static void area_push(struct buddy_area *a, uint64_t frame)
{
    if (a->n == a->cap) {
        a->cap = a->cap ? 2 * a->cap : 8;
        a->blocks = mv_realloc(a->blocks, a->cap * sizeof *a->blocks);
    }
    a->blocks[a->n++] = frame;
    if (2 * (a->hused + 1) > a->hcap)
        hrebuild(a); /* includes the new block */
    else
        hput(a, a->n - 1);
}

/* Unlink the block in hash slot s: the last array element fills its hole. */
static void area_del_slot(struct buddy_area *a, uint64_t s)
{
    uint64_t mask = a->hcap - 1, i = a->hval[s];
    MV_ASSERT(i < a->n && a->blocks[i] + 1 == a->hkey[s], "hash slot %llu stale",
              (unsigned long long)s);
    /* A slot followed by an empty one ends every probe chain through it. */
    if (a->hkey[(s + 1) & mask] == 0) {
        a->hkey[s] = 0;
        a->hused--;
    } else {
        a->hkey[s] = TOMB;
    }
    uint64_t last = a->blocks[--a->n];
    if (i != a->n) {
        uint64_t t = hfind(a, last);
        MV_ASSERT(t != UINT64_MAX, "free block %llu missing from hash",
                  (unsigned long long)last);
        a->blocks[i] = last;
        a->hval[t] = i;
    }
}

/* Remove frame if it is free at this order; returns whether it was. */
static int area_remove(struct buddy_area *a, uint64_t frame)
{
    uint64_t s = hfind(a, frame);
    if (s == UINT64_MAX)
        return 0;
    area_del_slot(a, s);
    return 1;
}

static uint64_t area_pop(struct buddy_area *a)
{
    uint64_t frame = a->blocks[a->n - 1];
    int ok = area_remove(a, frame);
    MV_ASSERT(ok, "free block %llu missing from hash", (unsigned long long)frame);
    return frame;
}

/* Whether the order-k block at frame lies entirely inside the range. */
static inline int in_range(const struct buddy *b, uint64_t frame, unsigned k)
{
    return frame >= b->base && frame - b->base <= b->npages &&
           (1ull << k) <= b->npages - (frame - b->base);
}

void buddy_init(struct buddy *b, uint64_t base, uint64_t npages)
{
    MV_ASSERT(npages <= UINT64_MAX - 1 - base, "range %llu+%llu overflows",
              (unsigned long long)base, (unsigned long long)npages);
    memset(b, 0, sizeof *b);
    b->base = base;
    b->npages = npages;
    b->free_pages = npages;
    uint64_t end = base + npages;
    for (uint64_t f = base; f < end;) {
        unsigned k = BUDDY_MAX_ORDER;
        while ((f & ((1ull << k) - 1)) || (1ull << k) > end - f)
            k--;
        struct buddy_area *a = &b->area[k];
        if (a->n == a->cap) {
            a->cap = a->cap ? 2 * a->cap : 8;
            a->blocks = mv_realloc(a->blocks, a->cap * sizeof *a->blocks);
        }
        a->blocks[a->n++] = f;
        f += 1ull << k;
    }
    /* Lowest block on top of each list: a fresh allocator hands out frames
     * from base upward. */
    for (unsigned k = 0; k <= BUDDY_MAX_ORDER; k++) {
        struct buddy_area *a = &b->area[k];
        for (uint64_t i = 0, j = a->n; i + 1 < j; i++, j--) {
            uint64_t t = a->blocks[i];
            a->blocks[i] = a->blocks[j - 1];
            a->blocks[j - 1] = t;
        }
        hrebuild(a);
    }
}

void buddy_destroy(struct buddy *b)
{
    for (unsigned k = 0; k <= BUDDY_MAX_ORDER; k++) {
        free(b->area[k].blocks);
        free(b->area[k].hkey);
        free(b->area[k].hval);
    }
    memset(b, 0, sizeof *b);
}

uint64_t buddy_alloc(struct buddy *b, unsigned order)
{
    unsigned j = order;
    while (j <= BUDDY_MAX_ORDER && b->area[j].n == 0)
        j++;
    if (j > BUDDY_MAX_ORDER) {
        b->st.fail++;
        return UINT64_MAX;
    }
    uint64_t frame = area_pop(&b->area[j]);
    while (j > order) {
        j--;
        area_push(&b->area[j], frame + (1ull << j));
        b->st.split++;
    }
    b->free_pages -= 1ull << order;
    b->st.alloc++;
    return frame;
}

void buddy_free(struct buddy *b, uint64_t frame, unsigned order)
{
    MV_ASSERT(order <= BUDDY_MAX_ORDER, "free of order %u", order);
    MV_ASSERT(in_range(b, frame, order), "free of frame %llu order %u outside [%llu, +%llu)",
              (unsigned long long)frame, order, (unsigned long long)b->base,
              (unsigned long long)b->npages);
    MV_ASSERT((frame & ((1ull << order) - 1)) == 0, "free of misaligned frame %llu order %u",
              (unsigned long long)frame, order);
    /* Double free: the block, or a free block containing it, is already free. */
    for (unsigned k = order; k <= BUDDY_MAX_ORDER; k++) {
        uint64_t g = frame & ~((1ull << k) - 1);
        MV_ASSERT(!in_range(b, g, k) || hfind(&b->area[k], g) == UINT64_MAX,
                  "free of frame %llu order %u overlaps free block %llu order %u",
                  (unsigned long long)frame, order, (unsigned long long)g, k);
    }
    /* Free blocks inside it: checked exhaustively only for small blocks. */
    if (order <= 3)
        for (unsigned k = 0; k < order; k++)
            for (uint64_t g = frame; g < frame + (1ull << order); g += 1ull << k)
                MV_ASSERT(hfind(&b->area[k], g) == UINT64_MAX,
                          "free of frame %llu order %u covers free block %llu order %u",
                          (unsigned long long)frame, order, (unsigned long long)g, k);

    b->free_pages += 1ull << order;
    b->st.free++;
    while (order < BUDDY_MAX_ORDER) {
        uint64_t buddy = frame ^ (1ull << order);
        if (!in_range(b, buddy, order) || !area_remove(&b->area[order], buddy))
            break;
        b->st.merge++;
        frame &= ~(1ull << order);
        order++;
    }
    area_push(&b->area[order], frame);
}

uint64_t buddy_nr_free(const struct buddy *b, unsigned order)
{
    MV_ASSERT(order <= BUDDY_MAX_ORDER, "order %u", order);
    return b->area[order].n;
}

struct blk { uint64_t frame; unsigned order; };

static int blk_cmp(const void *x, const void *y)
{
    const struct blk *p = x, *q = y;
    return p->frame < q->frame ? -1 : p->frame > q->frame;
}

#define FAIL(...) do { if (msg && msglen) snprintf(msg, msglen, __VA_ARGS__); \
                       rc = -1; goto out; } while (0)

int buddy_check(const struct buddy *b, char *msg, unsigned msglen)
{
    int rc = 0;
    uint64_t total = 0, sum = 0;
    for (unsigned k = 0; k <= BUDDY_MAX_ORDER; k++)
        total += b->area[k].n;
    struct blk *all = mv_malloc(total * sizeof *all);
    uint64_t m = 0;

    for (unsigned k = 0; k <= BUDDY_MAX_ORDER; k++) {
        const struct buddy_area *a = &b->area[k];
        if (a->n > a->cap || (a->hcap & (a->hcap - 1)) || (a->hcap && 2 * a->hused > a->hcap)
            || (!a->hcap && a->n))
            FAIL("order %u: bad sizes n=%llu cap=%llu hcap=%llu hused=%llu", k,
                 (unsigned long long)a->n, (unsigned long long)a->cap,
                 (unsigned long long)a->hcap, (unsigned long long)a->hused);
        uint64_t live = 0, used = 0;
        for (uint64_t s = 0; s < a->hcap; s++) {
            if (a->hkey[s] == 0)
                continue;
            used++;
            if (a->hkey[s] == TOMB)
                continue;
            live++;
            if (a->hval[s] >= a->n || a->blocks[a->hval[s]] + 1 != a->hkey[s])
                FAIL("order %u: hash slot %llu (frame %llu) disagrees with array", k,
                     (unsigned long long)s, (unsigned long long)(a->hkey[s] - 1));
        }
        if (live != a->n || used != a->hused)
            FAIL("order %u: hash holds %llu blocks in %llu slots, array %llu, hused %llu", k,
                 (unsigned long long)live, (unsigned long long)used,
                 (unsigned long long)a->n, (unsigned long long)a->hused);
        for (uint64_t i = 0; i < a->n; i++) {
            uint64_t f = a->blocks[i];
            if (hfind(a, f) == UINT64_MAX)
                FAIL("order %u: free block %llu not found in hash", k, (unsigned long long)f);
            if (f & ((1ull << k) - 1))
                FAIL("order %u: free block %llu misaligned", k, (unsigned long long)f);
            if (!in_range(b, f, k))
                FAIL("order %u: free block %llu outside range", k, (unsigned long long)f);
            if (k < BUDDY_MAX_ORDER && in_range(b, f ^ (1ull << k), k) &&
                hfind(a, f ^ (1ull << k)) != UINT64_MAX)
                FAIL("order %u: free buddies %llu and %llu not merged", k,
                     (unsigned long long)f, (unsigned long long)(f ^ (1ull << k)));
            all[m++] = (struct blk){ f, k };
            sum += 1ull << k;
        }
    }
    qsort(all, m, sizeof *all, blk_cmp);
    for (uint64_t i = 1; i < m; i++)
        if (all[i - 1].frame + (1ull << all[i - 1].order) > all[i].frame)
            FAIL("free block %llu order %u overlaps free block %llu order %u",
                 (unsigned long long)all[i - 1].frame, all[i - 1].order,
                 (unsigned long long)all[i].frame, all[i].order);
    /* sum > npages cannot hold while free_pages == sum: blocks in range
     * [base, base + npages) (which buddy_init keeps from wrapping) and
     * disjoint, as checked above, hold at most npages. A backstop only. */
    if (sum != b->free_pages || sum > b->npages)
        FAIL("free blocks hold %llu pages, free_pages %llu, npages %llu",
             (unsigned long long)sum, (unsigned long long)b->free_pages,
             (unsigned long long)b->npages);
out:
    free(all);
    return rc;
}

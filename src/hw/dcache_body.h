/* dcache_body.h: the data-cache model's access as an inline body (see
 * dcache.h), for dcache.c's exported copies and for the CPU's miss path
 * (cpu.c), which compiles it into itself, twice (simd.h). */
#ifndef MV_HW_DCACHE_BODY_H
#define MV_HW_DCACHE_BODY_H
#include "hw/dcache.h"
#include "hw/lru.h"
#include "hw/simd.h"

/* The set of a line: its low bits mixed with higher ones, to spread
 * consecutive frames' lines over the sets. x ^ (x >> 13) is a bijection of
 * 64-bit x, so the set and the bits above the set bits give the line back:
 * the tag need not hold the set bits. */
static inline uint64_t dcache_set(const struct dcache *c, uint64_t line)
{
    return (line ^ (line >> 13)) & c->set_mask;
}

/* A set wider than 16 ways: way w (valid, or `fresh`: just filled and on
 * no list yet) becomes the most recently used of set s. */
static inline void dcache_list_touch(struct dcache *c, uint64_t s, uint32_t w, int fresh)
{
    uint8_t *prev = &c->lprev[s * (c->ways + 1)], *next = &c->lnext[s * (c->ways + 1)];
    const uint8_t head = (uint8_t)c->ways;
    if (next[head] == w)
        return;
    if (!fresh) {
        next[prev[w]] = next[w];
        prev[next[w]] = prev[w];
    }
    prev[w] = head;
    next[w] = next[head];
    prev[next[head]] = (uint8_t)w;
    next[head] = (uint8_t)w;
}

static inline void dcache_touch(struct dcache *c, uint64_t s, uint32_t w, uint64_t line)
{
    c->mru_line = line + 1;
    if (c->order)
        c->order[s] = lru_order_touch(c->order[s], w);
    else
        dcache_list_touch(c, s, w, 0);
}

/* Compiled twice (simd.h): simd is a constant in each copy. */
static inline __attribute__((always_inline)) int dcache_access_body(struct dcache *c, uint64_t addr, const int simd)
{
    uint64_t line = addr >> 6;
    if (c->mru_line == line + 1)
        return 1;                         /* the most recent line of its set */
    uint64_t s = dcache_set(c, line);
    uint32_t key = (uint32_t)(line >> c->set_bits) + 1;
    size_t base = (size_t)s * c->ways;
    uint32_t *t = &c->tag[base];
    uint32_t victim;
    if (c->order) {
        uint32_t m = TAGS32_MATCH(simd, t, c->ways, key);
        if (m) {
            dcache_touch(c, s, (uint32_t)__builtin_ctz(m), line);
            return 1;
        }
        /* a miss: the lowest empty way, else the least recently used.
         * Lines are never invalidated, so a set's empty ways are its last
         * ones: the set is full when its last way holds a line (a tag in
         * the line the scan just read, where a count would be a load from
         * another array). */
        if (__builtin_expect(t[c->ways - 1] != 0, 1)) {
            victim = lru_order_oldest(c->order[s], c->ways);
            t[victim] = key;
            c->mru_line = line + 1;
            c->order[s] = lru_order_touch_oldest(c->order[s], victim);
            return 0;
        }
        victim = (uint32_t)__builtin_ctz(TAGS32_MATCH(simd, t, c->ways, 0));
    } else {
        /* 16 ways a scan; an empty way's tag 0 matches no key */
        for (uint32_t k = 0; k < c->ways; k += 16) {
            uint32_t m = TAGS32_MATCH(simd, t + k, c->ways - k < 16 ? c->ways - k : 16, key);
            if (m) {
                dcache_touch(c, s, k + (uint32_t)__builtin_ctz(m), line);
                return 1;
            }
        }
        /* a miss: the lowest empty way, else the least recently used */
        uint32_t n = c->nvalid[s];
        if (n < c->ways) {
            victim = n;
            c->nvalid[s] = (uint8_t)(n + 1);
            t[victim] = key;
            c->mru_line = line + 1;
            dcache_list_touch(c, s, victim, 1);
            return 0;
        }
        victim = c->lprev[s * (c->ways + 1) + c->ways];
    }
    t[victim] = key;
    dcache_touch(c, s, victim, line);
    return 0;
}

#endif

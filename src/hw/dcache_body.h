/* dcache_body.h: the data-cache model's access as an inline body (see
 * dcache.h), for dcache.c's exported copies and for the CPU's miss path
 * (cpu_miss.h), which compiles it into itself, twice (simd.h), and once
 * more given the default geometry as constants (geom.h). */
#ifndef MV_HW_DCACHE_BODY_H
#define MV_HW_DCACHE_BODY_H
#include "hw/dcache.h"
#include "hw/geom.h"
#include "hw/lru.h"
#include "hw/simd.h"

/* The set of a line: its low bits mixed with higher ones, to spread
 * consecutive frames' lines over the sets. x ^ (x >> 13) is a bijection of
 * 64-bit x, so the set and the bits above the set bits give the line back:
 * the tag need not hold the set bits. */
static inline uint64_t dcache_set(uint32_t set_mask, uint64_t line)
{
    return (line ^ (line >> 13)) & set_mask;
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

/* narrow: the set has at most 16 ways (c->order). */
static inline __attribute__((always_inline)) void dcache_touch(struct dcache *c, uint64_t s, uint32_t w,
                                                               uint64_t line, int narrow)
{
    c->mru_line = line + 1;
    if (narrow)
        c->order[s] = lru_order_touch(c->order[s], w);
    else
        dcache_list_touch(c, s, w, 0);
}

/* Compiled twice (simd.h): simd is a constant in each copy; g is the
 * cache's geometry as constants (geom.h), or GEOM_ANY: read c's. A cache
 * of no sets (none) must not be given. */
static inline __attribute__((always_inline)) int dcache_access_body(struct dcache *c, uint64_t addr, const int simd,
                                                                    const struct geom g)
{
    uint64_t line = addr >> 6;
    if (c->mru_line == line + 1)
        return 1;                         /* the most recent line of its set */
    const uint32_t ways = geom_ways(g, c->ways);
    uint64_t s = dcache_set(geom_mask(g, c->set_mask), line);
    uint32_t key = (uint32_t)(line >> geom_bits(g, c->set_bits)) + 1;
    size_t base = (size_t)s * ways;
    uint32_t *t = &c->tag[base];
    uint32_t victim;
    const int narrow = g.sets ? ways <= LRU_ORDER_WAYS : c->order != NULL;
    if (narrow) {
        uint32_t m = TAGS32_MATCH(simd, t, ways, key);
        if (m) {
            dcache_touch(c, s, (uint32_t)__builtin_ctz(m), line, 1);
            return 1;
        }
        /* a miss: the lowest empty way, else the least recently used.
         * Lines are never invalidated, so a set's empty ways are its last
         * ones: the set is full when its last way holds a line (a tag in
         * the line the scan just read, where a count would be a load from
         * another array). */
        if (__builtin_expect(t[ways - 1] != 0, 1)) {
            victim = lru_order_oldest(c->order[s], ways);
            t[victim] = key;
            c->mru_line = line + 1;
            c->order[s] = lru_order_touch_oldest(c->order[s], victim);
            return 0;
        }
        victim = (uint32_t)__builtin_ctz(TAGS32_MATCH(simd, t, ways, 0));
    } else {
        /* 16 ways a scan; an empty way's tag 0 matches no key */
        for (uint32_t k = 0; k < ways; k += 16) {
            uint32_t m = TAGS32_MATCH(simd, t + k, ways - k < 16 ? ways - k : 16, key);
            if (m) {
                dcache_touch(c, s, k + (uint32_t)__builtin_ctz(m), line, 0);
                return 1;
            }
        }
        /* a miss: the lowest empty way, else the least recently used */
        uint32_t n = c->nvalid[s];
        if (n < ways) {
            victim = n;
            c->nvalid[s] = (uint8_t)(n + 1);
            t[victim] = key;
            c->mru_line = line + 1;
            dcache_list_touch(c, s, victim, 1);
            return 0;
        }
        victim = c->lprev[s * (ways + 1) + ways];
    }
    t[victim] = key;
    dcache_touch(c, s, victim, line, narrow);
    return 0;
}

#endif

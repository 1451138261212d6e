/* dcache.c: a set-associative LRU cache of 64-byte lines (see dcache.h). */
#include "hw/dcache.h"
#include "hw/lru.h"
#include "hw/simd.h"
#include "lib/err.h"
#include <stdlib.h>
#include <string.h>

static const struct param_def defs[] = {
    PARAM_U64(struct dcache_config, ptw_kb, "256", 0, 1 << 20,
              "cache capacity page-table lines keep, KiB (0: none; unverified)"),
    PARAM_U64(struct dcache_config, ptw_ways, "16", 1, 64, "its associativity"),
};
const struct param_group dcache_params = { "cache", defs, sizeof defs / sizeof defs[0],
                                           "data cache as page walks see it" };

int dcache_init(struct dcache *c, const struct dcache_config *cfg)
{
    memset(c, 0, sizeof *c);
    uint64_t lines = cfg->ptw_kb * 1024 / 64;
    if (lines == 0)
        return 0;                         /* no cache */
    if (!cfg->ptw_ways || cfg->ptw_ways > 255 || lines % cfg->ptw_ways)
        return -1;
    uint64_t sets = lines / cfg->ptw_ways;
    if (sets & (sets - 1))
        return -1;
    c->sets = (uint32_t)sets;
    c->ways = (uint32_t)cfg->ptw_ways;
    c->set_mask = c->sets - 1;
    c->tag = mv_calloc(lines + HW_SIMD_PAD, sizeof *c->tag);   /* set scans may read past the end */
    c->nvalid = mv_calloc(sets, sizeof *c->nvalid);
    if (c->ways <= LRU_ORDER_WAYS) {
        c->order = mv_calloc(sets, sizeof *c->order);
        for (uint64_t i = 0; i < sets; i++)
            c->order[i] = LRU_ORDER_INIT;
    } else {
        c->used = mv_calloc(lines, sizeof *c->used);
    }
    return 0;
}

void dcache_destroy(struct dcache *c)
{
    free(c->tag);
    free(c->order);
    free(c->nvalid);
    free(c->used);
    memset(c, 0, sizeof *c);
}

static inline void touch(struct dcache *c, uint64_t s, uint32_t w, size_t i)
{
    c->mru = (uint32_t)i;
    if (c->order)
        c->order[s] = lru_order_touch(c->order[s], w);
    else
        c->used[i] = ++c->clock;
}

/* Compiled twice (simd.h): simd is a constant in each copy. */
static inline __attribute__((always_inline)) int access_body(struct dcache *c, uint64_t addr, const int simd)
{
    uint64_t line = addr >> 6;
    if (c->tag[c->mru] == line + 1)
        return 1;                         /* the most recent line of its set */
    /* spread consecutive frames' lines over the sets */
    uint64_t h = line ^ (line >> 13);
    uint64_t s = h & c->set_mask;
    size_t base = (size_t)s * c->ways;
    uint64_t *t = &c->tag[base];
    uint32_t n = c->nvalid[s];
    if (c->order) {
        uint32_t m = TAGS_MATCH(simd, t, c->ways, line + 1);
        if (m) {
            touch(c, s, (uint32_t)__builtin_ctz(m), base + (uint32_t)__builtin_ctz(m));
            return 1;
        }
    } else {
        for (uint32_t w = 0; w < n; w++) {
            if (t[w] == line + 1) {
                touch(c, s, w, base + w);
                return 1;
            }
        }
    }
    /* a miss: the lowest empty way, else the least recently used */
    uint32_t victim;
    if (n < c->ways) {
        victim = n;
        c->nvalid[s] = (uint8_t)(n + 1);
    } else if (c->order) {
        victim = lru_order_oldest(c->order[s], c->ways);
        t[victim] = line + 1;
        c->mru = (uint32_t)(base + victim);
        c->order[s] = lru_order_touch_oldest(c->order[s], victim);
        return 0;
    } else {
        const uint64_t *used = &c->used[base];
        victim = 0;
        for (uint32_t w = 1; w < c->ways; w++)
            if (used[w] < used[victim])
                victim = w;
    }
    t[victim] = line + 1;
    touch(c, s, victim, base + victim);
    return 0;
}

HW_SIMD_TARGET int dcache_access_avx2(struct dcache *c, uint64_t addr) { return access_body(c, addr, 1); }
int dcache_access_scalar(struct dcache *c, uint64_t addr) { return access_body(c, addr, 0); }

/* dcache.c: a set-associative LRU cache of 64-byte lines (see dcache.h). */
#include "hw/dcache.h"
#include "hw/dcache_body.h"
#include "hw/pte.h"
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

uint64_t dcache_min_sets(uint64_t max_frames)
{
    uint64_t lines = max_frames << (PAGE_SHIFT - 6), sets = 1;
    while (lines / sets >= UINT32_MAX)   /* the last line's tag, (lines - 1) / sets + 1, must be < 2^32 - 1 */
        sets <<= 1;
    return sets;
}

int dcache_init(struct dcache *c, const struct dcache_config *cfg, uint64_t max_frames)
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
    if (sets < dcache_min_sets(max_frames))
        return -2;
    c->sets = (uint32_t)sets;
    c->set_bits = (uint32_t)__builtin_ctzll(sets);
    c->ways = (uint32_t)cfg->ptw_ways;
    c->set_mask = c->sets - 1;
    c->tag = mv_calloc_lines(lines + HW_SIMD_PAD32, sizeof *c->tag);   /* set scans may read past the end */
    if (c->ways <= LRU_ORDER_WAYS) {
        c->order = mv_calloc(sets, sizeof *c->order);
        for (uint64_t i = 0; i < sets; i++)
            c->order[i] = LRU_ORDER_INIT;
    } else {
        c->nvalid = mv_calloc(sets, sizeof *c->nvalid);
        c->lprev = mv_calloc(sets * (c->ways + 1), sizeof *c->lprev);
        c->lnext = mv_calloc(sets * (c->ways + 1), sizeof *c->lnext);
        for (uint64_t s = 0; s < sets; s++)   /* each list empty: its sentinel alone */
            c->lprev[s * (c->ways + 1) + c->ways] = c->lnext[s * (c->ways + 1) + c->ways] = (uint8_t)c->ways;
    }
    return 0;
}

void dcache_destroy(struct dcache *c)
{
    free(c->tag);
    free(c->order);
    free(c->nvalid);
    free(c->lprev);
    free(c->lnext);
    memset(c, 0, sizeof *c);
}

HW_SIMD_TARGET int dcache_access_avx2(struct dcache *c, uint64_t addr) { return dcache_access_body(c, addr, 1, GEOM_ANY); }
int dcache_access_scalar(struct dcache *c, uint64_t addr) { return dcache_access_body(c, addr, 0, GEOM_ANY); }

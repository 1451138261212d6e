/* dcache.c: a set-associative LRU cache of 64-byte lines (see dcache.h). */
#include "hw/dcache.h"
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
    if (!cfg->ptw_ways || lines % cfg->ptw_ways)
        return -1;
    uint64_t sets = lines / cfg->ptw_ways;
    if (sets & (sets - 1))
        return -1;
    c->sets = (uint32_t)sets;
    c->ways = (uint32_t)cfg->ptw_ways;
    c->set_mask = c->sets - 1;
    c->tag = mv_calloc(lines, sizeof *c->tag);
    c->lru = mv_calloc(lines, sizeof *c->lru);
    return 0;
}

void dcache_destroy(struct dcache *c)
{
    free(c->tag);
    free(c->lru);
    memset(c, 0, sizeof *c);
}

int dcache_access(struct dcache *c, uint64_t addr)
{
    if (!c->sets)
        return 0;
    uint64_t line = addr >> 6;
    /* spread consecutive frames' lines over the sets */
    uint64_t h = line ^ (line >> 13);
    size_t base = (size_t)(h & c->set_mask) * c->ways;
    uint64_t *t = &c->tag[base];
    uint32_t *lru = &c->lru[base];
    for (uint32_t w = 0; w < c->ways; w++) {
        if (t[w] == line + 1) {
            lru[w] = ++c->stamp;
            return 1;
        }
    }
    uint32_t victim = 0, oldest = 0;
    for (uint32_t w = 0; w < c->ways; w++) {
        uint32_t age = t[w] ? c->stamp - lru[w] : UINT32_MAX;
        if (age > oldest) {
            oldest = age;
            victim = w;
        }
    }
    t[victim] = line + 1;
    lru[victim] = ++c->stamp;
    return 0;
}

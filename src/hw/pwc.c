/* pwc.c: Intel paging-structure caches (see pwc.h, SDM vol. 3, 4.10.3).
 *
 * Three small fully associative LRU caches of non-leaf entries: PML4E
 * (va[47:39]), PDPTE (va[47:30]) and PDE (va[47:21]), each PCID-tagged. A hit
 * lets the walker skip the levels above the cached entry. An entry of level
 * lvl has tag ((va >> level_shift(lvl)) << 13) | (pcid << 1) | 1; 0 is
 * invalid. */
#include "hw/pwc.h"
#include "hw/pte.h"
#include "lib/err.h"
#include <string.h>

static inline uint64_t pwc_tag(unsigned lvl, uint64_t va, uint16_t pcid)
{
    return ((va >> level_shift(lvl)) << 13) | ((uint64_t)(pcid & 0xfff) << 1) | 1;
}

void pwc_init(struct pwc *p, uint32_t n_l4, uint32_t n_l3, uint32_t n_l2)
{
    memset(p, 0, sizeof *p);
    const uint32_t n[5] = { 0, 0, n_l2, n_l3, n_l4 };
    for (unsigned l = 2; l <= 4; l++) {
        p->lvl[l].n = n[l];
        p->lvl[l].e = mv_calloc(n[l], sizeof *p->lvl[l].e);
    }
}

void pwc_destroy(struct pwc *p)
{
    for (unsigned l = 2; l <= 4; l++)
        free(p->lvl[l].e);
    memset(p, 0, sizeof *p);
}

unsigned pwc_lookup(struct pwc *p, uint64_t va, uint16_t pcid, uint64_t *table, uint8_t *perms)
{
    for (unsigned l = 2; l <= 4; l++) {
        struct pwc_cache *c = &p->lvl[l];
        uint64_t tag = pwc_tag(l, va, pcid);
        for (uint32_t i = 0; i < c->n; i++) {
            if (c->e[i].tag == tag) {
                c->e[i].lru = ++c->stamp;
                *table = c->e[i].table;
                *perms = c->e[i].perms;
                return l - 1;
            }
        }
    }
    return 4;
}

/* Same tag, else an invalid slot, else the least recently used (ages modulo
 * 2^32, so a wrapped stamp still picks the right victim). */
void pwc_insert(struct pwc *p, unsigned lvl, uint64_t va, uint16_t pcid, uint64_t table, uint8_t perms)
{
    MV_ASSERT(lvl >= 2 && lvl <= 4, "pwc level %u", lvl);
    struct pwc_cache *c = &p->lvl[lvl];
    if (!c->n)
        return;
    uint64_t tag = pwc_tag(lvl, va, pcid);
    struct pwc_entry *victim = NULL, *invalid = NULL, *lru = NULL;
    uint32_t oldest = 0;
    for (uint32_t i = 0; i < c->n && !victim; i++) {
        struct pwc_entry *e = &c->e[i];
        if (e->tag == tag)
            victim = e;
        else if (!e->tag) {
            if (!invalid)
                invalid = e;
        } else if (!lru || c->stamp - e->lru > oldest) {
            lru = e;
            oldest = c->stamp - e->lru;
        }
    }
    if (!victim)
        victim = invalid ? invalid : lru;
    victim->tag = tag;
    victim->table = table;
    victim->perms = perms;
    victim->lru = ++c->stamp;
}

void pwc_flush_pcid(struct pwc *p, uint16_t pcid)
{
    for (unsigned l = 2; l <= 4; l++)
        for (uint32_t i = 0; i < p->lvl[l].n; i++) {
            struct pwc_entry *e = &p->lvl[l].e[i];
            if (e->tag && ((e->tag >> 1) & 0xfff) == (pcid & 0xfffu))
                memset(e, 0, sizeof *e);
        }
}

void pwc_flush_all(struct pwc *p)
{
    for (unsigned l = 2; l <= 4; l++)
        if (p->lvl[l].n)
            memset(p->lvl[l].e, 0, p->lvl[l].n * sizeof *p->lvl[l].e);
}

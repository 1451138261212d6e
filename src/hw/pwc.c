/* pwc.c: Intel paging-structure caches (see pwc.h, SDM vol. 3, 4.10.3).
 *
 * Three small fully associative LRU caches of non-leaf entries: PML4E
 * (va[47:39]), PDPTE (va[47:30]) and PDE (va[47:21]), each PCID-tagged. A hit
 * lets the walker skip the levels above the cached entry. A recency list
 * keeps true LRU; a small cache is scanned whole at once, a large one has
 * a hash index (pwc.h). */
#include "hw/pwc.h"
#include "hw/pte.h"
#include "lib/err.h"
#include <stdlib.h>
#include <string.h>

void pwc_init(struct pwc *p, uint32_t n_l4, uint32_t n_l3, uint32_t n_l2)
{
    memset(p, 0, sizeof *p);
    const uint32_t n[5] = { 0, 0, n_l2, n_l3, n_l4 };
    for (unsigned l = 2; l <= 4; l++) {
        struct pwc_cache *c = &p->lvl[l];
        MV_ASSERT(n[l] <= PWC_MAX, "pwc of %u entries", n[l]);
        c->n = n[l];
        /* tag[n]: the sentinel's, 0; and room for a scan in groups of 4 */
        c->tag = mv_calloc(n[l] + 1 + HW_SIMD_PAD, sizeof *c->tag);
        c->table = mv_calloc(n[l] ? n[l] : 1, sizeof *c->table);
        c->perms = mv_calloc(n[l] ? n[l] : 1, sizeof *c->perms);
        c->prev = mv_calloc(n[l] + 1, sizeof *c->prev);
        c->next = mv_calloc(n[l] + 1, sizeof *c->next);
        c->prev[n[l]] = c->next[n[l]] = (uint16_t)n[l];   /* the sentinel alone */
        c->empty = mv_calloc(n[l] / 64 + 1, sizeof *c->empty);
        for (uint32_t i = 0; i < n[l]; i++)
            c->empty[i / 64] |= 1ull << (i % 64);
        c->hmask = pwc_hmask(n[l]);
        c->hidx = mv_calloc(c->hmask + 1, sizeof *c->hidx);
        c->hnext = mv_calloc(n[l] ? n[l] : 1, sizeof *c->hnext);
        c->fp = mv_calloc(PWC_SCAN_MAX, sizeof *c->fp);   /* a scan reads 32 keys */
    }
}

void pwc_destroy(struct pwc *p)
{
    for (unsigned l = 2; l <= 4; l++) {
        free(p->lvl[l].tag);
        free(p->lvl[l].table);
        free(p->lvl[l].perms);
        free(p->lvl[l].prev);
        free(p->lvl[l].next);
        free(p->lvl[l].empty);
        free(p->lvl[l].hidx);
        free(p->lvl[l].hnext);
        free(p->lvl[l].fp);
    }
    memset(p, 0, sizeof *p);
}

/* Same tag, else the lowest empty slot, else the least recently used. */
void pwc_insert(struct pwc *p, unsigned lvl, uint64_t va, uint16_t pcid, uint64_t table, uint8_t perms)
{
    MV_ASSERT(lvl >= 2 && lvl <= 4, "pwc level %u", lvl);
    struct pwc_cache *c = &p->lvl[lvl];
    if (!c->n)
        return;
    uint64_t tag = pwc_tag(lvl, va, pcid);
    long v = c->valid ? pwc_find(c, c->hmask, tag) : -1;
    if (v >= 0)
        pwc_touch(c, c->n, (uint32_t)v);
    else
        v = pwc_place(c, c->n, c->hmask, tag);
    c->table[v] = table;
    c->perms[v] = perms;
}

/* Empty c at once, as pwc_init leaves it: no tag, empty chains, the
 * recency list the sentinel alone, every slot empty. */
static void reset(struct pwc_cache *c)
{
    memset(c->tag, 0, c->n * sizeof *c->tag);
    memset(c->hidx, 0, (c->hmask + 1) * sizeof *c->hidx);
    memset(c->fp, 0, PWC_SCAN_MAX * sizeof *c->fp);
    c->prev[c->n] = c->next[c->n] = (uint16_t)c->n;
    for (uint32_t i = 0; i < c->n; i += 64)
        c->empty[i / 64] = c->n - i >= 64 ? ~0ull : (1ull << (c->n - i)) - 1;
    c->valid = 0;
}

static void flush(struct pwc *p, int all, uint16_t pcid)
{
    for (unsigned l = 2; l <= 4; l++) {
        struct pwc_cache *c = &p->lvl[l];
        if (!c->valid)
            continue;
        if (all) {
            reset(c);
            continue;
        }
        for (uint32_t i = 0; i < c->n; i++)
            if (c->tag[i] && ((c->tag[i] >> 1) & 0xfff) == (pcid & 0xfffu)) {
                if (c->n > PWC_SCAN_MAX)
                    pwc_hindex_del(c, c->hmask, i);
                else
                    c->fp[i] = 0;
                pwc_list_unlink(c, i);
                c->tag[i] = 0;
                c->empty[i / 64] |= 1ull << (i % 64);
                c->valid--;
            }
    }
}

void pwc_flush_pcid(struct pwc *p, uint16_t pcid) { flush(p, 0, pcid); }
void pwc_flush_all(struct pwc *p) { flush(p, 1, 0); }

/* tlb.c: Intel-style TLB hierarchy: set-associative arrays with true LRU
 * (hw/lru.h), PCID tags and global entries; the INVLPG / INVPCID / CR3
 * flush kinds (Intel SDM vol. 3, 4.10). See tlb.h for the layout. */
#include "hw/tlb.h"
#include "lib/err.h"
#include <stdlib.h>
#include <string.h>

static int array_init(struct tlb_array *a, uint64_t entries, uint64_t ways)
{
    memset(a, 0, sizeof *a);
    if (entries == 0) {          /* absent: one set of zero ways */
        a->sets = 1;
        a->ways = 0;
    } else {
        if (ways == 0 || entries % ways || entries > (1u << 24))
            return -1;
        uint64_t sets = entries / ways;
        if (sets & (sets - 1))
            return -1;
        a->sets = (uint32_t)sets;
        a->ways = (uint32_t)ways;
    }
    a->set_mask = a->sets - 1;
    size_t n = (size_t)a->sets * a->ways;
    a->tag = mv_calloc(n ? n : 1, sizeof *a->tag);
    a->frame = mv_calloc(n ? n : 1, sizeof *a->frame);
    a->flags = mv_calloc(n ? n : 1, sizeof *a->flags);
    if (a->ways <= LRU_ORDER_WAYS) {
        a->order = mv_calloc(a->sets, sizeof *a->order);
        a->valid = mv_calloc(a->sets, sizeof *a->valid);
        for (uint32_t i = 0; i < a->sets; i++)
            a->order[i] = LRU_ORDER_INIT;
    } else {
        a->used = mv_calloc(n, sizeof *a->used);
    }
    return 0;
}

static void array_destroy(struct tlb_array *a)
{
    free(a->tag);
    free(a->frame);
    free(a->flags);
    free(a->order);
    free(a->valid);
    free(a->used);
    memset(a, 0, sizeof *a);
}

void tlb_destroy(struct tlb *t)
{
    for (unsigned s = 0; s < 3; s++)
        array_destroy(&t->l1[s]);
    array_destroy(&t->l2);
}

int tlb_init(struct tlb *t, const struct tlb_config *c)
{
    memset(t, 0, sizeof *t);
    if (array_init(&t->l1[PG_4K], c->l1_4k_entries, c->l1_4k_ways) ||
        array_init(&t->l1[PG_2M], c->l1_2m_entries, c->l1_2m_ways) ||
        array_init(&t->l1[PG_1G], c->l1_1g_entries, c->l1_1g_ways) ||
        array_init(&t->l2, c->l2_entries, c->l2_ways)) {
        tlb_destroy(t);
        return -1;
    }
    t->l2_2m = c->l2_2m;
    return 0;
}

static inline unsigned tag_size(uint64_t tag) { return (tag >> 13) & 3; }

long tlb_array_find_set(struct tlb_array *a, uint64_t vpn, uint64_t tag)
{
    uint64_t s = vpn & a->set_mask;
    size_t base = (size_t)s * a->ways;
    const uint64_t *t = &a->tag[base];
    for (uint32_t w = 0; w < a->ways; w++) {
        if (t[w] == tag) {
            tlb_array_touch(a, s, w, base + w);
            return (long)(base + w);
        }
    }
    if (__builtin_expect(a->nglobal != 0, 0)) {
        for (uint32_t w = 0; w < a->ways; w++) {
            if (t[w] && (a->flags[base + w] & TLB_G) && !((t[w] ^ tag) >> 13)) {
                tlb_array_touch(a, s, w, base + w);
                return (long)(base + w);
            }
        }
    }
    return -1;
}

/* Drop entry i, way w of set s. */
static void drop(struct tlb_array *a, uint64_t s, uint32_t w, size_t i)
{
    a->nsize[tag_size(a->tag[i])]--;
    if (a->flags[i] & TLB_G)
        a->nglobal--;
    a->tag[i] = 0;
    if (a->valid)
        a->valid[s] &= ~(1u << w);
}

/* Probe a for (va, size); -1 if the array holds no entry of that size. */
static long probe(struct tlb_array *a, uint64_t va, unsigned size, uint16_t pcid)
{
    if (!a->nsize[size])
        return -1;
    uint64_t vpn = tlb_vpn(va, size);
    return tlb_array_find(a, vpn, tlb_tag(vpn, size, pcid));
}

static inline void fill(struct tlb_xlate *x, const struct tlb_array *a, long i, uint64_t va)
{
    unsigned size = tag_size(a->tag[i]);
    x->frame = a->frame[i] + ((va >> PAGE_SHIFT) & ((1ull << (9 * size)) - 1));
    x->flags = a->flags[i];
    x->size = (uint8_t)size;
}

/* The way an entry for a new translation goes to in set s: the lowest
 * empty way, else the least recently used. */
static uint32_t victim(const struct tlb_array *a, uint64_t s, size_t base)
{
    if (a->valid) {
        uint32_t v = a->valid[s];
        if (v != (uint32_t)((1ull << a->ways) - 1))
            return (uint32_t)__builtin_ctz(~v);
        return lru_order_oldest(a->order[s], a->ways);
    }
    const uint64_t *t = &a->tag[base], *used = &a->used[base];
    uint32_t best = 0;
    for (uint32_t w = 0; w < a->ways; w++) {
        if (!t[w])
            return w;
        if (used[w] < used[best])
            best = w;
    }
    return best;
}

/* Put an entry into a's set for vpn. Unless `absent` (the caller knows no
 * entry a lookup of the new one would hit is cached: it just missed, or
 * flushed the page), such an entry is replaced in place. Otherwise the
 * victim is the lowest empty way, else the least recently used one. */
static void install(struct tlb_array *a, uint64_t vpn, uint64_t tag, uint64_t frame, uint8_t flags,
                    int absent)
{
    if (!a->ways)
        return;
    uint64_t s = vpn & a->set_mask;
    size_t base = (size_t)s * a->ways;
    const uint64_t *t = &a->tag[base];
    long w = -1;
    if (!absent) {
        for (uint32_t i = 0; i < a->ways; i++)
            if (t[i] == tag) {
                w = i;
                break;
            }
        if (w < 0 && (a->nglobal || (flags & TLB_G))) {
            for (uint32_t i = 0; i < a->ways; i++)
                if (t[i] && ((a->flags[base + i] | flags) & TLB_G) && !((t[i] ^ tag) >> 13)) {
                    w = i;
                    break;
                }
        }
    }
    if (w < 0)
        w = victim(a, s, base);
    size_t i = base + (size_t)w;
    if (a->tag[i])
        drop(a, s, (uint32_t)w, i);
    a->tag[i] = tag;
    a->frame[i] = frame;
    a->flags[i] = flags;
    if (a->valid)
        a->valid[s] |= 1u << w;
    tlb_array_touch(a, s, (uint32_t)w, i);
    a->nsize[tag_size(tag)]++;
    if (flags & TLB_G)
        a->nglobal++;
}

int tlb_lookup_slow(struct tlb *t, uint64_t va, uint16_t pcid, struct tlb_xlate *x)
{
    long i;
    for (unsigned s = PG_2M; s <= PG_1G; s++) {
        if ((i = probe(&t->l1[s], va, s, pcid)) >= 0) {
            fill(x, &t->l1[s], i, va);
            return 1;
        }
    }
    i = probe(&t->l2, va, PG_4K, pcid);
    if (i < 0)
        i = probe(&t->l2, va, PG_2M, pcid);
    if (i < 0)
        return 0;
    fill(x, &t->l2, i, va);
    unsigned size = x->size;
    uint64_t vpn = tlb_vpn(va, size);
    install(&t->l1[size], vpn, t->l2.tag[i], t->l2.frame[i], t->l2.flags[i], 1);
    return 2;
}

static void insert(struct tlb *t, uint64_t va, uint16_t pcid, const struct tlb_xlate *x, int absent)
{
    MV_ASSERT(x->size <= PG_1G, "page size %u", (unsigned)x->size);
    unsigned size = x->size;
    uint64_t vpn = tlb_vpn(va, size);
    uint64_t tag = tlb_tag(vpn, size, pcid);
    uint64_t base = x->frame - ((va >> PAGE_SHIFT) & ((1ull << (9 * size)) - 1));
    /* a global entry may alias one of another PCID: only skip the search
     * when the new entry is not global */
    absent = absent && !(x->flags & TLB_G);
    install(&t->l1[size], vpn, tag, base, x->flags, absent);
    if (size == PG_4K || (size == PG_2M && t->l2_2m))
        install(&t->l2, vpn, tag, base, x->flags, absent);
}

void tlb_insert(struct tlb *t, uint64_t va, uint16_t pcid, const struct tlb_xlate *x)
{
    insert(t, va, pcid, x, 0);
}

void tlb_insert_missed(struct tlb *t, uint64_t va, uint16_t pcid, const struct tlb_xlate *x)
{
    insert(t, va, pcid, x, 1);
}

/* Drop the entries of `size` in a that a lookup of (va, pcid) would hit. */
static unsigned flush_page_in(struct tlb_array *a, uint64_t va, uint16_t pcid, unsigned size)
{
    if (!a->nsize[size])
        return 0;
    uint64_t vpn = tlb_vpn(va, size), tag = tlb_tag(vpn, size, pcid);
    uint64_t s = vpn & a->set_mask;
    size_t base = (size_t)s * a->ways;
    unsigned n = 0;
    for (uint32_t w = 0; w < a->ways; w++) {
        uint64_t e = a->tag[base + w];
        if (e && (e == tag || ((a->flags[base + w] & TLB_G) && !((e ^ tag) >> 13)))) {
            drop(a, s, w, base + w);
            n++;
        }
    }
    return n;
}

unsigned tlb_flush_page(struct tlb *t, uint64_t va, uint16_t pcid)
{
    unsigned n = 0;
    for (unsigned s = PG_4K; s <= PG_1G; s++)
        n += flush_page_in(&t->l1[s], va, pcid, s);
    n += flush_page_in(&t->l2, va, pcid, PG_4K);
    n += flush_page_in(&t->l2, va, pcid, PG_2M);
    return n;
}

enum flush_kind { FL_PCID, FL_NONGLOBAL, FL_ALL };

static unsigned flush_array(struct tlb_array *a, enum flush_kind k, uint16_t pcid)
{
    size_t n = (size_t)a->sets * a->ways;
    unsigned valid = a->nsize[0] + a->nsize[1] + a->nsize[2];
    if (!valid)
        return 0;
    if (k == FL_ALL || (k == FL_NONGLOBAL && !a->nglobal)) {   /* everything goes */
        memset(a->tag, 0, n * sizeof *a->tag);
        if (a->valid)
            memset(a->valid, 0, a->sets * sizeof *a->valid);
        a->nsize[0] = a->nsize[1] = a->nsize[2] = 0;
        a->nglobal = 0;
        return valid;
    }
    unsigned dropped = 0;
    for (uint64_t s = 0; s < a->sets; s++) {
        for (uint32_t w = 0; w < a->ways; w++) {
            size_t i = (size_t)s * a->ways + w;
            uint64_t e = a->tag[i];
            if (!e)
                continue;
            int global = (a->flags[i] & TLB_G) != 0;
            if (!global && (k == FL_NONGLOBAL || ((e >> 1) & 0xfff) == (pcid & 0xfffu))) {
                drop(a, s, w, i);
                dropped++;
            }
        }
    }
    return dropped;
}

static unsigned flush_kind(struct tlb *t, enum flush_kind k, uint16_t pcid)
{
    unsigned n = 0;
    for (unsigned s = 0; s < 3; s++)
        n += flush_array(&t->l1[s], k, pcid);
    return n + flush_array(&t->l2, k, pcid);
}

unsigned tlb_flush_pcid(struct tlb *t, uint16_t pcid) { return flush_kind(t, FL_PCID, pcid); }
unsigned tlb_flush_nonglobal(struct tlb *t) { return flush_kind(t, FL_NONGLOBAL, 0); }
unsigned tlb_flush_all(struct tlb *t) { return flush_kind(t, FL_ALL, 0); }

unsigned tlb_count(const struct tlb *t)
{
    unsigned n = 0;
    for (unsigned s = 0; s < 3; s++)
        n += t->l1[s].nsize[0] + t->l1[s].nsize[1] + t->l1[s].nsize[2];
    return n + t->l2.nsize[0] + t->l2.nsize[1] + t->l2.nsize[2];
}

/* tlb.c: Intel-style TLB hierarchy: set-associative arrays with true LRU
 * (hw/lru.h), PCID tags and global entries; the INVLPG / INVPCID / CR3
 * flush kinds (Intel SDM vol. 3, 4.10). See tlb.h for the layout. */
#include "hw/tlb.h"
#include "hw/simd.h"
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
    a->tag = mv_calloc(n + 1 + HW_SIMD_PAD, sizeof *a->tag);   /* set scans may read past the end */
    a->frame = mv_calloc(n ? n : 1, sizeof *a->frame);
    a->flags = mv_calloc(n ? n : 1, sizeof *a->flags);
    a->mru = (uint32_t)n;        /* the slot whose tag stays 0 */
    a->full = (uint32_t)((1ull << (a->ways <= LRU_ORDER_WAYS ? a->ways : 0)) - 1);
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

/* Is entry i (way w of set s) valid? */
static inline int entry_valid(const struct tlb_array *a, uint64_t s, uint32_t w, size_t i)
{
    return a->valid ? (a->valid[s] >> w) & 1 : a->tag[i] != 0;
}

/* Drop entry i, way w of set s (valid). */
static inline void drop(struct tlb_array *a, uint64_t s, uint32_t w, size_t i)
{
    a->nsize[tag_size(a->tag[i])]--;
    if (a->flags[i] & TLB_G)
        a->nglobal--;
    a->tag[i] = 0;
    if (a->valid)
        a->valid[s] &= ~(1u << w);
}

static inline void fill(struct tlb_xlate *x, const struct tlb_array *a, long i, uint64_t va)
{
    unsigned size = tag_size(a->tag[i]);
    x->frame = a->frame[i] + ((va >> PAGE_SHIFT) & ((1ull << (9 * size)) - 1));
    x->flags = a->flags[i];
    x->size = (uint8_t)size;
}

/* ---- set scans and installs, compiled twice (simd.h) ---------------------
 * Each *_body is inlined into an AVX2 copy and a scalar copy, with simd a
 * constant in each; the exported functions call one by hw_simd. */

#define BODY static inline __attribute__((always_inline))

/* The way of set s (at base) whose tag is tag, or -1. */
BODY long match_way(const struct tlb_array *a, uint64_t s, size_t base, uint64_t tag, const int simd)
{
    const uint64_t *t = &a->tag[base];
    if (a->ways <= LRU_ORDER_WAYS) {
        uint32_t m = TAGS_MATCH(simd, t, a->ways, tag) & a->valid[s];
        return m ? __builtin_ctz(m) : -1;
    }
    for (uint32_t w = 0; w < a->ways; w++)
        if (t[w] == tag)
            return w;
    return -1;
}

/* A cached global entry for the same page as tag (any PCID), or -1. With
 * g set, any entry for the page if it or the new entry is global. */
BODY long match_global(const struct tlb_array *a, uint64_t s, size_t base, uint64_t tag, uint8_t g)
{
    const uint64_t *t = &a->tag[base];
    for (uint32_t w = 0; w < a->ways; w++)
        if (entry_valid(a, s, w, base + w) && ((a->flags[base + w] | g) & TLB_G) && !((t[w] ^ tag) >> 13))
            return w;
    return -1;
}

BODY long find_set_body(struct tlb_array *a, uint64_t vpn, uint64_t tag, const int simd)
{
    uint64_t s = vpn & a->set_mask;
    size_t base = (size_t)s * a->ways;
    long w = match_way(a, s, base, tag, simd);
    if (w < 0 && __builtin_expect(a->nglobal != 0, 0))
        w = match_global(a, s, base, tag, 0);
    if (w < 0)
        return -1;
    tlb_array_touch(a, s, (uint32_t)w, base + (size_t)w);
    return (long)(base + (size_t)w);
}

/* The way an entry for a new translation goes to in set s: the lowest
 * empty way, else the least recently used. */
BODY uint32_t victim(const struct tlb_array *a, uint64_t s, size_t base)
{
    if (a->valid) {
        uint32_t v = a->valid[s];
        if (v != a->full)
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
BODY void install_body(struct tlb_array *a, uint64_t vpn, uint64_t tag, uint64_t frame, uint8_t flags,
                       int absent, const int simd)
{
    const uint32_t ways = a->ways;
    if (!ways)
        return;
    uint64_t s = vpn & a->set_mask;
    size_t base = (size_t)s * ways;
    uint64_t *tags = a->tag;
    uint8_t *fl = a->flags;
    uint32_t *valid = a->valid;
    long w = -1;
    if (!absent) {
        w = match_way(a, s, base, tag, simd);
        if (w < 0 && (a->nglobal || (flags & TLB_G)))
            w = match_global(a, s, base, tag, flags);
    }
    if (w < 0)
        w = victim(a, s, base);
    size_t i = base + (size_t)w;
    if (entry_valid(a, s, (uint32_t)w, i)) {
        a->nsize[tag_size(tags[i])]--;
        a->nglobal -= (fl[i] & TLB_G) != 0;
    }
    a->nsize[tag_size(tag)]++;
    a->nglobal += (flags & TLB_G) != 0;
    tlb_array_touch(a, s, (uint32_t)w, i);
    if (valid)
        valid[s] |= 1u << w;
    tags[i] = tag;
    a->frame[i] = frame;
    fl[i] = flags;
}

/* Probe a for (va, size); -1 if the array holds no entry of that size. */
BODY long probe(struct tlb_array *a, uint64_t va, unsigned size, uint16_t pcid, const int simd)
{
    if (!a->nsize[size])
        return -1;
    uint64_t vpn = tlb_vpn(va, size), tag = tlb_tag(vpn, size, pcid);
    if (a->tag[a->mru] == tag)
        return a->mru;
    return find_set_body(a, vpn, tag, simd);
}

BODY int lookup_slow_body(struct tlb *t, uint64_t va, uint16_t pcid, struct tlb_xlate *x, const int simd)
{
    long i;
    for (unsigned s = PG_2M; s <= PG_1G; s++) {
        if ((i = probe(&t->l1[s], va, s, pcid, simd)) >= 0) {
            fill(x, &t->l1[s], i, va);
            return 1;
        }
    }
    i = probe(&t->l2, va, PG_4K, pcid, simd);
    if (i < 0)
        i = probe(&t->l2, va, PG_2M, pcid, simd);
    if (i < 0)
        return 0;
    fill(x, &t->l2, i, va);
    unsigned size = x->size;
    uint64_t vpn = tlb_vpn(va, size);
    install_body(&t->l1[size], vpn, t->l2.tag[i], t->l2.frame[i], t->l2.flags[i], 1, simd);
    return 2;
}

BODY void insert_body(struct tlb *t, uint64_t va, uint16_t pcid, const struct tlb_xlate *x, int absent,
                      const int simd)
{
    MV_ASSERT(x->size <= PG_1G, "page size %u", (unsigned)x->size);
    unsigned size = x->size;
    uint64_t vpn = tlb_vpn(va, size);
    uint64_t tag = tlb_tag(vpn, size, pcid);
    uint64_t base = x->frame - ((va >> PAGE_SHIFT) & ((1ull << (9 * size)) - 1));
    /* a global entry may alias one of another PCID: only skip the search
     * when the new entry is not global */
    absent = absent && !(x->flags & TLB_G);
    install_body(&t->l1[size], vpn, tag, base, x->flags, absent, simd);
    if (size == PG_4K || (size == PG_2M && t->l2_2m))
        install_body(&t->l2, vpn, tag, base, x->flags, absent, simd);
}

static HW_SIMD_TARGET long find_set_avx2(struct tlb_array *a, uint64_t vpn, uint64_t tag)
{
    return find_set_body(a, vpn, tag, 1);
}
static long find_set_scalar(struct tlb_array *a, uint64_t vpn, uint64_t tag)
{
    return find_set_body(a, vpn, tag, 0);
}
HW_SIMD_TARGET int tlb_lookup_slow_avx2(struct tlb *t, uint64_t va, uint16_t pcid, struct tlb_xlate *x)
{
    return lookup_slow_body(t, va, pcid, x, 1);
}
int tlb_lookup_slow_scalar(struct tlb *t, uint64_t va, uint16_t pcid, struct tlb_xlate *x)
{
    return lookup_slow_body(t, va, pcid, x, 0);
}
static HW_SIMD_TARGET void insert_avx2(struct tlb *t, uint64_t va, uint16_t pcid, const struct tlb_xlate *x,
                                       int absent)
{
    insert_body(t, va, pcid, x, absent, 1);
}
static void insert_scalar(struct tlb *t, uint64_t va, uint16_t pcid, const struct tlb_xlate *x, int absent)
{
    insert_body(t, va, pcid, x, absent, 0);
}

long tlb_array_find_set(struct tlb_array *a, uint64_t vpn, uint64_t tag)
{
    return hw_simd ? find_set_avx2(a, vpn, tag) : find_set_scalar(a, vpn, tag);
}

void tlb_insert(struct tlb *t, uint64_t va, uint16_t pcid, const struct tlb_xlate *x)
{
    hw_simd ? insert_avx2(t, va, pcid, x, 0) : insert_scalar(t, va, pcid, x, 0);
}

/* The usual install after a miss: a 4K, non-global entry into a set of at
 * most 16 ways, none of which can hold it: no search, an O(1) victim. */
static inline void install_missed_4k(struct tlb_array *a, uint64_t vpn, uint64_t tag, uint64_t frame,
                                     uint8_t flags)
{
    uint64_t s = vpn & a->set_mask;
    uint32_t v = a->valid[s];
    uint64_t o = a->order[s];
    uint32_t w;
    size_t i;
    if (v != a->full) {                 /* the lowest empty way */
        w = (uint32_t)__builtin_ctz(~v);
        i = (size_t)s * a->ways + w;
        a->valid[s] = v | (1u << w);
        a->order[s] = lru_order_touch(o, w);
    } else {                            /* the least recently used */
        w = lru_order_oldest(o, a->ways);
        i = (size_t)s * a->ways + w;
        a->nsize[tag_size(a->tag[i])]--;
        a->nglobal -= (a->flags[i] & TLB_G) != 0;
        a->order[s] = lru_order_touch_oldest(o, w);
    }
    a->nsize[PG_4K]++;
    a->mru = (uint32_t)i;
    a->tag[i] = tag;
    a->frame[i] = frame;
    a->flags[i] = flags;
}

void tlb_insert_missed(struct tlb *t, uint64_t va, uint16_t pcid, const struct tlb_xlate *x)
{
    struct tlb_array *l1 = &t->l1[PG_4K], *l2 = &t->l2;
    /* an absent structure (no ways) has valid[] too, and takes nothing */
    if (x->size == PG_4K && !(x->flags & TLB_G) && l1->valid && l2->valid) {
        uint64_t vpn = tlb_vpn(va, PG_4K), tag = tlb_tag(vpn, PG_4K, pcid);
        if (l1->ways)
            install_missed_4k(l1, vpn, tag, x->frame, x->flags);
        if (l2->ways)
            install_missed_4k(l2, vpn, tag, x->frame, x->flags);
        return;
    }
    hw_simd ? insert_avx2(t, va, pcid, x, 1) : insert_scalar(t, va, pcid, x, 1);
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
        if (entry_valid(a, s, w, base + w) &&
            (e == tag || ((a->flags[base + w] & TLB_G) && !((e ^ tag) >> 13)))) {
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
        if (a->valid)   /* the valid bits say it all: the tags may stay */
            memset(a->valid, 0, a->sets * sizeof *a->valid);
        else
            memset(a->tag, 0, n * sizeof *a->tag);
        a->mru = (uint32_t)n;
        a->nsize[0] = a->nsize[1] = a->nsize[2] = 0;
        a->nglobal = 0;
        return valid;
    }
    unsigned dropped = 0;
    for (uint64_t s = 0; s < a->sets; s++) {
        for (uint32_t w = 0; w < a->ways; w++) {
            size_t i = (size_t)s * a->ways + w;
            uint64_t e = a->tag[i];
            if (!entry_valid(a, s, w, i))
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

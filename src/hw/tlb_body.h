/* tlb_body.h: the TLB's set scans and installs as inline bodies (see
 * tlb.h). tlb.c compiles them into its exported functions; the CPU's miss
 * path (cpu_miss.h) compiles them into itself, twice like every user of
 * the AVX2 scans (simd.h), and once more given the default geometry as
 * constants (geom.h), so that a TLB miss makes no call to look up or fill
 * the TLB. Nothing here is part of the TLB's interface. */
#ifndef MV_HW_TLB_BODY_H
#define MV_HW_TLB_BODY_H
#include "hw/geom.h"
#include "hw/tlb.h"
#include "hw/tlb_wide.h"
#include "lib/err.h"


/* Is entry i (way w of set s) valid? */
static inline int tlb_entry_valid(const struct tlb_array *a, uint64_t s, uint32_t w, size_t i)
{
    return a->valid ? (a->valid[s] >> w) & 1 : a->tag[i] != 0;
}

/* Drop entry i, way w of set s (valid). */
static inline void tlb_drop(struct tlb_array *a, uint64_t s, uint32_t w, size_t i)
{
    a->nsize[tlb_tag_size(a->tag[i])]--;
    if (a->flags[i] & TLB_G)
        a->nglobal--;
    if (a->valid)
        a->valid[s] &= ~(1u << w);
    else
        tlb_wide_remove(a, s, w, i);
    a->tag[i] = 0;
}

static inline void tlb_fill_x(struct tlb_xlate *x, const struct tlb_array *a, long i, uint64_t va)
{
    unsigned size = tlb_tag_size(a->tag[i]);
    x->frame = a->frame[i] + ((va >> PAGE_SHIFT) & ((1ull << (9 * size)) - 1));
    x->flags = a->flags[i];
    x->size = (uint8_t)size;
}

/* ---- set scans and installs, compiled twice (simd.h) ---------------------
 * Each *_body is inlined into an AVX2 copy and a scalar copy, with simd a
 * constant in each; the exported functions call one by hw_simd. */

#define TLB_BODY static inline __attribute__((always_inline))

/* g (geom.h): the array's geometry as constants in an instance compiled
 * for one, or GEOM_ANY: read the array's. */

/* Does the array keep sets of at most 16 ways (valid[], order[])? */
TLB_BODY int tlb_narrow(const struct tlb_array *a, const struct geom g)
{
    return g.sets ? g.ways <= LRU_ORDER_WAYS : a->valid != NULL;
}

/* tlb_array_touch() (tlb.h) for geometry g. */
TLB_BODY void tlb_array_touch_g(struct tlb_array *a, uint64_t s, uint32_t w, size_t i, const struct geom g)
{
    if (!g.sets) {
        tlb_array_touch(a, s, w, i);
        return;
    }
    a->mru = (uint32_t)i;
    if (g.ways <= LRU_ORDER_WAYS)
        a->order[s] = lru_order_touch(a->order[s], w);
    else
        tlb_array_touch_wide(a, s, i);
}

/* The way of set s (at base) whose tag is tag, or -1. */
TLB_BODY long tlb_match_way(const struct tlb_array *a, uint64_t s, size_t base, uint64_t tag, const int simd,
                            const struct geom g)
{
    const uint64_t *t = &a->tag[base];
    const uint32_t ways = geom_ways(g, a->ways);
    if (ways <= LRU_ORDER_WAYS) {
        uint32_t m = TAGS_MATCH(simd, t, ways, tag) & a->valid[s];
        return m ? __builtin_ctz(m) : -1;
    }
    return tlb_wide_match(a, base, tag);
}

/* A cached global entry for the same page as tag (any PCID), or -1. With
 * g set, any entry for the page if it or the new entry is global. */
TLB_BODY long tlb_match_global(const struct tlb_array *a, uint64_t s, size_t base, uint64_t tag, uint8_t g)
{
    if (!a->valid)
        return tlb_wide_match_global(a, base, tag, g);
    const uint64_t *t = &a->tag[base];
    for (uint32_t w = 0; w < a->ways; w++)
        if (tlb_entry_valid(a, s, w, base + w) && ((a->flags[base + w] | g) & TLB_G) && !((t[w] ^ tag) >> 13))
            return w;
    return -1;
}

TLB_BODY long tlb_find_set_body(struct tlb_array *a, uint64_t vpn, uint64_t tag, const int simd,
                                const struct geom g)
{
    uint64_t s = vpn & geom_mask(g, a->set_mask);
    size_t base = (size_t)s * geom_ways(g, a->ways);
    long w = tlb_match_way(a, s, base, tag, simd, g);
    if (w < 0 && __builtin_expect(a->nglobal != 0, 0))
        w = tlb_match_global(a, s, base, tag, 0);
    if (w < 0)
        return -1;
    tlb_array_touch_g(a, s, (uint32_t)w, base + (size_t)w, g);
    return (long)(base + (size_t)w);
}

/* The way an entry for a new translation goes to in set s: the lowest
 * empty way, else the least recently used. */
TLB_BODY uint32_t tlb_victim(const struct tlb_array *a, uint64_t s, size_t base, const struct geom g)
{
    if (tlb_narrow(a, g)) {
        const uint32_t ways = geom_ways(g, a->ways);
        uint32_t v = a->valid[s];
        if (v != (g.sets ? (1u << ways) - 1 : a->full))
            return (uint32_t)__builtin_ctz(~v);
        return lru_order_oldest(a->order[s], ways);
    }
    (void)base;
    return tlb_wide_victim(a, s);
}

/* Put an entry into a's set for vpn. Unless `absent` (the caller knows no
 * entry a lookup of the new one would hit is cached: it just missed, or
 * flushed the page), such an entry is replaced in place. Otherwise the
 * victim is the lowest empty way, else the least recently used one. */
TLB_BODY void tlb_install_body(struct tlb_array *a, uint64_t vpn, uint64_t tag, uint64_t frame, uint8_t flags,
                       int absent, const int simd, const struct geom g)
{
    const uint32_t ways = geom_ways(g, a->ways);
    if (!ways)
        return;
    uint64_t s = vpn & geom_mask(g, a->set_mask);
    size_t base = (size_t)s * ways;
    uint64_t *tags = a->tag;
    uint8_t *fl = a->flags;
    const int narrow = tlb_narrow(a, g);
    uint32_t *valid = a->valid;
    long w = -1;
    if (!absent) {
        w = tlb_match_way(a, s, base, tag, simd, g);
        if (w < 0 && (a->nglobal || (flags & TLB_G)))
            w = tlb_match_global(a, s, base, tag, flags);
    }
    if (w < 0)
        w = tlb_victim(a, s, base, g);
    size_t i = base + (size_t)w;
    const int was = narrow ? (valid[s] >> w) & 1 : tags[i] != 0;
    if (was) {
        a->nsize[tlb_tag_size(tags[i])]--;
        a->nglobal -= (fl[i] & TLB_G) != 0;
    }
    a->nsize[tlb_tag_size(tag)]++;
    a->nglobal += (flags & TLB_G) != 0;
    tlb_occ_mark(a, s);
    if (narrow) {
        tlb_array_touch_g(a, s, (uint32_t)w, i, g);
        valid[s] |= 1u << w;
        tags[i] = tag;
    } else {   /* re-indexed under the new tag, the most recent of its set */
        if (was)
            tlb_wide_remove(a, s, (uint32_t)w, i);
        tags[i] = tag;
        tlb_wide_add(a, s, (uint32_t)w, i, tag);
        a->mru = (uint32_t)i;
    }
    a->frame[i] = frame;
    fl[i] = flags;
}

/* Probe a for (va, size) (tlb_probe_tag: for a caller that has its vpn and
 * tag); -1 if the array holds no entry of that size. */
TLB_BODY long tlb_probe_tag(struct tlb_array *a, uint64_t vpn, uint64_t tag, unsigned size, const int simd,
                            const struct geom g)
{
    if (!a->nsize[size])
        return -1;
    if (a->tag[a->mru] == tag)
        return a->mru;
    return tlb_find_set_body(a, vpn, tag, simd, g);
}

TLB_BODY long tlb_probe(struct tlb_array *a, uint64_t va, unsigned size, uint16_t pcid, const int simd,
                        const struct geom g)
{
    uint64_t vpn = tlb_vpn(va, size);
    return tlb_probe_tag(a, vpn, tlb_tag(vpn, size, pcid), size, simd, g);
}

TLB_BODY int tlb_lookup_slow_body(struct tlb *t, uint64_t va, uint16_t pcid, struct tlb_xlate *x, const int simd)
{
    long i;
    for (unsigned s = PG_2M; s <= PG_1G; s++) {
        if ((i = tlb_probe(&t->l1[s], va, s, pcid, simd, GEOM_ANY)) >= 0) {
            tlb_fill_x(x, &t->l1[s], i, va);
            return 1;
        }
    }
    i = tlb_probe(&t->l2, va, PG_4K, pcid, simd, GEOM_ANY);
    if (i < 0)
        i = tlb_probe(&t->l2, va, PG_2M, pcid, simd, GEOM_ANY);
    if (i < 0)
        return 0;
    tlb_fill_x(x, &t->l2, i, va);
    unsigned size = x->size;
    uint64_t vpn = tlb_vpn(va, size);
    /* L1 missed this page for this PCID and as global; but a global entry
     * from the STLB (of another PCID) aliases whatever L1 holds for the
     * page under any PCID, so it goes in with the search */
    tlb_install_body(&t->l1[size], vpn, t->l2.tag[i], t->l2.frame[i], t->l2.flags[i], !(t->l2.flags[i] & TLB_G),
                     simd, GEOM_ANY);
    return 2;
}

/* tlb_lookup() (tlb.h) as a body; g1: the L1 4K array's geometry. */
TLB_BODY int tlb_lookup_body_g(struct tlb *t, uint64_t va, uint16_t pcid, struct tlb_xlate *x, const int simd,
                               const struct geom g1)
{
    struct tlb_array *a = &t->l1[PG_4K];
    long i = tlb_probe(a, va, PG_4K, pcid, simd, g1);
    if (i >= 0) {
        x->frame = a->frame[i];
        x->flags = a->flags[i];
        x->size = PG_4K;
        return 1;
    }
    if (!(t->l1[PG_2M].nsize[PG_2M] | t->l1[PG_1G].nsize[PG_1G] | t->l2.nsize[PG_4K] | t->l2.nsize[PG_2M]))
        return 0;
    return tlb_lookup_slow_body(t, va, pcid, x, simd);
}

TLB_BODY int tlb_lookup_body(struct tlb *t, uint64_t va, uint16_t pcid, struct tlb_xlate *x, const int simd)
{
    return tlb_lookup_body_g(t, va, pcid, x, simd, GEOM_ANY);
}

/* tlb_lookup_slow_body() for a caller that has va's 4K tag (of its PCID)
 * and vpn: with no 2M or 1G entry cached (the usual case) it is the STLB's
 * 4K probe alone, and an STLB hit goes into the L1 4K structure. g1, g2:
 * the geometries of the L1 4K array and the STLB. */
TLB_BODY int tlb_lookup_slow_4k_body_g(struct tlb *t, uint64_t va, uint64_t vpn, uint64_t tag, struct tlb_xlate *x,
                                       const int simd, const struct geom g1, const struct geom g2)
{
    struct tlb_array *a = &t->l2;
    if (t->l1[PG_2M].nsize[PG_2M] | t->l1[PG_1G].nsize[PG_1G] | a->nsize[PG_2M])
        return tlb_lookup_slow_body(t, va, tlb_tag_pcid(tag), x, simd);
    long i = tlb_probe_tag(a, vpn, tag, PG_4K, simd, g2);
    if (i < 0)
        return 0;
    x->frame = a->frame[i];
    x->flags = a->flags[i];
    x->size = PG_4K;
    tlb_install_body(&t->l1[PG_4K], vpn, a->tag[i], a->frame[i], a->flags[i], !(a->flags[i] & TLB_G), simd, g1);
    return 2;
}

TLB_BODY int tlb_lookup_slow_4k_body(struct tlb *t, uint64_t va, uint64_t vpn, uint64_t tag, struct tlb_xlate *x,
                                     const int simd)
{
    return tlb_lookup_slow_4k_body_g(t, va, vpn, tag, x, simd, GEOM_ANY, GEOM_ANY);
}

TLB_BODY void tlb_insert_body(struct tlb *t, uint64_t va, uint16_t pcid, const struct tlb_xlate *x, int absent,
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
    tlb_install_body(&t->l1[size], vpn, tag, base, x->flags, absent, simd, GEOM_ANY);
    if (size == PG_4K || (size == PG_2M && t->l2_2m))
        tlb_install_body(&t->l2, vpn, tag, base, x->flags, absent, simd, GEOM_ANY);
}

/* The usual install after a miss: a 4K, non-global entry into a set of at
 * most 16 ways, none of which can hold it: no search, an O(1) victim. */
TLB_BODY void tlb_install_missed_4k(struct tlb_array *a, uint64_t vpn, uint64_t tag, uint64_t frame,
                                     uint8_t flags, const struct geom g)
{
    const uint32_t ways = geom_ways(g, a->ways);
    uint64_t s = vpn & geom_mask(g, a->set_mask);
    uint32_t v = a->valid[s];
    uint64_t o = a->order[s];
    uint32_t w;
    size_t i;
    if (v != (g.sets ? (1u << ways) - 1 : a->full)) {   /* the lowest empty way */
        w = (uint32_t)__builtin_ctz(~v);
        i = (size_t)s * ways + w;
        if (!v)
            tlb_occ_mark(a, s);
        a->valid[s] = v | (1u << w);
        a->order[s] = lru_order_touch(o, w);
        a->nsize[PG_4K]++;
    } else {                            /* the least recently used */
        w = lru_order_oldest(o, ways);
        i = (size_t)s * ways + w;
        unsigned old = tlb_tag_size(a->tag[i]);
        if (old != PG_4K) {             /* (a 4K entry replacing a 4K one changes no count) */
            a->nsize[old]--;
            a->nsize[PG_4K]++;
        }
        if (a->flags[i] & TLB_G)
            a->nglobal--;
        a->order[s] = lru_order_touch_oldest(o, w);
    }
    a->mru = (uint32_t)i;
    a->tag[i] = tag;
    a->frame[i] = frame;
    a->flags[i] = flags;
}


/* tlb_insert_missed() for a caller that has va's 4K tag (of its PCID) and
 * vpn. The usual install, a 4K non-global entry into sets of at most 16
 * ways (t->fast4k), searches nothing (an absent structure takes nothing);
 * any other goes the general way, which picks the same victims. */
TLB_BODY void tlb_insert_missed_4k_body_g(struct tlb *t, uint64_t va, uint64_t vpn, uint64_t tag,
                                          const struct tlb_xlate *x, const int simd, const struct geom g1,
                                          const struct geom g2)
{
    const int fast4k = g1.sets && g2.sets ? g1.ways <= LRU_ORDER_WAYS && g2.ways <= LRU_ORDER_WAYS : t->fast4k;
    if (x->size == PG_4K && !(x->flags & TLB_G) && fast4k) {
        if (geom_ways(g1, t->l1[PG_4K].ways))
            tlb_install_missed_4k(&t->l1[PG_4K], vpn, tag, x->frame, x->flags, g1);
        if (geom_ways(g2, t->l2.ways))
            tlb_install_missed_4k(&t->l2, vpn, tag, x->frame, x->flags, g2);
        return;
    }
    tlb_insert_body(t, va, tlb_tag_pcid(tag), x, 1, simd);
}

TLB_BODY void tlb_insert_missed_4k_body(struct tlb *t, uint64_t va, uint64_t vpn, uint64_t tag,
                                        const struct tlb_xlate *x, const int simd)
{
    tlb_insert_missed_4k_body_g(t, va, vpn, tag, x, simd, GEOM_ANY, GEOM_ANY);
}

TLB_BODY void tlb_insert_missed_body_g(struct tlb *t, uint64_t va, uint16_t pcid, const struct tlb_xlate *x,
                                       const int simd, const struct geom g1, const struct geom g2)
{
    uint64_t vpn = tlb_vpn(va, PG_4K);
    tlb_insert_missed_4k_body_g(t, va, vpn, tlb_tag(vpn, PG_4K, pcid), x, simd, g1, g2);
}

TLB_BODY void tlb_insert_missed_body(struct tlb *t, uint64_t va, uint16_t pcid, const struct tlb_xlate *x,
                                      const int simd)
{
    tlb_insert_missed_body_g(t, va, pcid, x, simd, GEOM_ANY, GEOM_ANY);
}

#endif

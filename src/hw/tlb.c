/* tlb.c: Intel-style TLB hierarchy: set-associative arrays with true LRU
 * (hw/lru.h), PCID tags and global entries; the INVLPG / INVPCID / CR3
 * flush kinds (Intel SDM vol. 3, 4.10). See tlb.h for the layout. */
#include "hw/tlb.h"
#include "hw/simd.h"
#include "hw/tlb_body.h"
#include "hw/tlb_wide.h"
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
    a->tag = mv_calloc_lines(n + 1 + HW_SIMD_PAD, sizeof *a->tag);   /* set scans may read past the end */
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
        tlb_wide_init(a);
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
    if (!a->order && a->ways)
        tlb_wide_destroy(a);
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
    t->fast4k = t->l1[PG_4K].valid && t->l2.valid;
    return 0;
}

static HW_SIMD_TARGET long find_set_avx2(struct tlb_array *a, uint64_t vpn, uint64_t tag)
{
    return tlb_find_set_body(a, vpn, tag, 1, GEOM_ANY);
}
static long find_set_scalar(struct tlb_array *a, uint64_t vpn, uint64_t tag)
{
    return tlb_find_set_body(a, vpn, tag, 0, GEOM_ANY);
}
static HW_SIMD_TARGET int lookup_avx2(struct tlb *t, uint64_t va, uint16_t pcid, struct tlb_xlate *x)
{
    return tlb_lookup_body(t, va, pcid, x, 1);
}
static int lookup_scalar(struct tlb *t, uint64_t va, uint16_t pcid, struct tlb_xlate *x)
{
    return tlb_lookup_body(t, va, pcid, x, 0);
}
int tlb_lookup(struct tlb *t, uint64_t va, uint16_t pcid, struct tlb_xlate *x)
{
    return hw_simd ? lookup_avx2(t, va, pcid, x) : lookup_scalar(t, va, pcid, x);
}
static HW_SIMD_TARGET void insert_avx2(struct tlb *t, uint64_t va, uint16_t pcid, const struct tlb_xlate *x,
                                       int absent)
{
    tlb_insert_body(t, va, pcid, x, absent, 1);
}
static void insert_scalar(struct tlb *t, uint64_t va, uint16_t pcid, const struct tlb_xlate *x, int absent)
{
    tlb_insert_body(t, va, pcid, x, absent, 0);
}

static HW_SIMD_TARGET void insert_missed_avx2(struct tlb *t, uint64_t va, uint16_t pcid,
                                              const struct tlb_xlate *x)
{
    tlb_insert_missed_body(t, va, pcid, x, 1);
}
static void insert_missed_scalar(struct tlb *t, uint64_t va, uint16_t pcid, const struct tlb_xlate *x)
{
    tlb_insert_missed_body(t, va, pcid, x, 0);
}

long tlb_array_find_set(struct tlb_array *a, uint64_t vpn, uint64_t tag)
{
    return hw_simd ? find_set_avx2(a, vpn, tag) : find_set_scalar(a, vpn, tag);
}

void tlb_insert(struct tlb *t, uint64_t va, uint16_t pcid, const struct tlb_xlate *x)
{
    hw_simd ? insert_avx2(t, va, pcid, x, 0) : insert_scalar(t, va, pcid, x, 0);
}

void tlb_insert_missed(struct tlb *t, uint64_t va, uint16_t pcid, const struct tlb_xlate *x)
{
    hw_simd ? insert_missed_avx2(t, va, pcid, x) : insert_missed_scalar(t, va, pcid, x);
}

/* Drop the entries of `size` in a that a lookup of (va, pcid) would hit
 * and whose flags include `need`. */
static unsigned flush_page_in(struct tlb_array *a, uint64_t va, uint16_t pcid, unsigned size, uint8_t need)
{
    if (!a->nsize[size])
        return 0;
    uint64_t vpn = tlb_vpn(va, size), tag = tlb_tag(vpn, size, pcid);
    uint64_t s = vpn & a->set_mask;
    size_t base = (size_t)s * a->ways;
    unsigned n = 0;
    if (!a->valid) {   /* wide: the page's entries are one index chain */
        /* a drop relinks the entry before it, never the dropped entry's
         * own next: the walk goes on from it */
        for (uint32_t e = a->hidx[tlb_wide_bucket(a, tag)], nx; e; e = nx) {
            uint64_t t = a->tag[e - 1];
            nx = a->hnext[e - 1];
            if ((a->flags[e - 1] & need) == need && (t == tag || ((a->flags[e - 1] & TLB_G) && !((t ^ tag) >> 13)))) {
                tlb_drop(a, s, (uint32_t)(e - 1 - base), e - 1);
                n++;
            }
        }
        return n;
    }
    for (uint32_t w = 0; w < a->ways; w++) {
        uint64_t e = a->tag[base + w];
        if (tlb_entry_valid(a, s, w, base + w) && (a->flags[base + w] & need) == need &&
            (e == tag || ((a->flags[base + w] & TLB_G) && !((e ^ tag) >> 13)))) {
            tlb_drop(a, s, w, base + w);
            n++;
        }
    }
    return n;
}

unsigned tlb_flush_page(struct tlb *t, uint64_t va, uint16_t pcid)
{
    unsigned n = 0;
    for (unsigned s = PG_4K; s <= PG_1G; s++)
        n += flush_page_in(&t->l1[s], va, pcid, s, 0);
    n += flush_page_in(&t->l2, va, pcid, PG_4K, 0);
    n += flush_page_in(&t->l2, va, pcid, PG_2M, 0);
    if (t->frac) {
        uint64_t base = va & ~((1ull << level_shift(2)) - 1);
        for (uint64_t p = base; p < base + (1ull << level_shift(2)); p += PAGE_SIZE) {
            n += flush_page_in(&t->l1[PG_4K], p, pcid, PG_4K, TLB_FRAC);
            n += flush_page_in(&t->l2, p, pcid, PG_4K, TLB_FRAC);
        }
    }
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
        if (a->valid) {   /* the valid bits say it all: the tags may stay */
            memset(a->valid, 0, a->sets * sizeof *a->valid);
        } else {
            memset(a->tag, 0, n * sizeof *a->tag);
            tlb_wide_reset(a);
        }
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
            if (!tlb_entry_valid(a, s, w, i))
                continue;
            int global = (a->flags[i] & TLB_G) != 0;
            if (!global && (k == FL_NONGLOBAL || ((e >> 1) & 0xfff) == (pcid & 0xfffu))) {
                tlb_drop(a, s, w, i);
                dropped++;
            }
        }
    }
    return dropped;
}

static unsigned flush_kind(struct tlb *t, enum flush_kind k, uint16_t pcid)
{
    unsigned n = 0;
    if (k == FL_ALL)
        t->frac = 0;
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

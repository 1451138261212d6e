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
    a->occ = mv_calloc(a->sets, sizeof *a->occ);
    a->inocc = mv_calloc(a->sets, sizeof *a->inocc);
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
    free(a->occ);
    free(a->inocc);
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

int tlb_occ_check(const struct tlb_array *a, const char **why)
{
    if (a->nocc > a->sets) {
        *why = "more sets listed as occupied than the array has";
        return -1;
    }
    uint32_t marked = 0;
    for (uint32_t s = 0; s < a->sets; s++)
        marked += a->inocc[s] != 0;
    if (marked != a->nocc) {
        *why = "the occupied sets marked and those listed differ in number";
        return -1;
    }
    uint8_t *seen = mv_calloc(a->sets, 1);
    for (uint32_t o = 0; o < a->nocc; o++) {
        if (a->occ[o] >= a->sets || !a->inocc[a->occ[o]]) {
            *why = "a listed set is not marked as occupied (or is past the array)";
            free(seen);
            return -1;
        }
        if (seen[a->occ[o]]++) {
            *why = "a set is listed twice";
            free(seen);
            return -1;
        }
    }
    free(seen);
    for (uint32_t s = 0; s < a->sets; s++) {
        int holds = 0;
        for (uint32_t w = 0; w < a->ways && !holds; w++)
            holds = tlb_slot_valid(a, (size_t)s * a->ways + w);
        if (holds && !a->inocc[s]) {
            *why = "a set holding an entry is not listed as occupied: a flush would miss it";
            return -1;
        }
    }
    return 0;
}

/* Does flush k drop entry i? */
static int flush_drops(const struct tlb_array *a, size_t i, enum flush_kind k, uint16_t pcid)
{
    if (k == FL_ALL)
        return 1;
    return !(a->flags[i] & TLB_G) && (k == FL_NONGLOBAL || ((a->tag[i] >> 1) & 0xfff) == (pcid & 0xfffu));
}

/* Visits the listed sets only (occ[]); a set left empty leaves the list. */
static unsigned flush_array(struct tlb_array *a, enum flush_kind k, uint16_t pcid)
{
    unsigned valid = a->nsize[0] + a->nsize[1] + a->nsize[2];
    if (!valid)
        return 0;
    if (k == FL_NONGLOBAL && !a->nglobal)
        k = FL_ALL;   /* everything goes */
    const size_t n = (size_t)a->sets * a->ways;
    unsigned dropped = 0;
    for (uint32_t o = 0; o < a->nocc;) {
        const uint32_t s = a->occ[o];
        const size_t base = (size_t)s * a->ways;
        if (a->valid) {
            if (k == FL_ALL) {   /* the valid bits say it all: the tags may stay */
                dropped += (unsigned)__builtin_popcount(a->valid[s]);
                a->valid[s] = 0;
            } else {
                for (uint32_t v = a->valid[s]; v; v &= v - 1) {
                    uint32_t w = (uint32_t)__builtin_ctz(v);
                    if (flush_drops(a, base + w, k, pcid)) {
                        tlb_drop(a, s, w, base + w);
                        dropped++;
                    }
                }
            }
        } else if (k == FL_ALL) {   /* every entry of the set goes: no chain walked */
            const size_t head = n + s;
            for (uint32_t i = a->lnext[head], next; i != head; i = next) {
                next = a->lnext[i];
                const uint32_t w = (uint32_t)(i - base);
                a->hidx[tlb_wide_bucket(a, a->tag[i])] = 0;   /* its chain goes whole */
                a->empty[(size_t)s * a->ewords + w / 64] |= 1ull << (w % 64);
                a->tag[i] = 0;
                dropped++;
            }
            a->lprev[head] = a->lnext[head] = (uint32_t)head;
            a->nvalid[s] = 0;
        } else {   /* the set's recency list holds its valid entries */
            const size_t head = n + s;
            for (uint32_t i = a->lnext[head], next; i != head; i = next) {
                next = a->lnext[i];
                if (flush_drops(a, i, k, pcid)) {
                    tlb_drop(a, s, (uint32_t)(i - base), i);
                    dropped++;
                }
            }
        }
        if (a->valid ? !a->valid[s] : !a->nvalid[s]) {
            a->inocc[s] = 0;
            a->occ[o] = a->occ[--a->nocc];
        } else {
            o++;
        }
    }
    if (k == FL_ALL) {
        MV_ASSERT(dropped == valid && !a->nocc, "tlb flush: %u of %u entries found in the listed sets", dropped,
                  valid);
        a->mru = (uint32_t)n;
        a->nsize[0] = a->nsize[1] = a->nsize[2] = 0;
        a->nglobal = 0;
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

/* test_tlb_diff.c: differential test of the TLB, the paging-structure
 * caches and the page-walk data cache against plain reference models.
 *
 * memvirt's hw/tlb.c, hw/pwc.c and hw/dcache.c are fast (SIMD set scans,
 * nibble-packed LRU orders, a hash index, valid bits that outlive tags);
 * the models below are the obvious form of the same hardware: an array of
 * entries, each with a valid bit and a 64-bit last-use stamp, searched way
 * by way. Both are driven side by side by the same random operations on
 * hundreds of random geometries (1 to 256 ways, absent structures, global
 * entries, several PCIDs, 4K/2M/1G pages), once with the AVX2 set scans
 * and once with the scalar ones (hw_simd is switched between the halves),
 * and every lookup result and the number of valid entries after every
 * operation must agree. A last case runs the same drivers against a
 * reference whose replacement is deliberately FIFO instead of LRU and
 * asserts that each driver finds a difference, so the comparison is shown
 * to bite. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "hw/dcache.h"
#include "hw/pte.h"
#include "hw/pwc.h"
#include "hw/tlb_body.h"
#include "hw/simd.h"
#include "hw/tlb.h"
#include "hw/tlb_wide.h"
#include "lib/rng.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

/* Set only by test_wrong_reference_is_caught: the reference then stamps an
 * entry when it is filled and never on a hit (FIFO), a wrong model. */
static int ref_fifo;

/* Print the first difference found (off while the wrong model runs). */
static int verbose = 1;

#define say(...)                    \
    do {                            \
        if (verbose)                \
            print_message(__VA_ARGS__); \
    } while (0)

/* What the TLB driver saw, so the test can insist its cases occurred. */
static struct {
    unsigned long hit_l1[3], hit_stlb[3], miss;
    unsigned long global_other_pcid;   /* a global entry hit under another PCID */
    unsigned long dropped_page, dropped_pcid, full_sets;
} seen;

/* ===================================================================== */
/* TLB reference                                                          */
/* ===================================================================== */

struct ref_entry {
    int valid;
    uint64_t vpn;     /* (va & TLB_VA_MASK) >> pg_shift(size) */
    unsigned size;    /* enum page_size */
    unsigned pcid;    /* 12 bits, as the architecture has */
    uint64_t base;    /* frame of the page's first 4 KiB */
    uint8_t flags;
    uint64_t stamp;   /* last use (FIFO model: fill) */
};

struct ref_array {
    unsigned sets, ways;
    struct ref_entry *e;   /* sets * ways, set s at [s * ways] */
};

struct ref_tlb {
    struct ref_array l1[3], l2;
    int l2_2m;
    uint64_t clock;
};

static void ref_array_init(struct ref_array *a, uint64_t entries, uint64_t ways)
{
    a->ways = entries ? (unsigned)ways : 0;
    a->sets = entries ? (unsigned)(entries / ways) : 1;
    a->e = calloc((size_t)a->sets * a->ways + 1, sizeof *a->e);
    assert_non_null(a->e);
}

static void ref_init(struct ref_tlb *r, const struct tlb_config *c)
{
    memset(r, 0, sizeof *r);
    ref_array_init(&r->l1[PG_4K], c->l1_4k_entries, c->l1_4k_ways);
    ref_array_init(&r->l1[PG_2M], c->l1_2m_entries, c->l1_2m_ways);
    ref_array_init(&r->l1[PG_1G], c->l1_1g_entries, c->l1_1g_ways);
    ref_array_init(&r->l2, c->l2_entries, c->l2_ways);
    r->l2_2m = c->l2_2m;
}

static void ref_destroy(struct ref_tlb *r)
{
    for (unsigned s = 0; s < 3; s++)
        free(r->l1[s].e);
    free(r->l2.e);
}

static uint64_t ref_vpn(uint64_t va, unsigned size) { return (va & TLB_VA_MASK) >> (12 + 9 * size); }

static struct ref_entry *ref_set(struct ref_array *a, uint64_t vpn)
{
    return &a->e[(size_t)(vpn & (a->sets - 1)) * a->ways];
}

/* The entry a lookup of (vpn, size, pcid) hits: the lowest way holding the
 * same page for the same PCID, else the lowest holding it as global. */
static struct ref_entry *ref_match(struct ref_array *a, uint64_t vpn, unsigned size, unsigned pcid)
{
    struct ref_entry *e = ref_set(a, vpn);
    for (unsigned w = 0; w < a->ways; w++)
        if (e[w].valid && e[w].vpn == vpn && e[w].size == size && e[w].pcid == pcid)
            return &e[w];
    for (unsigned w = 0; w < a->ways; w++)
        if (e[w].valid && e[w].vpn == vpn && e[w].size == size && (e[w].flags & TLB_G))
            return &e[w];
    return NULL;
}

/* Where a new entry goes: the lowest way holding the same page for the
 * same PCID; else the lowest holding the same page where either that entry
 * or the new one is global (the two would alias); else the lowest invalid
 * way; else the least recently used. */
static struct ref_entry *ref_slot(struct ref_array *a, uint64_t vpn, unsigned size, unsigned pcid, uint8_t flags)
{
    struct ref_entry *e = ref_set(a, vpn);
    for (unsigned w = 0; w < a->ways; w++)
        if (e[w].valid && e[w].vpn == vpn && e[w].size == size && e[w].pcid == pcid)
            return &e[w];
    for (unsigned w = 0; w < a->ways; w++)
        if (e[w].valid && e[w].vpn == vpn && e[w].size == size && ((e[w].flags | flags) & TLB_G))
            return &e[w];
    for (unsigned w = 0; w < a->ways; w++)
        if (!e[w].valid)
            return &e[w];
    seen.full_sets++;
    struct ref_entry *old = &e[0];
    for (unsigned w = 1; w < a->ways; w++)
        if (e[w].stamp < old->stamp)
            old = &e[w];
    return old;
}

static void ref_put(struct ref_tlb *r, struct ref_array *a, uint64_t vpn, unsigned size, unsigned pcid,
                    uint64_t base, uint8_t flags)
{
    if (!a->ways)
        return;
    struct ref_entry *e = ref_slot(a, vpn, size, pcid, flags);
    int refill = e->valid && e->vpn == vpn && e->size == size && e->pcid == pcid;
    if (!ref_fifo || !refill)
        e->stamp = ++r->clock;
    *e = (struct ref_entry){ 1, vpn, size, pcid, base, flags, e->stamp };
}

static void ref_touch(struct ref_tlb *r, struct ref_entry *e)
{
    if (!ref_fifo)
        e->stamp = ++r->clock;
}

static int ref_lookup(struct ref_tlb *r, uint64_t va, unsigned pcid, struct tlb_xlate *x)
{
    struct ref_entry *e = NULL;
    int level = 1;
    for (unsigned s = PG_4K; s <= PG_1G && !e; s++)
        e = ref_match(&r->l1[s], ref_vpn(va, s), s, pcid);
    if (!e) {
        level = 2;
        e = ref_match(&r->l2, ref_vpn(va, PG_4K), PG_4K, pcid);
        if (!e)
            e = ref_match(&r->l2, ref_vpn(va, PG_2M), PG_2M, pcid);
    }
    if (!e) {
        seen.miss++;
        return 0;
    }
    if (level == 1)
        seen.hit_l1[e->size]++;
    else
        seen.hit_stlb[e->size]++;
    seen.global_other_pcid += e->pcid != pcid;
    ref_touch(r, e);
    x->frame = e->base + ((va >> 12) & ((1ull << (9 * e->size)) - 1));
    x->flags = e->flags;
    x->size = (uint8_t)e->size;
    if (level == 2) {   /* an STLB hit is copied, as it is, into L1 */
        struct ref_entry c = *e;
        ref_put(r, &r->l1[c.size], c.vpn, c.size, c.pcid, c.base, c.flags);
    }
    return level;
}

static void ref_insert(struct ref_tlb *r, uint64_t va, unsigned pcid, const struct tlb_xlate *x)
{
    unsigned size = x->size;
    uint64_t vpn = ref_vpn(va, size);
    uint64_t base = x->frame - ((va >> 12) & ((1ull << (9 * size)) - 1));
    ref_put(r, &r->l1[size], vpn, size, pcid, base, x->flags);
    if (size == PG_4K || (size == PG_2M && r->l2_2m))
        ref_put(r, &r->l2, vpn, size, pcid, base, x->flags);
}

/* Drop entries of a for which keep() is false; returns how many. */
static unsigned ref_drop_if(struct ref_array *a, int (*gone)(const struct ref_entry *, const void *), const void *arg)
{
    unsigned n = 0;
    for (size_t i = 0; i < (size_t)a->sets * a->ways; i++)
        if (a->e[i].valid && gone(&a->e[i], arg)) {
            a->e[i].valid = 0;
            n++;
        }
    return n;
}

struct page_arg { uint64_t va; unsigned pcid; };
static int gone_page(const struct ref_entry *e, const void *p)
{
    const struct page_arg *a = p;
    return e->vpn == ref_vpn(a->va, e->size) && (e->pcid == a->pcid || (e->flags & TLB_G));
}
static int gone_pcid(const struct ref_entry *e, const void *p)
{
    return !(e->flags & TLB_G) && e->pcid == *(const unsigned *)p;
}
static int gone_nonglobal(const struct ref_entry *e, const void *p) { return (void)p, !(e->flags & TLB_G); }
static int gone_all(const struct ref_entry *e, const void *p) { return (void)e, (void)p, 1; }

static unsigned ref_flush(struct ref_tlb *r, int (*gone)(const struct ref_entry *, const void *), const void *arg)
{
    unsigned n = ref_drop_if(&r->l2, gone, arg);
    for (unsigned s = 0; s < 3; s++)
        n += ref_drop_if(&r->l1[s], gone, arg);
    return n;
}

static unsigned ref_count(const struct ref_tlb *r)
{
    unsigned n = 0;
    const struct ref_array *as[4] = { &r->l1[0], &r->l1[1], &r->l1[2], &r->l2 };
    for (unsigned k = 0; k < 4; k++)
        for (size_t i = 0; i < (size_t)as[k]->sets * as[k]->ways; i++)
            n += as[k]->e[i].valid != 0;
    return n;
}

/* ---- the TLB driver ---------------------------------------------------- */

/* past 16 ways, the lists and index of tlb_wide.h (fully associative when
 * one set) */
static const unsigned WAYS[] = { 1, 2, 3, 4, 5, 6, 7, 8, 12, 16, 17, 24, 32, 48, 64, 100, 128, 256 };

static void random_array_geometry(rng_t *g, uint64_t *entries, uint64_t *ways)
{
    if (rng_below(g, 8) == 0) {   /* absent */
        *entries = 0;
        *ways = 0;
        return;
    }
    *ways = rng_below(g, 4) ? WAYS[rng_below(g, sizeof WAYS / sizeof WAYS[0])] : rng_range(g, 1, 32);
    *entries = *ways << rng_below(g, 5);   /* 1..16 sets */
}

/* A virtual address in 2 GiB regions x 4 MiB x 8 pages, so pages repeat,
 * 2M and 1G pages overlap 4K ones; now and then with bits above bit 47. */
static uint64_t random_va(rng_t *g)
{
    uint64_t va = (rng_below(g, 2) << 30) | (rng_below(g, 4) << 21) | (rng_below(g, 8) << 12) | rng_below(g, 4096);
    if (rng_below(g, 16) == 0)
        va |= 0xffffull << 48;
    return va;
}

static const unsigned PCIDS[] = { 0, 1, 2, 3, 4095, 4097 /* aliases 1 in 12 bits */ };

static void random_xlate(rng_t *g, uint64_t va, struct tlb_xlate *x)
{
    unsigned r = (unsigned)rng_below(g, 10);
    x->size = r < 6 ? PG_4K : r < 9 ? PG_2M : PG_1G;
    x->flags = (uint8_t)(rng_below(g, 8) & (TLB_W | TLB_U | TLB_NX)) | (rng_below(g, 2) ? TLB_D : 0);
    if (rng_below(g, 5) == 0)
        x->flags |= TLB_G;
    x->frame = rng_below(g, 1ull << 28) + ((va >> 12) & ((1ull << (9 * x->size)) - 1));
}

static int xlate_eq(int r, const struct tlb_xlate *a, const struct tlb_xlate *b)
{
    return !r || (a->frame == b->frame && a->flags == b->flags && a->size == b->size);
}

/* One geometry, nops random operations. Returns 0 if every result agreed. */
static int tlb_diff_one(rng_t *g, unsigned nops, unsigned geom)
{
    struct tlb_config c = { 0 };
    random_array_geometry(g, &c.l1_4k_entries, &c.l1_4k_ways);
    random_array_geometry(g, &c.l1_2m_entries, &c.l1_2m_ways);
    random_array_geometry(g, &c.l1_1g_entries, &c.l1_1g_ways);
    random_array_geometry(g, &c.l2_entries, &c.l2_ways);
    c.l2_2m = (int)rng_below(g, 2);
    struct tlb t;
    struct ref_tlb r;
    assert_int_equal(tlb_init(&t, &c), 0);
    ref_init(&r, &c);
    int bad = 0;
    for (unsigned op = 0; op < nops && !bad; op++) {
        uint64_t va = random_va(g);
        unsigned pcid = PCIDS[rng_below(g, sizeof PCIDS / sizeof PCIDS[0])];
        unsigned kind = (unsigned)rng_below(g, 100);
        struct tlb_xlate xt = { 0 }, xr = { 0 }, xn;
        const char *what;
        if (kind < 45) {
            what = "lookup";
            int a = tlb_lookup(&t, va, (uint16_t)pcid, &xt);
            int b = ref_lookup(&r, va, pcid & 0xfff, &xr);
            if (a != b || !xlate_eq(a, &xt, &xr)) {
                say("geometry %u op %u: lookup va %#llx pcid %u: tlb %d frame %#llx flags %#x size %u,"
                              " reference %d frame %#llx flags %#x size %u\n",
                              geom, op, (unsigned long long)va, pcid, a, (unsigned long long)xt.frame, xt.flags,
                              xt.size, b, (unsigned long long)xr.frame, xr.flags, xr.size);
                bad = 1;
            }
        } else if (kind < 65) {
            what = "insert";
            random_xlate(g, va, &xn);
            tlb_insert(&t, va, (uint16_t)pcid, &xn);
            ref_insert(&r, va, pcid & 0xfff, &xn);
        } else if (kind < 75) {
            /* the CPU's miss path (hw/cpu.c): the L1 4K probe, then the
             * probe below it and the install, both given the 4K tag */
            what = "cpu miss path";
            uint64_t vpn = tlb_vpn(va, PG_4K), tag = tlb_tag(vpn, PG_4K, (uint16_t)pcid);
            struct tlb_array *l1 = &t.l1[PG_4K];
            long i = l1->ways ? tlb_array_find(l1, vpn, tag) : -1;
            int a = 1;
            if (i >= 0)
                xt = (struct tlb_xlate){ .frame = l1->frame[i], .flags = l1->flags[i], .size = PG_4K };
            else
                a = tlb_lookup_slow_4k_body(&t, va, vpn, tag, &xt, hw_simd);
            int b = ref_lookup(&r, va, pcid & 0xfff, &xr);
            if (a != b || !xlate_eq(a, &xt, &xr)) {
                say("geometry %u op %u: cpu lookup va %#llx pcid %u: tlb %d, reference %d\n", geom, op,
                    (unsigned long long)va, pcid, a, b);
                bad = 1;
            } else if (!a) {
                random_xlate(g, va, &xn);
                tlb_insert_missed_4k_body(&t, va, vpn, tag, &xn, hw_simd);
                ref_insert(&r, va, pcid & 0xfff, &xn);
            }
        } else if (kind < 85) {
            /* the walker's sequence: a lookup, and after a miss an install
             * that skips the search */
            what = "lookup + insert_missed";
            int a = tlb_lookup(&t, va, (uint16_t)pcid, &xt);
            int b = ref_lookup(&r, va, pcid & 0xfff, &xr);
            if (a != b || !xlate_eq(a, &xt, &xr)) {
                say("geometry %u op %u: lookup va %#llx pcid %u: tlb %d, reference %d\n", geom, op,
                              (unsigned long long)va, pcid, a, b);
                bad = 1;
            } else if (!a) {
                random_xlate(g, va, &xn);
                tlb_insert_missed(&t, va, (uint16_t)pcid, &xn);
                ref_insert(&r, va, pcid & 0xfff, &xn);
            }
        } else if (kind < 95) {
            what = "flush_page";
            struct page_arg p = { va, pcid & 0xfff };
            unsigned a = tlb_flush_page(&t, va, (uint16_t)pcid), b = ref_flush(&r, gone_page, &p);
            seen.dropped_page += b;
            if (a != b) {
                say("geometry %u op %u: flush_page dropped %u, reference %u\n", geom, op, a, b);
                bad = 1;
            }
        } else {
            unsigned a, b, p = pcid & 0xfff;
            if (kind < 98) {
                what = "flush_pcid";
                a = tlb_flush_pcid(&t, (uint16_t)pcid);
                b = ref_flush(&r, gone_pcid, &p);
                seen.dropped_pcid += b;
            } else if (kind < 99) {
                what = "flush_nonglobal";
                a = tlb_flush_nonglobal(&t);
                b = ref_flush(&r, gone_nonglobal, NULL);
            } else {
                what = "flush_all";
                a = tlb_flush_all(&t);
                b = ref_flush(&r, gone_all, NULL);
            }
            if (a != b) {
                say("geometry %u op %u: %s dropped %u, reference %u\n", geom, op, what, a, b);
                bad = 1;
            }
        }
        if (!bad && tlb_count(&t) != ref_count(&r)) {
            say("geometry %u op %u (%s): %u valid entries, reference %u\n", geom, op, what, tlb_count(&t),
                          ref_count(&r));
            bad = 1;
        }
        if (!bad) {
            /* the strongest check: slot by slot, the same entries in the
             * same ways (both place a new entry by the same rule) */
            const struct tlb_array *ta[4] = { &t.l1[0], &t.l1[1], &t.l1[2], &t.l2 };
            const struct ref_array *ra[4] = { &r.l1[0], &r.l1[1], &r.l1[2], &r.l2 };
            for (unsigned k = 0; k < 4 && !bad; k++)
                for (size_t i = 0; i < (size_t)ra[k]->sets * ra[k]->ways && !bad; i++) {
                    const struct ref_entry *e = &ra[k]->e[i];
                    int v = tlb_slot_valid(ta[k], i);
                    if (v != e->valid ||
                        (v && (ta[k]->tag[i] != tlb_tag(e->vpn, e->size, (uint16_t)e->pcid) ||
                               ta[k]->frame[i] != e->base || ta[k]->flags[i] != e->flags))) {
                        say("geometry %u op %u (%s): array %u slot %zu: valid %d tag %#llx flags %#x, reference valid"
                            " %d tag %#llx flags %#x\n", geom, op, what, k, i, v,
                            (unsigned long long)ta[k]->tag[i], ta[k]->flags[i], e->valid,
                            (unsigned long long)tlb_tag(e->vpn, e->size, (uint16_t)e->pcid), e->flags);
                        bad = 1;
                    }
                }
            for (unsigned k = 0; k < 4 && !bad; k++) {
                const char *why;
                if ((ta[k]->ways && !ta[k]->valid && tlb_wide_check(ta[k], &why)) || tlb_occ_check(ta[k], &why)) {
                    say("geometry %u op %u (%s): array %u: %s\n", geom, op, what, k, why);
                    bad = 1;
                }
            }
        }
        if (bad) {
            const struct tlb_array *ta[4] = { &t.l1[0], &t.l1[1], &t.l1[2], &t.l2 };
            const struct ref_array *ra[4] = { &r.l1[0], &r.l1[1], &r.l1[2], &r.l2 };
            static const char *const name[4] = { "L1 4K", "L1 2M", "L1 1G", "STLB" };
            for (unsigned k = 0; k < 4; k++) {
                unsigned n = 0;
                for (size_t i = 0; i < (size_t)ra[k]->sets * ra[k]->ways; i++)
                    n += ra[k]->e[i].valid != 0;
                say("  %s: %u valid, reference %u\n", name[k], ta[k]->nsize[0] + ta[k]->nsize[1] + ta[k]->nsize[2],
                    n);
            }
        }
        if (bad)
            say("  geometry: l1 4k %llu/%llu 2m %llu/%llu 1g %llu/%llu stlb %llu/%llu l2_2m %d simd %d\n",
                          (unsigned long long)c.l1_4k_entries, (unsigned long long)c.l1_4k_ways,
                          (unsigned long long)c.l1_2m_entries, (unsigned long long)c.l1_2m_ways,
                          (unsigned long long)c.l1_1g_entries, (unsigned long long)c.l1_1g_ways,
                          (unsigned long long)c.l2_entries, (unsigned long long)c.l2_ways, c.l2_2m, hw_simd);
    }
    tlb_destroy(&t);
    ref_destroy(&r);
    return bad;
}

/* ===================================================================== */
/* Paging-structure cache reference                                       */
/* ===================================================================== */

struct ref_pwc_entry {
    int valid;
    uint64_t key;   /* va[47:level_shift] */
    unsigned pcid;
    uint64_t table;
    uint8_t perms;
    uint64_t stamp;
};

struct ref_pwc {
    unsigned n[5];
    struct ref_pwc_entry *e[5];
    uint64_t clock;
};

static uint64_t ref_pwc_key(unsigned lvl, uint64_t va) { return (va & ((1ull << 48) - 1)) >> (12 + 9 * (lvl - 1)); }

static struct ref_pwc_entry *ref_pwc_find(struct ref_pwc *r, unsigned l, uint64_t va, unsigned pcid)
{
    for (unsigned i = 0; i < r->n[l]; i++)
        if (r->e[l][i].valid && r->e[l][i].key == ref_pwc_key(l, va) && r->e[l][i].pcid == pcid)
            return &r->e[l][i];
    return NULL;
}

static unsigned ref_pwc_lookup(struct ref_pwc *r, uint64_t va, unsigned pcid, uint64_t *table, uint8_t *perms)
{
    for (unsigned l = 2; l <= 4; l++) {
        struct ref_pwc_entry *e = ref_pwc_find(r, l, va, pcid);
        if (e) {
            if (!ref_fifo)
                e->stamp = ++r->clock;
            *table = e->table;
            *perms = e->perms;
            return l - 1;
        }
    }
    return 4;
}

static void ref_pwc_insert(struct ref_pwc *r, unsigned l, uint64_t va, unsigned pcid, uint64_t table, uint8_t perms)
{
    if (!r->n[l])
        return;
    struct ref_pwc_entry *e = ref_pwc_find(r, l, va, pcid);
    int refill = e != NULL;
    for (unsigned i = 0; i < r->n[l] && !e; i++)
        if (!r->e[l][i].valid)
            e = &r->e[l][i];
    if (!e) {
        e = &r->e[l][0];
        for (unsigned i = 1; i < r->n[l]; i++)
            if (r->e[l][i].stamp < e->stamp)
                e = &r->e[l][i];
    }
    if (!ref_fifo || !refill)
        e->stamp = ++r->clock;
    *e = (struct ref_pwc_entry){ 1, ref_pwc_key(l, va), pcid, table, perms, e->stamp };
}

static void ref_pwc_flush(struct ref_pwc *r, int all, unsigned pcid)
{
    for (unsigned l = 2; l <= 4; l++)
        for (unsigned i = 0; i < r->n[l]; i++)
            if (all || r->e[l][i].pcid == pcid)
                r->e[l][i].valid = 0;
}

static unsigned ref_pwc_count(const struct ref_pwc *r, unsigned l)
{
    unsigned n = 0;
    for (unsigned i = 0; i < r->n[l]; i++)
        n += r->e[l][i].valid != 0;
    return n;
}

static uint32_t random_pwc_size(rng_t *g)
{
    switch (rng_below(g, 6)) {
    case 0: return 0;
    case 1: return 1;
    case 2: return (uint32_t)rng_range(g, 2, 8);
    case 3: return (uint32_t)rng_range(g, 9, 40);
    case 4: return 32;
    default: return (uint32_t)rng_range(g, 41, 300);
    }
}

static int pwc_diff_one(rng_t *g, unsigned nops, unsigned geom)
{
    struct pwc p;
    struct ref_pwc r = { 0 };
    for (unsigned l = 2; l <= 4; l++) {
        r.n[l] = random_pwc_size(g);
        r.e[l] = calloc(r.n[l] + 1, sizeof *r.e[l]);
        assert_non_null(r.e[l]);
    }
    pwc_init(&p, r.n[4], r.n[3], r.n[2]);
    int bad = 0;
    for (unsigned op = 0; op < nops && !bad; op++) {
        /* 8 x 8 x 8 x 8 upper-level slots, so keys repeat at every level */
        uint64_t va = (rng_below(g, 8) << 39) | (rng_below(g, 8) << 30) | (rng_below(g, 8) << 21) |
                      (rng_below(g, 1 << 21));
        if (rng_below(g, 16) == 0)
            va |= 0xffffull << 48;
        unsigned pcid = PCIDS[rng_below(g, sizeof PCIDS / sizeof PCIDS[0])];
        unsigned kind = (unsigned)rng_below(g, 100);
        uint64_t table = rng_below(g, 1ull << 36);
        uint8_t perms = (uint8_t)(rng_below(g, 8) & (TLB_W | TLB_U | TLB_NX));
        if (kind < 50) {
            uint64_t ta = 0, tb = 0;
            uint8_t pa = 0, pb = 0;
            unsigned a = pwc_lookup(&p, va, (uint16_t)pcid, &ta, &pa);
            unsigned b = ref_pwc_lookup(&r, va, pcid & 0xfff, &tb, &pb);
            if (a != b || (a != 4 && (ta != tb || pa != pb))) {
                say("pwc geometry %u op %u: lookup va %#llx pcid %u: %u table %#llx perms %#x, "
                                  "reference %u table %#llx perms %#x\n", geom, op, (unsigned long long)va, pcid, a,
                                  (unsigned long long)ta, pa, b, (unsigned long long)tb, pb);
                bad = 1;
            } else if (kind < 30) {
                /* the walker's sequence: fill the levels the lookup missed,
                 * deepest-missed upward, without a search */
                for (unsigned l = a; l >= 2; l--)
                    if (rng_below(g, 2)) {
                        pwc_insert_missed(&p, l, va, (uint16_t)pcid, table + l, perms);
                        ref_pwc_insert(&r, l, va, pcid & 0xfff, table + l, perms);
                    }
            }
        } else if (kind < 90) {
            unsigned l = (unsigned)rng_range(g, 2, 4);
            pwc_insert(&p, l, va, (uint16_t)pcid, table, perms);
            ref_pwc_insert(&r, l, va, pcid & 0xfff, table, perms);
        } else if (kind < 98) {
            pwc_flush_pcid(&p, (uint16_t)pcid);
            ref_pwc_flush(&r, 0, pcid & 0xfff);
        } else {
            pwc_flush_all(&p);
            ref_pwc_flush(&r, 1, 0);
        }
        for (unsigned l = 2; l <= 4 && !bad; l++)
            if (p.lvl[l].valid != ref_pwc_count(&r, l)) {
                say("pwc geometry %u op %u: level %u holds %u, reference %u\n", geom, op, l,
                                  p.lvl[l].valid, ref_pwc_count(&r, l));
                bad = 1;
            }
        /* slot by slot: the same entries in the same slots */
        for (unsigned l = 2; l <= 4 && !bad; l++)
            for (unsigned i = 0; i < r.n[l] && !bad; i++) {
                const struct ref_pwc_entry *e = &r.e[l][i];
                uint64_t tag = e->valid ? (e->key << (12 + 9 * (l - 1))) | ((uint64_t)e->pcid << 1) | 1 : 0;
                if (p.lvl[l].tag[i] != tag || (tag && (p.lvl[l].table[i] != e->table || p.lvl[l].perms[i] != e->perms))) {
                    say("pwc geometry %u op %u: level %u slot %u: tag %#llx, reference %#llx\n", geom, op, l, i,
                        (unsigned long long)p.lvl[l].tag[i], (unsigned long long)tag);
                    bad = 1;
                }
            }
    }
    if (bad)
        say("  pwc sizes: l4 %u l3 %u l2 %u\n", r.n[4], r.n[3], r.n[2]);
    pwc_destroy(&p);
    for (unsigned l = 2; l <= 4; l++)
        free(r.e[l]);
    return bad;
}

/* ===================================================================== */
/* Data cache reference                                                   */
/* ===================================================================== */

struct ref_line { int valid; uint64_t line; uint64_t stamp; };

static const unsigned DC_WAYS[] = { 1, 2, 3, 4, 5, 6, 7, 8, 12, 16, 17, 24, 32 };

static int dcache_diff_one(rng_t *g, unsigned nops, unsigned geom)
{
    unsigned ways = rng_below(g, 3) ? DC_WAYS[rng_below(g, sizeof DC_WAYS / sizeof DC_WAYS[0])]
                                    : (unsigned)rng_range(g, 1, 64);
    /* capacity a whole number of KiB; now and then more than 2^13 sets, so
     * that the set hash folds set bits into set bits and a tag (the bits
     * above the set's) names a line only with its set */
    unsigned sets = rng_below(g, 8) ? 16u << rng_below(g, 3) : 16384;
    if (sets > 64 && ways > 16)
        ways = 16;
    struct dcache_config cfg = { .ptw_kb = (uint64_t)ways * sets * 64 / 1024, .ptw_ways = ways };
    struct dcache d;
    assert_int_equal(dcache_init(&d, &cfg, 1 << 20), 0);
    struct ref_line *e = calloc((size_t)sets * ways, sizeof *e);
    assert_non_null(e);
    uint64_t clock = 0;
    /* lines in 4 regions 2^13 lines apart (the set hash folds bit 13 in),
     * about twice the capacity in all */
    uint64_t span = 2ull * sets * ways / 4 + 1;
    int bad = 0;
    for (unsigned op = 0; op < nops && !bad; op++) {
        uint64_t line = (rng_below(g, 4) << 13) + rng_below(g, span);
        uint64_t addr = (line << 6) | rng_below(g, 64);
        struct ref_line *s = &e[(size_t)((line ^ (line >> 13)) & (sets - 1)) * ways], *hit = NULL;
        for (unsigned w = 0; w < ways && !hit; w++)
            if (s[w].valid && s[w].line == line)
                hit = &s[w];
        if (hit) {
            if (!ref_fifo)
                hit->stamp = ++clock;
        } else {
            struct ref_line *v = NULL;
            for (unsigned w = 0; w < ways && !v; w++)
                if (!s[w].valid)
                    v = &s[w];
            if (!v) {
                v = &s[0];
                for (unsigned w = 1; w < ways; w++)
                    if (s[w].stamp < v->stamp)
                        v = &s[w];
            }
            *v = (struct ref_line){ 1, line, ++clock };
        }
        int a = dcache_access(&d, addr);
        if (a != (hit != NULL)) {
            say("dcache geometry %u (%u sets x %u ways, simd %d) op %u: line %#llx: %s, reference %s\n",
                              geom, sets, ways, hw_simd, op, (unsigned long long)line, a ? "hit" : "miss",
                              hit ? "hit" : "miss");
            bad = 1;
        }
        /* every slot after every operation, but in the largest caches only
         * the set used, and every slot after the last operation */
        size_t set0 = (size_t)(s - e), lo = 0, hi = (size_t)sets * ways;
        int whole = hi <= 4096 || op + 1 == nops;
        if (!whole)
            lo = set0, hi = set0 + ways;
        unsigned nv = 0, nr = 0;
        if (whole && d.nvalid)   /* wider than 16 ways: a count per set; else the tags say */
            for (unsigned i = 0; i < sets; i++)
                nv += d.nvalid[i];
        else if (whole)
            for (size_t i = 0; i < (size_t)sets * ways; i++)
                nv += d.tag[i] != 0;
        for (size_t i = 0; whole && i < (size_t)sets * ways; i++)
            nr += e[i].valid != 0;
        for (size_t i = lo; i < hi && !bad; i++)
            if (d.tag[i] != (e[i].valid ? (e[i].line >> d.set_bits) + 1 : 0)) {
                say("dcache geometry %u op %u: slot %zu holds %#llx, reference %#llx\n", geom, op, i,
                    (unsigned long long)d.tag[i],
                    (unsigned long long)(e[i].valid ? (e[i].line >> d.set_bits) + 1 : 0));
                bad = 1;
            }
        if (!bad && nv != nr) {
            say("dcache geometry %u op %u: %u valid lines, reference %u\n", geom, op, nv, nr);
            bad = 1;
        }
    }
    dcache_destroy(&d);
    free(e);
    return bad;
}

/* ===================================================================== */
/* Drivers                                                                */
/* ===================================================================== */

typedef int (*diff_fn)(rng_t *g, unsigned nops, unsigned geom);

/* Operations per geometry: fewer in the unoptimised sanitizer build (it
 * checks memory safety, which every geometry exercises), so make test
 * stays quick there. */
#if defined(__SANITIZE_ADDRESS__)
#define OPS 400
#else
#define OPS 2000
#endif

/* ngeom geometries of nops operations each; the number that differed. */
static unsigned run_diff(diff_fn f, uint64_t seed, unsigned ngeom, unsigned nops)
{
    rng_t g;
    rng_seed(&g, seed, 1);
    unsigned bad = 0;
    for (unsigned i = 0; i < ngeom; i++)
        bad += (unsigned)f(&g, nops, i);
    return bad;
}

/* Run f under the AVX2 scans (if the host has them) and the scalar ones:
 * hw_simd is read at every call, so switching it between runs is enough. */
static void both_scans(diff_fn f, uint64_t seed, unsigned ngeom, unsigned nops)
{
    int saved = hw_simd;
    if (hw_simd_host()) {
        hw_simd = 1;
        assert_int_equal(run_diff(f, seed, ngeom, nops), 0);
    } else {
        print_message("no AVX2 on this host: scalar scans only\n");
    }
    hw_simd = 0;
    assert_int_equal(run_diff(f, seed, ngeom, nops), 0);
    hw_simd = saved;
}

static void test_tlb_matches_reference(void **state)
{
    (void)state;
    memset(&seen, 0, sizeof seen);
    both_scans(tlb_diff_one, 10, 300, OPS);
    print_message("lookups: L1 hits 4K %lu 2M %lu 1G %lu, STLB hits 4K %lu 2M %lu, misses %lu; global hits under"
                  " another PCID %lu; evictions %lu; dropped by INVLPG %lu, by INVPCID %lu\n",
                  seen.hit_l1[0], seen.hit_l1[1], seen.hit_l1[2], seen.hit_stlb[0], seen.hit_stlb[1], seen.miss,
                  seen.global_other_pcid, seen.full_sets, seen.dropped_page, seen.dropped_pcid);
    /* the cases the review found untested did occur */
    unsigned long least = OPS / 2;
    assert_true(seen.hit_l1[PG_1G] > least && seen.hit_stlb[PG_2M] > least && seen.global_other_pcid > least);
    assert_true(seen.full_sets > least && seen.dropped_page > least && seen.dropped_pcid > least);
}

static void test_pwc_matches_reference(void **state)
{
    (void)state;
    both_scans(pwc_diff_one, 11, 150, OPS);
}

static void test_dcache_matches_reference(void **state)
{
    (void)state;
    both_scans(dcache_diff_one, 12, 150, OPS);
}

/* Take entry i out of its index chain (bucket b). */
static void wide_unchain(struct tlb_array *a, uint32_t b, size_t i)
{
    uint32_t *pp = &a->hidx[b];
    while (*pp != i + 1) {
        assert_true(*pp);
        pp = &a->hnext[*pp - 1];
    }
    *pp = a->hnext[i];
}

/* Put entry i at the head of bucket b's chain. */
static void wide_chain(struct tlb_array *a, uint32_t b, size_t i)
{
    a->hnext[i] = a->hidx[b];
    a->hidx[b] = (uint32_t)(i + 1);
}

/* tlb_wide_check() catches each way the state of a wide set can break:
 * an entry missing from the index or from its set's list, a wrong count,
 * a wrong empty bit, a broken link, an index chain that loops, an entry
 * chained in another bucket, an entry in another page's set. Each breaks
 * one rule alone (with that rule switched off the check passes, or for the
 * loop never returns: the alarm turns that into a failure), so each
 * asserts its rule's message. */
static void test_wide_check_catches(void **state)
{
    (void)state;
    static const char *const want[] = {
        NULL,
        "the index misses a valid entry",
        "a recency list misses a valid entry",
        "a set's count of valid ways is wrong",
        "a way's empty bit disagrees with its tag",
        "a recency list holds an invalid or foreign entry, or its links disagree",
        "an index chain leaves the array or loops",
        "an index chain holds an invalid entry or one of another bucket",
        "an entry sits in another page's set",
    };
    const struct tlb_config c = { .l1_4k_entries = 128, .l1_4k_ways = 64 };
    for (unsigned broken = 0; broken < sizeof want / sizeof want[0]; broken++) {
        struct tlb t;
        assert_int_equal(tlb_init(&t, &c), 0);
        struct tlb_array *a = &t.l1[PG_4K];
        for (uint64_t p = 0; p < 100; p++) {
            struct tlb_xlate x = { .frame = 1000 + p, .flags = TLB_W, .size = PG_4K };
            tlb_insert(&t, p << 12, 1, &x);
        }
        const char *why = NULL;
        assert_int_equal(tlb_wide_check(a, &why), 0);
        size_t i = (size_t)a->lnext[a->lnext[128]];   /* the second most recent entry of set 0 */
        size_t j = (size_t)a->lnext[a->lnext[129]];   /* and of set 1 */
        assert_true(i < 64 && a->tag[i]);
        assert_true(j >= 64 && j < 128 && a->tag[j]);
        uint32_t bi = tlb_wide_bucket(a, a->tag[i]), bj = tlb_wide_bucket(a, a->tag[j]);
        uint64_t tag;
        switch (broken) {
        case 0:
            break;                                      /* intact: passes */
        case 1:
            a->hidx[bi] = 0;                            /* a chain lost */
            break;
        case 2:
            tlb_wide_unlink(a, i);                      /* off its list */
            break;
        case 3:
            a->nvalid[0]--;
            break;
        case 4:
            a->empty[0] |= 1ull << i;                  /* marked empty while valid */
            break;
        case 5:
            a->lprev[a->lnext[i]] = (uint32_t)i + 1;   /* a link that disagrees */
            break;
        case 6:
            a->hnext[i] = (uint32_t)i + 1;             /* i's chain loops back to i */
            break;
        case 7:
            wide_unchain(a, bi, i);                    /* i chained in the next bucket */
            wide_chain(a, (bi + 1) & a->hmask, i);
            break;
        case 8:                                         /* i and j swap pages (and sets), */
            wide_unchain(a, bi, i);                    /* each indexed under its new page */
            wide_unchain(a, bj, j);
            tag = a->tag[i];
            a->tag[i] = a->tag[j];
            a->tag[j] = tag;
            wide_chain(a, bj, i);
            wide_chain(a, bi, j);
            break;
        }
        alarm(10);                                      /* a chain walk that never ends fails */
        int r = tlb_wide_check(a, &why);
        alarm(0);
        if (broken)
            print_message("corruption %u caught: %s\n", broken, r ? why : "(not caught)");
        assert_int_equal(r != 0, broken != 0);
        if (broken && strcmp(why, want[broken]))
            fail_msg("corruption %u: expected \"%s\", got \"%s\"", broken, want[broken], why);
        tlb_destroy(&t);
    }
}

/* tlb_occ_check() catches each way the list of occupied sets can break,
 * narrow (valid bits) and wide (tags) alike; and with a set off the list,
 * a whole flush finds fewer entries than the array counts and asserts. */
static void test_occ_check_catches(void **state)
{
    (void)state;
    static const char *const want[] = {
        NULL,
        "a set holding an entry is not listed as occupied: a flush would miss it",
        "the occupied sets marked and those listed differ in number",
        "a listed set is not marked as occupied (or is past the array)",
        "more sets listed as occupied than the array has",
        "a set is listed twice",
    };
    const struct tlb_config cfgs[2] = { { .l1_4k_entries = 64, .l1_4k_ways = 4 },
                                        { .l1_4k_entries = 256, .l1_4k_ways = 32 } };   /* 16 and 8 sets */
    for (unsigned c = 0; c < 2; c++)
        for (unsigned broken = 0; broken < sizeof want / sizeof want[0]; broken++) {
            struct tlb t;
            assert_int_equal(tlb_init(&t, &cfgs[c]), 0);
            struct tlb_array *a = &t.l1[PG_4K];
            for (uint64_t p = 0; p < 6; p++) {   /* sets 0..5 (pages 0..5: one a set) */
                struct tlb_xlate x = { .frame = 1000 + p, .flags = TLB_W, .size = PG_4K };
                tlb_insert(&t, p << 12, 1, &x);
            }
            const char *why = NULL;
            assert_int_equal(tlb_occ_check(a, &why), 0);
            assert_int_equal(a->nocc, 6);
            switch (broken) {
            case 0:
                break;
            case 1:                              /* set 3 off the list, as if never marked */
                for (uint32_t o = 0; o < a->nocc; o++)
                    if (a->occ[o] == 3)
                        a->occ[o] = a->occ[--a->nocc];
                a->inocc[3] = 0;
                break;
            case 2:
                a->inocc[a->sets - 1] = 1;          /* marked, not listed */
                break;
            case 3:
                a->occ[0] = a->sets;                /* a listed set past the array */
                break;
            case 4:
                a->nocc = a->sets + 1;
                break;
            case 5:                              /* set 3 twice, set 5 (holding one) marked, not listed */
                for (uint32_t o = 0; o < a->nocc; o++)
                    if (a->occ[o] == 5)
                        a->occ[o] = 3;
                break;
            }
            int r = tlb_occ_check(a, &why);
            assert_int_equal(r != 0, broken != 0);
            if (broken && strcmp(why, want[broken]))
                fail_msg("geometry %u corruption %u: expected \"%s\", got \"%s\"", c, broken, want[broken], why);
            if (broken == 1) {   /* the flush would leave set 3's entry behind: it says so */
                pid_t pid = fork();
                assert_true(pid >= 0);
                if (!pid) {
                    if (!freopen("/dev/null", "w", stderr))
                        _exit(3);
                    tlb_flush_all(&t);
                    _exit(0);
                }
                int st;
                assert_int_equal(waitpid(pid, &st, 0), pid);
                if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGABRT)
                    fail_msg("geometry %u: a flush with set 3 unlisted did not abort (status %#x)", c, st);
                a->occ[a->nocc++] = 3;
                a->inocc[3] = 1;
            }
            if (broken >= 2) {   /* (set 5's entry listed again: the flush at destroy finds it) */
                a->nocc = 6;
                a->inocc[a->sets - 1] = 0;
                a->occ[0] = 0;
                for (uint32_t o = 1; o < 6; o++)
                    a->occ[o] = o;
                for (uint32_t s2 = 0; s2 < 6; s2++)
                    a->inocc[s2] = 1;
            }
            tlb_destroy(&t);
        }
}

/* The comparison bites: against a FIFO reference, every driver reports
 * differences (on most geometries; some, 1-way or never full, cannot tell
 * FIFO from LRU). */
static void test_wrong_reference_is_caught(void **state)
{
    (void)state;
    ref_fifo = 1;
    verbose = 0;
    unsigned t = run_diff(tlb_diff_one, 10, 60, OPS);
    unsigned p = run_diff(pwc_diff_one, 11, 60, OPS);
    unsigned d = run_diff(dcache_diff_one, 12, 60, OPS);
    ref_fifo = 0;
    verbose = 1;
    print_message("FIFO reference: %u/60 TLB, %u/60 pwc, %u/60 dcache geometries differ\n", t, p, d);
    assert_true(t > 6);
    assert_true(p > 6);
    assert_true(d > 6);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tlb_matches_reference),
        cmocka_unit_test(test_pwc_matches_reference),
        cmocka_unit_test(test_dcache_matches_reference),
        cmocka_unit_test(test_wrong_reference_is_caught),
        cmocka_unit_test(test_wide_check_catches),
        cmocka_unit_test(test_occ_check_catches),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

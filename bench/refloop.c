/* refloop.c: the benchmark's reference loops (see refloop.h). */
#include "refloop.h"
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define L1_SETS 16
#define L1_WAYS 4
#define L2_SETS 128
#define L2_WAYS 12

struct tlbset_l1 { uint64_t tag[L1_WAYS], frame[L1_WAYS], used[L1_WAYS]; };
struct tlbset_l2 { uint64_t tag[L2_WAYS], frame[L2_WAYS], used[L2_WAYS]; };

/* REFLOOP_WALK_CACHES: a paging-structure cache of one level (tag: the
 * virtual address above the level's span, plus 1; 0 is empty) and the
 * data cache of the walk's loads. */
#define PWC_MAX 32
struct pwcache { uint64_t tag[PWC_MAX], table[PWC_MAX], used[PWC_MAX]; unsigned n; };
#define ARENA_TABLES 65536   /* 256 MiB reserved: the tables of a 32 GiB working set */
#define DC_SETS 256   /* 256 KiB / 64-byte lines / 16 ways */
#define DC_WAYS 16
struct dcset { uint64_t tag[DC_WAYS], used[DC_WAYS]; };
/* REFLOOP_2D: the nested TLB (guest frame + 1 -> host value), 32 entries. */
#define NTLB_SETS 8
#define NTLB_WAYS 4
struct ntlbset { uint64_t tag[NTLB_WAYS], host[NTLB_WAYS], used[NTLB_WAYS]; };

struct refloop {
    struct tlbset_l1 l1[L1_SETS];
    struct tlbset_l2 l2[L2_SETS];
    uint64_t clock;          /* the LRU stamp */
    uint64_t *root;          /* 512 entries: a pointer to the next table, or a frame + 1 */
    uint64_t next_frame;
    struct refloop_counts n;
    enum refloop_kind kind;
    struct pwcache pwc[5];   /* [4] PML4E, [3] PDPTE, [2] PDE */
    struct dcset dc[DC_SETS];
    /* REFLOOP_2D: the EPT and its walk caches, the nested TLB, and the
     * guest frames (the guest's root is frame 0) */
    uint64_t *ept_root, next_gfn, root_gfn;
    /* not REFLOOP_PLAIN: every table, page-aligned in one reserved range,
     * so that a load's data-cache line is its offset there (as memvirt's
     * is a machine address): the same lines, sets and counts every run */
    char *arena;
    size_t ntables;
    struct pwcache epwc[5];
    struct ntlbset ntlb[NTLB_SETS];
};

static uint64_t *new_table(struct refloop *r);
static uint64_t new_gfn(struct refloop *r, uint64_t host);

struct refloop *refloop_new(enum refloop_kind kind)
{
    struct refloop *r = calloc(1, sizeof *r);
    if (!r)
        abort();
    r->kind = kind;
    if (kind == REFLOOP_PLAIN) {
        if (!(r->root = calloc(512, sizeof *r->root)))
            abort();
    } else {
        r->arena = mmap(NULL, ARENA_TABLES * 4096, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (r->arena == MAP_FAILED)
            abort();
        r->root = new_table(r);
    }
    r->pwc[4].n = r->epwc[4].n = 2;
    r->pwc[3].n = r->epwc[3].n = 4;
    r->pwc[2].n = r->epwc[2].n = 32;
    if (kind == REFLOOP_2D) {
        r->ept_root = new_table(r);
        r->root_gfn = new_gfn(r, (uint64_t)(uintptr_t)r->root);
    }
    return r;
}

static void free_table(uint64_t *t, int lvl)
{
    if (lvl > 1)
        for (int i = 0; i < 512; i++)
            if (t[i])
                free_table((uint64_t *)(uintptr_t)t[i], lvl - 1);
    free(t);
}

void refloop_free(struct refloop *r)
{
    if (r->kind == REFLOOP_PLAIN)
        free_table(r->root, 4);
    else
        munmap(r->arena, ARENA_TABLES * 4096);
    free(r);
}

/* The 4-level walk: one load per level; a missing table or page is made. */
static uint64_t walk(struct refloop *r, uint64_t vpn)
{
    uint64_t *t = r->root;
    for (int lvl = 4; lvl > 1; lvl--) {
        uint64_t *e = &t[(vpn >> (9 * (lvl - 1))) & 511];
        if (!*e) {
            uint64_t *nt = calloc(512, sizeof *nt);
            if (!nt)
                abort();
            *e = (uint64_t)(uintptr_t)nt;
        }
        t = (uint64_t *)(uintptr_t)*e;
    }
    uint64_t *e = &t[vpn & 511];
    if (!*e)
        *e = ++r->next_frame;
    return *e - 1;
}

/* Victim: an invalid way, else the least recently used. */
#define VICTIM(set, ways)                                   \
    ({                                                      \
        unsigned v_ = 0;                                    \
        for (unsigned w_ = 0; w_ < (ways); w_++) {          \
            if (!(set)->tag[w_]) { v_ = w_; break; }        \
            if ((set)->used[w_] < (set)->used[v_]) v_ = w_; \
        }                                                   \
        v_;                                                 \
    })

/* ---- REFLOOP_WALK_CACHES --------------------------------------------------- */

/* The walk's load of entry e through the data cache: 1 on a miss. */
static int dc_load(struct refloop *r, const uint64_t *e)
{
    uint64_t line = (uint64_t)((const char *)e - r->arena) >> 6, tag = line + 1;
    struct dcset *s = &r->dc[(line ^ (line >> 13)) % DC_SETS];
    for (unsigned w = 0; w < DC_WAYS; w++)
        if (s->tag[w] == tag) {
            s->used[w] = ++r->clock;
            return 0;
        }
    unsigned v = VICTIM(s, DC_WAYS);
    s->tag[v] = tag;
    s->used[v] = ++r->clock;
    return 1;
}

static uint64_t *pwc_find(struct pwcache *pwc, uint64_t *clock, unsigned lvl, uint64_t key)
{
    struct pwcache *c = &pwc[lvl];
    uint64_t tag = (key >> (9 * (lvl - 1))) + 1;
    for (unsigned w = 0; w < c->n; w++)
        if (c->tag[w] == tag) {
            c->used[w] = ++*clock;
            return (uint64_t *)(uintptr_t)c->table[w];
        }
    return NULL;
}

static void pwc_fill(struct pwcache *pwc, uint64_t *clock, unsigned lvl, uint64_t key, uint64_t *table)
{
    struct pwcache *c = &pwc[lvl];
    unsigned v = VICTIM(c, c->n);
    c->tag[v] = (key >> (9 * (lvl - 1))) + 1;
    c->table[v] = (uint64_t)(uintptr_t)table;
    c->used[v] = ++*clock;
}

#define ACCESSED 1ull   /* walked entries: a host pointer or (gfn or frame + 1) << 1, and this bit */

/* The three radix trees a walk can go down: the guest's tables of 1D (a
 * table points to the next by host address), the guest's tables of 2D (by
 * guest frame, through the EPT) and the EPT (by host address; its leaf
 * holds a host value: a guest table's address, or a data frame + 1). */
enum dim { DIM_1D, DIM_GUEST, DIM_EPT };

static uint64_t ept_xlate(struct refloop *r, uint64_t gfn);

/* A table of the walks with caches: the next page of the arena (zero, as
 * the kernel maps it). */
static uint64_t *new_table(struct refloop *r)
{
    if (r->ntables == ARENA_TABLES)
        abort();
    return (uint64_t *)(void *)(r->arena + 4096 * r->ntables++);
}

/* The walk of key (a virtual page, or a guest frame for the EPT) from the
 * deepest level its walk caches hold, each load through the data cache,
 * setting accessed bits (not in the EPT: memvirt does not model EPT A/D)
 * and filling the walk caches it missed; a missing table or page is made.
 * The leaf: a frame (1D), a host frame (2D guest), the host value (EPT). */
static inline __attribute__((always_inline)) uint64_t walk_cached(struct refloop *r, uint64_t key, const enum dim d)
{
    struct pwcache *pwc = d == DIM_EPT ? r->epwc : r->pwc;
    unsigned lvl;
    uint64_t *t;
    if ((t = pwc_find(pwc, &r->clock, 2, key)))
        lvl = 1;
    else if ((t = pwc_find(pwc, &r->clock, 3, key)))
        lvl = 2;
    else if ((t = pwc_find(pwc, &r->clock, 4, key)))
        lvl = 3;
    else
        lvl = 4, t = d == DIM_1D ? r->root : d == DIM_EPT ? r->ept_root : (uint64_t *)ept_xlate(r, r->root_gfn);
    for (; lvl > 1; lvl--) {
        uint64_t *e = &t[(key >> (9 * (lvl - 1))) & 511];
        r->n.walk_refs++;
        r->n.walk_cache_misses += dc_load(r, e);
        if (!*e) {
            t = new_table(r);
            *e = d == DIM_GUEST ? (new_gfn(r, (uint64_t)(uintptr_t)t) + 1) << 1 : (uint64_t)(uintptr_t)t;
        }
        if (d != DIM_EPT && !(*e & ACCESSED))
            *e |= ACCESSED;
        t = d == DIM_GUEST ? (uint64_t *)ept_xlate(r, (*e >> 1) - 1) : (uint64_t *)(uintptr_t)(*e & ~ACCESSED);
        pwc_fill(pwc, &r->clock, lvl, key, t);
    }
    uint64_t *e = &t[key & 511];
    r->n.walk_refs++;
    r->n.walk_cache_misses += dc_load(r, e);
    if (d == DIM_EPT)
        return *e;   /* mapped by new_gfn before any walk */
    if (!*e)
        *e = (d == DIM_GUEST ? new_gfn(r, (++r->next_frame + 1) << 1) + 1 : ++r->next_frame) << 1;
    if (!(*e & ACCESSED))
        *e |= ACCESSED;
    return d == DIM_GUEST ? (ept_xlate(r, (*e >> 1) - 1) >> 1) - 1 : (*e >> 1) - 1;
}

/* A new guest frame, mapped by the EPT to host (as a fault would: not
 * through the walk caches, not counted). */
static uint64_t new_gfn(struct refloop *r, uint64_t host)
{
    uint64_t gfn = r->next_gfn++, *t = r->ept_root;
    for (int lvl = 4; lvl > 1; lvl--) {
        uint64_t *e = &t[(gfn >> (9 * (lvl - 1))) & 511];
        if (!*e)
            *e = (uint64_t)(uintptr_t)new_table(r);
        t = (uint64_t *)(uintptr_t)*e;
    }
    t[gfn & 511] = host;
    return gfn;
}

/* A guest frame's host value through the nested TLB (4-way, LRU), else an
 * EPT walk. */
static uint64_t ept_xlate(struct refloop *r, uint64_t gfn)
{
    struct ntlbset *s = &r->ntlb[gfn % NTLB_SETS];
    for (unsigned w = 0; w < NTLB_WAYS; w++)
        if (s->tag[w] == gfn + 1) {
            s->used[w] = ++r->clock;
            return s->host[w];
        }
    uint64_t host = walk_cached(r, gfn, DIM_EPT);
    unsigned v = VICTIM(s, NTLB_WAYS);
    s->tag[v] = gfn + 1;
    s->host[v] = host;
    s->used[v] = ++r->clock;
    return host;
}

/* ---- the loop ---------------------------------------------------------------- */

static inline __attribute__((always_inline)) void batch(struct refloop *r, const uint64_t *ref, uint32_t n,
                                                        const enum refloop_kind kind)
{
    for (uint32_t i = 0; i < n; i++) {
        uint64_t vpn = (ref[i] & ((1ull << 48) - 1)) >> 12, tag = vpn + 1;
        struct tlbset_l1 *s1 = &r->l1[vpn % L1_SETS];
        unsigned w;
        for (w = 0; w < L1_WAYS; w++)
            if (s1->tag[w] == tag)
                break;
        if (w < L1_WAYS) {
            s1->used[w] = ++r->clock;
            r->n.l1_hits++;
            continue;
        }
        struct tlbset_l2 *s2 = &r->l2[vpn % L2_SETS];
        uint64_t frame;
        for (w = 0; w < L2_WAYS; w++)
            if (s2->tag[w] == tag)
                break;
        if (w < L2_WAYS) {
            s2->used[w] = ++r->clock;
            frame = s2->frame[w];
            r->n.l2_hits++;
        } else {
            frame = kind == REFLOOP_PLAIN ? walk(r, vpn)
                    : walk_cached(r, vpn, kind == REFLOOP_2D ? DIM_GUEST : DIM_1D);
            r->n.walks++;
            w = VICTIM(s2, L2_WAYS);
            s2->tag[w] = tag;
            s2->frame[w] = frame;
            s2->used[w] = ++r->clock;
        }
        w = VICTIM(s1, L1_WAYS);
        s1->tag[w] = tag;
        s1->frame[w] = frame;
        s1->used[w] = ++r->clock;
    }
    r->n.refs += n;
}

static __attribute__((noinline)) void batch_plain(struct refloop *r, const uint64_t *ref, uint32_t n)
{
    batch(r, ref, n, REFLOOP_PLAIN);
}

static __attribute__((noinline)) void batch_walk_caches(struct refloop *r, const uint64_t *ref, uint32_t n)
{
    batch(r, ref, n, REFLOOP_WALK_CACHES);
}

static __attribute__((noinline)) void batch_2d(struct refloop *r, const uint64_t *ref, uint32_t n)
{
    batch(r, ref, n, REFLOOP_2D);
}

void refloop_batch(struct refloop *r, const uint64_t *ref, uint32_t n)
{
    if (r->kind == REFLOOP_PLAIN)
        batch_plain(r, ref, n);
    else if (r->kind == REFLOOP_WALK_CACHES)
        batch_walk_caches(r, ref, n);
    else
        batch_2d(r, ref, n);
}

struct refloop_counts refloop_counts(const struct refloop *r) { return r->n; }

/* prefetch.c: the host prefetch hint (cpu_prefetch, cpu.h), a speed aid of
 * the simulator's own with no hardware counterpart.
 *
 * A TLB miss over a large working set reads page-table entries that are in
 * no host cache: the simulator stalls where the simulated MMU would. A few
 * references ahead of the one being simulated, the engine names the page
 * it will reference; the peek here finds, read-only, the host words the
 * walk will read and prefetches them, so that they have arrived when the
 * walk comes. Nothing simulated is read through the caches the model keeps
 * (TLBs, walk caches, data cache), nothing is counted, nothing is written.
 *
 *  - 1D (native, PV and shadow paging: the walk of hw_root): the leaf
 *    entry. Its table is found from the level-2 table of the page's 1 GiB
 *    region, remembered between peeks (struct pf_memo), and the host words
 *    of each leaf table under it are kept beside the memo (struct
 *    pf_leaves): pmem's frame index for a leaf table's frame is itself a
 *    load that misses the host caches over a large working set, and the
 *    peek stalled on it. The word of that index the walk will read for
 *    the table is prefetched with the entry, as the walk stalled on it
 *    once the peek no longer read it.
 *  - 2D (nested paging: the guest's tables through the EPT): the guest's
 *    leaf entry, then, PF_PENDING references later, when that entry has
 *    arrived and can be read without a stall, the EPT entry of the frame it
 *    maps, each with its table's index word. The upper levels are found as
 *    in 1D, in both dimensions; the kept words of the guest's leaf tables
 *    also spare the EPT translation of a leaf table's frame at every peek,
 *    and the EPT's leaf tables are kept as well.
 * The peek stops where the walk does not go on to a table: at a large page,
 * and at an L4 entry with bit 7 set, which the walk refuses (a reserved
 * bit: walk_tmpl.h).
 */
#include "hw/cpu.h"
#include "hw/ept.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The threshold, chosen once at start. */
static uint64_t prefetch_backed;

uint64_t cpu_prefetch_choose(const char *env, uint64_t l2_frames, char *warning, size_t n)
{
    if (n)
        warning[0] = '\0';
    if (!env || !*env || !strcmp(env, "auto"))
        return l2_frames;
    if (!strcmp(env, "on"))
        return 0;
    if (!strcmp(env, "off"))
        return UINT64_MAX;
    snprintf(warning, n, "MEMVIRT_PREFETCH='%s' is not 'auto', 'on' or 'off': ignored, using auto", env);
    return l2_frames;
}

__attribute__((constructor)) static void prefetch_select(void)
{
    long l2 = sysconf(_SC_LEVEL2_CACHE_SIZE);
    char warning[200];
    prefetch_backed = cpu_prefetch_choose(getenv("MEMVIRT_PREFETCH"),
                                          l2 > 0 ? (uint64_t)l2 / PAGE_SIZE : 256,   /* unknown: 1 MiB */
                                          warning, sizeof warning);
    if (warning[0])
        mv_warn("%s", warning);
}

uint64_t cpu_prefetch_threshold(void) { return prefetch_backed; }

void cpu_prefetch_walk(struct cpu *c, enum cpu_walk w)
{
    c->pf.walk = w;
    c->pf.vpn = UINT64_MAX;
    cpu_prefetch_forget(c->pf.g);
    cpu_prefetch_forget(c->pf.e);
    memset(c->pf.pending, 0, sizeof c->pf.pending);
}

/* The host words of a backed table frame, or NULL (any frame number,
 * UINT64_MAX too: pmem's frame index is bounds-checked, as pmem_read's),
 * and where that index keeps the frame's slot (*slot), which the walk
 * reads before the words. */
static const uint64_t *words_at(const struct pmem *m, uint64_t frame, const uint64_t **slot)
{
    const uint64_t *r = sparse_ref_u64(&m->frames, frame);
    uint64_t s = r ? *r : 0;
    *slot = r;
    return s && !(s & 1) ? (const uint64_t *)(uintptr_t)s : NULL;
}

static const uint64_t *words(const struct pmem *m, uint64_t frame)
{
    const uint64_t *slot;
    return words_at(m, frame, &slot);
}

static uint64_t ept_frame(struct cpu *c, uint64_t gfn);

/* The EPT's own tables name machine frames, as a 1D walk's do. */
#define EPT_TABLES CPU_WALK_1D

/* A table frame of the walked space as the walk reads it: a machine frame
 * (1D), or a guest frame translated through the EPT (2D). */
static inline uint64_t table_frame(struct cpu *c, uint64_t f, const enum cpu_walk walk)
{
    return walk == CPU_WALK_2D ? ept_frame(c, f) : f;
}

/* Leaf table i under a memo's level-2 table, named there by entry e (of
 * the guest's tables, walk, or the EPT's, EPT_TABLES): its words as kept
 * in l, else found in pmem (in 2D through the EPT) and kept; *frame_slot
 * where pmem indexes the table's machine frame. NULL if the frame holds
 * nothing. */
static inline __attribute__((always_inline)) const uint64_t *kept_leaf(struct cpu *c, struct pf_leaves *l,
                                                                       unsigned i, pte_t e,
                                                                       const enum cpu_walk walk,
                                                                       const uint64_t **frame_slot)
{
    if (l->pde[i] != e) {   /* (a present entry is not 0) */
        const uint64_t *slot, *t = words_at(c->mem, table_frame(c, pte_frame(e), walk), &slot);
        if (!t)
            return NULL;   /* what was kept stays, whole */
        l->pde[i] = e;
        l->words[i] = t;
        l->slot[i] = slot;
    }
    *frame_slot = l->slot[i];
    return l->words[i];
}

/* The EPT entry that maps gfn: in its leaf table (4K; *frame_slot where
 * pmem indexes that table's frame), or in the level-2 table (a 2M page;
 * *frame_slot NULL); NULL if the EPT has none the peek can find. */
static inline __attribute__((always_inline)) const uint64_t *ept_entry(struct cpu *c, uint64_t gfn,
                                                                       const uint64_t **frame_slot)
{
    const struct pmem *m = c->mem;
    uint64_t gpa = gfn << PAGE_SHIFT, t = c->nested.eptp;
    if (gfn >> (EPT_GPA_BITS - PAGE_SHIFT))
        return NULL;
    const unsigned slot = (gpa >> 30) % PF_MEMOS;
    struct pf_memo *mo = &c->pf.e[slot];
    if (gpa >> 30 != mo->key || t != mo->root) {
        for (unsigned lvl = 4; lvl > 2; lvl--) {
            pte_t e = pmem_read(m, t, pt_index(gpa, lvl));
            if (!ept_present(e) || (e & EPT_PS))   /* a 1 GiB leaf, or reserved in an L4: the walk stops */
                return NULL;
            t = pte_frame(e);
        }
        const uint64_t *pd = words(m, t);
        if (!pd)                 /* an empty table: the memo keeps what it had */
            return NULL;
        *mo = (struct pf_memo){ .pd = pd, .key = gpa >> 30, .root = c->nested.eptp };
        memset(c->pf.el[slot].pde, 0, sizeof c->pf.el[slot].pde);
    }
    const unsigned i = pt_index(gpa, 2);
    const uint64_t *e2 = &mo->pd[i];
    pte_t e = *e2;
    *frame_slot = NULL;
    if (!ept_present(e))
        return NULL;
    if (ept_leaf(e, 2))
        return e2;
    const uint64_t *leaf = kept_leaf(c, &c->pf.el[slot], i, e, EPT_TABLES, frame_slot);
    return leaf ? leaf + pt_index(gpa, 1) : NULL;
}

/* The machine frame the EPT maps gfn to, or UINT64_MAX. */
static uint64_t ept_frame(struct cpu *c, uint64_t gfn)
{
    const uint64_t *frame_slot;
    const uint64_t *p = ept_entry(c, gfn, &frame_slot);
    if (!p || !ept_present(*p))
        return UINT64_MAX;
    return pte_frame(*p) + ((*p & EPT_PS) ? gfn & (PTRS_PER_TABLE - 1) : 0);
}

/* The host address of va's leaf entry in the tables under root, or NULL;
 * *frame_slot: where pmem keeps the leaf table's slot (set when not NULL
 * is returned). Inlined into each caller, with walk a constant. */
static inline __attribute__((always_inline)) const uint64_t *leaf_entry(struct cpu *c, uint64_t root, uint64_t va,
                                                                        const enum cpu_walk walk,
                                                                        const uint64_t **frame_slot)
{
    const struct pmem *m = c->mem;
    const unsigned slot = (va >> 30) % PF_MEMOS;
    struct pf_memo *mo = &c->pf.g[slot];
    if (va >> 30 != mo->key || root != mo->root) {
        uint64_t t = root;
        for (unsigned lvl = 4; lvl > 2; lvl--) {
            pte_t e = pmem_read(m, table_frame(c, t, walk), pt_index(va, lvl));
            if (!pte_present(e) || (e & _PAGE_PSE))   /* a 1 GiB leaf, or reserved in an L4 (pte_l4_rsvd) */
                return NULL;
            t = pte_frame(e);
        }
        const uint64_t *pd = words(m, table_frame(c, t, walk));
        if (!pd)                 /* an empty table: the memo keeps what it had */
            return NULL;
        *mo = (struct pf_memo){ .pd = pd, .key = va >> 30, .root = root };
        memset(c->pf.gl[slot].pde, 0, sizeof c->pf.gl[slot].pde);
    }
    const unsigned i = pt_index(va, 2);
    pte_t e = mo->pd[i];
    if (!pte_present(e) || pte_leaf(e, 2))
        return NULL;
    const uint64_t *leaf = kept_leaf(c, &c->pf.gl[slot], i, e, walk, frame_slot);
    return leaf ? leaf + pt_index(va, 1) : NULL;
}

/* Two functions, not one with a branch: the 2D peek needs registers the
 * 1D one does not, and a function shared by both saved and restored them
 * at every 1D peek too. */
void cpu_prefetch_1d(struct cpu *c, uint64_t vpn)
{
    c->pf.vpn = vpn;
    const uint64_t *slot;
    const uint64_t *p = leaf_entry(c, c->hw_root, vpn << PAGE_SHIFT, CPU_WALK_1D, &slot);
    if (p) {
        __builtin_prefetch(slot);
        __builtin_prefetch(p);
    }
}

void cpu_prefetch_2d(struct cpu *c, uint64_t vpn)
{
    c->pf.vpn = vpn;
    uint64_t va = vpn << PAGE_SHIFT;
    const uint64_t *slot;
    /* the guest entry prefetched PF_PENDING pages ago has arrived: the EPT
     * entry of the frame it maps is next */
    const uint64_t *g = c->pf.pending[c->pf.next];
    if (g && pte_present(*g)) {
        const uint64_t *p = ept_entry(c, pte_frame(*g), &slot);
        if (p) {
            __builtin_prefetch(slot);   /* NULL for a 2M EPT page: a prefetch of nothing, harmless */
            __builtin_prefetch(p);
        }
    }
    g = leaf_entry(c, c->cr3, va, CPU_WALK_2D, &slot);
    if (g) {
        __builtin_prefetch(slot);
        __builtin_prefetch(g);
    }
    c->pf.pending[c->pf.next] = g;
    c->pf.next = (c->pf.next + 1) % PF_PENDING;
}

void cpu_prefetch_targets(struct cpu *c, uint64_t va, struct cpu_pf_targets *t)
{
    const uint64_t *slot = NULL, *ept_slot = NULL;
    *t = (struct cpu_pf_targets){ 0 };
    if (c->pf.walk != CPU_WALK_2D) {
        t->leaf = leaf_entry(c, c->hw_root, va, CPU_WALK_1D, &slot);
    } else {
        t->leaf = leaf_entry(c, c->cr3, va, CPU_WALK_2D, &slot);
        if (t->leaf && pte_present(*t->leaf))
            t->ept = ept_entry(c, pte_frame(*t->leaf), &ept_slot);
    }
    t->slot = t->leaf ? slot : NULL;
    t->ept_slot = t->ept ? ept_slot : NULL;
}

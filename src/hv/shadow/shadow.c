/* shadow.c: shadow pages: their hash, their frames from the pool, links
 * between them, zapping, write-protection bookkeeping and the root cache
 * (see shadow.h; KVM: kvm_mmu_get_page, kvm_mmu_prepare_zap_page,
 * mmu_page_add_parent_pte; Xen: sh_make_shadow, shadow_prealloc). */
#include "hv/shadow/shadow.h"
#include "hv/hvconfig.h"
#include "lib/err.h"
#include <stdlib.h>
#include <string.h>

static inline uint64_t hslot(const struct shadow *s, uint64_t gfn, unsigned level)
{
    return ((gfn * 4 + level) * 0x9e3779b97f4a7c15ull >> 20) & s->hmask;
}

/* The level a page is hashed under: an fl1 shadow under 0, apart from the
 * L1 shadow of the same frame (a guest may use that frame as a table). */
static inline unsigned hlevel(const struct shadow_page *sp)
{
    return (sp->flags & SP_FL1) ? 0 : sp->level;
}

struct shadow_page *sp_find(const struct shadow *s, uint64_t gfn, unsigned level)
{
    for (struct shadow_page *sp = s->hash[hslot(s, gfn, level)]; sp; sp = sp->hnext)
        if (sp->gfn == gfn && sp->level == level && !(sp->flags & SP_FL1))
            return sp;
    return NULL;
}

static struct shadow_page *sp_find_fl1(const struct shadow *s, uint64_t gfn)
{
    for (struct shadow_page *sp = s->hash[hslot(s, gfn, 0)]; sp; sp = sp->hnext)
        if (sp->gfn == gfn && (sp->flags & SP_FL1))
            return sp;
    return NULL;
}

struct shadow_page *sp_of_smfn(const struct shadow *s, uint64_t smfn)
{
    struct shadow_page *const *p = sparse_peek(&s->by_smfn, smfn);
    return p ? *p : NULL;
}

static struct shadow_gfn *gfn_state(struct shadow *s, uint64_t gfn)
{
    return sparse_get(&s->gfns, gfn);
}

int shadow_protected(const struct shadow *s, uint64_t gfn)
{
    if (!s->protect)
        return 0;
    const struct shadow_gfn *g = sparse_peek(&s->gfns, gfn);
    return g && g->synced;
}

int shadow_unsyncable(const struct shadow *s, uint64_t gfn)
{
    for (unsigned lvl = 2; lvl <= 4; lvl++)
        if (sp_find(s, gfn, lvl))
            return 0;
    return 1;
}

static void hash_grow(struct shadow *s)
{
    uint64_t n = (s->hmask + 1) * 2;
    struct shadow_page **h = mv_calloc(n, sizeof *h);
    struct shadow_page **old = s->hash;
    uint64_t oldn = s->hmask + 1;
    s->hash = h;
    s->hmask = n - 1;
    for (uint64_t i = 0; i < oldn; i++)
        for (struct shadow_page *sp = old[i], *next; sp; sp = next) {
            next = sp->hnext;
            uint64_t j = hslot(s, sp->gfn, hlevel(sp));
            sp->hnext = h[j];
            h[j] = sp;
        }
    free(old);
}

/* ---- entries ---------------------------------------------------------------- */

static int is_leaf(pte_t e, unsigned lvl) { return lvl == 1 || (lvl == 2 && (e & _PAGE_PSE)); }

/* Writable leaves per target frame (2 MiB leaves per extent base), so that
 * write-protecting a frame knows whether some leaf must be downgraded. */
static void count_writable(struct shadow *s, pte_t e, unsigned lvl, int delta)
{
    if (!pte_present(e) || !(e & _PAGE_RW) || !is_leaf(e, lvl))
        return;
    uint64_t gfn = mfn_to_pfn(&s->h->dom, pte_frame(e));
    if (gfn == UINT64_MAX)
        return;
    if (lvl == 2)
        gfn_state(s, gfn & ~511ull)->wr_huge += (uint32_t)delta;
    else
        gfn_state(s, gfn)->wr_maps += (uint32_t)delta;
}

void sp_set(struct shadow *s, struct shadow_page *sp, unsigned idx, pte_t v)
{
    pte_t old = pmem_read(s->h->mem, sp->smfn, idx);
    if (old == v)
        return;
    sp->npresent = sp->npresent + (uint32_t)pte_present(v) - (uint32_t)pte_present(old);
    if (s->protect) {
        count_writable(s, old, sp->level, -1);
        count_writable(s, v, sp->level, +1);
    }
    pmem_write(s->h->mem, sp->smfn, idx, v);
    hv_charge(s->h, s->h->cost->shadow_entry);
}

/* A leaf that maps gfn writable while gfn is being write-protected loses
 * write access (KVM: rmap_write_protect). Rare: only a guest mapping its
 * own page table writable does this, so a scan of all leaves suffices. */
static void write_protect_leaves(struct shadow *s, uint64_t gfn)
{
    struct shadow_gfn *g = gfn_state(s, gfn), *gh = gfn_state(s, gfn & ~511ull);
    if (!g->wr_maps && !gh->wr_huge)
        return;
    for (uint64_t b = 0; b <= s->hmask; b++)
        for (struct shadow_page *sp = s->hash[b]; sp; sp = sp->hnext) {
            if (sp->level > 2)
                continue;
            for (unsigned i = 0; i < PTRS_PER_TABLE; i++) {
                pte_t e = pmem_read(s->h->mem, sp->smfn, i);
                if (!pte_present(e) || !(e & _PAGE_RW) || !is_leaf(e, sp->level))
                    continue;
                uint64_t t = mfn_to_pfn(&s->h->dom, pte_frame(e));
                if (t == gfn || (sp->level == 2 && t == (gfn & ~511ull)))
                    sp_set(s, sp, i, e & ~(pte_t)_PAGE_RW);
            }
        }
    s->need_flush = 1;
}

/* In-sync shadow pages of a frame: with write protection the frame is
 * protected while there is one. */
static void gfn_synced(struct shadow *s, uint64_t gfn, int delta)
{
    struct shadow_gfn *g = gfn_state(s, gfn);
    if (delta > 0) {
        if (g->synced++ == 0 && s->protect)
            write_protect_leaves(s, gfn);
    } else {
        MV_ASSERT(g->synced > 0, "shadow: synced count of gfn %#llx underflows", (unsigned long long)gfn);
        if (--g->synced == 0 && s->protect)
            s->h->st->cnt[CNT_shadow_unprotect]++;
    }
}

/* tsp.oos_limit: gfn leaves its slot (it is in its home slot or the next:
 * shadow_oos_add). */
static void oos_forget(struct shadow *s, uint64_t gfn)
{
    if (!s->oos_n)
        return;
    uint32_t home = (uint32_t)(gfn % s->oos_n), next = (home + 1) % s->oos_n;
    if (s->oos[home] == gfn + 1)
        s->oos[home] = 0;
    else if (s->oos[next] == gfn + 1)
        s->oos[next] = 0;
    else
        MV_ASSERT(0, "out-of-sync shadow of gfn %#llx in no slot", (unsigned long long)gfn);
}

void sp_mark_unsync(struct shadow *s, struct shadow_page *sp, int unsync)
{
    struct shadow_gfn *g = gfn_state(s, sp->gfn);
    if (unsync && !(sp->flags & SP_UNSYNC)) {
        sp->flags |= SP_UNSYNC;
        g->unsync++;
        gfn_synced(s, sp->gfn, -1);
    } else if (!unsync && (sp->flags & SP_UNSYNC)) {
        sp->flags &= (uint8_t)~SP_UNSYNC;
        g->unsync--;
        gfn_synced(s, sp->gfn, +1);
        oos_forget(s, sp->gfn);
    }
}

struct shadow_page *shadow_oos_slot(const struct shadow *s, uint32_t i)
{
    if (!s->oos[i])
        return NULL;
    struct shadow_page *sp = sp_find(s, s->oos[i] - 1, 1);
    MV_ASSERT(sp && (sp->flags & SP_UNSYNC), "oos slot %u names gfn %#llx, not out of sync", i,
              (unsigned long long)(s->oos[i] - 1));
    return sp;
}

/* Xen's oos_hash_add: the new page takes its home slot (gfn % oos_n); an
 * occupant that is at home there is punted to the next slot (with one
 * slot, which Xen's SHADOW_OOS_PAGES never is, the occupant is crushed);
 * whatever holds the slot finally taken is resynced ("crushed":
 * _sh_resync) and so goes back in sync, write-protected. Xen keeps a
 * snapshot of the guest page and fixup lists of writable mappings to
 * resync cheaply; memvirt's resync compares every present shadow entry
 * with the guest's (shadow_sync_page). */
void shadow_oos_add(struct shadow *s, struct shadow_page *sp)
{
    MV_ASSERT(sp->level == 1 && !(sp->flags & (SP_UNSYNC | SP_FL1)), "only an in-sync L1 shadow goes out of sync");
    if (s->oos_n) {
        uint64_t gfn = sp->gfn + 1;   /* as the slots hold it */
        uint32_t idx = (uint32_t)(sp->gfn % s->oos_n);
        if (s->oos_n > 1 && s->oos[idx] && (s->oos[idx] - 1) % s->oos_n == idx) {
            uint64_t home = s->oos[idx];   /* punt the occupant at home to the next slot */
            s->oos[idx] = gfn;
            gfn = home;
            idx = (idx + 1) % s->oos_n;
        }
        struct shadow_page *old = shadow_oos_slot(s, idx);
        if (old) {
            s->h->st->cnt[CNT_shadow_oos_evict]++;
            shadow_sync_page(s, old);           /* leaves its slot: oos_forget */
        }
        s->oos[idx] = gfn;
    }
    sp_mark_unsync(s, sp, 1);
}

/* ---- pages ------------------------------------------------------------------ */

static struct shadow_page *sp_new(struct shadow *s, uint64_t gfn, unsigned level, uint8_t flags)
{
    uint64_t smfn = hv_alloc_frame(s->h);
    MV_ASSERT(smfn != UINT64_MAX, "shadow pool: no frame after prealloc");
    struct shadow_page *sp = mv_calloc(1, sizeof *sp);
    sp->gfn = gfn;
    sp->smfn = smfn;
    sp->level = (uint8_t)level;
    sp->flags = flags;
    sp->sync_gen = s->sync_gen;
    uint64_t j = hslot(s, gfn, hlevel(sp));
    sp->hnext = s->hash[j];
    s->hash[j] = sp;
    *(struct shadow_page **)sparse_get(&s->by_smfn, smfn) = sp;
    if (++s->npages > s->max_pages)
        s->max_pages = s->npages;
    if (s->npages > s->hmask + 1)
        hash_grow(s);
    s->h->st->cnt[CNT_shadow_pages_alloc]++;
    hv_charge(s->h, s->h->cost->shadow_page);
    return sp;
}

struct shadow_page *sp_alloc(struct shadow *s, uint64_t gfn, unsigned level)
{
    struct shadow_page *sp = sp_new(s, gfn, level, 0);
    gfn_synced(s, gfn, +1);
    return sp;
}

struct shadow_page *sp_get_fl1(struct shadow *s, uint64_t gfn)
{
    struct shadow_page *sp = sp_find_fl1(s, gfn);
    return sp ? sp : sp_new(s, gfn, 1, SP_FL1);   /* shadows no guest table: protects nothing */
}

static void parent_add(struct shadow_page *sp, uint64_t smfn, unsigned idx)
{
    if (sp->nparent == sp->capparent) {
        sp->capparent = sp->capparent ? 2 * sp->capparent : 2;
        sp->parent = mv_realloc(sp->parent, sp->capparent * sizeof *sp->parent);
    }
    sp->parent[sp->nparent++] = (struct sp_parent){ smfn, (uint16_t)idx };
}

static void parent_del(struct shadow_page *sp, uint64_t smfn, unsigned idx)
{
    for (uint32_t i = 0; i < sp->nparent; i++)
        if (sp->parent[i].smfn == smfn && sp->parent[i].idx == idx) {
            sp->parent[i] = sp->parent[--sp->nparent];
            return;
        }
    MV_ASSERT(0, "shadow page %#llx has no parent %#llx[%u]", (unsigned long long)sp->smfn,
              (unsigned long long)smfn, idx);
}

/* Clear entry idx of sp; a child shadow left with no parent (and not a
 * cached root) goes too. */
void sp_unlink(struct shadow *s, struct shadow_page *sp, unsigned idx)
{
    pte_t e = pmem_read(s->h->mem, sp->smfn, idx);
    if (!pte_present(e))
        return;
    sp_set(s, sp, idx, 0);
    if (is_leaf(e, sp->level))
        return;
    struct shadow_page *child = sp_of_smfn(s, pte_frame(e));
    MV_ASSERT(child, "shadow entry %#llx[%u] points to no shadow page", (unsigned long long)sp->smfn, idx);
    parent_del(child, sp->smfn, idx);
    if (!child->nparent && !(child->flags & SP_ROOT))
        sp_zap(s, child);
}

/* Link entry idx of sp to child with the permissions of guest entry g. */
void sp_link(struct shadow *s, struct shadow_page *sp, unsigned idx, struct shadow_page *child, pte_t g)
{
    sp_set(s, sp, idx, pte_make(child->smfn, _PAGE_PRESENT | _PAGE_ACCESSED | (g & (_PAGE_RW | _PAGE_USER | _PAGE_NX))));
    parent_add(child, sp->smfn, idx);
}

void sp_zap(struct shadow *s, struct shadow_page *sp)
{
    /* only present entries need unlinking (an unbacked table has none),
     * and the scan stops once the count of them is down to 0 (at the end
     * of that block of eight); sp's frame stays sp's, and backed, until the
     * end of its zap. Eight entries at a time are passed over when none is
     * present (an unlink only ever clears entries, so none of them can
     * become present). */
    const uint64_t *t = pmem_table_peek(s->h->mem, sp->smfn);
    for (unsigned i = 0; t && sp->npresent && i < PTRS_PER_TABLE; i += 8) {
        if (pte_none_present8(&t[i]))
            continue;
        for (unsigned j = i; j < i + 8; j++)
            if (pte_present(t[j]))
                sp_unlink(s, sp, j);
    }
    MV_ASSERT(!sp->npresent, "shadow page %#llx: %u present entries left after its zap",
              (unsigned long long)sp->smfn, sp->npresent);
    while (sp->nparent) {
        struct sp_parent p = sp->parent[--sp->nparent];
        struct shadow_page *parent = sp_of_smfn(s, p.smfn);
        MV_ASSERT(parent, "shadow parent %#llx vanished", (unsigned long long)p.smfn);
        sp_set(s, parent, p.idx, 0);
    }
    if (sp->flags & SP_ROOT)
        s->nroots--;
    if (s->cur_root == sp)
        s->cur_root = NULL;
    if (sp->flags & SP_UNSYNC) {
        gfn_state(s, sp->gfn)->unsync--;
        oos_forget(s, sp->gfn);
    } else if (!(sp->flags & SP_FL1))
        gfn_synced(s, sp->gfn, -1);
    struct shadow_page **pp = &s->hash[hslot(s, sp->gfn, hlevel(sp))];
    while (*pp != sp)
        pp = &(*pp)->hnext;
    *pp = sp->hnext;
    *(struct shadow_page **)sparse_get(&s->by_smfn, sp->smfn) = NULL;
    if (s->fv.pte_smfn == sp->smfn)
        s->fv.pte_smfn = UINT64_MAX;   /* kvm_mmu_reset_last_pte_updated */
    hv_free_frame(s->h, sp->smfn);
    free(sp->parent);
    free(sp);
    s->npages--;
    s->need_flush = 1;
    s->h->st->cnt[CNT_shadow_pages_free]++;
    hv_charge(s->h, s->h->cost->shadow_page);
}

void shadow_unshadow(struct shadow *s, uint64_t gfn)
{
    for (unsigned lvl = 1; lvl <= 4; lvl++) {
        struct shadow_page *sp = sp_find(s, gfn, lvl);
        if (sp && sp != s->cur_root)
            sp_zap(s, sp);
    }
}

/* ---- roots and the pool ------------------------------------------------------ */

static struct shadow_page *lru_root(struct shadow *s, const struct shadow_page *keep)
{
    struct shadow_page *best = NULL;
    for (uint64_t b = 0; b <= s->hmask; b++)
        for (struct shadow_page *sp = s->hash[b]; sp; sp = sp->hnext)
            if ((sp->flags & SP_ROOT) && sp != s->cur_root && sp != keep && (!best || sp->lru < best->lru))
                best = sp;
    return best;
}

static void evict_root(struct shadow *s, struct shadow_page *root)
{
    root->flags &= (uint8_t)~SP_ROOT;
    s->nroots--;
    s->h->st->cnt[CNT_shadow_root_evict]++;
    if (!root->nparent)
        sp_zap(s, root);
}

/* Make room for n more shadow pages (Xen's shadow_prealloc): evict the
 * least recently used roots, and as a last resort every subtree of the
 * current root. */
static void prealloc_keep(struct shadow *s, unsigned n, const struct shadow_page *keep)
{
    while (s->npages + n > s->pool_max || hv_heap_available(s->h) < n) {
        struct shadow_page *victim = lru_root(s, keep);
        if (victim) {
            evict_root(s, victim);
            continue;
        }
        MV_ASSERT(s->cur_root || keep, "shadow pool of %llu pages cannot hold %u more",
                  (unsigned long long)s->pool_max, n);
        struct shadow_page *r = s->cur_root ? s->cur_root : (struct shadow_page *)keep;
        for (unsigned i = 0; i < PTRS_PER_TABLE; i++)
            sp_unlink(s, r, i);
        MV_ASSERT(s->npages + n <= s->pool_max && hv_heap_available(s->h) >= n,
                  "shadow pool of %llu pages cannot hold %u more", (unsigned long long)s->pool_max, n);
    }
}

void shadow_prealloc(struct shadow *s, unsigned n)
{
    prealloc_keep(s, n, NULL);
}

struct shadow_page *shadow_get_root(struct shadow *s, uint64_t gfn)
{
    if (pfn_to_mfn(&s->h->dom, gfn) == UINT64_MAX)
        return NULL;
    struct shadow_page *sp = sp_find(s, gfn, 4);
    if (!sp) {
        prealloc_keep(s, 1, NULL);
        sp = sp_alloc(s, gfn, 4);
    }
    if (!(sp->flags & SP_ROOT)) {
        sp->flags |= SP_ROOT;
        s->nroots++;
    }
    sp->lru = ++s->root_clock;
    while (s->max_roots && s->nroots > s->max_roots) {
        struct shadow_page *victim = lru_root(s, sp);
        if (!victim)
            break;
        evict_root(s, victim);
    }
    return sp;
}

/* root becomes the current root (for guest root gfn), the one it replaces
 * the most recent previous root. */
static void set_cur_root(struct shadow *s, struct cpu *c, struct shadow_page *root, uint64_t gfn)
{
    /* the previous roots: the one left first (if another is loaded), then
     * the others in order, neither it nor the one loaded twice; the oldest
     * falls off */
    uint64_t left = s->cur_root && s->cur_root != root ? s->cur_root->gfn + 1 : 0, keep[SHADOW_PREV_ROOTS];
    unsigned n = 0;
    if (left)
        keep[n++] = left;
    for (unsigned i = 0; i < SHADOW_PREV_ROOTS && n < SHADOW_PREV_ROOTS; i++)
        if (s->prev_root[i] && s->prev_root[i] != left && s->prev_root[i] != gfn + 1)
            keep[n++] = s->prev_root[i];
    for (unsigned i = 0; i < SHADOW_PREV_ROOTS; i++)
        s->prev_root[i] = i < n ? keep[i] : 0;
    s->cur_root = root;
    c->cr3 = gfn;
}

void shadow_load_root(struct shadow *s, struct cpu *c, struct shadow_page *root, uint64_t gfn,
                      uint16_t pcid, int noflush)
{
    set_cur_root(s, c, root, gfn);
    stat_charge(c->st, CYC_ctx_switch, c->cost->cr3_write);
    cpu_hw_load_root(c, root->smfn, pcid, noflush);
}

void shadow_load_root_hv(struct shadow *s, struct cpu *c, struct shadow_page *root)
{
    set_cur_root(s, c, root, c->cr3);
    hv_charge(s->h, s->h->cost->cr3_write);
    cpu_hw_set_root(c, root->smfn, c->pcid);
}

void shadow_do_guest_flush(struct shadow *s, struct cpu *c, enum tlb_flush_kind kind, uint64_t va, uint16_t pcid)
{
    int one_page = kind == FLUSH_INVLPG || kind == FLUSH_INVPCID_ADDR;
    hv_charge(s->h, one_page ? s->h->cost->tlb_invlpg : s->h->cost->tlb_flush);
    cpu_hw_tlb_flush(c, kind, va, pcid);
}

void shadow_flush_hw(struct shadow *s, struct cpu *c)
{
    if (!s->need_flush)
        return;
    s->need_flush = 0;
    c->st->cnt[CNT_hv_tlb_flush]++;
    hv_charge(s->h, s->h->cost->tlb_flush);
    cpu_hw_flush(c, 1);
}

/* ---- life ------------------------------------------------------------------- */

uint64_t shadow_pool_frames(const struct hvconfig *cfg, uint64_t guest_frames)
{
    uint64_t n = guest_frames * cfg->shadow.pool_permille / 1000;
    return n < 64 ? 64 : n;
}

int shadow_init(struct shadow *s, struct hv *h)
{
    memset(s, 0, sizeof *s);
    s->h = h;
    s->fv.gfn = s->fv.pte_smfn = UINT64_MAX;
    s->pool_max = shadow_pool_frames(h->cfg, h->dom.nr_pages);
    s->max_roots = h->cfg->shadow.max_roots;
    s->host_2m = hvconfig_host_2m(h->cfg);
    s->prefetch = (unsigned)h->cfg->shadow.prefetch;
    s->hmask = 255;
    s->hash = mv_calloc(s->hmask + 1, sizeof *s->hash);
    sparse_init(&s->by_smfn, h->nframes, sizeof(struct shadow_page *));
    sparse_init(&s->gfns, h->dom.nr_pages, sizeof(struct shadow_gfn));
    return 0;
}

void shadow_drop_all(struct shadow *s)
{
    s->cur_root = NULL;
    for (uint64_t b = 0; b <= s->hmask; b++)
        while (s->hash[b]) {
            struct shadow_page *sp = s->hash[b];
            if (sp->flags & SP_ROOT) {
                sp->flags &= (uint8_t)~SP_ROOT;
                s->nroots--;
            }
            while (sp->nparent) {              /* detach from parents without recursing */
                struct sp_parent p = sp->parent[--sp->nparent];
                sp_set(s, sp_of_smfn(s, p.smfn), p.idx, 0);
            }
            sp_zap(s, sp);
        }
}

void shadow_destroy(struct shadow *s)
{
    shadow_drop_all(s);
    free(s->hash);
    free(s->oos);
    sparse_free(&s->by_smfn);
    sparse_free(&s->gfns);
}

static double g_pages(const void *ctx) { return (double)((const struct shadow *)ctx)->npages; }
static double g_roots(const void *ctx) { return (double)((const struct shadow *)ctx)->nroots; }

static void shadow_metrics(const void *ctx, struct mv_metrics *out)
{
    const struct shadow *s = ctx;
    mv_metric_put(out, "shadow_max_pages", (double)s->max_pages);
    mv_metric_put(out, "shadow_pool_pages", (double)s->pool_max);
}

void shadow_instruments(struct shadow *s, struct mv_instruments *in)
{
    mv_add_gauge(in, "shadow_pages", g_pages, s);
    mv_add_gauge(in, "shadow_roots", g_roots, s);
    mv_add_metrics(in, shadow_metrics, s);
}

/* ---- what a shadow entry for a guest entry is --------------------------------- */

int shadow_extent_protected(const struct shadow *s, uint64_t gfn)
{
    for (uint64_t i = 0; s->protect && i < 512; i++)
        if (shadow_protected(s, gfn + i))
            return 1;
    return 0;
}

/* A 2 MiB leaf is writable only if no frame of its extent is protected: a
 * caller that must give write access there splinters it (fl1, shadow.h). */
pte_t shadow_entry_of(struct shadow *s, pte_t g, unsigned lvl)
{
    if (pte_large_rsvd(g, lvl))
        return 0;                      /* reserved frame bits: the walk faults */
    uint64_t gfn = pte_frame(g);
    if (lvl == 2)
        gfn &= ~511ull;                /* bit 12 of a 2 MiB entry is PAT */
    uint64_t mfn = pfn_to_mfn(&s->h->dom, gfn);
    if (mfn == UINT64_MAX || (lvl == 2 && pfn_to_mfn(&s->h->dom, gfn + 511) != mfn + 511))
        return 0;
    pte_t e = pte_make(mfn, _PAGE_PRESENT | _PAGE_ACCESSED | (g & (_PAGE_USER | _PAGE_NX | _PAGE_GLOBAL)));
    if (lvl == 2)
        e |= _PAGE_PSE;
    if ((g & _PAGE_RW) && (g & _PAGE_DIRTY) &&
        !(lvl == 2 ? shadow_extent_protected(s, gfn) : shadow_protected(s, gfn)))
        e |= _PAGE_RW | _PAGE_DIRTY;
    return e;
}

pte_t shadow_fl1_entry(struct shadow *s, uint64_t gfn)
{
    uint64_t mfn = pfn_to_mfn(&s->h->dom, gfn);
    if (mfn == UINT64_MAX)
        return 0;
    return pte_make(mfn, _PAGE_PRESENT | _PAGE_ACCESSED | _PAGE_USER |
                             (shadow_protected(s, gfn) ? 0 : _PAGE_RW | _PAGE_DIRTY));
}

/* shadow_sync.c: keeping shadows in step with the guest's tables.
 *
 * shadow_write() is traditional shadow paging's path (KVM:
 * kvm_mmu_pte_write; Xen: sh_validate_guest_entry): a guest store to a
 * write-protected table was trapped; it is performed, and every shadow of
 * that table follows: a leaf is rewritten from the new guest entry (Xen
 * propagates it at once), a pointer to a lower table is relinked to that
 * table's shadow if one exists, else cleared for a fault to refill. A table
 * the write-flooding detector finds written flood_threshold times is
 * unshadowed: with tsp.flood_detector=vcpu KVM's detector before 3.3
 * (consecutive writes to one frame, struct flood_vcpu in shadow.h), with
 * page KVM's since 3.3 (detect_write_flooding: writes to a shadow page
 * since a fault last walked through it). With tsp.unsync an L1 shadow is
 * instead left out of sync at its first trapped write and stops being
 * write-protected until the guest's next flush resyncs it; it never counts
 * (KVM 3.3 on skips last-level pages for that reason).
 *
 * The resync functions are swift shadow paging's (and unsync's) path: at a
 * guest TLB flush the shadow entries in its scope are compared with the
 * guest's entries and fixed: a leaf rewritten or cleared, a pointer to a
 * shadow of a table the guest no longer points to cleared. */
#include "hv/shadow/shadow.h"
#include "lib/err.h"

static int is_leaf(pte_t e, unsigned lvl) { return lvl == 1 || (lvl == 2 && (e & _PAGE_PSE)); }
static int perms_of(pte_t e) { return (int)(e & (_PAGE_RW | _PAGE_USER | _PAGE_NX)); }

static pte_t guest_entry(struct shadow *s, uint64_t gfn, unsigned idx)
{
    hv_charge(s->h, s->h->cost->shadow_entry);
    return pmem_read(s->h->mem, pfn_to_mfn(&s->h->dom, gfn), idx);
}

/* Bring entry idx of sp in line with guest entry g. Returns the child
 * shadow page the entry still points to (non-leaf entries), or NULL. A
 * speculative leaf (one a trapped write propagates, not one an access
 * asked for) is written with Accessed clear, for the MMU to set at its
 * first use, as KVM's mmu_set_spte does for a speculative spte. */
static struct shadow_page *resync_entry_spec(struct shadow *s, struct shadow_page *sp, unsigned idx, pte_t g,
                                             int speculative)
{
    pte_t se = pmem_read(s->h->mem, sp->smfn, idx);
    unsigned lvl = sp->level;
    int g_leaf = pte_present(g) && is_leaf(g, lvl);
    /* PS in an L3 is a 1 GiB page (not shadowed), in an L4 a reserved bit
     * (pte_l4_rsvd): neither is a table to shadow */
    int g_table = pte_present(g) && !g_leaf && !(lvl >= 3 && (g & _PAGE_PSE));
    if (pte_present(se) && !is_leaf(se, lvl)) {
        struct shadow_page *child = sp_of_smfn(s, pte_frame(se));
        if (g_table && child && !(child->flags & SP_FL1) && child->gfn == pte_frame(g) && perms_of(se) == perms_of(g))
            return child;
        /* a splintered guest 2 MiB page the guest still maps the same way */
        if (g_leaf && lvl == 2 && !pte_large_rsvd(g, 2) && child && (child->flags & SP_FL1) &&
            child->gfn == (pte_frame(g) & ~511ull) && perms_of(se) == perms_of(shadow_fl1_link_perms(g)))
            return NULL;
        sp_unlink(s, sp, idx);
        se = 0;
    }
    if (pte_present(se) && !g_leaf) {     /* a shadow leaf the guest replaced (by a table, or nothing) */
        sp_set(s, sp, idx, 0);
        se = 0;
    }
    if (g_leaf) {
        /* a leaf the guest has not used yet (A clear), or a 2 MiB one over
         * 4 KiB host pages (to be splintered), is left to a fault */
        pte_t v = (g & _PAGE_ACCESSED) && (lvl == 1 || s->host_2m) ? shadow_entry_of(s, g, lvl) : 0;
        if (speculative)
            v &= ~_PAGE_ACCESSED;
        sp_set(s, sp, idx, v);
        return NULL;
    }
    if (g_table && !pte_present(se)) {
        struct shadow_page *child = sp_find(s, pte_frame(g), lvl - 1);
        if (child) {
            shadow_sync_page(s, child);
            sp_link(s, sp, idx, child, g);
            return child;
        }
    }
    if (!g_table && pte_present(se))
        sp_set(s, sp, idx, 0);
    return NULL;
}

static struct shadow_page *resync_entry(struct shadow *s, struct shadow_page *sp, unsigned idx, pte_t g)
{
    return resync_entry_spec(s, sp, idx, g, 0);
}

/* ---- tsp: a trapped store ---------------------------------------------------- */

/* last_updated_pte_accessed: has the MMU used the leaf the last counted
 * write propagated since? */
static int flood_last_pte_accessed(const struct shadow *s)
{
    return s->fv.pte_smfn != UINT64_MAX && (pmem_read(s->h->mem, s->fv.pte_smfn, s->fv.pte_idx) & _PAGE_ACCESSED);
}

/* tsp.flood_detector=vcpu: count a trapped write to gfn; 1 if it floods. */
static int flood_vcpu_count(struct shadow *s, uint64_t gfn)
{
    struct flood_vcpu *f = &s->fv;
    if (gfn == f->gfn && !flood_last_pte_accessed(s))
        return ++f->count >= s->flood_threshold;
    f->gfn = gfn;
    f->count = 1;
    f->pte_smfn = UINT64_MAX;
    return f->count >= s->flood_threshold;
}

void shadow_flood_fault_reset(struct shadow *s)
{
    s->fv.count = 0;
}

void shadow_write(struct shadow *s, uint64_t gfn, unsigned idx, uint64_t val)
{
    uint64_t mfn = pfn_to_mfn(&s->h->dom, gfn);
    MV_ASSERT(mfn != UINT64_MAX, "shadow write to gfn %#llx outside the guest", (unsigned long long)gfn);
    pmem_write(s->h->mem, mfn, idx, val);
    int flooded = s->flood_per_vcpu && flood_vcpu_count(s, gfn);
    for (unsigned lvl = 1; lvl <= 4; lvl++) {
        struct shadow_page *sp = sp_find(s, gfn, lvl);
        if (!sp || (sp->flags & SP_UNSYNC))
            continue;
        if (s->unsync && lvl == 1) {
            shadow_oos_add(s, sp);
            continue;
        }
        if (!s->flood_per_vcpu)
            flooded = ++sp->flood >= s->flood_threshold;
        if (flooded && sp != s->cur_root) {
            sp_zap(s, sp);
            continue;
        }
        resync_entry_spec(s, sp, idx, val, s->flood_per_vcpu);
        if (s->flood_per_vcpu && pte_present(pmem_read(s->h->mem, sp->smfn, idx)) && is_leaf(val, lvl)) {
            s->fv.pte_smfn = sp->smfn;   /* mmu_set_spte(speculative): last_pte_updated */
            s->fv.pte_idx = idx;
        }
    }
}

/* ---- resync at a flush --------------------------------------------------------- */

static void sync_page(struct shadow *s, struct shadow_page *sp)
{
    for (unsigned i = 0; i < PTRS_PER_TABLE; i++) {
        /* on to the next present entry of the table as it is now (skipping
         * one changes nothing; a resync may, so the table is looked up
         * again each time round), eight at a time where none is */
        const uint64_t *t = pmem_table_peek(s->h->mem, sp->smfn);
        while (t && i < PTRS_PER_TABLE && !pte_present(t[i])) {
            if (!(i & 7) && pte_none_present8(&t[i]))
                i += 8;
            else
                i++;
        }
        if (!t || i == PTRS_PER_TABLE)
            break;
        s->h->st->cnt[CNT_shadow_sync]++;
        struct shadow_page *child = resync_entry(s, sp, i, guest_entry(s, sp->gfn, i));
        if (child && child->sync_gen != s->sync_gen) {
            child->sync_gen = s->sync_gen;
            sync_page(s, child);
        }
    }
}

void shadow_sync_page(struct shadow *s, struct shadow_page *sp)
{
    if (s->protect && !(sp->flags & SP_UNSYNC))
        return;                     /* write protection kept it in sync */
    sp->sync_gen = ++s->sync_gen;
    sync_page(s, sp);
    if (sp->flags & SP_UNSYNC)
        sp_mark_unsync(s, sp, 0);
}

void shadow_sync_root(struct shadow *s, struct shadow_page *root)
{
    if (!root)
        return;
    root->sync_gen = ++s->sync_gen;
    sync_page(s, root);
}

void shadow_sync_all(struct shadow *s)
{
    ++s->sync_gen;
    for (uint64_t b = 0; b <= s->hmask; b++)
        for (struct shadow_page *sp = s->hash[b]; sp; sp = sp->hnext)
            if ((sp->flags & SP_ROOT) && sp->sync_gen != s->sync_gen) {
                sp->sync_gen = s->sync_gen;
                sync_page(s, sp);
                b = (uint64_t)-1;   /* the hash may have changed: start over, visited roots skip */
                break;
            }
}

void shadow_sync_va(struct shadow *s, struct shadow_page *root, uint64_t va)
{
    struct shadow_page *sp = root;
    for (unsigned lvl = 4; sp && lvl >= 1; lvl--) {
        unsigned idx = pt_index(va, lvl);
        if (!pte_present(pmem_read(s->h->mem, sp->smfn, idx)))
            return;
        s->h->st->cnt[CNT_shadow_sync]++;
        sp = resync_entry(s, sp, idx, guest_entry(s, sp->gfn, idx));
    }
}

/* Is sp reachable from root through the shadows' parent links? Levels
 * rise at each step, so the recursion is at most three deep. */
static int sp_under(const struct shadow *s, const struct shadow_page *sp, const struct shadow_page *root)
{
    if (sp == root)
        return 1;
    for (uint32_t i = 0; i < sp->nparent; i++) {
        const struct shadow_page *p = sp_of_smfn(s, sp->parent[i].smfn);
        if (p && p->level > sp->level && sp_under(s, p, root))
            return 1;
    }
    return 0;
}

static void sync_unsync_path(struct shadow *s, struct shadow_page *root, uint64_t va)
{
    struct shadow_page *sp = root;
    for (unsigned lvl = 4; sp && lvl >= 1; lvl--) {
        unsigned idx = pt_index(va, lvl);
        pte_t se = pmem_read(s->h->mem, sp->smfn, idx);
        if (!pte_present(se))
            return;                     /* a fault fills it from the guest's tables */
        if (sp->flags & SP_UNSYNC) {    /* only L1 shadows go out of sync: the last step */
            s->h->st->cnt[CNT_shadow_sync]++;
            resync_entry(s, sp, idx, guest_entry(s, sp->gfn, idx));
            return;
        }
        if (is_leaf(se, lvl))
            return;
        sp = sp_of_smfn(s, pte_frame(se));
    }
}

void shadow_sync_unsync_va(struct shadow *s, uint64_t va)
{
    sync_unsync_path(s, s->cur_root, va);
    for (unsigned i = 0; i < SHADOW_PREV_ROOTS; i++) {
        struct shadow_page *r = s->prev_root[i] ? sp_find(s, s->prev_root[i] - 1, 4) : NULL;
        if (r && (r->flags & SP_ROOT) && r != s->cur_root)
            sync_unsync_path(s, r, va);
    }
}

void shadow_oos_invlpg(struct shadow *s, uint64_t va)
{
    struct shadow_page *sp = s->cur_root;
    for (unsigned lvl = 4; sp && lvl >= 1; lvl--) {
        unsigned idx = pt_index(va, lvl);
        pte_t se = pmem_read(s->h->mem, sp->smfn, idx);
        if (!pte_present(se))
            return;
        if (sp->flags & SP_UNSYNC) {     /* an L1: "remove the shadow entry that maps this VA" */
            sp_set(s, sp, idx, 0);
            return;
        }
        if (is_leaf(se, lvl))
            return;
        sp = sp_of_smfn(s, pte_frame(se));
    }
}

void shadow_oos_resync_all(struct shadow *s)
{
    for (uint32_t i = 0; i < s->oos_n; i++) {
        struct shadow_page *sp = shadow_oos_slot(s, i);
        if (sp)
            shadow_sync_page(s, sp);     /* back in sync: its slot empties */
    }
}

void shadow_sync_unsync_root(struct shadow *s, struct shadow_page *root)
{
    if (!root)
        return;
    for (uint64_t b = 0; b <= s->hmask; b++)
        for (struct shadow_page *sp = s->hash[b]; sp; sp = sp->hnext) {
            if (!(sp->flags & SP_UNSYNC) || !sp_under(s, sp, root))
                continue;
            sync_page(s, sp);
            sp_mark_unsync(s, sp, 0);
        }
}

void shadow_sync_unsync(struct shadow *s)
{
    for (uint64_t b = 0; b <= s->hmask; b++)
        for (struct shadow_page *sp = s->hash[b]; sp; sp = sp->hnext) {
            if (!(sp->flags & SP_UNSYNC))
                continue;
            sync_page(s, sp);
            sp_mark_unsync(s, sp, 0);
        }
}

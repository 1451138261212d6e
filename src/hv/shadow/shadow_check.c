/* shadow_check.c: the invariants of shadow paging, recomputed from the
 * shadow and guest tables themselves (under --check):
 *  1. structure: every shadow page lives in a hypervisor frame, its
 *     pointers lead to shadow pages of the next level that list the pointer
 *     as a parent;
 *  2. ownership: every shadow leaf maps a frame the domain owns (never a
 *     hypervisor frame, never another domain's);
 *  3. no shadow grants more than the guest's tables: an entry points to the
 *     shadow of the table the guest entry names, or maps the frame the guest
 *     entry maps, with no permission the guest entry lacks. Shadows that
 *     must be in sync are checked: under write protection (tsp) every
 *     in-sync shadow page; under lazy sync (ssp, tsp.unsync) those reachable
 *     from the loaded root, which the guest's flushes have synced (a guest
 *     must flush after narrowing a translation it uses; shadows of address
 *     spaces not loaded may be stale until their next load flushes them);
 *     An fl1 shadow (a splintered guest 2 MiB page) maps the page's frames
 *     in order, and the entry linking to it stands for a guest 2 MiB entry
 *     of that page with reserved frame bits clear. No shadow entry stands
 *     for a guest entry with a reserved bit set (those frame bits, or PS in
 *     an L4): the guest's walk faults there.
 *     Dirty: an entry standing for a guest leaf (a 4 KiB or 2 MiB leaf, or
 *     the link to the fl1 splinters of a guest 2 MiB page, which narrows
 *     their write access to its own) is writable only if the guest entry is
 *     dirty: the hardware sets Dirty in the shadow, never in the guest's
 *     entry, so the first write must fault for the hypervisor to set it
 *     (KVM's FNAME(protect_clean_gpte)); a writable shadow over a clean
 *     entry loses the guest's Dirty bit. The window is the one above: the
 *     guest clears Dirty only with a flush to follow (a TLB entry that is
 *     already dirty need not set it again, SDM Vol. 3 "Accessed and Dirty
 *     Flags"), so shadows that may be stale (ssp's and tsp.unsync's out of
 *     the loaded tree, tsp.unsync's out-of-sync L1s but where the loaded
 *     tree reaches them) may still be writable over a clean entry, as the
 *     guest's TLB may be.
 *  4. write protection (tsp): a frame is protected exactly when it has an
 *     in-sync shadow (an fl1 shadows no table and protects nothing), and no
 *     writable leaf maps a protected frame.
 *  5. tsp.oos_limit: the slots name exactly the out-of-sync shadows, each
 *     in its home slot (gfn % oos_limit) or the next, so at most
 *     oos_limit are out of sync.
 * Then the I/O invariants every HVM mode shares (hv/hvm.c). */
#include "hv/hvm.h"
#include "hv/shadow/shadow.h"
#include <stdio.h>
#include <stdlib.h>

static int is_leaf(pte_t e, unsigned lvl) { return lvl == 1 || (lvl == 2 && (e & _PAGE_PSE)); }

/* The permissions of s are within those of g. */
static int within(pte_t s, pte_t g)
{
    return (!(s & _PAGE_RW) || (g & _PAGE_RW)) && (!(s & _PAGE_USER) || (g & _PAGE_USER)) &&
           (!(g & _PAGE_NX) || (s & _PAGE_NX));
}

/* 0, or -1 with a message: entry i of sp against the guest's entry. */
static int entry_matches_guest(struct shadow *s, const struct shadow_page *sp, unsigned i, pte_t se,
                               char *msg, unsigned len)
{
    const struct domain *d = &s->h->dom;
    const char *why = NULL;
    if (sp->flags & SP_FL1) {
        /* an fl1 shadow has no guest table: entry i maps frame i of the
         * guest 2 MiB page, the link above it bears the guest's permissions */
        if (pte_frame(se) != pfn_to_mfn(d, sp->gfn + i)) {
            snprintf(msg, len, "fl1 shadow of guest 2 MiB page %#llx, entry %u (%#llx): it maps another frame "
                     "than the page's", (unsigned long long)sp->gfn, i, (unsigned long long)se);
            return -1;
        }
        return 0;
    }
    pte_t g = pmem_read(s->h->mem, pfn_to_mfn(d, sp->gfn), i);
    if (!pte_present(g)) {
        why = "the guest entry is not present";
    } else if (!within(se, g)) {
        why = "it grants a permission the guest entry does not";
    } else if (is_leaf(g, sp->level) && (se & _PAGE_RW) && !(g & _PAGE_DIRTY)) {
        /* a leaf, or the link to the fl1 splinters of a guest 2 MiB page */
        why = "it grants write on a clean guest entry (a write through it would not set the guest's Dirty bit)";
    } else if (is_leaf(g, sp->level) && pte_large_rsvd(g, sp->level)) {
        why = "the guest entry has reserved frame bits set";
    } else if (pte_l4_rsvd(g, sp->level)) {
        why = "the guest entry has PS set, a reserved bit in an L4";
    } else if (!is_leaf(se, sp->level)) {
        const struct shadow_page *child = sp_of_smfn(s, pte_frame(se));
        if (child && (child->flags & SP_FL1)) {
            if (!is_leaf(g, sp->level) || child->gfn != (pte_frame(g) & ~511ull))
                why = "it points to the fl1 shadow of another guest 2 MiB page";
        } else if (is_leaf(g, sp->level) || !child || child->gfn != pte_frame(g)) {
            why = "it points to the shadow of another guest table";
        }
    } else {
        uint64_t gfn = pte_frame(g) & (sp->level == 2 ? ~511ull : ~0ull);
        if (!is_leaf(g, sp->level) || pfn_to_mfn(d, gfn) != pte_frame(se))
            why = "it maps another frame than the guest entry";
    }
    if (!why)
        return 0;
    snprintf(msg, len, "shadow of guest L%u table %#llx, entry %u (%#llx; guest %#llx): %s",
             sp->level, (unsigned long long)sp->gfn, i, (unsigned long long)se, (unsigned long long)g, why);
    return -1;
}

static int check_page(struct shadow *s, struct shadow_page *sp, int vs_guest, char *msg, unsigned len)
{
    const struct hv *h = s->h;
    if (!hv_heap_frame(h, sp->smfn) || sp_of_smfn(s, sp->smfn) != sp) {
        snprintf(msg, len, "shadow page of gfn %#llx in frame %#llx, not a hypervisor frame it owns",
                 (unsigned long long)sp->gfn, (unsigned long long)sp->smfn);
        return -1;
    }
    const uint64_t *t = pmem_table_peek(h->mem, sp->smfn);
    uint32_t present = 0;
    for (unsigned i = 0; t && i < PTRS_PER_TABLE; i++)
        present += pte_present(t[i]);
    if (present != sp->npresent) {
        snprintf(msg, len, "shadow L%u page %#llx holds %u present entries, its count says %u", sp->level,
                 (unsigned long long)sp->smfn, present, sp->npresent);
        return -1;
    }
    /* every parent record names a live shadow page one level up whose
     * entry points here (a zap unlinks by them) */
    for (uint32_t p = 0; p < sp->nparent; p++) {
        const struct shadow_page *parent = sp_of_smfn(s, sp->parent[p].smfn);
        unsigned idx = sp->parent[p].idx;   /* checked before it indexes the parent's table */
        pte_t pe = parent && idx < PTRS_PER_TABLE ? pmem_read(h->mem, parent->smfn, idx) : 0;
        if (!parent || parent->level != sp->level + 1 || !pte_present(pe) || pte_frame(pe) != sp->smfn) {
            snprintf(msg, len, "shadow L%u page %#llx: parent record %u (%#llx entry %u) does not point to it",
                     sp->level, (unsigned long long)sp->smfn, p, (unsigned long long)sp->parent[p].smfn,
                     sp->parent[p].idx);
            return -1;
        }
    }
    for (unsigned i = 0; t && i < PTRS_PER_TABLE; i++) {
        pte_t se = t[i];
        if (!pte_present(se))
            continue;
        if (!is_leaf(se, sp->level)) {
            const struct shadow_page *child = sp_of_smfn(s, pte_frame(se));
            int listed = 0;
            for (uint32_t p = 0; child && p < child->nparent; p++)
                listed |= child->parent[p].smfn == sp->smfn && child->parent[p].idx == i;
            if (!child || child->level != sp->level - 1 || !listed) {
                snprintf(msg, len, "shadow L%u page %#llx entry %u points to %#llx, not a linked shadow page",
                         sp->level, (unsigned long long)sp->smfn, i, (unsigned long long)pte_frame(se));
                return -1;
            }
        } else {
            uint64_t mfn = pte_frame(se);
            if (!hv_owns(h, mfn) || hv_heap_frame(h, mfn)) {
                snprintf(msg, len, "shadow leaf of guest L%u table %#llx entry %u maps frame %#llx, which the "
                         "domain does not own", sp->level, (unsigned long long)sp->gfn, i, (unsigned long long)mfn);
                return -1;
            }
            uint64_t gfn = mfn_to_pfn(&h->dom, mfn);
            /* a writable leaf may cover no write-protected table: a 2 MiB
             * leaf none of its 512 frames */
            for (unsigned f = 0; (se & _PAGE_RW) && f < (sp->level == 2 ? 512u : 1u); f++)
                if (shadow_protected(s, gfn + f)) {
                    snprintf(msg, len, "a writable shadow leaf maps write-protected guest table %#llx",
                             (unsigned long long)(gfn + f));
                    return -1;
                }
        }
        if (vs_guest && entry_matches_guest(s, sp, i, se, msg, len))
            return -1;
    }
    return 0;
}

/* The loaded root's tree, each page once. */
static int check_reachable(struct shadow *s, struct shadow_page *sp, char *msg, unsigned len)
{
    if (sp->sync_gen == s->sync_gen)
        return 0;
    sp->sync_gen = s->sync_gen;
    if (check_page(s, sp, 1, msg, len))
        return -1;
    const uint64_t *t = pmem_table_peek(s->h->mem, sp->smfn);
    for (unsigned i = 0; t && sp->level > 1 && i < PTRS_PER_TABLE; i++)
        if (pte_present(t[i]) && !is_leaf(t[i], sp->level) &&
            check_reachable(s, sp_of_smfn(s, pte_frame(t[i])), msg, len))
            return -1;
    return 0;
}

/* Invariant 5: 0, or -1 with a message. */
static int check_oos(const struct shadow *s, char *msg, unsigned len)
{
    uint64_t unsync = 0, slotted = 0;
    for (uint64_t b = 0; b <= s->hmask; b++)
        for (const struct shadow_page *sp = s->hash[b]; sp; sp = sp->hnext) {
            if (!(sp->flags & SP_UNSYNC))
                continue;
            unsync++;
            uint32_t home = (uint32_t)(sp->gfn % s->oos_n);
            if (s->oos[home] != sp->gfn + 1 && s->oos[(home + 1) % s->oos_n] != sp->gfn + 1) {
                snprintf(msg, len, "out-of-sync L1 shadow of guest frame %#llx is in neither its home slot %u "
                         "nor the next (tsp.oos_limit=%u)", (unsigned long long)sp->gfn, home, s->oos_n);
                return -1;
            }
        }
    for (uint32_t i = 0; i < s->oos_n; i++) {
        if (!s->oos[i])
            continue;
        slotted++;
        uint64_t gfn = s->oos[i] - 1;
        const struct shadow_page *sp = sp_find(s, gfn, 1);
        uint32_t home = (uint32_t)(gfn % s->oos_n);
        if (!sp || !(sp->flags & SP_UNSYNC) || (i != home && i != (home + 1) % s->oos_n)) {
            snprintf(msg, len, "out-of-sync slot %u names guest frame %#llx, %s", i, (unsigned long long)gfn,
                     !sp || !(sp->flags & SP_UNSYNC) ? "which has no out-of-sync L1 shadow"
                                                     : "whose home is neither it nor the one before");
            return -1;
        }
    }
    if (slotted != unsync) {
        snprintf(msg, len, "%llu out-of-sync slots taken for %llu out-of-sync shadows", (unsigned long long)slotted,
                 (unsigned long long)unsync);
        return -1;
    }
    return 0;
}

int shadow_check(struct shadow *s, char *msg, unsigned len)
{
    sparse_t synced;
    sparse_init(&synced, s->h->dom.nr_pages, sizeof(uint16_t));
    int bad = 0;
    uint64_t n = 0;
    for (uint64_t b = 0; b <= s->hmask && !bad; b++)
        for (struct shadow_page *sp = s->hash[b]; sp && !bad; sp = sp->hnext) {
            n++;
            int in_sync = !(sp->flags & SP_UNSYNC);
            if (in_sync && !(sp->flags & SP_FL1))   /* an fl1 protects no frame */
                (*(uint16_t *)sparse_get(&synced, sp->gfn))++;
            bad = check_page(s, sp, s->protect && in_sync, msg, len) != 0;
        }
    if (!bad && n != s->npages) {
        snprintf(msg, len, "%llu shadow pages hashed, %llu counted", (unsigned long long)n,
                 (unsigned long long)s->npages);
        bad = 1;
    }
    /* the protection state follows the in-sync shadows */
    for (uint64_t c = 0; !bad && c < s->gfns.ndir; c++) {
        if (!s->gfns.dir[c])
            continue;
        for (uint64_t gfn = c * SPARSE_CHUNK; gfn < (c + 1) * SPARSE_CHUNK && !bad; gfn++) {
            const struct shadow_gfn *g = sparse_peek(&s->gfns, gfn);
            const uint16_t *cnt = sparse_peek(&synced, gfn);
            if (g->synced != (cnt ? *cnt : 0)) {
                snprintf(msg, len, "guest frame %#llx: %u in-sync shadows counted, %u exist",
                         (unsigned long long)gfn, g->synced, cnt ? *cnt : 0);
                bad = 1;
            }
        }
    }
    sparse_free(&synced);
    if (!bad && s->oos_n)
        bad = check_oos(s, msg, len) != 0;
    if (!bad && s->cur_root) {
        s->sync_gen++;
        bad = check_reachable(s, s->cur_root, msg, len) != 0;
    }
    if (bad)
        return -1;
    return hvm_check(s->h, &s->io_checked, msg, len);
}

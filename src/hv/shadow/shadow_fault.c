/* shadow_fault.c: a page fault under shadow paging (KVM: FNAME(page_fault),
 * FNAME(walk_addr) and FNAME(fetch) in paging_tmpl.h; Xen: sh_page_fault).
 *
 * The hypervisor walks the guest's own tables for the faulting address in
 * software. If they do not allow the access, the fault is the guest's and
 * is given to it. Otherwise the shadow was merely incomplete or behind: the
 * path is built or fixed level by level (sharing the shadow of each guest
 * table), the guest's Accessed and Dirty bits are set as the hardware would
 * have set them, the leaf is written, and the access is retried: a fault
 * hidden from the guest. A write to a frame that is itself a write-protected
 * guest table is emulated instead (the access completes without a writable
 * mapping) and, when that frame is not one of the tables the walk used, the
 * frame is unshadowed (KVM: kvm_mmu_unprotect_page). */
#include "hv/shadow/shadow.h"
#include "lib/err.h"

struct gwalk {
    uint64_t table[5];   /* guest frame of the table read at each level */
    pte_t e[5];          /* the entry read at each level */
    unsigned leaf;       /* level of the leaf */
};

/* 0, or the error code of a fault that is the guest's. */
static uint32_t guest_walk(struct shadow *s, uint64_t root, uint64_t va, enum access acc, int user,
                           struct gwalk *w)
{
    uint32_t pfec = pfec_of(acc, user);
    int wr = 1, us = 1, nx = 0;
    uint64_t table = root;
    if (!va_canonical(va))
        return pfec | PFEC_RSVD;
    for (unsigned lvl = 4; lvl >= 1; lvl--) {
        uint64_t mfn = pfn_to_mfn(&s->h->dom, table);
        if (mfn == UINT64_MAX)
            return pfec | PFEC_RSVD;
        pte_t e = pmem_read(s->h->mem, mfn, pt_index(va, lvl));
        hv_charge(s->h, s->h->cost->shadow_entry);
        w->table[lvl] = table;
        w->e[lvl] = e;
        if (!pte_present(e))
            return pfec;
        /* a reserved bit, as the hardware walker: the guest gets P and
         * RSVD (KVM: FNAME(walk_addr_generic), PFERR_RSVD_MASK |
         * PFERR_PRESENT_MASK) */
        if (pte_l4_rsvd(e, lvl))
            return pfec | PFEC_P | PFEC_RSVD;   /* PS in an L4 */
        if ((e & _PAGE_PSE) && lvl == 3)
            return pfec | PFEC_RSVD;   /* 1 GiB pages are not shadowed (shadow.h) */
        wr &= !!(e & _PAGE_RW);
        us &= !!(e & _PAGE_USER);
        nx |= !!(e & _PAGE_NX);
        if (lvl == 1 || (e & _PAGE_PSE)) {
            w->leaf = lvl;
            if (pte_large_rsvd(e, lvl))
                return pfec | PFEC_P | PFEC_RSVD;   /* reserved frame bits, as the hardware walker */
            if ((user && !us) || (acc == ACC_WRITE && !wr) || (acc == ACC_EXEC && nx))
                return pfec | PFEC_P;
            return 0;
        }
        table = pte_frame(e);
    }
    return pfec | PFEC_RSVD;
}

/* Set the Accessed bits the hardware would have set on the way down, and
 * Dirty on a written leaf, in the guest's entries. */
static void guest_set_ad(struct shadow *s, struct gwalk *w, uint64_t va, enum access acc)
{
    for (unsigned lvl = 4; lvl >= w->leaf; lvl--) {
        pte_t e = w->e[lvl] | _PAGE_ACCESSED;
        if (lvl == w->leaf && acc == ACC_WRITE)
            e |= _PAGE_DIRTY;
        if (e != w->e[lvl]) {
            pmem_write(s->h->mem, pfn_to_mfn(&s->h->dom, w->table[lvl]), pt_index(va, lvl), e);
            w->e[lvl] = e;
        }
    }
}

static int perms_of(pte_t e) { return (int)(e & (_PAGE_RW | _PAGE_USER | _PAGE_NX)); }

/* Whether the shadow link in entry idx of sp, se, is the one fill_path
 * keeps for the guest walk's entry g of level lvl: to the shadow of the
 * table g points to, with g's permissions. Its child, or NULL. */
static struct shadow_page *path_child(const struct shadow *s, pte_t se, unsigned lvl, pte_t g)
{
    if (!pte_present(se))
        return NULL;
    struct shadow_page *child = sp_of_smfn(s, pte_frame(se));
    if (!child || child->gfn != pte_frame(g) || child->level != lvl - 1 || (child->flags & SP_FL1) ||
        perms_of(se) != perms_of(g))
        return NULL;
    return child;
}

/* The shadow page at the end of va's path under root when every link of
 * it is already the one fill_path would make from w; else NULL. Reads
 * only. (Not inlined: in shadow_fill_va it made gcc leave guest_walk out
 * of line in shadow_page_fault, 1.3% more host instructions for ssp.) */
static __attribute__((noinline)) struct shadow_page *intact_path(const struct shadow *s, struct shadow_page *root,
                                                                 uint64_t va, const struct gwalk *w)
{
    struct shadow_page *sp = root;
    for (unsigned lvl = 4; sp && lvl > w->leaf; lvl--)
        sp = path_child(s, pmem_read(s->h->mem, sp->smfn, pt_index(va, lvl)), lvl, w->e[lvl]);
    return sp;
}

/* Build or fix the shadow path of va under root from the guest walk w. */
static struct shadow_page *fill_path(struct shadow *s, struct shadow_page *root, uint64_t va,
                                     const struct gwalk *w)
{
    struct shadow_page *sp = root;
    for (unsigned lvl = 4; lvl > w->leaf; lvl--) {
        sp->flood = 0;
        unsigned idx = pt_index(va, lvl);
        pte_t se = pmem_read(s->h->mem, sp->smfn, idx);
        uint64_t want = pte_frame(w->e[lvl]);
        struct shadow_page *child = path_child(s, se, lvl, w->e[lvl]);
        if (pte_present(se) && !child)
            sp_unlink(s, sp, idx);
        if (!child) {
            child = sp_find(s, want, lvl - 1);
            if (child)
                shadow_sync_page(s, child);   /* it may be stale: shadows of another tree */
            else
                child = sp_alloc(s, want, lvl - 1);
            sp_link(s, sp, idx, child, w->e[lvl]);
        }
        sp = child;
    }
    sp->flood = 0;
    return sp;
}

/* The permissions the link to a splintered guest 2 MiB entry g carries:
 * g's, writable only once g is dirty (the first write faults to set D). */
pte_t shadow_fl1_link_perms(pte_t g)
{
    return (g & _PAGE_DIRTY) ? g : g & ~(pte_t)_PAGE_RW;
}

/* Entry idx of the L2 shadow l2 points to the fl1 shadow of guest 2 MiB
 * entry g, linked with g's permissions (what it pointed to before is
 * unlinked); the fl1 is returned. */
static struct shadow_page *splinter(struct shadow *s, struct shadow_page *l2, unsigned idx, pte_t g)
{
    g = shadow_fl1_link_perms(g);
    uint64_t base = pte_frame(g) & ~511ull;
    pte_t se = pmem_read(s->h->mem, l2->smfn, idx);
    if (pte_present(se) && !pte_leaf(se, 2)) {
        struct shadow_page *child = sp_of_smfn(s, pte_frame(se));
        if (child && (child->flags & SP_FL1) && child->gfn == base && perms_of(se) == perms_of(g))
            return child;
    }
    if (pte_present(se))
        sp_unlink(s, l2, idx);     /* a 2 MiB leaf (made read-only when the frame was protected), or a link */
    struct shadow_page *fl1 = sp_get_fl1(s, base);
    sp_link(s, l2, idx, fl1, g);
    return fl1;
}

/* KVM's FNAME(pte_prefetch): with the faulting entry idx of L1 shadow
 * leaf filled, fill the other entries of its aligned group of
 * shadow.prefetch that are not present, in order, from the guest entries
 * the walk read with it (gpte_changed reads the group at once), stopping
 * at the first the guest has not used (not present, or Accessed clear:
 * prefetch_invalid_gpte) or that maps no frame of the guest. A prefetched
 * entry is speculative: Accessed clear, for the MMU to set at its first
 * use (mmu_set_spte with prefetch). An fl1 shadow (a splintered guest
 * 2 MiB page, KVM's direct shadow page) prefetches the neighbouring frames
 * of the page (__direct_pte_prefetch). */
static void prefetch(struct shadow *s, struct shadow_page *leaf, unsigned idx, const struct gwalk *w)
{
    if (s->prefetch <= 1)
        return;
    unsigned first = idx & ~(s->prefetch - 1);
    int fl1 = (leaf->flags & SP_FL1) != 0;
    uint64_t gtable = fl1 ? UINT64_MAX : pfn_to_mfn(&s->h->dom, w->table[1]);   /* the walk went through it */
    if (!fl1)
        hv_charge(s->h, s->h->cost->shadow_entry);   /* the group's guest entries, read at once */
    for (unsigned i = first; i < first + s->prefetch; i++) {
        if (i == idx || pte_present(pmem_read(s->h->mem, leaf->smfn, i)))
            continue;
        pte_t spte;
        if (fl1) {
            spte = shadow_fl1_entry(s, leaf->gfn + i);
        } else {
            pte_t g = pmem_read(s->h->mem, gtable, i);
            if (!pte_present(g) || !(g & _PAGE_ACCESSED) || pte_large_rsvd(g, 1))
                break;
            spte = shadow_entry_of(s, g, 1);
        }
        if (!spte)
            break;
        sp_set(s, leaf, i, spte & ~(pte_t)_PAGE_ACCESSED);
        s->h->st->cnt[CNT_shadow_prefetch]++;
    }
}

int shadow_page_fault(struct shadow *s, struct cpu *c, uint64_t va, uint32_t pfec, uint64_t *mfn)
{
    enum access acc = (pfec & PFEC_W) ? ACC_WRITE : (pfec & PFEC_I) ? ACC_EXEC : ACC_READ;
    int user = (pfec & PFEC_U) != 0;
    struct gwalk w = { .leaf = 1 };
    uint32_t gpfec = guest_walk(s, c->cr3, va, acc, user, &w);
    if (gpfec) {
        /* the guest's walk's error code, not the shadow's (KVM injects
         * walker->fault): a reserved bit the guest set shows as such */
        s->h->st->cnt[CNT_pf_injected]++;
        c->inject_pfec = gpfec;
        return 0;
    }
    if (!s->cur_root) {
        /* the root was dropped to make room: reload it (the drop set
         * need_flush, so the flush follows) */
        shadow_load_root_hv(s, c, shadow_get_root(s, c->cr3));
    }
    guest_set_ad(s, &w, va, acc);
    shadow_prealloc(s, 4);
    struct shadow_page *leaf = fill_path(s, s->cur_root, va, &w);
    /* A write to a write-protected guest table through a user mapping. */
    uint64_t target = w.leaf == 2 ? (pte_frame(w.e[2]) & ~511ull) + pt_index(va, 1) : pte_frame(w.e[1]);
    if (acc == ACC_WRITE && shadow_protected(s, target)) {
        int on_path = 0;
        for (unsigned lvl = 4; lvl >= w.leaf; lvl--)
            on_path |= w.table[lvl] == target;
        *mfn = pfn_to_mfn(&s->h->dom, target);
        /* KVM's fetch installs the leaf before emulating, not
         * speculatively: accessed (what last_updated_pte_accessed reads) */
        unsigned li = pt_index(va, 1);
        pte_t se = w.leaf == 1 ? pmem_read(s->h->mem, leaf->smfn, li) : 0;
        if (pte_present(se) && !(se & _PAGE_ACCESSED))
            pmem_write(s->h->mem, leaf->smfn, li, se | _PAGE_ACCESSED);
        if (!on_path)
            shadow_unshadow(s, target);
        shadow_flush_hw(s, c);
        return 2;
    }
    pte_t g = w.e[w.leaf], spte;
    unsigned idx = pt_index(va, w.leaf);
    if (w.leaf == 2 && !pte_large_rsvd(g, 2) &&
        (!s->host_2m || ((g & _PAGE_RW) && (g & _PAGE_DIRTY) && shadow_extent_protected(s, pte_frame(g) & ~511ull)))) {
        /* a guest 2 MiB page over 4 KiB host pages, or a writable one
         * over a protected table frame: splinter it (shadow.h), into 4 KiB
         * leaves, or so that only that frame is read-only */
        leaf = splinter(s, leaf, idx, g);
        idx = pt_index(va, 1);
        spte = shadow_fl1_entry(s, (pte_frame(g) & ~511ull) + idx);
    } else {
        spte = shadow_entry_of(s, g, w.leaf);
        pte_t se = pmem_read(s->h->mem, leaf->smfn, idx);
        if (spte && pte_present(se) && !pte_leaf(se, w.leaf))
            sp_unlink(s, leaf, idx);   /* a link (an fl1, a stale table shadow) becomes a leaf */
    }
    if (!spte) {                   /* the guest maps a frame it does not have: a reserved-bit fault */
        s->h->st->cnt[CNT_pf_injected]++;
        c->inject_pfec = pfec | PFEC_RSVD;
        shadow_flush_hw(s, c);
        return 0;
    }
    sp_set(s, leaf, idx, spte);
    s->h->st->cnt[CNT_shadow_fill]++;
    if (leaf->level == 1)
        prefetch(s, leaf, idx, &w);
    shadow_flush_hw(s, c);
    return 1;
}

int shadow_fill_va(struct shadow *s, uint64_t va)
{
    struct shadow_page *root = s->cur_root;
    struct gwalk w = { .leaf = 1 };
    if (!root || guest_walk(s, root->gfn, va, ACC_READ, 0, &w) || w.leaf != 1)
        return 0;
    /* the guest's Accessed bits already set on the whole path: an access
     * through the shadow then owes the guest no A bit (KVM's prefetch asks
     * the same of the leaf: prefetch_invalid_gpte) */
    for (unsigned lvl = 4; lvl >= 1; lvl--)
        if (!(w.e[lvl] & _PAGE_ACCESSED))
            return 0;
    pte_t g = w.e[1], spte;
    if (pte_large_rsvd(g, 1) || !(spte = shadow_entry_of(s, g, 1)))
        return 0;
    /* An entry the shadow already holds needs nothing: looked for before
     * the preallocation, which may evict a root to make room */
    unsigned idx = pt_index(va, 1);
    struct shadow_page *leaf = intact_path(s, s->cur_root, va, &w);
    if (leaf && pte_present(pmem_read(s->h->mem, leaf->smfn, idx)))
        return 0;
    shadow_prealloc(s, 4);   /* (it empties the current root rather than evict it) */
    leaf = fill_path(s, s->cur_root, va, &w);
    if (pte_present(pmem_read(s->h->mem, leaf->smfn, idx)))
        return 0;
    sp_set(s, leaf, idx, spte & ~(pte_t)_PAGE_ACCESSED);   /* speculative, as a prefetched entry */
    s->h->st->cnt[CNT_shadow_sync]++;
    return 1;
}

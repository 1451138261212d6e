/* pv_check.c: the security invariants of a PV domain (DESIGN.md), checked
 * under --check by recomputing them from memory, independently of the
 * bookkeeping that is supposed to maintain them:
 *  1. every entry of a live page table maps a frame the domain owns, with
 *     only the flags Xen allows at its level (get_page_from_lNe's disallow
 *     masks: no PSE above L1, so none in an L4 where it is reserved);
 *  2. no page table is mapped writable, by a guest entry or by the direct
 *     map;
 *  3. the reference counts are exact: every frame's general count, type
 *     count and linear-entry counts equal the references that exist, counted
 *     from the tables themselves (each present entry of a validated table, or
 *     of the validated part of a partial one), the pins, the base pointers,
 *     the direct map and the partial validations (Xen's get_page_light);
 *     a frame the domain does not own holds no reference at all;
 *  4. no page-table frame and no PiBooster-flagged frame is DMA-writable
 *     through the IOMMU tables, and no IOTLB entry grants such access;
 *     a writable, unflagged frame is mapped (the IOMMU is in sync);
 *  5. the CPU caches nothing stale that matters (Xen's TLB-flush filter on
 *     type changes): no TLB entry grants write to a frame whose type is not
 *     writable (a 2M or 1G entry: to any frame it covers), and every
 *     paging-structure cache entry names a frame of the domain that is
 *     (still) typed as a page table;
 *  6. with xen.l1tf_check, no not-present entry of a live table names
 *     cacheable RAM (or has PSE above L1): Xen's L1TF check keeps them out. */
#include "hv/pv/xen.h"
#include "lib/err.h"
#include <stdio.h>
#include <stdlib.h>

/* References to one frame, counted from what holds them. */
struct refs {
    uint32_t general, type, writable;   /* writable: RW L1 entries and the direct map */
    uint16_t linear_uses, linear_entries;
};

#define BASE_REFS 2   /* a domain frame as built: allocated, and its direct-map entry */

/* How many entries of the table hold references: all of a validated one,
 * the validated part of a partial one, none otherwise. */
static unsigned refs_held(const struct page_info *p)
{
    if (!pgt_is_table(p->type) || !p->type_count)
        return 0;
    if (p->flags & PGF_validated)
        return PTRS_PER_TABLE;
    return (p->flags & PGF_partial) ? p->nr_validated : 0;
}

static struct refs *ref(sparse_t *r, uint64_t mfn) { return sparse_get(r, mfn); }

/* Count the references the entries of one table hold; 0, or -1 with a
 * message if an entry maps a frame the domain does not own. */
static int count_table(struct xen *x, sparse_t *r, uint64_t mfn, const struct page_info *p, char *msg,
                       unsigned len)
{
    const uint64_t *t = pmem_table_peek(x->mem, mfn);
    unsigned n = refs_held(p);
    for (unsigned i = 0; t && i < n; i++) {
        pte_t e = t[i];
        if (!pte_present(e)) {
            if (e && x->cfg.l1tf_check && l1tf_unsafe(x, p->type, e)) {
                snprintf(msg, len, "L%u table %#llx entry %u is not present but names address %#llx "
                         "(L1TF-unsafe: xen.l1tf_check)", p->type, (unsigned long long)mfn, i,
                         (unsigned long long)(e & PTE_FRAME_MASK));
                return -1;
            }
            continue;
        }
        if (e & pte_disallowed(x, p->type)) {
            snprintf(msg, len, "L%u table %#llx entry %u (%#llx) has flags %#llx Xen disallows at that level%s",
                     p->type, (unsigned long long)mfn, i, (unsigned long long)e,
                     (unsigned long long)(e & pte_disallowed(x, p->type)),
                     p->type == PGT_l4 && (e & _PAGE_PSE) ? " (PS in an L4: a reserved bit)" : "");
            return -1;
        }
        uint64_t tgt = pte_frame(e);
        if (tgt >= x->nframes || frame(x, tgt)->owner != x->dom->id) {
            snprintf(msg, len, "L%u table %#llx entry %u maps frame %#llx the domain does not own", p->type,
                     (unsigned long long)mfn, i, (unsigned long long)tgt);
            return -1;
        }
        if (p->type == PGT_l1) {
            ref(r, tgt)->general++;
            if (e & _PAGE_RW) {
                ref(r, tgt)->type++;
                ref(r, tgt)->writable++;
            }
            continue;
        }
        if (tgt == mfn)
            continue;                              /* a linear self-map holds nothing */
        ref(r, tgt)->general++;
        ref(r, tgt)->type++;
        if (frame(x, tgt)->type == p->type) {      /* a linear entry */
            ref(r, tgt)->linear_uses++;
            ref(r, mfn)->linear_entries++;
        }
    }
    return 0;
}

static void hold(sparse_t *r, uint64_t mfn)
{
    if (!mfn)
        return;
    ref(r, mfn)->general++;
    ref(r, mfn)->type++;
}

#define FOR_EACH_FRAME(x, mfn, p)                                                                   \
    for (uint64_t c_ = 0; c_ < (x)->frames.ndir; c_++)                                              \
        if ((x)->frames.dir[c_])                                                                    \
            for (uint64_t mfn = c_ * SPARSE_CHUNK; mfn < (c_ + 1) * SPARSE_CHUNK && mfn < (x)->nframes; \
                 mfn++)                                                                             \
                for (struct page_info *p = sparse_peek(&(x)->frames, mfn); p; p = NULL)

/* 2 and 3: compare one frame's bookkeeping with what was counted. */
static int check_counts(struct xen *x, uint64_t mfn, const struct page_info *p, const struct refs *c,
                        char *msg, unsigned len)
{
    static const struct refs none;
    if (!c)
        c = &none;
    if (pgt_is_table(p->type) && p->type_count && c->writable) {
        snprintf(msg, len, "L%u table %#llx is mapped writable %u time(s)", p->type, (unsigned long long)mfn,
                 c->writable);
        return -1;
    }
    if (p->type == PGT_writable && p->type_count != c->writable) {
        snprintf(msg, len, "frame %#llx: writable type count %u but %u writable mappings", (unsigned long long)mfn,
                 p->type_count, c->writable);
        return -1;
    }
    if (p->count != c->general + BASE_REFS) {
        snprintf(msg, len, "frame %#llx (type %u): general count %u but %u references exist",
                 (unsigned long long)mfn, p->type, p->count, c->general + BASE_REFS);
        return -1;
    }
    if (p->type_count != c->type) {
        snprintf(msg, len, "frame %#llx (type %u): type count %u but %u type references exist",
                 (unsigned long long)mfn, p->type, p->type_count, c->type);
        return -1;
    }
    if (p->linear_uses != c->linear_uses || p->linear_entries != c->linear_entries) {
        snprintf(msg, len, "table %#llx: linear uses/entries %u/%u but %u/%u exist", (unsigned long long)mfn,
                 p->linear_uses, p->linear_entries, c->linear_uses, c->linear_entries);
        return -1;
    }
    return 0;
}

/* 4: the IOMMU for one frame. */
static int check_iommu(struct xen *x, uint64_t mfn, const struct page_info *p, char *msg, unsigned len)
{
    uint64_t io_mfn;
    int io_w = 0;
    int mapped = vtd_lookup(&x->dom->vtd, mfn, &io_mfn, &io_w) == 0;
    int protect = pgt_is_table(p->type) || (p->flags & PGF_ptcache);
    if (protect && mapped && io_w) {
        snprintf(msg, len, "%s frame %#llx is DMA-writable through the IOMMU",
                 (p->flags & PGF_ptcache) ? "PiBooster-cached" : "page-table", (unsigned long long)mfn);
        return -1;
    }
    if (p->type == PGT_writable && !(p->flags & PGF_ptcache) && (!mapped || io_mfn != mfn)) {
        snprintf(msg, len, "writable frame %#llx is not mapped 1:1 in the IOMMU", (unsigned long long)mfn);
        return -1;
    }
    return 0;
}

/* 5: the vCPU's TLBs and paging-structure caches. */
static int check_cpu_caches(struct xen *x, char *msg, unsigned len)
{
    struct tlb *tlb = &x->cpu->tlb;
    const struct tlb_array *arrays[] = { &tlb->l1[PG_4K], &tlb->l1[PG_2M], &tlb->l1[PG_1G], &tlb->l2 };
    for (unsigned a = 0; a < sizeof arrays / sizeof arrays[0]; a++) {
        const struct tlb_array *t = arrays[a];
        for (uint64_t i = 0; t->tag && i < (uint64_t)t->sets * t->ways; i++) {
            if (!tlb_slot_valid(t, i) || !(t->flags[i] & TLB_W))
                continue;
            /* a 2M or 1G entry grants write to every frame it covers (a PV
             * guest has no superpages: any such entry is stale) */
            unsigned size = tlb_tag_size(t->tag[i]);
            uint64_t span = 1ull << (pg_shift((enum page_size)size) - PAGE_SHIFT);
            for (uint64_t mfn = t->frame[i]; mfn < t->frame[i] + span; mfn++) {
                const struct page_info *p = mfn < x->nframes ? sparse_peek(&x->frames, mfn) : NULL;
                if (!p || p->type != PGT_writable) {
                    snprintf(msg, len, "a stale TLB entry grants write to frame %#llx (type %u)",
                             (unsigned long long)mfn, p ? p->type : 0);
                    return -1;
                }
            }
        }
    }
    for (unsigned lvl = 2; lvl <= 4; lvl++) {
        const struct pwc_cache *c = &x->cpu->pwc.lvl[lvl];
        for (uint32_t i = 0; i < c->n; i++) {
            if (!c->tag[i])
                continue;
            uint64_t mfn = c->table[i];
            if (mfn >= x->nframes || frame(x, mfn)->owner != x->dom->id || !pgt_is_table(frame(x, mfn)->type)) {
                snprintf(msg, len, "a stale paging-structure cache entry (level %u) names frame %#llx, no page table",
                         lvl, (unsigned long long)mfn);
                return -1;
            }
        }
    }
    return 0;
}

int pv_check(struct xen *x, char *msg, unsigned len)
{
    struct domain *d = x->dom;
    sparse_t r;
    sparse_init(&r, x->nframes, sizeof(struct refs));
    int bad = 0;

    /* Count every reference from what holds it. */
    hold(&r, x->guest_table);
    hold(&r, x->guest_table_user);
    FOR_EACH_FRAME(x, mfn, p) {
        if (bad || p->owner != d->id)
            continue;
        if (p->flags & PGF_dmap_rw) {
            ref(&r, mfn)->type++;
            ref(&r, mfn)->writable++;
        }
        if (p->flags & PGF_pinned)
            hold(&r, mfn);
        if (p->flags & PGF_partial)
            hold(&r, mfn);
        bad = count_table(x, &r, mfn, p, msg, len);
    }
    /* Compare, and check the IOMMU, frame by frame. */
    FOR_EACH_FRAME(x, mfn, p) {
        if (bad)
            continue;
        if (p->owner != d->id) {
            if (p->count || p->type_count) {
                snprintf(msg, len, "frame %#llx, not the domain's, holds %u general and %u type references",
                         (unsigned long long)mfn, p->count, p->type_count);
                bad = 1;
            }
            continue;
        }
        bad = check_counts(x, mfn, p, sparse_peek(&r, mfn), msg, len);
        if (!bad && d->iommu_attached)
            bad = check_iommu(x, mfn, p, msg, len);
    }
    /* No IOTLB entry may grant write access to a protected frame. */
    for (unsigned u = 0; !bad && u < hv_iommu_units(x->h); u++) {
        struct iommu *io = hv_iommu_unit(x->h, u);
        for (uint64_t i = 0; !bad && i < (uint64_t)io->tlb_sets * io->tlb_ways; i++) {
            if (!io->tlb_tag[i] || !io->tlb_w[i])
                continue;
            uint64_t mfn = io->tlb_mfn[i];
            struct page_info *p = frame(x, mfn);
            if (pgt_is_table(p->type) || (p->flags & PGF_ptcache)) {
                snprintf(msg, len, "a stale IOTLB entry grants DMA write to %s frame %#llx (VT-d unit %u)",
                         (p->flags & PGF_ptcache) ? "PiBooster-cached" : "page-table", (unsigned long long)mfn, u);
                bad = 1;
            }
        }
    }
    if (!bad)
        bad = check_cpu_caches(x, msg, len);
    sparse_free(&r);
    return bad ? -1 : 0;
}

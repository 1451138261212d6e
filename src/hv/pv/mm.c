/* mm.c: Xen's PV page-type system (xen/arch/x86/mm.c: get_page,
 * _get_page_type, _put_page_type, promote/demote_lN_table, get_page_from_lNe,
 * mod_lN_entry), the guest's direct map, and the TLB-flush filter on type
 * changes. See xen.h for the invariants and docs/research for the facts.
 *
 * Simplifications (documented in docs/pv.md): one guest domain; Xen's own L4
 * slots are not modelled (the kernel half holds the guest's shared kernel
 * tables); preemption (xen.preempt_entries) applies to the table a hypercall
 * validates, not to nested child validations, which run to completion.
 * The L1TF check of not-present entries (xen.l1tf_check) crashes the
 * domain as a Xen built without shadow paging does. */
#include "hv/pv/xen.h"
#include "lib/err.h"
#include <errno.h>

/* The flags a PV guest may set (Xen's base_disallow_mask, arch_init_memory):
 * present, RW, user, accessed, dirty, the software bits 9-11 and 52-62, NX.
 * Global only in an L1; the cache attributes (PWT, PCD, PAT) only in an L1
 * and only for a domain with passthrough devices (l1_disallow_mask); no
 * superpages (PSE) in an L2/L3: no PV superpage support. */
#define PTE_AVAIL_HIGH 0x7ff0000000000000ull
#define PTE_GUEST_FLAGS (_PAGE_PRESENT | _PAGE_RW | _PAGE_USER | _PAGE_ACCESSED | _PAGE_DIRTY | \
                         _PAGE_AVAIL0 | _PAGE_AVAIL1 | _PAGE_AVAIL2 | PTE_AVAIL_HIGH | _PAGE_NX)
#define PTE_CACHE_ATTRS (_PAGE_PWT | _PAGE_PCD | _PAGE_PSE /* PAT, in an L1 */)

uint64_t pte_disallowed(const struct xen *x, unsigned lvl)
{
    uint64_t allowed = PTE_GUEST_FLAGS;
    if (lvl == 1)
        allowed |= _PAGE_GLOBAL | (x->dom->iommu_attached ? PTE_CACHE_ATTRS : 0);
    return PTE_FLAGS_MASK & ~allowed;
}

/* Xen's L1TF safety of a not-present entry (asm/shadow.h is_l1tf_safe_maddr,
 * pv_l1tf_check_pte; spec_ctrl.c l1tf_calculations): its address bits, as
 * the L1D looks them up, must be 0 (mfn 0 holds nothing secret) or at or
 * above the highest cacheable address; PSE is refused above L1 (a
 * speculative superpage from mfn 0). memvirt's host: MAXPHYADDR 46 and an
 * L1D as wide, for which Xen guesses nothing cacheable lies in the top
 * quarter of the address space (3 << 44), raised to the top of machine
 * memory if that were higher. Linux's inverted PROTNONE entries pass; a
 * frame of RAM as it is does not. */
#define L1TF_PADDR_BITS 46
int l1tf_unsafe(const struct xen *x, unsigned lvl, pte_t e)
{
    const uint64_t mask = ((1ull << L1TF_PADDR_BITS) - 1) & ~(PAGE_SIZE - 1);
    uint64_t safe = 3ull << (L1TF_PADDR_BITS - 2), top = x->nframes << PAGE_SHIFT;
    if (top > safe)
        safe = top;
    uint64_t maddr = e & mask;
    return (lvl > 1 && (e & _PAGE_PSE)) || (maddr != 0 && maddr < safe);
}

/* pv_l1tf_check_pte, on a not-present entry a PV guest writes or asks Xen
 * to validate: with xen.l1tf_check (Xen's pv-l1tf for a domU), an unsafe
 * one crashes the domain, logged as Xen logs it; 1 if it did. */
static int pv_l1tf_check(struct xen *x, unsigned lvl, pte_t e)
{
    if (!x->cfg.l1tf_check || !l1tf_unsafe(x, lvl, e))
        return 0;
    domain_crash(x->h, "d%u L1TF-vulnerable L%ue %016llx - Crashing (xen.l1tf_check: a not-present entry "
                 "whose address may be cached, or with PSE)", x->dom->id, lvl, (unsigned long long)e);
    return 1;
}

static void init_chunk(struct xen *x, uint64_t base)
{
    for (uint64_t mfn = base; mfn < base + SPARSE_CHUNK && mfn < x->nframes; mfn++) {
        struct page_info *p = sparse_peek(&x->frames, mfn);
        if (mfn_to_pfn(x->dom, mfn) != UINT64_MAX) {
            /* A domain frame as the builder leaves it: allocated, mapped
             * writable by the guest's direct map, in the IOMMU. */
            p->owner = x->dom->id;
            p->count = 2;
            p->type = PGT_writable;
            p->type_count = 1;
            p->flags = PGF_validated | PGF_dmap_rw;
        } else if (mfn < 256) {
            p->owner = DOMID_IO;        /* the first MiB: I/O space, as in Xen */
        } else if (mfn < 4096) {
            p->owner = DOMID_XEN;
        }
    }
}

struct page_info *frame(struct xen *x, uint64_t mfn)
{
    struct page_info *p = sparse_peek(&x->frames, mfn);
    if (p)
        return p;
    MV_ASSERT(mfn < x->nframes, "frame %#llx beyond machine memory", (unsigned long long)mfn);
    uint64_t before = x->frames.nchunks;
    p = sparse_get(&x->frames, mfn);
    if (x->frames.nchunks != before)
        init_chunk(x, mfn & ~(uint64_t)(SPARSE_CHUNK - 1));
    return p;
}

static struct domain *owner_of(struct xen *x, struct page_info *p)
{
    return p->owner == x->dom->id ? x->dom : NULL;
}

int get_page(struct xen *x, uint64_t mfn, struct domain *d)
{
    if (mfn >= x->nframes)
        return -EINVAL;
    struct page_info *p = frame(x, mfn);
    if (p->owner != d->id || !p->count || p->count == UINT32_MAX)
        return -EINVAL;
    p->count++;
    xen_charge(x, x->cost->pv_ref);
    return 0;
}

void put_page(struct xen *x, uint64_t mfn)
{
    struct page_info *p = frame(x, mfn);
    MV_ASSERT(p->count > 1, "put_page would free domain frame %#llx", (unsigned long long)mfn);
    p->count--;
    xen_charge(x, x->cost->pv_ref);
}

static int validate(struct xen *x, uint64_t mfn, unsigned type);
static void devalidate(struct xen *x, uint64_t mfn, unsigned type, unsigned upto);

/* Xen's tlbflush filter: a CPU may still cache a mapping of this frame if it
 * has not flushed since the frame's type count last fell to zero. */
static void tlb_safety(struct xen *x, struct page_info *p)
{
    if (p->tlbflush_stamp < x->cpu_flush_stamp)
        return;
    x->st->cnt[CNT_tlb_flush_nonglobal]++;
    stat_charge(x->st, CYC_tlb_flush, x->cost->tlb_flush);
    cpu_hw_flush(x->cpu, 0);
    x->cpu_flush_stamp = ++x->tlbclock;
}

/* _get_page_type. A preempted validation leaves the frame partial: its type
 * count stays at 1 and the partial state holds a general reference of its
 * own (Xen's get_page_light in validate_page), so that whoever took the
 * references for the operation that got preempted drops them as after any
 * failure, and the frame cannot go away while half validated. Whoever asks
 * for the same type next resumes the validation and takes the type count
 * over; when the frame stops being partial (validated, or failed), the
 * partial state's general reference is dropped. A request for another type
 * fails and changes nothing. */
int get_page_type(struct xen *x, uint64_t mfn, unsigned type)
{
    struct page_info *p = frame(x, mfn);
    int resumed = 0;
    if (p->type_count == 0) {
        if (p->type != type) {
            unsigned old = p->type;
            tlb_safety(x, p);
            p->type = (uint8_t)type;
            p->flags &= (uint8_t)~(PGF_validated | PGF_partial);
            p->nr_validated = 0;
            if (type == PGT_writable || type == PGT_shared)
                p->flags |= PGF_validated;
            xen_charge(x, x->cost->pv_type_change);
            iommu_sync_type_change(x, owner_of(x, p), mfn, old, type);
        }
        p->type_count = 1;
    } else if (p->type != type) {
        return -EINVAL;
    } else if (!(p->flags & PGF_validated)) {
        /* Resuming a preempted validation: the count of 1 was left for us.
         * (One vCPU: nobody else can be validating it right now.) */
        MV_ASSERT(p->flags & PGF_partial, "type count without validation on %#llx", (unsigned long long)mfn);
        MV_ASSERT(p->type_count == 1, "partial page with extra type references");
        p->flags &= (uint8_t)~PGF_partial;
        resumed = 1;
    } else if (p->type_count == UINT32_MAX) {
        return -EINVAL;                    /* type count overflow */
    } else {
        p->type_count++;
        return 0;
    }
    if (p->flags & PGF_validated)
        return 0;
    int rc = validate(x, mfn, type);
    if (rc == -ERESTART) {
        p->flags |= PGF_partial;
        if (!resumed)
            p->count++;                    /* the partial state's own reference */
        return rc;
    }
    if (resumed)
        put_page(x, mfn);                  /* no longer partial */
    if (rc) {
        /* Failed: the page is left untyped. */
        p->type_count = 0;
        p->nr_validated = 0;
        p->type = PGT_none;
        p->tlbflush_stamp = x->tlbclock;
        return rc;
    }
    p->flags |= PGF_validated;
    return 0;
}

void put_page_type(struct xen *x, uint64_t mfn)
{
    struct page_info *p = frame(x, mfn);
    MV_ASSERT(p->type_count > 0, "put_page_type of %#llx with no type reference", (unsigned long long)mfn);
    MV_ASSERT(!(p->flags & PGF_partial), "put_page_type of partial page %#llx", (unsigned long long)mfn);
    if (--p->type_count)
        return;
    p->tlbflush_stamp = x->tlbclock;
    if (pgt_is_table(p->type) && (p->flags & PGF_validated)) {
        p->flags &= (uint8_t)~PGF_validated;
        p->nr_validated = 0;
        devalidate(x, mfn, p->type, PTRS_PER_TABLE);
    }
}

/* The caller's general and type references; on any failure, including a
 * preempted validation (-ERESTART), the caller holds neither. */
int get_page_and_type(struct xen *x, uint64_t mfn, struct domain *d, unsigned type)
{
    int rc = get_page(x, mfn, d);
    if (rc)
        return rc;
    rc = get_page_type(x, mfn, type);
    if (rc)
        put_page(x, mfn);
    return rc;
}

void put_page_and_type(struct xen *x, uint64_t mfn)
{
    put_page_type(x, mfn);
    put_page(x, mfn);
}

/* get_page_from_lNe: the references entry e of a level-lvl table holds. */
static int get_entry_refs(struct xen *x, struct domain *d, pte_t e, unsigned lvl, uint64_t table)
{
    uint64_t mfn = pte_frame(e);
    xen_charge(x, x->cost->pv_validate_entry);
    if (e & pte_disallowed(x, lvl))
        return -EINVAL;
    if (lvl == 1) {
        /* Beyond RAM, or I/O space (Xen's dom_io): the domain has no I/O
         * memory capability, so -EPERM (-EINVAL for INVALID_MFN itself). */
        if (mfn >= x->nframes)
            return mfn == PTE_FRAME_MASK >> PAGE_SHIFT ? -EINVAL : -EPERM;
        if (frame(x, mfn)->owner == DOMID_IO)
            return -EPERM;
        if (get_page(x, mfn, d))
            return -EBUSY;            /* not ours, or free */
        if ((e & _PAGE_RW) && get_page_type(x, mfn, PGT_writable)) {
            put_page(x, mfn);
            return -EBUSY;            /* a live page table cannot be mapped writable */
        }
        return 0;
    }
    int rc = get_page_and_type(x, mfn, d, lvl - 1);
    if (rc != -EINVAL)
        return rc;
    /* A linear (same-level) entry: read-only, only if allowed. A self-map
     * (the table mapping itself, needed to validate a root that maps itself)
     * holds no reference. Otherwise the target must be a validated table of
     * the same level, and neither this table nor the target may already play
     * the other role (Xen's rule against linear chains, XSA-240). */
    if (!x->cfg.linear_pt || (e & _PAGE_RW) || mfn >= x->nframes)
        return -EINVAL;
    if (mfn == table)
        return 0;
    struct page_info *c = frame(x, mfn), *t = frame(x, table);
    if (c->owner != d->id || c->type != lvl || !(c->flags & PGF_validated) ||
        t->linear_uses || c->linear_entries || c->linear_uses == UINT16_MAX ||
        t->linear_entries == UINT16_MAX || c->type_count == UINT32_MAX)
        return -EINVAL;
    rc = get_page(x, mfn, d);
    if (rc)
        return rc;
    c->type_count++;
    c->linear_uses++;
    t->linear_entries++;
    return 0;
}

static void put_entry_refs(struct xen *x, pte_t e, unsigned lvl, uint64_t table)
{
    uint64_t mfn = pte_frame(e);
    xen_charge(x, x->cost->pv_ref);
    if (lvl == 1) {
        if (e & _PAGE_RW)
            put_page_type(x, mfn);
        put_page(x, mfn);
        return;
    }
    if (mfn == table)
        return;                        /* linear self-map */
    struct page_info *c = frame(x, mfn);
    if (c->type == lvl) {              /* a linear entry */
        c->linear_uses--;
        frame(x, table)->linear_entries--;
    }
    put_page_and_type(x, mfn);
}

/* promote_lN_table: take the references of every present entry; undo them
 * all (earlier slices included) on failure. The L2-L4 validation a
 * preemptible hypercall asks for (a PIN, a base pointer, the table under a
 * new L3/L4 entry) may be preempted after xen.preempt_entries entries
 * (-ERESTART, with nr_validated saved); get_page_type keeps the state. */
static int validate(struct xen *x, uint64_t mfn, unsigned type)
{
    struct page_info *p = frame(x, mfn);
    struct domain *d = owner_of(x, p);
    if (!d)
        return -EINVAL;
    if (type == PGT_seg_desc)
        return 0;
    const uint64_t *t = pmem_table_peek(x->mem, mfn);
    unsigned done_here = 0, i;
    int rc = 0;
    x->validate_depth++;
    xen_charge(x, x->cost->pv_scan);
    for (i = p->nr_validated; i < PTRS_PER_TABLE; i++) {
        pte_t e = t ? t[i] : 0;
        if (!pte_present(e)) {
            if (e && pv_l1tf_check(x, type, e)) {
                rc = -EINTR;           /* promote_lN_table: undone, the domain crashed */
                break;
            }
            continue;
        }
        if ((rc = get_entry_refs(x, d, e, type, mfn)))
            break;
        if (type > 1 && x->validate_depth == 1 && x->preemptible && x->cfg.preempt_entries &&
            ++done_here >= x->cfg.preempt_entries && i + 1 < PTRS_PER_TABLE) {
            p->nr_validated = (uint16_t)(i + 1);
            x->validate_depth--;
            return -ERESTART;
        }
    }
    x->validate_depth--;
    if (rc) {
        for (unsigned j = 0; j < i; j++)
            if (pte_present(t[j]))
                put_entry_refs(x, t[j], type, mfn);
        p->nr_validated = 0;
        return rc;
    }
    p->nr_validated = 0;
    return 0;
}

/* demote_lN_table: drop the references the first `upto` entries held. */
static void devalidate(struct xen *x, uint64_t mfn, unsigned type, unsigned upto)
{
    const uint64_t *t = pmem_table_peek(x->mem, mfn);
    xen_charge(x, x->cost->pv_scan);
    if (!t)
        return;
    for (unsigned i = 0; i < upto; i++)
        if (pte_present(t[i]))
            put_entry_refs(x, t[i], type, mfn);
}

/* mod_lN_entry: replace entry idx of a live level-lvl table with val, with
 * the checks and reference changes of a validated write. */
int mod_entry(struct xen *x, struct domain *d, uint64_t table, unsigned lvl, unsigned idx, pte_t val)
{
    pte_t old = pmem_read(x->mem, table, idx);
    xen_charge(x, x->cost->pv_validate_entry);
    /* XPTI: a write to the loaded kernel L4 is copied on the way back
     * (do_mmu_update sets root_pgt_changed after a successful write to the
     * current vCPU's guest_table, and only that one; the user L4 is copied
     * at the toggle that loads it anyway) */
    int loaded_l4 = lvl == 4 && table == x->guest_table;
    /* Fast path: same frame, same presence and writability: no reference changes. */
    if (pte_present(old) && pte_present(val) && pte_frame(old) == pte_frame(val) &&
        ((old ^ val) & _PAGE_RW) == 0) {
        if (val & pte_disallowed(x, lvl))
            return -EINVAL;
        pmem_write(x->mem, table, idx, val);
        x->xpti_root_changed |= loaded_l4;
        return 0;
    }
    if (pte_present(val)) {
        int rc = get_entry_refs(x, d, val, lvl, table);
        if (rc)
            return rc;
    } else if (pv_l1tf_check(x, lvl, val)) {
        return -ERESTART;              /* as mod_lN_entry: the domain is crashed, nothing written */
    }
    pmem_write(x->mem, table, idx, val);
    if (pte_present(old))
        put_entry_refs(x, old, lvl, table);
    x->xpti_root_changed |= loaded_l4;
    return 0;
}

/* The guest's direct-map entry for mfn: writable or read-only. A writable
 * mapping holds a writable type reference (refused for a live page table). */
int dmap_set(struct xen *x, struct domain *d, uint64_t mfn, int rw)
{
    struct page_info *p = frame(x, mfn);
    if (p->owner != d->id)
        return -EINVAL;
    xen_charge(x, x->cost->pv_validate_entry);
    if (rw && !(p->flags & PGF_dmap_rw)) {
        if (get_page_type(x, mfn, PGT_writable))
            return -EBUSY;
        p->flags |= PGF_dmap_rw;
    } else if (!rw && (p->flags & PGF_dmap_rw)) {
        p->flags &= (uint8_t)~PGF_dmap_rw;
        put_page_type(x, mfn);
    }
    return 0;
}

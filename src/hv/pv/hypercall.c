/* hypercall.c: the PV MMU hypercalls (Xen: do_mmu_update, do_mmuext_op,
 * do_update_va_mapping, do_multicall) and PiBooster's ptcache_op. Every
 * argument is checked as Xen checks it; the guest is never trusted. A
 * hypercall that must be preempted returns -ERESTART having recorded its
 * progress in the argument block (`done`), and is re-entered. */
#include "hv/paging.h"
#include "hv/pv/xen.h"
#include "lib/err.h"
#include <errno.h>

static int owned(struct xen *x, uint64_t mfn)
{
    return mfn < x->nframes && frame(x, mfn)->owner == x->dom->id;
}

long do_mmu_update(struct xen *x, struct mmu_update_args *a)
{
    struct domain *d = x->dom;
    for (; a->done < a->count; a->done++) {
        const struct mmu_update *u = &a->req[a->done];
        xen_charge(x, x->cost->hc_entry);
        if ((u->ptr & 7) != MMU_NORMAL_PT_UPDATE)
            return -ENOSYS;
        uint64_t mfn = u->ptr >> PAGE_SHIFT;
        unsigned idx = (unsigned)((u->ptr & (PAGE_SIZE - 1)) >> 3);
        if (!owned(x, mfn))
            return -EINVAL;
        struct page_info *p = frame(x, mfn);
        int rc;
        if (pgt_is_table(p->type) && p->type_count && (p->flags & PGF_validated)) {
            /* An L3 or L4 entry validates an L2 or L3 below it: preemptible
             * (Xen's get_page_from_l3e/l4e); the request is re-done. */
            x->preemptible = p->type >= PGT_l3;
            rc = mod_entry(x, d, mfn, p->type, idx, u->val);
            x->preemptible = 0;
        } else {
            /* Not a live page table: a checked plain write to a writable page. */
            rc = get_page_type(x, mfn, PGT_writable);
            if (!rc) {
                pmem_write(x->mem, mfn, idx, u->val);
                put_page_type(x, mfn);
            }
        }
        if (rc)
            return rc;
    }
    return 0;
}

/* On the way back to the guest: if NEW_BASEPTR / NEW_USER_BASEPTR changed
 * the tables, load the one the guest's user mode runs on (one CR3 load,
 * which flushes the non-global TLB entries: PV guests use no PCIDs). */
void xen_return_to_guest(struct xen *x, int toggled)
{
    struct domain *d = x->dom;
    if (!x->root_dirty) {
        xpti_return(x, toggled);
        return;
    }
    x->root_dirty = 0;
    x->xpti_root_changed = 1;   /* write_ptbase: root_pgt_changed */
    uint64_t root = x->guest_table_user ? x->guest_table_user : x->guest_table;
    stat_charge(x->st, CYC_ctx_switch, x->cost->cr3_write);
    x->cpu->cr3 = mfn_to_pfn(d, x->guest_table);
    cpu_hw_load_root(x->cpu, root, 0, 0);
    x->cpu_flush_stamp = ++x->tlbclock;
    xpti_return(x, toggled);
}

/* NEW_BASEPTR / NEW_USER_BASEPTR (Xen's new_guest_cr3): the slot holds its
 * own references to the L4; validating it may be preempted, as in Xen, and
 * the continuation resumes it. */
static int set_baseptr(struct xen *x, uint64_t *slot, uint64_t mfn)
{
    struct domain *d = x->dom;
    if (mfn) {
        if (!owned(x, mfn))
            return -EINVAL;
        x->preemptible = 1;
        int rc = get_page_and_type(x, mfn, d, PGT_l4);
        x->preemptible = 0;
        if (rc)
            return rc;
    }
    uint64_t old = *slot;
    *slot = mfn;
    if (old)
        put_page_and_type(x, old);
    x->root_dirty = 1;
    return 0;
}

static void local_flush(struct xen *x)
{
    x->st->cnt[CNT_tlb_flush_nonglobal]++;
    stat_charge(x->st, CYC_tlb_flush, x->cost->tlb_flush);
    cpu_hw_flush(x->cpu, 0);
    x->cpu_flush_stamp = ++x->tlbclock;
}

static void local_invlpg(struct xen *x, uint64_t va)
{
    x->st->cnt[CNT_tlb_flush_page]++;
    stat_charge(x->st, CYC_tlb_flush, x->cost->tlb_invlpg);
    cpu_hw_invlpg(x->cpu, va, x->cpu->pcid);
}

static int mmuext_one(struct xen *x, const struct mmuext_op *op)
{
    struct domain *d = x->dom;
    struct page_info *p;
    int rc;
    xen_charge(x, x->cost->hc_entry);
    switch (op->cmd) {
    case MMUEXT_PIN_L1_TABLE:
    case MMUEXT_PIN_L2_TABLE:
    case MMUEXT_PIN_L3_TABLE:
    case MMUEXT_PIN_L4_TABLE: {
        unsigned type = PGT_l1 + (op->cmd - MMUEXT_PIN_L1_TABLE);
        if (!owned(x, op->mfn))
            return -EINVAL;
        /* The pin's own references; a preempted validation keeps its state
         * (and its reference) in the frame, and the re-issued PIN resumes it. */
        x->preemptible = 1;
        rc = get_page_and_type(x, op->mfn, d, type);
        x->preemptible = 0;
        if (rc)
            return rc;
        p = frame(x, op->mfn);
        if (p->flags & PGF_pinned) {
            put_page_and_type(x, op->mfn);
            return -EINVAL;                            /* already pinned */
        }
        p->flags |= PGF_pinned;
        return 0;
    }
    case MMUEXT_UNPIN_TABLE:
        if (!owned(x, op->mfn))
            return -EINVAL;
        p = frame(x, op->mfn);
        if (!(p->flags & PGF_pinned))
            return -EINVAL;                            /* not pinned */
        p->flags &= (uint8_t)~PGF_pinned;
        put_page_and_type(x, op->mfn);
        return 0;
    case MMUEXT_NEW_BASEPTR:
        if (!op->mfn)
            return -EINVAL;
        return set_baseptr(x, &x->guest_table, op->mfn);
    case MMUEXT_NEW_USER_BASEPTR:
        return set_baseptr(x, &x->guest_table_user, op->mfn);
    case MMUEXT_TLB_FLUSH_LOCAL:
        local_flush(x);
        return 0;
    case MMUEXT_INVLPG_LOCAL:
        local_invlpg(x, op->linear_addr);
        return 0;
    case MMUEXT_TLB_FLUSH_MULTI:
        if (op->vcpumask & 1)
            local_flush(x);
        return 0;
    case MMUEXT_INVLPG_MULTI:
        if (op->vcpumask & 1)
            local_invlpg(x, op->linear_addr);
        return 0;
    default:
        return -ENOSYS;
    }
}

long do_mmuext_op(struct xen *x, struct mmuext_args *a)
{
    for (; a->done < a->count; a->done++) {
        int rc = mmuext_one(x, &a->op[a->done]);
        if (rc)
            return rc;
    }
    return 0;
}

/* The L1 table mapping user address va in the current kernel page table. */
static uint64_t guest_l1_of(struct xen *x, uint64_t va)
{
    uint64_t table = x->guest_table;
    for (unsigned lvl = 4; lvl > 1 && table; lvl--) {
        pte_t e = pmem_read(x->mem, table, pt_index(va, lvl));
        if (!pte_present(e) || (e & _PAGE_PSE))
            return 0;
        table = pte_frame(e);
    }
    return table;
}

long do_update_va_mapping(struct xen *x, struct update_va_mapping_args *a)
{
    struct domain *d = x->dom;
    int rc;
    xen_charge(x, x->cost->hc_entry);
    if (a->va >= DIRECTMAP_BASE && a->va < DIRECTMAP_BASE + (d->nr_pages << PAGE_SHIFT)) {
        uint64_t mfn = pfn_to_mfn(d, (a->va - DIRECTMAP_BASE) >> PAGE_SHIFT);
        if (!pte_present(a->val) || pte_frame(a->val) != mfn || (a->val & pte_disallowed(x, 1)))
            return -EINVAL;                     /* the direct map's layout is fixed */
        rc = dmap_set(x, d, mfn, (a->val & _PAGE_RW) != 0);
    } else {
        if (!va_canonical(a->va) || a->va >= USER_VA_END)
            return -EINVAL;
        uint64_t l1 = guest_l1_of(x, a->va);
        if (!l1 || !owned(x, l1))
            return -EINVAL;
        struct page_info *p = frame(x, l1);
        if (p->type != PGT_l1 || !p->type_count || !(p->flags & PGF_validated))
            return -EINVAL;
        rc = mod_entry(x, d, l1, 1, pt_index(a->va, 1), a->val);
    }
    if (rc)
        return rc;
    if (a->flags & UVMF_TLB_FLUSH)
        local_flush(x);
    else if (a->flags & UVMF_INVLPG)
        local_invlpg(x, a->va);
    return 0;
}

long do_ptcache_op(struct xen *x, struct ptcache_op_args *a)
{
    struct domain *d = x->dom;
    xen_charge(x, x->cost->hc_entry);
    switch (a->cmd) {
    case PTCACHE_ENABLE:
        x->ptcache = 1;
        return 0;
    case PTCACHE_DISABLE:
        x->ptcache = 0;
        return 0;
    case PTCACHE_RELEASE:
        /* In order, stopping at the first refusal, as Xen's batched
         * hypercalls do: the batch does what the same releases made one at
         * a time would, and `done` tells the guest how far it got. A page
         * named twice is released once; the second finds it uncached. Each
         * page is mapped back and invalidated as any other change is
         * (Xen >= 4.12 does not batch this path, REFERENCE.md §2). */
        for (; a->done < a->count; a->done++) {
            uint64_t mfn = a->mfn[a->done];
            if (!owned(x, mfn))
                return -EINVAL;
            struct page_info *p = frame(x, mfn);
            if (!(p->flags & PGF_ptcache))
                return -EINVAL;                 /* not a cached page */
            if (p->type != PGT_writable)
                return -EBUSY;                  /* still (or again) a page table */
            xen_charge(x, x->cost->hc_entry);
            p->flags &= (uint8_t)~PGF_ptcache;
            if (d->iommu_attached)
                vtd_flush(&d->vtd, mfn, vtd_map_page(&d->vtd, mfn, mfn, 1), x->flush_on_map);
            x->released++;
        }
        return 0;
    default:
        return -ENOSYS;
    }
}

/* A batch of hypercalls. A call that is preempted is re-entered at once,
 * unless the guest is to run before it is re-issued (xen.h: restart_to_guest)
 * or the call crashed the domain (its -ERESTART is never re-issued):
 * then the multicall returns -ERESTART with its arguments advanced to the
 * preempted call, as Xen's continuation rewrites the guest's call_list and
 * nr_calls (the preempted call's own progress is in its arguments). */
long do_multicall(struct xen *x, struct multicall_args *a)
{
    for (unsigned i = 0; i < a->count; i++) {
        struct multicall_entry *c = &a->call[i];
        xen_charge(x, x->cost->hc_entry);
        if (c->op == __HYPERVISOR_multicall) {
            c->result = -EINVAL;               /* no nesting */
            continue;
        }
        long rc = xen_dispatch(x, c->op, c->args);
        while (rc == -ERESTART && !x->restart_to_guest && !x->dom->crashed[0]) {
            /* the multicall's continuation: the guest re-issues it, a transition */
            x->continuations++;
            xen_trap(x, EXIT_HYPERCALL);
            rc = xen_dispatch(x, c->op, c->args);
        }
        if (rc == -ERESTART) {
            a->call += i;
            a->count -= i;
            return rc;
        }
        c->result = rc;
    }
    return 0;
}

/* The iret hypercall (Xen's do_iret, pv/iret.c): how a 64-bit PV kernel
 * returns to user mode, after every system call (Linux's xen_iret; with
 * VGCF_in_syscall from xen_sysret64 in kernels before 5.x) and every fault
 * or interrupt. Xen restores the frame the guest left on its stack and,
 * going back to ring 3, switches to the user L4 (toggle_guest_mode).
 * Modelled: the transition (pv_hypercall), counted by kind in hc_iret, and
 * the handler's work, cost.pv_iret. Simplified: no frame is read (memvirt
 * keeps no guest registers), and the switch of L4 with its TLB flush is not
 * charged (docs/pv.md, kernel/user mode switches). */
static long do_iret(struct xen *x)
{
    x->st->cnt[CNT_hc_iret]++;
    xen_charge(x, x->cost->pv_iret);
    return 0;
}

long xen_dispatch(struct xen *x, unsigned nr, void *arg)
{
    switch (nr) {
    case __HYPERVISOR_mmu_update: return do_mmu_update(x, arg);
    case __HYPERVISOR_mmuext_op: return do_mmuext_op(x, arg);
    case __HYPERVISOR_update_va_mapping: return do_update_va_mapping(x, arg);
    case __HYPERVISOR_multicall: return do_multicall(x, arg);
    case __HYPERVISOR_iret: return do_iret(x);
    case __HYPERVISOR_ptcache_op:   /* PiBooster's hypervisor only */
        return (x->h->pm->features & PM_PTCACHE) ? do_ptcache_op(x, arg) : -ENOSYS;
    default: return -ENOSYS;
    }
}

/* pvops_xen.c: the Xen PV backend of the guest's paravirt MMU operations
 * (Linux arch/x86/xen/mmu_pv.c and multicalls.c, REFERENCE.md §3).
 *
 * Page tables hold machine frames (direct paging): make_entry converts
 * through the p2m list the domain builder gave us, entry_pfn through the
 * read-only M2P; a not-present (PROTNONE) entry keeps the pseudo-physical
 * frame, inverted (xen_make_pte converts present entries only). Updates are queued in a per-CPU multicall buffer (32
 * entries, 512 bytes of arguments); consecutive mmu_update (and mmuext_op)
 * requests merge into one entry. In lazy MMU mode nothing is sent until the
 * mode ends or the buffer fills; outside it every queued operation is issued
 * at once (a batch of one is sent as a plain hypercall, as Linux does).
 *
 * An address space is pinned when it becomes active (exec, fork's child):
 * every table page is remapped read-only in the direct map, each PTE page
 * pinned as L1 (split PTE locks), then the pgd and the user pgd pinned as L4,
 * which makes Xen validate the tree. It is unpinned at exit before teardown.
 * A table page added to a pinned mm is remapped read-only (and PTE pages
 * pinned); one freed from it is unpinned and remapped writable. */
#include "guest/kernel.h"
#include "guest/pvops_xen.h"
#include "hv/public/xen.h"
#include "lib/err.h"
#include <stdlib.h>
#include <string.h>

/* Linux's multicall buffer (arch/x86/xen/multicalls.h): 32 entries and a
 * 512-byte argument area. Its tests are `argidx + size >= MC_ARGS`
 * (__xen_mc_entry, xen_mc_extend_args), so the area never fills to the
 * last byte: 31 mmu_updates of 16 bytes, or 21 mmuext_ops of 24, per batch. */
#define MC_BATCH 32
#define MC_ARGS 512
#define PAGE_KERNEL    (_PAGE_PRESENT | _PAGE_RW | _PAGE_ACCESSED | _PAGE_DIRTY | _PAGE_NX)
#define PAGE_KERNEL_RO (_PAGE_PRESENT | _PAGE_ACCESSED | _PAGE_NX)

enum mc_kind { MC_NONE, MC_MMU, MC_EXT, MC_UVA };

struct mc_slot {
    enum mc_kind kind;
    union {
        struct mmu_update_args mmu;
        struct mmuext_args ext;
        struct update_va_mapping_args uva;
    } a;
};

struct xen_pv {
    const struct xen_start_info *si;
    int user_pgd;
    struct multicall_entry mc[MC_BATCH];
    struct mc_slot slot[MC_BATCH];
    unsigned n;
    /* the argument area (MC_ARGS bytes in all), shared by mmu_update and
     * mmuext_op requests; each kind is kept contiguous for merging */
    struct mmu_update mmu[MC_ARGS / sizeof(struct mmu_update)];
    struct mmuext_op ext[MC_ARGS / sizeof(struct mmuext_op)];
    unsigned arg_bytes, nmmu, next;
};

static struct xen_pv *X(struct kernel *k) { return k->pv_ctx; }

static uint64_t p2m(struct kernel *k, uint64_t pfn)
{
    uint64_t mfn = xen_pfn_to_mfn(X(k)->si, pfn);
    MV_ASSERT(mfn != UINT64_MAX, "guest frame %#llx beyond the domain", (unsigned long long)pfn);
    return mfn;
}

/* The TLB invalidations a PV guest asks for are its architectural flushes
 * (it may not execute INVLPG or reload CR3 itself): it reports them to the
 * CPU's observer as it issues the request, before the hypervisor acts on
 * it, so that a hypervisor that drops or shortens a flush cannot hide that
 * from the oracle. NEW_BASEPTR and NEW_USER_BASEPTR are its CR3 loads
 * (without PCIDs: every non-global entry); an mmuext *_MULTI op or
 * update_va_mapping flag flushes this vCPU only if its mask names it. */
static void report_flushes(struct cpu *c, const struct mc_slot *s)
{
    if (s->kind == MC_UVA) {
        if (s->a.uva.flags & UVMF_TLB_FLUSH)
            cpu_arch_flush(c, FLUSH_INVPCID_NONGLOBAL, 0, 0);
        else if (s->a.uva.flags & UVMF_INVLPG)
            cpu_arch_flush(c, FLUSH_INVLPG, s->a.uva.va, c->pcid);
        return;
    }
    if (s->kind != MC_EXT)
        return;
    const uint64_t me = 1ull << c->id;
    for (unsigned i = 0; i < s->a.ext.count; i++) {
        const struct mmuext_op *op = &s->a.ext.op[i];
        switch (op->cmd) {
        case MMUEXT_NEW_BASEPTR:
        case MMUEXT_NEW_USER_BASEPTR:
        case MMUEXT_TLB_FLUSH_LOCAL:
            cpu_arch_flush(c, FLUSH_INVPCID_NONGLOBAL, 0, 0);
            break;
        case MMUEXT_TLB_FLUSH_MULTI:
            if (op->vcpumask & me)
                cpu_arch_flush(c, FLUSH_INVPCID_NONGLOBAL, 0, 0);
            break;
        case MMUEXT_INVLPG_LOCAL:
            cpu_arch_flush(c, FLUSH_INVLPG, op->linear_addr, c->pcid);
            break;
        case MMUEXT_INVLPG_MULTI:
            if (op->vcpumask & me)
                cpu_arch_flush(c, FLUSH_INVLPG, op->linear_addr, c->pcid);
            break;
        default:
            break;
        }
    }
}

static void mc_flush(struct kernel *k)
{
    struct xen_pv *x = X(k);
    if (!x->n)
        return;
    struct cpu *c = this_cpu(k);
    for (unsigned i = 0; i < x->n; i++) {
        struct mc_slot *s = &x->slot[i];
        report_flushes(c, s);
        x->mc[i].op = s->kind == MC_MMU ? __HYPERVISOR_mmu_update
                    : s->kind == MC_EXT ? __HYPERVISOR_mmuext_op : __HYPERVISOR_update_va_mapping;
        x->mc[i].args = &s->a;
        x->mc[i].result = 0;
    }
    if (x->n == 1) {
        x->mc[0].result = cpu_hypercall(c, x->mc[0].op, x->mc[0].args);
    } else {
        struct multicall_args m = { x->mc, x->n };
        stat_inc(k->st, CNT_multicalls);
        long rc = cpu_hypercall(c, __HYPERVISOR_multicall, &m);
        MV_ASSERT(rc == 0, "multicall refused (%ld)", rc);
    }
    for (unsigned i = 0; i < x->n; i++)
        MV_ASSERT(x->mc[i].result == 0, "Xen refused hypercall %u of a batch of %u (op %u): %ld",
                  i, x->n, x->mc[i].op, x->mc[i].result);
    x->n = 0;
    x->arg_bytes = 0;
    x->nmmu = x->next = 0;
}

/* xen_mc_issue(PARAVIRT_LAZY_MMU): send now unless in lazy MMU mode. */
static void mc_issue(struct kernel *k)
{
    if (!k->lazy_mmu)
        mc_flush(k);
}

/* Room for one more entry with `bytes` of arguments; flush if not. */
static struct mc_slot *mc_entry(struct kernel *k, enum mc_kind kind, unsigned bytes)
{
    struct xen_pv *x = X(k);
    if (x->n == MC_BATCH || x->arg_bytes + bytes >= MC_ARGS)
        mc_flush(k);
    struct mc_slot *s = &x->slot[x->n++];
    memset(s, 0, sizeof *s);
    s->kind = kind;
    return s;
}

/* xen_extend_mmu_update / xen_extend_mmuext_op: append to the last entry if
 * it is of the same kind, else start a new one. */
static void queue_mmu_update(struct kernel *k, uint64_t ptr, uint64_t val)
{
    struct xen_pv *x = X(k);
    struct mc_slot *s = x->n ? &x->slot[x->n - 1] : NULL;
    if (!s || s->kind != MC_MMU || x->arg_bytes + sizeof(struct mmu_update) >= MC_ARGS) {
        s = mc_entry(k, MC_MMU, sizeof(struct mmu_update));
        s->a.mmu.req = &x->mmu[x->nmmu];
    }
    x->mmu[x->nmmu++] = (struct mmu_update){ ptr, val };
    x->arg_bytes += sizeof(struct mmu_update);
    s->a.mmu.count++;
}

static void queue_ext(struct kernel *k, unsigned cmd, uint64_t mfn, uint64_t va, uint64_t mask)
{
    struct xen_pv *x = X(k);
    struct mc_slot *s = x->n ? &x->slot[x->n - 1] : NULL;
    if (!s || s->kind != MC_EXT || x->arg_bytes + sizeof(struct mmuext_op) >= MC_ARGS) {
        s = mc_entry(k, MC_EXT, sizeof(struct mmuext_op));
        s->a.ext.op = &x->ext[x->next];
    }
    struct mmuext_op *op = &x->ext[x->next++];
    *op = (struct mmuext_op){ .cmd = cmd, .vcpumask = mask };
    if (cmd == MMUEXT_INVLPG_LOCAL || cmd == MMUEXT_INVLPG_MULTI)
        op->linear_addr = va;
    else
        op->mfn = mfn;
    x->arg_bytes += sizeof(struct mmuext_op);
    s->a.ext.count++;
}

/* MULTI_update_va_mapping of the direct-map alias of pfn (no argument space:
 * its arguments live in the multicall entry). */
static void queue_dmap(struct kernel *k, uint64_t pfn, int rw, unsigned flags)
{
    struct mc_slot *s = mc_entry(k, MC_UVA, 0);
    s->a.uva.va = DIRECTMAP_BASE + (pfn << PAGE_SHIFT);
    s->a.uva.val = pte_make(p2m(k, pfn), rw ? PAGE_KERNEL : PAGE_KERNEL_RO);
    s->a.uva.flags = flags;
}

/* xen_make_pte / xen_pte_val (pte_pfn_to_mfn, pte_mfn_to_pfn): only a
 * present entry holds a machine frame; a not-present one (PROTNONE) keeps
 * the pseudo-physical frame, inverted by the L1TF mitigation like any
 * not-present entry (protnone_mask, kernel.h), and making it present again
 * converts it through the p2m. Xen checks the not-present entries it is
 * given against L1TF (xen.l1tf_check): an inverted frame passes. */
static pte_t xen_make_entry(struct kernel *k, uint64_t pfn, uint64_t flags)
{
    if (!(flags & _PAGE_PRESENT))
        return pte_make(pfn, flags) ^ protnone_mask(k, flags);
    return pte_make(p2m(k, pfn), flags);
}

static uint64_t xen_entry_pfn(struct kernel *k, pte_t e)
{
    if (!(e & _PAGE_PRESENT))
        return pte_frame(e ^ protnone_mask(k, e));
    const struct xen_start_info *si = X(k)->si;
    uint64_t pfn = si->m2p(si->m2p_ctx, pte_frame(e));
    MV_ASSERT(pfn != UINT64_MAX, "entry %#llx maps a frame that is not ours", (unsigned long long)e);
    return pfn;
}

static int pinned_table(struct kernel *k, uint64_t pfn) { return (page_of(k, pfn)->flags & PG_pinned) != 0; }

static void direct_store(struct kernel *k, uint64_t table, unsigned idx, pte_t e)
{
    stat_charge(k->st, CYC_pgtable, k->cost->pte_write);
    int rc = cpu_store(this_cpu(k), table, idx, e);
    MV_ASSERT(rc == 0, "store to unpinned table %#llx trapped", (unsigned long long)table);
}

static void xen_set_entry(struct kernel *k, struct mm *mm, uint64_t table, unsigned lvl, unsigned idx, pte_t e)
{
    uint64_t ptr = (p2m(k, table) << PAGE_SHIFT) | ((uint64_t)idx << 3) | MMU_NORMAL_PT_UPDATE;
    if (lvl == 1) {
        /* xen_set_pte: batched in lazy mode, else one mmu_update at once */
        if (k->lazy_mmu) {
            queue_mmu_update(k, ptr, e);
        } else {
            struct mmu_update u = { ptr, e };
            struct mmu_update_args a = { &u, 1, 0 };
            long rc = cpu_hypercall(this_cpu(k), __HYPERVISOR_mmu_update, &a);
            MV_ASSERT(rc == 0, "mmu_update refused (%ld)", rc);
        }
        return;
    }
    int user_slot = lvl == 4 && idx < 256 && mm->user_pgd && table == mm->pgd;
    if (pinned_table(k, table)) {
        queue_mmu_update(k, ptr, e);
        if (user_slot)
            queue_mmu_update(k, (p2m(k, mm->user_pgd) << PAGE_SHIFT) | ((uint64_t)idx << 3), e);
        mc_issue(k);
    } else {
        direct_store(k, table, idx, e);
        if (user_slot)
            direct_store(k, mm->user_pgd, idx, e);
    }
}

static void xen_pgd_alloc(struct kernel *k, struct mm *mm)
{
    if (X(k)->user_pgd)
        mm->user_pgd = pt_alloc(k, mm, 4);
}

static void xen_pgd_free(struct kernel *k, struct mm *mm)
{
    if (mm->user_pgd) {
        pt_free(k, mm, mm->user_pgd, 4);
        mm->user_pgd = 0;
    }
}

/* xen_alloc_ptpage: a table about to be linked into a pinned mm is made
 * read-only and, an L1, pinned; one already pinned (a table mremap moves
 * whole, move_normal_pmd) is not pinned again (Linux checks PagePinned). */
static void xen_alloc_pt(struct kernel *k, struct mm *mm, uint64_t pfn, unsigned lvl)
{
    if (!mm->pinned)
        return;
    struct page *p = page_of(k, pfn);
    int was_pinned = (p->flags & PG_pinned) != 0;
    p->flags |= PG_pinned;
    queue_dmap(k, pfn, 0, 0);
    if (lvl == 1 && !was_pinned)
        queue_ext(k, MMUEXT_PIN_L1_TABLE, p2m(k, pfn), 0, 0);
    mc_issue(k);
}

static void xen_release_pt(struct kernel *k, struct mm *mm, uint64_t pfn, unsigned lvl)
{
    struct page *p = page_of(k, pfn);
    if (!(p->flags & PG_pinned))
        return;
    if (lvl == 1)
        queue_ext(k, MMUEXT_UNPIN_TABLE, p2m(k, pfn), 0, 0);
    queue_dmap(k, pfn, 1, 0);
    mc_issue(k);
    p->flags &= (uint8_t)~PG_pinned;
}

/* Visit mm's tables below the pgd, parents before children: the user part,
 * and for the kernel's own address space (pinned once at boot, as the domain
 * builder pins the initial tables) the kernel half it shares with all. */
static void walk_tables(struct kernel *k, struct mm *mm, void (*fn)(struct kernel *, uint64_t, unsigned))
{
    unsigned end = mm == &k->init_mm ? 512 : 256;
    const pte_t *t4 = kmap_table(k, mm->pgd);
    for (unsigned i = 0; i < end; i++) {
        if (!pte_present(t4[i]))
            continue;
        uint64_t l3 = xen_entry_pfn(k, t4[i]);
        fn(k, l3, 3);
        const pte_t *t3 = kmap_table(k, l3);
        for (unsigned j = 0; j < 512; j++) {
            if (!pte_present(t3[j]))
                continue;
            uint64_t l2 = xen_entry_pfn(k, t3[j]);
            fn(k, l2, 2);
            const pte_t *t2 = kmap_table(k, l2);
            for (unsigned m = 0; m < 512; m++)
                if (pte_present(t2[m]))
                    fn(k, xen_entry_pfn(k, t2[m]), 1);
        }
    }
}

static void pin_page(struct kernel *k, uint64_t pfn, unsigned lvl)
{
    page_of(k, pfn)->flags |= PG_pinned;
    queue_dmap(k, pfn, 0, lvl == 4 ? UVMF_TLB_FLUSH : 0);
    if (lvl == 1)
        queue_ext(k, MMUEXT_PIN_L1_TABLE, p2m(k, pfn), 0, 0);
}

static void unpin_page(struct kernel *k, uint64_t pfn, unsigned lvl)
{
    struct page *p = page_of(k, pfn);
    if (!(p->flags & PG_pinned))
        return;
    if (lvl == 1)
        queue_ext(k, MMUEXT_UNPIN_TABLE, p2m(k, pfn), 0, 0);
    queue_dmap(k, pfn, 1, lvl == 4 ? UVMF_TLB_FLUSH : 0);
    p->flags &= (uint8_t)~PG_pinned;
}

/* xen_pgd_pin */
static void pgd_pin(struct kernel *k, struct mm *mm)
{
    uint64_t t0 = k->st->now;
    walk_tables(k, mm, pin_page);
    pin_page(k, mm->pgd, 4);
    queue_ext(k, MMUEXT_PIN_L4_TABLE, p2m(k, mm->pgd), 0, 0);
    if (mm->user_pgd) {
        pin_page(k, mm->user_pgd, 4);
        queue_ext(k, MMUEXT_PIN_L4_TABLE, p2m(k, mm->user_pgd), 0, 0);
    }
    mc_flush(k);
    mm->pinned = 1;
    stat_add(k->st, CNT_pt_pin_cycles, k->st->now - t0);
}

/* xen_pgd_unpin */
static void pgd_unpin(struct kernel *k, struct mm *mm)
{
    uint64_t t0 = k->st->now;
    queue_ext(k, MMUEXT_UNPIN_TABLE, p2m(k, mm->pgd), 0, 0);
    if (mm->user_pgd) {
        queue_ext(k, MMUEXT_UNPIN_TABLE, p2m(k, mm->user_pgd), 0, 0);
        unpin_page(k, mm->user_pgd, 4);
    }
    walk_tables(k, mm, unpin_page);
    unpin_page(k, mm->pgd, 4);
    mc_flush(k);
    mm->pinned = 0;
    stat_add(k->st, CNT_pt_unpin_cycles, k->st->now - t0);
}

static void xen_activate_mm(struct kernel *k, struct mm *prev, struct mm *next)
{
    if (!next->pinned)
        pgd_pin(k, next);
}

static void xen_dup_mmap(struct kernel *k, struct mm *oldmm, struct mm *mm)
{
    if (!mm->pinned)
        pgd_pin(k, mm);
}

static void xen_exit_mmap(struct kernel *k, struct mm *mm)
{
    if (mm->pinned)
        pgd_unpin(k, mm);
}

/* xen_write_cr3: NEW_BASEPTR and NEW_USER_BASEPTR merged in one entry. */
static void xen_write_cr3(struct kernel *k, struct mm *mm, uint16_t pcid, int noflush)
{
    this_cpu(k)->st->cnt[CNT_ctx_switch]++;
    queue_ext(k, MMUEXT_NEW_BASEPTR, p2m(k, mm->pgd), 0, 0);
    queue_ext(k, MMUEXT_NEW_USER_BASEPTR, mm->user_pgd ? p2m(k, mm->user_pgd) : 0, 0, 0);
    mc_flush(k);
}

static void xen_flush_one_user(struct kernel *k, uint64_t va)
{
    queue_ext(k, MMUEXT_INVLPG_LOCAL, 0, va, 0);
    mc_issue(k);
}

static void xen_flush_local(struct kernel *k)
{
    queue_ext(k, MMUEXT_TLB_FLUSH_LOCAL, 0, 0, 0);
    mc_issue(k);
}

static void xen_flush_multi(struct kernel *k, uint64_t cpumask, struct mm *mm, uint64_t start, uint64_t end)
{
    if (end - start == PAGE_SIZE)
        queue_ext(k, MMUEXT_INVLPG_MULTI, 0, start, cpumask);
    else
        queue_ext(k, MMUEXT_TLB_FLUSH_MULTI, 0, 0, cpumask);
    mc_issue(k);
}

static void xen_lazy_leave(struct kernel *k)
{
    mc_flush(k);
}

/* xen_iret: every return to user mode is the iret hypercall (Linux's
 * xenpv_restore_regs_and_return_to_usermode; a system call's too, as the
 * old xen_sysret64 was), made directly, not batched: nothing may be left
 * in the multicall buffer by then. */
static void xen_iret(struct kernel *k)
{
    MV_ASSERT(!X(k)->n, "return to user with %u hypercalls unsent", X(k)->n);
    long rc = cpu_hypercall(this_cpu(k), __HYPERVISOR_iret, NULL);
    MV_ASSERT(rc == 0, "iret refused (%ld)", rc);
}

static void xen_ptcache_ctl(struct kernel *k, int enable)
{
    mc_flush(k);
    struct ptcache_op_args a = { enable ? PTCACHE_ENABLE : PTCACHE_DISABLE, NULL, 0, 0 };
    long rc = cpu_hypercall(this_cpu(k), __HYPERVISOR_ptcache_op, &a);
    MV_ASSERT(rc == 0, "ptcache_op refused (%ld)", rc);
}

static void xen_ptcache_release(struct kernel *k, const uint64_t *pfns, unsigned n)
{
    mc_flush(k);
    uint64_t *mfn = mv_malloc(n * sizeof *mfn);
    for (unsigned i = 0; i < n; i++)
        mfn[i] = p2m(k, pfns[i]);
    struct ptcache_op_args a = { PTCACHE_RELEASE, mfn, n, 0 };
    long rc = cpu_hypercall(this_cpu(k), __HYPERVISOR_ptcache_op, &a);
    MV_ASSERT(rc == 0, "ptcache release refused (%ld)", rc);
    free(mfn);
}

const struct pv_mmu_ops pv_xen_ops = {
    .name = "xen",
    .make_entry = xen_make_entry,
    .entry_pfn = xen_entry_pfn,
    .set_entry = xen_set_entry,
    .pgd_alloc = xen_pgd_alloc,
    .pgd_free = xen_pgd_free,
    .alloc_pt = xen_alloc_pt,
    .release_pt = xen_release_pt,
    .activate_mm = xen_activate_mm,
    .dup_mmap = xen_dup_mmap,
    .exit_mmap = xen_exit_mmap,
    .write_cr3 = xen_write_cr3,
    .flush_tlb_one_user = xen_flush_one_user,
    .flush_tlb_local = xen_flush_local,
    .flush_tlb_multi = xen_flush_multi,
    .lazy_mmu_leave = xen_lazy_leave,
    .iret = xen_iret,
    .ptcache_ctl = xen_ptcache_ctl,
    .ptcache_release = xen_ptcache_release,
    .pcid_capable = 0,
};

void *pv_xen_create(const struct xen_start_info *si, int user_pgd)
{
    struct xen_pv *x = mv_calloc(1, sizeof *x);
    x->si = si;
    x->user_pgd = user_pgd;
    return x;
}

void pv_xen_destroy(void *ctx)
{
    free(ctx);
}

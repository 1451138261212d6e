/* fuzz_pv_hypercalls.c: a stateful libFuzzer target for the Xen PV
 * hypervisor (src/hv/pv/) under a hostile guest kernel. Each input boots a
 * PV guest (pv or pv-pibooster, with or without preemption, the window of
 * xen.h's restart_to_guest, linear page tables, IOMMU sync, the L1TF
 * check, which ends the input when it crashes the domain), builds a small
 * process address space with raw hypercalls (pinned, loaded as the user
 * base pointer), then reads the rest of the input as a sequence of guest
 * operations on its vCPU:
 *   mmu_update, mmuext_op (every command, and unknown ones), update_va_mapping,
 *   a kernel's building of a new table chain (plain writes, read-only, pin),
 *   multicall (nested too), ptcache_op, a re-issue of a call that was
 *   preempted and returned to the guest, stores (ptwr) and loads, MOV CR3,
 *   user accesses (each after the host prefetch's peek at the tables) and
 *   the page faults they raise, TLB-flush instructions,
 *   DMA by the NIC and the disk with rings the guest programmed,
 * with machine frames drawn from sets that matter (the guest's own frames,
 * its live tables, the kernel's, frames beyond memory, INVALID_MFN, I/O
 * space, Xen's own, the hypervisor's heap, the IOMMU root and I/O tables).
 * After every operation it checks that nothing aborted (an MV_ASSERT is an
 * abort, which libFuzzer reports), that the security invariants and the
 * reference recount hold (pv_check), and that the hardware walks only a
 * validated L4 that a base pointer holds.
 *
 *   make fuzz                          libFuzzer, ASan and UBSan, FUZZ_SECONDS
 *   fuzz_pv_hypercalls FILE|DIR...     (without libFuzzer) replays inputs: the
 *                                      seed corpus in make test
 *   FUZZ_PV_TRACE=1                    prints every operation and its result,
 *                                      then how far the input got */
#include "guest/ptcache.h"
#include "hv/paging.h"
#include "hv/pv/xen.h"
#include "fuzz_input.h"
#include "lib/err.h"
#include "sim/config.h"
#include "sim/machine.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ---- the machine and what the hostile kernel holds --------------------------- */

#define NPOOL 8
#define NPENDING 4
#define MAXSET 48
#define VA0 0x400000ull          /* L4 0, L3 0, L2 2 */

#define TABLE_RW (_PAGE_PRESENT | _PAGE_RW | _PAGE_USER | _PAGE_ACCESSED | _PAGE_DIRTY)
#define TABLE_RO (_PAGE_PRESENT | _PAGE_USER | _PAGE_ACCESSED)
#define USER_RW (TABLE_RW | _PAGE_NX)
#define USER_RO (TABLE_RO | _PAGE_NX)
#define KERNEL_RW (_PAGE_PRESENT | _PAGE_RW | _PAGE_ACCESSED | _PAGE_DIRTY | _PAGE_NX)
#define KERNEL_RO (_PAGE_PRESENT | _PAGE_ACCESSED | _PAGE_NX)

struct call;

struct fz {
    struct sim_config cfg;
    struct machine m;
    struct xen *x;
    struct hv *h;
    struct cpu *c;
    uint64_t pool[NPOOL];        /* guest frames of the hostile kernel's own */
    uint64_t tree[6];            /* its process: L4, L3, L2, L1, two data pages */
    uint64_t mfn[MAXSET], gfn[MAXSET];
    unsigned nmfn, ngfn;
    struct call *pending[NPENDING];
    int trace;
    unsigned step;
};

static void bad(struct fz *f, const char *what)
{
    fprintf(stderr, "fuzz_pv_hypercalls: after operation %u: %s\n", f->step, what);
    abort();
}

static long hypercall(struct fz *f, unsigned nr, void *arg) { return cpu_hypercall(f->c, nr, arg); }

static void must(struct fz *f, long rc, const char *what)
{
    if (rc)
        bad(f, what);   /* setup: the guest's own well-formed requests */
}

static long mmu1(struct fz *f, uint64_t table_mfn, unsigned idx, uint64_t val)
{
    struct mmu_update u = { (table_mfn << PAGE_SHIFT) | ((uint64_t)idx << 3), val };
    struct mmu_update_args a = { &u, 1, 0 };
    return hypercall(f, __HYPERVISOR_mmu_update, &a);
}

static long ext1(struct fz *f, unsigned cmd, uint64_t mfn)
{
    struct mmuext_op op = { .cmd = cmd, .mfn = mfn };
    struct mmuext_args a = { &op, 1, 0 };
    return hypercall(f, __HYPERVISOR_mmuext_op, &a);
}

static long dmap(struct fz *f, uint64_t pfn, int rw)
{
    struct update_va_mapping_args a = { DIRECTMAP_BASE + (pfn << PAGE_SHIFT),
                                        pte_make(pfn_to_mfn(f->x->dom, pfn), rw ? KERNEL_RW : KERNEL_RO), 0 };
    return hypercall(f, __HYPERVISOR_update_va_mapping, &a);
}

static uint64_t p2m(struct fz *f, uint64_t pfn) { return pfn_to_mfn(f->x->dom, pfn); }

/* A machine frame that is neither the domain's nor in Xen's heap. */
static uint64_t foreign_frame(struct fz *f)
{
    for (uint64_t e = (f->x->nframes >> P2M_EXTENT_SHIFT) - 1; e > 8; e--) {
        uint64_t mfn = (e << P2M_EXTENT_SHIFT) + 17;
        if (mfn_to_pfn(f->x->dom, mfn) == UINT64_MAX && !hv_heap_frame(f->h, mfn))
            return mfn;
    }
    return 0x900;
}

static void add_mfn(struct fz *f, uint64_t mfn)
{
    if (f->nmfn < MAXSET)
        f->mfn[f->nmfn++] = mfn;
}

static void add_gfn(struct fz *f, uint64_t gfn)
{
    if (f->ngfn < MAXSET)
        f->gfn[f->ngfn++] = gfn;
}

/* Boot with the parameters the first bytes choose; build the process. */
static int setup(struct fz *f, struct in *in)
{
    uint8_t h0 = u8(in), h1 = u8(in);
    /* preemption: never, after 1 or 2 entries, or after 1-64 (a third byte) */
    char preempt[48];
    unsigned every = (h0 >> 1) & 3;
    if (every == 3)
        every = 1 + u8(in) % 64;
    snprintf(preempt, sizeof preempt, "xen.preempt_entries=%u", every);
    const char *params[] = {
        "hv.nic_ring=8",
        "memwalk.ws_mb=4",               /* the workload is not run; its size must fit the guest */
        preempt,
        (h0 & 0x08) ? "xen.linear_pt=false" : "xen.linear_pt=true",
        (h0 & 0x10) ? "xen.iommu_profile=xen-4.17" : "xen.iommu_profile=xen-4.2",
        (h0 & 0x20) ? "xen.iommu_sync=false" : "xen.iommu_sync=true",
        (h1 & 0x01) ? "iommu.caching_mode=true" : "iommu.caching_mode=false",
        (h1 & 0x04) ? "xen.l1tf_check=false" : "xen.l1tf_check=true",
        (h1 & 0x08) ? "iommu.units=2" : "iommu.units=1",
        NULL,
    };
    if (config_init(&f->cfg, "memwalk"))
        bad(f, "config_init");
    f->cfg.quiet = 1;
    for (unsigned i = 0; params[i]; i++)
        if (config_param(&f->cfg, params[i]))
            bad(f, params[i]);
    /* A small guest (below guest.ram_mb's floor for runs): booting it, and
     * the domain builder's I/O mapping of every frame, dominate each input. */
    f->cfg.guest.ram_mb = 32;
    if (config_validate(&f->cfg))
        bad(f, "config_validate");
    const struct mode_def *md = mode_find((h0 & 1) ? "pv-pibooster" : "pv");
    if (!md || machine_init(&f->m, &f->cfg, md))
        bad(f, "machine_init");
    f->h = f->m.hv;
    f->x = XEN(f->h);
    f->c = &f->m.cpu;
    f->c->pf.backed = 0;   /* the host prefetch on, whatever the tables' size */
    struct kernel *k = &f->m.k;

    for (unsigned i = 0; i < NPOOL; i++)
        f->pool[i] = kalloc_page(k, 0);
    for (unsigned i = 0; i < 6; i++)
        f->tree[i] = kalloc_page(k, 0);
    uint64_t l4 = p2m(f, f->tree[0]), l3 = p2m(f, f->tree[1]), l2 = p2m(f, f->tree[2]), l1 = p2m(f, f->tree[3]);
    uint64_t ipgd = p2m(f, k->init_mm.pgd);
    /* the process's tables, written as plain memory, then made read-only and
     * pinned (which validates them), and loaded as the user base pointer */
    must(f, mmu1(f, l4, 0, pte_make(l3, TABLE_RW)), "setup: L4 entry");
    for (unsigned i = 256; i < 258; i++)
        must(f, mmu1(f, l4, i, pmem_read(&f->m.mem, ipgd, i)), "setup: kernel slots");
    must(f, mmu1(f, l3, 0, pte_make(l2, TABLE_RW)), "setup: L3 entry");
    must(f, mmu1(f, l2, 2, pte_make(l1, TABLE_RW)), "setup: L2 entry");
    must(f, mmu1(f, l1, 0, pte_make(p2m(f, f->tree[4]), USER_RW)), "setup: L1 entry");
    must(f, mmu1(f, l1, 1, pte_make(p2m(f, f->tree[5]), USER_RO)), "setup: L1 entry");
    for (unsigned i = 0; i < 4; i++)
        must(f, dmap(f, f->tree[i], 0), "setup: read-only tables");
    must(f, ext1(f, MMUEXT_PIN_L4_TABLE, l4), "setup: pin");
    must(f, ext1(f, MMUEXT_NEW_USER_BASEPTR, l4), "setup: user base pointer");

    /* the frames that matter */
    for (unsigned i = 0; i < NPOOL; i++) {
        add_mfn(f, p2m(f, f->pool[i]));
        add_gfn(f, f->pool[i]);
    }
    for (unsigned i = 0; i < 6; i++) {
        add_mfn(f, p2m(f, f->tree[i]));
        add_gfn(f, f->tree[i]);
    }
    /* the kernel's tables: its L4 and, below slot 256, the first table of
     * each level there is (validated tables of other levels, for linear
     * entries); always three, the last one found standing in for the rest,
     * so the sets keep their layout (tests/fuzz/gen_pv_seeds.py) */
    add_mfn(f, ipgd);
    add_gfn(f, k->init_mm.pgd);
    uint64_t table = ipgd;
    for (unsigned lvl = 4, i = 256; lvl > 1; lvl--, i = 0) {
        for (; i < PTRS_PER_TABLE && !pte_present(pmem_read(&f->m.mem, table, i)); i++)
            ;
        if (i < PTRS_PER_TABLE)
            table = pte_frame(pmem_read(&f->m.mem, table, i));
        add_mfn(f, table);
        add_gfn(f, mfn_to_pfn(f->x->dom, table));
    }
    const uint64_t invalid = PTE_FRAME_MASK >> PAGE_SHIFT;
    uint64_t io_l4e = pmem_read(&f->m.mem, f->x->dom->vtd.root, 0);
    const uint64_t special[] = { f->x->nframes, f->x->nframes + 77, invalid, invalid - 1, 0, 0x20, 0x800,
                                 hv_heap_free_frame(f->h, 0), hv_heap_free_frame(f->h, f->h->nheap - 1),
                                 f->x->dom->vtd.root,
                                 pte_present(io_l4e) ? pte_frame(io_l4e) : 1, foreign_frame(f) };
    for (unsigned i = 0; i < sizeof special / sizeof special[0]; i++)
        add_mfn(f, special[i]);
    const uint64_t nr = f->x->dom->nr_pages;
    const uint64_t gspecial[] = { nr, nr + 1, 1ull << 40, UINT64_MAX, 0 };
    for (unsigned i = 0; i < sizeof gspecial / sizeof gspecial[0]; i++)
        add_gfn(f, gspecial[i]);
    f->x->restart_to_guest = (h1 & 0x02) != 0;
    return 0;
}

/* ---- drawing arguments --------------------------------------------------------- */

static uint64_t pick_mfn(struct fz *f, struct in *in)
{
    uint8_t b = u8(in);
    if (b == 0xff)
        return u64(in) & (PTE_FRAME_MASK >> PAGE_SHIFT);
    return f->mfn[b % f->nmfn];
}

static uint64_t pick_gfn(struct fz *f, struct in *in)
{
    uint8_t b = u8(in);
    if (b == 0xff)
        return u64(in);
    return f->gfn[b % f->ngfn];
}

static unsigned pick_idx(struct in *in)
{
    static const unsigned idx[] = { 0, 1, 2, 3, 7, 100, 256, 257, 511 };
    uint8_t b = u8(in);
    if (b < 2 * sizeof idx / sizeof idx[0])
        return idx[b % (sizeof idx / sizeof idx[0])];
    return (unsigned)(u16(in) & 511);
}

static uint64_t pick_val(struct fz *f, struct in *in)
{
    static const uint64_t flags[] = { TABLE_RW, TABLE_RO, USER_RW, USER_RO, KERNEL_RW, KERNEL_RO };
    uint8_t b = u8(in);
    if (b < 16)
        return 0;
    if (b == 0xff)
        return u64(in);
    uint64_t fl = flags[b % (sizeof flags / sizeof flags[0])];
    if (b & 0x80) {                      /* and some other bits */
        uint16_t x = u16(in);
        fl ^= x & 0xfff;
        if (x & 0x1000)
            fl ^= _PAGE_NX;
        if (x & 0x2000)
            fl ^= 1ull << 52;
        if (x & 0x4000)
            fl ^= 1ull << 62;
    }
    return pte_make(pick_mfn(f, in), fl);
}

static uint64_t pick_va(struct fz *f, struct in *in)
{
    uint8_t b = u8(in);
    switch (b % 8) {
    case 0: case 1: case 2: return VA0 + (uint64_t)((b >> 3) & 7) * PAGE_SIZE;
    case 3: return DIRECTMAP_BASE + (pick_gfn(f, in) << PAGE_SHIFT);
    case 4: return ((uint64_t)(b >> 3) << 30) | VA0;
    case 5: return USER_VA_END - PAGE_SIZE * (b >> 3);
    case 6: return (1ull << 47) + ((uint64_t)b << 12);      /* not canonical */
    default: return u64(in);
    }
}

static unsigned pick_ext_cmd(struct in *in)
{
    static const unsigned cmd[] = {
        MMUEXT_PIN_L1_TABLE, MMUEXT_PIN_L2_TABLE, MMUEXT_PIN_L3_TABLE, MMUEXT_PIN_L4_TABLE,
        MMUEXT_PIN_L1_TABLE, MMUEXT_PIN_L2_TABLE, MMUEXT_PIN_L3_TABLE, MMUEXT_PIN_L4_TABLE,
        MMUEXT_UNPIN_TABLE, MMUEXT_UNPIN_TABLE, MMUEXT_NEW_BASEPTR, MMUEXT_NEW_USER_BASEPTR,
        MMUEXT_NEW_BASEPTR, MMUEXT_NEW_USER_BASEPTR, MMUEXT_TLB_FLUSH_LOCAL, MMUEXT_INVLPG_LOCAL,
        MMUEXT_TLB_FLUSH_MULTI, MMUEXT_INVLPG_MULTI, 10, 11, 12, 13, 16, 17, 18, 19, 20,
    };
    uint8_t b = u8(in);
    if (b == 0xff)
        return u32(in);
    return cmd[b % (sizeof cmd / sizeof cmd[0])];
}

/* ---- hypercalls whose arguments outlive the call ---------------------------------- */

struct call {
    unsigned nr;
    void *arg;
    struct mmu_update req[4];
    struct mmu_update_args mu;
    struct mmuext_op op[3];
    struct mmuext_args me;
    struct update_va_mapping_args uva;
    uint64_t mfns[4];
    struct ptcache_op_args pc;
    struct multicall_entry mc[3];
    struct multicall_args mca;
    struct call *sub[3];
};

static void call_free(struct call *c)
{
    if (!c)
        return;
    for (unsigned i = 0; i < 3; i++)
        call_free(c->sub[i]);
    free(c);
}

static struct call *gen_call(struct fz *f, struct in *in, int depth)
{
    struct call *c = calloc(1, sizeof *c);
    if (!c)
        abort();
    uint8_t kind = u8(in);
    switch (kind % (depth ? 7 : 8)) {
    case 0:
    case 1: {
        unsigned n = 1 + u8(in) % 4;
        for (unsigned i = 0; i < n; i++) {
            uint8_t b = u8(in);
            unsigned cmd = b < 240 ? MMU_NORMAL_PT_UPDATE : b & 7;
            uint64_t table = pick_mfn(f, in);
            unsigned idx = pick_idx(in);
            c->req[i].ptr = (table << PAGE_SHIFT) | ((uint64_t)idx << 3) | cmd;
            c->req[i].val = pick_val(f, in);
        }
        c->mu = (struct mmu_update_args){ c->req, n, 0 };
        c->nr = __HYPERVISOR_mmu_update;
        c->arg = &c->mu;
        break;
    }
    case 2:
    case 3: {
        unsigned n = 1 + u8(in) % 3;
        for (unsigned i = 0; i < n; i++) {
            c->op[i].cmd = pick_ext_cmd(in);
            if (c->op[i].cmd == MMUEXT_INVLPG_LOCAL || c->op[i].cmd == MMUEXT_INVLPG_MULTI)
                c->op[i].linear_addr = pick_va(f, in);
            else
                c->op[i].mfn = (u8(in) < 8) ? 0 : pick_mfn(f, in);
            c->op[i].vcpumask = u8(in);
        }
        c->me = (struct mmuext_args){ c->op, n, 0 };
        c->nr = __HYPERVISOR_mmuext_op;
        c->arg = &c->me;
        break;
    }
    case 4:
        c->uva.va = pick_va(f, in);
        if (c->uva.va >= DIRECTMAP_BASE && u8(in) < 200) {
            /* the direct map: mostly its own frame, writable or not */
            uint64_t pfn = (c->uva.va - DIRECTMAP_BASE) >> PAGE_SHIFT;
            uint64_t mfn = pfn_to_mfn(f->x->dom, pfn);
            c->uva.val = pte_make(mfn == UINT64_MAX ? 0 : mfn, (u8(in) & 1) ? KERNEL_RW : KERNEL_RO);
        } else {
            c->uva.val = pick_val(f, in);
        }
        c->uva.flags = u8(in) % 4;
        c->nr = __HYPERVISOR_update_va_mapping;
        c->arg = &c->uva;
        break;
    case 5: {
        c->pc.cmd = u8(in) % 5;
        c->pc.count = u8(in) % 5;
        for (unsigned i = 0; i < c->pc.count; i++)
            c->mfns[i] = pick_mfn(f, in);
        c->pc.mfn = c->mfns;
        c->nr = __HYPERVISOR_ptcache_op;
        c->arg = &c->pc;
        break;
    }
    case 6:
        /* Any other hypercall number (-ENOSYS; iret, 23, takes no arguments
         * and succeeds, alone or inside a multicall), or inside a multicall
         * a nested one (refused). No arguments: memvirt passes arguments by
         * host pointer, so a bad guest pointer (Xen's -EFAULT) has no model. */
        c->nr = u8(in);
        if (c->nr == __HYPERVISOR_mmu_update || c->nr == __HYPERVISOR_mmuext_op ||
            c->nr == __HYPERVISOR_update_va_mapping || c->nr == __HYPERVISOR_multicall ||
            c->nr == __HYPERVISOR_ptcache_op)
            c->nr = 200;
        if (depth && (kind & 0x80))
            c->nr = __HYPERVISOR_multicall;
        c->arg = NULL;
        break;
    default: {
        unsigned n = 1 + u8(in) % 3;
        for (unsigned i = 0; i < n; i++) {
            c->sub[i] = gen_call(f, in, 1);
            c->mc[i] = (struct multicall_entry){ c->sub[i]->nr, c->sub[i]->arg, 99 };
        }
        c->mca = (struct multicall_args){ c->mc, n };
        c->nr = __HYPERVISOR_multicall;
        c->arg = &c->mca;
        break;
    }
    }
    return c;
}

/* Issue a call; a call preempted back to the guest waits to be re-issued
 * (or is abandoned, when there are too many). */
static long issue(struct fz *f, struct call *c)
{
    long rc = hypercall(f, c->nr, c->arg);
    if (rc != -ERESTART) {
        call_free(c);
        return rc;
    }
    for (unsigned i = 0; i < NPENDING; i++)
        if (!f->pending[i]) {
            f->pending[i] = c;
            return rc;
        }
    call_free(f->pending[0]);          /* the guest never re-issues the oldest */
    memmove(f->pending, f->pending + 1, (NPENDING - 1) * sizeof *f->pending);
    f->pending[NPENDING - 1] = c;
    return rc;
}

/* ---- the invariants --------------------------------------------------------------- */

static void check(struct fz *f)
{
    char msg[512] = "";
    if (pv_check(f->x, msg, sizeof msg))
        bad(f, msg);
    /* the hardware walks only a validated L4 a base pointer holds */
    uint64_t root = f->c->hw_root;
    if (root != f->x->guest_table && root != f->x->guest_table_user)
        bad(f, "the loaded root is no base pointer");
    if (root) {
        const struct page_info *p = frame(f->x, root);
        if (p->type != PGT_l4 || !p->type_count || !(p->flags & PGF_validated))
            bad(f, "the loaded root is not a validated L4");
    }
}

/* ---- one operation ----------------------------------------------------------------- */

/* What a kernel does to give a process new tables: a chain of 1-4 pool
 * frames, each table's entries k and k + 1 naming the next (the last an L1
 * mapping a pool page writable), written as plain memory; then, as the
 * input says, made read-only in the direct map and pinned at the chain's
 * level (a PIN that may be preempted and wait for a re-issue). Every step is
 * an ordinary, checked request, refused or not as the frames' state says. */
static long build_chain(struct fz *f, struct in *in)
{
    uint8_t b = u8(in);
    unsigned levels = 1 + b % 4;
    uint64_t chain[4];
    for (unsigned i = 0; i < levels; i++)
        chain[i] = f->pool[u8(in) % NPOOL];
    uint64_t data = f->pool[u8(in) % NPOOL];
    unsigned k = u8(in) % 4;
    for (unsigned i = 0; i < levels; i++) {
        uint64_t next = i + 1 < levels ? p2m(f, chain[i + 1]) : p2m(f, data);
        uint64_t flags = i + 1 < levels ? TABLE_RW : USER_RW;
        (void)mmu1(f, p2m(f, chain[i]), k, pte_make(next, flags));
        (void)mmu1(f, p2m(f, chain[i]), k + 1, pte_make(next, flags));
    }
    if (b & 0x10)
        for (unsigned i = 0; i < levels; i++)
            (void)dmap(f, chain[i], 0);
    if (!(b & 0x20))
        return 0;
    struct call *c = calloc(1, sizeof *c);
    if (!c)
        abort();
    c->op[0] = (struct mmuext_op){ .cmd = MMUEXT_PIN_L1_TABLE + levels - 1, .mfn = p2m(f, chain[0]) };
    c->me = (struct mmuext_args){ c->op, 1, 0 };
    c->nr = __HYPERVISOR_mmuext_op;
    c->arg = &c->me;
    return issue(f, c);
}

static void op(struct fz *f, struct in *in)
{
    uint8_t o = u8(in);
    long rc = 0;
    const char *what;
    switch (o % 16) {
    case 5:                                        /* a table chain, from the pool */
        rc = build_chain(f, in);
        what = "build";
        break;
    case 0: case 1: case 2: case 3: case 4: {
        struct call *c = gen_call(f, in, 0);
        unsigned nr = c->nr;
        rc = issue(f, c);
        if (f->trace)
            fprintf(stderr, "%u: hypercall %u -> %ld\n", f->step, nr, rc);
        return;
    }
    case 6: {                                      /* re-issue a preempted call */
        unsigned i = u8(in) % NPENDING;
        struct call *c = f->pending[i];
        what = "re-issue";
        if (c) {
            f->pending[i] = NULL;
            rc = issue(f, c);
        }
        break;
    }
    case 7: {                                      /* a store: ptwr, or plain memory */
        uint64_t gfn = pick_gfn(f, in);
        unsigned idx = pick_idx(in);
        rc = cpu_store(f->c, gfn, idx, pick_val(f, in));
        what = "store";
        break;
    }
    case 8: {
        uint64_t gfn = pick_gfn(f, in);
        (void)cpu_load(f->c, gfn, pick_idx(in));
        what = "load";
        break;
    }
    case 9: {
        uint64_t gfn = pick_gfn(f, in);
        cpu_write_cr3(f->c, gfn, 0, u8(in) & 1);
        what = "mov cr3";
        break;
    }
    case 10: case 11: {                            /* a user access, and its fault */
        uint64_t va = pick_va(f, in), mfn;
        enum access acc = (enum access)(u8(in) % 3);
        if (cpu_prefetching(f->c))   /* the host prefetch peeks at the hostile tables first */
            cpu_prefetch(f->c, va);
        uint32_t pfec = cpu_access(f->c, va, acc, &mfn);
        if (pfec)
            rc = cpu_raise_pf(f->c, va, pfec, &mfn);
        what = "access";
        break;
    }
    case 12: {                                     /* DMA */
        uint8_t b = u8(in);
        if (b & 1) {
            uint64_t ring[4];
            unsigned n = 1 + (b >> 1) % 4;
            for (unsigned i = 0; i < n; i++)
                ring[i] = pick_mfn(f, in);
            hv_set_rings(f->h, ring, ring, n, ring, n);
        }
        uint64_t bytes = (1 + u8(in) % 8) * PAGE_SIZE;
        bytes += u8(in);
        hv_dma(f->h, (b & 2) ? "disk" : "nic", bytes, (b & 4) != 0);
        what = "dma";
        break;
    }
    case 13: {                                     /* TLB maintenance instructions */
        uint8_t b = u8(in);
        uint64_t va = pick_va(f, in);
        if (b % 4 == 0)
            cpu_invlpg(f->c, va);
        else if (b % 4 == 1)
            cpu_reload_cr3(f->c);
        else if (b % 4 == 2)
            cpu_flush_all(f->c);
        else
            rc = cpu_invpcid(f->c, (enum tlb_flush_kind)(b >> 2), u8(in), va);
        what = "flush";
        break;
    }
    case 14:                                       /* the window opens or closes */
        f->x->restart_to_guest ^= 1;
        what = "toggle restart_to_guest";
        break;
    default: {                                     /* the kernel's own direct map */
        uint64_t gfn = pick_gfn(f, in) % f->x->dom->nr_pages;
        rc = dmap(f, gfn, u8(in) & 1);
        what = "direct map";
        break;
    }
    }
    if (f->trace)
        fprintf(stderr, "%u: %s -> %ld\n", f->step, what, rc);
}

static void teardown(struct fz *f)
{
    for (unsigned i = 0; i < NPENDING; i++)
        call_free(f->pending[i]);
    /* The hostile kernel's bookkeeping no longer matches the tables: the
     * machine goes without the guest's own orderly shutdown. */
    if (f->m.k.ptc)
        f->m.k.ptc->enabled = 0;
    machine_destroy(&f->m);
    config_free(&f->cfg);
}

/* How far an input got: the operations replayed, the bytes left unread (a
 * crashed domain or the 400-operation limit ends an input early) and, if
 * Xen crashed the domain, why (test_pv_fuzz_corpus.c checks the corpus). */
struct fz_end {
    unsigned ops;
    size_t unread;
    char crashed[sizeof ((struct domain *)0)->crashed];   /* "" while the domain lives */
};

static struct fz_end fz_run(const uint8_t *data, size_t size)
{
    static int quiet;
    if (!quiet) {
        mv_error_quiet(1);
        quiet = 1;
    }
    struct fz *f = calloc(1, sizeof *f);
    if (!f)
        abort();
    f->trace = getenv("FUZZ_PV_TRACE") != NULL;
    struct in in = { data, size };
    setup(f, &in);
    check(f);
    /* a domain Xen crashed (its L1TF check) runs no more */
    for (f->step = 1; in.n && f->step <= 400 && !f->x->dom->crashed[0]; f->step++) {
        op(f, &in);
        check(f);
    }
    struct fz_end end = { .ops = f->step - 1, .unread = in.n };
    snprintf(end.crashed, sizeof end.crashed, "%s", f->x->dom->crashed);
    if (f->trace)
        fprintf(stderr, "end: %u operations, %zu bytes unread, domain %s%s\n", end.ops, end.unread,
                end.crashed[0] ? "crashed: " : "alive", end.crashed);
    teardown(f);
    free(f);
    return end;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_run(data, size);
    return 0;
}

/* cpu.c: the vCPU's MMU slow paths and privileged operations (see cpu.h). */
#include "hw/cpu.h"
#include "hw/cpu_miss.h"
#include "lib/err.h"

/* ---- the geometry the miss path was compiled for (geom.h) ---------------- */

static int geom_is(const struct tlb_array *a, struct geom g) { return a->ways == g.ways && a->sets == g.sets; }

static int pwc_geom_is(const struct pwc *p, struct pwc_geom g)
{
    return p->lvl[2].n == g.n[2] && p->lvl[3].n == g.n[3] && p->lvl[4].n == g.n[4];
}

int cpu_geom_default(const struct cpu *c)
{
    return geom_is(&c->tlb.l1[PG_4K], GEOM_L1_4K) && geom_is(&c->tlb.l2, GEOM_STLB) &&
           c->dc.ways == GEOM_DCACHE.ways && c->dc.sets == GEOM_DCACHE.sets && pwc_geom_is(&c->pwc, GEOM_PWC);
}

/* With nested paging on: the nested TLB and EPT walk caches as well. */
static int cpu_nested_geom_default(const struct cpu *c)
{
    const struct nested_mmu *n = &c->nested;
    return c->geom_default && n->ntlb_on && geom_is(&n->ntlb.l1[PG_4K], GEOM_NTLB) &&
           geom_is(&n->ntlb.l2, GEOM_ABSENT) && pwc_geom_is(&n->ept_pwc, GEOM_EPT_PWC);
}

int cpu_init(struct cpu *c, unsigned id, struct pmem *mem, struct mv_stats *st,
             const struct cost *cost, const struct tlb_config *tc, const struct dcache_config *dc)
{
    *c = (struct cpu){ .id = id, .mem = mem, .st = st, .cost = cost, .user_mode = 1,
                       .pf = { .vpn = UINT64_MAX, .backed = cpu_prefetch_threshold() } };
    cpu_prefetch_walk(c, CPU_WALK_NONE);   /* no memo */
    if (tlb_init(&c->tlb, tc))
        return -1;
    if (dcache_init(&c->dc, dc, mem->nframes)) {
        tlb_destroy(&c->tlb);
        return -1;
    }
    pwc_init(&c->pwc, (uint32_t)tc->pwc_l4, (uint32_t)tc->pwc_l3, (uint32_t)tc->pwc_l2);
    c->geom_default = cpu_geom_default(c);
    return 0;
}

int cpu_enable_nested(struct cpu *c, uint64_t eptp, const struct nested_config *nc)
{
    struct nested_mmu *n = &c->nested;
    const struct tlb_config ntc = { .l1_4k_entries = nc->ntlb_entries, .l1_4k_ways = nc->ntlb_ways,
                                    .l1_2m_entries = nc->ntlb_entries, .l1_2m_ways = nc->ntlb_ways };
    if (nc->ntlb_entries && tlb_init(&n->ntlb, &ntc))
        return -1;
    n->ntlb_on = nc->ntlb_entries != 0;
    n->ept_pwc_on = nc->ept_pwc_l4 || nc->ept_pwc_l3 || nc->ept_pwc_l2;
    pwc_init(&n->ept_pwc, (uint32_t)nc->ept_pwc_l4, (uint32_t)nc->ept_pwc_l3, (uint32_t)nc->ept_pwc_l2);
    n->guest_pwc = nc->guest_pwc;
    n->eptp = eptp;
    n->enabled = 1;
    n->geom_default = cpu_nested_geom_default(c);
    return 0;
}

void cpu_destroy(struct cpu *c)
{
    dcache_destroy(&c->dc);
    tlb_destroy(&c->tlb);
    pwc_destroy(&c->pwc);
    if (c->nested.enabled) {
        pwc_destroy(&c->nested.ept_pwc);
        if (c->nested.ntlb_on)
            tlb_destroy(&c->nested.ntlb);
        c->nested.enabled = 0;
    }
}

/* ---- the miss path ---------------------------------------------------------
 * Its bodies are in cpu_miss.h: here the generic copies, with the AVX2 and
 * the scalar scans; cpu_geom.c has the copy for the default geometry. */

static HW_SIMD_TARGET uint32_t native_fill_avx2(struct cpu *c, uint64_t va, enum access acc, int user,
                                                struct tlb_xlate *x)
{
    return native_fill_body(c, va, acc, user, x, 1, 0);
}
static uint32_t native_fill_scalar(struct cpu *c, uint64_t va, enum access acc, int user, struct tlb_xlate *x)
{
    return native_fill_body(c, va, acc, user, x, 0, 0);
}
uint32_t cpu_native_fill(struct cpu *c, uint64_t va, enum access acc, int user, struct tlb_xlate *x)
{
    if (!hw_simd)
        return native_fill_scalar(c, va, acc, user, x);
    return c->geom_default ? cpu_native_fill_avx2_geom(c, va, acc, user, x) : native_fill_avx2(c, va, acc, user, x);
}

HW_SIMD_TARGET GEOM_COPY uint32_t cpu_access_slow_avx2(struct cpu *c, uint64_t va, enum access acc, uint64_t *frame,
                                                      long l1, uint64_t tag)
{
    return access_slow_body(c, va, acc, frame, l1, tag, 1, 0);
}
GEOM_COPY uint32_t cpu_access_slow_scalar(struct cpu *c, uint64_t va, enum access acc, uint64_t *frame, long l1,
                                         uint64_t tag)
{
    return access_slow_body(c, va, acc, frame, l1, tag, 0, 0);
}

int cpu_store(struct cpu *c, uint64_t gfn, unsigned idx, uint64_t val)
{
    if (idx >= PTRS_PER_TABLE)
        return -1;
    if (c->vmm && c->vmm->store_traps && c->vmm->store_traps(c->vmm_ctx, gfn)) {
        int rc = c->vmm->store(c->vmm_ctx, c, gfn, idx, val);
        trap_return(c);
        return rc;
    }
    uint64_t mfn = cpu_gfn_to_mfn(c, gfn);
    if (!cpu_guest_frame_ok(c, mfn, idx))
        return -1;
    pmem_write(c->mem, mfn, idx, val);
    return 0;
}

/* A string instruction over guest frame gfn (clear_page's rep stosb,
 * copy_page's rep movsq), as KVM's shadow MMU meets it while the frame is
 * write-protected. The first store traps. A hypervisor that retries such
 * instructions (vmm_ops.store_retry) stops protecting the frame and the
 * instruction runs natively. Otherwise it is emulated in that exit, each
 * iteration a write the hypervisor sees (it may unprotect the frame, as
 * write flooding does), and the emulator re-enters the guest every
 * CPU_REP_RESTART iterations (KVM: 1024; a byte-wise rep's 1 KiB), where the next
 * store traps again if the frame is still protected. Once it is not, the
 * rest is native. memvirt models the stores' effect on the hypervisor
 * (exits, emulated page-table writes), not the contents written (val). */
void cpu_store_string_page(struct cpu *c, uint64_t gfn, uint64_t val, unsigned elem)
{
    const struct vmm_ops *v = c->vmm;
    const unsigned restart_words = CPU_REP_RESTART * elem / 8;   /* table words between re-entries */
    if (!v || !v->store_traps || !v->store_traps(c->vmm_ctx, gfn))
        return;
    int retried = v->store_retry && v->store_retry(c->vmm_ctx, c, gfn);
    trap_return(c);
    if (retried && !v->store_traps(c->vmm_ctx, gfn))
        return;
    /* retried and still protected: the instruction faults again at the
     * same address, which KVM then emulates (last_retry_eip) */
    for (unsigned i = 0; i < PTRS_PER_TABLE && v->store_traps(c->vmm_ctx, gfn); i++) {
        if (i % restart_words == 0 || !v->store_cont)
            v->store(c->vmm_ctx, c, gfn, i, val);
        else
            v->store_cont(c->vmm_ctx, c, gfn, i, val);
        trap_return(c);
    }
}

void cpu_arch_flush(struct cpu *c, enum tlb_flush_kind kind, uint64_t va, uint16_t pcid)
{
    if (c->obs)
        c->obs->flush(c->obs->ctx, kind, va, pcid);
}

/* The current PCID's non-global entries. */
static void hw_flush_pcid(struct cpu *c, uint16_t pcid)
{
    cpu_prefetch_forget(c->pf.g);
    tlb_flush_pcid(&c->tlb, pcid);
    pwc_flush_pcid(&c->pwc, pcid);
}

void cpu_hw_load_root(struct cpu *c, uint64_t hw_root, uint16_t pcid, int noflush)
{
    cpu_hw_set_root(c, hw_root, pcid);
    if (!c->pcid_enabled) {
        c->st->cnt[CNT_tlb_flush_nonglobal]++;
        cpu_hw_flush(c, 0);
    } else if (!noflush) {
        c->st->cnt[CNT_tlb_flush_pcid]++;
        hw_flush_pcid(c, c->pcid);
    }
}

void cpu_hw_set_root(struct cpu *c, uint64_t hw_root, uint16_t pcid)
{
    c->hw_root = hw_root;
    c->pcid = c->pcid_enabled ? pcid : 0;
}

void cpu_write_cr3(struct cpu *c, uint64_t root, uint16_t pcid, int noflush)
{
    c->st->cnt[CNT_ctx_switch]++;
    /* MOV CR3 invalidates, architecturally: with PCIDs the new PCID's
     * non-global entries unless bit 63 says not to; without, every
     * non-global entry. */
    if (!c->pcid_enabled)
        cpu_arch_flush(c, FLUSH_INVPCID_NONGLOBAL, 0, 0);
    else if (!noflush)
        cpu_arch_flush(c, FLUSH_INVPCID_SINGLE, 0, pcid);
    if (c->vmm && c->vmm->write_cr3) {
        int handled = c->vmm->write_cr3(c->vmm_ctx, c, root, pcid, noflush);
        trap_return(c);
        if (handled)
            return;
    }
    stat_charge(c->st, CYC_ctx_switch, c->cost->cr3_write);
    c->cr3 = root;
    cpu_hw_load_root(c, cpu_gfn_to_mfn(c, root), pcid, noflush);
}

void cpu_hw_invlpg(struct cpu *c, uint64_t va, uint16_t pcid)
{
    cpu_prefetch_forget(c->pf.g);
    tlb_flush_page(&c->tlb, va, pcid);
    pwc_flush_pcid(&c->pwc, pcid);
}

void cpu_hw_flush(struct cpu *c, int include_global)
{
    cpu_prefetch_forget(c->pf.g);
    if (include_global)
        tlb_flush_all(&c->tlb);
    else
        tlb_flush_nonglobal(&c->tlb);
    pwc_flush_all(&c->pwc);
}

void cpu_hw_tlb_flush(struct cpu *c, enum tlb_flush_kind kind, uint64_t va, uint16_t pcid)
{
    switch (kind) {
    case FLUSH_INVLPG:
    case FLUSH_INVPCID_ADDR:
        cpu_hw_invlpg(c, va, pcid);
        break;
    case FLUSH_CR3_RELOAD:
    case FLUSH_INVPCID_SINGLE:
        if (c->pcid_enabled)
            hw_flush_pcid(c, pcid);
        else
            cpu_hw_flush(c, 0);
        break;
    case FLUSH_GLOBAL:
    case FLUSH_INVPCID_ALL:
        cpu_hw_flush(c, 1);
        break;
    case FLUSH_INVPCID_NONGLOBAL:
        cpu_hw_flush(c, 0);
        break;
    }
}

void cpu_invept(struct cpu *c)
{
    if (!c->nested.enabled)
        return;
    cpu_prefetch_forget(c->pf.e);
    cpu_prefetch_forget(c->pf.g);   /* a 2D peek found the guest's through the EPT */
    pwc_flush_all(&c->nested.ept_pwc);
    if (c->nested.ntlb_on)
        tlb_flush_all(&c->nested.ntlb);
}

/* Count a guest flush by what it invalidates, let the hypervisor intercept
 * it, else do it natively at its native cost. */
static void guest_flush(struct cpu *c, enum tlb_flush_kind kind, uint64_t va, uint16_t pcid)
{
    static const enum mv_counter counter[] = {
        [FLUSH_INVLPG] = CNT_tlb_flush_page,         [FLUSH_CR3_RELOAD] = CNT_tlb_flush_pcid,
        [FLUSH_GLOBAL] = CNT_tlb_flush_all,          [FLUSH_INVPCID_ADDR] = CNT_tlb_flush_page,
        [FLUSH_INVPCID_SINGLE] = CNT_tlb_flush_pcid, [FLUSH_INVPCID_ALL] = CNT_tlb_flush_all,
        [FLUSH_INVPCID_NONGLOBAL] = CNT_tlb_flush_nonglobal,
    };
    enum mv_counter cn = counter[kind];
    if (kind == FLUSH_CR3_RELOAD && !c->pcid_enabled)
        cn = CNT_tlb_flush_nonglobal;
    c->st->cnt[cn]++;
    cpu_arch_flush(c, kind, va, pcid);
    if (c->vmm && c->vmm->tlb_flush && c->vmm->tlb_flush(c->vmm_ctx, c, kind, va, pcid))
        return;
    int one_page = kind == FLUSH_INVLPG || kind == FLUSH_INVPCID_ADDR;
    stat_charge(c->st, CYC_tlb_flush, one_page ? c->cost->tlb_invlpg : c->cost->tlb_flush);
    cpu_hw_tlb_flush(c, kind, va, pcid);
}

void cpu_invlpg(struct cpu *c, uint64_t va)
{
    guest_flush(c, FLUSH_INVLPG, va, c->pcid);
}

void cpu_reload_cr3(struct cpu *c)
{
    guest_flush(c, FLUSH_CR3_RELOAD, 0, c->pcid);
}

void cpu_flush_all(struct cpu *c)
{
    guest_flush(c, FLUSH_GLOBAL, 0, 0);
}

int cpu_invpcid(struct cpu *c, enum tlb_flush_kind kind, uint16_t pcid, uint64_t va)
{
    if (kind < FLUSH_INVPCID_ADDR || kind > FLUSH_INVPCID_NONGLOBAL)
        return -1;                          /* an invalid INVPCID type: #GP */
    guest_flush(c, kind, va, pcid);
    return 0;
}

long cpu_hypercall(struct cpu *c, unsigned nr, void *arg)
{
    if (!c->vmm || !c->vmm->hypercall)
        return -38;   /* -ENOSYS: #UD on bare metal; the guest sees the call fail */
    long rc = c->vmm->hypercall(c->vmm_ctx, c, nr, arg);
    trap_return(c);
    return rc;
}

void cpu_syscall(struct cpu *c)
{
    if (!c->vmm || !c->vmm->syscall)
        return;
    c->vmm->syscall(c->vmm_ctx, c);
    trap_return(c);
}

int cpu_raise_pf(struct cpu *c, uint64_t va, uint32_t pfec, uint64_t *mfn)
{
    c->inject_pfec = pfec;
    if (!c->vmm || !c->vmm->page_fault)
        return 0;
    return c->vmm->page_fault(c->vmm_ctx, c, va, pfec, mfn);
}

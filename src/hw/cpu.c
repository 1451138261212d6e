/* cpu.c: the vCPU's MMU slow paths and privileged operations (see cpu.h). */
#include "hw/cpu.h"
#include "lib/err.h"

int cpu_init(struct cpu *c, unsigned id, struct pmem *mem, struct mv_stats *st,
             const struct cost *cost, const struct tlb_config *tc, const struct dcache_config *dc)
{
    *c = (struct cpu){ .id = id, .mem = mem, .st = st, .cost = cost, .user_mode = 1 };
    if (tlb_init(&c->tlb, tc))
        return -1;
    if (dcache_init(&c->dc, dc)) {
        tlb_destroy(&c->tlb);
        return -1;
    }
    pwc_init(&c->pwc, (uint32_t)tc->pwc_l4, (uint32_t)tc->pwc_l3, (uint32_t)tc->pwc_l2);
    return 0;
}

void cpu_destroy(struct cpu *c)
{
    dcache_destroy(&c->dc);
    tlb_destroy(&c->tlb);
    pwc_destroy(&c->pwc);
}

void cpu_charge_walk(struct cpu *c, const struct walk_result *r)
{
    uint64_t cycles = c->cost->walk_start;
    for (uint32_t i = 0; i < r->refs && i < 4; i++) {
        if (dcache_access(&c->dc, r->ref_addr[i])) {
            cycles += c->cost->walk_ref;
        } else {
            c->st->cnt[CNT_walk_cache_miss]++;
            cycles += c->cost->walk_ref_miss;
        }
    }
    c->st->cnt[CNT_walk_refs] += r->refs;
    c->st->cnt[CNT_pwc_hit] += 4 - r->pwc_level;
    stat_charge(c->st, CYC_walk, cycles);
}

uint32_t cpu_native_fill(struct cpu *c, uint64_t va, enum access acc, int user, struct tlb_xlate *x)
{
    struct walk_result r;
    uint32_t pfec = walk_1d(c->mem, c->hw_root, va, acc, user, &c->pwc, c->pcid, WALK_SET_AD, &r);
    cpu_charge_walk(c, &r);
    if (pfec)
        return pfec;
    x->frame = r.frame;
    x->flags = r.flags;
    x->size = r.size;
    return 0;
}

uint32_t cpu_access_slow(struct cpu *c, uint64_t va, enum access acc, uint64_t *frame, long l1)
{
    struct tlb_xlate x;
    int user = c->user_mode;
    int hit, stale = 0;
    if (l1 >= 0) {
        struct tlb_array *a = &c->tlb.l1[PG_4K];
        x.frame = a->frame[l1];
        x.flags = a->flags[l1];
        x.size = PG_4K;
        hit = 1;
    } else {
        hit = tlb_lookup_slow(&c->tlb, va, c->pcid, &x);
    }
    if (hit) {
        if (hit == 2) {
            c->st->cnt[CNT_stlb_hit]++;
            stat_charge(c->st, CYC_user, c->cost->stlb_hit);
        }
        if (tlb_perm_ok(x.flags, acc, user)) {
            stat_charge(c->st, CYC_user, c->cost->ref);
            *frame = x.frame;
            return 0;
        }
        /* A write through a clean entry makes the MMU re-walk to set D (a
         * microcode assist, not a fault). Otherwise the entry denies the
         * access: the walk below decides whether that was a real fault or a
         * spurious one (an upgrade the kernel need not flush, after which the
         * fault handler finds nothing to do); either way the entry goes. */
        stale = !(acc == ACC_WRITE && (x.flags & TLB_W) && !(x.flags & TLB_D));
        tlb_flush_page(&c->tlb, va, c->pcid);
    } else {
        c->st->cnt[CNT_tlb_miss]++;
    }
    stat_charge(c->st, CYC_user, c->cost->ref);
    uint32_t pfec;
    if (c->vmm && c->vmm->tlb_fill)
        pfec = c->vmm->tlb_fill(c->vmm_ctx, c, va, acc, user, &x);
    else
        pfec = cpu_native_fill(c, va, acc, user, &x);
    if (pfec)
        return pfec;
    if (stale) {
        c->st->cnt[CNT_spurious_fault]++;
        stat_charge(c->st, CYC_fault, c->cost->fault_entry);
    }
    tlb_insert_missed(&c->tlb, va, c->pcid, &x);
    *frame = x.frame;
    return 0;
}

uint64_t cpu_gfn_to_mfn(struct cpu *c, uint64_t gfn)
{
    if (c->vmm && c->vmm->g2m)
        return c->vmm->g2m(c->vmm_ctx, gfn);
    return gfn;
}

uint64_t cpu_load(struct cpu *c, uint64_t gfn, unsigned idx)
{
    uint64_t mfn = cpu_gfn_to_mfn(c, gfn);
    MV_ASSERT(mfn != UINT64_MAX, "guest load from unmapped frame %#llx", (unsigned long long)gfn);
    return pmem_read(c->mem, mfn, idx);
}

int cpu_store(struct cpu *c, uint64_t gfn, unsigned idx, uint64_t val)
{
    if (c->vmm && c->vmm->store_traps && c->vmm->store_traps(c->vmm_ctx, gfn))
        return c->vmm->store(c->vmm_ctx, c, gfn, idx, val);
    uint64_t mfn = cpu_gfn_to_mfn(c, gfn);
    MV_ASSERT(mfn != UINT64_MAX, "guest store to unmapped frame %#llx", (unsigned long long)gfn);
    pmem_write(c->mem, mfn, idx, val);
    return 0;
}

void cpu_hw_load_root(struct cpu *c, uint64_t hw_root, uint16_t pcid, int noflush)
{
    c->hw_root = hw_root;
    c->pcid = c->pcid_enabled ? pcid : 0;
    if (!c->pcid_enabled) {
        c->st->cnt[CNT_tlb_flush_nonglobal]++;
        tlb_flush_nonglobal(&c->tlb);
        pwc_flush_all(&c->pwc);
    } else if (!noflush) {
        c->st->cnt[CNT_tlb_flush_pcid]++;
        tlb_flush_pcid(&c->tlb, c->pcid);
        pwc_flush_pcid(&c->pwc, c->pcid);
    }
}

void cpu_write_cr3(struct cpu *c, uint64_t root, uint16_t pcid, int noflush)
{
    c->st->cnt[CNT_ctx_switch]++;
    if (c->vmm && c->vmm->write_cr3 && c->vmm->write_cr3(c->vmm_ctx, c, root, pcid, noflush))
        return;
    stat_charge(c->st, CYC_ctx_switch, c->cost->cr3_write);
    c->cr3 = root;
    cpu_hw_load_root(c, cpu_gfn_to_mfn(c, root), pcid, noflush);
}

void cpu_hw_invlpg(struct cpu *c, uint64_t va, uint16_t pcid)
{
    tlb_flush_page(&c->tlb, va, pcid);
    pwc_flush_pcid(&c->pwc, pcid);
}

void cpu_invlpg(struct cpu *c, uint64_t va)
{
    c->st->cnt[CNT_tlb_flush_page]++;
    if (c->vmm && c->vmm->invlpg && c->vmm->invlpg(c->vmm_ctx, c, va))
        return;
    stat_charge(c->st, CYC_tlb_flush, c->cost->tlb_invlpg);
    cpu_hw_invlpg(c, va, c->pcid);
}

void cpu_invpcid_single(struct cpu *c, uint16_t pcid)
{
    c->st->cnt[CNT_tlb_flush_pcid]++;
    stat_charge(c->st, CYC_tlb_flush, c->cost->tlb_flush);
    tlb_flush_pcid(&c->tlb, pcid);
    pwc_flush_pcid(&c->pwc, pcid);
}

void cpu_hw_flush(struct cpu *c, int include_global)
{
    if (include_global)
        tlb_flush_all(&c->tlb);
    else
        tlb_flush_nonglobal(&c->tlb);
    pwc_flush_all(&c->pwc);
}

void cpu_flush_all(struct cpu *c)
{
    c->st->cnt[CNT_tlb_flush_all]++;
    stat_charge(c->st, CYC_tlb_flush, c->cost->tlb_flush);
    cpu_hw_flush(c, 1);
}

long cpu_hypercall(struct cpu *c, unsigned nr, void *arg)
{
    MV_ASSERT(c->vmm && c->vmm->hypercall, "hypercall %u on a CPU with no hypervisor", nr);
    return c->vmm->hypercall(c->vmm_ctx, c, nr, arg);
}

int cpu_raise_pf(struct cpu *c, uint64_t va, uint32_t pfec)
{
    return c->vmm && c->vmm->page_fault && c->vmm->page_fault(c->vmm_ctx, c, va, pfec);
}

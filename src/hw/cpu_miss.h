/* cpu_miss.h: the vCPU's TLB-miss path as inline bodies (see cpu.h).
 *
 * A TLB miss is the simulator's second-hottest path. Its parts (the TLB
 * lookups and installs, the walk and its caches, the data-cache model each
 * walk reference goes through) are inline bodies compiled into it, so that
 * a miss makes no call it need not make: in cpu.c twice, like every user
 * of the AVX2 set scans (simd.h), for any geometry; in cpu_geom.c once
 * more, with the AVX2 scans, for the default geometry (geom.h), which a
 * CPU whose structures have it takes (cpu.h, geom_default). The copies are
 * in two files because gcc bounds how much inlining may grow one file: a
 * third copy in cpu.c left the generic two with calls they had inlined.
 * Nothing here is part of the CPU's interface. */
#ifndef MV_HW_CPU_MISS_H
#define MV_HW_CPU_MISS_H
#include "hw/cpu.h"
#include "hw/dcache_body.h"
#include "hw/geom.h"
#include "hw/tlb_body.h"
#include "hw/walk2d.h"
#include "hw/walk_tmpl.h"

#define CPU_BODY static inline __attribute__((always_inline))

/* The way back from a trap: a vCPU the hypervisor took offline does not
 * return to the guest (cpu.h, offline). */
static inline void trap_return(struct cpu *c)
{
    if (c->offline && c->offline_ret)
        longjmp(*c->offline_ret, 1);
}

CPU_BODY uint32_t native_fill_body(struct cpu *c, uint64_t va, enum access acc, int user, struct tlb_xlate *x,
                                   const int simd, const int geom)
{
    struct walk_result r = { .frame = 0 };   /* (gcc cannot see every path that returns 0 sets it) */
    const struct walk_params p = { .fmt = PTF_X86, .flags = WALK_SET_AD, .pwc = &c->pwc, .tag = c->pcid,
                                   .dc = &c->dc, .simd = simd,
                                   .geom = geom ? WALK_GEOM_CPU : 0 };
    uint32_t pfec = walk_tmpl(c->mem, c->hw_root, va, acc, user, &p, &r);
    c->st->cnt[CNT_pwc_hit] += 4 - r.pwc_level;
    cpu_charge_walk(c, r.refs, r.dc_miss);
    if (pfec)
        return pfec;
    x->frame = r.frame;
    x->flags = r.flags;
    x->size = r.size;
    return 0;
}

CPU_BODY uint32_t access_slow_body(struct cpu *c, uint64_t va, enum access acc, uint64_t *frame, long l1,
                                   const uint64_t tag, const int simd, const int geom)
{
    struct tlb_xlate x;
    int user = c->user_mode;
    int hit, stale = 0;
    const uint64_t vpn = tlb_tag_vpn(tag);
    if (l1 >= 0) {
        struct tlb_array *a = &c->tlb.l1[PG_4K];
        x.frame = a->frame[l1];
        x.flags = a->flags[l1];
        x.size = PG_4K;
        hit = 1;
    } else {
        hit = tlb_lookup_slow_4k_body_g(&c->tlb, va, vpn, tag, &x, simd, GEOM_OF(geom, GEOM_L1_4K),
                                        GEOM_OF(geom, GEOM_STLB));
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
    /* (the hint only lays the code out: with it, native and hap over 1 GiB
     * each took 4 host instructions a miss fewer, bench/instr_per_ref.sh) */
    if (__builtin_expect(!c->vmm, 1) || (!c->vmm->walk2d_exit && !c->vmm->tlb_fill)) {
        pfec = native_fill_body(c, va, acc, user, &x, simd, geom);
    } else if (c->vmm->walk2d_exit) {   /* nested paging: the hypervisor only on an exit */
        uint64_t gfn;
        pfec = simd && geom && c->nested.geom_default ? walk2d_avx2_geom(c, va, acc, user, &x, &gfn)
                                                       : walk2d(c, va, acc, user, &x, &gfn);
        if (pfec == WALK_FETCH_FAILED)
            pfec = c->vmm->walk2d_exit(c->vmm_ctx, c, va, acc, user, &x, gfn);
    } else {
        pfec = c->vmm->tlb_fill(c->vmm_ctx, c, va, acc, user, &x);
    }
    if (pfec) {
        trap_return(c);   /* an exit in the fill (an EPT misconfiguration) may have crashed the domain */
        return pfec;
    }
    if (stale) {
        c->st->cnt[CNT_spurious_fault]++;
        stat_charge(c->st, CYC_fault, c->cost->fault_entry);
    }
    tlb_insert_missed_4k_body_g(&c->tlb, va, vpn, tag, &x, simd, GEOM_OF(geom, GEOM_L1_4K),
                                GEOM_OF(geom, GEOM_STLB));
    *frame = x.frame;
    return 0;
}

/* cpu_native_fill() (cpu.h) for the default geometry, with the AVX2
 * scans (cpu_geom.c). */
uint32_t cpu_native_fill_avx2_geom(struct cpu *c, uint64_t va, enum access acc, int user, struct tlb_xlate *x);

#endif

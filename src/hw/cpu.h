/* cpu.h: a virtual CPU: its MMU (CR3, PCID, TLBs, walk caches, and the
 * nested-paging hardware a hypervisor may turn on) and its traps.
 *
 * A guest reaches a hypervisor only the way real guests do: through traps on
 * its CPU. A hypervisor installs a table of trap handlers (struct vmm_ops) on
 * each CPU; with none installed the CPU is bare metal and privileged
 * operations simply happen. hw/ knows no hypervisor: it only calls the table.
 * Every form of guest TLB maintenance can be intercepted: INVLPG, a CR3 load
 * (a switch, or a reload of the same root that flushes), the global flush
 * (toggling CR4.PGE) and each INVPCID type.
 *
 * The user-access path cpu_access() is inline and is the simulator's hot loop:
 * an L1 TLB hit costs a set lookup and two additions. */
#ifndef MV_HW_CPU_H
#define MV_HW_CPU_H
#include "hw/cost.h"
#include "hw/dcache.h"
#include "hw/pmem.h"
#include "hw/pwc.h"
#include "hw/tlb.h"
#include "hw/walk.h"
#include "lib/stats.h"
#include <setjmp.h>

struct cpu;

/* The walk a TLB miss makes (for cpu_prefetch): none that the CPU knows,
 * the native walk of hw_root, or the 2D walk of cr3 through the EPT. */
enum cpu_walk { CPU_WALK_NONE, CPU_WALK_1D, CPU_WALK_2D };

/* The architectural TLB-maintenance operations (Intel SDM vol. 3, 4.10.4). */
enum tlb_flush_kind {
    FLUSH_INVLPG,            /* INVLPG va: one page of the current PCID, global entries too */
    FLUSH_CR3_RELOAD,        /* MOV CR3 of the loaded root without NOFLUSH: the current
                                PCID's non-global entries (every PCID's with PCIDs off) */
    FLUSH_GLOBAL,            /* toggling CR4.PGE: everything, global entries included */
    FLUSH_INVPCID_ADDR,      /* INVPCID type 0: one address of one PCID */
    FLUSH_INVPCID_SINGLE,    /* INVPCID type 1: one PCID's non-global entries */
    FLUSH_INVPCID_ALL,       /* INVPCID type 2: everything, global entries included */
    FLUSH_INVPCID_NONGLOBAL, /* INVPCID type 3: every PCID's non-global entries */
};

/* Trap handlers and paging hooks of a hypervisor. Every member may be NULL,
 * meaning "not intercepted": the CPU then does what bare metal does. */
struct vmm_ops {
    const char *name;
    /* Resolve a TLB miss (the paging mode's walk). Returns 0 with *x filled,
     * or a page-fault error code. Counts and charges its own references. */
    uint32_t (*tlb_fill)(void *ctx, struct cpu *c, uint64_t va, enum access acc, int user,
                         struct tlb_xlate *x);
    /* Set beside tlb_fill by a hypervisor whose tlb_fill is walk2d() and,
     * when that stops on an EPT exit, the exit's handling: the CPU then
     * makes the 2D walk itself and calls this only on an exit, on the
     * guest frame gfn the walk stopped at, to handle it and finish the miss
     * as tlb_fill would. It saves a miss the calls through tlb_fill.
     * tlb_fill must still be set: whether it is says whether the CPU walks
     * its own tables (cpu_prefetching). */
    uint32_t (*walk2d_exit)(void *ctx, struct cpu *c, uint64_t va, enum access acc, int user,
                            struct tlb_xlate *x, uint64_t gfn);
    /* A page fault raised for the guest. Return 1 if the hypervisor resolved
     * it (the access is retried), 2 if it emulated the access (it completed,
     * on machine frame *mfn), 0 to deliver it to the guest kernel. */
    int (*page_fault)(void *ctx, struct cpu *c, uint64_t va, uint32_t pfec, uint64_t *mfn);
    /* The machine frame behind a guest frame, for the guest's own loads and
     * stores (p2m or EPT); NULL: identity. UINT64_MAX if the guest does not
     * own it. */
    uint64_t (*g2m)(void *ctx, struct cpu *c, uint64_t gfn);
    /* Does a guest store to this frame trap (it is write-protected)? */
    int (*store_traps)(void *ctx, uint64_t gfn);
    /* Emulate a trapped store. 0 on success; otherwise the store faults. */
    int (*store)(void *ctx, struct cpu *c, uint64_t gfn, unsigned idx, uint64_t val);
    /* A trapped store by an instruction that writes no page table in the
     * emulator's sense (the rep stos of clear_page, the rep movs of
     * copy_page): return 1 if the hypervisor took the exit and stopped
     * protecting the frame, so the instruction is retried natively (KVM's
     * retry_instruction), 0 to have the store emulated by `store`. NULL: 0. */
    int (*store_retry)(void *ctx, struct cpu *c, uint64_t gfn);
    /* A further store of a string instruction the hypervisor is emulating
     * (no new exit). NULL: each one is `store`, an exit of its own. */
    int (*store_cont)(void *ctx, struct cpu *c, uint64_t gfn, unsigned idx, uint64_t val);
    /* Privileged instructions. Return 1 if intercepted (the handler did all
     * there is to do, including any hardware flush), 0 to let the CPU
     * execute it natively. write_cr3 returns -1 to refuse the load (#GP):
     * the CPU keeps its old root. */
    int (*write_cr3)(void *ctx, struct cpu *c, uint64_t root, uint16_t pcid, int noflush);
    int (*tlb_flush)(void *ctx, struct cpu *c, enum tlb_flush_kind kind, uint64_t va, uint16_t pcid);
    /* The hypercall instruction. Returns the hypercall's result. */
    long (*hypercall)(void *ctx, struct cpu *c, unsigned nr, void *arg);
    /* SYSCALL from user mode, on its way to the guest kernel's entry point
     * (Xen PV: it enters Xen, which bounces it to the kernel's registered
     * callback). NULL: it enters the guest kernel directly, as on bare
     * metal and in a hardware-virtualized guest (no VM exit). */
    void (*syscall)(void *ctx, struct cpu *c);
    /* Which walk a TLB miss takes now, for the host prefetch only
     * (cpu_prefetch). NULL: CPU_WALK_1D without tlb_fill, else CPU_WALK_NONE. */
    enum cpu_walk (*walk_kind)(void *ctx);
};

/* cpu_prefetch()'s state, which means nothing to the simulation. A memo
 * is the host words of the level-2 table that the last peek went through,
 * for the 1 GiB region `key` of the space under `root` (key UINT64_MAX:
 * none). The guest's are forgotten at every flush of the paging-structure
 * caches and at INVEPT (a 2D peek found them through the EPT), the EPT's
 * at INVEPT. A memo is taken only for a table that holds something. A
 * memo, or a pending entry, can outlive its table: pmem reuses a freed
 * table's host page but never frees it while the machine lives, so a stale
 * one reads another table's words, which only misdirects a prefetch. */
struct pf_memo {
    const uint64_t *pd;
    uint64_t key, root;
};
/* Beside each memo, the host words of the leaf tables its level-2
 * entries point to, each under the entry it was found from (pde[i] 0:
 * none), so that a peek need not look a leaf table's frame up in pmem
 * (nor, for a guest table in 2D, translate it through the EPT) again
 * while its level-2 entry stays the same. Emptied whenever its memo is
 * taken anew (a forgotten memo is: at INVEPT, so an EPT change followed
 * by INVEPT is seen). What they assume beyond that, as the memos do: the
 * EPT changes only with an INVEPT after it (hap's only adds entries),
 * and a table frame keeps its host page while a level-2 entry names it.
 * Either broken, kept words read another table's, which only misdirects
 * a prefetch. */
struct pf_leaves {
    uint64_t pde[PTRS_PER_TABLE];
    const uint64_t *words[PTRS_PER_TABLE];
    const uint64_t *slot[PTRS_PER_TABLE];   /* pmem's index word for the table's frame */
};
#define PF_PENDING 4   /* 2D: references between a guest entry's prefetch and the read of it */
#define PF_MEMOS 4     /* memos per space, one per 1 GiB region (key % 4): a working set
                          may straddle regions, and guest tables and data lie apart */
struct cpu_pf {
    uint64_t vpn;          /* the page cpu_prefetch() saw last */
    uint64_t backed;       /* prefetch while more table frames than this are backed */
    enum cpu_walk walk;    /* what the pages are peeked for, set by cpu_prefetching() */
    struct pf_memo g[PF_MEMOS];   /* the guest's tables (or hw_root's) */
    struct pf_memo e[PF_MEMOS];   /* the EPT's */
    /* 2D: the guest leaf entries prefetched for the last PF_PENDING pages,
     * whose EPT entries are prefetched once they have arrived */
    const uint64_t *pending[PF_PENDING];
    unsigned next;
    struct pf_leaves gl[PF_MEMOS];   /* g[i]'s leaf tables */
    struct pf_leaves el[PF_MEMOS];   /* 2D: e[i]'s (last: 96 KiB in all) */
};

/* Nested paging hardware (Intel EPT / AMD NPT), off until a hypervisor
 * enables it: the EPT root, its paging-structure caches (the "nested walk
 * cache"), and a TLB of guest-physical -> host-physical translations (Intel's
 * guest-physical mappings, Bhargava et al.'s nested TLB). Guest flushes
 * leave both alone: only INVEPT (cpu_invept) clears them. */
struct nested_mmu {
    int enabled;
    uint64_t eptp;        /* machine frame of the EPT L4 */
    int guest_pwc;        /* the guest dimension uses the CPU's paging-structure caches */
    int ept_pwc_on;
    struct pwc ept_pwc;
    int ntlb_on;
    struct tlb ntlb;
    int geom_default;     /* the CPU's and these structures have the default geometry (geom.h):
                             the 2D walk takes the copy compiled for it */
    /* Not hardware: an EPT that exists in full from the domain's build but
     * is written on first need (hap.ept_populate=boot) is asked for gfn's
     * entry before an EPT walk reads it, so that the walk finds it present
     * as it would have been all along. NULL: the EPT is walked as it is. */
    void (*prebuilt)(void *ctx, uint64_t gfn);
    void *prebuilt_ctx;
};

/* Someone watching the guest's architectural TLB invalidations (the
 * correctness oracle): its INVLPG, CR3 writes, CR4.PGE toggles and INVPCID,
 * and the flushes a PV guest asks its hypervisor for (reported by the
 * guest as it asks, cpu_arch_flush).
 * Until the guest invalidates a translation it changed, it may still see
 * the old one; the hardware flushes that carry an invalidation out, and
 * those a hypervisor makes for its own reasons, do not end that window and
 * are not reported. kind: FLUSH_INVLPG or FLUSH_INVPCID_ADDR (va, pcid),
 * FLUSH_CR3_RELOAD or FLUSH_INVPCID_SINGLE (pcid), FLUSH_INVPCID_NONGLOBAL
 * or FLUSH_GLOBAL / FLUSH_INVPCID_ALL (every PCID). */
struct tlb_observer {
    void (*flush)(void *ctx, enum tlb_flush_kind kind, uint64_t va, uint16_t pcid);
    void *ctx;
};

struct nested_config {
    uint64_t ept_pwc_l4, ept_pwc_l3, ept_pwc_l2;   /* 0: absent */
    uint64_t ntlb_entries, ntlb_ways;              /* 0 entries: absent */
    int guest_pwc;
};

struct cpu {
    unsigned id;
    struct pmem *mem;
    struct mv_stats *st;
    const struct cost *cost;
    struct tlb tlb;
    struct pwc pwc;
    struct dcache dc;      /* data cache as page walks see it */
    uint64_t cr3;          /* root frame the guest loaded (its own view) */
    uint64_t hw_root;      /* root frame the hardware walks natively */
    uint16_t pcid;
    int pcid_enabled;
    int user_mode;         /* accesses come from user mode */
    const struct vmm_ops *vmm;
    void *vmm_ctx;
    struct nested_mmu nested;
    const struct tlb_observer *obs;   /* NULL: nobody watches */
    uint16_t site;         /* the guest code site of the operation under way (its RIP, in effect) */
    uint64_t user_entries; /* returns to user mode so far (SYSRET, IRET to CPL 3): cpu_return_to_user */
    struct cpu_pf pf;      /* host prefetch only (cpu_prefetch) */
    uint32_t inject_pfec;  /* the error code of the page fault the guest is given (cpu_raise_pf sets it
                              to the hardware's; a hypervisor injecting the fault may change it) */
    /* Taken offline for good by the hypervisor (Xen's domain_crash): the
     * trap that did it (a hypercall, a trapped store, MOV CR3, an exit in
     * a TLB fill that faulted) does not return to the guest but to
     * *offline_ret, which the simulator sets around each guest operation;
     * without it (tests driving the traps directly) the trap returns its
     * error and the caller sees `offline`. */
    int offline;
    jmp_buf *offline_ret;
    /* Not hardware: the TLB, walk caches and data cache have the default
     * geometry (geom.h), so the miss path takes the copy compiled for it
     * (with the AVX2 scans; cpu_init decides). */
    int geom_default;
};

/* The guest kernel returns to user mode (SYSRET after a system call, IRET
 * after a fault or interrupt). A monitor translating guest kernel code
 * cannot follow it there (hv/cluster.h). */
static inline void cpu_return_to_user(struct cpu *c) { c->user_entries++; }

/* Do the CPU's TLB, walk caches and data cache have the default geometry
 * (geom.h)? cpu_init keeps the answer in geom_default (and
 * cpu_enable_nested its nested structures' in nested.geom_default). */
int cpu_geom_default(const struct cpu *c);

/* Returns -1 if the TLB geometry is invalid (no message). */
int  cpu_init(struct cpu *c, unsigned id, struct pmem *mem, struct mv_stats *st,
              const struct cost *cost, const struct tlb_config *tc, const struct dcache_config *dc);
void cpu_destroy(struct cpu *c);
/* Turn nested paging on with the EPT rooted at eptp. -1 if the geometry is
 * invalid (no message). */
int  cpu_enable_nested(struct cpu *c, uint64_t eptp, const struct nested_config *nc);
/* Charge a walk of n references of which miss missed the data cache (each
 * went through it as the walk made it: walk_params.dc), and count them. */
static inline void cpu_charge_walk(struct cpu *c, uint32_t n, uint32_t miss)
{
    uint64_t cycles = c->cost->walk_start + (uint64_t)(n - miss) * c->cost->walk_ref +
                      (uint64_t)miss * c->cost->walk_ref_miss;
    c->st->cnt[CNT_walk_cache_miss] += miss;
    c->st->cnt[CNT_walk_refs] += n;
    stat_charge(c->st, CYC_walk, cycles);
}

/* l1: index of the L1 4K entry that hit with too few permissions, or -1;
 * tag: va's 4K TLB tag under the current PCID. Two copies (simd.h), and a
 * third for the default geometry (geom.h), called directly. */
uint32_t cpu_access_slow_avx2(struct cpu *c, uint64_t va, enum access acc, uint64_t *frame, long l1,
                              uint64_t tag);
uint32_t cpu_access_slow_scalar(struct cpu *c, uint64_t va, enum access acc, uint64_t *frame, long l1,
                                uint64_t tag);
/* The AVX2 copy compiled for the default geometry (geom.h). */
uint32_t cpu_access_slow_avx2_geom(struct cpu *c, uint64_t va, enum access acc, uint64_t *frame, long l1,
                                   uint64_t tag);
static inline uint32_t cpu_access_slow(struct cpu *c, uint64_t va, enum access acc, uint64_t *frame, long l1,
                                       uint64_t tag)
{
    if (!hw_simd)
        return cpu_access_slow_scalar(c, va, acc, frame, l1, tag);
    return c->geom_default ? cpu_access_slow_avx2_geom(c, va, acc, frame, l1, tag)
                           : cpu_access_slow_avx2(c, va, acc, frame, l1, tag);
}

/* Does an entry with flags f allow the access? user: U; write: W and D (a
 * clean entry is re-walked to set D); exec: not NX. As one mask and
 * compare: (f & tlb_perm_mask[user][acc]) == tlb_perm_want[user][acc]. */
static const uint8_t tlb_perm_mask[2][3] = {
    { 0, TLB_W | TLB_D, TLB_NX },
    { TLB_U, TLB_U | TLB_W | TLB_D, TLB_U | TLB_NX },
};
static const uint8_t tlb_perm_want[2][3] = {
    { 0, TLB_W | TLB_D, 0 },
    { TLB_U, TLB_U | TLB_W | TLB_D, TLB_U },
};
static inline int tlb_perm_ok(uint8_t f, enum access acc, int user)
{
    return (f & tlb_perm_mask[user != 0][acc]) == tlb_perm_want[user != 0][acc];
}

/* One attempt of a memory reference by the guest (user mode unless
 * c->user_mode is 0): an instruction re-executed after a fault makes a new
 * attempt. Returns 0 and the machine frame, or the page-fault error code for
 * the guest kernel to handle. References are counted by the caller, once.
 * The entry the L1 4K TLB touched last (the same page again, the usual
 * case) is checked first: a hit on it needs no set scan and no LRU update. */
static inline uint32_t cpu_access(struct cpu *c, uint64_t va, enum access acc, uint64_t *frame)
{
    struct tlb_array *a = &c->tlb.l1[PG_4K];
    uint64_t vpn = tlb_vpn(va, PG_4K);
    uint64_t tag = tlb_tag(vpn, PG_4K, c->pcid);
    uint32_t m = a->mru;
    long i = a->tag[m] == tag ? (long)m : tlb_array_find(a, vpn, tag);
    if (__builtin_expect(i >= 0, 1) && tlb_perm_ok(a->flags[i], acc, c->user_mode)) {
        stat_charge(c->st, CYC_user, c->cost->ref);
        *frame = a->frame[i];
        return 0;
    }
    return cpu_access_slow(c, va, acc, frame, i, tag);
}

/* A hint that the guest will soon reference va, for the host's sake: the
 * page-table entries a TLB miss on it would read are prefetched into the
 * host's caches, so that the walk a few references later need not wait on
 * host memory. A read-only peek at the tables (hw/prefetch.c): no
 * simulated state and no statistic changes, and a wrong guess only wastes
 * a prefetch. Not twice for one page in a row. Worth calling only while
 * cpu_prefetching() says so: the machine's backed table frames outnumber
 * what the host's L2 cache holds (below that the entries are in the host's
 * caches anyway, and the peek cost a 64 MiB random stream 15%), and the
 * paging mode's walk is one the CPU knows (struct vmm_ops, walk_kind). */
void cpu_prefetch_1d(struct cpu *c, uint64_t vpn);   /* the peek of a walk other than 2D */
void cpu_prefetch_2d(struct cpu *c, uint64_t vpn);
/* The environment may say otherwise, read once at start: MEMVIRT_PREFETCH
 * unset, empty or "auto" is the above; "on" prefetches whatever the
 * tables' size, "off" never (to test the hint, or to time without it); any
 * other value warns and means auto. Results never depend on it. Returns
 * the number of backed frames above which prefetching works, for a host
 * whose L2 holds l2_frames; warning[] gets a one-line warning or "". */
uint64_t cpu_prefetch_choose(const char *env, uint64_t l2_frames, char *warning, size_t n);
uint64_t cpu_prefetch_threshold(void);   /* the choice made at start */
/* Forget the memos (at a flush of what they were read through). */
static inline void cpu_prefetch_forget(struct pf_memo *memo)
{
    for (unsigned i = 0; i < PF_MEMOS; i++)
        memo[i].key = UINT64_MAX;
}
/* Peek for walk w from now on (the memos and pending entries forgotten). */
void cpu_prefetch_walk(struct cpu *c, enum cpu_walk w);
/* Asked once for a batch of references: it also settles which walk the
 * pages are peeked for. */
static inline int cpu_prefetching(struct cpu *c)
{
    if (c->mem->backed <= c->pf.backed)
        return 0;
    enum cpu_walk w = CPU_WALK_1D;
    if (c->vmm && c->vmm->tlb_fill)
        w = c->vmm->walk_kind ? c->vmm->walk_kind(c->vmm_ctx) : CPU_WALK_NONE;
    if (w != c->pf.walk)
        cpu_prefetch_walk(c, w);
    return w != CPU_WALK_NONE;
}
/* What cpu_prefetch() finds for va, as it finds it (the memos used and
 * filled), for tests: the leaf entry (1D: under hw_root; 2D: the
 * guest's) and the word of pmem's frame index for the machine frame of
 * its table; 2D, the EPT entry of the frame the leaf entry maps and the
 * index word of that EPT entry's table (none for a 2M EPT page). NULL
 * where the peek finds none. cpu_prefetching() must have said yes. */
struct cpu_pf_targets {
    const uint64_t *leaf, *slot, *ept, *ept_slot;
};
void cpu_prefetch_targets(struct cpu *c, uint64_t va, struct cpu_pf_targets *t);
static inline void cpu_prefetch(struct cpu *c, uint64_t va)
{
    uint64_t vpn = tlb_vpn(va, PG_4K);
    if (vpn == c->pf.vpn)
        return;
    if (c->pf.walk != CPU_WALK_2D)
        cpu_prefetch_1d(c, vpn);
    else
        cpu_prefetch_2d(c, vpn);
}

/* The native 1D walk of hw_root, filling *x; charges walk cycles. */
uint32_t cpu_native_fill(struct cpu *c, uint64_t va, enum access acc, int user, struct tlb_xlate *x);

/* Guest kernel memory: word idx (< 512) of guest frame gfn. Loads never
 * trap; stores trap to the hypervisor if it write-protects the frame. A
 * frame the guest does not have reads as all ones and a store to it faults
 * (returns non-zero), as does a store the hypervisor refuses. */
static inline uint64_t cpu_gfn_to_mfn(struct cpu *c, uint64_t gfn)
{
    return c->vmm && c->vmm->g2m ? c->vmm->g2m(c->vmm_ctx, c, gfn) : gfn;
}
/* (a frame the guest does not have: beyond its memory, or the machine's) */
static inline int cpu_guest_frame_ok(const struct cpu *c, uint64_t mfn, unsigned idx)
{
    return mfn < c->mem->nframes && idx < PTRS_PER_TABLE;
}
/* (inline, as the two above: the guest kernel reads its tables through it) */
static inline uint64_t cpu_load(struct cpu *c, uint64_t gfn, unsigned idx)
{
    uint64_t mfn = cpu_gfn_to_mfn(c, gfn);
    return cpu_guest_frame_ok(c, mfn, idx) ? pmem_read(c->mem, mfn, idx) : UINT64_MAX;
}
int      cpu_store(struct cpu *c, uint64_t gfn, unsigned idx, uint64_t val);
/* A rep stos or rep movs of elem-byte iterations over a whole guest frame
 * (cpu.c): clear_page_erms's rep stosb (1), copy_page's rep movsq (8). */
#define CPU_REP_RESTART 1024        /* KVM's emulator re-enters the guest every 1024 iterations of a
                                       rep: 1 KiB of a byte-wise rep (128 table words), 8 KiB of a
                                       qword one (more than a page) */
void     cpu_store_string_page(struct cpu *c, uint64_t gfn, uint64_t val, unsigned elem);

/* Privileged operations (trap if the hypervisor intercepts them). */
void cpu_write_cr3(struct cpu *c, uint64_t root, uint16_t pcid, int noflush);
void cpu_invlpg(struct cpu *c, uint64_t va);
void cpu_reload_cr3(struct cpu *c);  /* MOV CR3 of the loaded root: flush its PCID */
void cpu_flush_all(struct cpu *c);   /* toggling CR4.PGE: everything */
int  cpu_invpcid(struct cpu *c, enum tlb_flush_kind kind, uint16_t pcid, uint64_t va);  /* -1: #GP (bad type) */
long cpu_hypercall(struct cpu *c, unsigned nr, void *arg);
/* User code executes SYSCALL: into the guest kernel, through the
 * hypervisor if it intercepts it. */
void cpu_syscall(struct cpu *c);
/* A page fault on the way to the guest: 1 if the hypervisor resolved it
 * (retry), 2 if it emulated the access (*mfn), 0 if the guest must handle it
 * (with error code c->inject_pfec). */
int  cpu_raise_pf(struct cpu *c, uint64_t va, uint32_t pfec, uint64_t *mfn);

/* The guest invalidated these translations architecturally: tells the
 * observer. A PV guest calls it for each flush it asks its hypervisor for,
 * as it issues the hypercall (so a hypervisor that drops the request cannot
 * hide it); the guest's own flush instructions report themselves. */
void cpu_arch_flush(struct cpu *c, enum tlb_flush_kind kind, uint64_t va, uint16_t pcid);

/* Hardware-side operations a hypervisor performs on the CPU it runs on (no
 * trap, no charge for the instruction: the caller charges its own path). */
void cpu_hw_load_root(struct cpu *c, uint64_t hw_root, uint16_t pcid, int noflush);
/* Point the hardware at a root with no invalidation and no guest counter:
 * for a hypervisor that loads a root of its own accord and flushes itself. */
void cpu_hw_set_root(struct cpu *c, uint64_t hw_root, uint16_t pcid);
void cpu_hw_invlpg(struct cpu *c, uint64_t va, uint16_t pcid);
void cpu_hw_flush(struct cpu *c, int include_global);
/* What the TLB does for one flush kind (no trap, no charge). */
void cpu_hw_tlb_flush(struct cpu *c, enum tlb_flush_kind kind, uint64_t va, uint16_t pcid);
/* INVEPT (all contexts): forget every guest-physical translation. No mode
 * calls it today, rightly: an EPT entry, once made, is never removed,
 * narrowed or pointed elsewhere while the domain lives (no ballooning,
 * sharing or migration is modelled), so no cached translation can go
 * stale. A hypervisor that changes the p2m under a live EPT must call it
 * (the unit tests do, and the prefetch's memos depend on it). */
void cpu_invept(struct cpu *c);

#endif

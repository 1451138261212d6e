/* hap.c: hardware-assisted nested paging, mode hap (Xen: xen/arch/x86/mm/hap/;
 * KVM's TDP MMU, arch/x86/kvm/mmu/tdp_mmu.c; Intel EPT, AMD NPT).
 *
 * The guest owns its page tables outright: they hold guest-physical frames,
 * the guest kernel uses the native paravirt backend, and its page faults,
 * page-table stores, CR3 writes and TLB flushes never exit. The hypervisor
 * keeps one EPT per domain, populated as hap.ept_populate says:
 *  - fault (KVM's TDP MMU): filled lazily. The first touch of a guest frame
 *    (by a user access, a walk of a guest table, or the guest kernel's own
 *    load or store) is an EPT violation, which exits; the handler maps the
 *    frame (or, with hap.ept_page_size=2m, its whole 2 MiB extent) and the
 *    access is retried: a new TLB miss and a new walk.
 *  - boot (Xen: the EPT is the p2m, p2m-ept.c, written as memory is given
 *    to the domain, common/memory.c populate_physmap ->
 *    guest_physmap_add_page): all guest RAM is mapped when the domain is
 *    built, and only a frame that is not guest RAM takes a violation.
 *    Simplification: so that memvirt's memory follows what the guest uses,
 *    not its RAM, an entry is written on first need, free and without an
 *    exit, just before anything reads it (the 2D walk asks through
 *    nested_mmu.prebuilt; the guest kernel's accesses and the hypervisor's
 *    through hap_translate*), so every walk finds it present. The full
 *    EPT's table frames are reserved and counted from the start (ept.h);
 *    their machine placement follows first use.
 * A TLB miss is a 2D walk (hw/walk2d.c) helped by the structures hap.*
 * configures.
 *
 * Simplification (fault): the guest's data pages are not written by the
 * guest kernel in memvirt (only their use is modelled), so a data page's
 * first EPT violation happens at the first user access after the fault that
 * mapped it, where a real guest would take it while zeroing the page; the
 * number of violations is the same. */
#include "hv/hap/hap.h"
#include "hv/hvm.h"
#include "hv/paging.h"
#include "hw/ept.h"
#include "hw/walk2d.h"
#include "lib/err.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct hap *HAP(void *h) { return ((struct hv *)h)->mode; }

/* An EPT violation on gfn: exit, map, return. -1 if the guest named a
 * frame it does not have (the access cannot be completed). */
static int ept_violation(struct hv *h, struct hap *a, uint64_t gfn)
{
    hv_exit(h, HV_VMEXIT, EXIT_EPT_VIOLATION);
    hv_charge(h, h->cost->ept_fill);
    return ept_map(&a->ept, gfn) < 0 ? -1 : 0;
}

/* An EPT misconfiguration met on the way to gfn: an entry of the EPT has
 * a reserved bit set, and the hypervisor wrote it. Xen
 * (ept_handle_misconfiguration) crashes the domain when it cannot resolve
 * one; KVM (handle_ept_misconfig) warns and fails KVM_RUN for one it did
 * not make on purpose. memvirt makes none on purpose (no MMIO entries, no
 * deferred recalculation): the domain is crashed. */
static void ept_misconfig(struct hv *h, uint64_t gfn)
{
    hv_exit(h, HV_VMEXIT, EXIT_EPT_MISCONFIG);
    domain_crash(h, "d%u EPT misconfiguration on the walk to gfn %#llx: an EPT entry has a reserved bit set",
                 h->dom.id, (unsigned long long)gfn);
}

/* The 2D walk of a miss stopped on an EPT exit on gfn: take the exit,
 * and walk again until the miss ends. */
static uint32_t hap_exit(struct hv *h, struct hap *a, struct cpu *c, uint64_t va, enum access acc, int user,
                         struct tlb_xlate *x, uint64_t gfn)
{
    for (;;) {
        if (walk2d_ept_misconfig(c, gfn)) {
            ept_misconfig(h, gfn);
            return pfec_of(acc, user) | PFEC_RSVD;   /* the access does not complete */
        }
        if (ept_violation(h, a, gfn))
            return pfec_of(acc, user) | PFEC_RSVD;   /* not guest memory: the access faults */
        /* VM entry resumes the guest at the instruction that exited: it
         * makes its reference again, misses the TLB again (nothing was
         * installed) and walks afresh, counted and charged as the retry
         * after a page fault is (cpu_access_slow). */
        c->st->cnt[CNT_tlb_miss]++;
        stat_charge(c->st, CYC_user, c->cost->ref);
        uint32_t pfec = walk2d(c, va, acc, user, x, &gfn);
        if (pfec != WALK_FETCH_FAILED)
            return pfec;
    }
}

uint32_t hap_fill(struct hv *h, struct hap *a, struct cpu *c, uint64_t va, enum access acc, int user,
                  struct tlb_xlate *x)
{
    uint64_t gfn;
    uint32_t pfec = walk2d(c, va, acc, user, x, &gfn);
    return pfec == WALK_FETCH_FAILED ? hap_exit(h, a, c, va, acc, user, x, gfn) : pfec;
}

uint64_t hap_translate(struct hv *h, struct hap *a, uint64_t gfn)
{
    uint64_t mfn = ept_lookup(&a->ept, gfn);
    if (mfn != UINT64_MAX)
        return mfn;
    if (pfn_to_mfn(&h->dom, gfn) == UINT64_MAX)
        return UINT64_MAX;
    if (a->prebuilt ? ept_map(&a->ept, gfn) < 0 : ept_violation(h, a, gfn) != 0)
        return UINT64_MAX;
    return ept_lookup(&a->ept, gfn);
}

uint64_t hap_translate_hv(struct hv *h, struct hap *a, uint64_t gfn)
{
    uint64_t mfn = ept_lookup(&a->ept, gfn);
    if (mfn != UINT64_MAX || pfn_to_mfn(&h->dom, gfn) == UINT64_MAX)
        return mfn;
    if (!a->prebuilt)
        hv_charge(h, h->cost->ept_fill);    /* already in the hypervisor: no exit */
    return ept_map(&a->ept, gfn) < 0 ? UINT64_MAX : ept_lookup(&a->ept, gfn);
}

/* nested_mmu.prebuilt: the entry of a guest RAM frame, as the domain's
 * build wrote it (ept_map writes nothing if it is there, and refuses a
 * frame that is not guest RAM, whose walk then takes its violation). */
static void hap_prebuilt_entry(void *ctx, uint64_t gfn)
{
    ept_ensure(&((struct hap *)ctx)->ept, gfn);
}

static uint32_t hap_tlb_fill(void *ctx, struct cpu *c, uint64_t va, enum access acc, int user,
                             struct tlb_xlate *x)
{
    return hap_fill(ctx, HAP(ctx), c, va, acc, user, x);
}

static uint32_t hap_walk2d_exit(void *ctx, struct cpu *c, uint64_t va, enum access acc, int user,
                                struct tlb_xlate *x, uint64_t gfn)
{
    return hap_exit(ctx, HAP(ctx), c, va, acc, user, x, gfn);
}

static enum cpu_walk hap_walk_kind(void *ctx) { return CPU_WALK_2D; }

/* The guest kernel's own loads and stores go through the EPT too. */
static uint64_t hap_g2m(void *ctx, struct cpu *c, uint64_t gfn)
{
    return hap_translate(ctx, HAP(ctx), gfn);
}

uint64_t hap_heap_frames(const struct hvconfig *cfg, uint64_t guest_frames)
{
    uint64_t ext = guest_frames >> 9;
    return ext + ext / 512 + 8;
}

int hap_state_init(struct hv *h, struct hap *a)
{
    const struct hapconfig *hc = &h->cfg->hap;
    a->prebuilt = !strcmp(hc->ept_populate, "boot");
    if (ept_init(&a->ept, h, !strcmp(hc->ept_page_size, "2m"), a->prebuilt))
        return mv_error(a->prebuilt ? "hap: no hypervisor frames left for the EPT of the guest's RAM"
                                    : "hap: no hypervisor frame left for the EPT root");
    const struct nested_config nc = {
        .ept_pwc_l4 = hc->ept_pwc_l4, .ept_pwc_l3 = hc->ept_pwc_l3, .ept_pwc_l2 = hc->ept_pwc_l2,
        .ntlb_entries = hc->ntlb_entries, .ntlb_ways = hc->ntlb_ways, .guest_pwc = hc->guest_pwc,
    };
    if (cpu_enable_nested(h->cpu, a->ept.root, &nc))
        return hvconfig_validate_ntlb(hc) ? -1 : mv_error("--param hap.ntlb_*: invalid nested TLB geometry");
    if (a->prebuilt) {
        h->cpu->nested.prebuilt = hap_prebuilt_entry;
        h->cpu->nested.prebuilt_ctx = a;
    }
    return 0;
}

static int hap_init(struct hv *h)
{
    struct hap *a = mv_calloc(1, sizeof *a);
    h->mode = a;
    return hap_state_init(h, a);
}

static void hap_destroy(struct hv *h)
{
    struct hap *a = h->mode;
    if (!a)
        return;
    ept_destroy(&a->ept);
    free(a);
    h->mode = NULL;
}

/* ---- invariants ------------------------------------------------------------ */

struct ept_scan {
    struct hv *h;
    char *msg;
    unsigned len;
    int bad;
};

/* Every EPT leaf maps guest memory to the domain's own frames, as its p2m
 * says, and never to a frame of the hypervisor's. */
static void ept_leaf_ok(void *ctx, uint64_t gfn, unsigned lvl, pte_t e)
{
    struct ept_scan *s = ctx;
    if (s->bad)
        return;
    uint64_t n = 1ull << (9 * (lvl - 1));
    for (uint64_t i = 0; i < n; i++) {
        uint64_t mfn = pte_frame(e) + i, want = pfn_to_mfn(&s->h->dom, gfn + i);
        if (mfn != want) {
            snprintf(s->msg, s->len, "EPT maps gfn %#llx to frame %#llx%s (the domain's frame is %#llx)",
                     (unsigned long long)(gfn + i), (unsigned long long)mfn,
                     hv_owns(s->h, mfn) ? "" : ", which the domain does not own",
                     (unsigned long long)want);
            s->bad = 1;
            return;
        }
    }
}

int hap_check_state(struct hv *h, struct hap *a, char *msg, unsigned len)
{
    const struct ept *e = &a->ept;
    /* prebuilt: the tables written and those reserved are a full EPT's */
    uint64_t full = ept_full_tables(h->dom.nr_pages, e->huge);
    if (a->prebuilt && e->table_pages + e->unbuilt != full) {
        snprintf(msg, len, "EPT of guest RAM: %llu table frames written and %llu reserved, not the %llu a "
                 "full EPT has", (unsigned long long)e->table_pages, (unsigned long long)e->unbuilt,
                 (unsigned long long)full);
        return -1;
    }
    /* no EPT L4 entry has reserved bit 7 set: a walk through it would be
     * an EPT misconfiguration (the hardware's), which crashes the domain */
    const uint64_t *l4 = pmem_table_peek(h->mem, e->root);
    for (unsigned i = 0; l4 && i < PTRS_PER_TABLE; i++)
        if (ept_l4_rsvd(l4[i])) {
            snprintf(msg, len, "EPT L4 entry %u (%#llx) has reserved bit 7 set: a walk through it is an EPT "
                     "misconfiguration", i, (unsigned long long)l4[i]);
            return -1;
        }
    struct ept_scan s = { h, msg, len, 0 };
    ept_for_each_leaf(&a->ept, ept_leaf_ok, &s);
    if (s.bad)
        return -1;
    return hvm_check(h, &a->io_checked, msg, len);
}

static int hap_check(struct hv *h, char *msg, unsigned len)
{
    return hap_check_state(h, HAP(h), msg, len);
}

/* EPT table frames: prebuilt, the full EPT's from the start */
static double g_ept_pages(const void *ctx)
{
    const struct ept *e = &((const struct hap *)ctx)->ept;
    return (double)(e->table_pages + e->unbuilt);
}

void hap_state_instruments(struct hap *a, struct mv_instruments *in)
{
    mv_add_gauge(in, "ept_pages", g_ept_pages, a);
}

static void hap_instruments(struct hv *h, struct mv_instruments *in)
{
    hap_state_instruments(h->mode, in);
}

static const char *const hap_groups[] = { "hap", NULL };

const struct paging_mode pm_hap = {
    .name = "hap",
    .doc = "nested paging (EPT/NPT): 2D walks; guest page-table work never exits",
    .dfn_is_gfn = 1,
    .iommu_attached = hvm_iommu_attached,
    .heap_frames = hap_heap_frames,
    .init = hap_init,
    .destroy = hap_destroy,
    .check = hap_check,
    .instruments = hap_instruments,
    .traps = { .name = "hap", .tlb_fill = hap_tlb_fill, .walk2d_exit = hap_walk2d_exit, .g2m = hap_g2m,
               .walk_kind = hap_walk_kind },
    .params = hap_groups,
};

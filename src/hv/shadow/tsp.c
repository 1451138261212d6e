/* tsp.c: traditional shadow paging, mode tsp (KVM's shadow MMU with EPT off;
 * Xen's shadow mode for HVM guests; REFERENCE.md §1, §7).
 *
 * Every guest frame with a shadow is write-protected: a guest store to it
 * exits (pt_write) and is emulated and propagated to the shadows
 * (shadow_write). Every page fault exits (pf): it is either a hidden fault
 * that fills the shadow or the guest's own, injected. MOV CR3 exits (cr3)
 * to load the shadow of the new root; INVLPG (invlpg), a CR3 reload,
 * CR4.PGE and INVPCID (flush) exit to flush the hardware (and, with
 * tsp.unsync, to resync out-of-sync L1 shadows first, as KVM does: INVLPG
 * the one entry, a flush of the address space what its root reaches). */
#include "hv/hvm.h"
#include "hv/paging.h"
#include "hv/shadow/shadow.h"
#include "lib/err.h"
#include <stdlib.h>
#include <string.h>

static struct shadow *SH(void *h) { return ((struct hv *)h)->mode; }

static uint64_t tsp_g2m(void *ctx, struct cpu *c, uint64_t gfn)
{
    return pfn_to_mfn(&((struct hv *)ctx)->dom, gfn);
}

static int tsp_store_traps(void *ctx, uint64_t gfn)
{
    return shadow_protected(SH(ctx), gfn);
}

void tsp_shadow_config(struct shadow *s, const struct hvconfig *cfg)
{
    s->protect = 1;
    s->unsync = cfg->tsp.unsync;
    if (s->unsync && cfg->tsp.oos_limit) {
        s->oos_n = (uint32_t)cfg->tsp.oos_limit;
        s->oos = mv_calloc(s->oos_n, sizeof *s->oos);
    }
    s->flood_threshold = cfg->tsp.flood_threshold;
    s->flood_per_vcpu = !strcmp(cfg->tsp.flood_detector, "vcpu") ||
                        (!strcmp(cfg->tsp.flood_detector, "auto") && !cfg->tsp.unsync);
    s->retry = !strcmp(cfg->tsp.retry, "true") || (!strcmp(cfg->tsp.retry, "auto") && !s->flood_per_vcpu);
}

/* The handlers, on a shadow s: mode tsp's, and selective's while shadowed. */
int tsp_handle_store(struct hv *h, struct shadow *s, struct cpu *c, uint64_t gfn, unsigned idx, uint64_t val)
{
    hv_exit(h, HV_VMEXIT, EXIT_PT_WRITE);
    hv_charge(h, h->cost->shadow_emulate);
    shadow_write(s, gfn, idx, val);
    shadow_flush_hw(s, c);
    return 0;
}

/* A store by an instruction that writes no page table (clear_page's rep
 * stos, copy_page's rep movs) to a protected frame: KVM's retry_instruction
 * (Linux 3.3, commit 1cb3f3ae, in the series that brought the per-page
 * flood counter; tsp.retry=auto follows tsp.flood_detector): the write faults (an exit), the emulator
 * decodes the instruction, finds it is not one that writes page tables, and
 * instead of emulating it zaps every shadow of the frame
 * (kvm_mmu_unprotect_page) and lets the guest run the instruction again,
 * natively: one exit a page instead of one a store until flooding. Not
 * taken (0: emulate) with tsp.retry off, or where KVM's fault handler
 * makes the frame writable first: with tsp.unsync, a frame shadowed only
 * as L1 tables goes out of sync instead (mmu_try_to_unsync_pages). Nor for
 * the current root: KVM would zap it and reload; memvirt keeps the current
 * root's shadow (as flooding does), so its stores are emulated. */
int tsp_handle_store_retry(struct hv *h, struct shadow *s, struct cpu *c, uint64_t gfn)
{
    (void)c;
    if (!s->retry || (s->unsync && shadow_unsyncable(s, gfn)) || (s->cur_root && s->cur_root->gfn == gfn))
        return 0;
    /* a trapped store to a protected table, as the emulated ones are
     * counted (a #PF exit in both; shadow_retry tells them apart) */
    hv_exit(h, HV_VMEXIT, EXIT_PT_WRITE);
    hv_charge(h, h->cost->shadow_emulate);    /* the walk and the decode */
    h->st->cnt[CNT_shadow_retry]++;
    shadow_unshadow(s, gfn);
    return 1;
}

/* The next iteration of a string instruction tsp is emulating (KVM's
 * emulator restarting it without re-entering the guest, EMULATION_RESTART):
 * propagated and counted toward flooding as a trapped store, without an
 * exit. Only the first iteration's decode and emulation is charged
 * (cost.shadow_emulate): the cost model has no per-iteration price. */
int tsp_handle_store_cont(struct hv *h, struct shadow *s, struct cpu *c, uint64_t gfn, unsigned idx, uint64_t val)
{
    (void)h;
    shadow_write(s, gfn, idx, val);
    shadow_flush_hw(s, c);
    return 0;
}

int tsp_handle_page_fault(struct hv *h, struct shadow *s, struct cpu *c, uint64_t va, uint32_t pfec, uint64_t *mfn)
{
    hv_exit(h, HV_VMEXIT, EXIT_PF);
    int rc = shadow_page_fault(s, c, va, pfec, mfn);
    if (rc != 2) {              /* given to the guest, or not a write to a page table */
        shadow_flood_fault_reset(s);
        return rc;
    }
    /* A user write emulated into a protected table: charged and propagated
     * as a trapped store is (KVM runs kvm_mmu_pte_write on it, write-flooding
     * detection included). memvirt does not model user data, so the word
     * written keeps its value. */
    hv_charge(h, h->cost->shadow_emulate);
    uint64_t gfn = mfn_to_pfn(&h->dom, *mfn);
    unsigned idx = (unsigned)((va & (PAGE_SIZE - 1)) >> 3);
    if (shadow_protected(s, gfn))
        shadow_write(s, gfn, idx, pmem_read(h->mem, *mfn, idx));
    shadow_flush_hw(s, c);
    return rc;
}

int tsp_handle_write_cr3(struct hv *h, struct shadow *s, struct cpu *c, uint64_t root, uint16_t pcid, int noflush)
{
    hv_exit(h, HV_VMEXIT, EXIT_CR3);
    struct shadow_page *sp = shadow_get_root(s, root);
    if (!sp)
        return -1;                          /* not guest memory: #GP */
    if (s->unsync && s->oos_n)
        shadow_oos_resync_all(s);           /* Xen: every CR3 write resyncs the vCPU's */
    else if (s->unsync && !noflush)
        shadow_sync_unsync_root(s, sp);     /* KVM: KVM_REQ_MMU_SYNC, on the new root */
    shadow_load_root(s, c, sp, root, pcid, noflush);
    shadow_flush_hw(s, c);
    return 1;
}

int tsp_handle_tlb_flush(struct hv *h, struct shadow *s, struct cpu *c, enum tlb_flush_kind kind, uint64_t va,
                         uint16_t pcid)
{
    hv_exit(h, HV_VMEXIT, kind == FLUSH_INVLPG ? EXIT_INVLPG : EXIT_FLUSH);
    if (s->unsync && s->oos_n) {
        /* as Xen (tsp.oos_limit): INVLPG drops the one entry of an
         * out-of-sync L1, any other flush resyncs them all */
        if (kind == FLUSH_INVLPG || kind == FLUSH_INVPCID_ADDR)
            shadow_oos_invlpg(s, va);
        else
            shadow_oos_resync_all(s);
    } else if (s->unsync) {
        /* as KVM: INVLPG resyncs one entry, under the current root and
         * the three previous ones, a flush of the current address space
         * what its root reaches (kvm_mmu_sync_roots). A flush of
         * another PCID or of every one resyncs every out-of-sync shadow:
         * KVM resyncs what the current and its three previous roots
         * reach, or drops those of another PCID, while memvirt keeps up to
         * shadow.max_roots roots loadable without a resync. memvirt's
         * guest kernels give tsp none of these. */
        int cur = kind == FLUSH_INVLPG || kind == FLUSH_CR3_RELOAD || pcid == c->pcid;
        if (cur && (kind == FLUSH_INVLPG || kind == FLUSH_INVPCID_ADDR))
            shadow_sync_unsync_va(s, va);
        else if (cur && (kind == FLUSH_CR3_RELOAD || kind == FLUSH_INVPCID_SINGLE))
            shadow_sync_unsync_root(s, s->cur_root);
        else
            shadow_sync_unsync(s);
    }
    shadow_do_guest_flush(s, c, kind, va, pcid);
    shadow_flush_hw(s, c);
    return 1;
}

static int tsp_store(void *ctx, struct cpu *c, uint64_t gfn, unsigned idx, uint64_t val)
{
    return tsp_handle_store(ctx, SH(ctx), c, gfn, idx, val);
}

static int tsp_store_retry(void *ctx, struct cpu *c, uint64_t gfn)
{
    return tsp_handle_store_retry(ctx, SH(ctx), c, gfn);
}

static int tsp_store_cont(void *ctx, struct cpu *c, uint64_t gfn, unsigned idx, uint64_t val)
{
    return tsp_handle_store_cont(ctx, SH(ctx), c, gfn, idx, val);
}

static int tsp_page_fault(void *ctx, struct cpu *c, uint64_t va, uint32_t pfec, uint64_t *mfn)
{
    return tsp_handle_page_fault(ctx, SH(ctx), c, va, pfec, mfn);
}

static int tsp_write_cr3(void *ctx, struct cpu *c, uint64_t root, uint16_t pcid, int noflush)
{
    return tsp_handle_write_cr3(ctx, SH(ctx), c, root, pcid, noflush);
}

static int tsp_tlb_flush(void *ctx, struct cpu *c, enum tlb_flush_kind kind, uint64_t va, uint16_t pcid)
{
    return tsp_handle_tlb_flush(ctx, SH(ctx), c, kind, va, pcid);
}

static uint64_t tsp_heap_frames(const struct hvconfig *cfg, uint64_t guest_frames)
{
    return shadow_pool_frames(cfg, guest_frames);
}

static int tsp_init(struct hv *h)
{
    struct shadow *s = mv_calloc(1, sizeof *s);
    h->mode = s;
    shadow_init(s, h);
    tsp_shadow_config(s, h->cfg);
    return 0;
}

static void tsp_destroy(struct hv *h)
{
    if (!h->mode)
        return;
    shadow_destroy(h->mode);
    free(h->mode);
    h->mode = NULL;
}

static int tsp_check(struct hv *h, char *msg, unsigned len) { return shadow_check(h->mode, msg, len); }
static void tsp_instruments(struct hv *h, struct mv_instruments *in) { shadow_instruments(h->mode, in); }

static const char *const tsp_groups[] = { "shadow", "tsp", NULL };   /* parameters only shadow modes read */

const struct paging_mode pm_tsp = {
    .name = "tsp",
    .doc = "traditional shadow paging: guest tables write-protected, shadows synced on every write",
    .dfn_is_gfn = 1,
    .iommu_attached = hvm_iommu_attached,
    .heap_frames = tsp_heap_frames,
    .init = tsp_init,
    .destroy = tsp_destroy,
    .check = tsp_check,
    .instruments = tsp_instruments,
    .traps = {
        .name = "tsp", .g2m = tsp_g2m, .store_traps = tsp_store_traps, .store = tsp_store,
        .store_retry = tsp_store_retry, .store_cont = tsp_store_cont,
        .page_fault = tsp_page_fault, .write_cr3 = tsp_write_cr3, .tlb_flush = tsp_tlb_flush,
    },
    .params = tsp_groups,
};

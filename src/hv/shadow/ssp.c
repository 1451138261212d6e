/* ssp.c: swift shadow paging, mode ssp (Sha, Zhang, Luo, Wang, Wang,
 * VEE'21; REFERENCE.md §1, §7).
 *
 * Guest page tables are not write-protected: the guest's stores to them are
 * plain stores. The guest must flush its TLB after narrowing or removing a
 * translation, so the shadow is resynced when it flushes: every form of
 * flush is intercepted by a trap to the processor's highest-privilege mode
 * (Sunway's hardware mode, RISC-V's machine mode), cheaper than a VM exit
 * (cost.ssp_trap, counted as ssp_traps). INVLPG resyncs the path of its
 * address; a CR3 reload or INVPCID of one PCID the root loaded with it; a
 * global flush every cached root. A shadow-not-present or narrower-shadow
 * fault exits and fills the shadow from the guest's tables, as in tsp (the
 * paper does not say which of its exits remain; with ssp.fault_trap the
 * faults take the hardware-mode trap as well, as a processor whose TLB is
 * refilled by software, like Sunway's, would allow). With ssp.flush_fill an
 * INVLPG also fills the entry the shadow lacks, so a guest that flushes
 * after installing an entry (guest.flush_after_fault: RISC-V Linux's
 * eager flush in update_mmu_cache) takes one exit per fault, not two.
 *
 * A shadow page-table base address buffer (ssp.rootbuf_entries) maps guest
 * roots to shadow roots in hardware: a CR3 write with NOFLUSH to a buffered
 * root loads its shadow with no trap at all; one that flushes traps (to
 * resync the root); one that misses the buffer exits (the hypervisor finds
 * or builds the shadow root and fills the buffer, least recently used out). */
#include "hv/hvm.h"
#include "hv/paging.h"
#include "hv/shadow/shadow.h"
#include "lib/err.h"
#include <stdlib.h>

#define NPCID 4096

struct ssp {
    struct shadow s;            /* first: h->mode is also a struct shadow * */
    uint64_t *buf_gfn;          /* the root buffer: guest roots (0: empty) */
    uint64_t *buf_lru;
    uint64_t nbuf, clock;
    uint64_t pcid_root[NPCID];  /* guest root last loaded with each PCID (0: none) */
};

static struct ssp *SSP(void *h) { return ((struct hv *)h)->mode; }

static uint64_t ssp_g2m(void *ctx, struct cpu *c, uint64_t gfn)
{
    return pfn_to_mfn(&((struct hv *)ctx)->dom, gfn);
}

static int ssp_page_fault(void *ctx, struct cpu *c, uint64_t va, uint32_t pfec, uint64_t *mfn)
{
    struct hv *h = ctx;
    hv_exit(h, h->cfg->ssp.fault_trap ? HV_SSP_TRAP : HV_VMEXIT, EXIT_PF);
    return shadow_page_fault(&SSP(h)->s, c, va, pfec, mfn);
}

/* The buffer slot of guest root gfn whose shadow root still exists, or -1. */
static long buf_find(struct ssp *p, uint64_t gfn)
{
    for (uint64_t i = 0; i < p->nbuf; i++)
        if (p->buf_gfn[i] == gfn + 1) {
            struct shadow_page *sp = sp_find(&p->s, gfn, 4);
            if (sp && (sp->flags & SP_ROOT))
                return (long)i;
            p->buf_gfn[i] = 0;          /* its shadow root was evicted */
            return -1;
        }
    return -1;
}

static void buf_insert(struct ssp *p, uint64_t gfn)
{
    if (!p->nbuf)
        return;
    uint64_t v = 0;                         /* an empty slot, else the least recently used */
    for (uint64_t i = 0; i < p->nbuf; i++) {
        if (!p->buf_gfn[i]) {
            v = i;
            break;
        }
        if (p->buf_lru[i] < p->buf_lru[v])
            v = i;
    }
    p->buf_gfn[v] = gfn + 1;
    p->buf_lru[v] = ++p->clock;
}

static struct shadow_page *root_of_pcid(struct ssp *p, struct cpu *c, uint16_t pcid)
{
    if (pcid == c->pcid)
        return p->s.cur_root;
    uint64_t gfn = p->pcid_root[pcid & (NPCID - 1)];
    struct shadow_page *sp = gfn ? sp_find(&p->s, gfn - 1, 4) : NULL;
    return sp && (sp->flags & SP_ROOT) ? sp : NULL;
}

static int ssp_write_cr3(void *ctx, struct cpu *c, uint64_t root, uint16_t pcid, int noflush)
{
    struct hv *h = ctx;
    struct ssp *p = SSP(h);
    struct shadow *s = &p->s;
    long slot = buf_find(p, root);
    struct shadow_page *sp;
    if (slot >= 0) {
        h->st->cnt[CNT_rootbuf_hit]++;
        p->buf_lru[slot] = ++p->clock;
        sp = sp_find(s, root, 4);
        sp->lru = ++s->root_clock;
        if (!noflush) {                     /* the load flushes: resync */
            hv_exit(h, HV_SSP_TRAP, EXIT_FLUSH);
            shadow_sync_root(s, sp);
        }
    } else {
        h->st->cnt[CNT_rootbuf_miss]++;
        hv_exit(h, HV_VMEXIT, EXIT_CR3);
        sp = shadow_get_root(s, root);
        if (!sp)
            return -1;                      /* not guest memory: #GP */
        if (!noflush)
            shadow_sync_root(s, sp);
        buf_insert(p, root);
    }
    p->pcid_root[pcid & (NPCID - 1)] = root + 1;
    shadow_load_root(s, c, sp, root, pcid, noflush);
    shadow_flush_hw(s, c);
    return 1;
}

static int ssp_tlb_flush(void *ctx, struct cpu *c, enum tlb_flush_kind kind, uint64_t va, uint16_t pcid)
{
    struct hv *h = ctx;
    struct ssp *p = SSP(h);
    struct shadow *s = &p->s;
    hv_exit(h, HV_SSP_TRAP, kind == FLUSH_INVLPG ? EXIT_INVLPG : EXIT_FLUSH);
    switch (kind) {
    case FLUSH_INVLPG:
    case FLUSH_INVPCID_ADDR: {
        struct shadow_page *r = root_of_pcid(p, c, kind == FLUSH_INVLPG ? c->pcid : pcid);
        if (r)
            shadow_sync_va(s, r, va);
        if (r && r == s->cur_root && h->cfg->ssp.flush_fill)
            shadow_fill_va(s, va);   /* a new entry the flush announces */
        break;
    }
    case FLUSH_CR3_RELOAD:
    case FLUSH_INVPCID_SINGLE:
        shadow_sync_root(s, root_of_pcid(p, c, kind == FLUSH_CR3_RELOAD ? c->pcid : pcid));
        break;
    default:
        shadow_sync_all(s);
        break;
    }
    shadow_do_guest_flush(s, c, kind, va, pcid);
    shadow_flush_hw(s, c);
    return 1;
}

static uint64_t ssp_heap_frames(const struct hvconfig *cfg, uint64_t guest_frames)
{
    return shadow_pool_frames(cfg, guest_frames);
}

static int ssp_init(struct hv *h)
{
    struct ssp *p = mv_calloc(1, sizeof *p);
    h->mode = p;
    shadow_init(&p->s, h);
    p->s.protect = 0;
    p->nbuf = h->cfg->ssp.rootbuf_entries;
    p->buf_gfn = mv_calloc(p->nbuf + 1, sizeof *p->buf_gfn);
    p->buf_lru = mv_calloc(p->nbuf + 1, sizeof *p->buf_lru);
    return 0;
}

static void ssp_destroy(struct hv *h)
{
    struct ssp *p = h->mode;
    if (!p)
        return;
    shadow_destroy(&p->s);
    free(p->buf_gfn);
    free(p->buf_lru);
    free(p);
    h->mode = NULL;
}

static int ssp_check(struct hv *h, char *msg, unsigned len) { return shadow_check(h->mode, msg, len); }
static void ssp_instruments(struct hv *h, struct mv_instruments *in) { shadow_instruments(h->mode, in); }

static const char *const ssp_groups[] = { "shadow", "ssp", NULL };

const struct paging_mode pm_ssp = {
    .name = "ssp",
    .doc = "swift shadow paging: no write protection, shadows synced at guest TLB flushes, root buffer",
    .dfn_is_gfn = 1,
    .iommu_attached = hvm_iommu_attached,
    .heap_frames = ssp_heap_frames,
    .init = ssp_init,
    .destroy = ssp_destroy,
    .check = ssp_check,
    .instruments = ssp_instruments,
    .traps = {
        .name = "ssp", .g2m = ssp_g2m, .page_fault = ssp_page_fault, .write_cr3 = ssp_write_cr3,
        .tlb_flush = ssp_tlb_flush,
    },
    .params = ssp_groups,
};

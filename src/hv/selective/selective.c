/* selective.c: selective hardware/software paging, mode selective (Wang,
 * Zang, Wang, Luo, Li, VEE'11; REFERENCE.md §1, §6).
 *
 * The guest runs under nested paging (the hap machinery: EPT, 2D walks) or
 * under traditional shadow paging (the tsp machinery: write-protected guest
 * tables, shadows synced on every write), and the hypervisor switches
 * between them at run time. With selective.policy=dynamic it samples, every
 * selective.sample_ms, the TLB misses and guest page faults per 1,000
 * retired instructions and applies VEE'11's rules (policy.c); retired
 * instructions are the program's user instructions only, a simplification
 * (docs/selective-clustering.md). A switch does
 * the real work, and costs what that work costs:
 *  - to shadow: the shadow of the current root is built, empty, and loaded
 *    (the hypervisor's own MOV CR3: its time, not a guest context switch
 *    nor a guest flush);
 *    shadows then fill lazily through faults, each guest table becoming
 *    write-protected as it is shadowed;
 *  - to nested: every shadow page is dropped (every guest table stops being
 *    protected), and the EPT, kept all along, serves the 2D walks again;
 *    with hap.ept_populate=fault, frames first touched while shadowed take
 *    their EPT violations now (boot: the EPT maps all guest RAM already).
 * Both flush the TLB and the paging-structure caches, whose entries point
 * into the other mode's tables. The switch happens at a sampling point,
 * between guest operations; the exit that brings the hypervisor there (the
 * sampling timer) happens under every mode and is not charged.
 *
 * policy=alternate forces a round trip to the other mode every
 * alternate_ms (staying dwell_ms), for measuring what switching costs;
 * policy=fixed stays in the start mode. The control `shadow` (on/off) switches at
 * a given time. Every switch is in the run's timeline, with its reason. */
#include "hv/hap/hap.h"
#include "hv/hvm.h"
#include "hv/paging.h"
#include "hv/selective/selective.h"
#include "hv/shadow/shadow.h"
#include "lib/err.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct selective *SEL(void *h) { return ((struct hv *)h)->mode; }

/* ---- switching -------------------------------------------------------------- */

static void flush_all(struct hv *h)
{
    h->st->cnt[CNT_hv_tlb_flush]++;
    hv_charge(h, h->cost->tlb_flush);
    cpu_hw_flush(h->cpu, 1);
}

static void switch_to(struct selective *s, enum sel_mode to, const char *why)
{
    struct hv *h = s->h;
    struct cpu *c = h->cpu;
    if (to == s->mode)
        return;
    uint64_t now = h->st->now;
    struct shadow_page *root = NULL;
    if (to == SEL_SHADOW && !(root = shadow_get_root(&s->sh, c->cr3))) {
        /* Under nested paging MOV CR3 does not exit, so the guest may have
         * loaded a frame it does not have (its walks fault on it). Shadow
         * paging has no root to build from it. KVM's mmu_check_root shut
         * such a guest down (a triple fault); since 2023 KVM gives it a
         * dummy root backed by the zero page, so its accesses fault. memvirt
         * keeps it nested instead, where its accesses fault too: a choice of
         * its own, not KVM's. The switch happens at the next decision that
         * finds CR3 in guest memory (the dynamic policy's next sample, or
         * the control applied again); a refused one is not retried. */
        if (h->timeline)
            mv_event_add(h->timeline, hv_seconds(h, now), "selective: stays nested",
                         "to shadow refused: CR3 is not guest memory");
        return;
    }
    if (s->mode == SEL_SHADOW)
        s->shadow_cycles += now - s->mode_since;
    s->mode_since = now;
    if (to == SEL_SHADOW) {
        shadow_load_root_hv(&s->sh, c, root);   /* flushed below */
        s->to_shadow++;
    } else {
        shadow_drop_all(&s->sh);
        s->sh.need_flush = 0;              /* the flush below covers it */
        c->hw_root = hap_translate_hv(h, &s->hap, c->cr3);
        s->to_hap++;
    }
    s->mode = to;
    flush_all(h);
    if (h->timeline)
        mv_event_add(h->timeline, hv_seconds(h, now), to == SEL_SHADOW ? "selective: to shadow" : "selective: to nested",
                     why);
}

/* One sampling period's rates against the history: VEE'11's decision. */
static void sample(struct selective *s)
{
    struct hv *h = s->h;
    const uint64_t *cnt = h->st->cnt;
    uint64_t instr = cnt[CNT_instructions] - s->last_instr;
    struct sel_sample cur = sel_sample_of(cnt[CNT_tlb_miss] - s->last_tlb, cnt[CNT_guest_pf] - s->last_pf, instr);
    s->last_tlb = cnt[CNT_tlb_miss];
    s->last_pf = cnt[CNT_guest_pf];
    s->last_instr = cnt[CNT_instructions];
    if (!instr)
        return;                            /* the program did not run: nothing to judge */
    s->samples++;
    struct sel_sample hist = cur;
    if (s->nhist) {
        hist = (struct sel_sample){ 0, 0, 0 };
        for (unsigned i = 0; i < s->nhist; i++) {
            hist.tlb += s->hist[i].tlb / s->nhist;
            hist.pf += s->hist[i].pf / s->nhist;
            hist.ratio += s->hist[i].ratio / s->nhist;
        }
    }
    enum sel_rule rule;
    enum sel_mode to = sel_decide(&h->cfg->selective, &cur, &hist, s->mode, &rule);
    unsigned keep = (unsigned)h->cfg->selective.history;
    s->hist[s->hist_pos] = cur;
    s->hist_pos = (s->hist_pos + 1) % keep;
    if (s->nhist < keep)
        s->nhist++;
    if (to != s->mode) {
        char why[160];
        snprintf(why, sizeof why, "%s: per 1000 instructions %.4g TLB misses (history %.4g), %.4g faults "
                 "(history %.4g)", sel_rule_name(rule), cur.tlb, hist.tlb, cur.pf, hist.pf);
        switch_to(s, to, why);
    }
}

/* The first deadline of a period-long timer after now (saturated). */
static uint64_t period_after(uint64_t deadline, uint64_t period, uint64_t now)
{
    uint64_t next;
    if (__builtin_mul_overflow((now - deadline) / period + 1, period, &next) ||
        __builtin_add_overflow(deadline, next, &next))
        return UINT64_MAX;
    return next;
}

static void sel_tick(struct hv *h, uint64_t now)
{
    struct selective *s = SEL(h);
    if (s->policy == POL_DYNAMIC) {
        while (now >= s->next_sample) {
            if (h->st->cnt[CNT_instructions] == s->last_instr) {
                /* nothing ran since the last sample (an idle gap): every
                 * period up to now would only take the counters, which one
                 * sample does for them all */
                s->next_sample = period_after(s->next_sample, s->sample_cycles, now);
            } else {
                s->next_sample += s->sample_cycles;
            }
            sample(s);
        }
    } else if (s->policy == POL_ALTERNATE) {
        enum sel_mode home = strcmp(h->cfg->selective.start, "shadow") ? SEL_HAP : SEL_SHADOW;
        if (s->back_at && now >= s->back_at) {
            s->back_at = 0;
            switch_to(s, home, "policy alternate: back");
        }
        if (now >= s->next_alt) {
            /* a periodic timer fires once however many periods went by (an
             * event or an idle gap longer than alternate_ms, or round trips
             * that cost more than it), as Linux's hrtimer_forward skips the
             * missed ones: making them up at one instant would switch for
             * nothing, and round trips dearer than the period would owe
             * more each time, without end */
            s->next_alt = period_after(s->next_alt, s->alt_cycles, now);
            switch_to(s, home == SEL_HAP ? SEL_SHADOW : SEL_HAP, "policy alternate: away");
            if (s->dwell_cycles)
                s->back_at = now + s->dwell_cycles;
            else
                switch_to(s, home, "policy alternate: back");
        }
    }
}

static void ctl_shadow(void *ctx, uint64_t on)
{
    struct selective *s = ctx;
    switch_to(s, on ? SEL_SHADOW : SEL_HAP, "control shadow");
}

/* ---- traps: those of the mode the guest runs in -------------------------------- */

static uint32_t sel_tlb_fill(void *ctx, struct cpu *c, uint64_t va, enum access acc, int user, struct tlb_xlate *x)
{
    struct selective *s = SEL(ctx);
    if (s->mode == SEL_SHADOW)
        return cpu_native_fill(c, va, acc, user, x);
    return hap_fill(ctx, &s->hap, c, va, acc, user, x);
}

static enum cpu_walk sel_walk_kind(void *ctx)
{
    return SEL(ctx)->mode == SEL_SHADOW ? CPU_WALK_1D : CPU_WALK_2D;
}

static uint64_t sel_g2m(void *ctx, struct cpu *c, uint64_t gfn)
{
    struct selective *s = SEL(ctx);
    if (s->mode == SEL_SHADOW)
        return pfn_to_mfn(&((struct hv *)ctx)->dom, gfn);
    return hap_translate(ctx, &s->hap, gfn);
}

static int sel_store_traps(void *ctx, uint64_t gfn)
{
    struct selective *s = SEL(ctx);
    return s->mode == SEL_SHADOW && shadow_protected(&s->sh, gfn);
}

static int sel_store(void *ctx, struct cpu *c, uint64_t gfn, unsigned idx, uint64_t val)
{
    return tsp_handle_store(ctx, &SEL(ctx)->sh, c, gfn, idx, val);   /* only shadowed frames trap */
}

static int sel_store_retry(void *ctx, struct cpu *c, uint64_t gfn)
{
    return tsp_handle_store_retry(ctx, &SEL(ctx)->sh, c, gfn);   /* only shadowed frames trap */
}

static int sel_store_cont(void *ctx, struct cpu *c, uint64_t gfn, unsigned idx, uint64_t val)
{
    return tsp_handle_store_cont(ctx, &SEL(ctx)->sh, c, gfn, idx, val);
}

static int sel_page_fault(void *ctx, struct cpu *c, uint64_t va, uint32_t pfec, uint64_t *mfn)
{
    struct selective *s = SEL(ctx);
    if (s->mode != SEL_SHADOW)
        return 0;                          /* nested paging: the guest's own */
    return tsp_handle_page_fault(ctx, &s->sh, c, va, pfec, mfn);
}

static int sel_write_cr3(void *ctx, struct cpu *c, uint64_t root, uint16_t pcid, int noflush)
{
    struct selective *s = SEL(ctx);
    if (s->mode != SEL_SHADOW)
        return 0;
    return tsp_handle_write_cr3(ctx, &s->sh, c, root, pcid, noflush);
}

static int sel_tlb_flush(void *ctx, struct cpu *c, enum tlb_flush_kind kind, uint64_t va, uint16_t pcid)
{
    struct selective *s = SEL(ctx);
    if (s->mode != SEL_SHADOW)
        return 0;
    return tsp_handle_tlb_flush(ctx, &s->sh, c, kind, va, pcid);
}

/* ---- the mode ---------------------------------------------------------------------- */

static uint64_t sel_heap_frames(const struct hvconfig *cfg, uint64_t guest_frames)
{
    return hap_heap_frames(cfg, guest_frames) + shadow_pool_frames(cfg, guest_frames);
}

static uint64_t cycles_of(const struct hv *h, double ms)
{
    uint64_t c = (uint64_t)(ms * h->cost->clock_ghz * 1e6);
    return c ? c : 1;
}

static int sel_init(struct hv *h)
{
    struct selective *s = mv_calloc(1, sizeof *s);
    h->mode = s;
    s->h = h;
    if (hap_state_init(h, &s->hap))
        return -1;
    shadow_init(&s->sh, h);
    tsp_shadow_config(&s->sh, h->cfg);           /* tsp.* applies while shadowed */
    const struct selconfig *c = &h->cfg->selective;
    static const char *const pol[] = { "dynamic", "fixed", "alternate" };
    for (unsigned i = 0; i < 3; i++)
        if (!strcmp(c->policy, pol[i]))
            s->policy = i;
    s->mode = SEL_HAP;
    s->sample_cycles = cycles_of(h, c->sample_ms);
    s->alt_cycles = cycles_of(h, c->alternate_ms);
    s->dwell_cycles = c->dwell_ms > 0 ? cycles_of(h, c->dwell_ms) : 0;
    return 0;
}

/* After boot: start in the configured mode; counting starts now. */
static void sel_booted(struct hv *h)
{
    struct selective *s = SEL(h);
    if (!strcmp(h->cfg->selective.start, "shadow"))
        switch_to(s, SEL_SHADOW, "start");
    s->to_shadow = s->to_hap = s->samples = s->shadow_cycles = 0;
    s->next_sample = s->sample_cycles;
    s->next_alt = s->alt_cycles;
    s->mode_since = 0;
    s->last_tlb = s->last_pf = s->last_instr = 0;
}

static void sel_destroy(struct hv *h)
{
    struct selective *s = h->mode;
    if (!s)
        return;
    shadow_destroy(&s->sh);
    ept_destroy(&s->hap.ept);
    free(s);
    h->mode = NULL;
}

static int sel_check(struct hv *h, char *msg, unsigned len)
{
    struct selective *s = SEL(h);
    if (s->mode == SEL_HAP && s->sh.npages) {
        snprintf(msg, len, "selective: %llu shadow pages remain under nested paging",
                 (unsigned long long)s->sh.npages);
        return -1;
    }
    if (s->mode == SEL_SHADOW && shadow_check(&s->sh, msg, len))
        return -1;
    return hap_check_state(h, &s->hap, msg, len);
}

static double g_mode(const void *ctx) { return ((const struct selective *)ctx)->mode == SEL_SHADOW; }

static void sel_metrics(const void *ctx, struct mv_metrics *out)
{
    const struct selective *s = ctx;
    uint64_t now = s->h->st->now, shadow = s->shadow_cycles + (s->mode == SEL_SHADOW ? now - s->mode_since : 0);
    mv_metric_put(out, "selective_to_shadow", (double)s->to_shadow);
    mv_metric_put(out, "selective_to_nested", (double)s->to_hap);
    mv_metric_put(out, "selective_samples", (double)s->samples);
    mv_metric_put(out, "selective_shadow_share", now ? (double)shadow / (double)now : 0);
}

static const struct mv_control_def sel_controls[] = {
    { "shadow", CTL_BOOL, "selective: switch to shadow paging (on) or nested paging (off) now", 0 },
    { NULL, 0, NULL, 0 },
};

static void sel_instruments(struct hv *h, struct mv_instruments *in)
{
    struct selective *s = SEL(h);
    mv_add_gauge(in, "selective_shadow", g_mode, s);
    hap_state_instruments(&s->hap, in);
    shadow_instruments(&s->sh, in);
    mv_add_control(in, &sel_controls[0], ctl_shadow, s);
    mv_add_metrics(in, sel_metrics, s);
}

/* selective runs tsp's shadow paging and hap's nested paging in turn */
static const char *const sel_groups[] = { "selective", "shadow", "tsp", "hap", NULL };

const struct paging_mode pm_selective = {
    .name = "selective",
    .doc = "switches between nested (hap) and shadow (tsp) paging at run time with VEE'11's policy",
    .dfn_is_gfn = 1,
    .iommu_attached = hvm_iommu_attached,
    .heap_frames = sel_heap_frames,
    .init = sel_init,
    .destroy = sel_destroy,
    .booted = sel_booted,
    .check = sel_check,
    .instruments = sel_instruments,
    .tick = sel_tick,
    .controls = sel_controls,
    .traps = {
        .name = "selective", .tlb_fill = sel_tlb_fill, .walk_kind = sel_walk_kind, .g2m = sel_g2m,
        .store_traps = sel_store_traps, .store = sel_store, .store_retry = sel_store_retry, .store_cont = sel_store_cont, .page_fault = sel_page_fault, .write_cr3 = sel_write_cr3, .tlb_flush = sel_tlb_flush,
    },
    .params = sel_groups,
};

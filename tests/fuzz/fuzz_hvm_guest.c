/* fuzz_hvm_guest.c: a stateful libFuzzer target for the hardware-assisted
 * modes (tsp, ssp, hap, selective; hv/shadow/, hv/hap/, hv/selective/)
 * under a hostile guest kernel. Each input boots one of them (with or
 * without clustering, unsync shadows, SSP's fault trap, a single shadow
 * root, 2M EPT pages, selective starting in either mode, no shadow-root
 * buffer, flooding at the first write, either flood detector, the
 * smallest shadow pool, the EPT populated on violations or from the
 * domain's build), builds
 * a small process address space with plain stores, loads it, then reads
 * the rest of the input as up to 300 guest operations on its vCPU:
 *   stores of any value into any of its frames (its tables included),
 *   loads, MOV CR3 of any frame (beyond memory too) with any PCID,
 *   user accesses (each after the host prefetch's peek) and the page
 *   faults they raise, INVLPG / CR3 reload / full flush / INVPCID of any
 *   type, time passing (selective's sampling, clustering's windows), and
 *   selective's shadow control,
 * with frames drawn from sets that matter (its own pages, its tables, the
 * kernel's root, frame 0 and 1, the last frame, frames beyond memory, a
 * 2^36 frame, the largest frame an entry can name). After every operation
 * nothing may abort (an MV_ASSERT is an abort, which libFuzzer reports),
 * a fault the hypervisor resolved must not recur unchanged on the retry,
 * and the mode's invariants must hold (hv_check). Under lazy sync (ssp,
 * and tsp or selective with tsp.unsync) a shadow may be as stale as the
 * TLB until the guest's flush (shadow_check.c, invariant 3), so there the
 * invariants are checked only after a full flush the guest itself issued,
 * and at the end after one: stores and accesses between flushes run in
 * the window these modes model.
 *
 *   make fuzz FUZZ=hvm_guest        libFuzzer, ASan and UBSan, FUZZ_SECONDS
 *   fuzz_hvm_guest FILE|DIR...      (without libFuzzer) replays inputs: the
 *                                   seed corpus and findings in make test
 *   FUZZ_HVM_TRACE=1                prints every operation and its result */
#include "guest/kernel.h"
#include "hv/hv.h"
#include "hw/pte.h"
#include "fuzz_input.h"
#include "lib/err.h"
#include "sim/config.h"
#include "sim/machine.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ---- the machine ---------------------------------------------------------- */

#define NFRAMES 24
#define NTREE 8
#define VA0 0x400000ull          /* L4 0, L3 0, L2 2: the process's two pages */
#define TABLE (_PAGE_PRESENT | _PAGE_RW | _PAGE_USER | _PAGE_ACCESSED | _PAGE_DIRTY)

static const char *const modes[] = { "tsp", "ssp", "hap", "selective" };

struct fz {
    struct sim_config cfg;
    struct machine m;
    struct cpu *c;
    uint64_t tree[NTREE];        /* L4, L3, L2, L1, two data pages, two spare */
    uint64_t frame[NFRAMES];
    unsigned nframe;
    int lazy;                    /* shadows synced at the guest's flushes */
    int flushed;                 /* the last operation was a full flush */
    int trace;
};

static int boot(struct fz *f, uint8_t h0, uint8_t h1)
{
    const char *const p[] = {
        (h0 & 4) ? "clustering.enable=true" : "clustering.enable=false",
        (h0 & 8) ? "tsp.unsync=true" : "tsp.unsync=false",
        (h0 & 16) ? "ssp.fault_trap=true" : "ssp.fault_trap=false",
        (h0 & 32) ? "shadow.max_roots=1" : "shadow.max_roots=64",
        (h0 & 64) ? "hap.ept_page_size=2m" : "hap.ept_page_size=4k",
        (h1 & 1) ? "selective.start=shadow" : "selective.start=hap",
        (h1 & 2) ? "ssp.rootbuf_entries=0" : "ssp.rootbuf_entries=2",
        (h1 & 4) ? "tsp.flood_threshold=1" : "tsp.flood_threshold=3",
        (h1 & 8) ? "shadow.pool_permille=1" : "shadow.pool_permille=20",
        (h1 & 16) ? "hap.ept_populate=boot" : "hap.ept_populate=fault",
        (h1 & 32) ? "tsp.flood_detector=page" : "tsp.flood_detector=vcpu",
        (h1 & 64) ? ((h1 & 128) ? "tsp.oos_limit=1" : "tsp.oos_limit=3") : "tsp.oos_limit=0",
        (h0 & 128) ? "ssp.flush_fill=true" : "ssp.flush_fill=false",
        "memwalk.ws_mb=4", "guest.ram_mb=64", NULL,
    };
    if (config_init(&f->cfg, "memwalk"))
        return -1;
    f->cfg.quiet = 1;
    for (unsigned i = 0; p[i]; i++)
        if (config_param(&f->cfg, p[i]))
            return -1;
    const struct mode_def *md = mode_find(modes[h0 & 3]);
    if (config_validate(&f->cfg) || !md || machine_init(&f->m, &f->cfg, md))
        return -1;
    f->c = &f->m.cpu;
    f->lazy = (h0 & 3) == 1 || ((h0 & 8) && (h0 & 3) != 2);   /* ssp; tsp or selective unsync */
    return 0;
}

/* The process: L4 tree[0] -> L3 tree[1] -> L2 tree[2] -> L1 tree[3] ->
 * data tree[4] (writable) and tree[5] (read-only) at VA0, the kernel's
 * half of the root copied in; then loaded with PCID 1. */
static void build(struct fz *f)
{
    struct kernel *k = &f->m.k;
    struct cpu *c = f->c;
    for (unsigned i = 0; i < NTREE; i++)
        f->tree[i] = f->frame[f->nframe++] = kalloc_page(k, 0);
    uint64_t kpgd = k->init_mm.pgd;
    const uint64_t special[] = { kpgd, 0, 1, k->nr_pages - 1, k->nr_pages, k->nr_pages + 5, 1ull << 36,
                                 PTE_FRAME_MASK >> PAGE_SHIFT, UINT64_MAX >> PAGE_SHIFT };
    for (unsigned i = 0; i < sizeof special / sizeof special[0]; i++)
        f->frame[f->nframe++] = special[i];
    cpu_store(c, f->tree[0], 0, pte_make(f->tree[1], TABLE));
    for (unsigned i = 256; i < PTRS_PER_TABLE; i++) {
        pte_t e = cpu_load(c, kpgd, i);
        if (e)
            cpu_store(c, f->tree[0], i, e);
    }
    cpu_store(c, f->tree[1], 0, pte_make(f->tree[2], TABLE));
    cpu_store(c, f->tree[2], 2, pte_make(f->tree[3], TABLE));
    cpu_store(c, f->tree[3], 0, pte_make(f->tree[4], TABLE | _PAGE_NX));
    cpu_store(c, f->tree[3], 1, pte_make(f->tree[5], (TABLE & ~_PAGE_RW) | _PAGE_NX));
    cpu_write_cr3(c, f->tree[0], 1, 0);
}

/* ---- the operations ------------------------------------------------------- */

/* An entry index: one of the interesting ones, or any. */
static unsigned pick_index(struct in *in)
{
    static const unsigned common[] = { 0, 1, 2, 3, 255, 256, 257, 511 };
    uint8_t b = u8(in);
    if (b & 0x80)
        return u8(in) | ((b & 1u) << 8);
    return common[b & 7];
}

/* A virtual address near the process's pages, in the kernel's half, at an
 * index's 512 GiB region, low, or any. */
static uint64_t pick_va(struct in *in, unsigned idx)
{
    uint8_t b = u8(in);
    switch (b % 6) {
    case 0: return VA0 + (uint64_t)(b >> 3) * PAGE_SIZE;
    case 1: return VA0;
    case 2: return (uint64_t)idx << 39 | (uint64_t)(b >> 3) << 21;
    case 3: return 0xffff800000000000ull + ((uint64_t)b << 21);
    case 4: return (uint64_t)(b >> 3) << PAGE_SHIFT;
    default: return u64(in) & ~7ull;
    }
}

/* A value to store: zero, any, or an entry naming one of the frames with
 * any flags. */
static pte_t pick_value(struct fz *f, struct in *in)
{
    uint8_t kind = u8(in);
    if (kind % 4 == 3)
        return u64(in);
    if (kind % 4 == 2)
        return 0;
    uint64_t frame = f->frame[u8(in) % f->nframe];
    uint64_t lo = u8(in);
    uint64_t flags = (lo | ((uint64_t)u8(in) << 8)) & 0xfff;
    return pte_make(frame, flags) | ((kind & 0x40) ? _PAGE_NX : 0) | _PAGE_PRESENT;
}

/* A user access and the faults it raises, up to three tries. A fault the
 * hypervisor hid (resolved) must not come back the same on the retry: a
 * hidden fault that changed nothing, repeated, is a finding (the guest
 * kernel's fault loop would give up on it and abort the simulator). */
static long access(struct fz *f, struct in *in, uint64_t va)
{
    enum access acc = (enum access)(u8(in) % 3);
    uint64_t mfn;
    long rc = 0;
    uint32_t hidden = 0;
    for (int tries = 0; tries < 3; tries++) {
        if (cpu_prefetching(f->c))
            cpu_prefetch(f->c, va);
        uint32_t pfec = cpu_access(f->c, va, acc, &mfn);
        if (!pfec)
            break;
        if (hidden == pfec) {
            fprintf(stderr, "fuzz_hvm_guest: access to %#llx (%d) faults again with error code %#x after the "
                    "hypervisor resolved that fault\n", (unsigned long long)va, (int)acc, pfec);
            abort();
        }
        if ((rc = cpu_raise_pf(f->c, va, pfec, &mfn)) != 1)
            break;
        hidden = pfec;
    }
    return rc;
}

static long flush(struct fz *f, struct in *in, uint64_t va)
{
    uint8_t b = u8(in);
    switch (b % 4) {
    case 0: cpu_invlpg(f->c, va); return 0;
    case 1: cpu_reload_cr3(f->c); return 0;
    case 2: cpu_flush_all(f->c); f->flushed = 1; return 0;
    default: {
        uint16_t pcid = u8(in) % 4096;
        return cpu_invpcid(f->c, (enum tlb_flush_kind)((b >> 2) % 8), pcid, va);
    }
    }
}

static long step(struct fz *f, struct in *in, uint64_t *now, unsigned *op)
{
    struct cpu *c = f->c;
    uint64_t kpgd = f->m.k.init_mm.pgd;
    *op = u8(in) % 12;
    uint64_t frame = f->frame[u8(in) % f->nframe];
    unsigned idx = pick_index(in);
    uint64_t va = pick_va(in, idx);
    switch (*op) {
    case 0: case 1: case 2: {
        pte_t val = pick_value(f, in);
        if (frame == kpgd && idx >= 256)
            frame = f->tree[0];              /* the kernel's own half is left alone */
        return cpu_store(c, frame, idx, val);
    }
    case 3:
        (void)cpu_load(c, frame, idx);
        return 0;
    case 4: {
        uint16_t pcid = u8(in) % 4096;
        cpu_write_cr3(c, frame, pcid, u8(in) & 1);
        return 0;
    }
    case 5: case 6: case 7:
        return access(f, in, va);
    case 8:
        return flush(f, in, va);
    case 9:
        *now += (uint64_t)u8(in) * 1000000000ull;
        hv_tick(f->m.hv, *now);
        return 0;
    case 10: {
        const struct mv_control *ct = mv_find_control(&f->m.ins, "shadow");
        if (ct)
            ct->apply(ct->ctx, u8(in) & 1);
        return 0;
    }
    default:
        cpu_store(c, f->tree[u8(in) % 4], idx, 0);
        return 0;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int once;
    if (!once) {
        mv_error_quiet(1);
        once = 1;
    }
    struct in in = { data, size };
    struct fz *f = calloc(1, sizeof *f);
    if (!f)
        abort();
    f->trace = getenv("FUZZ_HVM_TRACE") != NULL;
    uint8_t h0 = u8(&in), h1 = u8(&in);
    if (boot(f, h0, h1)) {
        fprintf(stderr, "fuzz_hvm_guest: boot: %s\n", mv_last_error());
        abort();
    }
    build(f);
    for (unsigned i = 0; f->trace && i < f->nframe; i++)
        fprintf(stderr, "frame %u: %#llx%s\n", i, (unsigned long long)f->frame[i], i < NTREE ? " (tree)" : "");
    char msg[512];
    uint64_t now = 0;
    unsigned n = 0, op = 0;
    for (int more = 1; more;) {
        more = in.n && n < 300;
        if (more) {
            n++;
            f->flushed = 0;
            long rc = step(f, &in, &now, &op);
            if (f->trace)
                fprintf(stderr, "%u: %s op %u -> %ld (CR3 %#llx)\n", n, modes[h0 & 3], op, rc,
                        (unsigned long long)f->c->cr3);
        } else if (f->lazy) {
            cpu_flush_all(f->c);                /* the end: the guest flushes once more */
            f->flushed = 1;
        }
        if ((!f->lazy || f->flushed) && hv_check(f->m.hv, msg, sizeof msg)) {
            fprintf(stderr, "fuzz_hvm_guest: %s, after operation %u (%u): %s\n", modes[h0 & 3], n, op, msg);
            abort();
        }
    }
    cpu_write_cr3(f->c, f->m.k.init_mm.pgd, 0, 0);
    machine_destroy(&f->m);
    config_free(&f->cfg);
    free(f);
    return 0;
}

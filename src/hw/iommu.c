/* iommu.c: an Intel VT-d DMA-remapping unit (see iommu.h): context entries,
 * a DID-tagged set-associative IOTLB with true LRU, the second-level page walk
 * helped by paging-structure caches, and IOTLB invalidation through the
 * invalidation queue (descriptors + wait, VT-d spec 6.5.2) or the registers. */
#include "hw/iommu.h"
#include "lib/err.h"
#include <stdlib.h>
#include <string.h>

#define U(f, d, lo, hi, doc) PARAM_U64(struct iommu_config, f, d, lo, hi, doc)
static const struct param_def defs[] = {
    U(iotlb_entries, "64", 1, 1 << 20, "IOTLB entries (unverified)"),
    U(iotlb_ways, "4", 1, 1 << 20, "IOTLB associativity (assumption, unverified)"),
    U(psc_l4, "2", 0, 4096, "I/O paging-structure cache: L4 entries (unverified)"),
    U(psc_l3, "4", 0, 4096, "I/O paging-structure cache: L3 entries (unverified)"),
    U(psc_l2, "16", 0, 4096, "I/O paging-structure cache: L2 entries (unverified)"),
    PARAM_BOOL(struct iommu_config, psi, "true", "page-selective invalidation capability (CAP.PSI)"),
    U(mamv, "9", 0, 63, "maximum address mask value, CAP.MAMV (unverified)"),
    PARAM_BOOL(struct iommu_config, caching_mode, "false",
               "caching mode, CAP.CM: not-present entries may be cached (emulated units)"),
    PARAM_BOOL(struct iommu_config, queued, "true", "queued invalidation (else IOTLB registers)"),
    U(qi_entries, "256", 2, 1 << 15,
      "invalidation queue length in descriptors (Xen 4.2: one 4 KiB page of 16-byte descriptors)"),
    U(units, "1", 1, 2, "VT-d units the domain's two passthrough devices sit behind (2: the NIC and the disk "
      "behind different units, each with its own IOTLB and queue; Xen invalidates every unit the domain "
      "uses, each waited for)"),
};
#undef U

const struct param_group iommu_params = {
    "iommu", defs, sizeof defs / sizeof defs[0], "Intel VT-d DMA-remapping unit"
};

/* Second-level tables are 4-level: 48-bit device addresses, 36-bit dfns. */
#define DFN_BITS 36
/* struct pwc tags hold 12 bits of "pcid": larger DIDs bypass the PSC. */
#define PSC_MAX_DID 4096
#define PERM_W 1   /* the PSC's perms byte: W accumulated from L4 down */

/* Descriptor fields (VT-d spec 6.5.2.3, 6.5.2.8). */
#define IOTLB_G_GLOBAL 1ull
#define IOTLB_G_DSI    2ull
#define IOTLB_G_PSI    3ull
#define WAIT_SW        (1ull << 5)
#define WAIT_FN        (1ull << 6)
#define QI_STAT_INIT   0
#define QI_STAT_DONE   1

static inline uint64_t iotlb_tag(uint64_t dfn, uint16_t did) { return (dfn << 17) | ((uint64_t)did << 1) | 1; }
static inline uint16_t tag_did(uint64_t tag) { return (uint16_t)(tag >> 1); }
static inline uint64_t tag_dfn(uint64_t tag) { return tag >> 17; }

int iommu_init(struct iommu *io, struct pmem *mem, struct mv_stats *st, const struct cost *cost,
               const struct iommu_config *cfg)
{
    memset(io, 0, sizeof *io);
    if (!cfg->iotlb_ways || !cfg->iotlb_entries || cfg->iotlb_entries % cfg->iotlb_ways ||
        cfg->iotlb_entries > (1u << 24) || cfg->qi_entries < 2 || cfg->qi_entries > (1u << 24))
        return -1;
    uint64_t sets = cfg->iotlb_entries / cfg->iotlb_ways;
    if (sets & (sets - 1))
        return -1;
    io->mem = mem;
    io->st = st;
    io->cost = cost;
    io->cfg = *cfg;
    io->tlb_sets = (uint32_t)sets;
    io->tlb_ways = (uint32_t)cfg->iotlb_ways;
    io->tlb_tag = mv_calloc(cfg->iotlb_entries, sizeof *io->tlb_tag);
    io->tlb_mfn = mv_calloc(cfg->iotlb_entries, sizeof *io->tlb_mfn);
    io->tlb_lru = mv_calloc(cfg->iotlb_entries, sizeof *io->tlb_lru);
    io->tlb_w = mv_calloc(cfg->iotlb_entries, sizeof *io->tlb_w);
    pwc_init(&io->psc, (uint32_t)cfg->psc_l4, (uint32_t)cfg->psc_l3, (uint32_t)cfg->psc_l2);
    io->queue = mv_calloc(cfg->qi_entries, sizeof *io->queue);
    return 0;
}

void iommu_destroy(struct iommu *io)
{
    free(io->tlb_tag);
    free(io->tlb_mfn);
    free(io->tlb_lru);
    free(io->tlb_w);
    free(io->queue);
    pwc_destroy(&io->psc);
    memset(io, 0, sizeof *io);
}

void iommu_set_context(struct iommu *io, unsigned dev, uint16_t did, uint64_t root)
{
    MV_ASSERT(dev < IOMMU_MAX_DEVICES, "IOMMU source id %u", dev);
    io->ctx[dev] = (struct iommu_context){ .present = 1, .did = did, .root = root };
}

void iommu_clear_context(struct iommu *io, unsigned dev)
{
    MV_ASSERT(dev < IOMMU_MAX_DEVICES, "IOMMU source id %u", dev);
    memset(&io->ctx[dev], 0, sizeof io->ctx[dev]);
}

/* ---- IOTLB ---- */

static long iotlb_find(struct iommu *io, uint64_t dfn, uint16_t did)
{
    size_t base = (size_t)(dfn & (io->tlb_sets - 1)) * io->tlb_ways;
    uint64_t tag = iotlb_tag(dfn, did);
    for (uint32_t w = 0; w < io->tlb_ways; w++)
        if (io->tlb_tag[base + w] == tag) {
            io->tlb_lru[base + w] = ++io->tlb_stamp;
            return (long)(base + w);
        }
    return -1;
}

/* Called after a miss: an invalid way, else the least recently used one.
 * (The stamps were 32 bits, their ages taken modulo 2^32: an entry left
 * untouched for 2^32 IOTLB uses, as one in a cold set of a long DMA run
 * can be, looked young. 64-bit stamps never wrap.) */
static void iotlb_insert(struct iommu *io, uint64_t dfn, uint16_t did, uint64_t mfn, int w)
{
    size_t base = (size_t)(dfn & (io->tlb_sets - 1)) * io->tlb_ways, v = base;
    uint64_t oldest = 0;
    for (uint32_t i = 0; i < io->tlb_ways; i++) {
        uint64_t age = io->tlb_tag[base + i] ? io->tlb_stamp - io->tlb_lru[base + i] : UINT64_MAX;
        if (age > oldest || i == 0) {
            oldest = age;
            v = base + i;
        }
    }
    io->tlb_tag[v] = iotlb_tag(dfn, did);
    io->tlb_mfn[v] = mfn;
    io->tlb_w[v] = (uint8_t)w;
    io->tlb_lru[v] = ++io->tlb_stamp;
}

unsigned iommu_iotlb_count(const struct iommu *io)
{
    unsigned n = 0;
    for (size_t i = 0; i < (size_t)io->tlb_sets * io->tlb_ways; i++)
        n += io->tlb_tag[i] != 0;
    return n;
}

/* ---- translation ---- */

static int dma_fault(struct iommu *io)
{
    stat_inc(io->st, CNT_dma_faults);
    return -1;
}

/* Second-level walk from the context's root (or from the deepest PSC hit).
 * Each table reference is charged io_walk_ref. 0 and *mfn / *w, or -1. */
static int io_walk(struct iommu *io, const struct iommu_context *c, uint64_t dfn, uint64_t *mfn, int *w)
{
    uint64_t va = dfn << PAGE_SHIFT, table = c->root;
    uint8_t perms = PERM_W;
    int psc = c->did < PSC_MAX_DID;
    unsigned lvl = psc ? pwc_lookup(&io->psc, va, c->did, &table, &perms) : 4;

    for (;; lvl--) {
        if (!pmem_valid(io->mem, table))
            return -1;
        pte_t e = pmem_read(io->mem, table, pt_index(va, lvl));
        /* device time, not CPU time: the walk stalls the DMA, not a CPU */
        io->dev_cycles += io->cost->io_walk_ref;
        io->st->cnt[CNT_io_walk_refs]++;
        if (!pte_present(e))               /* R clear: no access at all */
            return -1;
        if (!(e & _PAGE_RW))
            perms &= (uint8_t)~PERM_W;
        if (pte_leaf(e, lvl)) {
            uint64_t span = (1ull << (9 * (lvl - 1))) - 1;   /* 0, or 511 for 2M */
            *mfn = (pte_frame(e) & ~span) + (dfn & span);
            *w = perms & PERM_W;
            return 0;
        }
        table = pte_frame(e);
        if (psc)
            pwc_insert(&io->psc, lvl, va, c->did, table, perms);
    }
}

int iommu_dma(struct iommu *io, unsigned dev, uint64_t dfn, int write, uint64_t *mfn)
{
    if (dev >= IOMMU_MAX_DEVICES || !io->ctx[dev].present || (dfn >> DFN_BITS))
        return dma_fault(io);
    const struct iommu_context *c = &io->ctx[dev];
    long i = iotlb_find(io, dfn, c->did);
    if (i >= 0) {
        if (write && !io->tlb_w[i])
            return dma_fault(io);
        *mfn = io->tlb_mfn[i];
        return 0;
    }
    stat_inc(io->st, CNT_iotlb_miss);
    uint64_t m;
    int w;
    if (io_walk(io, c, dfn, &m, &w) || (write && !w))
        return dma_fault(io);
    iotlb_insert(io, dfn, c->did, m, w);
    *mfn = m;
    return 0;
}

/* ---- invalidation ---- */

/* What the hardware does for one IOTLB invalidation (IH = 0: the PSC entries
 * of the scope go too; the PSC has no finer scope than a domain). */
static void do_invalidate(struct iommu *io, enum iommu_inv g, uint16_t did, uint64_t dfn, unsigned order)
{
    size_t n = (size_t)io->tlb_sets * io->tlb_ways;
    if (g == INV_GLOBAL) {
        memset(io->tlb_tag, 0, n * sizeof *io->tlb_tag);
        pwc_flush_all(&io->psc);
        return;
    }
    if (did < PSC_MAX_DID)
        pwc_flush_pcid(&io->psc, did);
    if (g == INV_DSI) {
        for (size_t i = 0; i < n; i++)
            if (io->tlb_tag[i] && tag_did(io->tlb_tag[i]) == did)
                io->tlb_tag[i] = 0;
        return;
    }
    uint64_t count = 1ull << order, base = dfn & ~(count - 1);
    if (count < io->tlb_sets) {          /* probe only the sets those pages map to */
        for (uint64_t p = base; p < base + count; p++) {
            size_t s = (size_t)(p & (io->tlb_sets - 1)) * io->tlb_ways;
            for (uint32_t w = 0; w < io->tlb_ways; w++)
                if (io->tlb_tag[s + w] == iotlb_tag(p, did))
                    io->tlb_tag[s + w] = 0;
        }
    } else {
        for (size_t i = 0; i < n; i++) {
            uint64_t t = io->tlb_tag[i];
            if (t && tag_did(t) == did && tag_dfn(t) - base < count)
                io->tlb_tag[i] = 0;
        }
    }
}

/* The hardware consumes descriptors from qhead to qtail, in order. */
static void qi_process(struct iommu *io)
{
    while (io->qhead != io->qtail) {
        const struct qi_desc *d = &io->queue[io->qhead];
        switch (d->lo & 0xf) {
        case QI_TYPE_IOTLB: {
            uint64_t gran = (d->lo >> 4) & 3;
            enum iommu_inv g = gran == IOTLB_G_PSI ? INV_PSI : gran == IOTLB_G_DSI ? INV_DSI : INV_GLOBAL;
            do_invalidate(io, g, (uint16_t)(d->lo >> 16), d->hi >> PAGE_SHIFT, (unsigned)(d->hi & 0x3f));
            break;
        }
        case QI_TYPE_WAIT:
            if (d->lo & WAIT_SW)
                io->wait_status = d->lo >> 32;
            break;
        default:
            MV_ASSERT(0, "unmodelled invalidation descriptor type %llu", (unsigned long long)(d->lo & 0xf));
        }
        io->qhead = (io->qhead + 1) % io->cfg.qi_entries;
    }
}

/* Software side: write a descriptor at the tail and move IQT past it (as Xen
 * does, one descriptor at a time); the hardware then runs. */
static void qi_submit(struct iommu *io, uint64_t lo, uint64_t hi)
{
    uint64_t next = (io->qtail + 1) % io->cfg.qi_entries;
    MV_ASSERT(next != io->qhead, "invalidation queue full");
    io->queue[io->qtail] = (struct qi_desc){ lo, hi };
    io->qtail = next;
    qi_process(io);
}

enum iommu_inv iommu_invalidate(struct iommu *io, enum iommu_inv g, uint16_t did, uint64_t dfn,
                                unsigned order)
{
    if (g == INV_PSI && (!io->cfg.psi || order > io->cfg.mamv))
        g = INV_DSI;
    if (io->cfg.queued) {
        uint64_t gran = g == INV_PSI ? IOTLB_G_PSI : g == INV_DSI ? IOTLB_G_DSI : IOTLB_G_GLOBAL;
        uint64_t lo = QI_TYPE_IOTLB | (gran << 4) | (g != INV_GLOBAL ? (uint64_t)did << 16 : 0);
        uint64_t hi = g == INV_PSI ? ((dfn & ~((1ull << order) - 1)) << PAGE_SHIFT) | order : 0;
        io->wait_status = QI_STAT_INIT;   /* the poll slot, before queueing */
        qi_submit(io, lo, hi);
        qi_submit(io, QI_TYPE_WAIT | WAIT_SW | WAIT_FN | ((uint64_t)QI_STAT_DONE << 32), 0);
        MV_ASSERT(io->wait_status == QI_STAT_DONE, "wait descriptor not executed");
        stat_charge(io->st, CYC_iommu, io->cost->iotlb_inv);
    } else {
        do_invalidate(io, g, did, dfn, order);
        stat_charge(io->st, CYC_iommu, io->cost->iotlb_inv_reg);
    }
    stat_inc(io->st, g == INV_PSI ? CNT_iotlb_inv_psi : g == INV_DSI ? CNT_iotlb_inv_dsi : CNT_iotlb_inv_global);
    return g;
}

/* vtd.c: the hypervisor's VT-d driver for one domain (see vtd.h): it builds
 * the domain's second-level I/O page tables in machine memory, reports what
 * each change needs flushed, and turns that into IOTLB invalidations the way
 * Xen's intel_iommu_map_page / unmap_page / iommu_flush_iotlb do
 * (docs/research/xen-linux-vtd-notes.md §C4).
 *
 * table_pages counts the table frames below the root (allocated by map); the
 * root frame is held from vtd_domain_init to vtd_domain_destroy. An L1 table
 * that vtd_map_extent fills whole is a linear frame (hw/pmem.h): it costs no
 * memory until a change to one of its entries writes it. */
#include "hv/vtd.h"
#include "lib/err.h"
#include <string.h>

#define DFN_LIMIT (1ull << 36)   /* 4-level tables: 48-bit device addresses */

int vtd_domain_init(struct vtd_domain *vd, struct iommu *io, uint16_t did,
                    uint64_t (*alloc_frame)(void *), void (*free_frame)(void *, uint64_t), void *ctx)
{
    memset(vd, 0, sizeof *vd);
    vd->io = io;
    vd->unit[0] = io;          /* the first unit serves the domain from the start */
    vd->nunits = 1;
    vd->did = did;
    vd->alloc_frame = alloc_frame;
    vd->free_frame = free_frame;
    vd->frame_ctx = ctx;
    vd->root = alloc_frame(ctx);
    if (vd->root == UINT64_MAX)
        return -1;
    pmem_zero(io->mem, vd->root);
    return 0;
}

static void charge_pte(struct vtd_domain *vd)
{
    stat_charge(vd->io->st, CYC_iommu, vd->io->cost->iommu_pte);
}

/* The L1 table covering dfn, built on the way down when `alloc`; else
 * UINT64_MAX where a level is missing. *fresh (if not NULL) says whether the
 * L1 table itself was just built (all its entries absent). */
static uint64_t l1_table(struct vtd_domain *vd, uint64_t dfn, int alloc, int *fresh)
{
    struct pmem *m = vd->io->mem;
    uint64_t table = vd->root, va = dfn << PAGE_SHIFT;
    if (fresh)
        *fresh = 0;
    for (unsigned lvl = 4; lvl > 1; lvl--) {
        pte_t e = pmem_read(m, table, pt_index(va, lvl));
        if (!pte_present(e)) {
            if (!alloc)
                return UINT64_MAX;
            uint64_t f = vd->alloc_frame(vd->frame_ctx);
            MV_ASSERT(f != UINT64_MAX, "no machine frame for domain %u's I/O page table", vd->did);
            pmem_zero(m, f);
            vd->table_pages++;
            e = pte_make(f, _PAGE_PRESENT | _PAGE_RW);
            pmem_write(m, table, pt_index(va, lvl), e);
            charge_pte(vd);
            if (fresh && lvl == 2)
                *fresh = 1;
        }
        MV_ASSERT(!pte_leaf(e, lvl), "I/O superpage at level %u: not built by vtd", lvl);
        table = pte_frame(e);
    }
    return table;
}

unsigned vtd_map_page(struct vtd_domain *vd, uint64_t dfn, uint64_t mfn, int writable)
{
    MV_ASSERT(dfn < DFN_LIMIT, "dfn %#llx beyond the I/O address width", (unsigned long long)dfn);
    uint64_t l1 = l1_table(vd, dfn, 1, NULL);
    unsigned idx = pt_index(dfn << PAGE_SHIFT, 1);
    pte_t old = pmem_read(vd->io->mem, l1, idx);
    pte_t e = pte_make(mfn, _PAGE_PRESENT | (writable ? _PAGE_RW : 0));
    if (old == e)
        return 0;                   /* Xen: no write, no flush */
    pmem_write(vd->io->mem, l1, idx, e);
    charge_pte(vd);
    vd->gen++;
    if (pte_present(old))
        return VTD_MODIFIED;
    vd->mapped++;
    return VTD_ADDED;
}

unsigned vtd_unmap_page(struct vtd_domain *vd, uint64_t dfn)
{
    if (dfn >= DFN_LIMIT)
        return 0;
    uint64_t l1 = l1_table(vd, dfn, 0, NULL);
    unsigned idx = pt_index(dfn << PAGE_SHIFT, 1);
    if (l1 == UINT64_MAX || !pte_present(pmem_read(vd->io->mem, l1, idx)))
        return 0;
    pmem_write(vd->io->mem, l1, idx, 0);
    charge_pte(vd);
    vd->mapped--;
    vd->gen++;
    return VTD_MODIFIED;
}

void vtd_map_extent(struct vtd_domain *vd, uint64_t dfn, uint64_t mfn, int writable)
{
    MV_ASSERT(!(dfn & 511) && !(mfn & 511) && dfn + 511 < DFN_LIMIT, "extent dfn %#llx -> mfn %#llx",
              (unsigned long long)dfn, (unsigned long long)mfn);
    int fresh;
    uint64_t l1 = l1_table(vd, dfn, 1, &fresh);
    if (!fresh) {                   /* some of it is mapped already: page by page */
        for (unsigned i = 0; i < PTRS_PER_TABLE; i++)
            vtd_map_page(vd, dfn + i, mfn + i, writable);
        return;
    }
    /* what 512 vtd_map_page calls on an empty L1 table write and charge */
    pmem_set_linear(vd->io->mem, l1, pte_make(mfn, _PAGE_PRESENT | (writable ? _PAGE_RW : 0)));
    stat_charge(vd->io->st, CYC_iommu, PTRS_PER_TABLE * vd->io->cost->iommu_pte);
    vd->mapped += PTRS_PER_TABLE;
    vd->gen += PTRS_PER_TABLE;
}

int vtd_flush(struct vtd_domain *vd, uint64_t dfn, unsigned flags, int flush_on_map)
{
    int need = (flags & VTD_MODIFIED) ||
               ((flags & VTD_ADDED) && (vd->io->cfg.caching_mode || flush_on_map));
    for (unsigned u = 0; need && u < vd->nunits; u++)
        iommu_invalidate(vd->unit[u], INV_PSI, vd->did, dfn, 0);
    return need;
}

void vtd_assign_device(struct vtd_domain *vd, struct iommu *io, unsigned dev)
{
    unsigned u = 0;
    while (u < vd->nunits && vd->unit[u] != io)
        u++;
    if (u == vd->nunits) {
        MV_ASSERT(vd->nunits < VTD_MAX_UNITS, "domain %u behind more than %d VT-d units", vd->did, VTD_MAX_UNITS);
        vd->unit[vd->nunits++] = io;
    }
    iommu_set_context(io, dev, vd->did, vd->root);
    iommu_invalidate(io, INV_DSI, vd->did, 0, 0);
}

void vtd_flush_domain(struct vtd_domain *vd)
{
    for (unsigned u = 0; u < vd->nunits; u++)
        iommu_invalidate(vd->unit[u], INV_DSI, vd->did, 0, 0);
}

int vtd_lookup(const struct vtd_domain *vd, uint64_t dfn, uint64_t *mfn, int *writable)
{
    if (dfn >= DFN_LIMIT)
        return -1;
    const struct pmem *m = vd->io->mem;
    uint64_t table = vd->root, va = dfn << PAGE_SHIFT;
    int w = 1;
    for (unsigned lvl = 4;; lvl--) {
        pte_t e = pmem_read(m, table, pt_index(va, lvl));
        if (!pte_present(e))
            return -1;
        w &= (e & _PAGE_RW) != 0;
        if (pte_leaf(e, lvl)) {
            uint64_t span = (1ull << (9 * (lvl - 1))) - 1;
            *mfn = (pte_frame(e) & ~span) + (dfn & span);
            *writable = w;
            return 0;
        }
        table = pte_frame(e);
    }
}

static void leaves(const struct vtd_domain *vd, uint64_t table, unsigned lvl, uint64_t base,
                   void (*fn)(void *, uint64_t, pte_t), void *ctx)
{
    const struct pmem *m = vd->io->mem;
    if (!pmem_slot(m, table))
        return;
    for (unsigned i = 0; i < PTRS_PER_TABLE; i++) {
        pte_t e = pmem_read(m, table, i);   /* not pmem_table_peek: a linear L1 stays unbacked */
        if (!pte_present(e))
            continue;
        uint64_t dfn = base + ((uint64_t)i << (9 * (lvl - 1)));
        if (lvl == 1)
            fn(ctx, dfn, e);
        else
            leaves(vd, pte_frame(e), lvl - 1, dfn, fn, ctx);
    }
}

void vtd_for_each_leaf(const struct vtd_domain *vd, void (*fn)(void *ctx, uint64_t dfn, pte_t e), void *ctx)
{
    leaves(vd, vd->root, 4, 0, fn, ctx);
}

/* Free the tables below `table` (of level lvl), then table itself. */
static void free_tree(struct vtd_domain *vd, uint64_t table, unsigned lvl)
{
    struct pmem *m = vd->io->mem;
    for (unsigned i = 0; lvl > 1 && i < PTRS_PER_TABLE; i++) {
        pte_t e = pmem_read(m, table, i);
        if (pte_present(e) && !pte_leaf(e, lvl))
            free_tree(vd, pte_frame(e), lvl - 1);
    }
    pmem_zero(m, table);
    vd->free_frame(vd->frame_ctx, table);
}

/* Devices still attached are detached first, with the DSI that makes the
 * unit forget the domain's translations before its tables are reused. */
void vtd_domain_destroy(struct vtd_domain *vd)
{
    if (vd->root == UINT64_MAX)
        return;
    for (unsigned u = 0; u < vd->nunits; u++) {
        struct iommu *io = vd->unit[u];
        int detached = 0;
        for (unsigned d = 0; d < IOMMU_MAX_DEVICES; d++) {
            const struct iommu_context *c = &io->ctx[d];
            if (c->present && c->did == vd->did && c->root == vd->root) {
                iommu_clear_context(io, d);
                detached = 1;
            }
        }
        if (detached)
            iommu_invalidate(io, INV_DSI, vd->did, 0, 0);
    }
    vd->nunits = 0;
    free_tree(vd, vd->root, 4);
    vd->root = UINT64_MAX;
    vd->table_pages = 0;
    vd->mapped = 0;
}

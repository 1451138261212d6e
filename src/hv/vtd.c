/* vtd.c: the hypervisor's VT-d driver for one domain (see vtd.h): it builds
 * the domain's second-level I/O page tables in machine memory, reports what
 * each change needs flushed, and turns that into IOTLB invalidations the way
 * Xen's intel_iommu_map_page / unmap_page / iommu_flush_iotlb do
 * (docs/research/xen-linux-vtd-notes.md §C4).
 *
 * table_pages counts the table frames below the root (allocated by map); the
 * root frame is held from vtd_domain_init to vtd_domain_destroy. An L1 table
 * that vtd_map_extent fills whole is a linear frame (hw/pmem.h): it costs no
 * memory until a change to one of its entries writes it.
 *
 * Superpages (sp_level 2 or 3: Xen 4.17's driver, xen.iommu_superpages).
 * Xen keeps "contiguity markers" in each table (pt-contig-markers.h) so
 * that, after a map, it knows at once whether the table now holds 512
 * leaves of one contiguous, aligned run with the same permissions; if so
 * it replaces the table with one superpage entry in its parent, frees it,
 * and goes on up while the unit supports the next page size
 * (intel_iommu_map_page). Replacing a table asks for a domain-wide flush
 * (IOMMU_FLUSHF_all). A map or unmap whose walk meets a superpage above
 * the level it needs splits it first into a table of 512 entries
 * ("shatter", addr_to_dma_page_maddr), which asks for a flush of the
 * address (IOMMU_FLUSHF_modified). And an unmap that leaves a table
 * empty frees it and clears its parent's entry, again with a domain-wide
 * flush, and goes on up while ++level < the unit's levels: on a 4-level
 * unit it frees L1 and L2 tables but never an L3 (intel_iommu_unmap_page;
 * the markers live in xen/arch/x86/include/asm/pt-contig-markers.h).
 * memvirt scans the table where Xen reads its markers: the same outcome,
 * at host cost only. */
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
    vd->sp_level = 1;
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

/* Entry i of a table of level lvl whose entries form one contiguous run
 * starting at first (a leaf): first plus i pages of that level. */
static pte_t run_entry(pte_t first, unsigned lvl, unsigned i)
{
    return first + ((pte_t)i << (PAGE_SHIFT + 9 * (lvl - 1)));
}

/* Split the superpage entry e at level lvl (2 or 3) of `table` into a
 * table of 512 entries of the level below, mapping the same (Xen's
 * shatter). A split 2 MiB page becomes a linear L1 frame (hw/pmem.h).
 * Charged as Xen does the work: the new table's entries written in one
 * loop and flushed from the CPU cache once, a line of 8 entries at a time
 * (iommu_sync_cache of the page), so 64 of cost.iommu_pte (an entry
 * written and flushed), then the parent's entry. */
static uint64_t shatter(struct vtd_domain *vd, uint64_t table, unsigned idx, unsigned lvl, pte_t e)
{
    struct pmem *m = vd->io->mem;
    uint64_t f = vd->alloc_frame(vd->frame_ctx);
    MV_ASSERT(f != UINT64_MAX, "no machine frame to split domain %u's I/O superpage", vd->did);
    pmem_zero(m, f);
    if (lvl == 2) {
        pmem_set_linear(m, f, e & ~_PAGE_PSE);
    } else {
        for (unsigned i = 0; i < PTRS_PER_TABLE; i++)
            pmem_write(m, f, i, run_entry(e, lvl - 1, i));
    }
    stat_charge(vd->io->st, CYC_iommu, PTRS_PER_TABLE / 8 * vd->io->cost->iommu_pte);
    pmem_write(m, table, idx, pte_make(f, _PAGE_PRESENT | _PAGE_RW));
    charge_pte(vd);
    vd->table_pages++;
    vd->gen++;
    stat_inc(vd->io->st, CNT_iommu_pt_shatters);
    return f;
}

/* Walk down to the table of level `target` covering dfn, its path kept in
 * path[lvl] (the table of each level on the way, path[4] the root).
 * Missing tables are built when `alloc`, else UINT64_MAX is returned. A
 * superpage met above target is split (Xen does so whether or not it may
 * allocate: an unmap splits too); *flags gets VTD_MODIFIED then. *fresh
 * (if not NULL) says whether the table of level target was just built. */
static uint64_t table_of(struct vtd_domain *vd, uint64_t dfn, unsigned target, int alloc, uint64_t path[5],
                         unsigned *flags, int *fresh)
{
    struct pmem *m = vd->io->mem;
    uint64_t table = vd->root, va = dfn << PAGE_SHIFT;
    if (fresh)
        *fresh = 0;
    for (unsigned lvl = 4; lvl > target; lvl--) {
        path[lvl] = table;
        unsigned idx = pt_index(va, lvl);
        pte_t e = pmem_read(m, table, idx);
        if (!pte_present(e)) {
            if (!alloc)
                return UINT64_MAX;
            uint64_t f = vd->alloc_frame(vd->frame_ctx);
            MV_ASSERT(f != UINT64_MAX, "no machine frame for domain %u's I/O page table", vd->did);
            pmem_zero(m, f);
            vd->table_pages++;
            e = pte_make(f, _PAGE_PRESENT | _PAGE_RW);
            pmem_write(m, table, idx, e);
            charge_pte(vd);
            if (fresh && lvl == target + 1)
                *fresh = 1;
        } else if (pte_leaf(e, lvl)) {
            MV_ASSERT(lvl <= vd->sp_level, "I/O superpage at level %u: not built by vtd", lvl);
            e = pte_make(shatter(vd, table, idx, lvl, e), _PAGE_PRESENT | _PAGE_RW);
            *flags |= VTD_MODIFIED;
        }
        table = pte_frame(e);
    }
    path[target] = table;
    return table;
}

/* Does `table` (of level lvl) hold 512 leaves of one contiguous run, the
 * first aligned to the run's size, all with the same permissions? Xen's
 * markers say so after a map; here the table is read. */
static int table_contiguous(const struct vtd_domain *vd, uint64_t table, unsigned lvl)
{
    const struct pmem *m = vd->io->mem;
    pte_t first = pmem_read(m, table, 0);
    if (!pte_present(first) || !pte_leaf(first, lvl) || pte_frame(first) & ((1ull << (9 * lvl)) - 1))
        return 0;
    for (unsigned i = PTRS_PER_TABLE; i-- > 1;)   /* from the top: a map fills a run upwards */
        if (pmem_read(m, table, i) != run_entry(first, lvl, i))
            return 0;
    return 1;
}

/* After an entry of the table path[lvl] changed: while that table is one
 * contiguous run and the unit takes pages of the level above, the run
 * becomes one superpage entry in the parent and the table is freed. */
static unsigned coalesce(struct vtd_domain *vd, const uint64_t path[5], uint64_t dfn, unsigned lvl)
{
    struct pmem *m = vd->io->mem;
    unsigned flags = 0;
    for (; lvl < vd->sp_level && table_contiguous(vd, path[lvl], lvl); lvl++) {
        pte_t first = pmem_read(m, path[lvl], 0);
        pmem_write(m, path[lvl + 1], pt_index(dfn << PAGE_SHIFT, lvl + 1), first | _PAGE_PSE);
        charge_pte(vd);
        pmem_zero(m, path[lvl]);
        vd->free_frame(vd->frame_ctx, path[lvl]);
        vd->table_pages--;
        vd->gen++;
        stat_inc(vd->io->st, CNT_iommu_pt_coalesces);
        flags |= VTD_MODIFIED | VTD_ALL;
    }
    return flags;
}

/* After an unmap cleared an entry of path[lvl]: an empty L1 or L2 table
 * is freed and its parent's entry cleared. Xen's loop
 * (while markers say empty && ++level < min_pt_levels) stops before it
 * would free an L3, so an empty L3 stays, as does the root. */
static unsigned free_emptied(struct vtd_domain *vd, const uint64_t path[5], uint64_t dfn, unsigned lvl)
{
    struct pmem *m = vd->io->mem;
    unsigned flags = 0;
    for (; lvl + 1 < 4; lvl++) {
        for (unsigned i = 0; i < PTRS_PER_TABLE; i++)
            if (pte_present(pmem_read(m, path[lvl], i)))
                return flags;
        pmem_write(m, path[lvl + 1], pt_index(dfn << PAGE_SHIFT, lvl + 1), 0);
        charge_pte(vd);
        pmem_zero(m, path[lvl]);
        vd->free_frame(vd->frame_ctx, path[lvl]);
        vd->table_pages--;
        vd->gen++;
        flags |= VTD_ALL;
    }
    return flags;
}

unsigned vtd_map_page(struct vtd_domain *vd, uint64_t dfn, uint64_t mfn, int writable)
{
    MV_ASSERT(dfn < DFN_LIMIT, "dfn %#llx beyond the I/O address width", (unsigned long long)dfn);
    uint64_t path[5];
    unsigned flags = 0;
    uint64_t l1 = table_of(vd, dfn, 1, 1, path, &flags, NULL);
    unsigned idx = pt_index(dfn << PAGE_SHIFT, 1);
    pte_t old = pmem_read(vd->io->mem, l1, idx);
    pte_t e = pte_make(mfn, _PAGE_PRESENT | (writable ? _PAGE_RW : 0));
    if (old == e)
        return flags;               /* Xen: no write, no flush (but a split made on the way stands) */
    pmem_write(vd->io->mem, l1, idx, e);
    charge_pte(vd);
    vd->gen++;
    if (pte_present(old)) {
        flags |= VTD_MODIFIED;
    } else {
        vd->mapped++;
        flags |= VTD_ADDED;
    }
    return flags | coalesce(vd, path, dfn, 1);
}

unsigned vtd_unmap_page(struct vtd_domain *vd, uint64_t dfn)
{
    if (dfn >= DFN_LIMIT)
        return 0;
    uint64_t path[5];
    unsigned flags = 0;
    uint64_t l1 = table_of(vd, dfn, 1, 0, path, &flags, NULL);
    unsigned idx = pt_index(dfn << PAGE_SHIFT, 1);
    if (l1 == UINT64_MAX || !pte_present(pmem_read(vd->io->mem, l1, idx)))
        return flags;
    pmem_write(vd->io->mem, l1, idx, 0);
    charge_pte(vd);
    vd->mapped--;
    vd->gen++;
    flags |= VTD_MODIFIED;
    return vd->free_empty ? flags | free_emptied(vd, path, dfn, 1) : flags;
}

void vtd_map_extent(struct vtd_domain *vd, uint64_t dfn, uint64_t mfn, int writable)
{
    MV_ASSERT(!(dfn & 511) && !(mfn & 511) && dfn + 511 < DFN_LIMIT, "extent dfn %#llx -> mfn %#llx",
              (unsigned long long)dfn, (unsigned long long)mfn);
    struct pmem *m = vd->io->mem;
    uint64_t path[5];
    unsigned flags = 0;
    pte_t first = pte_make(mfn, _PAGE_PRESENT | (writable ? _PAGE_RW : 0));
    if (vd->sp_level >= 2) {
        /* Xen's iommu_map takes the largest page both addresses align to:
         * one 2 MiB entry, where nothing of the extent is mapped yet */
        uint64_t l2 = table_of(vd, dfn, 2, 1, path, &flags, NULL);
        unsigned idx = pt_index(dfn << PAGE_SHIFT, 2);
        if (!pte_present(pmem_read(m, l2, idx))) {
            pmem_write(m, l2, idx, first | _PAGE_PSE);
            charge_pte(vd);
            vd->mapped += PTRS_PER_TABLE;
            vd->gen++;
            coalesce(vd, path, dfn, 2);   /* the build ends with a domain-wide flush anyway */
            return;
        }
    } else {
        int fresh;
        uint64_t l1 = table_of(vd, dfn, 1, 1, path, &flags, &fresh);
        if (fresh) {
            /* what 512 vtd_map_page calls on an empty L1 table write and charge */
            pmem_set_linear(m, l1, first);
            stat_charge(vd->io->st, CYC_iommu, PTRS_PER_TABLE * vd->io->cost->iommu_pte);
            vd->mapped += PTRS_PER_TABLE;
            vd->gen += PTRS_PER_TABLE;
            return;
        }
    }
    for (unsigned i = 0; i < PTRS_PER_TABLE; i++)   /* some of it is mapped already: page by page */
        vtd_map_page(vd, dfn + i, mfn + i, writable);
}

int vtd_flush(struct vtd_domain *vd, uint64_t dfn, unsigned flags, int flush_on_map)
{
    int need = (flags & VTD_MODIFIED) ||
               ((flags & VTD_ADDED) && (vd->io->cfg.caching_mode || flush_on_map));
    for (unsigned u = 0; need && u < vd->nunits; u++)
        iommu_invalidate(vd->unit[u], flags & VTD_ALL ? INV_DSI : INV_PSI, vd->did, dfn, 0);
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
        if (lvl == 1) {
            fn(ctx, dfn, e);
        } else if (pte_leaf(e, lvl)) {          /* a superpage: each 4 KiB page of it */
            pte_t page = e & ~(pte_t)_PAGE_PSE;
            for (uint64_t j = 0; j < 1ull << (9 * (lvl - 1)); j++)
                fn(ctx, dfn + j, page + (j << PAGE_SHIFT));
        } else {
            leaves(vd, pte_frame(e), lvl - 1, dfn, fn, ctx);
        }
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

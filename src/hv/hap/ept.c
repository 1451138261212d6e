/* ept.c: building and reading a domain's EPT (see ept.h). */
#include "hv/hap/ept.h"
#include "hw/ept.h"
#include "lib/err.h"

uint64_t ept_full_tables(uint64_t guest_frames, int huge)
{
    uint64_t n = 1;   /* the root */
    for (unsigned shift = huge ? 18 : 9; shift <= 27; shift += 9)
        n += (guest_frames + (1ull << shift) - 1) >> shift;
    return n;
}

int ept_init(struct ept *e, struct hv *h, int huge, int prebuilt)
{
    *e = (struct ept){ .h = h, .huge = huge };
    e->root = hv_alloc_frame(h);
    if (e->root == UINT64_MAX)
        return -1;
    e->table_pages = 1;
    if (prebuilt) {
        uint64_t n = ept_full_tables(h->dom.nr_pages, huge) - 1;
        if (hv_reserve_frames(h, n))
            return -1;
        e->unbuilt = n;
        sparse_init(&e->written, (h->dom.nr_pages + 63) / 64, sizeof(uint64_t));
    }
    return 0;
}

static void free_tree(struct ept *e, uint64_t table, unsigned lvl)
{
    for (unsigned i = 0; lvl > 1 && i < PTRS_PER_TABLE; i++) {
        pte_t x = pmem_read(e->h->mem, table, i);
        if (ept_present(x) && !ept_leaf(x, lvl))
            free_tree(e, pte_frame(x), lvl - 1);
    }
    hv_free_frame(e->h, table);
}

void ept_destroy(struct ept *e)
{
    if (e->root && e->root != UINT64_MAX)
        free_tree(e, e->root, 4);
    if (e->unbuilt)
        hv_unreserve_frames(e->h, e->unbuilt);
    sparse_free(&e->written);
    e->root = 0;
    e->table_pages = e->leaves = e->unbuilt = 0;
}

int ept_map(struct ept *e, uint64_t gfn)
{
    uint64_t mfn = pfn_to_mfn(&e->h->dom, gfn);
    if (mfn == UINT64_MAX)
        return -1;
    struct pmem *m = e->h->mem;
    uint64_t gpa = gfn << PAGE_SHIFT, table = e->root;
    unsigned leaf = e->huge ? 2 : 1;
    int written = 0;
    for (unsigned lvl = 4; lvl > leaf; lvl--) {
        unsigned idx = pt_index(gpa, lvl);
        pte_t x = pmem_read(m, table, idx);
        if (!ept_present(x)) {
            uint64_t f = e->unbuilt ? hv_alloc_reserved_frame(e->h) : hv_alloc_frame(e->h);
            if (f == UINT64_MAX)
                return -1;
            e->unbuilt -= e->unbuilt != 0;
            e->table_pages++;
            x = ept_make(f, EPT_RWX);
            pmem_write(m, table, idx, x);
            written++;
        }
        table = pte_frame(x);
    }
    unsigned idx = pt_index(gpa, leaf);
    if (ept_present(pmem_read(m, table, idx)))
        return written;
    pte_t x = leaf == 2 ? ept_make(mfn & ~511ull, EPT_RWX | EPT_PS) : ept_make(mfn, EPT_RWX);
    pmem_write(m, table, idx, x);
    e->leaves++;
    return written + 1;
}

void ept_ensure(struct ept *e, uint64_t gfn)
{
    const uint64_t *w = sparse_peek(&e->written, gfn / 64);
    if (w && (*w >> (gfn % 64)) & 1)
        return;
    /* a frame that is not guest RAM is refused, and its walk violates */
    if (ept_map(e, gfn) >= 0 && gfn / 64 < e->written.ndir * SPARSE_CHUNK)
        *(uint64_t *)sparse_get(&e->written, gfn / 64) |= 1ull << (gfn % 64);
}

uint64_t ept_lookup(const struct ept *e, uint64_t gfn)
{
    const struct pmem *m = e->h->mem;
    uint64_t gpa = gfn << PAGE_SHIFT, table = e->root;
    if (gfn >> (EPT_GPA_BITS - PAGE_SHIFT))
        return UINT64_MAX;
    for (unsigned lvl = 4;; lvl--) {
        pte_t x = pmem_read(m, table, pt_index(gpa, lvl));
        if (!ept_present(x))
            return UINT64_MAX;
        if (ept_leaf(x, lvl)) {
            uint64_t span = (1ull << (9 * (lvl - 1))) - 1;
            return (pte_frame(x) & ~span) + (gfn & span);
        }
        table = pte_frame(x);
    }
}

static void visit(const struct ept *e, uint64_t table, unsigned lvl, uint64_t base,
                  void (*fn)(void *, uint64_t, unsigned, pte_t), void *ctx)
{
    const uint64_t *t = pmem_table_peek(e->h->mem, table);
    for (unsigned i = 0; t && i < PTRS_PER_TABLE; i++) {
        pte_t x = t[i];
        if (!ept_present(x))
            continue;
        uint64_t gfn = base + ((uint64_t)i << (9 * (lvl - 1)));
        if (ept_leaf(x, lvl))
            fn(ctx, gfn, lvl, x);
        else
            visit(e, pte_frame(x), lvl - 1, gfn, fn, ctx);
    }
}

void ept_for_each_leaf(const struct ept *e, void (*fn)(void *ctx, uint64_t gfn, unsigned lvl, pte_t ent),
                       void *ctx)
{
    visit(e, e->root, 4, 0, fn, ctx);
}

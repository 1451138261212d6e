/* test_prefetch.c: the host prefetch hint (hw/prefetch.c) finds the entries
 * the walk will read. A wrong peek changes no result, only the speed, so
 * nothing else would notice one: here each target is compared with the
 * entry found by walking the tables independently, for the native walk and
 * for nested paging (4K and 2M EPT pages), and a stale memo is shown to be
 * forgotten at a TLB flush, the leaf tables a peek keeps when their
 * level-2 entry changes (and, 2D, at INVEPT), with the frame-index words
 * it prefetches beside them; an L4 entry with bit 7 set (reserved,
 * in the guest's tables and in the EPT) stops the peek as it stops the
 * walk. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"
#include "guest/kernel.h"
#include "hw/ept.h"
#include "hw/walk.h"

#define A 0x40000000ull            /* 1 GiB: the region straddles no boundary */
#define PAGES 1024u                /* 4 MiB: two leaf tables */

static struct task *touch_all(struct tmachine *t)
{
    struct kernel *k = &t->m.k;
    struct task *p = kernel_spawn(k, 1);
    schedule_to(k, p);
    assert_int_equal(sys_mmap(k, p, A, PAGES * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANON, 0, 0),
                     (long)A);
    uint64_t mfn;
    for (unsigned i = 0; i < PAGES; i++)
        assert_int_equal(user_access(k, A + (uint64_t)i * PAGE_SIZE, ACC_WRITE, &mfn), 0);
    return p;
}

static void finish(struct tmachine *t, struct task *p)
{
    do_exit(&t->m.k, p);
    assert_int_equal(tm_destroy(t), 0);
}

/* cpu_prefetch_targets(): *leaf, *ept, and if slot is not NULL *slot. */
static void peek(struct cpu *c, uint64_t va, const uint64_t **leaf, const uint64_t **ept, const uint64_t **slot)
{
    struct cpu_pf_targets t;
    cpu_prefetch_targets(c, va, &t);
    *leaf = t.leaf;
    *ept = t.ept;
    if (slot)
        *slot = t.slot;
}

/* A machine of the given mode with A's pages touched by task *p, its CPU
 * peeking whatever the host's L2 (pf.backed 0): the CPU. */
static struct cpu *peeking(const char *mode, const char *const *params, struct tmachine **t, struct task **p)
{
    *t = tm_boot_params(mode, "memwalk", params);
    *p = touch_all(*t);
    struct cpu *c = this_cpu(&(*t)->m.k);
    c->pf.backed = 0;
    assert_true(cpu_prefetching(c));
    return c;
}

/* The 1D walk's leaf table for va, found by walk(). */
static uint64_t leaf_table_1d(struct cpu *c, uint64_t va)
{
    struct walk_result r;
    assert_int_equal(walk_1d(c->mem, c->hw_root, va, ACC_READ, 1, NULL, 0, 0, &r), 0);
    assert_int_equal(r.level, 1);
    return r.leaf_table;
}

/* The 1D walk's leaf entry for va. */
static const uint64_t *leaf_1d(struct cpu *c, uint64_t va)
{
    return pmem_table_peek(c->mem, leaf_table_1d(c, va)) + pt_index(va, 1);
}

/* Where pmem's frame index keeps frame's slot: what the walk reads first
 * to find a table's words, and the peek prefetches with its entry. */
static const uint64_t *slot_of_pmem(const struct pmem *m, uint64_t frame)
{
    const uint64_t *r = sparse_ref_u64(&m->frames, frame);
    assert_non_null(r);
    assert_int_equal(*r, pmem_slot(m, frame));
    return r;
}

static const uint64_t *slot_of(struct cpu *c, uint64_t frame) { return slot_of_pmem(c->mem, frame); }

/* Point pmem's slot for frame at other's words (a test's way to see
 * whether the peek reads the slot or kept what it read); the slot's value
 * before. */
static uint64_t repoint_slot(struct pmem *m, uint64_t frame, uint64_t other)
{
    uint64_t *w = (uint64_t *)(uintptr_t)slot_of_pmem(m, frame), was = *w;
    *w = (uint64_t)(uintptr_t)pmem_table_peek(m, other);
    return was;
}

/* Undo repoint_slot(), which returned was. */
static void repoint_back(struct pmem *m, uint64_t frame, uint64_t was)
{
    *(uint64_t *)(uintptr_t)slot_of_pmem(m, frame) = was;
}

static void test_native_peek_finds_the_leaf_entry(void **state)
{
    (void)state;
    const char *const params[] = { "guest.ram_mb=256", NULL };
    struct tmachine *t;
    struct task *p;
    struct cpu *c = peeking("native", params, &t, &p);
    assert_int_equal(c->pf.walk, CPU_WALK_1D);
    for (unsigned i = 0; i < PAGES; i += 37) {
        uint64_t va = A + (uint64_t)i * PAGE_SIZE;
        const uint64_t *leaf, *ept, *slot;
        peek(c, va, &leaf, &ept, &slot);
        assert_ptr_equal(leaf, leaf_1d(c, va));
        assert_ptr_equal(slot, slot_of(c, leaf_table_1d(c, va)));
        assert_null(ept);
    }
    /* an unmapped region has no leaf entry to find */
    const uint64_t *leaf, *ept, *slot;
    peek(c, 0x7f0000000000ull, &leaf, &ept, &slot);
    assert_null(leaf);
    assert_null(slot);
    finish(t, p);
}

/* A memo that went stale (here: pointed at words that are no table of
 * this space) is forgotten at the next TLB flush, as a table freed under
 * it would be followed by one. */
static void test_flush_forgets_the_memo(void **state)
{
    (void)state;
    const char *const params[] = { "guest.ram_mb=256", NULL };
    struct tmachine *t;
    struct task *p;
    struct cpu *c = peeking("native", params, &t, &p);
    const uint64_t *leaf, *ept;
    peek(c, A, &leaf, &ept, NULL);
    assert_ptr_equal(leaf, leaf_1d(c, A));
    static const uint64_t junk[PTRS_PER_TABLE];   /* no entry present */
    struct pf_memo *mo = &c->pf.g[(A >> 30) % PF_MEMOS];
    assert_int_equal(mo->key, A >> 30);
    mo->pd = junk;
    peek(c, A, &leaf, &ept, NULL);
    assert_null(leaf);                     /* the stale memo misdirects the peek */
    flush_tlb_mm(&t->m.k, p->mm);
    peek(c, A, &leaf, &ept, NULL);
    assert_ptr_equal(leaf, leaf_1d(c, A));
    finish(t, p);
}

/* A level-3 entry naming a level-2 table that holds nothing yet (linked,
 * never written: pmem backs it at its first write) leaves the memo of its
 * slot as it was: the peek of another region in the same slot once made
 * the memo hold no table under the old region's key, and the next peek
 * there read through a null pointer. */
static void empty_pd(const char *mode)
{
    const char *const params[] = { "guest.ram_mb=256", NULL };
    struct tmachine *t;
    struct task *p;
    struct cpu *c = peeking(mode, params, &t, &p);
    struct kernel *k = &t->m.k;
    const uint64_t B = A + ((uint64_t)PF_MEMOS << 30);   /* B's region shares A's memo */
    const uint64_t *leaf, *ept, *want;
    peek(c, A, &want, &ept, NULL);
    assert_non_null(want);
    unsigned idx;
    assert_int_not_equal(pmd_table(k, p->mm, B, 1, &idx), 0);
    peek(c, B, &leaf, &ept, NULL);
    assert_null(leaf);
    peek(c, A, &leaf, &ept, NULL);
    assert_ptr_equal(leaf, want);
    user_prefetch(k, B + PAGE_SIZE);
    user_prefetch(k, A + PAGE_SIZE);
    finish(t, p);
}

static void test_empty_level2_table_native(void **state)
{
    (void)state;
    empty_pd("native");
}

static void test_empty_level2_table_nested(void **state)
{
    (void)state;
    empty_pd("hap");
}

/* Where the EPT entry mapping gfn is, found by walk() over the EPT: the
 * machine frame of its table and its index there. */
static void ept_entry_at(struct cpu *c, uint64_t gfn, uint64_t *table, unsigned *idx)
{
    const struct walk_params wp = { .fmt = PTF_EPT, .flags = WALK_NOCHECK };
    struct walk_result r;
    uint64_t gpa = gfn << PAGE_SHIFT;
    assert_int_equal(walk(c->mem, c->nested.eptp, gpa, ACC_READ, 0, &wp, &r), 0);
    *table = r.leaf_table;
    *idx = pt_index(gpa, r.level);
}

/* The EPT entry mapping gfn. */
static const uint64_t *ept_entry_of(struct cpu *c, uint64_t gfn)
{
    uint64_t table;
    unsigned idx;
    ept_entry_at(c, gfn, &table, &idx);
    return pmem_table_peek(c->mem, table) + idx;
}

/* The machine frame the EPT maps gfn to (ept_2m: its pages are 2 MiB). */
static uint64_t mfn_of(struct cpu *c, uint64_t gfn, int ept_2m)
{
    return pte_frame(*ept_entry_of(c, gfn)) + (gfn & 511) * (uint64_t)ept_2m;
}

/* The guest frame of va's leaf table, read down the guest's tables, which
 * name guest frames, each through the EPT; *pd gets the machine frame of
 * the level-2 table that names it. */
static uint64_t leaf_table_gfn(struct cpu *c, uint64_t va, int ept_2m, uint64_t *pd)
{
    uint64_t gfn = c->cr3;
    for (unsigned lvl = 4; lvl > 1; lvl--) {
        *pd = mfn_of(c, gfn, ept_2m);
        pte_t e = pmem_read(c->mem, *pd, pt_index(va, lvl));
        assert_true(pte_present(e));
        gfn = pte_frame(e);
    }
    return gfn;
}

static void nested(const char *ept_page_size)
{
    char eps[64];
    snprintf(eps, sizeof eps, "hap.ept_page_size=%s", ept_page_size);
    const char *const params[] = { "guest.ram_mb=256", eps, NULL };
    struct tmachine *t;
    struct task *p;
    struct cpu *c = peeking("hap", params, &t, &p);
    assert_int_equal(c->pf.walk, CPU_WALK_2D);
    const int ept_2m = ept_page_size[0] == '2';
    for (unsigned i = 0; i < PAGES; i += 37) {
        uint64_t va = A + (uint64_t)i * PAGE_SIZE, pd;
        uint64_t mfn = mfn_of(c, leaf_table_gfn(c, va, ept_2m, &pd), ept_2m);
        const uint64_t *want = pmem_table_peek(c->mem, mfn) + pt_index(va, 1);
        struct cpu_pf_targets pt;
        cpu_prefetch_targets(c, va, &pt);
        assert_ptr_equal(pt.leaf, want);
        assert_ptr_equal(pt.slot, slot_of(c, mfn));
        /* the EPT entry of the data frame, after its table's index word
         * (a 2M EPT page's entry is in the level-2 table: none) */
        uint64_t et;
        unsigned ei;
        ept_entry_at(c, pte_frame(*want), &et, &ei);
        assert_ptr_equal(pt.ept, pmem_table_peek(c->mem, et) + ei);
        if (ept_2m)
            assert_null(pt.ept_slot);
        else
            assert_ptr_equal(pt.ept_slot, slot_of(c, et));
    }
    finish(t, p);
}

static void test_nested_peek_finds_guest_and_ept_entries(void **state)
{
    (void)state;
    nested("4k");
}

static void test_nested_peek_with_2m_ept_pages(void **state)
{
    (void)state;
    nested("2m");
}

/* A 2D peek keeps the host words of the guest leaf tables it found
 * through the EPT (struct pf_leaves), each under the level-2 entry that
 * names the table, and forgets them with the memo at INVEPT. Here A's
 * leaf table moves to another machine frame under the peek: the kept
 * words, stale by then, are read until INVEPT, the new frame's after it;
 * moved back without INVEPT, the new frame's until the level-2 entry
 * changes (a software bit). The EPT's own leaf tables are kept the same
 * way, until INVEPT. */
static void test_nested_kept_leaf_tables(void **state)
{
    (void)state;
    const char *const params[] = { "guest.ram_mb=256", NULL };
    struct tmachine *t;
    struct task *p;
    struct cpu *c = peeking("hap", params, &t, &p);
    struct pmem *m = c->mem;
    uint64_t pd, et;
    unsigned ei;
    ept_entry_at(c, leaf_table_gfn(c, A, 0, &pd), &et, &ei);
    const pte_t x = pmem_read(m, et, ei), e = pmem_read(m, pd, pt_index(A, 2));
    const uint64_t old = pte_frame(x), moved = m->nframes - 1;
    const uint64_t *leaf, *ept, *at_old = pmem_table_peek(m, old) + pt_index(A, 1);
    peek(c, A, &leaf, &ept, NULL);
    assert_ptr_equal(leaf, at_old);
    /* the copy goes to an unbacked frame, the machine's last, and is
     * dropped before the teardown */
    assert_null(pmem_table_peek(m, moved));
    pmem_copy(m, moved, old);
    const uint64_t *at_moved = pmem_table_peek(m, moved) + pt_index(A, 1);
    pmem_write(m, et, ei, (x & ~PTE_FRAME_MASK) | (moved << PAGE_SHIFT));
    peek(c, A, &leaf, &ept, NULL);
    assert_ptr_equal(leaf, at_old);
    cpu_invept(c);
    peek(c, A, &leaf, &ept, NULL);
    assert_ptr_equal(leaf, at_moved);
    pmem_write(m, et, ei, x);
    peek(c, A, &leaf, &ept, NULL);
    assert_ptr_equal(leaf, at_moved);
    pmem_write(m, pd, pt_index(A, 2), e ^ _PAGE_AVAIL0);
    peek(c, A, &leaf, &ept, NULL);
    assert_ptr_equal(leaf, at_old);
    pmem_write(m, pd, pt_index(A, 2), e);   /* all back as it was, for the teardown */
    pmem_zero(m, moved);
    cpu_invept(c);
    /* the EPT's leaf tables are kept too, until INVEPT: pmem's slot for
     * the table holding the data frame's EPT entry pointed at a copy */
    peek(c, A, &leaf, &ept, NULL);
    assert_non_null(ept);
    uint64_t dt;
    unsigned di;
    ept_entry_at(c, pte_frame(*leaf), &dt, &di);
    assert_ptr_equal(ept, pmem_table_peek(m, dt) + di);
    const uint64_t copy = m->nframes - 2;
    assert_null(pmem_table_peek(m, copy));
    pmem_copy(m, copy, dt);
    uint64_t was = repoint_slot(m, dt, copy);
    peek(c, A, &leaf, &ept, NULL);
    assert_ptr_equal(ept, (const uint64_t *)(uintptr_t)was + di);
    cpu_invept(c);
    peek(c, A, &leaf, &ept, NULL);
    assert_ptr_equal(ept, pmem_table_peek(m, copy) + di);
    repoint_back(m, dt, was);
    cpu_invept(c);
    pmem_zero(m, copy);
    finish(t, p);
}

/* A 1D peek keeps the host words of the leaf tables too, and where
 * pmem indexes their frames, each under the level-2 entry that names the
 * table: A's leaf table moved to another frame (its level-2 entry
 * rewritten, no flush) is found there at once, and found back where it
 * was when the entry is restored. The words are kept: pmem's slot for
 * the table's frame pointed elsewhere, the peek reads the kept words
 * until a flush forgets its memo, and the new ones after it. */
static void test_native_kept_leaf_tables(void **state)
{
    (void)state;
    const char *const params[] = { "guest.ram_mb=256", NULL };
    struct tmachine *t;
    struct task *p;
    struct cpu *c = peeking("native", params, &t, &p);
    struct pmem *m = c->mem;
    const uint64_t old = leaf_table_1d(c, A), moved = m->nframes - 1;
    const uint64_t *leaf, *ept, *slot, *at_old = leaf_1d(c, A);
    peek(c, A, &leaf, &ept, &slot);
    assert_ptr_equal(leaf, at_old);
    assert_ptr_equal(slot, slot_of(c, old));
    /* the level-2 entry naming A's leaf table, under hw_root */
    uint64_t pd = c->hw_root;
    for (unsigned lvl = 4; lvl > 2; lvl--)
        pd = pte_frame(pmem_read(m, pd, pt_index(A, lvl)));
    const pte_t e = pmem_read(m, pd, pt_index(A, 2));
    assert_int_equal(pte_frame(e), old);
    /* the copy goes to an unbacked frame, the machine's last, and is
     * dropped before the teardown */
    assert_null(pmem_table_peek(m, moved));
    pmem_copy(m, moved, old);
    pmem_write(m, pd, pt_index(A, 2), (e & ~PTE_FRAME_MASK) | (moved << PAGE_SHIFT));
    peek(c, A, &leaf, &ept, &slot);
    assert_ptr_equal(leaf, pmem_table_peek(m, moved) + pt_index(A, 1));
    assert_ptr_equal(slot, slot_of(c, moved));
    pmem_write(m, pd, pt_index(A, 2), e);
    peek(c, A, &leaf, &ept, &slot);
    assert_ptr_equal(leaf, at_old);
    assert_ptr_equal(slot, slot_of(c, old));
    uint64_t was = repoint_slot(m, old, moved);
    peek(c, A, &leaf, &ept, &slot);
    assert_ptr_equal(leaf, at_old);
    flush_tlb_mm(&t->m.k, p->mm);
    peek(c, A, &leaf, &ept, &slot);
    assert_ptr_equal(leaf, pmem_table_peek(m, moved) + pt_index(A, 1));
    repoint_back(m, old, was);
    flush_tlb_mm(&t->m.k, p->mm);
    peek(c, A, &leaf, &ept, &slot);
    assert_ptr_equal(leaf, at_old);
    pmem_zero(m, moved);
    finish(t, p);
}

/* An L4 entry with bit 7 set is reserved (the walk refuses it, with a
 * reserved-bit fault or, in the EPT, a misconfiguration: walk_tmpl.h):
 * the peek stops there too, in the guest's tables and in the EPT, and
 * finds the entries again once the bit is clear. */
static void ps_in_l4(const char *mode)
{
    const char *const params[] = { "guest.ram_mb=256", NULL };
    struct tmachine *t;
    struct task *p;
    struct cpu *c = peeking(mode, params, &t, &p);
    struct kernel *k = &t->m.k;
    const uint64_t *want, *want_ept, *leaf, *ept;
    peek(c, A, &want, &want_ept, NULL);
    assert_non_null(want);
    unsigned i4 = pt_index(A, 4);
    pte_t e = kread_entry(k, p->mm->pgd, i4);
    pte_store_direct(k, p->mm->pgd, i4, e | _PAGE_PSE);
    flush_tlb_mm(k, p->mm);                /* the guest's flush; the memos go with it */
    peek(c, A, &leaf, &ept, NULL);
    assert_null(leaf);
    assert_null(ept);
    pte_store_direct(k, p->mm->pgd, i4, e);
    flush_tlb_mm(k, p->mm);
    peek(c, A, &leaf, &ept, NULL);
    assert_ptr_equal(leaf, want);
    assert_ptr_equal(ept, want_ept);
    if (c->pf.walk == CPU_WALK_2D) {
        uint64_t x = pmem_read(c->mem, c->nested.eptp, 0);   /* all of guest RAM is under EPT L4 entry 0 */
        pmem_write(c->mem, c->nested.eptp, 0, x | EPT_PS);
        cpu_invept(c);
        peek(c, A, &leaf, &ept, NULL);
        assert_null(leaf);
        assert_null(ept);
        pmem_write(c->mem, c->nested.eptp, 0, x);
        cpu_invept(c);
        peek(c, A, &leaf, &ept, NULL);
        assert_ptr_equal(leaf, want);
    }
    finish(t, p);
}

static void test_ps_in_l4_native(void **state)
{
    (void)state;
    ps_in_l4("native");
}

static void test_ps_in_l4_nested(void **state)
{
    (void)state;
    ps_in_l4("hap");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_native_peek_finds_the_leaf_entry),
        cmocka_unit_test(test_ps_in_l4_native),
        cmocka_unit_test(test_ps_in_l4_nested),
        cmocka_unit_test(test_flush_forgets_the_memo),
        cmocka_unit_test(test_empty_level2_table_native),
        cmocka_unit_test(test_empty_level2_table_nested),
        cmocka_unit_test(test_nested_peek_finds_guest_and_ept_entries),
        cmocka_unit_test(test_nested_peek_with_2m_ept_pages),
        cmocka_unit_test(test_nested_kept_leaf_tables),
        cmocka_unit_test(test_native_kept_leaf_tables),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

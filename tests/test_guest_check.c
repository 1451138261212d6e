/* test_guest_check.c: conditions of the guest kernel's self-check
 * (src/guest/check.c) broken on purpose and caught, each by its own
 * condition, named in its message. A native machine runs a process with real
 * page tables; the check accepts it; one property is broken through the
 * kernel's own structures (a table page's struct page, a page-table entry,
 * a huge page's struct page); the report is expected; the repair passes
 * again. These are the conditions an attack review found could be switched
 * off with every other test still passing (tests/test_checkers.c covers the
 * rest):
 *  - a page-table page used at another level than the one it was allocated
 *    for: its struct page says another level, or an entry one level up
 *    names it;
 *  - a huge pmd mapping a page that is not a live huge page: the head lost
 *    its PG_huge flag, or its references, or the pmd names a 4 KiB page;
 *  - PROT_NONE: a present leaf in a VMA with no access (what mprotect left
 *    before PROTNONE entries), a PROTNONE leaf in a VMA with access, a
 *    PROTNONE leaf whose frame is not inverted (L1TF) or names a frame
 *    beyond guest memory, and a PROTNONE leaf naming a freed page or left
 *    out of the count;
 *  - a present user pte naming a page-table page (the process's own L1);
 *  - a huge pmd running past the end of its (THP) VMA;
 *  - a shmem VMA naming a freed object, or none (id 0);
 *  - the VMA tree broken: two VMAs' ranges swapped (out of order), one
 *    run into the next (overlap), a range not page aligned, mm->nvma off
 *    by one, the root coloured red (a tree no insertion or removal
 *    leaves; lib/range_tree.h's test breaks each red-black rule). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "guest/kernel.h"
#include "guest/shmem.h"
#include "testutil.h"

#define A 0x400000ull              /* 4 KiB pages: L4 0, L3 0, L2 2 */
#define H 0x40000000ull            /* a huge page: L4 0, L3 1 */
#define HUGE (2ull << 20)

static void expect_ok(struct kernel *k)
{
    char msg[512] = "";
    if (kernel_check(k, msg, sizeof msg))
        fail_msg("kernel_check failed: %s", msg);
}

/* kernel_check reports, and its message contains what. */
static void expect_report(struct kernel *k, const char *what)
{
    char msg[512] = "";
    if (!kernel_check(k, msg, sizeof msg))
        fail_msg("kernel_check passed; expected a report about \"%s\"", what);
    if (!strstr(msg, what))
        fail_msg("kernel_check reported \"%s\"; expected a report about \"%s\"", msg, what);
}

/* A running process: two 4 KiB pages written at A, one huge page at H. */
static struct task *proc(struct tmachine *t)
{
    struct kernel *k = &t->m.k;
    struct task *p = kernel_spawn(k, 1);
    schedule_to(k, p);
    uint64_t mfn;
    assert_int_equal(sys_mmap(k, p, A, 8 * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANON, 0, 0), (long)A);
    assert_int_equal(user_access(k, A, ACC_WRITE, &mfn), 0);
    assert_int_equal(user_access(k, A + PAGE_SIZE, ACC_WRITE, &mfn), 0);
    assert_int_equal(sys_mmap(k, p, H, HUGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANON | MAP_HUGETLB, 0, 0),
                     (long)H);
    assert_int_equal(user_access(k, H, ACC_WRITE, &mfn), 0);
    return p;
}

/* Guest frame of the level-lvl table covering va in the current mm. */
static uint64_t table_of(struct kernel *k, uint64_t va, unsigned lvl)
{
    uint64_t table = k->current->mm->pgd;
    for (unsigned l = 4; l > lvl; l--) {
        pte_t e = kread_entry(k, table, pt_index(va, l));
        assert_true(pte_present(e) && !(e & _PAGE_PSE));
        table = k->pv->entry_pfn(k, e);
    }
    return table;
}

/* ---- table pages at their level ------------------------------------------------- */

/* The L1 table of A whose struct page says L2: every count still agrees. */
static void test_table_page_level_wrong(void **state)
{
    (void)state;
    struct tmachine *t = tm_boot("native");
    struct kernel *k = &t->m.k;
    struct task *p = proc(t);
    struct page *tp = page_of(k, table_of(k, A, 1));
    assert_true((tp->flags & PG_pgtable) && tp->level == 1);
    expect_ok(k);
    tp->level = 2;
    expect_report(k, "used as an L1 table is not one");
    tp->level = 1;
    expect_ok(k);
    do_exit(k, p);
    assert_int_equal(tm_destroy(t), 0);
}

/* A free pud entry names A's L1 table: the walk reaches it as an L2. */
static void test_table_linked_at_wrong_level(void **state)
{
    (void)state;
    struct tmachine *t = tm_boot("native");
    struct kernel *k = &t->m.k;
    struct task *p = proc(t);
    uint64_t l3 = table_of(k, A, 3), l1 = table_of(k, A, 1);
    unsigned i = pt_index(A, 3) + 7;
    assert_false(pte_present(kread_entry(k, l3, i)));
    pte_t up = kread_entry(k, l3, pt_index(A, 3));
    expect_ok(k);
    pte_store_direct(k, l3, i, k->pv->make_entry(k, l1, up & PTE_FLAGS_MASK));
    char what[96];
    snprintf(what, sizeof what, "frame %#llx used as an L2 table is not one", (unsigned long long)l1);
    expect_report(k, what);
    pte_store_direct(k, l3, i, 0);
    expect_ok(k);
    do_exit(k, p);
    assert_int_equal(tm_destroy(t), 0);
}

/* ---- huge pmds map live huge pages ------------------------------------------------ */

static void test_huge_pmd_not_live_huge_page(void **state)
{
    (void)state;
    struct tmachine *t = tm_boot("native");
    struct kernel *k = &t->m.k;
    struct task *p = proc(t);
    uint64_t l2 = table_of(k, H, 2);
    unsigned i = pt_index(H, 2);
    pte_t pe = kread_entry(k, l2, i);
    assert_true(pte_present(pe) && (pe & _PAGE_PSE));
    uint64_t head = k->pv->entry_pfn(k, pe);
    struct page *hp = page_of(k, head);
    assert_true((hp->flags & PG_huge) && hp->count);
    char what[96];
    snprintf(what, sizeof what, "huge pmd maps frame %#llx which is not a live huge page", (unsigned long long)head);
    expect_ok(k);
    /* the head no longer flagged huge */
    hp->flags &= (uint8_t)~PG_huge;
    expect_report(k, what);
    hp->flags |= PG_huge;
    expect_ok(k);
    /* the head without references: freed under the mapping */
    uint32_t c = hp->count;
    hp->count = 0;
    expect_report(k, what);
    hp->count = c;
    expect_ok(k);
    /* the pmd naming a 4 KiB data page (A's) */
    uint64_t small = k->pv->entry_pfn(k, kread_entry(k, table_of(k, A, 1), pt_index(A, 1)));
    pte_store_direct(k, l2, i, k->pv->make_entry(k, small, pe & PTE_FLAGS_MASK));
    snprintf(what, sizeof what, "huge pmd maps frame %#llx which is not a live huge page", (unsigned long long)small);
    expect_report(k, what);
    pte_store_direct(k, l2, i, pe);
    expect_ok(k);
    do_exit(k, p);
    assert_int_equal(tm_destroy(t), 0);
}

/* ---- PROT_NONE leaves -------------------------------------------------------------- */

static void test_protnone_leaves(void **state)
{
    (void)state;
    struct tmachine *t = tm_boot("native");
    struct kernel *k = &t->m.k;
    struct task *p = proc(t);
    uint64_t l1 = table_of(k, A, 1);
    unsigned i = pt_index(A, 1);
    pte_t e = kread_entry(k, l1, i);
    uint64_t pfn = k->pv->entry_pfn(k, e);
    assert_int_equal(sys_mprotect(k, p, A, PAGE_SIZE, 0), 0);
    pte_t none = kread_entry(k, l1, i);
    assert_true(pte_protnone(none));
    expect_ok(k);
    /* present again under the VMA with no access: readable by the hardware */
    assert_int_equal(pte_frame(none), pte_frame(~(pfn << PAGE_SHIFT)));   /* the frame inverted */
    pte_store_direct(k, l1, i, pte_make(pfn, ((none & PTE_FLAGS_MASK) & ~_PAGE_PROTNONE) | _PAGE_PRESENT));
    expect_report(k, "is present in a VMA with no access");
    pte_store_direct(k, l1, i, none);
    expect_ok(k);
    /* PROTNONE left in the neighbour, whose VMA allows read and write
     * (built as Linux builds one, its frame inverted) */
    unsigned j = pt_index(A + PAGE_SIZE, 1);
    pte_t n = kread_entry(k, l1, j);
    pte_t pn = k->pv->make_entry(k, k->pv->entry_pfn(k, n),
                                 ((n & PTE_FLAGS_MASK) & ~(_PAGE_PRESENT | _PAGE_RW)) | _PAGE_PROTNONE);
    pte_store_direct(k, l1, j, pn);
    expect_report(k, "is PROTNONE in a VMA with access");
    pte_store_direct(k, l1, j, n);
    expect_ok(k);
    /* the PROT_NONE page's entry with its frame not inverted (a kernel
     * without the L1TF mitigation wrote it), then inverted but naming a
     * frame beyond guest memory */
    pte_store_direct(k, l1, i, pte_make(pfn, none & PTE_FLAGS_MASK));
    expect_report(k, "is PROTNONE with its frame not inverted");
    pte_store_direct(k, l1, i, pte_make(k->nr_pages + 7, none & PTE_FLAGS_MASK) ^ PTE_FRAME_MASK);
    char beyond[96];
    snprintf(beyond, sizeof beyond, "maps frame %#llx beyond guest memory", (unsigned long long)(k->nr_pages + 7));
    expect_report(k, beyond);
    pte_store_direct(k, l1, i, none);
    expect_ok(k);
    /* a PROTNONE entry still counts: its page freed under it, or the
     * entry dropped from rss */
    struct page *pg = page_of(k, pfn);
    uint32_t c = pg->count;
    pg->count = 0;
    char what[96];
    snprintf(what, sizeof what, "pte maps frame %#llx which is not a live data page", (unsigned long long)pfn);
    expect_report(k, what);
    pg->count = c;
    p->mm->rss--;
    expect_report(k, "mapped 514 (rss 513)");
    p->mm->rss++;
    expect_ok(k);
    do_exit(k, p);
    assert_int_equal(tm_destroy(t), 0);
}

/* ---- leaves map live data pages -------------------------------------------------- */

/* A present user pte naming the process's own L1 table (read-only, NX,
 * inside its VMA), its page's count and rss raised as a real mapping would:
 * the process could read its page tables. Only the page-table flag of the
 * mapped page says it is no data page. */
static void test_pte_maps_table_page(void **state)
{
    (void)state;
    struct tmachine *t = tm_boot("native");
    struct kernel *k = &t->m.k;
    struct task *p = proc(t);
    uint64_t l1 = table_of(k, A, 1);
    unsigned i = pt_index(A + 2 * PAGE_SIZE, 1);   /* inside A's VMA, never touched */
    assert_false(pte_mapped(kread_entry(k, l1, i)));
    struct page *tp = page_of(k, l1);
    assert_true((tp->flags & PG_used) && (tp->flags & PG_pgtable));
    expect_ok(k);
    pte_store_direct(k, l1, i, k->pv->make_entry(k, l1, _PAGE_PRESENT | _PAGE_USER | _PAGE_ACCESSED | _PAGE_NX));
    tp->count++;
    p->mm->rss++;
    char what[96];
    snprintf(what, sizeof what, "pte maps frame %#llx which is not a live data page", (unsigned long long)l1);
    expect_report(k, what);
    pte_store_direct(k, l1, i, 0);
    tp->count--;
    p->mm->rss--;
    expect_ok(k);
    do_exit(k, p);
    assert_int_equal(tm_destroy(t), 0);
}

/* ---- leaves inside their VMA --------------------------------------------------------- */

/* H's VMA (a THP one) cut to its first 1 MiB without splitting the huge
 * pmd (what vma_adjust_trans_huge exists to prevent): the huge leaf starts
 * inside the VMA and runs past its end. */
static void test_huge_pmd_past_vma_end(void **state)
{
    (void)state;
    struct tmachine *t = tm_boot("native");
    struct kernel *k = &t->m.k;
    struct task *p = proc(t);
    struct vma *v = find_vma(p->mm, H);
    assert_non_null(v);
    assert_true((v->flags & VM_HUGEPAGE) && v->start == H && v->end == H + HUGE);
    pte_t pe = kread_entry(k, table_of(k, H, 2), pt_index(H, 2));
    assert_true(pte_present(pe) && (pe & _PAGE_PSE));
    expect_ok(k);
    v->end -= HUGE / 2;
    char what[96];
    snprintf(what, sizeof what, "huge pmd at %#llx (entry %#llx) is outside every VMA", (unsigned long long)H,
             (unsigned long long)pe);
    expect_report(k, what);
    v->end += HUGE / 2;
    expect_ok(k);
    do_exit(k, p);
    assert_int_equal(tm_destroy(t), 0);
}

/* ---- the VMA tree ------------------------------------------------------------------- */

#define V 0x10000000ull            /* seven one-page VMAs, a page apart, never touched */

static void test_vma_tree_broken(void **state)
{
    (void)state;
    struct tmachine *t = tm_boot("native");
    struct kernel *k = &t->m.k;
    struct task *p = proc(t);
    struct mm *mm = p->mm;
    for (unsigned i = 0; i < 7; i++)
        assert_int_equal(sys_mmap(k, p, V + 2 * i * PAGE_SIZE, PAGE_SIZE, PROT_READ, MAP_PRIVATE | MAP_ANON, 0, 0),
                         (long)(V + 2 * i * PAGE_SIZE));
    assert_int_equal(mm->nvma, 9);
    expect_ok(k);
    struct vma *a = find_vma(mm, V + 4 * PAGE_SIZE), *b = find_vma(mm, V + 8 * PAGE_SIZE);
    assert_non_null(a);
    assert_non_null(b);
    char what[128];

    struct vma save = *a;                      /* swapped: b's range before a's in the walk */
    a->start = b->start, a->end = b->end;
    b->start = save.start, b->end = save.end;
    snprintf(what, sizeof what, "pid 1: vma tree: range [%#llx, %#llx) is out of order after [%#llx, %#llx)",
             (unsigned long long)(V + 6 * PAGE_SIZE), (unsigned long long)(V + 7 * PAGE_SIZE),
             (unsigned long long)(V + 8 * PAGE_SIZE), (unsigned long long)(V + 9 * PAGE_SIZE));
    expect_report(k, what);
    b->start = a->start, b->end = a->end;
    a->start = save.start, a->end = save.end;
    expect_ok(k);

    a->end += 2 * PAGE_SIZE;                   /* into the next one */
    snprintf(what, sizeof what, "vma tree: range [%#llx, %#llx) overlaps [%#llx, %#llx) before it",
             (unsigned long long)(V + 6 * PAGE_SIZE), (unsigned long long)(V + 7 * PAGE_SIZE),
             (unsigned long long)(V + 4 * PAGE_SIZE), (unsigned long long)(V + 7 * PAGE_SIZE));
    expect_report(k, what);
    a->end = save.end;
    expect_ok(k);

    a->end -= 8;                               /* not page aligned */
    snprintf(what, sizeof what, "vma [%#llx, %#llx) is not page aligned", (unsigned long long)a->start,
             (unsigned long long)a->end);
    expect_report(k, what);
    a->end = save.end;

    mm->nvma++;                                /* the count */
    expect_report(k, "vma tree: 9 ranges in the tree, 10 counted");
    mm->nvma--;
    expect_ok(k);

    RB_COLOR(RB_ROOT(&mm->mm_rb), vm_rb) = RB_RED;
    expect_report(k, "vma tree: the root [");
    RB_COLOR(RB_ROOT(&mm->mm_rb), vm_rb) = RB_BLACK;
    expect_ok(k);
    do_exit(k, p);
    assert_int_equal(tm_destroy(t), 0);
}

/* ---- shmem objects ---------------------------------------------------------------- */

#define S1 0x80000000ull
#define S2 (S1 + 0x100000ull)

/* A shmem VMA naming a freed object (its id, below nshm, free since S1's
 * unmap) and one naming no object (id 0, or past every id given). The object it really maps loses
 * the reference with it, so every object's count still agrees with the
 * VMAs counted for it. Only id 0 escapes the reference counts (they are
 * compared for ids 1..nshm): for the freed id they disagree as well. */
static void test_vma_maps_free_shmem(void **state)
{
    (void)state;
    struct tmachine *t = tm_boot("native");
    struct kernel *k = &t->m.k;
    struct task *p = proc(t);
    assert_int_equal(sys_mmap(k, p, S1, 4 * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANON, 0, 0),
                     (long)S1);
    assert_int_equal(sys_mmap(k, p, S2, 4 * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANON, 0, 0),
                     (long)S2);
    struct vma *v1 = find_vma(p->mm, S1);
    assert_true(v1 && (v1->flags & VM_SHMEM));
    uint32_t gone = v1->file;
    assert_int_equal(sys_munmap(k, p, S1, 4 * PAGE_SIZE), 0);
    assert_int_equal(shmem_refs(k, gone), 0);
    assert_true(gone <= k->nshm);
    struct vma *v = find_vma(p->mm, S2);
    assert_true(v && (v->flags & VM_SHMEM) && v->start == S2);
    uint32_t id = v->file;
    assert_int_not_equal(id, gone);
    assert_int_equal(shmem_refs(k, id), 1);
    expect_ok(k);
    char what[128];
    /* id 0 first: only this rule sees it; then the freed id; then one past
     * every id ever given */
    const uint32_t bads[3] = { 0, gone, k->nshm + 5 };
    for (unsigned c = 0; c < 3; c++) {
        uint32_t bad = bads[c];
        v->file = bad;
        k->shm[id].refs--;
        snprintf(what, sizeof what, "vma [%#llx, %#llx) maps shmem object %u, which %s",
                 (unsigned long long)S2, (unsigned long long)(S2 + 4 * PAGE_SIZE), bad,
                 c == 1 ? "is free" : "was never created");
        expect_report(k, what);
        v->file = id;
        k->shm[id].refs++;
        expect_ok(k);
    }
    do_exit(k, p);
    assert_int_equal(tm_destroy(t), 0);
}

int main(void)
{
    mv_error_quiet(1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_page_level_wrong),
        cmocka_unit_test(test_table_linked_at_wrong_level),
        cmocka_unit_test(test_huge_pmd_not_live_huge_page),
        cmocka_unit_test(test_protnone_leaves),
        cmocka_unit_test(test_pte_maps_table_page),
        cmocka_unit_test(test_huge_pmd_past_vma_end),
        cmocka_unit_test(test_vma_maps_free_shmem),
        cmocka_unit_test(test_vma_tree_broken),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

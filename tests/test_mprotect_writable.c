/* test_mprotect_writable.c: mprotect back to writable as Linux (5.19 on)
 * does it, in every mode under --check: mprotect_fixup asks change_pte_range
 * (MM_CP_TRY_CHANGE_WRITABLE) to make an entry writable at once where
 * can_change_pte_writable allows it, as the write fault would have:
 *  - a private mapping's anonymous page that is the process's alone
 *    (PageAnonExclusive): at once, Dirty as it was, its write takes no
 *    fault; also from PROT_NONE, and a huge page's pmd;
 *  - a page shared copy-on-write since a fork (the child alive or gone:
 *    the flag stays clear until a write fault reuses the page), the zero
 *    page, a private file mapping's page-cache page: read-only until the
 *    write fault (a copy, a reuse that makes the page exclusive again, a
 *    new page, a private copy);
 *  - a regular file's shared mapping (write-notify): a dirty entry at once,
 *    a clean one at its write fault.
 * The guest kernel's self-check (run by tm_check_all) holds at each step:
 * an exclusive page has no other reference, and a private writable entry
 * maps an exclusive anonymous page. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "guest/kernel.h"
#include "testutil.h"

#define PG PAGE_SIZE
#define X 0x10000000ull    /* private anonymous, 4 pages */
#define F 0x20000000ull    /* private file mapping, 2 pages */
#define S 0x30000000ull    /* shared file mapping, 2 pages */
#define H 0x40000000ull    /* private anonymous, one 2 MiB page (MAP_HUGETLB) */

static uint64_t cnt(struct tmachine *t, enum mv_counter c) { return t->m.st.cnt[c]; }

/* The current task's own (guest) entry for va: its L1 entry, or its L2
 * entry where a huge page maps it. */
static pte_t guest_entry(struct tmachine *t, uint64_t va)
{
    struct kernel *k = &t->m.k;
    unsigned i;
    uint64_t pmd = pmd_table(k, k->current->mm, va, 0, &i);
    assert_true(pmd);
    pte_t pe = kread_entry(k, pmd, i);
    if (pte_mapped(pe) && (pe & _PAGE_PSE))
        return pe;
    return kread_entry(k, tm_guest_table(t, va, 1), pt_index(va, 1));
}

static const struct page *page_at(struct tmachine *t, uint64_t va)
{
    struct kernel *k = &t->m.k;
    return page_of(k, k->pv->entry_pfn(k, guest_entry(t, va)));
}

/* mprotect [va, va + len) read-only (or no access) and back to read-write. */
static void ro_and_back(struct tmachine *t, struct task *p, uint64_t va, uint64_t len, unsigned via)
{
    assert_int_equal(sys_mprotect(&t->m.k, p, va, len, via), 0);
    assert_false(guest_entry(t, va) & _PAGE_RW);
    assert_int_equal(sys_mprotect(&t->m.k, p, va, len, PROT_READ | PROT_WRITE), 0);
    tm_check_all(t);
}

static int writable(struct tmachine *t, uint64_t va) { return (guest_entry(t, va) & _PAGE_RW) != 0; }

/* A write that takes no guest fault. */
static void write_no_fault(struct tmachine *t, uint64_t va, const char *mode, const char *what)
{
    uint64_t pf = cnt(t, CNT_guest_pf);
    tm_access_ok(t, va, ACC_WRITE);
    if (cnt(t, CNT_guest_pf) != pf)
        fail_msg("%s: %s: the write after mprotect back faulted", mode, what);
}

/* A write that takes its write fault (do_wp_page); its frame. */
static uint64_t write_faults(struct tmachine *t, uint64_t va, const char *mode, const char *what)
{
    uint64_t cow = cnt(t, CNT_pf_cow);
    uint64_t mfn = tm_access_ok(t, va, ACC_WRITE);
    if (cnt(t, CNT_pf_cow) != cow + 1)
        fail_msg("%s: %s: the write after mprotect back took no write fault", mode, what);
    return mfn;
}

static void private_anon(const char *mode)
{
    struct tmachine *t = tm_boot(mode);
    struct kernel *k = &t->m.k;
    struct task *p = kernel_spawn(k, 1);
    schedule_to(k, p);
    assert_int_equal(sys_mmap(k, p, X, 4 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANON, 0, 0), (long)X);
    tm_access_ok(t, X, ACC_WRITE);
    tm_access_ok(t, X + PG, ACC_READ);               /* the zero page */
    tm_access_ok(t, X + 3 * PG, ACC_WRITE);
    assert_true(page_at(t, X)->anon_exclusive);
    /* ours alone: writable at once, Dirty kept; the zero page is no
     * anonymous page: its write faults (a new page) */
    ro_and_back(t, p, X, 4 * PG, PROT_READ);
    assert_int_equal(guest_entry(t, X) & (_PAGE_RW | _PAGE_DIRTY), _PAGE_RW | _PAGE_DIRTY);
    assert_true(writable(t, X + 3 * PG));
    assert_false(writable(t, X + PG));
    write_no_fault(t, X, mode, "an exclusive anonymous page");
    write_faults(t, X + PG, mode, "the zero page");
    assert_true(page_at(t, X + PG)->anon_exclusive);
    /* through PROT_NONE too */
    ro_and_back(t, p, X, 4 * PG, 0);
    assert_true(writable(t, X) && writable(t, X + PG));
    write_no_fault(t, X, mode, "an exclusive page back from PROT_NONE");
    /* a fork shares every page copy-on-write: not exclusive any more, in
     * the parent as in the child */
    assert_int_equal(do_fork(k, p, 2), 2);
    struct task *c = task_find(k, 2);
    assert_false(page_at(t, X)->anon_exclusive);
    ro_and_back(t, p, X, 4 * PG, PROT_READ);
    for (unsigned i = 0; i < 4; i++)
        if (i != 2 && writable(t, X + i * PG))
            fail_msg("%s: page %u, shared with a live child, made writable by mprotect", mode, i);
    uint64_t old = tm_access_ok(t, X, ACC_READ);
    assert_int_not_equal(write_faults(t, X, mode, "a page shared with a live child"), old);   /* a copy */
    assert_true(page_at(t, X)->anon_exclusive);
    /* the child gone, page 3 is ours alone but still not exclusive (Linux
     * sets the flag again only at the write fault that reuses the page):
     * read-only until that fault, which copies nothing; writable at once
     * after it */
    do_exit(k, c);
    schedule_to(k, p);
    assert_int_equal(page_at(t, X + 3 * PG)->count, 1);
    ro_and_back(t, p, X, 4 * PG, PROT_READ);
    assert_false(writable(t, X + 3 * PG));
    assert_true(writable(t, X));                       /* the copy is exclusive */
    old = tm_access_ok(t, X + 3 * PG, ACC_READ);
    uint64_t copies = cnt(t, CNT_page_copy);
    assert_int_equal(write_faults(t, X + 3 * PG, mode, "a page a fork shared, the child gone"), old);
    assert_int_equal(cnt(t, CNT_page_copy), copies);
    ro_and_back(t, p, X, 4 * PG, PROT_READ);
    assert_true(writable(t, X + 3 * PG));
    write_no_fault(t, X + 3 * PG, mode, "a reused page");
    tm_finish(t, p);
}

static void test_private_anon(void **state)
{
    (void)state;
    for (unsigned i = 0; i < mode_count(); i++)
        private_anon(mode_at(i)->name);
}

static void files(const char *mode)
{
    struct tmachine *t = tm_boot(mode);
    struct kernel *k = &t->m.k;
    struct task *p = kernel_spawn(k, 1);
    schedule_to(k, p);
    /* a private file mapping: its page-cache page is no anonymous page;
     * its private copy is one, and exclusive */
    assert_int_equal(sys_mmap(k, p, F, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, 7, 0), (long)F);
    tm_access_ok(t, F, ACC_READ);
    tm_access_ok(t, F + PG, ACC_WRITE);
    ro_and_back(t, p, F, 2 * PG, PROT_READ);
    assert_false(writable(t, F));
    assert_true(writable(t, F + PG));
    write_no_fault(t, F + PG, mode, "a private copy of a file page");
    write_faults(t, F, mode, "a private mapping's page-cache page");
    /* a regular file's shared mapping wants write-notify: a dirty entry
     * (the filesystem was told) becomes writable at once, a clean one waits
     * for its write fault */
    assert_int_equal(sys_mmap(k, p, S, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, 8, 0), (long)S);
    tm_access_ok(t, S, ACC_WRITE);
    tm_access_ok(t, S + PG, ACC_READ);
    assert_false(writable(t, S + PG));
    ro_and_back(t, p, S, 2 * PG, PROT_READ);
    assert_int_equal(guest_entry(t, S) & (_PAGE_RW | _PAGE_DIRTY), _PAGE_RW | _PAGE_DIRTY);
    assert_false(writable(t, S + PG));
    write_no_fault(t, S, mode, "a shared file's dirty entry");
    write_faults(t, S + PG, mode, "a shared file's clean entry");
    /* and back from PROT_NONE */
    ro_and_back(t, p, S, 2 * PG, 0);
    assert_true(writable(t, S) && writable(t, S + PG));
    tm_finish(t, p);
}

static void test_files(void **state)
{
    (void)state;
    for (unsigned i = 0; i < mode_count(); i++)
        files(mode_at(i)->name);
}

/* A huge page (can_change_pmd_writable, the same rule), where the backend
 * maps 2 MiB user pages (not Xen PV). */
static void huge(const char *mode)
{
    struct tmachine *t = tm_boot(mode);
    struct kernel *k = &t->m.k;
    if (!k->pv->huge_capable) {
        assert_int_equal(tm_destroy(t), 0);
        return;
    }
    struct task *p = kernel_spawn(k, 1);
    schedule_to(k, p);
    assert_int_equal(sys_mmap(k, p, H, HPAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANON | MAP_HUGETLB, 0, 0),
                     (long)H);
    tm_access_ok(t, H, ACC_WRITE);
    assert_true(guest_entry(t, H) & _PAGE_PSE);
    ro_and_back(t, p, H, HPAGE_SIZE, PROT_READ);
    assert_true(guest_entry(t, H) & _PAGE_PSE);
    assert_true(writable(t, H));
    write_no_fault(t, H + 5 * PG, mode, "an exclusive huge page");
    assert_int_equal(do_fork(k, p, 2), 2);
    ro_and_back(t, p, H, HPAGE_SIZE, PROT_READ);
    assert_false(writable(t, H));                       /* shared with the child */
    do_exit(k, task_find(k, 2));
    schedule_to(k, p);
    tm_finish(t, p);
}

static void test_huge(void **state)
{
    (void)state;
    for (unsigned i = 0; i < mode_count(); i++)
        huge(mode_at(i)->name);
}

int main(void)
{
    mv_error_quiet(1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_private_anon),
        cmocka_unit_test(test_files),
        cmocka_unit_test(test_huge),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

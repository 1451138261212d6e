/* test_tlb_flush_scope.c: the guest kernel flushes what Linux x86 flushes,
 * no more (an attack review found all three too wide), in every mode with
 * the reference translation checked after each change:
 *  - munmap flushes the mmu_gather's span: the cleared PTEs (or huge PMDs,
 *    at a 2 MiB stride) and one page at the address of each freed table,
 *    not the whole address space because a table was freed, nor the whole
 *    range unmapped; nothing cleared, nothing freed: no flush at all; a
 *    span past the ceiling (33 pages) is one whole flush;
 *  - INVLPG also empties the paging-structure caches (SDM 4.10.4.1), which
 *    is why one page flush is enough after freeing a table;
 *  - mprotect leaves a VMA whose flags do not change alone (no split, no
 *    store, no flush) and flushes only entries whose change needs it (not
 *    an added exec);
 *  - a thread's exit leaves CR3 alone while a sibling still uses the mm. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include "guest/kernel.h"
#include "sim/oracle.h"
#include "testutil.h"

#define PG PAGE_SIZE
#define A 0x10000000ull                 /* 2 MiB aligned */
#define KEEP (A + 4 * HPAGE_SIZE)       /* same 1 GiB: keeps the upper tables */
#define K(t) (&(t)->m.k)
#define CNT(t, c) ((t)->m.st.cnt[CNT_##c])
#define RW (PROT_READ | PROT_WRITE)
#define ANON (MAP_PRIVATE | MAP_ANON)

/* The flushes the guest kernel asks for, counted at its paravirt flush
 * operations (a hypervisor may add flushes of its own: Xen when a freed
 * table's frame changes type, a shadow mode when a shadow page goes), and
 * the hardware's count of page flushes, which must agree. */
static const struct pv_mmu_ops *real_pv;
static uint64_t n_one, n_local;

static void count_one(struct kernel *k, uint64_t va)
{
    n_one++;
    real_pv->flush_tlb_one_user(k, va);
}

static void count_local(struct kernel *k)
{
    n_local++;
    real_pv->flush_tlb_local(k);
}

static struct pv_mmu_ops counting_pv;

static void count_flushes(struct tmachine *t)
{
    real_pv = K(t)->pv;
    counting_pv = *real_pv;
    counting_pv.flush_tlb_one_user = count_one;
    counting_pv.flush_tlb_local = count_local;
    K(t)->pv = &counting_pv;
}

struct fl { uint64_t page, whole, hw_page; };

static struct fl flushes(struct tmachine *t)
{
    return (struct fl){ n_one, n_local, CNT(t, tlb_flush_page) };
}

static void expect(struct tmachine *t, const char *mode, struct fl before, uint64_t page, uint64_t whole,
                   const char *what)
{
    struct fl now = flushes(t);
    if (now.page - before.page != page || now.whole - before.whole != whole)
        fail_msg("%s, %s: %llu INVLPGs and %llu whole flushes, expected %llu and %llu", mode, what,
                 (unsigned long long)(now.page - before.page), (unsigned long long)(now.whole - before.whole),
                 (unsigned long long)page, (unsigned long long)whole);
    assert_int_equal(now.hw_page - before.hw_page, page);
}

static struct task *start(struct tmachine *t)
{
    count_flushes(t);
    struct task *p = kernel_spawn(K(t), 1);
    schedule_to(K(t), p);
    assert_int_equal(sys_mmap(K(t), p, KEEP, PG, RW, ANON, 0, 0), (long)KEEP);
    tm_access_ok(t, KEEP, ACC_WRITE);
    return p;
}

static void munmap_scope(const char *mode)
{
    struct tmachine *t = tm_boot(mode);
    struct task *p = start(t);
    struct fl f;

    /* a one-page VMA alone in its 2 MiB: its PTE and its table go, one INVLPG */
    assert_int_equal(sys_mmap(K(t), p, A, PG, RW, ANON, 0, 0), (long)A);
    tm_access_ok(t, A, ACC_WRITE);
    f = flushes(t);
    assert_int_equal(sys_munmap(K(t), p, A, PG), 0);
    expect(t, mode, f, 1, 0, "munmap freeing a table");
    assert_int_equal(tm_guest_table(t, A, 2), tm_guest_table(t, KEEP, 2));
    assert_int_equal(kread_entry(K(t), tm_guest_table(t, A, 2), pt_index(A, 2)), 0);
    /* the same 2 MiB mapped again elsewhere: a new table, which the walk
     * must find (no walk cache still points at the freed one) */
    assert_int_equal(sys_mmap(K(t), p, A + 256 * PG, PG, RW, ANON, 0, 0), (long)(A + 256 * PG));
    tm_access_ok(t, A + 256 * PG, ACC_WRITE);
    tm_access_ok(t, KEEP, ACC_READ);
    tm_check_all(t);
    assert_int_equal(sys_munmap(K(t), p, A + 256 * PG, PG), 0);

    /* a neighbour keeps the table: one INVLPG */
    assert_int_equal(sys_mmap(K(t), p, A, PG, RW, ANON, 0, 0), (long)A);
    assert_int_equal(sys_mmap(K(t), p, A + 2 * PG, PG, RW, ANON, 0, 0), (long)(A + 2 * PG));
    tm_access_ok(t, A, ACC_WRITE);
    tm_access_ok(t, A + 2 * PG, ACC_WRITE);
    f = flushes(t);
    assert_int_equal(sys_munmap(K(t), p, A, PG), 0);
    expect(t, mode, f, 1, 0, "munmap of one page");
    assert_int_equal(user_access(K(t), A, ACC_READ, &(uint64_t){ 0 }), -EFAULT);
    tm_access_ok(t, A + 2 * PG, ACC_READ);

    /* 1 MiB with one page touched: one INVLPG, not the whole range */
    assert_int_equal(sys_mmap(K(t), p, A + 16 * PG, 256 * PG, RW, ANON, 0, 0), (long)(A + 16 * PG));
    tm_access_ok(t, A + 100 * PG, ACC_WRITE);
    f = flushes(t);
    assert_int_equal(sys_munmap(K(t), p, A + 16 * PG, 256 * PG), 0);
    expect(t, mode, f, 1, 0, "munmap of 1 MiB, one page touched");

    /* nothing mapped in the range, no table freed: no flush */
    assert_int_equal(sys_mmap(K(t), p, A + 16 * PG, 8 * PG, RW, ANON, 0, 0), (long)(A + 16 * PG));
    f = flushes(t);
    assert_int_equal(sys_munmap(K(t), p, A + 16 * PG, 8 * PG), 0);
    expect(t, mode, f, 0, 0, "munmap of untouched pages");

    /* two pages 39 apart: the span is 40 pages, past the ceiling: one whole flush */
    assert_int_equal(sys_mmap(K(t), p, A + 16 * PG, 40 * PG, RW, ANON, 0, 0), (long)(A + 16 * PG));
    tm_access_ok(t, A + 16 * PG, ACC_WRITE);
    tm_access_ok(t, A + 55 * PG, ACC_WRITE);
    f = flushes(t);
    assert_int_equal(sys_munmap(K(t), p, A + 16 * PG, 40 * PG), 0);
    expect(t, mode, f, 0, 1, "munmap of a 40-page span");
    /* and 33 pages apart, at the ceiling: 33 INVLPGs */
    assert_int_equal(sys_mmap(K(t), p, A + 16 * PG, 40 * PG, RW, ANON, 0, 0), (long)(A + 16 * PG));
    tm_access_ok(t, A + 16 * PG, ACC_WRITE);
    tm_access_ok(t, A + 48 * PG, ACC_WRITE);
    f = flushes(t);
    assert_int_equal(sys_munmap(K(t), p, A + 16 * PG, 40 * PG), 0);
    expect(t, mode, f, 33, 0, "munmap of a 33-page span");
    tm_access_ok(t, A + 2 * PG, ACC_READ);
    tm_check_all(t);
    assert_int_equal(t->m.st.cnt[CNT_oracle_stale], 0);
    do_exit(K(t), p);
    assert_int_equal(tm_destroy(t), 0);
}

static void test_munmap_flush_scope(void **state)
{
    (void)state;
    for (unsigned i = 0; i < mode_count(); i++)
        munmap_scope(mode_at(i)->name);
}

/* Huge pages zapped alone: one INVLPG per 2 MiB (the stride of the PMD
 * level), which drops the whole 2 MiB translation, also where the TLB
 * holds it in 4 KiB pieces (hap over 4 KiB EPT leaves, the default). The
 * modes of the native paravirt backend (pv has no huge pages). */
static void huge_munmap(const char *mode, const char *ept_size)
{
    const char *const params[] = { ept_size, NULL };
    {
        struct tmachine *t = tm_boot_params(mode, "memwalk", params);
        struct task *p = start(t);
        assert_int_equal(sys_mmap(K(t), p, A, 2 * HPAGE_SIZE, RW, ANON | MAP_HUGETLB, 0, 0), (long)A);
        tm_access_ok(t, A + 5 * PG, ACC_WRITE);
        tm_access_ok(t, A + HPAGE_SIZE + 7 * PG, ACC_WRITE);
        unsigned pi;
        uint64_t pmd = pmd_table(K(t), p->mm, A, 0, &pi);
        if (!(kread_entry(K(t), pmd, pi) & _PAGE_PSE))
            fail_msg("%s: no huge page", mode);
        struct fl f = flushes(t);
        assert_int_equal(sys_munmap(K(t), p, A, 2 * HPAGE_SIZE), 0);
        expect(t, mode, f, 2, 0, "munmap of two huge pages");
        assert_int_equal(user_access(K(t), A + 5 * PG, ACC_READ, &(uint64_t){ 0 }), -EFAULT);
        /* mapped again with 4 KiB pages: the old 2 MiB translation is gone */
        assert_int_equal(sys_mmap(K(t), p, A, PG, RW, ANON, 0, 0), (long)A);
        tm_access_ok(t, A, ACC_WRITE);
        tm_check_all(t);
        do_exit(K(t), p);
        assert_int_equal(tm_destroy(t), 0);
    }
}

static void test_huge_munmap_stride(void **state)
{
    (void)state;
    for (unsigned i = 0; i < mode_count(); i++)
        if (strncmp(mode_at(i)->name, "pv", 2)) {
            huge_munmap(mode_at(i)->name, "hap.ept_page_size=4k");
            huge_munmap(mode_at(i)->name, "hap.ept_page_size=2m");
        }
}

/* The hardware model: INVLPG of one address empties the paging-structure
 * caches of the PCID, for every address. */
static void test_invlpg_drops_walk_caches(void **state)
{
    (void)state;
    struct tmachine *t = tm_boot("native");
    struct task *p = start(t);
    assert_int_equal(sys_mmap(K(t), p, A, PG, RW, ANON, 0, 0), (long)A);
    tm_access_ok(t, A, ACC_WRITE);
    tm_access_ok(t, KEEP, ACC_READ);   /* the walk to KEEP's page cached its upper entries */
    struct cpu *c = &t->m.cpu;
    uint64_t table;
    uint8_t perms;
    assert_true(c->pwc.lvl[2].valid + c->pwc.lvl[3].valid + c->pwc.lvl[4].valid > 0);
    assert_int_not_equal(pwc_lookup(&c->pwc, KEEP, c->pcid, &table, &perms), 4);
    cpu_invlpg(c, A);
    assert_int_equal(pwc_lookup(&c->pwc, KEEP, c->pcid, &table, &perms), 4);
    do_exit(K(t), p);
    assert_int_equal(tm_destroy(t), 0);
}

static void mprotect_scope(const char *mode)
{
    struct tmachine *t = tm_boot(mode);
    struct task *p = start(t);
    struct mm *mm = p->mm;
    assert_int_equal(sys_mmap(K(t), p, A, 8 * PG, RW, ANON, 0, 0), (long)A);
    uint64_t f2 = tm_access_ok(t, A + 2 * PG, ACC_WRITE);
    tm_access_ok(t, A + 3 * PG, ACC_WRITE);
    uint32_t nvma = mm->nvma;
    uint64_t writes = CNT(t, pte_writes);
    struct fl f = flushes(t);

    /* the same protection, over the whole VMA and over a part of it:
     * nothing stored, nothing split, nothing flushed */
    assert_int_equal(sys_mprotect(K(t), p, A, 8 * PG, RW), 0);
    assert_int_equal(sys_mprotect(K(t), p, A + 2 * PG, 2 * PG, RW), 0);
    expect(t, mode, f, 0, 0, "mprotect to the same protection");
    assert_int_equal(CNT(t, pte_writes), writes);
    assert_int_equal(mm->nvma, nvma);
    assert_int_equal(tm_access_ok(t, A + 2 * PG, ACC_WRITE), f2);

    /* write taken away: the two mapped pages change and are flushed */
    f = flushes(t);
    assert_int_equal(sys_mprotect(K(t), p, A, 8 * PG, PROT_READ), 0);
    expect(t, mode, f, 2, 0, "mprotect dropping write");
    assert_int_equal(CNT(t, pte_writes), writes + 2);
    assert_int_equal(user_access(K(t), A + 2 * PG, ACC_WRITE, &(uint64_t){ 0 }), -EFAULT);
    assert_int_equal(tm_access_ok(t, A + 2 * PG, ACC_READ), f2);

    /* exec added: the entries change (NX cleared), a widening: no flush */
    f = flushes(t);
    assert_int_equal(sys_mprotect(K(t), p, A, 8 * PG, PROT_READ | PROT_EXEC), 0);
    expect(t, mode, f, 0, 0, "mprotect adding exec");
    assert_int_equal(CNT(t, pte_writes), writes + 4);
    assert_int_equal(tm_access_ok(t, A + 3 * PG, ACC_EXEC), tm_access_ok(t, A + 3 * PG, ACC_READ));

    /* exec taken away again (NX set): flushed */
    f = flushes(t);
    assert_int_equal(sys_mprotect(K(t), p, A, 8 * PG, PROT_READ), 0);
    expect(t, mode, f, 2, 0, "mprotect dropping exec");
    assert_int_equal(user_access(K(t), A + 3 * PG, ACC_EXEC, &(uint64_t){ 0 }), -EFAULT);

    /* a part whose protection changes but that maps nothing: split, no flush */
    f = flushes(t);
    assert_int_equal(sys_mprotect(K(t), p, A + 5 * PG, 2 * PG, RW), 0);
    expect(t, mode, f, 0, 0, "mprotect of unmapped pages");
    assert_int_equal(mm->nvma, nvma + 2);
    tm_access_ok(t, A + 5 * PG, ACC_WRITE);
    tm_check_all(t);
    assert_int_equal(t->m.st.cnt[CNT_oracle_stale], 0);
    do_exit(K(t), p);
    assert_int_equal(tm_destroy(t), 0);
}

static void test_mprotect_flush_scope(void **state)
{
    (void)state;
    for (unsigned i = 0; i < mode_count(); i++)
        mprotect_scope(mode_at(i)->name);
}

static void thread_exit(const char *mode)
{
    struct tmachine *t = tm_boot(mode);
    struct kernel *k = K(t);
    struct task *p = start(t);
    struct mm *mm = p->mm;
    for (uint32_t i = 0; i < 3; i++) {
        assert_int_equal(do_clone(k, p, 10 + i, CLONE_VM), 10 + i);
        struct task *th = task_find(k, 10 + i);
        uint64_t sw = CNT(t, ctx_switch);
        schedule_to(k, th);                   /* the same mm: no CR3 write */
        tm_access_ok(t, KEEP + 8, ACC_WRITE);
        do_exit(k, th);                       /* p still uses the mm: CR3 stays */
        assert_ptr_equal(k->pcpu[0].loaded_mm, mm);
        assert_int_equal(mm->users, 1);
        schedule_to(k, p);
        assert_int_equal(CNT(t, ctx_switch), sw);
        tm_access_ok(t, KEEP, ACC_READ);
        tm_check_all(t);
    }
    /* a thread exits while another process runs next: that one's switch */
    assert_int_equal(do_clone(k, p, 20, CLONE_VM), 20);
    struct task *q = kernel_spawn(k, 2);
    schedule_to(k, task_find(k, 20));
    uint64_t sw = CNT(t, ctx_switch);
    do_exit(k, task_find(k, 20));
    assert_int_equal(CNT(t, ctx_switch), sw);
    schedule_to(k, q);
    assert_int_equal(CNT(t, ctx_switch), sw + 1);
    assert_ptr_equal(k->pcpu[0].loaded_mm, q->mm);
    /* the last user's exit leaves the mm for the kernel's tables */
    schedule_to(k, p);
    sw = CNT(t, ctx_switch);
    do_exit(k, p);
    assert_int_equal(CNT(t, ctx_switch), sw + 1);
    assert_ptr_equal(k->pcpu[0].loaded_mm, &k->init_mm);
    tm_check_all(t);
    do_exit(k, q);
    assert_int_equal(tm_destroy(t), 0);
}

static void test_thread_exit_keeps_cr3(void **state)
{
    (void)state;
    for (unsigned i = 0; i < mode_count(); i++)
        thread_exit(mode_at(i)->name);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_munmap_flush_scope),
        cmocka_unit_test(test_huge_munmap_stride),
        cmocka_unit_test(test_invlpg_drops_walk_caches),
        cmocka_unit_test(test_mprotect_flush_scope),
        cmocka_unit_test(test_thread_exit_keeps_cr3),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_fault_around.c: fault-around (guest.fault_around_bytes; Linux
 * mm/memory.c do_fault_around with mm/filemap.c filemap_map_pages).
 *
 * A read fault on a file page maps, in its window (fault_around_bytes
 * rounded down to a power of two, aligned to it, clamped to the VMA and to
 * the PTE table), every page the cache already holds whose entry is none,
 * each as the fault's own entry would be; a page not cached is left to its
 * own fault, as is every page of a write fault's window. shmem's mappings
 * do it too, below the object's size. In every mode the counts are the
 * same, the oracle agrees with every entry made, and the kernel's and the
 * hypervisor's self-checks pass. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>

#include "guest/kernel.h"
#include "testutil.h"

#define PG PAGE_SIZE
#define A 0x10000000ull            /* the filler's mapping */
#define B 0x20000000ull            /* the tested mapping: 2 MiB aligned */
#define INO 91
#define INO2 92
#define CNT(t, c) ((t)->m.st.cnt[CNT_##c])

static const char *const MODES[] = { "native", "pv", "pv-pibooster", "tsp", "ssp", "hap", "selective" };
#define NMODES (sizeof MODES / sizeof MODES[0])

static uint32_t next_pid;

static struct tmachine *boot(const char *mode, const char *bytes)
{
    next_pid = 1;
    char p[64];
    snprintf(p, sizeof p, "guest.fault_around_bytes=%s", bytes);
    const char *const params[] = { p, NULL };
    return tm_boot_params(mode, "memwalk", params);
}

/* A process that maps pages [0, npages) of file ino at A and reads those
 * whose bit is set in want, so that the cache holds them. Returns it (current). */
static struct task *fill(struct tmachine *t, uint32_t ino, uint64_t npages, uint64_t want)
{
    struct kernel *k = &t->m.k;
    struct task *p = kernel_spawn(k, next_pid++);
    schedule_to(k, p);
    assert_int_equal(sys_mmap(k, p, A + (uint64_t)ino * 0x1000000, npages * PG, PROT_READ, MAP_PRIVATE, ino, 0),
                     (long)(A + (uint64_t)ino * 0x1000000));
    for (uint64_t i = 0; i < npages && i < 64; i++)
        if (want >> i & 1)
            tm_access_ok(t, A + (uint64_t)ino * 0x1000000 + i * PG, ACC_READ);
    return p;
}

/* The cache's frame for (ino, pgoff), as the filler maps it. */
static uint64_t cached(struct tmachine *t, struct task *filler, uint32_t ino, uint64_t pgoff)
{
    uint64_t mfn = UINT64_MAX;
    assert_int_equal(oracle_translate(&t->m, filler->mm, A + (uint64_t)ino * 0x1000000 + pgoff * PG, ACC_READ, &mfn),
                     0);
    return mfn;
}

static pte_t leaf(struct tmachine *t, uint64_t va)
{
    return kread_entry(&t->m.k, tm_guest_table(t, va, 1), pt_index(va, 1));
}

static struct task *spawn_current(struct tmachine *t)
{
    struct task *p = kernel_spawn(&t->m.k, next_pid++);
    schedule_to(&t->m.k, p);
    return p;
}

/* Process p, current, maps npages of INO (from offset 0) at table index
 * first of B and reads the page at index `read`: the pages mapped around it. */
static uint64_t map_and_read(struct tmachine *t, struct task *p, uint64_t first, uint64_t npages, uint64_t read)
{
    assert_int_equal(sys_mmap(&t->m.k, p, B + first * PG, npages * PG, PROT_READ, MAP_PRIVATE, INO, 0),
                     (long)(B + first * PG));
    uint64_t around = CNT(t, pf_around);
    tm_access_ok(t, B + read * PG, ACC_READ);
    return CNT(t, pf_around) - around;
}

/* Entries [lo, hi) of B's table present, the others of [0, upto) none. */
static void expect_mapped(struct tmachine *t, uint64_t lo, uint64_t hi, uint64_t upto)
{
    for (uint64_t i = 0; i < upto; i++)
        if ((i >= lo && i < hi) != (pte_present(leaf(t, B + i * PG)) != 0))
            fail_msg("index %llu: entry %#llx", (unsigned long long)i, (unsigned long long)leaf(t, B + i * PG));
}

static void collect(void *task, void *arg)
{
    struct task ***next = arg;
    *(*next)++ = task;
}

/* The self-checks, every task's exit (in pid order), then a shutdown that
 * finds no frame leaked. */
static void finish(struct tmachine *t)
{
    tm_check_all(t);
    struct kernel *k = &t->m.k;
    struct task *all[16], **next = all;
    assert_true(k->ntasks <= 16);
    task_for_each(k, collect, &next);
    for (struct task **p = all; p < next; p++)
        do_exit(k, *p);
    assert_int_equal(tm_destroy(t), 0);
}

/* 64 KiB: a read at page 21 maps 16..31 with one fault; reads there take
 * none; page 32 opens the next window. Same counts in every mode. */
static void test_window(void **state)
{
    (void)state;
    for (unsigned m = 0; m < NMODES; m++) {
        struct tmachine *t = boot(MODES[m], "65536");
        struct kernel *k = &t->m.k;
        struct task *f = fill(t, INO, 64, ~0ull);
        schedule_to(k, f);
        uint64_t frame21 = cached(t, f, INO, 21), frame16 = cached(t, f, INO, 16);
        struct task *p = spawn_current(t);
        assert_int_equal(sys_mmap(k, p, B, 64 * PG, PROT_READ, MAP_PRIVATE, INO, 0), (long)B);
        uint64_t pf = CNT(t, guest_pf), around = CNT(t, pf_around), file = CNT(t, pf_file), copies = CNT(t, page_copy);
        assert_int_equal(tm_access_ok(t, B + 21 * PG, ACC_READ), frame21);
        assert_int_equal(CNT(t, guest_pf) - pf, 1);
        assert_int_equal(CNT(t, pf_file) - file, 1);
        assert_int_equal(CNT(t, pf_around) - around, 15);
        assert_int_equal(CNT(t, page_copy), copies);          /* nothing read from the file */
        assert_int_equal(p->mm->rss, 16);
        for (uint64_t i = 0; i < 64; i++) {
            pte_t e = leaf(t, B + i * PG);
            if ((i >= 16 && i < 32) != (pte_present(e) != 0))
                fail_msg("%s: page %llu: entry %#llx", MODES[m], (unsigned long long)i, (unsigned long long)e);
            if (pte_present(e) && ((e & _PAGE_RW) || !(e & _PAGE_NX) || !(e & _PAGE_USER) || !(e & _PAGE_ACCESSED)))
                fail_msg("%s: page %llu mapped as %#llx (a private file page: read-only, no exec, young)", MODES[m],
                         (unsigned long long)i, (unsigned long long)e);
        }
        for (uint64_t i = 16; i < 32; i++)
            assert_int_equal(tm_access_ok(t, B + i * PG, ACC_READ), cached(t, f, INO, i));
        assert_int_equal(tm_access_ok(t, B + 16 * PG, ACC_READ), frame16);
        assert_int_equal(CNT(t, guest_pf) - pf, 1);
        tm_access_ok(t, B + 32 * PG, ACC_READ);
        assert_int_equal(CNT(t, guest_pf) - pf, 2);
        assert_int_equal(CNT(t, pf_around) - around, 30);
        assert_int_equal(p->mm->rss, 32);
        finish(t);
    }
}

/* An exec fault faults around as a read (do_read_fault), its entries
 * executable; under Xen PV each entry is its own mmu_update: a fault in a
 * table that exists takes one hypercall per page mapped and the iret. */
static void test_exec_and_pv_updates(void **state)
{
    (void)state;
    struct tmachine *t = boot("pv", "65536");
    struct kernel *k = &t->m.k;
    fill(t, INO, 64, ~0ull);
    struct task *p = spawn_current(t);
    assert_int_equal(sys_mmap(k, p, B, 64 * PG, PROT_READ | PROT_EXEC, MAP_PRIVATE, INO, 0), (long)B);
    tm_access_ok(t, B, ACC_EXEC);                       /* builds the tables, maps 0..15 */
    uint64_t around = CNT(t, pf_around), hc = CNT(t, hypercalls) - CNT(t, hc_iret);
    tm_access_ok(t, B + 21 * PG, ACC_EXEC);
    assert_int_equal(CNT(t, pf_around) - around, 15);
    assert_int_equal(CNT(t, hypercalls) - CNT(t, hc_iret) - hc, 16);
    for (uint64_t i = 16; i < 32; i++) {
        pte_t e = leaf(t, B + i * PG);
        if (!pte_present(e) || (e & _PAGE_NX) || (e & _PAGE_RW))
            fail_msg("page %llu mapped as %#llx (an executable private file page)", (unsigned long long)i,
                     (unsigned long long)e);
    }
    finish(t);
}

/* The window is clamped to the VMA: a mapping of file pages 0..9 at table
 * index 3 read at index 5 maps indices 3..12 (file pages 0..9), and
 * nothing of the next VMA (another file, cached too). */
static void test_clamped_to_vma(void **state)
{
    (void)state;
    struct tmachine *t = boot("native", "65536");
    struct task *f = fill(t, INO, 16, ~0ull);
    fill(t, INO2, 16, ~0ull);
    struct task *p = spawn_current(t);
    assert_int_equal(sys_mmap(&t->m.k, p, B + 13 * PG, 3 * PG, PROT_READ, MAP_PRIVATE, INO2, 0), (long)(B + 13 * PG));
    assert_int_equal(map_and_read(t, p, 3, 10, 5), 9);
    expect_mapped(t, 3, 13, 16);
    /* each entry maps its own file page */
    uint64_t pf = CNT(t, guest_pf);
    for (uint64_t i = 3; i < 13; i++)
        assert_int_equal(tm_access_ok(t, B + i * PG, ACC_READ), cached(t, f, INO, i - 3));
    assert_int_equal(CNT(t, guest_pf), pf);
    finish(t);
}

/* The window starts at the VMA's start when its aligned start lies below
 * it, and keeps its size from there: a VMA from table index 3 to 42 read
 * at index 5 maps 3..18 (Linux's from_pte, then to_pte = from_pte + nr). */
static void test_window_shifted(void **state)
{
    (void)state;
    struct tmachine *t = boot("pv", "65536");
    fill(t, INO, 40, ~0ull);
    assert_int_equal(map_and_read(t, spawn_current(t), 3, 40, 5), 15);
    expect_mapped(t, 3, 19, 48);
    finish(t);
}

/* And to the PTE table: with the largest window (2 MiB, 512 entries) a
 * VMA across a table boundary is mapped one table at a time. */
static void test_clamped_to_table(void **state)
{
    (void)state;
    struct tmachine *t = boot("hap", "2097152");
    struct kernel *k = &t->m.k;
    fill(t, INO, 8, ~0ull);
    struct task *p = spawn_current(t);
    assert_int_equal(sys_mmap(k, p, B + 508 * PG, 8 * PG, PROT_READ, MAP_PRIVATE, INO, 0), (long)(B + 508 * PG));
    uint64_t around = CNT(t, pf_around);
    tm_access_ok(t, B + 509 * PG, ACC_READ);
    assert_int_equal(CNT(t, pf_around) - around, 3);        /* 508..511 */
    assert_int_equal(p->mm->rss, 4);
    tm_access_ok(t, B + 515 * PG, ACC_READ);
    assert_int_equal(CNT(t, pf_around) - around, 6);        /* 512..515 */
    assert_int_equal(p->mm->rss, 8);
    finish(t);
}

/* Only cached pages are mapped; the faulting page, not cached, is read as
 * without fault-around. Pages of a write fault's window stay unmapped, and
 * a present entry (a private copy) is left as it is. */
static void test_cached_only(void **state)
{
    (void)state;
    for (unsigned m = 0; m < NMODES; m++) {
        struct tmachine *t = boot(MODES[m], "65536");
        struct kernel *k = &t->m.k;
        struct task *f = fill(t, INO, 64, 0xffull);              /* pages 0..7 */
        struct task *p = spawn_current(t);
        assert_int_equal(sys_mmap(k, p, B, 64 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, INO, 0), (long)B);
        uint64_t around = CNT(t, pf_around), copies = CNT(t, page_copy);
        uint64_t copy3 = tm_access_ok(t, B + 3 * PG, ACC_WRITE);   /* do_cow_fault: no fault-around */
        assert_int_equal(CNT(t, pf_around), around);
        assert_int_not_equal(copy3, cached(t, f, INO, 3));
        assert_int_equal(CNT(t, page_copy) - copies, 1);
        tm_access_ok(t, B + 10 * PG, ACC_READ);                    /* not cached: read from the file */
        assert_int_equal(CNT(t, page_copy) - copies, 2);
        assert_int_equal(CNT(t, pf_around) - around, 7);           /* 0..7 but 3 */
        for (uint64_t i = 0; i < 16; i++)
            if ((i < 8 || i == 10) != (pte_present(leaf(t, B + i * PG)) != 0))
                fail_msg("%s: index %llu: entry %#llx", MODES[m], (unsigned long long)i,
                         (unsigned long long)leaf(t, B + i * PG));
        schedule_to(k, p);
        assert_int_equal(tm_access_ok(t, B + 3 * PG, ACC_READ), copy3);
        assert_int_equal(tm_access_ok(t, B + 2 * PG, ACC_READ), cached(t, f, INO, 2));
        /* a write to a page fault-around mapped read-only breaks COW */
        uint64_t cow = CNT(t, pf_cow);
        assert_int_not_equal(tm_access_ok(t, B + 2 * PG, ACC_WRITE), cached(t, f, INO, 2));
        assert_int_equal(CNT(t, pf_cow) - cow, 1);
        tm_check_all(t);
        finish(t);
    }
}

/* shmem: a child refaults its parent's shared anonymous mapping (fork
 * copies no entry of it); one read maps the whole window, writable, dirty
 * where the parent wrote the page and clean where it only read it, and
 * nothing past the object's size (the VMA, grown by mremap, goes on). */
static void test_shmem(void **state)
{
    (void)state;
    for (unsigned m = 0; m < NMODES; m++) {
        struct tmachine *t = boot(MODES[m], "65536");
        struct kernel *k = &t->m.k;
        struct task *par = kernel_spawn(k, next_pid++);
        schedule_to(k, par);
        assert_int_equal(sys_mmap(k, par, B, 12 * PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANON, 0, 0), (long)B);
        for (uint64_t i = 0; i < 12; i++)
            tm_access_ok(t, B + i * PG, i < 10 ? ACC_WRITE : ACC_READ);   /* 10, 11: clean */
        /* grown by mremap: the VMA reaches past the object's 12 pages */
        assert_int_equal(sys_mremap(k, par, B, 12 * PG, B, 16 * PG), (long)B);
        long child = do_fork(k, par, next_pid++);
        assert_true(child > 0);
        struct task *c = task_find(k, (uint32_t)child);
        assert_non_null(c);
        schedule_to(k, c);
        assert_false(pte_present(leaf(t, B)));
        uint64_t around = CNT(t, pf_around), pf = CNT(t, guest_pf);
        schedule_to(k, par);
        uint64_t frame5 = tm_access_ok(t, B + 5 * PG, ACC_READ);
        schedule_to(k, c);
        assert_int_equal(tm_access_ok(t, B + 5 * PG, ACC_READ), frame5);
        assert_int_equal(CNT(t, pf_around) - around, 11);
        for (uint64_t i = 0; i < 16; i++) {
            pte_t e = leaf(t, B + i * PG);
            if ((i < 12) != (pte_present(e) != 0) || (i < 12 && !(e & _PAGE_RW)) ||
                (i < 12 && !(e & _PAGE_DIRTY) != (i >= 10)))
                fail_msg("%s: index %llu: entry %#llx", MODES[m], (unsigned long long)i, (unsigned long long)e);
        }
        for (uint64_t i = 0; i < 12; i++)
            tm_access_ok(t, B + i * PG, ACC_WRITE);
        assert_int_equal(CNT(t, guest_pf) - pf, 1);
        tm_check_all(t);
        finish(t);
    }
}

/* The size is rounded down to a power of two (40000: 8 pages), and a page
 * or less is off. */
static void test_sizes(void **state)
{
    (void)state;
    static const struct { const char *bytes; uint64_t around; } cases[] = {
        { "40000", 7 }, { "8192", 1 }, { "4096", 0 }, { "0", 0 }, { "4095", 0 },
    };
    for (unsigned c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        struct tmachine *t = boot("native", cases[c].bytes);
        struct kernel *k = &t->m.k;
        fill(t, INO, 16, ~0ull);
        struct task *p = spawn_current(t);
        assert_int_equal(sys_mmap(k, p, B, 16 * PG, PROT_READ, MAP_PRIVATE, INO, 0), (long)B);
        uint64_t around = CNT(t, pf_around);
        tm_access_ok(t, B + 9 * PG, ACC_READ);
        if (CNT(t, pf_around) - around != cases[c].around)
            fail_msg("fault_around_bytes=%s: %llu pages mapped around, want %llu", cases[c].bytes,
                     (unsigned long long)(CNT(t, pf_around) - around), (unsigned long long)cases[c].around);
        finish(t);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_window),
        cmocka_unit_test(test_exec_and_pv_updates),
        cmocka_unit_test(test_clamped_to_vma),
        cmocka_unit_test(test_window_shifted),
        cmocka_unit_test(test_clamped_to_table),
        cmocka_unit_test(test_cached_only),
        cmocka_unit_test(test_shmem),
        cmocka_unit_test(test_sizes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

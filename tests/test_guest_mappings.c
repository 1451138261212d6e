/* test_guest_mappings.c: mapping semantics where the guest kernel must do
 * what Linux does (three findings of an attack review, each failing on the
 * code before its fix):
 *  - PROT_NONE on a page already touched: the entry becomes PROTNONE (not
 *    present, frame kept), so a read faults and the task gets SIGSEGV in
 *    every mode; mprotect back finds the same frame; fork shares it, mremap
 *    moves it, munmap and exit free it (--check counts every frame back);
 *    a huge pmd likewise; the entry's frame stored inverted (Linux's L1TF
 *    mitigation; under Xen PV the pseudo-physical frame), and a kernel
 *    without it (guest.l1tf_invert=false) under pv is crashed by Xen's
 *    L1TF check: the run fails with one line;
 *  - vm.mmap_min_addr: mmap, mremap, brk and exec below it refused (EPERM),
 *    guest.mmap_min_addr=0 allows page 0 again; a replay refused there names
 *    the recording kernel's where the trace's header gives it;
 *  - the drivers' ring buffers come out of guest RAM in every mode, so the
 *    same guest.ram_mb leaves the workload the same free memory.
 * The replays of the review's traces (through $MEMVIRT) check how a run
 * reports each, and a PROTNONE round trip replays under --check. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guest/kernel.h"
#include "trace/build.h"
#include "trace/writer.h"
#include "testutil.h"

#define A 0x10000000ull            /* 4 KiB pages */
#define H 0x40000000ull            /* a 2 MiB-aligned region for a huge page */
#define HUGE (2ull << 20)

static const char *const MODES[] = { "native", "pv", "pv-pibooster", "tsp", "ssp", "hap", "selective" };
#define NMODES (sizeof MODES / sizeof MODES[0])

static void expect_checks(struct tmachine *t)
{
    char msg[512] = "";
    if (kernel_check(&t->m.k, msg, sizeof msg))
        fail_msg("kernel_check: %s", msg);
    if (machine_check(&t->m, msg, sizeof msg))
        fail_msg("machine_check: %s", msg);
}

/* The guest's leaf entry for va in the current mm. */
static pte_t leaf(struct tmachine *t, uint64_t va)
{
    return kread_entry(&t->m.k, tm_guest_table(t, va, 1), pt_index(va, 1));
}

/* ---- PROT_NONE ------------------------------------------------------------------- */

/* Write, PROT_NONE, read: SIGSEGV (bad_area_access_error), the entry not
 * present but still naming the page; back to PROT_READ: the read finds the
 * same machine frame, with no new page. */
static void test_protnone_touched_faults(void **state)
{
    (void)state;
    for (unsigned m = 0; m < NMODES; m++) {
        struct tmachine *t = tm_boot(MODES[m]);
        struct kernel *k = &t->m.k;
        struct task *p = tm_spawn_touching(t, A, 4);
        uint64_t mfn0, mfn;
        assert_int_equal(user_access(k, A, ACC_READ, &mfn0), 0);
        uint64_t pfn = k->pv->entry_pfn(k, leaf(t, A));
        uint64_t rss = p->mm->rss, segv = t->m.st.cnt[CNT_segv];
        assert_int_equal(sys_mprotect(k, p, A, 4 * PAGE_SIZE, 0), 0);
        pte_t e = leaf(t, A);
        if (pte_present(e) || !pte_protnone(e) || k->pv->entry_pfn(k, e) != pfn)
            fail_msg("%s: after PROT_NONE the pte is %#llx", MODES[m], (unsigned long long)e);
        assert_int_equal(p->mm->rss, rss);
        expect_checks(t);
        if (user_access(k, A, ACC_READ, &mfn) != -EFAULT)
            fail_msg("%s: a read of a PROT_NONE page succeeded", MODES[m]);
        assert_int_equal(t->m.st.cnt[CNT_segv], segv + 1);
        assert_int_equal(k->segv_code, KSEGV_ACCERR);
        assert_int_equal(user_access(k, A + PAGE_SIZE, ACC_WRITE, &mfn), -EFAULT);   /* untouched */
        assert_int_equal(sys_mprotect(k, p, A, 4 * PAGE_SIZE, PROT_READ), 0);
        assert_true(pte_present(leaf(t, A)) && !(leaf(t, A) & (_PAGE_RW | _PAGE_PROTNONE)));
        uint64_t allocs = t->m.st.cnt[CNT_buddy_alloc];
        assert_int_equal(user_access(k, A, ACC_READ, &mfn), 0);
        assert_int_equal(mfn, mfn0);
        assert_int_equal(user_access(k, A, ACC_WRITE, &mfn), -EFAULT);
        assert_int_equal(sys_mprotect(k, p, A, 4 * PAGE_SIZE, PROT_READ | PROT_WRITE), 0);
        assert_int_equal(user_access(k, A, ACC_WRITE, &mfn), 0);   /* the page is ours alone: reused */
        assert_int_equal(mfn, mfn0);
        assert_int_equal(t->m.st.cnt[CNT_buddy_alloc], allocs);
        expect_checks(t);
        do_exit(k, p);
        if (tm_destroy(t))
            fail_msg("%s: frames leaked", MODES[m]);
    }
}

/* Linux's L1TF mitigation in every mode: PROT_NONE stores the entry's
 * frame inverted (under Xen PV the pseudo-physical frame, not the machine
 * one); back to read-write the entry names the same page again (the
 * machine frame under PV), whose contents are untouched and no page is
 * allocated. guest.l1tf_invert=false (a kernel before 4.19) keeps the
 * frame as it is, natively. */
static void test_protnone_inverted_round_trip(void **state)
{
    (void)state;
    for (unsigned m = 0; m <= NMODES; m++) {
        const char *const old_kernel[] = { "guest.l1tf_invert=false", NULL };
        int invert = m < NMODES;
        const char *mode = invert ? MODES[m] : "native";
        struct tmachine *t = invert ? tm_boot(mode) : tm_boot_params(mode, "memwalk", old_kernel);
        struct kernel *k = &t->m.k;
        int pv = !strncmp(mode, "pv", 2);
        struct task *p = tm_spawn_touching(t, A, 4);
        uint64_t mfn0, mfn;
        assert_int_equal(user_access(k, A, ACC_WRITE, &mfn0), 0);
        pmem_write(&t->m.mem, mfn0, 7, 0x5ca1ab1e0ddba11ull);    /* the page's contents */
        pte_t e0 = leaf(t, A);
        uint64_t pfn = k->pv->entry_pfn(k, e0);
        assert_int_equal(pte_frame(e0), pv ? mfn0 : pfn);
        if (pv)
            assert_true(pfn != mfn0);          /* the check below tells them apart */
        uint64_t allocs = t->m.st.cnt[CNT_buddy_alloc];
        assert_int_equal(sys_mprotect(k, p, A, 4 * PAGE_SIZE, 0), 0);
        pte_t e = leaf(t, A);
        uint64_t want = invert ? (~pfn & (PTE_FRAME_MASK >> PAGE_SHIFT)) : pfn;
        if (!pte_protnone(e) || pte_frame(e) != want)
            fail_msg("%s: PROTNONE pte %#llx, frame bits %#llx, expected %#llx (pfn %#llx)", mode,
                     (unsigned long long)e, (unsigned long long)pte_frame(e), (unsigned long long)want,
                     (unsigned long long)pfn);
        assert_int_equal(k->pv->entry_pfn(k, e), pfn);
        expect_checks(t);
        assert_int_equal(user_access(k, A, ACC_READ, &mfn), -EFAULT);
        assert_int_equal(sys_mprotect(k, p, A, 4 * PAGE_SIZE, PROT_READ | PROT_WRITE), 0);
        e = leaf(t, A);
        assert_true(pte_present(e) && !(e & _PAGE_PROTNONE));
        assert_int_equal(pte_frame(e), pv ? mfn0 : pfn);
        assert_int_equal(user_access(k, A, ACC_WRITE, &mfn), 0);
        assert_int_equal(mfn, mfn0);
        assert_int_equal(pmem_read(&t->m.mem, mfn0, 7), 0x5ca1ab1e0ddba11ull);
        assert_int_equal(t->m.st.cnt[CNT_buddy_alloc], allocs);
        expect_checks(t);
        do_exit(k, p);
        if (tm_destroy(t))
            fail_msg("%s: frames leaked", mode);
    }
}

/* A PROTNONE page through fork (shared, counted twice), mremap (moved with
 * its frame), munmap in the child and exit in the parent: every frame given
 * back, the checks passing at each step. */
static void test_protnone_fork_mremap_unmap(void **state)
{
    (void)state;
    for (unsigned m = 0; m < NMODES; m++) {
        struct tmachine *t = tm_boot(MODES[m]);
        struct kernel *k = &t->m.k;
        struct task *p = tm_spawn_touching(t, A, 4);
        uint64_t mfn;
        assert_int_equal(user_access(k, A + PAGE_SIZE, ACC_WRITE, &mfn), 0);
        uint64_t pfn = k->pv->entry_pfn(k, leaf(t, A));
        assert_int_equal(sys_mprotect(k, p, A, 2 * PAGE_SIZE, 0), 0);
        assert_true(do_clone(k, p, 2, 0) >= 0);
        assert_int_equal(page_of(k, pfn)->count, 2);
        struct task *c = task_find(k, 2);
        schedule_to(k, c);
        assert_true(pte_protnone(leaf(t, A)));
        assert_int_equal(c->mm->rss, 2);
        expect_checks(t);
        assert_int_equal(sys_mremap(k, c, A, PAGE_SIZE, A + 0x100000, PAGE_SIZE), (long)(A + 0x100000));
        pte_t e = leaf(t, A + 0x100000);
        assert_true(pte_protnone(e) && k->pv->entry_pfn(k, e) == pfn);
        assert_int_equal(user_access(k, A + 0x100000, ACC_READ, &mfn), -EFAULT);
        expect_checks(t);
        assert_int_equal(sys_munmap(k, c, A + 0x100000, PAGE_SIZE), 0);
        assert_int_equal(page_of(k, pfn)->count, 1);
        expect_checks(t);
        do_exit(k, c);
        schedule_to(k, p);
        expect_checks(t);
        do_exit(k, p);
        if (tm_destroy(t))
            fail_msg("%s: frames leaked", MODES[m]);
    }
}

/* A huge pmd made PROT_NONE stays one huge PROTNONE entry (change_huge_pmd);
 * a read faults; PROT_NONE over half of it splits it into PROTNONE ptes. */
static void test_protnone_huge(void **state)
{
    (void)state;
    static const char *const huge_modes[] = { "native", "hap" };
    for (unsigned m = 0; m < 2; m++) {
        struct tmachine *t = tm_boot(huge_modes[m]);
        struct kernel *k = &t->m.k;
        struct task *p = kernel_spawn(k, 1);
        schedule_to(k, p);
        uint64_t mfn0, mfn;
        assert_int_equal(sys_mmap(k, p, H, HUGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANON | MAP_HUGETLB, 0, 0),
                         (long)H);
        assert_int_equal(user_access(k, H + 5 * PAGE_SIZE, ACC_WRITE, &mfn0), 0);
        uint64_t l2 = tm_guest_table(t, H, 2);
        assert_true(pte_present(kread_entry(k, l2, pt_index(H, 2))));
        uint64_t head = k->pv->entry_pfn(k, kread_entry(k, l2, pt_index(H, 2)));
        assert_int_equal(sys_mprotect(k, p, H, HUGE, 0), 0);
        pte_t pe = kread_entry(k, l2, pt_index(H, 2));
        assert_true(pte_protnone(pe) && (pe & _PAGE_PSE));
        /* pfn_pmd's inversion: the 2 MiB frame's bits only, bits 12-20 clear */
        assert_int_equal(pe & PTE_FRAME_MASK, ~(head << PAGE_SHIFT) & PMD_FRAME_MASK);
        assert_int_equal(k->pv->entry_pfn(k, pe), head);
        expect_checks(t);
        assert_int_equal(user_access(k, H + 5 * PAGE_SIZE, ACC_READ, &mfn), -EFAULT);
        assert_int_equal(sys_mprotect(k, p, H, HUGE / 2, PROT_READ), 0);     /* splits */
        assert_true(pte_protnone(leaf(t, H + HUGE / 2)));
        assert_true(pte_present(leaf(t, H + 5 * PAGE_SIZE)));
        expect_checks(t);
        assert_int_equal(user_access(k, H + 5 * PAGE_SIZE, ACC_READ, &mfn), 0);
        assert_int_equal(mfn, mfn0);
        assert_int_equal(user_access(k, H + HUGE / 2, ACC_READ, &mfn), -EFAULT);
        do_exit(k, p);
        assert_int_equal(tm_destroy(t), 0);
    }
}

/* ---- vm.mmap_min_addr -------------------------------------------------------------- */

static void test_mmap_min_addr(void **state)
{
    (void)state;
    for (unsigned m = 0; m < NMODES; m++) {
        struct tmachine *t = tm_boot(MODES[m]);
        struct kernel *k = &t->m.k;
        assert_int_equal(k->cfg.mmap_min_addr, 65536);
        struct task *p = tm_spawn_touching(t, A, 1);
        const unsigned anon = MAP_PRIVATE | MAP_ANON;
        assert_int_equal(sys_mmap(k, p, 0, PAGE_SIZE, PROT_READ | PROT_WRITE, anon, 0, 0), -EPERM);
        assert_int_equal(sys_mmap(k, p, 0xf000, 2 * PAGE_SIZE, PROT_READ, anon, 0, 0), -EPERM);
        assert_int_equal(sys_mmap(k, p, 0x10000, PAGE_SIZE, PROT_READ, anon, 0, 0), 0x10000);
        assert_null(find_vma(p->mm, 0));
        uint64_t mfn;
        assert_int_equal(user_access(k, 0, ACC_READ, &mfn), -EFAULT);
        assert_int_equal(k->segv_code, KSEGV_MAPERR);
        assert_int_equal(sys_mremap(k, p, A, PAGE_SIZE, 0x1000, PAGE_SIZE), -EPERM);
        assert_non_null(find_vma(p->mm, A));            /* nothing moved */
        assert_int_equal(sys_mremap(k, p, A, PAGE_SIZE, 0x20000, PAGE_SIZE), 0x20000);
        /* brk below it cannot grow */
        p->mm->start_brk = p->mm->brk = 0x2000;
        assert_int_equal(sys_brk(k, p, 0x8000), 0x2000);
        assert_null(find_vma(p->mm, 0x2000));
        /* exec of an image with a segment at page 0: EPERM, nothing changed */
        struct mm *before = p->mm;
        struct layout l = { .name = "low", .nseg = 2 };
        l.seg[0] = (struct segment){ 0, 16 * PAGE_SIZE, PROT_READ | PROT_EXEC, SEG_ANON, 0, 0 };
        l.seg[1] = (struct segment){ 0x7fff0000000ull, 32 * PAGE_SIZE, PROT_READ | PROT_WRITE, SEG_STACK, 0, 0 };
        assert_int_equal(do_execve(k, p, &l), -EPERM);
        assert_ptr_equal(p->mm, before);
        l.seg[0].start = 0x400000;
        assert_int_equal(do_execve(k, p, &l), 0);
        expect_checks(t);
        do_exit(k, p);
        assert_int_equal(tm_destroy(t), 0);
    }
    /* vm.mmap_min_addr=0: page 0 is a page like any other */
    const char *const params[] = { "guest.mmap_min_addr=0", NULL };
    struct tmachine *t = tm_boot_params("native", "memwalk", params);
    struct kernel *k = &t->m.k;
    struct task *p = tm_spawn_touching(t, A, 1);
    uint64_t mfn;
    assert_int_equal(sys_mmap(k, p, 0, PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANON, 0, 0),
                     0);
    assert_int_equal(user_access(k, 0, ACC_WRITE, &mfn), 0);
    do_exit(k, p);
    assert_int_equal(tm_destroy(t), 0);
}

/* ---- driver buffers ---------------------------------------------------------------- */

/* The same guest.ram_mb leaves the same free guest memory after boot in
 * native and in the HVM modes (the same guest, the same drivers), and the
 * drivers hold their rings in each. */
static void test_rings_in_every_mode(void **state)
{
    (void)state;
    struct tmachine *n = tm_boot("native");
    assert_int_equal(n->m.k.ndma_buf, 2 * n->cfg.hv.hv.nic_ring + 64);
    for (unsigned m = 1; m < NMODES; m++) {
        struct tmachine *t = tm_boot(MODES[m]);
        assert_int_equal(t->m.k.ndma_buf, n->m.k.ndma_buf);
        if (strncmp(MODES[m], "pv", 2))
            if (t->m.k.buddy.free_pages != n->m.k.buddy.free_pages)
                fail_msg("%s: %llu guest frames free after boot, native %llu", MODES[m],
                         (unsigned long long)t->m.k.buddy.free_pages, (unsigned long long)n->m.k.buddy.free_pages);
        assert_int_equal(tm_destroy(t), 0);
    }
    assert_int_equal(tm_destroy(n), 0);
}

/* ---- the review's traces, replayed ---------------------------------------------- */

static const char *K[] = { "command" }, *V[] = { "test" };
static const struct trace_seg SEG[2] = {
    { 0x400000, 0x10000, TRP_READ | TRP_EXEC, TRS_FILE, 0, 1, 1, 0 },
    { 0x7fff0000000ull, 0x20000, TRP_READ | TRP_WRITE, TRS_STACK, 0, 0, 0, 0 },
};

/* The review's t9 (write, PROT_NONE, read) in every mode: the read is a
 * SIGSEGV, named as a PROT_NONE mapping's; t7 (mmap at 0) and t7b (an exec
 * segment at page 0) fail with EPERM, named as a refused call is. */
static void test_replays(void **state)
{
    (void)state;
    if (!getenv("MEMVIRT"))
        skip();
    char path[64], args[256], err[4096];
    tu_tmpname(path, sizeof path, "maps");
    uint64_t w[1] = { A | TRR_WRITE }, rd[1] = { A }, z[2] = { 0 | TRR_WRITE, 0 };
    struct trace_rec t9[] = {
        { .kind = TR_SPAWN, .pid = 100 },
        { .kind = TR_EXEC, .pid = 100, .path = "/x", .seg = SEG, .nseg = 2 },
        { .kind = TR_MMAP, .pid = 100, .addr = A, .len = 4 * PAGE_SIZE, .prot = TRP_READ | TRP_WRITE,
          .flags = TRM_ANON },
        { .kind = TR_REFS, .pid = 100, .ref = w, .nref = 1 },
        { .kind = TR_MPROTECT, .pid = 100, .addr = A, .len = 4 * PAGE_SIZE, .prot = 0 },
        { .kind = TR_REFS, .pid = 100, .ref = rd, .nref = 1 },
        { .kind = TR_EXIT, .pid = 100 },
    };
    tu_write_trace(path, t9, sizeof t9 / sizeof t9[0]);
    for (unsigned m = 0; m < NMODES; m++) {
        snprintf(args, sizeof args, "run --mode %s --trace %s --check --quiet", MODES[m], path);
        int rc = tu_cli(args, err, sizeof err);
        if (rc != 1 || !strstr(err, "record 6 at byte") ||
            !strstr(err, "pid 100: reference to 0x10000000 (read) reads a mapping with no access (PROT_NONE)"))
            fail_msg("t9 under %s: exit %d: %s", MODES[m], rc, err);
    }
    struct trace_rec t7[] = {
        { .kind = TR_SPAWN, .pid = 100 },
        { .kind = TR_EXEC, .pid = 100, .path = "/x", .seg = SEG, .nseg = 2 },
        { .kind = TR_MMAP, .pid = 100, .addr = 0, .len = PAGE_SIZE, .prot = TRP_READ | TRP_WRITE, .flags = TRM_ANON },
        { .kind = TR_REFS, .pid = 100, .ref = z, .nref = 2 },
        { .kind = TR_EXIT, .pid = 100 },
    };
    tu_write_trace(path, t7, sizeof t7 / sizeof t7[0]);
    snprintf(args, sizeof args, "compare --trace %s --check --quiet", path);
    int rc = tu_cli(args, err, sizeof err);
    if (rc != 1 || !strstr(err, "record 3 at byte") ||
        !strstr(err, "pid 100: mmap at 0, length 0x1000, failed: Operation not permitted (EPERM)"))
        fail_msg("t7: exit %d: %s", rc, err);
    struct trace_seg low[2] = { SEG[0], SEG[1] };
    low[0].start = 0;
    struct trace_rec t7b[] = {
        { .kind = TR_SPAWN, .pid = 100 },
        { .kind = TR_EXEC, .pid = 100, .path = "/x", .seg = low, .nseg = 2 },
        { .kind = TR_REFS, .pid = 100, .ref = z + 1, .nref = 1 },
        { .kind = TR_EXIT, .pid = 100 },
    };
    tu_write_trace(path, t7b, sizeof t7b / sizeof t7b[0]);
    rc = tu_cli(args, err, sizeof err);
    if (rc != 1 || !strstr(err, "record 2 at byte") ||
        !strstr(err, "pid 100: exec, failed: Operation not permitted (EPERM)"))
        fail_msg("t7b: exit %d: %s", rc, err);
    snprintf(args, sizeof args, "compare --trace %s --check --quiet --param guest.mmap_min_addr=0", path);
    rc = tu_cli(args, err, sizeof err);
    if (rc || *err)
        fail_msg("t7b with guest.mmap_min_addr=0: exit %d: %s", rc, err);
    unlink(path);
}

/* A PROTNONE round trip replayed in every mode under --check after every
 * event: 8 pages written, PROT_NONE, fork, half made readable and read in
 * the parent, the other half moved by mremap while PROTNONE, then written;
 * the child makes all 8 writable again and writes them, unmaps two, and
 * both exit: no check fails and every frame comes back. */
static void test_protnone_replay_checked(void **state)
{
    (void)state;
    if (!getenv("MEMVIRT"))
        skip();
    char path[64], args[256], err[4096];
    tu_tmpname(path, sizeof path, "pn");
    uint64_t w8[8], r4[4], w4[4];
    for (unsigned i = 0; i < 8; i++)
        w8[i] = (A + i * PAGE_SIZE) | TRR_WRITE;
    for (unsigned i = 0; i < 4; i++) {
        r4[i] = A + i * PAGE_SIZE;
        w4[i] = (A + 0x100000 + i * PAGE_SIZE) | TRR_WRITE;
    }
    struct trace_rec r[] = {
        { .kind = TR_SPAWN, .pid = 100 },
        { .kind = TR_EXEC, .pid = 100, .path = "/x", .seg = SEG, .nseg = 2 },
        { .kind = TR_MMAP, .pid = 100, .addr = A, .len = 8 * PAGE_SIZE, .prot = TRP_READ | TRP_WRITE,
          .flags = TRM_ANON },
        { .kind = TR_REFS, .pid = 100, .ref = w8, .nref = 8 },
        { .kind = TR_MPROTECT, .pid = 100, .addr = A, .len = 8 * PAGE_SIZE, .prot = 0 },
        { .kind = TR_FORK, .pid = 100, .child = 101 },
        { .kind = TR_MPROTECT, .pid = 100, .addr = A, .len = 4 * PAGE_SIZE, .prot = TRP_READ },
        { .kind = TR_REFS, .pid = 100, .ref = r4, .nref = 4 },
        { .kind = TR_MREMAP, .pid = 100, .addr = A + 4 * PAGE_SIZE, .len = 4 * PAGE_SIZE, .new_addr = A + 0x100000,
          .new_len = 4 * PAGE_SIZE },
        { .kind = TR_MPROTECT, .pid = 100, .addr = A + 0x100000, .len = 4 * PAGE_SIZE, .prot = TRP_READ | TRP_WRITE },
        { .kind = TR_REFS, .pid = 100, .ref = w4, .nref = 4 },
        { .kind = TR_MPROTECT, .pid = 101, .addr = A, .len = 8 * PAGE_SIZE, .prot = TRP_READ | TRP_WRITE },
        { .kind = TR_REFS, .pid = 101, .ref = w8, .nref = 8 },
        { .kind = TR_MUNMAP, .pid = 101, .addr = A, .len = 2 * PAGE_SIZE },
        { .kind = TR_EXIT, .pid = 101 },
        { .kind = TR_EXIT, .pid = 100 },
    };
    tu_write_trace(path, r, sizeof r / sizeof r[0]);
    snprintf(args, sizeof args, "compare --trace %s --check --param sim.check_every=1 --quiet", path);
    int rc = tu_cli(args, err, sizeof err);
    unlink(path);
    if (rc || *err)
        fail_msg("exit %d: %s", rc, err);
}

/* A kernel without the L1TF inversion (guest.l1tf_invert=false) makes a
 * written page PROT_NONE under pv: its mmu_update carries a not-present
 * entry naming the page's pseudo-physical frame, which is guest RAM, and
 * Xen's L1TF check crashes the domain. The run fails (exit 1) with one line
 * naming the hypervisor's reason, and writes no output. Without the check
 * (xen.l1tf_check=false) it runs to the end under --check, as it does
 * natively. */
static void test_protnone_old_kernel_under_xen(void **state)
{
    (void)state;
    if (!getenv("MEMVIRT"))
        skip();
    char path[64], json[64], args[512], err[4096];
    tu_tmpname(path, sizeof path, "l1tf");
    tu_tmpname(json, sizeof json, "l1tfj");
    unlink(json);                                                   /* the run must not make it */
    uint64_t w[2] = { A | TRR_WRITE, (A + PAGE_SIZE) | TRR_WRITE };
    struct trace_rec r[] = {
        { .kind = TR_SPAWN, .pid = 100 },
        { .kind = TR_EXEC, .pid = 100, .path = "/x", .seg = SEG, .nseg = 2 },
        { .kind = TR_MMAP, .pid = 100, .addr = A, .len = 4 * PAGE_SIZE, .prot = TRP_READ | TRP_WRITE,
          .flags = TRM_ANON },
        { .kind = TR_REFS, .pid = 100, .ref = w, .nref = 2 },
        { .kind = TR_MPROTECT, .pid = 100, .addr = A, .len = 4 * PAGE_SIZE, .prot = 0 },
        { .kind = TR_MPROTECT, .pid = 100, .addr = A, .len = 4 * PAGE_SIZE, .prot = TRP_READ | TRP_WRITE },
        { .kind = TR_REFS, .pid = 100, .ref = w, .nref = 2 },
        { .kind = TR_EXIT, .pid = 100 },
    };
    tu_write_trace(path, r, sizeof r / sizeof r[0]);
    static const char *const pv_modes[] = { "pv", "pv-pibooster" };
    for (unsigned m = 0; m < 2; m++) {
        snprintf(args, sizeof args, "run --mode %s --trace %s --param guest.l1tf_invert=false --json %s --quiet",
                 pv_modes[m], path, json);
        int rc = tu_cli(args, err, sizeof err);
        if (rc != 1 || !strstr(err, "the hypervisor crashed the domain under ") ||
            !strstr(err, "L1TF-vulnerable L1e") || !strstr(err, "Crashing") || strchr(err, '\n') != strrchr(err, '\n'))
            fail_msg("%s: exit %d: %s", pv_modes[m], rc, err);
        assert_int_equal(access(json, F_OK), -1);                  /* no output left */
        snprintf(args, sizeof args, "run --mode %s --trace %s --param guest.l1tf_invert=false "
                 "--param xen.l1tf_check=false --check --param sim.check_every=1 --quiet", pv_modes[m], path);
        rc = tu_cli(args, err, sizeof err);
        if (rc || *err)
            fail_msg("%s without the check: exit %d: %s", pv_modes[m], rc, err);
    }
    snprintf(args, sizeof args, "compare --trace %s --param guest.l1tf_invert=false --modes native,tsp,hap --check "
             "--param sim.check_every=1 --quiet", path);
    int rc = tu_cli(args, err, sizeof err);
    if (rc || *err)
        fail_msg("hardware modes: exit %d: %s", rc, err);
    unlink(path);
}

/* The importers' builder keeps out what the guest would refuse below
 * vm.mmap_min_addr (Debian's, the guest's default): an mmap, an mremap's
 * target, an exec segment, a heap growing there; the trace it writes
 * replays under --check. Before, the fuzz corpus's strace input with an
 * mmap at 0x1000 made a trace the guest refused. */
static void test_builder_keeps_out_low_maps(void **state)
{
    (void)state;
    char path[64], args[256], err[4096];
    tu_tmpname(path, sizeof path, "bld");
    struct trace_writer *w = trace_writer_open(path, K, V, 1);
    assert_non_null(w);
    struct build *b = build_new(w);
    struct trace_seg segs[3] = { SEG[0], SEG[1], SEG[0] };
    segs[2].start = 0x1000;
    assert_int_equal(build_spawn(b, 1, 100), 0);
    assert_int_equal(build_exec(b, 2, 100, "/x", segs, 3, 0x2000), 0);
    assert_int_equal(build_count(b, BC_BELOW_MIN_ADDR), 1);      /* counted apart (--mmap-min-addr) */
    assert_int_equal(build_mmap(b, 3, 100, 0x1000, PAGE_SIZE, TRP_READ, TRM_ANON, 0, 0, 0), 0);
    assert_int_equal(build_count(b, BC_BELOW_MIN_ADDR), 2);
    assert_int_equal(build_mmap(b, 4, 100, A, PAGE_SIZE, TRP_READ | TRP_WRITE, TRM_ANON, 0, 0, 0), 0);
    assert_int_equal(build_mremap(b, 5, 100, A, PAGE_SIZE, 0x8000, PAGE_SIZE), 0);
    assert_int_equal(build_count(b, BC_BELOW_MIN_ADDR), 3);
    assert_int_equal(build_brk(b, 6, 100, 0x9000), 0);          /* the heap at 0x2000 cannot grow */
    assert_int_equal(build_count(b, BC_BELOW_MIN_ADDR), 4);
    assert_int_equal(build_count(b, BC_CALL_REFUSED), 0);
    assert_int_equal(build_ref(b, 7, 100, 0x2000, TRR_WRITE), 0);
    assert_int_equal(build_ref(b, 8, 100, A, TRR_WRITE), 0);
    assert_int_equal(build_exit(b, 9, 100), 0);
    assert_int_equal(build_finish(b), 0);
    build_free(b);
    assert_int_equal(trace_writer_commit(w), 0);
    if (getenv("MEMVIRT")) {
        snprintf(args, sizeof args, "run --trace %s --check --param sim.check_every=1 --quiet", path);
        int rc = tu_cli(args, err, sizeof err);
        if (rc || *err)
            fail_msg("exit %d: %s", rc, err);
    }
    unlink(path);
}

/* A trace's header mmap_min_addr (trace import --mmap-min-addr, trace
 * record): trace info's own replay takes it; a value that is not a byte
 * address of at most TRACE_MMAP_MIN_ADDR_MAX is the trace's fault, named with the header key (exit 2), not a
 * --param the user never gave (the reader refuses it for every command:
 * test_trace_replay.c). */

/* A trace at path whose one process maps a page at 0x1000 (below the
 * usual vm.mmap_min_addr): its header's mmap_min_addr is hdr (none if
 * NULL), and the importer's bound while building it is min_addr. */
static void write_low_mmap_trace(const char *path, const char *hdr, uint64_t min_addr)
{
    const char *const keys[] = { "mmap_min_addr" }, *const v[] = { hdr };
    struct trace_writer *w = trace_writer_open(path, keys, v, hdr ? 1 : 0);
    assert_non_null(w);
    struct build *b = build_new(w);
    build_set_mmap_min_addr(b, min_addr);
    assert_int_equal(build_spawn(b, 1, 100), 0);
    assert_int_equal(build_exec(b, 2, 100, "/x", SEG, 2, 0), 0);
    assert_int_equal(build_mmap(b, 3, 100, 0x1000, PAGE_SIZE, TRP_READ, TRM_ANON, 0, 0, 0), 0);
    assert_int_equal(build_exit(b, 4, 100), 0);
    assert_int_equal(build_finish(b), 0);
    build_free(b);
    assert_int_equal(trace_writer_commit(w), 0);
}
static void test_trace_info_min_addr_header(void **state)
{
    (void)state;
    if (!getenv("MEMVIRT"))
        skip();
    /* 2^47 - 1 and one byte over TRACE_MMAP_MIN_ADDR_MAX are byte addresses,
     * but no exec's stack could go above them: the replay failed each exec
     * (exit 1); the reader refuses them as it refuses the others */
    static const char *const vals[] = { "abc", "-1", "140737488355328", "140737488355327", "140737488216065", "4096" };
    const unsigned nv = sizeof vals / sizeof vals[0];
    for (unsigned i = 0; i < nv; i++) {
        char path[64], args[256], err[4096];
        tu_tmpname(path, sizeof path, "hdr");
        write_low_mmap_trace(path, vals[i], 4096);
        snprintf(args, sizeof args, "trace info %s", path);
        int rc = tu_cli(args, err, sizeof err);
        if (i < nv - 1) {
            if (rc != 2)
                fail_msg("header %s: exit %d, not 2: %s", vals[i], rc, err);
            if (!strstr(err, "header (record 0): mmap_min_addr '") || strstr(err, "--param"))
                fail_msg("header %s: %s", vals[i], err);
        } else if (rc || *err) {
            fail_msg("header 4096: exit %d: %s", rc, err);   /* its mmap at 0x1000 replays */
        }
        unlink(path);
    }
}

/* A replay refused below the guest's vm.mmap_min_addr names the recording
 * kernel's, where the trace's header gives it, and the --param that
 * replays the trace; without it (no header key) the line says how to find
 * it; a header above the call (the
 * recording kernel would have refused it too: not a trace memvirt made)
 * says so. The trace maps page 1 (0x1000). */
static void test_replay_min_addr_hint(void **state)
{
    (void)state;
    if (!getenv("MEMVIRT"))
        skip();
    static const struct { const char *hdr, *param, *want; } c[] = {
        { "4096", "", "; the guest's vm.mmap_min_addr is 65536, the recording kernel's was 4096 (the trace's "
                      "header): replay with --param guest.mmap_min_addr=4096\n" },
        { "4096", "--param guest.mmap_min_addr=8192", "; the guest's vm.mmap_min_addr is 8192, the recording "
                      "kernel's was 4096 (the trace's header): replay with --param guest.mmap_min_addr=4096\n" },
        { "0", "", "; the guest's vm.mmap_min_addr is 65536, the recording kernel's was 0 (the trace's header): "
                   "replay with --param guest.mmap_min_addr=0\n" },
        { "65536", "", "; the guest's vm.mmap_min_addr is 65536 and the recording kernel's was 65536 (the trace's "
                       "header), above this call too: --param guest.mmap_min_addr=0 replays it anyway\n" },
        { NULL, "", "; the guest's vm.mmap_min_addr is 65536: a trace recorded with a lower one (`memvirt trace "
                    "info` shows it) replays with --param guest.mmap_min_addr=N\n" },
    };
    for (unsigned i = 0; i < sizeof c / sizeof c[0]; i++) {
        char path[64], args[512], err[4096];
        tu_tmpname(path, sizeof path, "hint");
        write_low_mmap_trace(path, c[i].hdr, 0);
        snprintf(args, sizeof args, "run --quiet --trace %s %s", path, c[i].param);
        int rc = tu_cli(args, err, sizeof err);
        const char *semi = strstr(err, "failed: Operation not permitted (EPERM)");
        if (rc != 1 || !semi || strcmp(semi + strlen("failed: Operation not permitted (EPERM)"), c[i].want) ||
            strchr(err, '\n') != err + strlen(err) - 1)
            fail_msg("header %s %s: exit %d: %s", c[i].hdr ? c[i].hdr : "(none)", c[i].param, rc, err);
        unlink(path);
    }
}

int main(void)
{
    mv_error_quiet(1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_protnone_touched_faults), cmocka_unit_test(test_protnone_inverted_round_trip),
        cmocka_unit_test(test_protnone_fork_mremap_unmap), cmocka_unit_test(test_protnone_old_kernel_under_xen),
        cmocka_unit_test(test_protnone_huge),           cmocka_unit_test(test_mmap_min_addr),
        cmocka_unit_test(test_replay_min_addr_hint),
        cmocka_unit_test(test_rings_in_every_mode),     cmocka_unit_test(test_replays),
        cmocka_unit_test(test_protnone_replay_checked), cmocka_unit_test(test_builder_keeps_out_low_maps),
        cmocka_unit_test(test_trace_info_min_addr_header),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_shared_anon.c: MAP_SHARED|MAP_ANONYMOUS memory is shmem (guest
 * shmem.c), on real machines in every mode under --check: pages first
 * touched after a fork are the same frames in parent and child (Linux backs
 * the mapping with a shmem file; a private page per process was the bug), a
 * partial munmap or mremap shrink keeps the object's pages, the last mapping
 * frees them all, reclaim never drops a clean shmem page, and kernel_check
 * catches an object whose reference count disagrees with its VMAs. As in
 * Linux, shmem has no write-notify: a read fault maps the page writable and
 * clean, so the write after it takes no second fault (dirty only if the page
 * already is); mprotect back to writable makes the entries writable at once;
 * and the object keeps the size of the mmap that made it, so a mapping grown
 * by mremap raises SIGBUS past it, in the kernel and through a replayed
 * trace. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include "guest/kernel.h"
#include "guest/pagecache.h"
#include "guest/shmem.h"
#include "sim/oracle.h"
#include "testutil.h"
#include "trace/format.h"

#define PG PAGE_SIZE
#define A 0x10000000ull
#define K(t) (&(t)->m.k)
#define NPG 16

/* The attack review's t5: 16 shared pages, page 0 touched before the fork,
 * then the child and the parent write all 16: 16 data pages, not 31. */
static void shared_after_fork(const char *mode)
{
    struct tmachine *t = tm_boot(mode);
    struct kernel *k = K(t);
    struct task *p = kernel_spawn(k, 1);
    schedule_to(k, p);
    uint64_t base = k->data_pages;
    assert_int_equal(sys_mmap(k, p, A, NPG * PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANON, 0, 0), (long)A);
    uint64_t f0 = tm_access_ok(t, A, ACC_WRITE);
    assert_int_equal(do_fork(k, p, 2), 2);
    struct task *c = task_find(k, 2);
    schedule_to(k, c);
    uint64_t f[NPG];
    for (unsigned i = 0; i < NPG; i++)
        f[i] = tm_access_ok(t, A + i * PG, ACC_WRITE);
    assert_int_equal(f[0], f0);
    tm_check_all(t);
    schedule_to(k, p);
    for (unsigned i = 0; i < NPG; i++)
        if (tm_access_ok(t, A + i * PG, ACC_WRITE) != f[i])
            fail_msg("%s: page %u first touched by the child is not the parent's", mode, i);
    assert_int_equal(k->data_pages - base, NPG);
    tm_check_all(t);
    /* the child unmaps half: the parent keeps every page */
    schedule_to(k, c);
    assert_int_equal(sys_munmap(k, c, A, NPG / 2 * PG), 0);
    do_exit(k, c);
    schedule_to(k, p);
    for (unsigned i = 0; i < NPG; i++)
        assert_int_equal(tm_access_ok(t, A + i * PG, ACC_READ), f[i]);
    assert_int_equal(k->data_pages - base, NPG);
    tm_check_all(t);
    /* a move keeps the object; the last unmap frees its pages */
    assert_int_equal(sys_mremap(k, p, A, NPG * PG, A + 0x40000000ull, NPG * PG), (long)(A + 0x40000000ull));
    assert_int_equal(tm_access_ok(t, A + 0x40000000ull + 3 * PG, ACC_READ), f[3]);
    assert_int_equal(sys_munmap(k, p, A + 0x40000000ull, NPG * PG), 0);
    assert_int_equal(k->data_pages, base);
    assert_int_equal(shmem_cached(k), 0);
    tm_check_all(t);
    do_exit(k, p);
    assert_int_equal(tm_destroy(t), 0);
}

static void test_shared_after_fork(void **state)
{
    (void)state;
    for (unsigned i = 0; i < mode_count(); i++)
        shared_after_fork(mode_at(i)->name);
}

/* Two mappings of shared anonymous memory are two objects; a private
 * anonymous mapping is still private across fork. */
static void test_distinct_objects(void **state)
{
    (void)state;
    struct tmachine *t = tm_boot("native");
    struct kernel *k = K(t);
    struct task *p = kernel_spawn(k, 1);
    schedule_to(k, p);
    assert_int_equal(sys_mmap(k, p, A, PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANON, 0, 0), (long)A);
    assert_int_equal(sys_mmap(k, p, A + PG, PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANON, 0, 0),
                     (long)(A + PG));
    assert_int_equal(p->mm->nvma, 2);                   /* not merged: other objects */
    assert_int_not_equal(tm_access_ok(t, A, ACC_WRITE), tm_access_ok(t, A + PG, ACC_WRITE));
    assert_int_equal(sys_mmap(k, p, A + 4 * PG, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANON, 0, 0),
                     (long)(A + 4 * PG));
    assert_int_equal(do_fork(k, p, 2), 2);
    schedule_to(k, task_find(k, 2));
    uint64_t child = tm_access_ok(t, A + 4 * PG, ACC_WRITE);
    schedule_to(k, p);
    assert_int_not_equal(tm_access_ok(t, A + 4 * PG, ACC_WRITE), child);
    tm_check_all(t);
    do_exit(k, task_find(k, 2));
    do_exit(k, p);
    assert_int_equal(tm_destroy(t), 0);
}

/* A clean shmem page mapped by no one (the mapping shrank) stays in its
 * object while the guest reclaims file pages: growing the mapping back
 * finds the same frame (Linux: shmem pages without swap cannot be dropped). */
static void test_not_reclaimed(void **state)
{
    (void)state;
    const char *const params[] = { "memwalk.ws_mb=16", "guest.ram_mb=64", NULL };
    struct tmachine *t = tm_boot_params("native", "memwalk", params);
    struct kernel *k = K(t);
    struct task *p = kernel_spawn(k, 1);
    schedule_to(k, p);
    assert_int_equal(sys_mmap(k, p, A, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANON, 0, 0), (long)A);
    tm_access_ok(t, A, ACC_WRITE);
    uint64_t f1 = tm_access_ok(t, A + PG, ACC_READ);          /* clean: never written */
    assert_int_equal(sys_mremap(k, p, A, 2 * PG, A, PG), (long)A);
    /* read more file pages than the guest has frames: reclaim must run */
    const uint64_t F = 0x20000000ull, chunk = 1024;
    uint64_t freed0 = k->st->cnt[CNT_data_pages_free];
    for (uint64_t off = 0; off < 20 * chunk; off += chunk) {
        assert_int_equal(sys_mmap(k, p, F, chunk * PG, PROT_READ, MAP_PRIVATE, 7, off), (long)F);
        for (uint64_t i = 0; i < chunk; i++)
            tm_access_ok(t, F + i * PG, ACC_READ);
        assert_int_equal(sys_munmap(k, p, F, chunk * PG), 0);
    }
    assert_true(k->st->cnt[CNT_data_pages_free] - freed0 > 4096);   /* file pages were reclaimed */
    assert_int_equal(sys_mremap(k, p, A, PG, A, 2 * PG), (long)A);
    assert_int_equal(tm_access_ok(t, A + PG, ACC_READ), f1);
    tm_check_all(t);
    do_exit(k, p);
    assert_int_equal(tm_destroy(t), 0);
}

/* kernel_check counts the VMAs mapping each object: a reference too many
 * (an object that would never be freed) and one too few are caught. */
static void test_check_catches_refs(void **state)
{
    (void)state;
    struct tmachine *t = tm_boot("native");
    struct kernel *k = K(t);
    struct task *p = kernel_spawn(k, 1);
    schedule_to(k, p);
    assert_int_equal(sys_mmap(k, p, A, 4 * PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANON, 0, 0), (long)A);
    assert_int_equal(do_fork(k, p, 2), 2);
    tm_check_all(t);
    uint32_t id = find_vma(p->mm, A)->file;
    assert_int_equal(shmem_refs(k, id), 2);
    char msg[512] = "";
    k->shm[id].refs++;
    assert_int_not_equal(kernel_check(k, msg, sizeof msg), 0);
    assert_non_null(strstr(msg, "shmem object"));
    k->shm[id].refs -= 2;
    assert_int_not_equal(kernel_check(k, msg, sizeof msg), 0);
    k->shm[id].refs++;
    tm_check_all(t);
    do_exit(k, task_find(k, 2));
    do_exit(k, p);
    assert_int_equal(tm_destroy(t), 0);
}

/* The current task's own (guest) L1 entry for va. */
static pte_t guest_pte(struct tmachine *t, uint64_t va)
{
    struct kernel *k = K(t);
    return kread_entry(k, tm_guest_table(t, va, 1), pt_index(va, 1));
}

static uint64_t cnt(struct tmachine *t, enum mv_counter c) { return t->m.st.cnt[c]; }

/* A read fault maps a shared writable shmem page writable and clean
 * (set_pte_range with vm_page_prot PAGE_SHARED: shmem wants no
 * write-notify); the write after it is no guest fault, and the hardware
 * (or, under shadow paging, the hypervisor on its behalf) sets Dirty. A
 * read-only shared mapping still maps read-only, and a regular file's
 * shared mapping keeps write-notify: its first write faults again. */
static void read_then_write(const char *mode)
{
    struct tmachine *t = tm_boot(mode);
    struct kernel *k = K(t);
    struct task *p = kernel_spawn(k, 1);
    schedule_to(k, p);
    assert_int_equal(sys_mmap(k, p, A, 4 * PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANON, 0, 0), (long)A);
    uint64_t pf = cnt(t, CNT_guest_pf), cow = cnt(t, CNT_pf_cow);
    uint64_t f = tm_access_ok(t, A, ACC_READ);
    assert_int_equal(cnt(t, CNT_guest_pf), pf + 1);
    pte_t e = guest_pte(t, A);
    if (!(e & _PAGE_RW) || (e & _PAGE_DIRTY))
        fail_msg("%s: a read fault of shmem mapped %#llx (want writable, clean)", mode, (unsigned long long)e);
    assert_int_equal(tm_access_ok(t, A, ACC_WRITE), f);
    if (cnt(t, CNT_guest_pf) != pf + 1 || cnt(t, CNT_pf_cow) != cow)
        fail_msg("%s: the write after a read fault faulted again (%llu guest faults, %llu wp)", mode,
                 (unsigned long long)(cnt(t, CNT_guest_pf) - pf), (unsigned long long)(cnt(t, CNT_pf_cow) - cow));
    if (!(guest_pte(t, A) & _PAGE_DIRTY))
        fail_msg("%s: the write left the entry clean", mode);
    assert_int_equal(page_of(k, k->pv->entry_pfn(k, e))->dirty, 0);   /* the kernel has not seen the write */
    tm_check_all(t);
    /* read-only shared memory: read-only, and a write is SIGSEGV */
    assert_int_equal(sys_mmap(k, p, A + 8 * PG, PG, PROT_READ, MAP_SHARED | MAP_ANON, 0, 0), (long)(A + 8 * PG));
    tm_access_ok(t, A + 8 * PG, ACC_READ);
    assert_false(guest_pte(t, A + 8 * PG) & _PAGE_RW);
    uint64_t mfn;
    assert_int_equal(user_access(k, A + 8 * PG, ACC_WRITE, &mfn), -EFAULT);
    assert_int_equal(k->segv_code, KSEGV_ACCERR);
    /* a shared file mapping: read-only until the write fault */
    assert_int_equal(sys_mmap(k, p, A + 16 * PG, PG, PROT_READ | PROT_WRITE, MAP_SHARED, 7, 0), (long)(A + 16 * PG));
    tm_access_ok(t, A + 16 * PG, ACC_READ);
    assert_false(guest_pte(t, A + 16 * PG) & _PAGE_RW);
    pf = cnt(t, CNT_guest_pf);
    tm_access_ok(t, A + 16 * PG, ACC_WRITE);
    assert_int_equal(cnt(t, CNT_guest_pf), pf + 1);
    assert_int_equal(cnt(t, CNT_pf_cow), cow + 1);
    tm_check_all(t);
    do_exit(k, p);
    assert_int_equal(tm_destroy(t), 0);
}

static void test_read_then_write(void **state)
{
    (void)state;
    for (unsigned i = 0; i < mode_count(); i++)
        read_then_write(mode_at(i)->name);
}

/* A read fault of a page that is already dirty maps it dirty too (Linux's
 * set_pte_range: pte_write and folio_test_dirty). The page is dirty after a
 * write fault, or once an entry the hardware dirtied is zapped
 * (zap_present_pte's folio_mark_dirty). A fork copies no shmem entry: the
 * child faults its own. */
static void test_dirty_page_maps_dirty(void **state)
{
    (void)state;
    struct tmachine *t = tm_boot("native");
    struct kernel *k = K(t);
    struct task *p = kernel_spawn(k, 1);
    schedule_to(k, p);
    assert_int_equal(sys_mmap(k, p, A, 3 * PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANON, 0, 0), (long)A);
    tm_access_ok(t, A, ACC_WRITE);                        /* a write fault: the page is dirty */
    tm_access_ok(t, A + PG, ACC_READ);                    /* writable, clean ... */
    tm_access_ok(t, A + PG, ACC_WRITE);                   /* ... dirtied by the hardware alone */
    uint64_t pfn0 = k->pv->entry_pfn(k, guest_pte(t, A)), pfn1 = k->pv->entry_pfn(k, guest_pte(t, A + PG));
    assert_int_equal(page_of(k, pfn0)->dirty, 1);
    assert_int_equal(page_of(k, pfn1)->dirty, 0);
    assert_int_equal(do_fork(k, p, 2), 2);
    struct task *c = task_find(k, 2);
    assert_int_equal(sys_munmap(k, p, A + PG, PG), 0);    /* zap: the dirty entry dirties the page */
    assert_int_equal(page_of(k, pfn1)->dirty, 1);
    schedule_to(k, c);
    assert_false(pte_present(guest_pte(t, A)));           /* fork copied nothing */
    uint64_t pf = cnt(t, CNT_guest_pf);
    for (unsigned i = 0; i < 3; i++) {
        tm_access_ok(t, A + i * PG, ACC_READ);
        pte_t e = guest_pte(t, A + i * PG);
        const pte_t want = _PAGE_RW | (i < 2 ? _PAGE_DIRTY : 0);
        if ((e & (_PAGE_RW | _PAGE_DIRTY)) != want)
            fail_msg("child's read fault of page %u mapped %#llx", i, (unsigned long long)e);
    }
    assert_int_equal(cnt(t, CNT_guest_pf), pf + 3);
    tm_check_all(t);
    do_exit(k, c);
    schedule_to(k, p);
    do_exit(k, p);
    assert_int_equal(tm_destroy(t), 0);
}

/* mprotect read-only then back to read-write: shmem's entries become
 * writable at once (pte_modify with PAGE_SHARED), keeping Dirty as it was;
 * no write faults after. So does a private mapping's entry of an anonymous
 * page that is the process's alone (can_change_pte_writable:
 * PageAnonExclusive); the other private cases (test_mprotect_writable.c)
 * wait for their write fault. */
static void test_mprotect_back_writable(void **state)
{
    (void)state;
    struct tmachine *t = tm_boot("native");
    struct kernel *k = K(t);
    struct task *p = kernel_spawn(k, 1);
    schedule_to(k, p);
    assert_int_equal(sys_mmap(k, p, A, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANON, 0, 0), (long)A);
    tm_access_ok(t, A, ACC_WRITE);
    tm_access_ok(t, A + PG, ACC_READ);
    assert_int_equal(sys_mprotect(k, p, A, 2 * PG, PROT_READ), 0);
    assert_false((guest_pte(t, A) | guest_pte(t, A + PG)) & _PAGE_RW);
    assert_int_equal(sys_mprotect(k, p, A, 2 * PG, PROT_READ | PROT_WRITE), 0);
    pte_t e0 = guest_pte(t, A), e1 = guest_pte(t, A + PG);
    if ((e0 & (_PAGE_RW | _PAGE_DIRTY)) != (_PAGE_RW | _PAGE_DIRTY) || (e1 & (_PAGE_RW | _PAGE_DIRTY)) != _PAGE_RW)
        fail_msg("after mprotect back: %#llx %#llx", (unsigned long long)e0, (unsigned long long)e1);
    uint64_t pf = cnt(t, CNT_guest_pf);
    tm_access_ok(t, A, ACC_WRITE);
    tm_access_ok(t, A + PG, ACC_WRITE);
    assert_int_equal(cnt(t, CNT_guest_pf), pf);
    /* private anonymous memory, a page no fork shares: writable at once
     * too, Dirty kept, and its write takes no fault */
    assert_int_equal(sys_mmap(k, p, A + 8 * PG, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANON, 0, 0),
                     (long)(A + 8 * PG));
    tm_access_ok(t, A + 8 * PG, ACC_WRITE);
    assert_int_equal(sys_mprotect(k, p, A + 8 * PG, PG, PROT_READ), 0);
    assert_false(guest_pte(t, A + 8 * PG) & _PAGE_RW);
    assert_int_equal(sys_mprotect(k, p, A + 8 * PG, PG, PROT_READ | PROT_WRITE), 0);
    assert_int_equal(guest_pte(t, A + 8 * PG) & (_PAGE_RW | _PAGE_DIRTY), _PAGE_RW | _PAGE_DIRTY);
    pf = cnt(t, CNT_guest_pf);
    tm_access_ok(t, A + 8 * PG, ACC_WRITE);
    assert_int_equal(cnt(t, CNT_guest_pf), pf);
    tm_check_all(t);
    do_exit(k, p);
    assert_int_equal(tm_destroy(t), 0);
}

/* mremap grows the mapping, not the object (its size stays the mmap's
 * length): within it the pages are there, past it a read or a write is
 * SIGBUS (shmem_fault's VM_FAULT_SIGBUS), with nothing allocated; the same
 * after a move that grows, and in a child that inherited the mapping. A
 * shrink and a growth back within the size lose nothing. */
static void grow_past_object(const char *mode)
{
    struct tmachine *t = tm_boot(mode);
    struct kernel *k = K(t);
    struct task *p = kernel_spawn(k, 1);
    schedule_to(k, p);
    const uint64_t B = A + 0x40000000ull;
    assert_int_equal(sys_mmap(k, p, A, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANON, 0, 0), (long)A);
    uint32_t id = find_vma(p->mm, A)->file;
    assert_int_equal(shmem_size(k, id), 2);
    uint64_t f0 = tm_access_ok(t, A, ACC_WRITE);
    assert_int_equal(sys_mremap(k, p, A, 2 * PG, A, 4 * PG), (long)A);
    assert_int_equal(find_vma(p->mm, A)->end, A + 4 * PG);
    assert_int_equal(shmem_size(k, id), 2);
    uint64_t f1 = tm_access_ok(t, A + PG, ACC_READ);
    uint64_t data = k->data_pages, cached = shmem_cached(k), segv = cnt(t, CNT_segv), mfn;
    static const enum access accs[2] = { ACC_READ, ACC_WRITE };
    for (unsigned i = 2; i < 4; i++) {
        for (unsigned a = 0; a < 2; a++) {
            k->segv_code = 0;
            if (user_access(k, A + i * PG, accs[a], &mfn) != -EFAULT || k->segv_code != KSIGBUS_ADRERR)
                fail_msg("%s: access %d to page %u of 2 gave no SIGBUS (code %d)", mode, accs[a], i, k->segv_code);
        }
    }
    assert_int_equal(cnt(t, CNT_segv), segv + 4);
    assert_int_equal(k->data_pages, data);
    assert_int_equal(shmem_cached(k), cached);
    assert_false(pte_mapped(guest_pte(t, A + 2 * PG)));
    tm_check_all(t);
    /* moved and grown again */
    assert_int_equal(sys_mremap(k, p, A, 4 * PG, B, 6 * PG), (long)B);
    assert_int_equal(tm_access_ok(t, B, ACC_READ), f0);
    assert_int_equal(tm_access_ok(t, B + PG, ACC_WRITE), f1);
    assert_int_equal(user_access(k, B + 5 * PG, ACC_READ, &mfn), -EFAULT);
    assert_int_equal(k->segv_code, KSIGBUS_ADRERR);
    /* a child that inherited the grown mapping */
    assert_int_equal(do_fork(k, p, 2), 2);
    struct task *c = task_find(k, 2);
    schedule_to(k, c);
    assert_int_equal(tm_access_ok(t, B + PG, ACC_READ), f1);
    assert_int_equal(user_access(k, B + 2 * PG, ACC_WRITE, &mfn), -EFAULT);
    assert_int_equal(k->segv_code, KSIGBUS_ADRERR);
    tm_check_all(t);
    do_exit(k, c);
    schedule_to(k, p);
    do_exit(k, p);
    assert_int_equal(tm_destroy(t), 0);
}

static void test_grow_past_object(void **state)
{
    (void)state;
    for (unsigned i = 0; i < mode_count(); i++)
        grow_past_object(mode_at(i)->name);
}

/* The same through a replayed trace, in every mode: the run ends at the
 * reference with one line that says SIGBUS and why. */
static void test_grow_past_object_replayed(void **state)
{
    (void)state;
    if (!getenv("MEMVIRT"))
        skip();
    static const struct trace_seg seg[2] = {
        { 0x400000, 0x10000, TRP_READ | TRP_EXEC, TRS_FILE, 0, 1, 1, 0 },
        { 0x7fff0000000ull, 0x20000, TRP_READ | TRP_WRITE, TRS_STACK, 0, 0, 0, 0 },
    };
    uint64_t in[2] = { A, (A + PG) | TRR_WRITE }, past[1] = { A + 2 * PG };
    const struct trace_rec r[] = {
        { .kind = TR_SPAWN, .pid = 100 },
        { .kind = TR_EXEC, .pid = 100, .path = "/x", .seg = seg, .nseg = 2 },
        { .kind = TR_MMAP, .pid = 100, .addr = A, .len = 2 * PG, .prot = TRP_READ | TRP_WRITE,
          .flags = TRM_SHARED | TRM_ANON },
        { .kind = TR_MREMAP, .pid = 100, .addr = A, .len = 2 * PG, .new_addr = A, .new_len = 4 * PG },
        { .kind = TR_REFS, .pid = 100, .ref = in, .nref = 2 },
        { .kind = TR_REFS, .pid = 100, .ref = past, .nref = 1 },
        { .kind = TR_EXIT, .pid = 100 },
    };
    char path[64], args[256], err[4096];
    tu_tmpname(path, sizeof path, "shmem");
    tu_write_trace(path, r, sizeof r / sizeof r[0]);
    snprintf(args, sizeof args, "compare --trace %s --check --quiet", path);
    int rc = tu_cli(args, err, sizeof err);
    if (rc != 1 || !strstr(err, "record 5 at byte") ||
        !strstr(err, "pid 100: reference to 0x10002000 (read) lies past the end of the shared memory the mapping "
                     "(0x10000000-0x10004000) maps: page 2 of an object of 2 pages") ||
        !strstr(err, "bus error"))
        fail_msg("exit %d: %s", rc, err);
    unlink(path);
}

int main(void)
{
    mv_error_quiet(1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shared_after_fork),
        cmocka_unit_test(test_distinct_objects),
        cmocka_unit_test(test_not_reclaimed),
        cmocka_unit_test(test_check_catches_refs),
        cmocka_unit_test(test_read_then_write),
        cmocka_unit_test(test_dirty_page_maps_dirty),
        cmocka_unit_test(test_mprotect_back_writable),
        cmocka_unit_test(test_grow_past_object),
        cmocka_unit_test(test_grow_past_object_replayed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

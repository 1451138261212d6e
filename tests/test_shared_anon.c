/* test_shared_anon.c: MAP_SHARED|MAP_ANONYMOUS memory is shmem (guest
 * shmem.c), on real machines in every mode under --check: pages first
 * touched after a fork are the same frames in parent and child (Linux backs
 * the mapping with a shmem file; a private page per process was the bug), a
 * partial munmap or mremap shrink keeps the object's pages, the last mapping
 * frees them all, reclaim never drops a clean shmem page, and kernel_check
 * catches an object whose reference count disagrees with its VMAs. */
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

int main(void)
{
    mv_error_quiet(1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shared_after_fork),
        cmocka_unit_test(test_distinct_objects),
        cmocka_unit_test(test_not_reclaimed),
        cmocka_unit_test(test_check_catches_refs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

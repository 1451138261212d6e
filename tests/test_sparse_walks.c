/* test_sparse_walks.c: the guest kernel's range walks over a mapping that
 * spans several L4 (pgd) entries with most of it unpopulated. zap, fork's
 * copy, mprotect and mremap skip an empty L4 entry's 512 GiB whole and an
 * empty L3 entry's 1 GiB (pt_none_end; mremap's get_old_pud), as Linux's
 * walkers skip pgd_none, p4d_none and pud_none; before, they stepped every
 * 1 GiB (zap, fork, mprotect) or every 2 MiB (mremap), and a two-record
 * trace of a 32 TiB mremap took seconds. What is checked here is that the
 * skips stop where population resumes: pages in six places (the start, a
 * second 1 GiB, a 1 GiB after an empty one, a second 512 GiB, a fourth one
 * after a single empty 512 GiB, and the last page) are each shared by a
 * fork, write-protected by mprotect, carried by a move (to an address
 * aligned differently at every level) and freed by munmap,
 * in every mode, under the oracle. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include "guest/kernel.h"
#include "sim/oracle.h"
#include "testutil.h"

#define K(t) (&(t)->m.k)
#define A 0x10000000ull                 /* 256 MiB */
#define LEN (2048ull << 30)             /* 2 TiB: five L4 entries from A */
/* the move's target, 4 TiB on and misaligned with A at every level */
#define B (A + (4096ull << 30) + (300ull << 30) + (6ull << 20) + 4 * PAGE_SIZE)

static const uint64_t offs[] = { 0, (1ull << 30) + (2ull << 20), 5ull << 30, 600ull << 30, 1541ull << 30,
                                  LEN - PAGE_SIZE };
#define N (sizeof offs / sizeof offs[0])

static pte_t guest_pte(struct tmachine *t, uint64_t va)
{
    return kread_entry(K(t), tm_guest_table(t, va, 1), pt_index(va, 1));
}

static void sparse(const char *mode)
{
    struct tmachine *t = tm_boot(mode);
    struct task *p = kernel_spawn(K(t), 1);
    schedule_to(K(t), p);
    assert_int_equal(sys_mmap(K(t), p, A, LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANON, 0, 0), (long)A);
    uint64_t f[N];
    for (unsigned i = 0; i < N; i++)
        f[i] = tm_access_ok(t, A + offs[i], ACC_WRITE);
    /* fork: each page shared, write-protected in the child */
    assert_int_equal(do_clone(K(t), p, 2, 0), 2);
    struct task *c = task_find(K(t), 2);
    schedule_to(K(t), c);
    for (unsigned i = 0; i < N; i++) {
        assert_int_equal(tm_access_ok(t, A + offs[i], ACC_READ), f[i]);
        assert_false(guest_pte(t, A + offs[i]) & _PAGE_RW);
    }
    do_exit(K(t), c);
    schedule_to(K(t), p);
    /* mprotect read-only: each entry loses RW */
    assert_int_equal(sys_mprotect(K(t), p, A, LEN, PROT_READ), 0);
    for (unsigned i = 0; i < N; i++) {
        assert_true(pte_present(guest_pte(t, A + offs[i])));
        assert_false(guest_pte(t, A + offs[i]) & _PAGE_RW);
    }
    assert_int_equal(sys_mprotect(K(t), p, A, LEN, PROT_READ | PROT_WRITE), 0);
    /* a move carries every page */
    assert_int_equal(sys_mremap(K(t), p, A, LEN, B, LEN), (long)B);
    for (unsigned i = 0; i < N; i++)
        assert_int_equal(tm_access_ok(t, B + offs[i], ACC_READ), f[i]);
    tm_check_all(t);
    /* munmap frees them all */
    uint64_t rss = p->mm->rss;
    assert_int_equal(rss, N);   /* (a skip that overshoots fails before here) */
    assert_int_equal(sys_munmap(K(t), p, B, LEN), 0);
    assert_int_equal(p->mm->rss, 0);
    tm_check_all(t);
    do_exit(K(t), p);
    assert_int_equal(tm_destroy(t), 0);
}

static void test_sparse_every_mode(void **state)
{
    (void)state;
    for (unsigned i = 0; i < mode_count(); i++)
        sparse(mode_at(i)->name);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sparse_every_mode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

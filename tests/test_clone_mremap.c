/* test_clone_mremap.c: the guest kernel's clone(CLONE_VM) and mremap, driven
 * through its API on real machines (every mode, --check): threads and
 * vfork children share the address space (a write by one is seen by the
 * other through the same frame; the mm lives until its last user exits), and
 * mremap shrinks, grows in place and moves mappings carrying the pages (the
 * frame at the new address is the frame that was at the old one), also
 * across a 2 MiB boundary that falls at another offset in the target than
 * in the source (each page-table page is filled up to its own boundary).
 * A move of whole 2 MiB or 1 GiB extents at aligned addresses relinks the
 * page-table page itself (Linux move_normal_pmd/pud): no table is allocated
 * or freed, no entry copied, and under Xen PV the table stays pinned. */
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
#define A 0x10000000ull
#define K(t) (&(t)->m.k)

static void clone_vm(const char *mode)
{
    struct tmachine *t = tm_boot(mode);
    struct task *p = kernel_spawn(K(t), 1);
    schedule_to(K(t), p);
    assert_int_equal(sys_mmap(K(t), p, A, 4 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANON, 0, 0), (long)A);
    uint64_t f = tm_access_ok(t, A, ACC_WRITE);
    assert_int_equal(do_clone(K(t), p, 2, CLONE_VM), 2);
    struct task *th = task_find(K(t), 2);
    assert_ptr_equal(th->mm, p->mm);
    assert_int_equal(p->mm->users, 2);
    schedule_to(K(t), th);
    assert_int_equal(tm_access_ok(t, A, ACC_WRITE), f);          /* the same page, no COW */
    assert_int_equal(sys_mmap(K(t), th, A + 8 * PG, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANON, 0, 0),
                     (long)(A + 8 * PG));
    uint64_t g = tm_access_ok(t, A + 8 * PG, ACC_WRITE);
    schedule_to(K(t), p);
    assert_int_equal(tm_access_ok(t, A + 8 * PG, ACC_READ), g);  /* the thread's mapping is the parent's */
    /* a fork copies: a write makes a private page */
    assert_int_equal(do_clone(K(t), p, 3, 0), 3);
    struct task *c = task_find(K(t), 3);
    assert_ptr_not_equal(c->mm, p->mm);
    schedule_to(K(t), c);
    assert_int_not_equal(tm_access_ok(t, A, ACC_WRITE), f);
    tm_check_all(t);
    do_exit(K(t), p);                                       /* the thread keeps the mm alive */
    schedule_to(K(t), th);
    assert_int_equal(th->mm->users, 1);
    assert_int_equal(tm_access_ok(t, A, ACC_READ), f);
    /* exec in a sharer gives it a new mm and drops its use of the old */
    do_exit(K(t), c);
    tm_check_all(t);
    do_exit(K(t), th);
    assert_int_equal(tm_destroy(t), 0);
}

/* Every mode in the registry: each traps the guest's table writes its own way. */
static void test_clone_vm(void **state)
{
    (void)state;
    for (unsigned i = 0; i < mode_count(); i++)
        clone_vm(mode_at(i)->name);
}

static void mremap_cases(const char *mode)
{
    struct tmachine *t = tm_boot(mode);
    struct task *p = kernel_spawn(K(t), 1);
    schedule_to(K(t), p);
    struct mm *mm = p->mm;
    assert_int_equal(sys_mmap(K(t), p, A, 8 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANON, 0, 0), (long)A);
    uint64_t f[8];
    for (int i = 0; i < 8; i++)
        f[i] = tm_access_ok(t, A + (uint64_t)i * PG, ACC_WRITE);
    /* shrink in place: the tail goes */
    assert_int_equal(sys_mremap(K(t), p, A, 8 * PG, A, 6 * PG), (long)A);
    assert_null(find_vma(mm, A + 6 * PG));
    assert_int_equal(mm->rss, 6);
    /* grow in place into free space */
    assert_int_equal(sys_mremap(K(t), p, A, 6 * PG, A, 10 * PG), (long)A);
    assert_non_null(find_vma(mm, A + 9 * PG));
    tm_access_ok(t, A + 9 * PG, ACC_WRITE);
    /* cannot grow over another mapping */
    assert_int_equal(sys_mmap(K(t), p, A + 12 * PG, PG, PROT_READ, MAP_PRIVATE | MAP_ANON, 0, 0), (long)(A + 12 * PG));
    assert_int_equal(sys_mremap(K(t), p, A, 10 * PG, A, 14 * PG), -ENOMEM);
    /* move far away (another L1, another L2): the pages come along */
    uint64_t B = 0x300000000000ull;
    assert_int_equal(sys_mremap(K(t), p, A, 10 * PG, B, 10 * PG), (long)B);
    assert_null(find_vma(mm, A));
    for (int i = 0; i < 6; i++)
        assert_int_equal(tm_access_ok(t, B + (uint64_t)i * PG, ACC_READ), f[i]);
    tm_check_all(t);
    /* a move that also shrinks, and one onto an existing mapping (MREMAP_FIXED) */
    assert_int_equal(sys_mremap(K(t), p, B, 10 * PG, A + 12 * PG, 2 * PG), (long)(A + 12 * PG));
    assert_int_equal(tm_access_ok(t, A + 12 * PG, ACC_READ), f[0]);
    assert_int_equal(tm_access_ok(t, A + 13 * PG, ACC_READ), f[1]);
    assert_int_equal(mm->rss, 2);
    /* refused: not mapped, overlapping source and target, bad alignment */
    assert_int_equal(sys_mremap(K(t), p, B, PG, B + PG, PG), -EFAULT);
    assert_int_equal(sys_mremap(K(t), p, A + 12 * PG, 2 * PG, A + 13 * PG, 2 * PG), -EINVAL);
    assert_int_equal(sys_mremap(K(t), p, A + 12 * PG + 1, PG, A, PG), -EINVAL);
    tm_check_all(t);
    do_exit(K(t), p);
    assert_int_equal(tm_destroy(t), 0);
}

/* Move npg written pages from src to dst: every page arrives at its own
 * offset with its own frame, nothing stays at the source, the kernel's
 * bookkeeping and the mode's invariants hold, and exit frees everything. */
static void mremap_move(const char *mode, uint64_t src, uint64_t dst, unsigned npg)
{
    struct tmachine *t = tm_boot(mode);
    struct task *p = kernel_spawn(K(t), 1);
    schedule_to(K(t), p);
    assert_int_equal(sys_mmap(K(t), p, src, npg * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANON, 0, 0),
                     (long)src);
    uint64_t f[8];
    for (unsigned i = 0; i < npg; i++)
        f[i] = tm_access_ok(t, src + i * PG, ACC_WRITE);
    assert_int_equal(sys_mremap(K(t), p, src, npg * PG, dst, npg * PG), (long)dst);
    tm_check_all(t);
    for (unsigned i = 0; i < npg; i++)
        if (tm_access_ok(t, dst + i * PG, ACC_READ) != f[i])
            fail_msg("%s: page %u moved from %#llx to %#llx lost its frame", mode, i,
                     (unsigned long long)(src + i * PG), (unsigned long long)(dst + i * PG));
    uint64_t m;
    assert_int_equal(user_access(K(t), src, ACC_READ, &m), -EFAULT);
    assert_int_equal(p->mm->rss, npg);
    tm_check_all(t);
    do_exit(K(t), p);
    assert_int_equal(tm_destroy(t), 0);
}

/* A file mapping reaches at most FILE_PAGES_MAX pages into its file (the
 * page cache's key): mmap past it fails with EOVERFLOW, mremap growing past
 * it with EINVAL, and up to it works (its last page is read). */
static void test_file_offset_limit(void **state)
{
    (void)state;
    struct tmachine *t = tm_boot("native");
    struct task *p = kernel_spawn(K(t), 1);
    schedule_to(K(t), p);
    const uint64_t last = FILE_PAGES_MAX - 2;
    assert_int_equal(sys_mmap(K(t), p, A, 2 * PG, PROT_READ, MAP_PRIVATE, 5, last + 1), -EOVERFLOW);
    assert_int_equal(sys_mmap(K(t), p, A, 2 * PG, PROT_READ, MAP_PRIVATE, 5, FILE_PAGES_MAX + 9), -EOVERFLOW);
    assert_int_equal(sys_mmap(K(t), p, A, 2 * PG, PROT_READ, MAP_PRIVATE, 5, last), (long)A);
    tm_access_ok(t, A + PG, ACC_READ);
    assert_int_equal(sys_mremap(K(t), p, A, 2 * PG, A, 3 * PG), -EINVAL);
    assert_int_equal(sys_mremap(K(t), p, A + PG, PG, A + 64 * PG, 2 * PG), -EINVAL);
    assert_int_equal(sys_mremap(K(t), p, A, 2 * PG, A + 64 * PG, 2 * PG), (long)(A + 64 * PG));
    tm_check_all(t);
    do_exit(K(t), p);
    assert_int_equal(tm_destroy(t), 0);
}

static void test_mremap(void **state)
{
    (void)state;
    for (unsigned i = 0; i < mode_count(); i++) {
        const char *m = mode_at(i)->name;
        mremap_cases(m);
        mremap_move(m, A + 0x1ff000, 0x30000000ull, 2);            /* the source straddles 2 MiB */
        mremap_move(m, A, 0x30000000ull + 0x1ff000, 2);            /* the target straddles */
        mremap_move(m, 0x40000000ull, A + 0x1fe000, 4);            /* target below the source, straddles */
        mremap_move(m, A + 0x1fd000, 0x30000000ull + 0x1ff000, 5); /* both straddle, at other offsets */
    }
}

/* Move npmd touched 2 MiB extents (lvl 2: relink L1 tables) or one 1 GiB
 * extent (lvl 3: relink its L2 table) between aligned addresses of one
 * 512 GiB region: the tables at the target are the source's frames, and no
 * table is allocated or freed by the move. */
static void mremap_relink(const char *mode, uint64_t src, uint64_t dst, uint64_t len, unsigned lvl)
{
    struct tmachine *t = tm_boot(mode);
    struct kernel *k = K(t);
    struct task *p = kernel_spawn(k, 1);
    schedule_to(k, p);
    assert_int_equal(sys_mmap(k, p, src, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANON, 0, 0), (long)src);
    const uint64_t step = 8 * PG * 61;           /* a few pages in every 2 MiB */
    uint64_t f[600], n = 0;
    for (uint64_t off = 0; off < len && n < 600; off += step)
        f[n++] = tm_access_ok(t, src + off, ACC_WRITE);
    uint64_t tab[2] = { tm_guest_table(t, src, lvl - 1), tm_guest_table(t, src + len - PG, lvl - 1) };
    uint64_t l1a = k->st->cnt[CNT_pt_alloc_l1], l1f = k->st->cnt[CNT_pt_free_l1];
    uint64_t l2a = k->st->cnt[CNT_pt_alloc_l2], l2f = k->st->cnt[CNT_pt_free_l2];
    uint64_t writes0 = k->st->cnt[CNT_pte_writes];
    assert_int_equal(sys_mremap(k, p, src, len, dst, len), (long)dst);
    assert_int_equal(k->st->cnt[CNT_pt_alloc_l1], l1a);
    assert_int_equal(k->st->cnt[CNT_pt_free_l1], l1f);
    /* two entries written per relinked table (clear, link); moving 2 MiB
     * tables into another 1 GiB also links a new L2 there and frees the
     * emptied source L2 (one entry each); a relinked L2 needs neither */
    if (lvl == 2) {
        assert_int_equal(k->st->cnt[CNT_pt_alloc_l2] - l2a, 1);
        assert_int_equal(k->st->cnt[CNT_pt_free_l2] - l2f, 1);
        assert_int_equal(k->st->cnt[CNT_pte_writes] - writes0, 2 * (len / HPAGE_SIZE) + 2);
    } else {
        assert_int_equal(k->st->cnt[CNT_pt_alloc_l2], l2a);
        assert_int_equal(k->st->cnt[CNT_pt_free_l2], l2f);
        assert_int_equal(k->st->cnt[CNT_pte_writes] - writes0, 2);
    }
    assert_int_equal(tm_guest_table(t, dst, lvl - 1), tab[0]);
    assert_int_equal(tm_guest_table(t, dst + len - PG, lvl - 1), tab[1]);
    if (!strncmp(mode, "pv", 2))
        assert_true(page_of(k, tab[0])->flags & PG_pinned);
    tm_check_all(t);
    n = 0;
    for (uint64_t off = 0; off < len && n < 600; off += step)
        if (tm_access_ok(t, dst + off, ACC_READ) != f[n++])
            fail_msg("%s: page at +%#llx lost its frame", mode, (unsigned long long)off);
    uint64_t m;
    assert_int_equal(user_access(k, src, ACC_READ, &m), -EFAULT);
    tm_check_all(t);
    do_exit(k, p);
    assert_int_equal(tm_destroy(t), 0);
}

static void test_mremap_relink(void **state)
{
    (void)state;
    for (unsigned i = 0; i < mode_count(); i++) {
        const char *m = mode_at(i)->name;
        mremap_relink(m, 0x10000000ull, 0x40000000ull, 2 * HPAGE_SIZE, 2);   /* the review's t6 */
        mremap_relink(m, 0x40000000ull, 0x80000000ull, 1ull << 30, 3);
    }
}

int main(void)
{
    mv_error_quiet(1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clone_vm),
        cmocka_unit_test(test_mremap),
        cmocka_unit_test(test_mremap_relink),
        cmocka_unit_test(test_file_offset_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

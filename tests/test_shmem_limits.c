/* test_shmem_limits.c: shared anonymous memory at the edges of the page
 * cache (guest shmem.c, mm.c). A shmem object larger than the page cache
 * can key (2^32 pages, 16 TiB) is refused by mmap with ENOMEM, leaving what
 * was mapped there in place, as Linux's shmem_acct_size refuses one larger
 * than RAM plus swap; one of exactly 2^32 pages is accepted and its last
 * page faults. The attack review's lackey log (a 32 TiB shared anonymous
 * mmap, then a load at offset 2^32 pages) imports, and its replay and
 * `trace info` fail with the guest's ENOMEM instead of aborting. Freeing an
 * object costs one page-cache remove per page it holds, not one per offset
 * up to its highest (a 16 TiB object with its last page touched, unmapped
 * twelve times, took two minutes), and the pages still leave the cache in
 * ascending offset order, which fixes the frames later allocations get. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>
#include "guest/kernel.h"
#include "guest/pagecache.h"
#include "guest/shmem.h"
#include "testutil.h"
#include "trace/format.h"

#define PG PAGE_SIZE
#define A 0x10000000ull
#define K(t) (&(t)->m.k)
#define RW (PROT_READ | PROT_WRITE)
#define SHANON (MAP_SHARED | MAP_ANON)

/* One page more than the page cache keys, and the attack's 32 TiB: ENOMEM,
 * with the private page that was at A still mapped to the same frame and
 * no object made. Exactly 2^32 pages: mapped, its last page (offset
 * 2^32 - 1) faults, in a forked child too; mremap cannot grow it past the
 * largest offset (EINVAL, as for a file). */
static void test_object_past_cache_refused(void **state)
{
    (void)state;
    struct tmachine *t = tm_boot("native");
    struct kernel *k = K(t);
    struct task *p = kernel_spawn(k, 1);
    schedule_to(k, p);
    assert_int_equal(sys_mmap(k, p, A, PG, RW, MAP_PRIVATE | MAP_ANON, 0, 0), (long)A);
    uint64_t f = tm_access_ok(t, A, ACC_WRITE);
    uint32_t nshm = k->nshm, nvma = p->mm->nvma;
    const uint64_t lens[2] = { (FILE_PAGES_MAX + 1) * PG, 1ull << 45 };
    for (unsigned i = 0; i < 2; i++) {
        assert_int_equal(sys_mmap(k, p, A, lens[i], RW, SHANON, 0, 0), -ENOMEM);
        assert_int_equal(k->nshm, nshm);
        assert_int_equal(p->mm->nvma, nvma);
        assert_int_equal(find_vma(p->mm, A)->end, A + PG);
        assert_int_equal(tm_access_ok(t, A, ACC_READ), f);
    }
    /* a private mapping that large is no shmem object: accepted */
    assert_int_equal(sys_mmap(k, p, A + PG, (FILE_PAGES_MAX + 1) * PG, RW, MAP_PRIVATE | MAP_ANON, 0, 0),
                     (long)(A + PG));
    assert_int_equal(sys_munmap(k, p, A + PG, (FILE_PAGES_MAX + 1) * PG), 0);
    /* the largest object: 2^32 pages */
    const uint64_t B = 1ull << 44, last = B + (FILE_PAGES_MAX - 1) * PG;
    assert_int_equal(sys_mmap(k, p, B, FILE_PAGES_MAX * PG, RW, SHANON, 0, 0), (long)B);
    uint32_t id = find_vma(p->mm, B)->file;
    assert_int_equal(shmem_size(k, id), FILE_PAGES_MAX);
    uint64_t fl = tm_access_ok(t, last, ACC_WRITE);
    assert_int_equal(sys_mremap(k, p, B, FILE_PAGES_MAX * PG, B, (FILE_PAGES_MAX + 1) * PG), -EINVAL);
    assert_int_equal(do_fork(k, p, 2), 2);
    struct task *c = task_find(k, 2);
    schedule_to(k, c);
    assert_int_equal(tm_access_ok(t, last, ACC_READ), fl);
    do_exit(k, c);
    schedule_to(k, p);
    assert_int_equal(shmem_cached(k), 1);
    assert_int_equal(sys_munmap(k, p, B, FILE_PAGES_MAX * PG), 0);
    assert_int_equal(shmem_cached(k), 0);
    tm_check_all(t);
    do_exit(k, p);
    assert_int_equal(tm_destroy(t), 0);
}

/* The attack's 93-byte trace, in the kernel: map 16 TiB - 4 KiB of shared
 * anonymous memory, touch its last page, unmap, twelve times. Each unmap
 * takes the one page out of the cache with one remove (the old loop made
 * 2^32 - 1 of them, about 10 s a cycle). An object faulted out of order
 * costs one remove per page. */
static void test_free_costs_cached_pages(void **state)
{
    (void)state;
    struct tmachine *t = tm_boot("native");
    struct kernel *k = K(t);
    struct task *p = kernel_spawn(k, 1);
    schedule_to(k, p);
    const uint64_t base = 0x100000000ull, size = (1ull << 44) - PG;
    for (unsigned cyc = 0; cyc < 12; cyc++) {
        assert_int_equal(sys_mmap(k, p, base, size, RW, SHANON, 0, 0), (long)base);
        tm_access_ok(t, base + size - PG, ACC_WRITE);
        uint64_t ops = k->shm_cache->ops;
        assert_int_equal(sys_munmap(k, p, base, size), 0);
        if (k->shm_cache->ops - ops != 1)
            fail_msg("cycle %u: freeing an object of one cached page made %llu page-cache operations", cyc,
                     (unsigned long long)(k->shm_cache->ops - ops));
        assert_int_equal(shmem_cached(k), 0);
    }
    /* 64 pages of a 2^20-page object, touched in a scrambled order */
    const uint64_t n = 1ull << 20;
    assert_int_equal(sys_mmap(k, p, base, n * PG, RW, SHANON, 0, 0), (long)base);
    for (uint64_t i = 0; i < 64; i++)
        tm_access_ok(t, base + ((i * 40503) % 64) * (n / 64) * PG + i * PG, i & 1 ? ACC_WRITE : ACC_READ);
    assert_int_equal(shmem_cached(k), 64);
    uint64_t ops = k->shm_cache->ops;
    assert_int_equal(sys_munmap(k, p, base, n * PG), 0);
    assert_int_equal(k->shm_cache->ops - ops, 64);
    assert_int_equal(shmem_cached(k), 0);
    tm_check_all(t);
    do_exit(k, p);
    assert_int_equal(tm_destroy(t), 0);
}

/* The order pages leave the cache: ascending offsets, as the loop over the
 * offsets had it (results depend on it: the buddy allocator hands out the
 * frame freed last first). Pages 3, 0 and 2 are faulted in that order,
 * each between two private pages, so no freed frame can coalesce with its
 * buddy. A shrink unmaps 2 and 3 (the cache keeps them), and the munmap of
 * the rest frees 2, then 3 (shmem_put), then 0 (its mmu_gather). Three new
 * private pages then get 0's frame, 3's, 2's; freeing in fault order would
 * give 0's, 2's, 3's. */
static void test_free_order(void **state)
{
    (void)state;
    struct tmachine *t = tm_boot("native");
    struct kernel *k = K(t);
    struct task *p = kernel_spawn(k, 1);
    schedule_to(k, p);
    const uint64_t P = A + 16 * PG, S = A + PG;
    assert_int_equal(sys_mmap(k, p, P, 8 * PG, RW, MAP_PRIVATE | MAP_ANON, 0, 0), (long)P);
    assert_int_equal(sys_mmap(k, p, S, 4 * PG, RW, SHANON, 0, 0), (long)S);
    uint64_t priv[4], f[4];
    priv[0] = tm_access_ok(t, P, ACC_WRITE);                /* and the tables, kept by this mapping */
    static const unsigned order[3] = { 3, 0, 2 };
    for (unsigned i = 0; i < 3; i++) {
        f[order[i]] = tm_access_ok(t, S + order[i] * PG, ACC_WRITE);
        priv[i + 1] = tm_access_ok(t, P + (i + 1) * PG, ACC_WRITE);
    }
    for (unsigned i = 0; i < 3; i++) {                      /* each buddy stays allocated */
        uint64_t b = f[order[i]] ^ 1;
        if (b != priv[i] && b != priv[i + 1])
            fail_msg("page %u's frame %#llx: its buddy %#llx is no private page", order[i],
                     (unsigned long long)f[order[i]], (unsigned long long)b);
    }
    assert_int_equal(sys_mremap(k, p, S, 4 * PG, S, PG), (long)S);
    assert_int_equal(shmem_cached(k), 3);
    assert_int_equal(sys_munmap(k, p, S, PG), 0);
    assert_int_equal(shmem_cached(k), 0);
    uint64_t g[3];
    for (unsigned i = 0; i < 3; i++)
        g[i] = tm_access_ok(t, P + (4 + i) * PG, ACC_WRITE);
    if (g[0] != f[0] || g[1] != f[3] || g[2] != f[2])
        fail_msg("new pages got frames %#llx %#llx %#llx; want 0's %#llx, 3's %#llx, 2's %#llx",
                 (unsigned long long)g[0], (unsigned long long)g[1], (unsigned long long)g[2],
                 (unsigned long long)f[0], (unsigned long long)f[3], (unsigned long long)f[2]);
    tm_check_all(t);
    do_exit(k, p);
    assert_int_equal(tm_destroy(t), 0);
}

/* The attack review's reproducer through the project's own importer: the
 * lackey log imports (the recording kernel accepted the mmap: Linux with
 * overcommit_memory=1 does), and replaying it, under every mode, and
 * `trace info` end with the guest's ENOMEM on that record, exit status 1,
 * instead of an abort. */
/* kernel_check verifies the objects' offset lists: inside the object, and
 * as many as the shmem cache holds; a list that lost an offset, gained
 * one, or names one past the object's size is reported. */
static void test_offset_lists_checked(void **state)
{
    (void)state;
    struct tmachine *t = tm_boot("native");
    struct kernel *k = K(t);
    struct task *p = kernel_spawn(k, 1);
    schedule_to(k, p);
    const uint64_t base = 0x100000000ull;
    assert_int_equal(sys_mmap(k, p, base, 16 * PG, RW, SHANON, 0, 0), (long)base);
    for (unsigned i = 0; i < 4; i++)
        tm_access_ok(t, base + (3 * i + 1) * PG, ACC_WRITE);
    char msg[256] = "";
    assert_int_equal(kernel_check(k, msg, sizeof msg), 0);
    struct shmem_obj *o = NULL;
    for (uint32_t id = 1; id <= k->nshm; id++)
        if (k->shm[id].npg)
            o = &k->shm[id];
    assert_non_null(o);
    assert_int_equal(o->npg, 4);
    o->npg--;                                           /* an offset lost */
    assert_int_not_equal(kernel_check(k, msg, sizeof msg), 0);
    assert_non_null(strstr(msg, "list 3 faulted pages, the shmem cache holds 4"));
    o->npg++;
    uint64_t keep = o->pgoff[2];
    o->pgoff[2] = o->size;                              /* past the object */
    assert_int_not_equal(kernel_check(k, msg, sizeof msg), 0);
    assert_non_null(strstr(msg, "past its size 16 pages"));
    o->pgoff[2] = keep;
    assert_int_equal(kernel_check(k, msg, sizeof msg), 0);
    do_exit(k, p);
    assert_int_equal(tm_destroy(t), 0);
}

static void test_lackey_replayed(void **state)
{
    (void)state;
    if (!getenv("MEMVIRT"))
        skip();
    char log[64], mvt[64], args[512], err[4096];
    tu_tmpname(log, sizeof log, "shmlog");
    tu_tmpname(mvt, sizeof mvt, "shmmvt");
    FILE *f = fopen(log, "w");
    assert_non_null(f);
    fputs("==100== Lackey, an example Valgrind tool\n"
          "==100== Command: /bin/x\n"
          "==100== Parent PID: 1\n"
          "==100== \n"
          "SYSCALL[100,1](9) sys_mmap ( 0x0, 35184372088832, 3, 33, 4294967295, 0 ) --> [pre-success] "
          "Success(0x100000000)\n"
          " L 100100000000,8\n", f);
    fclose(f);
    snprintf(args, sizeof args, "trace import --from lackey %s -o %s", log, mvt);
    int rc = tu_cli(args, err, sizeof err);
    if (rc)
        fail_msg("import: exit %d: %s", rc, err);
    static const char *const want =
        "pid 100: mmap at 0x100000000, length 0x200000000000, failed: Cannot allocate memory (ENOMEM)";
    snprintf(args, sizeof args, "compare --trace %s --quiet", mvt);
    rc = tu_cli(args, err, sizeof err);
    if (rc != 1 || !strstr(err, "record 3 at byte") || !strstr(err, want) || strstr(err, "invariant"))
        fail_msg("compare: exit %d: %s", rc, err);
    snprintf(args, sizeof args, "trace info %s", mvt);
    rc = tu_cli(args, err, sizeof err);
    if (rc != 1 || !strstr(err, want) || strstr(err, "invariant"))
        fail_msg("trace info: exit %d: %s", rc, err);
    unlink(log);
    unlink(mvt);
}

/* The same object as an exec's shared anonymous segment (the replayer
 * maps it with mmap after the exec): the replay fails there with ENOMEM,
 * in every mode, and `trace info` too; it aborted on the load. */
static void test_exec_segment_replayed(void **state)
{
    (void)state;
    if (!getenv("MEMVIRT"))
        skip();
    const uint64_t base = 0x100000000ull;
    static const struct trace_seg seg[2] = {
        { 0x100000000ull, 1ull << 45, TRP_READ | TRP_WRITE, TRS_ANON, 1, 0, 0, 0 },
        { 0x7ff000000000ull, 0x20000, TRP_READ | TRP_WRITE, TRS_STACK, 0, 0, 0, 0 },
    };
    uint64_t ref[1] = { (base + (1ull << 44)) | TRR_WRITE };
    const struct trace_rec r[] = {
        { .kind = TR_SPAWN, .pid = 100 },
        { .kind = TR_EXEC, .pid = 100, .path = "/x", .seg = seg, .nseg = 2 },
        { .kind = TR_REFS, .pid = 100, .ref = ref, .nref = 1 },
        { .kind = TR_EXIT, .pid = 100 },
    };
    char path[64], args[256], err[4096];
    tu_tmpname(path, sizeof path, "shmexec");
    tu_write_trace(path, r, sizeof r / sizeof r[0]);
    static const char *const want =
        "pid 100: mmap at 0x100000000, length 0x200000000000, failed: Cannot allocate memory (ENOMEM)";
    snprintf(args, sizeof args, "compare --trace %s --check --quiet", path);
    int rc = tu_cli(args, err, sizeof err);
    if (rc != 1 || !strstr(err, "record 2 at byte") || !strstr(err, want) || strstr(err, "invariant"))
        fail_msg("compare: exit %d: %s", rc, err);
    snprintf(args, sizeof args, "trace info %s", path);
    rc = tu_cli(args, err, sizeof err);
    if (rc != 1 || !strstr(err, want) || strstr(err, "invariant"))
        fail_msg("trace info: exit %d: %s", rc, err);
    unlink(path);
}

int main(void)
{
    mv_error_quiet(1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_object_past_cache_refused),
        cmocka_unit_test(test_free_costs_cached_pages),
        cmocka_unit_test(test_free_order),
        cmocka_unit_test(test_offset_lists_checked),
        cmocka_unit_test(test_lackey_replayed),
        cmocka_unit_test(test_exec_segment_replayed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

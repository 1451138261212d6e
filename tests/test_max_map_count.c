/* test_max_map_count.c: the guest enforces vm.max_map_count as Linux does
 * (mm/mmap.c, default DEFAULT_MAX_MAP_COUNT = 65530): mmap fails with ENOMEM
 * once map_count exceeds it (do_mmap: map_count > max); munmap, mprotect and
 * mremap fail with ENOMEM where a split would create a VMA past it, and leave
 * the address space as it was. Without the limit a trace could make one
 * address space of any number of VMAs (an attack review). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>

#include "guest/kernel.h"
#include "testutil.h"

#define PG PAGE_SIZE
#define A 0x100000000ull      /* one-page VMAs at every other page from here */
#define B 0x10000000ull       /* a three-page VMA to cut */
#define C 0x20000000ull       /* a one-page VMA to move */
#define MAXMAP 65530u
#define RW (PROT_READ | PROT_WRITE)
#define ANON (MAP_PRIVATE | MAP_ANON)

/* Boot, map B (3 pages) and C (1 page), then one-page VMAs until nvma == n. */
static struct tmachine *fill(struct task **pp, uint32_t n)
{
    struct tmachine *t = tm_boot("native");
    struct kernel *k = &t->m.k;
    struct task *p = kernel_spawn(k, 1);
    schedule_to(k, p);
    assert_int_equal(sys_mmap(k, p, B, 3 * PG, RW, ANON, 0, 0), (long)B);
    assert_int_equal(sys_mmap(k, p, C, PG, RW, ANON, 0, 0), (long)C);
    for (uint64_t i = 0; p->mm->nvma < n; i++)
        assert_int_equal(sys_mmap(k, p, A + 2 * i * PG, PG, RW, ANON, 0, 0), (long)(A + 2 * i * PG));
    *pp = p;
    return t;
}

static void done(struct tmachine *t, struct task *p)
{
    do_exit(&t->m.k, p);
    assert_int_equal(tm_destroy(t), 0);
}

static void test_mmap_past_limit(void **state)
{
    (void)state;
    struct task *p;
    struct tmachine *t = fill(&p, MAXMAP);
    struct kernel *k = &t->m.k;
    /* map_count == max is not yet "too many" (do_mmap tests >) */
    uint64_t a = 0x300000000ull;
    assert_int_equal(sys_mmap(k, p, a, PG, RW, ANON, 0, 0), (long)a);
    assert_int_equal(p->mm->nvma, MAXMAP + 1);
    assert_int_equal(sys_mmap(k, p, a + 2 * PG, PG, RW, ANON, 0, 0), -ENOMEM);
    assert_int_equal(p->mm->nvma, MAXMAP + 1);
    /* even one that would merge: the check comes first */
    assert_int_equal(sys_mmap(k, p, a + PG, PG, RW, ANON, 0, 0), -ENOMEM);
    /* after an unmap there is room again */
    assert_int_equal(sys_munmap(k, p, a, PG), 0);
    assert_int_equal(sys_munmap(k, p, C, PG), 0);
    assert_int_equal(sys_mmap(k, p, a, PG, RW, ANON, 0, 0), (long)a);
    done(t, p);
}

static void test_munmap_split_past_limit(void **state)
{
    (void)state;
    struct task *p;
    struct tmachine *t = fill(&p, MAXMAP);
    struct kernel *k = &t->m.k;
    uint64_t mfn;
    assert_int_equal(user_access(k, B + PG, ACC_WRITE, &mfn), 0);
    /* a hole in the middle of one VMA would make 65531 */
    assert_int_equal(sys_munmap(k, p, B + PG, PG), -ENOMEM);
    assert_int_equal(p->mm->nvma, MAXMAP);
    assert_int_equal(find_vma(p->mm, B)->end, B + 3 * PG);
    assert_int_equal(user_access(k, B + PG, ACC_READ, &mfn), 0);   /* still mapped */
    /* the head or tail of a VMA, or a whole one, needs no new VMA */
    assert_int_equal(sys_munmap(k, p, B, PG), 0);
    assert_int_equal(sys_munmap(k, p, B + 2 * PG, PG), 0);
    assert_int_equal(sys_munmap(k, p, A, PG), 0);
    /* MAP_FIXED into the middle of a VMA unmaps first: the same rule */
    assert_int_equal(sys_mmap(k, p, B - PG, 3 * PG, RW, ANON, 0, 0), (long)(B - PG));
    assert_int_equal(sys_mmap(k, p, A, PG, RW, ANON, 0, 0), (long)A);
    assert_int_equal(p->mm->nvma, MAXMAP);
    assert_int_equal(sys_mmap(k, p, B, PG, PROT_READ, ANON, 0, 0), -ENOMEM);
    assert_int_equal(p->mm->nvma, MAXMAP);
    done(t, p);
}

static void test_mprotect_split_past_limit(void **state)
{
    (void)state;
    struct task *p;
    struct tmachine *t = fill(&p, MAXMAP - 1);
    struct kernel *k = &t->m.k;
    /* one split (the tail) fits: 65530 */
    assert_int_equal(sys_mprotect(k, p, B + 2 * PG, PG, PROT_READ), 0);
    assert_int_equal(p->mm->nvma, MAXMAP);
    /* splitting [B, B + 2 pages) again (its tail, to a protection its
     * neighbour does not have, so no merge can absorb it) now does not */
    assert_int_equal(sys_mprotect(k, p, B + PG, PG, 0 /* PROT_NONE */), -ENOMEM);
    assert_int_equal(p->mm->nvma, MAXMAP);
    assert_int_equal(find_vma(p->mm, B)->end, B + 2 * PG);
    assert_int_equal(find_vma(p->mm, B)->flags & (VM_READ | VM_WRITE), VM_READ | VM_WRITE);
    /* a whole VMA, or no change of protection, splits nothing */
    assert_int_equal(sys_mprotect(k, p, C, PG, PROT_READ), 0);
    assert_int_equal(sys_mprotect(k, p, B + PG, PG, RW), 0);
    assert_int_equal(p->mm->nvma, MAXMAP);
    done(t, p);
}

static void test_mremap_move_past_limit(void **state)
{
    (void)state;
    struct task *p;
    struct tmachine *t = fill(&p, MAXMAP - 3);
    struct kernel *k = &t->m.k;
    /* move_vma: map_count >= max - 3 is refused before anything moves */
    assert_int_equal(sys_mremap(k, p, C, PG, 0x30000000ull, PG), -ENOMEM);
    assert_int_equal(find_vma(p->mm, C)->start, C);
    assert_int_equal(sys_munmap(k, p, A, PG), 0);
    assert_int_equal(sys_mremap(k, p, C, PG, 0x30000000ull, PG), 0x30000000l);
    /* shrinking in place is an munmap: a hole in the middle is refused */
    done(t, p);
    t = fill(&p, MAXMAP);
    assert_int_equal(sys_mremap(&t->m.k, p, B, 2 * PG, B, PG), -ENOMEM);
    assert_int_equal(find_vma(p->mm, B + PG)->end, B + 3 * PG);
    assert_int_equal(sys_mremap(&t->m.k, p, B, 3 * PG, B, PG), (long)B);   /* the tail: fine */
    done(t, p);
}

/* execve maps the image through do_mmap's test (elf_map's vm_mmap), so an
 * image of more mappings than the limit fails with ENOMEM. It was mapped
 * whatever the limit: the first call refused was the heap's brk after it,
 * and the run ended on a fault in that heap. */
static void test_exec_past_limit(void **state)
{
    (void)state;
    const char *const params[] = { "guest.max_map_count=3", NULL };
    struct tmachine *t = tm_boot_params("native", "memwalk", params);
    struct kernel *k = &t->m.k;
    struct task *p = kernel_spawn(k, 1);
    schedule_to(k, p);
    /* the stack and four mappings no two of which merge */
    struct layout l = { .name = "four", .nseg = 5 };
    for (unsigned i = 0; i < 4; i++)
        l.seg[i] = (struct segment){ 0x400000 + 2 * i * PG, PG, PROT_READ, SEG_ANON, 0, 0 };
    l.seg[4] = (struct segment){ 0x7fff0000000ull, 32 * PG, RW, SEG_STACK, 0, 0 };
    /* the stack, then 1, 2, 3 mappings: map_count == max is not "too many" */
    assert_int_equal(do_execve(k, p, &l), -ENOMEM);
    assert_int_equal(p->mm->nvma, 4);
    assert_null(find_vma(p->mm, 0x400000 + 6 * PG));
    /* three fit */
    l.seg[3] = l.seg[4];
    l.nseg = 4;
    assert_int_equal(do_execve(k, p, &l), 0);
    assert_int_equal(p->mm->nvma, 4);
    done(t, p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mmap_past_limit),
        cmocka_unit_test(test_munmap_split_past_limit),
        cmocka_unit_test(test_mprotect_split_past_limit),
        cmocka_unit_test(test_mremap_move_past_limit),
        cmocka_unit_test(test_exec_past_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

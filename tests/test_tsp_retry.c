/* test_tsp_retry.c: tsp.retry, KVM's retry_instruction. A clear_page
 * (rep stos) into a write-protected table frame takes one page-fault exit
 * (with tsp.retry on, by default where the flood detector is KVM 3.3's):
 * the frame's shadows are zapped and the rest of the page is written
 * natively. With tsp.retry=false the rep is emulated in the exit it took
 * (a new exit each 1 KiB while the frame stays protected), and write
 * flooding unshadows the frame; with tsp.unsync a frame shadowed only as
 * L1 tables goes out of sync instead (KVM's fault handler unsyncs it
 * before anything is emulated); the current root is never zapped, so its
 * stores are emulated.
 *
 * The frame cleared is a live L1 table the guest has emptied: the pages at
 * A are unmapped while a VMA later in the same 2 MiB keeps the table, and
 * the flood threshold is raised meanwhile so the unmap's own stores leave
 * it shadowed. Clearing it changes nothing the guest sees, so every test
 * ends with the full self-check. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "hv/shadow/shadow.h"
#include "testutil.h"

#define A 0x400000ull                  /* 8 pages written, then unmapped */
#define KEEP (A + (1ull << 20))        /* an untouched VMA in the same L1 table */

static struct tmachine *boot(const char *p1)
{
    const char *const p[] = { "guest.ram_mb=256", "tsp.flood_threshold=1000", p1, NULL };
    return tm_boot_params("tsp", "memwalk", p);
}

static uint64_t cnt(struct tmachine *t, enum mv_counter c) { return t->m.st.cnt[c]; }
static struct shadow *SH(struct tmachine *t) { return t->m.hv->mode; }

/* Process 1 with A's L1 table emptied and shadowed; the flood threshold
 * back at KVM's 3. Returns the table's frame in *l1. */
static struct task *proc(struct tmachine *t, uint64_t *l1)
{
    struct kernel *k = &t->m.k;
    struct task *p = kernel_spawn(k, 1);
    schedule_to(k, p);
    uint64_t mfn;
    assert_int_equal(sys_mmap(k, p, A, 64 * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANON, 0, 0),
                     (long)A);
    assert_int_equal(sys_mmap(k, p, KEEP, PAGE_SIZE, PROT_READ, MAP_PRIVATE | MAP_ANON, 0, 0), (long)KEEP);
    for (unsigned i = 0; i < 8; i++)
        assert_int_equal(user_access(k, A + i * PAGE_SIZE, ACC_WRITE, &mfn), 0);
    *l1 = tm_guest_table(t, A, 1);
    assert_int_equal(sys_munmap(k, p, A, 64 * PAGE_SIZE), 0);
    assert_int_equal(tm_guest_table(t, A, 1), *l1);         /* the table stays */
    for (unsigned i = 0; i < PTRS_PER_TABLE; i++)
        assert_int_equal(kread_entry(k, *l1, i), 0);
    SH(t)->flood_threshold = 3;
    shadow_flood_fault_reset(SH(t));
    return p;
}

static void finish(struct tmachine *t, struct task *p) { tm_finish(t, p); }

struct delta { uint64_t pf, pt_write, retry; };

/* Clear guest frame gfn as clear_page does, and say which exits it took. */
static struct delta clear_elem(struct tmachine *t, uint64_t gfn, unsigned elem)
{
    struct delta d = { cnt(t, CNT_vm_exits_pf), cnt(t, CNT_vm_exits_pt_write), cnt(t, CNT_shadow_retry) };
    clear_page_stores(&t->m.k, gfn, elem);
    return (struct delta){ cnt(t, CNT_vm_exits_pf) - d.pf, cnt(t, CNT_vm_exits_pt_write) - d.pt_write,
                           cnt(t, CNT_shadow_retry) - d.retry };
}

static struct delta clear(struct tmachine *t, uint64_t gfn) { return clear_elem(t, gfn, 1); }

/* auto: on where the flood detector is KVM 3.3's per-page counter */
static void test_auto_follows_the_flood_detector(void **state)
{
    (void)state;
    static const struct { const char *p1, *p2; int retry; } c[] = {
        { NULL, NULL, 0 },
        { "tsp.unsync=true", NULL, 1 },
        { "tsp.flood_detector=page", NULL, 1 },
        { "tsp.flood_detector=vcpu", "tsp.unsync=true", 0 },
        { "tsp.retry=true", NULL, 1 },
        { "tsp.retry=false", "tsp.unsync=true", 0 },
    };
    for (unsigned i = 0; i < sizeof c / sizeof c[0]; i++) {
        const char *const p[] = { "guest.ram_mb=256", c[i].p1, c[i].p2, NULL };
        struct tmachine *t = tm_boot_params("tsp", "memwalk", p);
        assert_int_equal(SH(t)->retry, c[i].retry);
        assert_int_equal(tm_destroy(t), 0);
    }
}

static void test_retry_zaps_and_takes_one_exit(void **state)
{
    (void)state;
    struct tmachine *t = boot("tsp.retry=true");
    uint64_t l1;
    struct task *p = proc(t, &l1);
    assert_true(shadow_protected(SH(t), l1));
    assert_non_null(sp_find(SH(t), l1, 1));
    struct delta d = clear(t, l1);
    assert_int_equal(d.pf, 0);
    assert_int_equal(d.pt_write, 1);             /* counted with the trapped table stores */
    assert_int_equal(d.retry, 1);
    assert_false(shadow_protected(SH(t), l1));
    assert_null(sp_find(SH(t), l1, 1));
    finish(t, p);
}

/* Without retry (KVM before 3.3) the rep is emulated in the exit it took,
 * iteration after iteration: flooding unshadows the frame at the third
 * write, inside that one exit. A frame that never floods takes an exit
 * every 1024 iterations of the byte-wise rep (128 words): 4 a page; a
 * copy_page's rep movsq (512 iterations) takes one. */
static void test_without_retry_the_rep_is_emulated_in_one_exit(void **state)
{
    (void)state;
    {
        struct tmachine *t = boot("tsp.retry=false");
        uint64_t l1;
        struct task *p = proc(t, &l1);
        SH(t)->flood_threshold = 1u << 20;
        struct delta d = clear_elem(t, l1, 8);
        assert_int_equal(d.pt_write, 1);
        assert_true(shadow_protected(SH(t), l1));
        finish(t, p);
    }
    for (unsigned flood = 0; flood < 2; flood++) {
        struct tmachine *t = boot("tsp.retry=false");
        uint64_t l1;
        struct task *p = proc(t, &l1);
        if (!flood)
            SH(t)->flood_threshold = 1u << 20;
        assert_true(shadow_protected(SH(t), l1));
        uint64_t emulated = cnt(t, CNT_shadow_unprotect);
        struct delta d = clear(t, l1);
        assert_int_equal(d.retry, 0);
        assert_int_equal(d.pf, 0);
        assert_int_equal(d.pt_write, flood ? 1 : PTRS_PER_TABLE / (CPU_REP_RESTART / 8));
        assert_int_equal(shadow_protected(SH(t), l1), !flood);
        assert_int_equal(cnt(t, CNT_shadow_unprotect), emulated + flood);
        finish(t, p);
    }
}

static void test_unsync_takes_an_l1_out_of_sync_instead(void **state)
{
    (void)state;
    struct tmachine *t = boot("tsp.unsync=true");
    uint64_t l1;
    struct task *p = proc(t, &l1);
    shadow_sync_unsync(SH(t));                   /* a flush: every L1 in sync again */
    assert_true(shadow_protected(SH(t), l1));
    assert_true(shadow_unsyncable(SH(t), l1));
    struct delta d = clear(t, l1);
    assert_int_equal(d.retry, 0);
    assert_int_equal(d.pt_write, 1);
    assert_false(shadow_protected(SH(t), l1));
    assert_non_null(sp_find(SH(t), l1, 1));      /* out of sync, not zapped */
    /* an upper-level table cannot go out of sync: its clear is retried */
    uint64_t l2 = tm_guest_table(t, KEEP, 2), exits = cnt(t, CNT_vm_exits_pt_write);
    assert_false(shadow_unsyncable(SH(t), l2));
    assert_int_equal(tsp_handle_store_retry(t->m.hv, SH(t), this_cpu(&t->m.k), l2), 1);
    assert_int_equal(cnt(t, CNT_vm_exits_pt_write), exits + 1);
    assert_null(sp_find(SH(t), l2, 2));
    char msg[512] = "";
    assert_int_equal(shadow_check(SH(t), msg, sizeof msg), 0);
    finish(t, p);
}

static void test_current_root_is_emulated(void **state)
{
    (void)state;
    struct tmachine *t = boot("tsp.retry=true");
    uint64_t l1;
    struct task *p = proc(t, &l1);
    uint64_t root = p->mm->pgd, exits = cnt(t, CNT_vm_exits);
    assert_true(shadow_protected(SH(t), root));
    assert_int_equal(tsp_handle_store_retry(t->m.hv, SH(t), this_cpu(&t->m.k), root), 0);
    assert_int_equal(cnt(t, CNT_vm_exits), exits);
    assert_true(shadow_protected(SH(t), root));
    finish(t, p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_auto_follows_the_flood_detector),
        cmocka_unit_test(test_retry_zaps_and_takes_one_exit),
        cmocka_unit_test(test_without_retry_the_rep_is_emulated_in_one_exit),
        cmocka_unit_test(test_unsync_takes_an_l1_out_of_sync_instead),
        cmocka_unit_test(test_current_root_is_emulated),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_shadow.c: what the shadow paging modes do, mechanism by mechanism.
 *  tsp: a shadowed guest table is write-protected and a store to it exits
 *       and reaches the shadow at once; a table written over and over
 *       without being walked is unshadowed (write flooding); tsp.unsync
 *       unprotects an L1 at its first write; INVLPG resyncs one entry of
 *       it, a flush of its address space the whole of it.
 *  ssp: guest stores never exit; the shadow follows at the flush, through
 *       a trap, not an exit; the shadow-root buffer makes NOFLUSH context
 *       switches free and a miss an exit.
 *  both: faults hidden from the guest vs injected; a small pool evicts old
 *       roots and still translates right. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "hv/shadow/shadow.h"
#include "sim/oracle.h"
#include "testutil.h"

#define A 0x400000ull

static struct tmachine *boot(const char *mode, const char *extra)
{
    const char *const p[] = { "guest.ram_mb=256", extra, NULL };
    return tm_boot_params(mode, "memwalk", p);
}

static uint64_t cnt(struct tmachine *t, enum mv_counter c) { return t->m.st.cnt[c]; }
static struct shadow *SH(struct tmachine *t) { return t->m.hv->mode; }

static struct task *proc(struct tmachine *t, uint32_t pid, unsigned touch)
{
    struct kernel *k = &t->m.k;
    struct task *p = kernel_spawn(k, pid);
    schedule_to(k, p);
    assert_int_equal(sys_mmap(k, p, A, 64 * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANON, 0, 0), (long)A);
    uint64_t mfn;
    for (unsigned i = 0; i < touch; i++)
        assert_int_equal(user_access(k, A + i * PAGE_SIZE, ACC_WRITE, &mfn), 0);
    return p;
}

static uint64_t l1_of(struct tmachine *t, struct mm *mm, uint64_t va)
{
    struct kernel *k = &t->m.k;
    uint64_t table = mm->pgd;
    for (unsigned l = 4; l > 1; l--)
        table = k->pv->entry_pfn(k, kread_entry(k, table, pt_index(va, l)));
    return table;
}

/* The shadow leaf for va under the shadow root at table. */
static pte_t shadow_leaf_under(struct tmachine *t, uint64_t table, uint64_t va)
{
    for (unsigned l = 4; l > 1; l--) {
        pte_t e = pmem_read(&t->m.mem, table, pt_index(va, l));
        if (!pte_present(e))
            return 0;
        table = pte_frame(e);
    }
    return pmem_read(&t->m.mem, table, pt_index(va, 1));
}

/* The shadow leaf the hardware would use for va. */
static pte_t shadow_leaf(struct tmachine *t, uint64_t va) { return shadow_leaf_under(t, t->m.cpu.hw_root, va); }

static void finish(struct tmachine *t, struct task **p, unsigned n)
{
    char msg[512] = "";
    if (machine_check(&t->m, msg, sizeof msg))
        fail_msg("invariants: %s", msg);
    for (unsigned i = 0; i < n; i++)
        do_exit(&t->m.k, p[i]);
    if (machine_check(&t->m, msg, sizeof msg))
        fail_msg("invariants after exit: %s", msg);
    assert_int_equal(tm_destroy(t), 0);
}

static void test_tsp_store_to_shadowed_table_exits_and_propagates(void **state)
{
    (void)state;
    struct tmachine *t = boot("tsp", NULL);
    struct task *p = proc(t, 1, 2);
    struct kernel *k = &t->m.k;
    uint64_t l1 = l1_of(t, p->mm, A);
    assert_true(shadow_protected(SH(t), l1));
    assert_true(shadow_leaf(t, A) & _PAGE_RW);
    uint64_t exits = cnt(t, CNT_vm_exits_pt_write);
    /* mprotect read-only: the kernel rewrites both PTEs; each store exits */
    assert_int_equal(sys_mprotect(k, p, A, 2 * PAGE_SIZE, PROT_READ), 0);
    assert_int_equal(cnt(t, CNT_vm_exits_pt_write), exits + 2);
    assert_false(shadow_leaf(t, A) & _PAGE_RW);       /* the shadow followed at once */
    uint64_t mfn;
    assert_int_equal(user_access(k, A, ACC_WRITE, &mfn), -EFAULT);
    assert_int_equal(user_access(k, A, ACC_READ, &mfn), 0);
    /* a store to a table that has no shadow does not exit */
    struct mm scratch = { .id = 999 };
    uint64_t fresh = pt_alloc(k, &scratch, 1);
    exits = cnt(t, CNT_vm_exits);
    pte_store_direct(k, fresh, 3, 0);
    assert_int_equal(cnt(t, CNT_vm_exits), exits);
    pt_free(k, &scratch, fresh, 1);
    finish(t, &p, 1);
}

static void test_tsp_write_flooding_unshadows(void **state)
{
    (void)state;
    struct tmachine *t = boot("tsp", NULL);
    struct task *p = proc(t, 1, 1);
    struct kernel *k = &t->m.k;
    uint64_t l1 = l1_of(t, p->mm, A);
    uint64_t exits = cnt(t, CNT_vm_exits_pt_write), unprot = cnt(t, CNT_shadow_unprotect);
    /* stores to unused entries of the same table, no fault walking through it */
    for (unsigned i = 0; i < 3; i++)
        pte_store_direct(k, l1, 300 + i, 0);
    assert_int_equal(cnt(t, CNT_vm_exits_pt_write), exits + 3);
    assert_int_equal(cnt(t, CNT_shadow_unprotect), unprot + 1);   /* the third store unshadowed it */
    assert_false(shadow_protected(SH(t), l1));
    pte_store_direct(k, l1, 310, 0);
    assert_int_equal(cnt(t, CNT_vm_exits_pt_write), exits + 3);   /* free from now on */
    /* the next fault through it shadows and protects it again */
    uint64_t mfn;
    assert_int_equal(user_access(k, A, ACC_READ, &mfn), 0);
    cpu_hw_flush(&t->m.cpu, 1);
    assert_int_equal(user_access(k, A, ACC_READ, &mfn), 0);
    assert_true(shadow_protected(SH(t), l1));
    finish(t, &p, 1);
}

static void test_tsp_unsync_until_flush(void **state)
{
    (void)state;
    struct tmachine *t = boot("tsp", "tsp.unsync=true");
    struct task *p = proc(t, 1, 1);          /* its PTE was written before the L1 was shadowed */
    struct kernel *k = &t->m.k;
    uint64_t l1 = l1_of(t, p->mm, A), mfn;
    assert_true(shadow_protected(SH(t), l1));
    uint64_t exits = cnt(t, CNT_vm_exits_pt_write);
    assert_int_equal(user_access(k, A + PAGE_SIZE, ACC_WRITE, &mfn), 0);  /* its PTE store unsyncs it */
    assert_int_equal(cnt(t, CNT_vm_exits_pt_write), exits + 1);
    assert_false(shadow_protected(SH(t), l1));
    exits = cnt(t, CNT_vm_exits_pt_write);
    flush_tlb_mm(k, p->mm);                  /* a flush brings it back in sync and protected */
    assert_true(shadow_protected(SH(t), l1));
    pte_t e = kread_entry(k, l1, pt_index(A, 1));
    pte_store_direct(k, l1, pt_index(A, 1), e & ~(pte_t)_PAGE_RW);   /* first store: exits, unsyncs */
    assert_int_equal(cnt(t, CNT_vm_exits_pt_write), exits + 1);
    assert_false(shadow_protected(SH(t), l1));
    pte_store_direct(k, l1, pt_index(A, 1) + 1, kread_entry(k, l1, pt_index(A, 1) + 1) & ~(pte_t)_PAGE_RW);
    assert_int_equal(cnt(t, CNT_vm_exits_pt_write), exits + 1);      /* later stores are free */
    assert_true(shadow_leaf(t, A) & _PAGE_RW);                       /* the shadow is behind */
    assert_true(shadow_leaf(t, A + PAGE_SIZE) & _PAGE_RW);
    /* INVLPG resyncs its one entry, as KVM's kvm_mmu_invalidate_addr: the
     * neighbour the guest has not flushed stays behind (as its TLB entry
     * may), and the table stays out of sync, its stores free */
    flush_tlb_page(k, p->mm, A);
    assert_false(shadow_leaf(t, A) & _PAGE_RW);
    assert_true(shadow_leaf(t, A + PAGE_SIZE) & _PAGE_RW);
    assert_false(shadow_protected(SH(t), l1));
    pte_store_direct(k, l1, pt_index(A, 1) + 2, kread_entry(k, l1, pt_index(A, 1) + 2));
    assert_int_equal(cnt(t, CNT_vm_exits_pt_write), exits + 1);
    flush_tlb_mm(k, p->mm);                  /* a flush of the address space resyncs it whole */
    assert_false(shadow_leaf(t, A + PAGE_SIZE) & _PAGE_RW);
    assert_true(shadow_protected(SH(t), l1));
    finish(t, &p, 1);
}

/* A CR3 load that flushes resyncs the out-of-sync shadows the new root
 * reaches, not another address space's (KVM: kvm_mmu_sync_roots on the
 * current root). */
static void test_tsp_unsync_cr3_load_resyncs_its_root(void **state)
{
    (void)state;
    const char *const params[] = { "guest.ram_mb=256", "tsp.unsync=true", "guest.pcid=false", NULL };
    struct tmachine *t = tm_boot_params("tsp", "memwalk", params);   /* every CR3 load flushes */
    struct task *ps[2] = { proc(t, 1, 1), NULL };   /* its PTE written before its L1 was shadowed */
    struct kernel *k = &t->m.k;
    uint64_t l1 = l1_of(t, ps[0]->mm, A);
    assert_true(shadow_protected(SH(t), l1));
    ps[1] = proc(t, 2, 1);                   /* the current address space now */
    assert_true(shadow_protected(SH(t), l1));
    uint64_t exits = cnt(t, CNT_vm_exits_pt_write);
    pte_store_direct(k, l1, pt_index(A, 1), kread_entry(k, l1, pt_index(A, 1)) & ~(pte_t)_PAGE_RW);
    assert_int_equal(cnt(t, CNT_vm_exits_pt_write), exits + 1);
    assert_false(shadow_protected(SH(t), l1));
    flush_tlb_mm(k, ps[1]->mm);              /* the other address space's flush leaves it */
    assert_false(shadow_protected(SH(t), l1));
    schedule_to(k, ps[0]);                   /* loading its root resyncs it */
    assert_true(shadow_protected(SH(t), l1));
    assert_false(shadow_leaf(t, A) & _PAGE_RW);
    finish(t, ps, 2);
}

/* INVLPG resyncs its address under the previous roots too, as KVM's
 * (KVM_MMU_ROOTS_ALL): an out-of-sync L1 of the address space left
 * behind follows the guest's entry without waiting for its next load. */
static void test_tsp_unsync_invlpg_previous_roots(void **state)
{
    (void)state;
    struct tmachine *t = boot("tsp", "tsp.unsync=true");
    struct task *ps[2] = { proc(t, 1, 1), NULL };   /* its PTE written before its L1 was shadowed */
    struct kernel *k = &t->m.k;
    uint64_t l1 = l1_of(t, ps[0]->mm, A);
    struct shadow_page *root1 = sp_find(SH(t), ps[0]->mm->pgd, 4);
    assert_non_null(root1);
    ps[1] = proc(t, 2, 1);                   /* the current address space now; 1's root a previous one */
    assert_true(shadow_leaf_under(t, root1->smfn, A) & _PAGE_RW);
    pte_store_direct(k, l1, pt_index(A, 1), kread_entry(k, l1, pt_index(A, 1)) & ~(pte_t)_PAGE_RW);
    assert_false(shadow_protected(SH(t), l1));                    /* out of sync, its shadow behind */
    assert_true(shadow_leaf_under(t, root1->smfn, A) & _PAGE_RW);
    cpu_invlpg(&t->m.cpu, A);
    assert_false(shadow_leaf_under(t, root1->smfn, A) & _PAGE_RW);
    assert_false(shadow_protected(SH(t), l1));                    /* and still out of sync */
    finish(t, ps, 2);
}

/* tsp.oos_limit: at most N out-of-sync L1 shadows, in slots by guest frame
 * as Xen's oos_hash_add places them; a page that finds its slot taken
 * resyncs the one it displaces, which is write-protected again. The test
 * writes once into each of eight L1 tables and follows the slots with its
 * own copy of Xen's rule. */
#define OOS_N 3
#define OOS_TABLES 8
static void test_tsp_oos_limit_slots_as_xen(void **state)
{
    (void)state;
    const char *const params[] = { "guest.ram_mb=256", "tsp.unsync=true", "tsp.oos_limit=3", NULL };
    struct tmachine *t = tm_boot_params("tsp", "memwalk", params);
    struct kernel *k = &t->m.k;
    struct task *p = kernel_spawn(k, 1);
    schedule_to(k, p);
    uint64_t l1[OOS_TABLES], mfn;
    for (unsigned i = 0; i < OOS_TABLES; i++) {   /* one L1 table each, 2 MiB apart */
        uint64_t va = A + i * (2ull << 20);
        assert_int_equal(sys_mmap(k, p, va, 2 * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANON, 0, 0),
                         (long)va);
        assert_int_equal(user_access(k, va, ACC_WRITE, &mfn), 0);
        l1[i] = l1_of(t, p->mm, va);
        assert_true(shadow_protected(SH(t), l1[i]));
    }
    uint64_t want[OOS_N] = { 0 }, evicts = cnt(t, CNT_shadow_oos_evict);
    for (unsigned i = 0; i < OOS_TABLES; i++) {
        /* Xen's rule, written out: home slot, punting an occupant at home */
        uint64_t g = l1[i] + 1, crushed = 0;
        unsigned idx = (unsigned)(l1[i] % OOS_N);
        if (want[idx] && (want[idx] - 1) % OOS_N == idx) {
            uint64_t home = want[idx];
            want[idx] = g;
            g = home;
            idx = (idx + 1) % OOS_N;
        }
        crushed = want[idx];
        want[idx] = g;
        unsigned slot = pt_index(A + i * (2ull << 20), 1) + 1;   /* an entry beside the mapped page */
        pte_store_direct(k, l1[i], slot, 0);                     /* trapped: out of sync */
        assert_false(shadow_protected(SH(t), l1[i]));
        assert_memory_equal(SH(t)->oos, want, sizeof want);
        if (crushed) {
            assert_true(shadow_protected(SH(t), crushed - 1));  /* resynced and protected again */
            assert_int_equal(cnt(t, CNT_shadow_oos_evict), ++evicts);
        } else {
            assert_int_equal(cnt(t, CNT_shadow_oos_evict), evicts);
        }
        char msg[256] = "";
        if (machine_check(&t->m, msg, sizeof msg))
            fail_msg("after table %u: %s", i, msg);
    }
    assert_true(evicts >= OOS_TABLES - OOS_N);
    unsigned out = 0;
    for (unsigned i = 0; i < OOS_TABLES; i++)
        out += !shadow_protected(SH(t), l1[i]);
    assert_int_equal(out, OOS_N);                 /* the bound holds */
    flush_tlb_mm(k, p->mm);                       /* a flush resyncs them all and empties the slots */
    for (unsigned i = 0; i < OOS_TABLES; i++)
        assert_true(shadow_protected(SH(t), l1[i]));
    for (unsigned i = 0; i < OOS_N; i++)
        assert_int_equal(SH(t)->oos[i], 0);
    finish(t, &p, 1);
}

/* Under tsp.oos_limit the flush scope is Xen's: INVLPG drops the shadow
 * entry of an out-of-sync L1 for the next fault to refill (sh_invlpg),
 * where KVM's resyncs it; a flush of the current address space resyncs
 * every out-of-sync page, another address space's too (Xen's
 * shadow_resync_current_vcpu), where KVM's resyncs what the root reaches. */
static void test_tsp_oos_xen_flush_scope(void **state)
{
    (void)state;
    const char *const params[] = { "guest.ram_mb=256", "tsp.unsync=true", "tsp.oos_limit=3", NULL };
    struct tmachine *t = tm_boot_params("tsp", "memwalk", params);
    struct task *ps[2] = { proc(t, 1, 2), NULL };
    struct kernel *k = &t->m.k;
    uint64_t l1a = l1_of(t, ps[0]->mm, A), mfn;
    ps[1] = proc(t, 2, 2);                                   /* the loaded address space */
    uint64_t l1b = l1_of(t, ps[1]->mm, A);
    pte_store_direct(k, l1b, pt_index(A, 1), kread_entry(k, l1b, pt_index(A, 1)) & ~(pte_t)_PAGE_RW);
    assert_false(shadow_protected(SH(t), l1b));              /* out of sync */
    assert_true(shadow_leaf(t, A) & _PAGE_RW);               /* behind the guest */
    uint64_t pf = cnt(t, CNT_vm_exits_pf);
    cpu_invlpg(&t->m.cpu, A);
    assert_false(pte_present(shadow_leaf(t, A)));            /* dropped, not resynced */
    assert_true(pte_present(shadow_leaf(t, A + PAGE_SIZE))); /* its neighbour kept */
    assert_false(shadow_protected(SH(t), l1b));              /* still out of sync */
    assert_int_equal(user_access(k, A, ACC_READ, &mfn), 0);  /* a hidden fault refills it */
    assert_int_equal(cnt(t, CNT_vm_exits_pf), pf + 1);
    assert_true(pte_present(shadow_leaf(t, A)));
    assert_false(shadow_leaf(t, A) & _PAGE_RW);
    /* the address space not loaded: its L1 goes out of sync too, and a
     * reload of the current CR3 brings both back */
    pte_store_direct(k, l1a, 300, 0);
    assert_false(shadow_protected(SH(t), l1a));
    cpu_reload_cr3(&t->m.cpu);
    assert_true(shadow_protected(SH(t), l1a));
    assert_true(shadow_protected(SH(t), l1b));
    for (unsigned i = 0; i < 3; i++)
        assert_int_equal(SH(t)->oos[i], 0);
    finish(t, ps, 2);
}

/* shadow_check's invariant 5 sees a slot lost, a slot naming an in-sync
 * page, and a page in a slot that is not its home or the next. */
static void test_tsp_oos_check_catches(void **state)
{
    (void)state;
    const char *const params[] = { "guest.ram_mb=256", "tsp.unsync=true", "tsp.oos_limit=5", NULL };
    struct tmachine *t = tm_boot_params("tsp", "memwalk", params);
    struct task *p = proc(t, 1, 1);
    struct kernel *k = &t->m.k;
    struct shadow *s = SH(t);
    uint64_t l1 = l1_of(t, p->mm, A);
    pte_store_direct(k, l1, 200, 0);
    unsigned home = (unsigned)(l1 % 5), far = (home + 3) % 5;
    assert_int_equal(s->oos[home], l1 + 1);
    char msg[256] = "";
    assert_int_equal(machine_check(&t->m, msg, sizeof msg), 0);
    s->oos[home] = 0;                                       /* lost */
    assert_int_not_equal(machine_check(&t->m, msg, sizeof msg), 0);
    assert_non_null(strstr(msg, "neither its home slot"));
    s->oos[far] = l1 + 1;                                   /* in a slot it cannot be in */
    assert_int_not_equal(machine_check(&t->m, msg, sizeof msg), 0);
    s->oos[far] = 0;
    s->oos[home] = l1 + 1;
    s->oos[(home + 1) % 5] = l1 + 1 + 5;                    /* names a frame with no out-of-sync shadow */
    assert_int_not_equal(machine_check(&t->m, msg, sizeof msg), 0);
    assert_non_null(strstr(msg, "no out-of-sync L1 shadow"));
    s->oos[(home + 1) % 5] = 0;
    assert_int_equal(machine_check(&t->m, msg, sizeof msg), 0);
    finish(t, &p, 1);
}

static void test_ssp_stores_never_exit_flush_traps(void **state)
{
    (void)state;
    struct tmachine *t = boot("ssp", NULL);
    struct task *p = proc(t, 1, 2);
    struct kernel *k = &t->m.k;
    uint64_t exits = cnt(t, CNT_vm_exits), traps = cnt(t, CNT_ssp_traps);
    assert_false(shadow_protected(SH(t), l1_of(t, p->mm, A)));
    /* mprotect: two plain stores, then the flush of the range (two INVLPGs) */
    assert_int_equal(sys_mprotect(k, p, A, 2 * PAGE_SIZE, PROT_READ), 0);
    assert_int_equal(cnt(t, CNT_vm_exits), exits);
    assert_int_equal(cnt(t, CNT_ssp_traps), traps + 2);
    assert_false(shadow_leaf(t, A) & _PAGE_RW);
    assert_false(shadow_leaf(t, A + PAGE_SIZE) & _PAGE_RW);
    assert_int_equal(cnt(t, CNT_vm_exits_invlpg), 0);
    finish(t, &p, 1);
}

static void test_faults_hidden_or_injected(void **state)
{
    (void)state;
    for (unsigned m = 0; m < 2; m++) {
        struct tmachine *t = boot(m ? "ssp" : "tsp", NULL);
        struct task *p = proc(t, 1, 1);
        struct kernel *k = &t->m.k;
        uint64_t mfn;
        /* a page the guest maps, missing from the shadow: hidden */
        cpu_hw_flush(&t->m.cpu, 1);
        uint64_t pf = cnt(t, CNT_guest_pf), fill = cnt(t, CNT_shadow_fill), inj = cnt(t, CNT_pf_injected);
        struct shadow_page *leaf = sp_find(SH(t), l1_of(t, p->mm, A), 1);
        assert_non_null(leaf);
        sp_set(SH(t), leaf, pt_index(A, 1), 0);
        assert_int_equal(user_access(k, A, ACC_READ, &mfn), 0);
        assert_int_equal(cnt(t, CNT_guest_pf), pf);
        assert_int_equal(cnt(t, CNT_shadow_fill), fill + 1);
        assert_int_equal(cnt(t, CNT_pf_injected), inj);
        /* a page the guest does not map yet: injected, then filled */
        assert_int_equal(user_access(k, A + 5 * PAGE_SIZE, ACC_WRITE, &mfn), 0);
        assert_int_equal(cnt(t, CNT_guest_pf), pf + 1);
        assert_int_equal(cnt(t, CNT_pf_injected), inj + 1);
        /* the guest's A and D bits were set as hardware would have */
        pte_t g = kread_entry(k, l1_of(t, p->mm, A), pt_index(A + 5 * PAGE_SIZE, 1));
        assert_true((g & _PAGE_ACCESSED) && (g & _PAGE_DIRTY));
        finish(t, &p, 1);
    }
}

/* Context switches between two address spaces with PCIDs (NOFLUSH once
 * each has its ASID slot): buffered roots switch with no trap and no exit. */
static void test_ssp_root_buffer(void **state)
{
    (void)state;
    for (unsigned entries = 0; entries <= 16; entries += 16) {
        char param[64];
        snprintf(param, sizeof param, "ssp.rootbuf_entries=%u", entries);
        struct tmachine *t = boot("ssp", param);
        struct task *p[2] = { proc(t, 1, 1), NULL };
        p[1] = kernel_spawn(&t->m.k, 2);
        schedule_to(&t->m.k, p[1]);
        schedule_to(&t->m.k, p[0]);
        uint64_t cr3 = cnt(t, CNT_vm_exits_cr3), hit = cnt(t, CNT_rootbuf_hit), traps = cnt(t, CNT_ssp_traps);
        for (unsigned i = 0; i < 10; i++) {
            schedule_to(&t->m.k, p[1]);
            schedule_to(&t->m.k, p[0]);
        }
        if (entries) {
            assert_int_equal(cnt(t, CNT_rootbuf_hit), hit + 20);
            assert_int_equal(cnt(t, CNT_vm_exits_cr3), cr3);
            assert_int_equal(cnt(t, CNT_ssp_traps), traps);
        } else {
            assert_int_equal(cnt(t, CNT_vm_exits_cr3), cr3 + 20);
        }
        finish(t, p, 2);
    }
}

/* A pool of a few pages and two roots: every switch evicts, translations
 * stay right (the oracle checks each access). */
static void test_small_pool_evicts_and_stays_correct(void **state)
{
    (void)state;
    for (unsigned m = 0; m < 2; m++) {
        const char *const params[] = { "guest.ram_mb=64", "memwalk.ws_mb=16", "shadow.pool_permille=1",
                                       "shadow.max_roots=2", NULL };
        struct tmachine *t = tm_boot_params(m ? "ssp" : "tsp", "memwalk", params);
        struct oracle *o = oracle_create(&t->m);
        struct kernel *k = &t->m.k;
        struct task *p[4];
        for (unsigned i = 0; i < 4; i++)
            p[i] = proc(t, 1 + i, 8);
        char msg[512];
        for (unsigned round = 0; round < 5; round++)
            for (unsigned i = 0; i < 4; i++) {
                schedule_to(k, p[i]);
                for (unsigned j = 0; j < 64; j++) {
                    uint64_t mfn, va = A + j * PAGE_SIZE;
                    assert_int_equal(user_access(k, va, ACC_WRITE, &mfn), 0);
                    if (oracle_check(o, p[i]->mm, va, ACC_WRITE, mfn, msg, sizeof msg))
                        fail_msg("%s", msg);
                }
            }
        assert_true(cnt(t, CNT_shadow_root_evict) > 0);
        assert_true(SH(t)->npages <= SH(t)->pool_max);
        oracle_destroy(o);
        finish(t, p, 4);
    }
}

/* A guest flush that a shadow mode intercepts is still done, by the
 * hypervisor, at the flush's price: cost.tlb_invlpg for INVLPG, cost.tlb_flush
 * for a CR3 reload or a global flush, in hypervisor time (the transition is
 * charged apart, in exits). Shadow sync work is priced at zero here so that
 * only the flush is left. (The old code charged nothing: 0 != 120.) */
static void test_intercepted_flush_is_charged(void **state)
{
    (void)state;
    static const char *const modes[][4] = {
        { "tsp", NULL },
        { "tsp", "tsp.unsync=true", NULL },
        { "ssp", NULL },
        { "selective", "selective.start=shadow", "selective.policy=fixed", NULL },
    };
    for (unsigned m = 0; m < 4; m++) {
        const char *p[8] = { "guest.ram_mb=256", "cost.shadow_entry=0", "cost.shadow_page=0" };
        unsigned n = 3;
        for (unsigned i = 1; modes[m][i]; i++)
            p[n++] = modes[m][i];
        p[n] = NULL;
        struct tmachine *t = tm_boot_params(modes[m][0], "memwalk", p);
        struct task *pr = proc(t, 1, 4);
        struct cpu *c = &t->m.cpu;
        const struct cost *cost = &t->cfg.cost;
        uint64_t *cyc = t->m.st.cyc;
        uint64_t h0 = cyc[CYC_hypervisor], f0 = cyc[CYC_tlb_flush];
        cpu_invlpg(c, A);
        assert_int_equal(cyc[CYC_hypervisor] - h0, cost->tlb_invlpg);
        h0 = cyc[CYC_hypervisor];
        cpu_reload_cr3(c);
        assert_int_equal(cyc[CYC_hypervisor] - h0, cost->tlb_flush);
        h0 = cyc[CYC_hypervisor];
        cpu_flush_all(c);
        assert_int_equal(cyc[CYC_hypervisor] - h0, cost->tlb_flush);
        assert_int_equal(cyc[CYC_tlb_flush], f0);          /* the guest's bucket: not its own flush */
        finish(t, &pr, 1);
    }
}

int main(void)
{
    mv_error_quiet(1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tsp_store_to_shadowed_table_exits_and_propagates),
        cmocka_unit_test(test_tsp_write_flooding_unshadows),
        cmocka_unit_test(test_tsp_unsync_until_flush),
        cmocka_unit_test(test_tsp_unsync_cr3_load_resyncs_its_root),
        cmocka_unit_test(test_tsp_unsync_invlpg_previous_roots),
        cmocka_unit_test(test_tsp_oos_limit_slots_as_xen),
        cmocka_unit_test(test_tsp_oos_check_catches),
        cmocka_unit_test(test_tsp_oos_xen_flush_scope),
        cmocka_unit_test(test_ssp_stores_never_exit_flush_traps),
        cmocka_unit_test(test_faults_hidden_or_injected),
        cmocka_unit_test(test_ssp_root_buffer),
        cmocka_unit_test(test_small_pool_evicts_and_stays_correct),
        cmocka_unit_test(test_intercepted_flush_is_charged),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_checkers.c: every checker catches the breakage it exists for. Each
 * test builds a correct state, sees the checker accept it, breaks the state
 * on purpose the way a bug would, and expects the checker to report it:
 *  - the translation oracle: a TLB entry the guest never flushed, a stale
 *    shadow entry after the flush that should have synced it (and the
 *    stale translation allowed before that flush, unless strict); an entry
 *    surviving a full or non-global flush; a stale entry with rights it
 *    never had (write, exec past NX, user on a supervisor page); a
 *    hypervisor that drops the guest's flushes (PV included) and a guest
 *    that skips them, in whole --check runs;
 *  - the guest kernel's self-check: bookkeeping that disagrees with the
 *    tables, a PTE outside every VMA or granting more than its VMA allows,
 *    copy-on-write broken (a private writable PTE over a page not marked
 *    exclusive, an exclusive page with another reference);
 *  - the PV invariants: a writable guest mapping of a live page table, a
 *    DMA-writable page-table frame, a stale IOTLB entry, a stale TLB or
 *    paging-structure cache entry, and every kind of general, type and
 *    linear reference count that disagrees with the tables;
 *  - nested paging: an EPT entry to a frame the domain does not own;
 *  - shadow paging: a shadow leaf to a foreign frame, a shadow more
 *    permissive than the guest (in an address space not loaded too, under
 *    tsp) or present where the guest entry is not, a link to the shadow of
 *    another guest table, a writable leaf (4 KiB or 2 MiB) on a protected
 *    table, a broken link, a shadow page outside the hypervisor's frames,
 *    wrong counts and protection bookkeeping, a writable leaf (or link to a
 *    splintered 2 MiB page) over a clean guest entry; each corruption
 *    breaks one rule only and is expected by its message;
 *  - the HVM I/O invariants: the IOMMU mapping a hypervisor frame;
 *  - and the engine: a run whose invariants break fails under --check, as
 *    does one whose buddy allocator is corrupt (kernel_check, run by the
 *    engine); a leaked guest frame fails the shutdown; clustering's
 *    bookkeeping is among the hypervisor's invariants. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "hv/hap/ept.h"
#include "hv/paging.h"
#include "hv/public/xen.h"
#include "hv/pv/xen.h"
#include "hv/shadow/shadow.h"
#include "hw/ept.h"
#include "sim/engine.h"
#include "sim/oracle.h"
#include "testutil.h"

#define A 0x400000ull
#define B (A + PAGE_SIZE)

static struct tmachine *boot(const char *mode)
{
    const char *const p[] = { "guest.ram_mb=256", NULL };
    return tm_boot_params(mode, "memwalk", p);
}

static struct task *proc(struct tmachine *t)
{
    struct task *p = tm_spawn_touching(t, A, 8);
    uint64_t mfn;
    assert_int_equal(user_access(&t->m.k, B, ACC_WRITE, &mfn), 0);
    return p;
}

static int hv_ok(struct tmachine *t)
{
    char msg[512] = "";
    int rc = machine_check(&t->m, msg, sizeof msg);
    if (rc)
        print_message("    (checker: %s)\n", msg);
    return rc == 0;
}

/* ---- the oracle --------------------------------------------------------------- */

/* Native: a PTE changed. Before the flush the old translation may be used
 * (allowed, counted stale); a TLB entry that survives the flush is a bug. */
static void test_oracle_tlb_entry_not_flushed(void **state)
{
    (void)state;
    struct tmachine *t = boot("native");
    struct oracle *o = oracle_create(&t->m);
    struct kernel *k = &t->m.k;
    struct cpu *c = &t->m.cpu;
    struct task *p = proc(t);
    char msg[512];
    uint64_t a, b;
    assert_int_equal(user_access(k, A, ACC_READ, &a), 0);
    assert_int_equal(oracle_check(o, p->mm, A, ACC_READ, a, msg, sizeof msg), 0);
    assert_int_equal(user_access(k, B, ACC_READ, &b), 0);
    assert_int_equal(oracle_check(o, p->mm, B, ACC_READ, b, msg, sizeof msg), 0);
    /* the guest points A at B's frame, not yet flushed */
    uint64_t l1 = tm_guest_table(t, A, 1);
    pte_t old = kread_entry(k, l1, pt_index(A, 1));
    pte_store_direct(k, l1, pt_index(A, 1), pte_make(pte_frame(kread_entry(k, l1, pt_index(B, 1))), old & PTE_FLAGS_MASK));
    uint64_t got;
    assert_int_equal(user_access(k, A, ACC_READ, &got), 0);
    assert_int_equal(got, a);                                   /* the TLB still has it */
    assert_int_equal(oracle_check(o, p->mm, A, ACC_READ, got, msg, sizeof msg), 0);   /* allowed */
    assert_int_equal(t->m.st.cnt[CNT_oracle_stale], 1);
    /* an unrelated flush does not end the window */
    cpu_invlpg(c, B);
    assert_int_equal(oracle_check(o, p->mm, A, ACC_READ, a, msg, sizeof msg), 0);
    /* the flush covering A does: after it, the old frame is a bug */
    cpu_invlpg(c, A);
    struct tlb_xlate x = { .frame = a, .flags = TLB_U | TLB_W | TLB_D | TLB_NX, .size = PG_4K };
    tlb_insert(&c->tlb, A, c->pcid, &x);                         /* the bug: the entry survives */
    assert_int_equal(user_access(k, A, ACC_READ, &got), 0);
    assert_int_equal(got, a);
    assert_int_equal(oracle_check(o, p->mm, A, ACC_READ, got, msg, sizeof msg), -1);
    /* and the right answer passes */
    tlb_flush_page(&c->tlb, A, c->pcid);
    assert_int_equal(user_access(k, A, ACC_READ, &got), 0);
    assert_int_equal(got, b);
    assert_int_equal(oracle_check(o, p->mm, A, ACC_READ, got, msg, sizeof msg), 0);
    pte_store_direct(k, l1, pt_index(A, 1), old);
    cpu_invlpg(c, A);
    do_exit(k, p);
    oracle_destroy(o);
    assert_int_equal(tm_destroy(t), 0);
}

/* ssp: the shadow is stale until the guest flushes (allowed); a stale
 * shadow entry after the flush is caught by the oracle and by the checker. */
static void test_oracle_stale_shadow_after_flush(void **state)
{
    (void)state;
    struct tmachine *t = boot("ssp");
    struct oracle *o = oracle_create(&t->m);
    struct kernel *k = &t->m.k;
    struct cpu *c = &t->m.cpu;
    struct task *p = proc(t);
    char msg[512];
    uint64_t a, b, got;
    assert_int_equal(user_access(k, A, ACC_READ, &a), 0);
    assert_int_equal(oracle_check(o, p->mm, A, ACC_READ, a, msg, sizeof msg), 0);
    assert_int_equal(user_access(k, B, ACC_READ, &b), 0);
    uint64_t l1 = tm_guest_table(t, A, 1);
    pte_t old = kread_entry(k, l1, pt_index(A, 1));
    uint64_t exits = t->m.st.cnt[CNT_vm_exits];
    pte_store_direct(k, l1, pt_index(A, 1), pte_make(pte_frame(kread_entry(k, l1, pt_index(B, 1))), old & PTE_FLAGS_MASK));
    assert_int_equal(t->m.st.cnt[CNT_vm_exits], exits);          /* no write protection */
    /* the TLB loses the entry (capacity, not a flush): the walk uses the
     * shadow, which is stale: still allowed before the guest flushes */
    tlb_flush_all(&c->tlb);
    assert_int_equal(user_access(k, A, ACC_READ, &got), 0);
    assert_int_equal(got, a);
    assert_int_equal(oracle_check(o, p->mm, A, ACC_READ, got, msg, sizeof msg), 0);
    /* a flush the hypervisor makes for its own reasons does not end the
     * window either: only the guest's own invalidation does */
    cpu_hw_flush(c, 1);
    assert_int_equal(user_access(k, A, ACC_READ, &got), 0);
    assert_int_equal(got, a);
    assert_int_equal(oracle_check(o, p->mm, A, ACC_READ, got, msg, sizeof msg), 0);
    /* (the shadow invariants are checked between events, when the guest owes
     * no flush; inside this window they would rightly report the stale leaf) */
    /* the guest flushes: a trap resyncs the shadow */
    uint64_t traps = t->m.st.cnt[CNT_ssp_traps];
    cpu_invlpg(c, A);
    assert_int_equal(t->m.st.cnt[CNT_ssp_traps], traps + 1);
    assert_int_equal(user_access(k, A, ACC_READ, &got), 0);
    assert_int_equal(got, b);
    assert_int_equal(oracle_check(o, p->mm, A, ACC_READ, got, msg, sizeof msg), 0);
    /* the bug: the shadow leaf still maps the old frame after the flush */
    uint64_t st = tm_hw_l1(t, A);
    pte_t se = pmem_read(&t->m.mem, st, pt_index(A, 1));
    pmem_write(&t->m.mem, st, pt_index(A, 1), pte_make(a, se & PTE_FLAGS_MASK));
    tlb_flush_all(&c->tlb);
    assert_int_equal(user_access(k, A, ACC_READ, &got), 0);
    assert_int_equal(got, a);
    assert_int_equal(oracle_check(o, p->mm, A, ACC_READ, got, msg, sizeof msg), -1);
    assert_false(hv_ok(t));                                     /* shadow grants what the guest does not */
    pmem_write(&t->m.mem, st, pt_index(A, 1), se);
    assert_true(hv_ok(t));
    pte_store_direct(k, l1, pt_index(A, 1), old);
    cpu_invlpg(c, A);
    do_exit(k, p);
    oracle_destroy(o);
    assert_int_equal(tm_destroy(t), 0);
}

/* ---- the guest kernel's self-check ----------------------------------------- */

static void test_kernel_check(void **state)
{
    (void)state;
    struct tmachine *t = boot("native");
    struct kernel *k = &t->m.k;
    struct task *p = proc(t);
    char msg[256];
    assert_int_equal(kernel_check(k, msg, sizeof msg), 0);
    p->mm->rss++;                                               /* bookkeeping disagrees */
    assert_int_equal(kernel_check(k, msg, sizeof msg), -1);
    p->mm->rss--;
    p->mm->pt_pages++;
    assert_int_equal(kernel_check(k, msg, sizeof msg), -1);
    p->mm->pt_pages--;
    /* a PTE that maps a page-table frame instead of a data page */
    uint64_t l1 = tm_guest_table(t, A, 1);
    pte_t e = kread_entry(k, l1, pt_index(A, 1));
    pmem_write(&t->m.mem, l1, pt_index(A, 1), pte_make(l1, e & PTE_FLAGS_MASK));
    assert_int_equal(kernel_check(k, msg, sizeof msg), -1);
    pmem_write(&t->m.mem, l1, pt_index(A, 1), e);
    assert_int_equal(kernel_check(k, msg, sizeof msg), 0);
    /* copy-on-write broken: a private writable entry over an anonymous
     * page not marked exclusive (as if a fork shared it), and a page
     * marked exclusive that has another reference (as if a fork had not
     * cleared the mark) */
    struct page *pg = page_of(k, pte_frame(e));
    assert_true((e & _PAGE_RW) && (pg->flags & PG_anon) && pg->anon_exclusive && pg->count == 1);
    pg->anon_exclusive = 0;
    assert_int_equal(kernel_check(k, msg, sizeof msg), -1);
    assert_non_null(strstr(msg, "not an exclusive anonymous one"));
    pg->anon_exclusive = 1;
    pg->count++;
    assert_int_equal(kernel_check(k, msg, sizeof msg), -1);
    assert_non_null(strstr(msg, "marked exclusive"));
    pg->count--;
    assert_int_equal(kernel_check(k, msg, sizeof msg), 0);
    do_exit(k, p);
    assert_int_equal(tm_destroy(t), 0);
}

/* The kernel's self-check against the VMAs: a PTE moved to an address no
 * VMA covers (what a mremap that fills the wrong table slots leaves, the
 * counts unchanged), a PTE writable where the VMA forbids writes, one
 * executable where the VMA forbids execution. */
static void test_kernel_check_vma(void **state)
{
    (void)state;
    struct tmachine *t = boot("native");
    struct kernel *k = &t->m.k;
    struct task *p = proc(t);
    char msg[256];
    uint64_t l1 = tm_guest_table(t, A, 1);
    unsigned ia = pt_index(A, 1), out = pt_index(A + 16 * PAGE_SIZE, 1);   /* beyond the 8-page VMA */
    pte_t e = kread_entry(k, l1, ia);
    pmem_write(&t->m.mem, l1, ia, 0);
    pmem_write(&t->m.mem, l1, out, e);
    assert_int_equal(kernel_check(k, msg, sizeof msg), -1);
    assert_non_null(strstr(msg, "outside every VMA"));
    pmem_write(&t->m.mem, l1, out, 0);
    pmem_write(&t->m.mem, l1, ia, e);
    assert_int_equal(kernel_check(k, msg, sizeof msg), 0);
    /* read-only VMA: its PTEs lose write; one given it back is caught */
    assert_int_equal(sys_mprotect(k, p, A, 8 * PAGE_SIZE, PROT_READ), 0);
    assert_int_equal(kernel_check(k, msg, sizeof msg), 0);
    e = kread_entry(k, l1, ia);
    assert_false(e & _PAGE_RW);
    pmem_write(&t->m.mem, l1, ia, e | _PAGE_RW);
    assert_int_equal(kernel_check(k, msg, sizeof msg), -1);
    assert_non_null(strstr(msg, "without VM_WRITE"));
    pmem_write(&t->m.mem, l1, ia, e & ~_PAGE_NX);
    assert_int_equal(kernel_check(k, msg, sizeof msg), -1);
    assert_non_null(strstr(msg, "without VM_EXEC"));
    pmem_write(&t->m.mem, l1, ia, e);
    assert_int_equal(kernel_check(k, msg, sizeof msg), 0);
    do_exit(k, p);
    assert_int_equal(tm_destroy(t), 0);
}

/* ---- Xen PV ---------------------------------------------------------------------- */

static void test_pv_check(void **state)
{
    (void)state;
    struct tmachine *t = boot("pv");
    struct xen *x = XEN(t->m.hv);
    struct kernel *k = &t->m.k;
    struct task *p = proc(t);
    assert_true(hv_ok(t));
    uint64_t l1 = pfn_to_mfn(x->dom, tm_guest_table(t, A, 1));
    assert_true(pgt_is_table(frame(x, l1)->type) && frame(x, l1)->type_count);
    /* a writable guest mapping of a live page table (written behind Xen's back) */
    unsigned free_idx = pt_index(A, 1) + 100;
    pmem_write(&t->m.mem, l1, free_idx, pte_make(l1, _PAGE_PRESENT | _PAGE_RW | _PAGE_USER));
    assert_false(hv_ok(t));
    pmem_write(&t->m.mem, l1, free_idx, 0);
    assert_true(hv_ok(t));
    /* an entry to a frame the domain does not own */
    pmem_write(&t->m.mem, l1, free_idx, pte_make(hv_heap_free_frame(t->m.hv, 0), _PAGE_PRESENT | _PAGE_USER));
    assert_false(hv_ok(t));
    pmem_write(&t->m.mem, l1, free_idx, 0);
    /* the page table made DMA-writable in the IOMMU */
    vtd_map_page(&x->dom->vtd, l1, l1, 1);
    assert_false(hv_ok(t));
    vtd_unmap_page(&x->dom->vtd, l1);
    assert_true(hv_ok(t));
    /* a stale IOTLB entry granting DMA write to it */
    struct iommu *io = &t->m.hv->iommu;
    io->tlb_tag[0] = (l1 << 17) | ((uint64_t)x->dom->id << 1) | 1;
    io->tlb_mfn[0] = l1;
    io->tlb_w[0] = 1;
    assert_false(hv_ok(t));
    io->tlb_tag[0] = 0;
    /* a writable type count that does not match the mappings */
    uint64_t data = pfn_to_mfn(x->dom, k->pv->entry_pfn(k, kread_entry(k, tm_guest_table(t, A, 1), pt_index(A, 1))));
    frame(x, data)->type_count++;
    assert_false(hv_ok(t));
    frame(x, data)->type_count--;
    assert_true(hv_ok(t));
    do_exit(k, p);
    assert_int_equal(tm_destroy(t), 0);
}

/* pv_check's recount of general and type references, broken one count at a
 * time: each must be reported, naming what is wrong. */
static void expect_pv_report(struct tmachine *t, const char *what)
{
    char msg[512] = "";
    assert_int_not_equal(machine_check(&t->m, msg, sizeof msg), 0);
    if (!strstr(msg, what))
        fail_msg("pv_check reported \"%s\", expected a message about \"%s\"", msg, what);
}

static void test_pv_check_refcounts(void **state)
{
    (void)state;
    struct tmachine *t = boot("pv");
    struct xen *x = XEN(t->m.hv);
    struct kernel *k = &t->m.k;
    struct task *p = proc(t);
    assert_true(hv_ok(t));
    uint64_t l1 = pfn_to_mfn(x->dom, tm_guest_table(t, A, 1));
    uint64_t l2 = pfn_to_mfn(x->dom, tm_guest_table(t, A, 2));
    uint64_t data = pfn_to_mfn(x->dom, k->pv->entry_pfn(k, kread_entry(k, tm_guest_table(t, A, 1), pt_index(A, 1))));
    struct page_info *d = frame(x, data), *p1 = frame(x, l1), *p2 = frame(x, l2);

    /* a general reference too many (a leak), too few (a premature free) */
    d->count++;
    expect_pv_report(t, "general count");
    d->count -= 2;
    expect_pv_report(t, "general count");
    d->count++;
    assert_true(hv_ok(t));
    /* a table's type count off by one either way */
    p2->type_count++;
    expect_pv_report(t, "type count");
    p2->type_count -= 2;
    expect_pv_report(t, "type count");
    p2->type_count++;
    assert_true(hv_ok(t));
    /* a pin without its references; a pin's references without the pin */
    assert_false(p2->flags & PGF_pinned);
    p2->flags |= PGF_pinned;
    expect_pv_report(t, "count");
    p2->flags &= (uint8_t)~PGF_pinned;
    assert_true(p1->flags & PGF_pinned);
    p1->flags &= (uint8_t)~PGF_pinned;
    expect_pv_report(t, "count");
    p1->flags |= PGF_pinned;
    assert_true(hv_ok(t));
    /* a partial validation without its own general reference */
    p1->flags = (uint8_t)((p1->flags & ~PGF_validated) | PGF_partial);
    p1->nr_validated = PTRS_PER_TABLE - 1;
    p1->type_count--;
    expect_pv_report(t, "general count");
    p1->flags = (uint8_t)((p1->flags & ~PGF_partial) | PGF_validated);
    p1->nr_validated = 0;
    p1->type_count++;
    assert_true(hv_ok(t));
    /* linear-entry bookkeeping that no entry backs */
    p2->linear_uses++;
    expect_pv_report(t, "linear");
    p2->linear_uses--;
    /* a base pointer whose references are gone */
    uint64_t base = x->guest_table;
    frame(x, base)->count--;
    expect_pv_report(t, "general count");
    frame(x, base)->count++;
    assert_true(hv_ok(t));
    /* a TLB entry granting write to a page table (a type change Xen did not
     * flush for), and a paging-structure cache entry naming a data page */
    struct tlb_xlate w = { .frame = l1, .flags = TLB_W | TLB_U | TLB_D, .size = PG_4K };
    tlb_insert_missed(&t->m.cpu.tlb, 0x7000000000ull, 0, &w);
    expect_pv_report(t, "stale TLB entry");
    cpu_hw_flush(&t->m.cpu, 1);
    assert_true(hv_ok(t));
    pwc_insert(&t->m.cpu.pwc, 2, 0x7000000000ull, 0, data, TLB_W | TLB_U);
    expect_pv_report(t, "paging-structure cache");
    cpu_hw_flush(&t->m.cpu, 1);
    assert_true(hv_ok(t));
    /* a reference to a frame that is not the domain's (Xen's heap) */
    uint64_t heap = hv_heap_free_frame(t->m.hv, 0);
    frame(x, heap)->count++;
    expect_pv_report(t, "not the domain's");
    frame(x, heap)->count--;
    assert_true(hv_ok(t));
    do_exit(k, p);
    assert_int_equal(tm_destroy(t), 0);
}

/* ---- nested paging ----------------------------------------------------------------- */

static void test_hap_check(void **state)
{
    (void)state;
    struct tmachine *t = boot("hap");
    struct task *p = proc(t);
    struct hv *h = t->m.hv;
    assert_true(hv_ok(t));
    /* the EPT leaf of A's data frame pointed elsewhere: a frame not the domain's */
    uint64_t gfn = t->m.k.pv->entry_pfn(&t->m.k, kread_entry(&t->m.k, tm_guest_table(t, A, 1), pt_index(A, 1)));
    struct ept *e = h->mode;   /* struct hap begins with its struct ept */
    uint64_t table = e->root, gpa = gfn << PAGE_SHIFT;
    for (unsigned l = 4; l > 1; l--)
        table = pte_frame(pmem_read(&t->m.mem, table, pt_index(gpa, l)));
    pte_t old = pmem_read(&t->m.mem, table, pt_index(gpa, 1));
    pmem_write(&t->m.mem, table, pt_index(gpa, 1), ept_make(hv_heap_free_frame(h, 0), EPT_RWX));
    assert_false(hv_ok(t));
    /* ... or another of the domain's frames than the p2m's */
    pmem_write(&t->m.mem, table, pt_index(gpa, 1), ept_make(pfn_to_mfn(&h->dom, gfn + 1), EPT_RWX));
    assert_false(hv_ok(t));
    pmem_write(&t->m.mem, table, pt_index(gpa, 1), old);
    assert_true(hv_ok(t));
    /* the IOMMU mapping a hypervisor frame into the guest's device space */
    vtd_map_page(&h->dom.vtd, 7, hv_heap_free_frame(h, 1), 1);
    assert_false(hv_ok(t));
    vtd_map_page(&h->dom.vtd, 7, pfn_to_mfn(&h->dom, 7), 1);
    assert_true(hv_ok(t));
    do_exit(&t->m.k, p);
    assert_int_equal(tm_destroy(t), 0);
}

/* ---- shadow paging ------------------------------------------------------------------ */

/* shadow_check's report of a corruption: it must name what is wrong (a
 * corruption that trips another rule first would hide the one it is for). */
static void expect_shadow_report(struct tmachine *t, const char *what)
{
    char msg[512] = "";
    assert_int_not_equal(machine_check(&t->m, msg, sizeof msg), 0);
    if (!strstr(msg, what))
        fail_msg("shadow_check reported \"%s\", expected a message about \"%s\"", msg, what);
}

/* Each corruption breaks one rule and keeps every other one true (counts,
 * parent records, the guest entry it stands for), and its report is
 * expected by its message. */
#define C (A + (2ull << 20))   /* under another guest L1 of the same L2 */
static void shadow_corruptions(const char *mode)
{
    struct tmachine *t = boot(mode);
    struct task *p = proc(t);
    struct shadow *s = t->m.hv->mode;
    struct pmem *m = &t->m.mem;
    struct domain *d = &t->m.hv->dom;
    uint64_t mfn;
    assert_int_equal(sys_mmap(&t->m.k, p, C, PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANON, 0, 0),
                     (long)C);
    assert_int_equal(user_access(&t->m.k, C, ACC_WRITE, &mfn), 0);
    assert_true(hv_ok(t));
    uint64_t st = tm_hw_l1(t, A);
    unsigned i = pt_index(A, 1);
    pte_t se = pmem_read(m, st, i);
    assert_true(pte_present(se));
    /* a leaf to a frame the domain does not own */
    pmem_write(m, st, i, pte_make(hv_heap_free_frame(t->m.hv, 0), se & PTE_FLAGS_MASK));
    expect_shadow_report(t, "which the domain does not own");
    /* a leaf granting write where the guest entry does not */
    uint64_t l1 = tm_guest_table(t, A, 1);
    pte_t g = kread_entry(&t->m.k, l1, i);
    pmem_write(m, pfn_to_mfn(d, l1), i, g & ~(pte_t)_PAGE_RW);
    pmem_write(m, st, i, se | _PAGE_RW);
    expect_shadow_report(t, "it grants a permission the guest entry does not");
    pmem_write(m, pfn_to_mfn(d, l1), i, g);
    pmem_write(m, st, i, se);
    assert_true(hv_ok(t));
    /* a shadow leaf where the guest entry is not present: the guest's entry
     * cleared behind the hypervisor's back (no trap, no flush) */
    pmem_write(m, pfn_to_mfn(d, l1), i, 0);
    expect_shadow_report(t, "the guest entry is not present");
    pmem_write(m, pfn_to_mfn(d, l1), i, g);
    assert_true(hv_ok(t));
    /* a present-entry count that disagrees with the shadow table (sp_zap
     * stops its scan by it) */
    struct shadow_page *ssp = sp_of_smfn(s, st);
    assert_non_null(ssp);
    ssp->npresent++;
    expect_shadow_report(t, "present entries, its count says");
    ssp->npresent -= 2;                 /* too few: a zap would stop early */
    expect_shadow_report(t, "present entries, its count says");
    ssp->npresent++;
    assert_true(hv_ok(t));
    /* a parent record that does not point back (a zap unlinks by them),
     * beside the right one, so that every parent entry is still listed */
    assert_true(ssp->nparent > 0);
    if (ssp->capparent <= ssp->nparent) {
        ssp->parent = realloc(ssp->parent, (ssp->nparent + 1) * sizeof *ssp->parent);
        assert_non_null(ssp->parent);
        ssp->capparent = ssp->nparent + 1;
    }
    ssp->parent[ssp->nparent] = (struct sp_parent){ ssp->parent[0].smfn, (uint16_t)(ssp->parent[0].idx ^ 1) };
    ssp->nparent++;
    expect_shadow_report(t, "does not point to it");
    ssp->nparent--;
    assert_true(hv_ok(t));
    /* a pointer to a frame that is no shadow page (the shadow it pointed
     * to left with no parent record, so that none is wrong) */
    uint64_t l2s = t->m.cpu.hw_root;
    for (unsigned l = 4; l > 2; l--)
        l2s = pte_frame(pmem_read(m, l2s, pt_index(A, l)));
    unsigned j = pt_index(A, 2);
    pte_t pe = pmem_read(m, l2s, j);
    assert_int_equal(pte_frame(pe), st);
    assert_int_equal(ssp->nparent, 1);
    pmem_write(m, l2s, j, pte_make(hv_heap_free_frame(t->m.hv, 2), pe & PTE_FLAGS_MASK));
    ssp->nparent = 0;
    expect_shadow_report(t, "not a linked shadow page");
    pmem_write(m, l2s, j, pe);
    ssp->nparent = 1;
    assert_true(hv_ok(t));
    /* a pointer to the right shadow page, which does not list it as a parent
     * (its records emptied, so that none is wrong) */
    ssp->nparent = 0;
    expect_shadow_report(t, "not a linked shadow page");
    ssp->nparent = 1;
    assert_true(hv_ok(t));
    /* a link to the shadow of another guest table: the guest's L2 entry made
     * to name the L1 of C, which has a shadow, the shadow L2 left alone */
    uint64_t l2 = tm_guest_table(t, A, 2), l1c = tm_guest_table(t, C, 1);
    assert_true(l1c != l1);
    assert_non_null(sp_find(s, l1c, 1));
    pte_t g2 = kread_entry(&t->m.k, l2, j);
    pmem_write(m, pfn_to_mfn(d, l2), j, pte_make(l1c, g2 & PTE_FLAGS_MASK));
    expect_shadow_report(t, "it points to the shadow of another guest table");
    pmem_write(m, pfn_to_mfn(d, l2), j, g2);
    assert_true(hv_ok(t));
    /* a shadow page in a frame that is not the hypervisor's: moved to a
     * domain frame (a data frame, with no table in it), its contents, its
     * parent's link and the frame-to-page map moved along */
    uint64_t dom_frame = pfn_to_mfn(d, t->m.k.pv->entry_pfn(&t->m.k, kread_entry(&t->m.k, l1, pt_index(B, 1))));
    assert_null(pmem_table_peek(m, dom_frame));
    pmem_copy(m, dom_frame, st);
    *(struct shadow_page **)sparse_get(&s->by_smfn, st) = NULL;
    *(struct shadow_page **)sparse_get(&s->by_smfn, dom_frame) = ssp;
    ssp->smfn = dom_frame;
    pmem_write(m, l2s, j, pte_make(dom_frame, pe & PTE_FLAGS_MASK));
    expect_shadow_report(t, "not a hypervisor frame it owns");
    pmem_write(m, l2s, j, pe);
    ssp->smfn = st;
    *(struct shadow_page **)sparse_get(&s->by_smfn, dom_frame) = NULL;
    *(struct shadow_page **)sparse_get(&s->by_smfn, st) = ssp;
    pmem_zero(m, dom_frame);
    assert_true(hv_ok(t));
    /* a shadow page its frame does not lead to (the frame-to-page map lost
     * it): unlinked first, its parent's entry cleared and counted, so that
     * no link check looks it up */
    struct shadow_page *sp2 = sp_of_smfn(s, l2s);
    assert_non_null(sp2);
    pmem_write(m, l2s, j, 0);
    sp2->npresent--;
    ssp->nparent = 0;
    assert_true(hv_ok(t));                         /* an unlinked shadow is right */
    *(struct shadow_page **)sparse_get(&s->by_smfn, st) = NULL;
    expect_shadow_report(t, "not a hypervisor frame it owns");
    *(struct shadow_page **)sparse_get(&s->by_smfn, st) = ssp;
    ssp->nparent = 1;
    sp2->npresent++;
    pmem_write(m, l2s, j, pe);
    assert_true(hv_ok(t));
    /* protection bookkeeping that disagrees with the shadows */
    struct shadow_gfn *sg = sparse_get(&s->gfns, l1);
    sg->synced++;
    expect_shadow_report(t, "in-sync shadows counted");
    sg->synced--;
    assert_true(hv_ok(t));
    if (s->protect) {
        /* a writable leaf on a write-protected guest table, standing for a
         * guest entry that maps it so (written directly: P|RW|U|D), the
         * present count kept */
        assert_true(shadow_protected(s, l1));
        assert_false(pte_present(pmem_read(m, st, i + 3)));
        assert_false(pte_present(kread_entry(&t->m.k, l1, i + 3)));
        pte_t flags = _PAGE_PRESENT | _PAGE_RW | _PAGE_USER | _PAGE_DIRTY;
        pmem_write(m, pfn_to_mfn(d, l1), i + 3, pte_make(l1, flags));
        pmem_write(m, st, i + 3, pte_make(pfn_to_mfn(d, l1), flags));
        ssp->npresent++;
        expect_shadow_report(t, "a writable shadow leaf maps write-protected guest table");
        pmem_write(m, st, i + 3, 0);
        ssp->npresent--;
        pmem_write(m, pfn_to_mfn(d, l1), i + 3, 0);
        assert_true(hv_ok(t));
    }
    do_exit(&t->m.k, p);
    assert_int_equal(tm_destroy(t), 0);
}
#undef C

static void test_shadow_check_tsp(void **state) { (void)state; shadow_corruptions("tsp"); }
static void test_shadow_check_ssp(void **state) { (void)state; shadow_corruptions("ssp"); }

/* tsp keeps every in-sync shadow in sync by write protection, so
 * shadow_check compares each of them with the guest, not only the loaded
 * tree: a shadow of a process not running, made to grant write over a
 * read-only guest entry, is reported. (Under ssp it may be stale until its
 * next load flushes it: not a case.) */
#define RO (A + 16 * PAGE_SIZE)
static void test_shadow_check_unloaded_tsp(void **state)
{
    (void)state;
    struct tmachine *t = boot("tsp");
    struct kernel *k = &t->m.k;
    struct shadow *s = t->m.hv->mode;
    struct pmem *m = &t->m.mem;
    struct task *p1 = proc(t);
    uint64_t mfn;
    assert_int_equal(sys_mmap(k, p1, RO, PAGE_SIZE, PROT_READ, MAP_PRIVATE | MAP_ANON, 0, 0), (long)RO);
    assert_int_equal(user_access(k, RO, ACC_READ, &mfn), 0);
    uint64_t l1 = tm_guest_table(t, RO, 1);
    unsigned i = pt_index(RO, 1);
    pte_t g = kread_entry(k, l1, i);
    assert_true(pte_present(g) && !(g & _PAGE_RW));
    struct task *p2 = kernel_spawn(k, 2);            /* p1's root stays cached, not loaded */
    schedule_to(k, p2);
    assert_int_equal(sys_mmap(k, p2, A, PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANON, 0, 0), (long)A);
    assert_int_equal(user_access(k, A, ACC_WRITE, &mfn), 0);
    assert_true(k->current == p2);
    struct shadow_page *sp = sp_find(s, l1, 1);
    assert_non_null(sp);
    assert_false(sp->flags & SP_UNSYNC);
    assert_false(pte_present(tm_hw_entry(t, RO, 1, NULL)));   /* the loaded tree does not reach it */
    pte_t se = pmem_read(m, sp->smfn, i);
    assert_true(pte_present(se) && !(se & _PAGE_RW));
    assert_true(hv_ok(t));
    pmem_write(m, sp->smfn, i, se | _PAGE_RW);      /* the bug */
    expect_shadow_report(t, "it grants a permission the guest entry does not");
    pmem_write(m, sp->smfn, i, se);
    assert_true(hv_ok(t));
    do_exit(k, p2);
    do_exit(k, p1);
    assert_true(hv_ok(t));
    assert_int_equal(tm_destroy(t), 0);
}
#undef RO

/* A shadow entry standing for a guest leaf is writable only over a dirty
 * guest entry (the hardware sets Dirty in the shadow, so the first write
 * must fault for the hypervisor to set the guest's). Corrupted to writable
 * over a clean guest entry, the checker reports it: a 4 KiB leaf over a
 * shared anonymous page that a read mapped writable and clean, and the
 * link to the fl1 splinters of a guest 2 MiB page the guest made clean.
 * The mechanism keeps the rule: the write after the read faults and the
 * shadow becomes writable with the guest's Dirty set; a guest that cleans
 * an entry (a trapped store under tsp; under ssp a plain store, then the
 * flush it owes) gets a read-only shadow back. */
#define SHM 0x10000000ull
#define HUGEVA 0x40000000ull
static void writable_over_clean(const char *mode)
{
    const char *const p[] = { "guest.ram_mb=256", "selective.policy=fixed", "selective.start=shadow", NULL };
    struct tmachine *t = tm_boot_params(mode, "memwalk", p);
    struct kernel *k = &t->m.k;
    struct pmem *m = &t->m.mem;
    struct task *pr = kernel_spawn(k, 1);
    schedule_to(k, pr);
    char msg[512];
    uint64_t mfn, st;
    /* 4 KiB: a read of shared anonymous memory maps it writable and clean */
    assert_int_equal(sys_mmap(k, pr, SHM, 4 * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANON, 0, 0),
                     (long)SHM);
    assert_int_equal(user_access(k, SHM, ACC_READ, &mfn), 0);
    pte_t g = kread_entry(k, tm_guest_table(t, SHM, 1), pt_index(SHM, 1));
    assert_int_equal(g & (_PAGE_RW | _PAGE_DIRTY), _PAGE_RW);
    pte_t se = tm_hw_entry(t, SHM, 1, &st);
    assert_true(pte_present(se));
    assert_false(se & _PAGE_RW);
    assert_true(hv_ok(t));
    pmem_write(m, st, pt_index(SHM, 1), se | _PAGE_RW | _PAGE_DIRTY);   /* the bug */
    assert_int_equal(machine_check(&t->m, msg, sizeof msg), -1);
    assert_non_null(strstr(msg, "clean guest entry"));
    pmem_write(m, st, pt_index(SHM, 1), se);
    assert_true(hv_ok(t));
    /* the write faults (hidden) and sets the guest's Dirty: now writable */
    assert_int_equal(user_access(k, SHM, ACC_WRITE, &mfn), 0);
    assert_true(kread_entry(k, tm_guest_table(t, SHM, 1), pt_index(SHM, 1)) & _PAGE_DIRTY);
    assert_true(tm_hw_entry(t, SHM, 1, NULL) & _PAGE_RW);
    assert_true(hv_ok(t));
    /* a guest 2 MiB page, splintered over 4 KiB host pages: written, its
     * entry dirty and the link to the splinters writable */
    assert_int_equal(sys_mmap(k, pr, HUGEVA, 2ull << 20, PROT_READ | PROT_WRITE,
                              MAP_PRIVATE | MAP_ANON | MAP_HUGETLB, 0, 0), (long)HUGEVA);
    assert_int_equal(user_access(k, HUGEVA, ACC_WRITE, &mfn), 0);
    uint64_t pmd = tm_guest_table(t, HUGEVA, 2);
    unsigned pi = pt_index(HUGEVA, 2);
    pte_t gh = kread_entry(k, pmd, pi);
    assert_true((gh & _PAGE_PSE) && (gh & _PAGE_RW) && (gh & _PAGE_DIRTY));
    pte_t link = tm_hw_entry(t, HUGEVA, 2, &st);
    assert_true(pte_present(link) && !(link & _PAGE_PSE) && (link & _PAGE_RW));
    assert_true(tm_hw_entry(t, HUGEVA, 1, NULL) & _PAGE_RW);
    /* the guest cleans its entry and flushes: the link becomes read-only */
    pte_store_direct(k, pmd, pi, gh & ~(pte_t)_PAGE_DIRTY);
    cpu_invlpg(&t->m.cpu, HUGEVA);
    assert_int_equal(user_access(k, HUGEVA, ACC_READ, &mfn), 0);
    link = tm_hw_entry(t, HUGEVA, 2, &st);
    assert_true(pte_present(link) && !(link & _PAGE_PSE));
    assert_false(link & _PAGE_RW);
    assert_true(tm_hw_entry(t, HUGEVA, 1, NULL) & _PAGE_RW);   /* the splinter: narrowed by the link */
    assert_true(hv_ok(t));
    pmem_write(m, st, pi, link | _PAGE_RW);                       /* the bug */
    assert_int_equal(machine_check(&t->m, msg, sizeof msg), -1);
    assert_non_null(strstr(msg, "clean guest entry"));
    pmem_write(m, st, pi, link);
    assert_true(hv_ok(t));
    pte_store_direct(k, pmd, pi, gh);
    cpu_invlpg(&t->m.cpu, HUGEVA);
    do_exit(k, pr);
    assert_true(hv_ok(t));
    assert_int_equal(tm_destroy(t), 0);
}

static void test_shadow_writable_over_clean(void **state)
{
    (void)state;
    writable_over_clean("tsp");
    writable_over_clean("ssp");
    writable_over_clean("selective");
}

/* ---- the engine ------------------------------------------------------------------- */

/* A mode whose invariants break in the middle of a --check run fails it. */
static int broken_check(struct hv *h, char *msg, unsigned len)
{
    (void)h;
    snprintf(msg, len, "broken on purpose");
    return -1;
}

static void test_engine_fails_on_broken_invariant(void **state)
{
    (void)state;
    struct sim_config cfg;
    assert_int_equal(config_init(&cfg, "lmbench"), 0);
    cfg.check = 1;
    cfg.quiet = 1;
    assert_int_equal(config_param(&cfg, "lmbench.iterations=2"), 0);
    struct paging_mode broken = pm_hap;
    broken.check = broken_check;
    struct mode_def md = { "hap-broken", "test", &broken };
    struct run_result r;
    assert_int_equal(engine_run(&cfg, &md, &r), -1);
    assert_non_null(strstr(mv_last_error(), "broken on purpose"));
    cfg.check = 0;                                  /* without --check nobody looks */
    assert_int_equal(engine_run(&cfg, &md, &r), 0);
    run_result_free(&r);
    config_free(&cfg);
}

/* tsp over 2 MiB host pages (where a shadow 2 MiB leaf exists): a writable
 * 2 MiB shadow leaf covering a write-protected guest table anywhere in its
 * 512 frames (not only the first) is caught. The guest's 2 MiB leaf it
 * stands for is written directly (dirty, writable), the shadow L2's present
 * count kept, so that no other rule fires. */
static void test_shadow_writable_huge_leaf(void **state)
{
    (void)state;
    const char *const prm[] = { "guest.ram_mb=256", "hv.host_page_size=2m", NULL };
    struct tmachine *t = tm_boot_params("tsp", "memwalk", prm);
    struct kernel *k = &t->m.k;
    struct task *p = proc(t);
    struct domain *d = &t->m.hv->dom;
    uint64_t l2 = tm_guest_table(t, A, 2), l1 = tm_guest_table(t, A, 1);
    struct shadow *sh = t->m.hv->mode;
    assert_true(sh->host_2m);
    assert_true(shadow_protected(sh, l1));
    uint64_t ext = l1 & ~511ull;
    unsigned first = 0;                            /* the extent's first protected frame */
    while (!shadow_protected(sh, ext + first))
        first++;
    assert_true(first > 0);                        /* not the extent's first frame */
    uint64_t s2 = t->m.cpu.hw_root;
    for (unsigned l = 4; l > 2; l--)
        s2 = pte_frame(pmem_read(&t->m.mem, s2, pt_index(A, l)));
    struct shadow_page *sp2 = sp_of_smfn(sh, s2);
    assert_non_null(sp2);
    unsigned j = pt_index(A, 2) + 5;
    assert_false(pte_present(pmem_read(&t->m.mem, s2, j)));
    pte_t fl = _PAGE_PRESENT | _PAGE_RW | _PAGE_USER | _PAGE_ACCESSED | _PAGE_DIRTY | _PAGE_PSE;
    pmem_write(&t->m.mem, pfn_to_mfn(d, l2), j, pte_make(ext, fl));
    assert_true(hv_ok(t));                         /* the guest's entry alone: no shadow yet */
    pmem_write(&t->m.mem, s2, j, pte_make(pfn_to_mfn(d, ext), fl));
    sp2->npresent++;
    char msg[512] = "", want[128];
    assert_int_equal(machine_check(&t->m, msg, sizeof msg), -1);
    snprintf(want, sizeof want, "a writable shadow leaf maps write-protected guest table %#llx",
             (unsigned long long)(ext + first));
    if (!strstr(msg, want))
        fail_msg("shadow_check reported \"%s\", expected \"%s\"", msg, want);
    assert_int_equal(shadow_entry_of(sh, pte_make(ext, fl), 2) & _PAGE_RW, 0);   /* what the mechanism gives */
    /* read-only, the same leaf is right */
    pmem_write(&t->m.mem, s2, j, pte_make(pfn_to_mfn(d, ext), fl & ~(pte_t)_PAGE_RW));
    assert_true(hv_ok(t));
    pmem_write(&t->m.mem, s2, j, 0);
    sp2->npresent--;
    pmem_write(&t->m.mem, pfn_to_mfn(d, l2), j, 0);
    assert_true(hv_ok(t));
    do_exit(k, p);
    assert_int_equal(tm_destroy(t), 0);
}

/* A hypervisor that drops the guest's TLB flushes (takes the trap, does
 * nothing): translations the guest invalidated stay in use, and --check
 * says so. (tsp flushes whenever it changes a shadow, so dropping the
 * guest's flushes leaves it correct: not a case.) */
static int drop_flush(void *ctx, struct cpu *c, enum tlb_flush_kind kind, uint64_t va, uint16_t pcid)
{
    return 1;
}

/* A Xen that ignores the flushes a PV guest asks for: it carries out every
 * hypercall but with the TLB requests taken out (mmuext INVLPG_* and
 * TLB_FLUSH_*, update_va_mapping's flush flags; a multicall's entries one
 * by one). The base-pointer loads stay. */
static long (*real_hypercall)(void *ctx, struct cpu *c, unsigned nr, void *arg);

static long drop_flush_hypercall(void *ctx, struct cpu *c, unsigned nr, void *arg)
{
    if (nr == __HYPERVISOR_multicall) {
        struct multicall_args *m = arg;
        for (unsigned i = 0; i < m->count; i++)
            m->call[i].result = drop_flush_hypercall(ctx, c, m->call[i].op, m->call[i].args);
        return 0;
    }
    if (nr == __HYPERVISOR_update_va_mapping) {
        struct update_va_mapping_args a = *(struct update_va_mapping_args *)arg;
        a.flags = UVMF_NONE;
        return real_hypercall(ctx, c, nr, &a);
    }
    if (nr == __HYPERVISOR_mmuext_op) {
        struct mmuext_args *a = arg;
        struct mmuext_op kept[64];
        unsigned n = 0;
        assert_true(a->count <= 64);
        for (unsigned i = a->done; i < a->count; i++)
            if (a->op[i].cmd < MMUEXT_TLB_FLUSH_LOCAL || a->op[i].cmd > MMUEXT_INVLPG_MULTI)
                kept[n++] = a->op[i];
        struct mmuext_args k = { kept, n, 0 };
        long rc = real_hypercall(ctx, c, nr, &k);
        if (!rc)
            a->done = a->count;
        return rc;
    }
    return real_hypercall(ctx, c, nr, arg);
}

/* Under every mode whose hypervisor sees the guest's flushes, the broken
 * one fails the checked run, and the oracle names the translation as used
 * after the guest's flush (the hypervisor's bug), not before it: under PV
 * that needs the guest to report its flush requests itself, since the
 * hypervisor that drops them would not. */
static void test_oracle_catches_dropped_flushes(void **state)
{
    (void)state;
    const char *const modes[] = { "ssp", "hap", "pv", "pv-pibooster" };
    /* a remap of 256 KiB is flushed whole, one of 64 KiB page by page
     * (below guest.flush_ceiling): INVLPG */
    const char *const remap[] = { "memwalk.remap_kb=256", "memwalk.remap_kb=64" };
    for (unsigned i = 0; i < 8; i++) {
        struct sim_config cfg;
        assert_int_equal(config_init(&cfg, "memwalk"), 0);
        cfg.check = 1;
        cfg.quiet = 1;
        const char *const p[] = { "memwalk.ws_mb=16", "memwalk.remap_every=3000", remap[i & 1],
                                  "memwalk.refs=100000", "guest.ram_mb=256", NULL };
        for (unsigned k = 0; p[k]; k++)
            assert_int_equal(config_param(&cfg, p[k]), 0);
        assert_int_equal(config_validate(&cfg), 0);
        const struct mode_def *real = mode_find(modes[i / 2]);
        struct paging_mode broken = *real->pm;
        if (real->pm->features & PM_PV_MMU) {
            real_hypercall = real->pm->traps.hypercall;
            broken.traps.hypercall = drop_flush_hypercall;
        } else {
            broken.traps.tlb_flush = drop_flush;
        }
        struct mode_def md = { "dropped-flushes", "test", &broken };
        struct run_result r;
        assert_int_equal(engine_run(&cfg, real, &r), 0);      /* the real mode passes */
        run_result_free(&r);
        assert_int_equal(engine_run(&cfg, &md, &r), -1);
        if (!strstr(mv_last_error(), "no unflushed translation"))   /* not "the guest had not flushed" */
            fail_msg("%s %s: %s", modes[i / 2], p[2], mv_last_error());
        config_free(&cfg);
    }
}

/* A guest kernel that skips its TLB flushes (flush_tlb_one_user and
 * flush_tlb_local do nothing; CR3 loads still flush): installed once the
 * machine has booted, through the mode's booted hook. */
static void no_flush_one(struct kernel *k, uint64_t va) { (void)k; (void)va; }
static void no_flush_local(struct kernel *k) { (void)k; }
static struct pv_mmu_ops skipping;
static void (*real_booted)(struct hv *h);

static void booted_skipping_flushes(struct hv *h)
{
    if (real_booted)
        real_booted(h);
    struct machine *m = (struct machine *)((char *)h->cpu - offsetof(struct machine, cpu));
    skipping = *m->k.pv;
    skipping.flush_tlb_one_user = no_flush_one;
    skipping.flush_tlb_local = no_flush_local;
    m->k.pv = &skipping;
}

/* --check fails a workload run at the first reference that uses a
 * translation the guest superseded without flushing, with a message naming
 * the mode (the oracle is strict in a run; a guest kernel that freed pages
 * without flushing used to pass, oracle_stale counting the uses). Not tsp:
 * it flushes the TLB itself whenever a trapped guest write changes a
 * shadow, so no superseded translation is ever used there (a guest's
 * skipped flush is harmless under it, as under KVM's shadow MMU). Native
 * has no hypervisor hook to install the broken guest through; the engine's
 * strictness does not depend on the mode, and test_oracle_strict steps the
 * strict oracle on native. */
static void test_oracle_catches_skipped_guest_flush(void **state)
{
    (void)state;
    const char *const modes[] = { "pv", "pv-pibooster", "ssp", "hap", "selective" };
    const char *const remap[] = { "memwalk.remap_kb=256", "memwalk.remap_kb=64" };
    for (unsigned i = 0; i < 10; i++) {
        struct sim_config cfg;
        assert_int_equal(config_init(&cfg, "memwalk"), 0);
        cfg.check = 1;
        cfg.quiet = 1;
        const char *const p[] = { "memwalk.ws_mb=16", "memwalk.remap_every=3000", remap[i & 1],
                                  "memwalk.refs=100000", "guest.ram_mb=256", NULL };
        for (unsigned k = 0; p[k]; k++)
            assert_int_equal(config_param(&cfg, p[k]), 0);
        assert_int_equal(config_validate(&cfg), 0);
        const struct mode_def *real = mode_find(modes[i / 2]);
        struct paging_mode broken = *real->pm;
        real_booted = real->pm->booted;
        broken.booted = booted_skipping_flushes;
        struct mode_def md = { "skipped-flushes", "test", &broken };
        struct run_result r;
        assert_int_equal(engine_run(&cfg, real, &r), 0);      /* the real guest passes */
        run_result_free(&r);
        if (engine_run(&cfg, &md, &r) != -1)
            fail_msg("%s %s: a guest skipping its flushes passed --check", modes[i / 2], p[2]);
        const char *e = mv_last_error();
        if (!strstr(e, "mode skipped-flushes") || !strstr(e, "had not flushed"))
            fail_msg("%s %s: %s", modes[i / 2], p[2], e);
        config_free(&cfg);
    }
}

/* The strict oracle, stepped: a changed PTE whose old translation the TLB
 * still gives is an error before the flush as after it; not strict (the
 * default) the same answer is allowed and counted. */
static void test_oracle_strict(void **state)
{
    (void)state;
    struct tmachine *t = boot("native");
    struct oracle *o = oracle_create(&t->m);
    struct kernel *k = &t->m.k;
    struct task *p = proc(t);
    char msg[512];
    uint64_t a, b, got;
    assert_int_equal(user_access(k, A, ACC_READ, &a), 0);
    assert_int_equal(oracle_check(o, p->mm, A, ACC_READ, a, msg, sizeof msg), 0);
    assert_int_equal(user_access(k, B, ACC_READ, &b), 0);
    uint64_t l1 = tm_guest_table(t, A, 1);
    pte_t old = kread_entry(k, l1, pt_index(A, 1));
    pte_store_direct(k, l1, pt_index(A, 1), pte_make(pte_frame(kread_entry(k, l1, pt_index(B, 1))), old & PTE_FLAGS_MASK));
    assert_int_equal(user_access(k, A, ACC_READ, &got), 0);
    assert_int_equal(got, a);
    oracle_set_strict(o, 1);
    assert_int_equal(oracle_check(o, p->mm, A, ACC_READ, got, msg, sizeof msg), -1);
    assert_non_null(strstr(msg, "had not flushed"));
    oracle_set_strict(o, 0);
    assert_int_equal(oracle_check(o, p->mm, A, ACC_READ, got, msg, sizeof msg), 0);
    /* the PTE cleared (an unmap left unflushed): the tables refuse, the TLB does not */
    pte_store_direct(k, l1, pt_index(A, 1), 0);
    assert_int_equal(user_access(k, A, ACC_READ, &got), 0);
    assert_int_equal(got, a);
    oracle_set_strict(o, 1);
    assert_int_equal(oracle_check(o, p->mm, A, ACC_READ, got, msg, sizeof msg), -1);
    assert_non_null(strstr(msg, "refuse the access"));
    /* flushed: the reference again */
    pte_store_direct(k, l1, pt_index(A, 1), old);
    cpu_invlpg(&t->m.cpu, A);
    assert_int_equal(user_access(k, A, ACC_READ, &got), 0);
    assert_int_equal(oracle_check(o, p->mm, A, ACC_READ, got, msg, sizeof msg), 0);
    do_exit(k, p);
    oracle_destroy(o);
    assert_int_equal(tm_destroy(t), 0);
}

/* ---- the engine's own checks, each switched on by --check ------------------- */

/* The oracle ends a translation's window at a full flush (CR4.PGE), an
 * INVPCID of every PCID or of the non-global entries, as at INVLPG: an entry
 * the hardware keeps after one is caught. */
static void test_oracle_window_ends_at_full_flush(void **state)
{
    (void)state;
    const enum tlb_flush_kind kinds[] = { FLUSH_GLOBAL, FLUSH_INVPCID_ALL, FLUSH_INVPCID_NONGLOBAL };
    for (unsigned i = 0; i < 3; i++) {
        struct tmachine *t = boot("native");
        struct oracle *o = oracle_create(&t->m);
        struct kernel *k = &t->m.k;
        struct cpu *c = &t->m.cpu;
        struct task *p = proc(t);
        char msg[512];
        uint64_t a, b, got;
        assert_int_equal(user_access(k, A, ACC_READ, &a), 0);
        assert_int_equal(oracle_check(o, p->mm, A, ACC_READ, a, msg, sizeof msg), 0);
        assert_int_equal(user_access(k, B, ACC_READ, &b), 0);
        uint64_t l1 = tm_guest_table(t, A, 1);
        pte_t old = kread_entry(k, l1, pt_index(A, 1));
        pte_store_direct(k, l1, pt_index(A, 1), pte_make(pte_frame(kread_entry(k, l1, pt_index(B, 1))), old & PTE_FLAGS_MASK));
        assert_int_equal(user_access(k, A, ACC_READ, &got), 0);
        assert_int_equal(oracle_check(o, p->mm, A, ACC_READ, got, msg, sizeof msg), 0);   /* in the window */
        if (kinds[i] == FLUSH_GLOBAL)
            cpu_flush_all(c);
        else
            assert_int_equal(cpu_invpcid(c, kinds[i], c->pcid, 0), 0);
        struct tlb_xlate x = { .frame = a, .flags = TLB_U | TLB_W | TLB_D | TLB_NX, .size = PG_4K };
        tlb_insert(&c->tlb, A, c->pcid, &x);                     /* the bug: the entry survives */
        assert_int_equal(user_access(k, A, ACC_READ, &got), 0);
        assert_int_equal(got, a);
        if (oracle_check(o, p->mm, A, ACC_READ, got, msg, sizeof msg) != -1)
            fail_msg("flush kind %d did not end the window", (int)kinds[i]);
        tlb_flush_page(&c->tlb, A, c->pcid);
        pte_store_direct(k, l1, pt_index(A, 1), old);
        cpu_invlpg(c, A);
        do_exit(k, p);
        oracle_destroy(o);
        assert_int_equal(tm_destroy(t), 0);
    }
}

/* A stale translation is allowed only with the rights it had: a TLB entry
 * granting write to a page the guest mapped read-only (and never writable
 * since the last flush) is caught, though its frame is the right one. */
static void test_oracle_stale_rights(void **state)
{
    (void)state;
    struct tmachine *t = boot("native");
    struct oracle *o = oracle_create(&t->m);
    struct kernel *k = &t->m.k;
    struct cpu *c = &t->m.cpu;
    struct task *p = proc(t);
    char msg[512];
    uint64_t a, got;
    assert_int_equal(sys_mprotect(k, p, A, 8 * PAGE_SIZE, PROT_READ), 0);
    assert_int_equal(user_access(k, A, ACC_READ, &a), 0);
    assert_int_equal(oracle_check(o, p->mm, A, ACC_READ, a, msg, sizeof msg), 0);   /* remembered read-only */
    struct tlb_xlate x = { .frame = a, .flags = TLB_U | TLB_W | TLB_D | TLB_NX, .size = PG_4K };
    tlb_flush_page(&c->tlb, A, c->pcid);
    tlb_insert(&c->tlb, A, c->pcid, &x);                         /* the bug: a writable entry */
    assert_int_equal(user_access(k, A, ACC_WRITE, &got), 0);
    assert_int_equal(got, a);
    assert_int_equal(oracle_check(o, p->mm, A, ACC_WRITE, got, msg, sizeof msg), -1);
    assert_non_null(strstr(msg, "do not allow the access"));
    assert_int_equal(oracle_check(o, p->mm, A, ACC_READ, got, msg, sizeof msg), 0);   /* a read is right */
    tlb_flush_page(&c->tlb, A, c->pcid);
    do_exit(k, p);
    oracle_destroy(o);
    assert_int_equal(tm_destroy(t), 0);
}

/* The reference's NX right: a page mprotect()ed read-only is NX; a TLB
 * entry without NX lets an instruction fetch through, which the guest's
 * tables (and the translation the oracle saw) never allowed. */
static void test_oracle_stale_nx(void **state)
{
    (void)state;
    struct tmachine *t = boot("native");
    struct oracle *o = oracle_create(&t->m);
    struct kernel *k = &t->m.k;
    struct cpu *c = &t->m.cpu;
    struct task *p = proc(t);
    char msg[512];
    uint64_t a, got;
    assert_int_equal(sys_mprotect(k, p, A, 8 * PAGE_SIZE, PROT_READ), 0);
    assert_int_equal(user_access(k, A, ACC_READ, &a), 0);
    assert_true(kread_entry(k, tm_guest_table(t, A, 1), pt_index(A, 1)) & _PAGE_NX);
    assert_int_equal(oracle_check(o, p->mm, A, ACC_READ, a, msg, sizeof msg), 0);   /* remembered NX */
    struct tlb_xlate x = { .frame = a, .flags = TLB_U | TLB_D, .size = PG_4K };
    tlb_flush_page(&c->tlb, A, c->pcid);
    tlb_insert(&c->tlb, A, c->pcid, &x);                         /* the bug: an executable entry */
    assert_int_equal(user_access(k, A, ACC_EXEC, &got), 0);
    assert_int_equal(got, a);
    assert_int_equal(oracle_check(o, p->mm, A, ACC_EXEC, got, msg, sizeof msg), -1);
    if (!strstr(msg, "(exec): hardware translated to frame") || !strstr(msg, "do not allow the access"))
        fail_msg("%s", msg);
    assert_int_equal(oracle_check(o, p->mm, A, ACC_READ, got, msg, sizeof msg), 0);   /* a read is right */
    tlb_flush_page(&c->tlb, A, c->pcid);
    do_exit(k, p);
    oracle_destroy(o);
    assert_int_equal(tm_destroy(t), 0);
}

/* The reference's U/S right: the guest makes A's PTE supervisor-only and
 * flushes it; a TLB entry that still says user lets a user read through. */
static void test_oracle_stale_user(void **state)
{
    (void)state;
    struct tmachine *t = boot("native");
    struct oracle *o = oracle_create(&t->m);
    struct kernel *k = &t->m.k;
    struct cpu *c = &t->m.cpu;
    struct task *p = proc(t);
    char msg[512];
    uint64_t a, got;
    assert_int_equal(user_access(k, A, ACC_READ, &a), 0);
    assert_int_equal(oracle_check(o, p->mm, A, ACC_READ, a, msg, sizeof msg), 0);
    uint64_t l1 = tm_guest_table(t, A, 1);
    pte_t old = kread_entry(k, l1, pt_index(A, 1));
    assert_true(old & _PAGE_USER);
    pte_store_direct(k, l1, pt_index(A, 1), old & ~(pte_t)_PAGE_USER);
    cpu_invlpg(c, A);                                            /* flushed: no unflushed user entry */
    struct tlb_xlate x = { .frame = a, .flags = TLB_U | TLB_W | TLB_D | TLB_NX, .size = PG_4K };
    tlb_insert(&c->tlb, A, c->pcid, &x);                         /* the bug: the entry survives */
    assert_int_equal(user_access(k, A, ACC_READ, &got), 0);
    assert_int_equal(got, a);
    assert_int_equal(oracle_check(o, p->mm, A, ACC_READ, got, msg, sizeof msg), -1);
    if (!strstr(msg, "(read): hardware translated to frame") || !strstr(msg, "do not allow the access"))
        fail_msg("%s", msg);
    pte_store_direct(k, l1, pt_index(A, 1), old);
    cpu_invlpg(c, A);
    assert_int_equal(user_access(k, A, ACC_READ, &got), 0);
    assert_int_equal(oracle_check(o, p->mm, A, ACC_READ, got, msg, sizeof msg), 0);   /* restored */
    do_exit(k, p);
    oracle_destroy(o);
    assert_int_equal(tm_destroy(t), 0);
}

/* The buddy allocator's free lists broken after boot (their page count one
 * more than the blocks on them, a lost update): a --check run fails on the
 * guest kernel's self-check, run by the engine; without --check it runs. */
static void booted_corrupt_buddy(struct hv *h)
{
    if (real_booted)
        real_booted(h);
    struct machine *m = (struct machine *)((char *)h->cpu - offsetof(struct machine, cpu));
    m->k.buddy.free_pages++;
}

static void test_engine_runs_kernel_check(void **state)
{
    (void)state;
    struct sim_config cfg;
    assert_int_equal(config_init(&cfg, "lmbench"), 0);
    cfg.check = 1;
    cfg.quiet = 1;
    assert_int_equal(config_param(&cfg, "lmbench.iterations=2"), 0);
    assert_int_equal(config_param(&cfg, "sim.check_every=10"), 0);
    const struct mode_def *real = mode_find("hap");
    struct paging_mode broken = *real->pm;
    real_booted = real->pm->booted;
    broken.booted = booted_corrupt_buddy;
    struct mode_def md = { "buddy-broken", "test", &broken };
    struct run_result r;
    assert_int_equal(engine_run(&cfg, real, &r), 0);
    run_result_free(&r);
    assert_int_equal(engine_run(&cfg, &md, &r), -1);
    if (!strstr(mv_last_error(), "guest kernel inconsistent after event 10:") || !strstr(mv_last_error(), "free_pages"))
        fail_msg("%s", mv_last_error());
    cfg.check = 0;
    assert_int_equal(engine_run(&cfg, &md, &r), 0);
    run_result_free(&r);
    config_free(&cfg);
}

/* At shutdown under --check, a guest frame never given back fails it. */
static void test_shutdown_leak_check(void **state)
{
    (void)state;
    struct tmachine *t = boot("native");
    struct task *p = proc(t);
    do_exit(&t->m.k, p);
    uint64_t pfn = kalloc_page(&t->m.k, PG_anon);   /* the bug: never freed */
    assert_int_not_equal(pfn, UINT64_MAX);
    assert_int_equal(tm_destroy(t), -1);
    assert_non_null(strstr(mv_last_error(), "1 guest frames were never given back"));
    t = boot("native");                               /* given back: no complaint */
    pfn = kalloc_page(&t->m.k, PG_anon);
    page_put(&t->m.k, pfn);
    assert_int_equal(tm_destroy(t), 0);
}

/* With clustering on, its bookkeeping is among the hypervisor's invariants. */
static void test_cluster_check_runs(void **state)
{
    (void)state;
    const char *const p[] = { "guest.ram_mb=256", "clustering.enable=true", NULL };
    struct tmachine *t = tm_boot_params("hap", "memwalk", p);
    struct task *pr = proc(t);
    struct hv *h = t->m.hv;
    assert_true(hv_ok(t));
    h->cl.site[0].avoided++;                          /* a site's count the counters do not have */
    char msg[512] = "";
    assert_int_equal(machine_check(&t->m, msg, sizeof msg), -1);
    assert_non_null(strstr(msg, "clustering"));
    h->cl.site[0].avoided--;
    assert_true(hv_ok(t));
    do_exit(&t->m.k, pr);
    assert_int_equal(tm_destroy(t), 0);
}

int main(void)
{
    mv_error_quiet(1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_oracle_tlb_entry_not_flushed),
        cmocka_unit_test(test_oracle_stale_shadow_after_flush),
        cmocka_unit_test(test_kernel_check),
        cmocka_unit_test(test_kernel_check_vma),
        cmocka_unit_test(test_pv_check),
        cmocka_unit_test(test_pv_check_refcounts),
        cmocka_unit_test(test_hap_check),
        cmocka_unit_test(test_shadow_check_tsp),
        cmocka_unit_test(test_shadow_check_ssp),
        cmocka_unit_test(test_shadow_check_unloaded_tsp),
        cmocka_unit_test(test_engine_fails_on_broken_invariant),
        cmocka_unit_test(test_oracle_catches_dropped_flushes),
        cmocka_unit_test(test_oracle_catches_skipped_guest_flush),
        cmocka_unit_test(test_oracle_strict),
        cmocka_unit_test(test_oracle_window_ends_at_full_flush),
        cmocka_unit_test(test_oracle_stale_rights),
        cmocka_unit_test(test_oracle_stale_nx),
        cmocka_unit_test(test_oracle_stale_user),
        cmocka_unit_test(test_engine_runs_kernel_check),
        cmocka_unit_test(test_shutdown_leak_check),
        cmocka_unit_test(test_cluster_check_runs),
        cmocka_unit_test(test_shadow_writable_huge_leaf),
        cmocka_unit_test(test_shadow_writable_over_clean),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

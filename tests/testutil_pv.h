/* testutil_pv.h: helpers shared by the Xen PV test programs that drive the
 * hypervisor's MMU hypercalls directly (test_pv_attacks.c,
 * test_pv_hypercalls.c): booting a pv guest, spawning a process with real
 * page tables, guest-to-machine frame translation, the raw mmu_update /
 * mmuext_op / update_va_mapping hypercalls, IOMMU lookups, and the pv_check
 * invariants. Include after <cmocka.h>. Everything is static so each test
 * program gets its own copy. */
#ifndef MV_TESTS_TESTUTIL_PV_H
#define MV_TESTS_TESTUTIL_PV_H
#include <stdint.h>

#include "hv/pv/xen.h"
#include "testutil.h"

/* Page flags as the guest kernel uses them: its direct map, user pages. */
#define PAGE_KERNEL    (_PAGE_PRESENT | _PAGE_RW | _PAGE_ACCESSED | _PAGE_DIRTY | _PAGE_NX)
#define PAGE_KERNEL_RO (_PAGE_PRESENT | _PAGE_ACCESSED | _PAGE_NX)
#define USER_RW (_PAGE_PRESENT | _PAGE_RW | _PAGE_USER | _PAGE_ACCESSED | _PAGE_DIRTY | _PAGE_NX)
#define USER_RO (_PAGE_PRESENT | _PAGE_USER | _PAGE_ACCESSED | _PAGE_NX)

#define VA0 0x400000ull                       /* L4 0, L3 0, L2 2 */
#define NPAGES 4                              /* pages a process maps at va */

/* ---- machine and process ------------------------------------------------- */

/* Boot `mode` (a pv mode) with a 256 MiB guest and one extra parameter
 * ("prefix.name=value", or NULL). */
static inline struct tmachine *boot(const char *mode, const char *extra)
{
    const char *const params[] = { "guest.ram_mb=256", extra, NULL };
    struct tmachine *t = tm_boot_params(mode, "memwalk", params);
    assert_non_null(t->m.hv);
    return t;
}

static inline struct xen *X(struct tmachine *t) { return XEN(t->m.hv); }
static inline struct kernel *K(struct tmachine *t) { return &t->m.k; }
static inline uint64_t p2m(struct tmachine *t, uint64_t pfn) { return pfn_to_mfn(X(t)->dom, pfn); }
static inline uint64_t cnt(struct tmachine *t, enum mv_counter c) { return t->m.st.cnt[c]; }

/* The hypervisor's security invariants hold. */
static inline void check_inv(struct tmachine *t)
{
    char msg[256] = "";
    if (pv_check(X(t), msg, sizeof msg))
        fail_msg("pv_check: %s", msg);
}

/* A process (running) with NPAGES anonymous pages mapped at va, the first
 * `touch` of them written (so their tables exist). */
static inline struct task *spawn_proc(struct tmachine *t, uint32_t pid, uint64_t va, unsigned touch)
{
    struct kernel *k = K(t);
    struct task *p = kernel_spawn(k, pid);
    schedule_to(k, p);
    assert_int_equal(sys_mmap(k, p, va, NPAGES * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANON, 0, 0),
                     (long)va);
    for (unsigned i = 0; i < touch; i++) {
        uint64_t mfn;
        assert_int_equal(user_access(k, va + i * PAGE_SIZE, ACC_WRITE, &mfn), 0);
    }
    return p;
}

/* Guest frame of the level-lvl table covering va in mm. */
static inline uint64_t table_pfn(struct tmachine *t, struct mm *mm, uint64_t va, unsigned lvl)
{
    struct kernel *k = K(t);
    uint64_t table = mm->pgd;
    for (unsigned l = 4; l > lvl; l--) {
        pte_t e = kread_entry(k, table, pt_index(va, l));
        assert_true(pte_present(e));
        table = k->pv->entry_pfn(k, e);
    }
    return table;
}

/* Check the invariants, exit the n tasks, check again, shut down leak-free. */
static inline void finish(struct tmachine *t, struct task **tasks, unsigned n)
{
    check_inv(t);
    for (unsigned i = 0; i < n; i++)
        do_exit(K(t), tasks[i]);
    check_inv(t);
    assert_int_equal(tm_destroy(t), 0);
}

/* ---- hypercalls, as the guest kernel issues them --------------------------- */

/* mmu_update of one entry: entry idx of the table at machine frame table_mfn
 * becomes val. *done (when done is not NULL) gets the count of requests the
 * hypercall reports completed. */
static inline long hc_mmu_update(struct tmachine *t, uint64_t table_mfn, unsigned idx, uint64_t val, unsigned *done)
{
    struct mmu_update u = { (table_mfn << PAGE_SHIFT) | ((uint64_t)idx << 3) | MMU_NORMAL_PT_UPDATE, val };
    struct mmu_update_args a = { &u, 1, 0 };
    long rc = cpu_hypercall(&t->m.cpu, __HYPERVISOR_mmu_update, &a);
    if (done)
        *done = a.done;
    return rc;
}

static inline long hc_ext(struct tmachine *t, unsigned cmd, uint64_t mfn)
{
    struct mmuext_op op = { .cmd = cmd, .mfn = mfn };
    struct mmuext_args a = { &op, 1, 0 };
    return cpu_hypercall(&t->m.cpu, __HYPERVISOR_mmuext_op, &a);
}

static inline long hc_uva(struct tmachine *t, uint64_t va, uint64_t val, unsigned flags)
{
    struct update_va_mapping_args a = { va, val, flags };
    return cpu_hypercall(&t->m.cpu, __HYPERVISOR_update_va_mapping, &a);
}

/* The guest's direct-map alias of pfn made writable or read-only. */
static inline long hc_dmap(struct tmachine *t, uint64_t pfn, int rw)
{
    return hc_uva(t, DIRECTMAP_BASE + (pfn << PAGE_SHIFT), pte_make(p2m(t, pfn), rw ? PAGE_KERNEL : PAGE_KERNEL_RO),
                  UVMF_NONE);
}

/* ---- the IOMMU ------------------------------------------------------------- */

/* Whether the domain's I/O page tables map mfn 1:1; *w (when w is not NULL)
 * gets whether the mapping is writable. */
static inline int io_mapped(struct tmachine *t, uint64_t mfn, int *w)
{
    uint64_t io_mfn = 0;
    int wr = 0;
    int rc = vtd_lookup(&X(t)->dom->vtd, mfn, &io_mfn, &wr);
    if (w)
        *w = wr;
    return rc == 0 && io_mfn == mfn;
}

#endif

/* test_walk.c: the hardware page walker walk_1d() on tables built by hand in
 * machine memory: reference counts per page size, the paging-structure
 * caches, not-present and protection faults with their error codes,
 * Accessed/Dirty updates, WALK_NOCHECK, non-canonical addresses, the frame
 * arithmetic of large pages, and reserved bits: a large page's frame bits,
 * PS in a PML4 entry (x86: #PF with P and RSVD), bit 7 of an EPT PML4 entry
 * (an EPT misconfiguration). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "hw/ept.h"
#include "hw/pmem.h"
#include "hw/pte.h"
#include "hw/pwc.h"
#include "hw/tlb.h"
#include "hw/walk.h"

#define NFRAMES (1ull << 20)     /* 4 GiB of machine memory */
#define ROOT 1
#define L3T 2
#define L2T 3
#define L1T 4
#define L1T_B 5
#define DATA 0x100
#define DATA_2M 0x200            /* 2 MiB aligned (512 frames) */
#define DATA_1G 0x40000          /* 1 GiB aligned (262144 frames) */

#define TF (_PAGE_PRESENT | _PAGE_RW | _PAGE_USER)        /* table entries */
#define LF (_PAGE_PRESENT | _PAGE_RW | _PAGE_USER)        /* leaf entries */

static uint64_t va_of(unsigned i4, unsigned i3, unsigned i2, unsigned i1, uint64_t off)
{
    return ((uint64_t)i4 << 39) | ((uint64_t)i3 << 30) | ((uint64_t)i2 << 21) |
           ((uint64_t)i1 << 12) | off;
}

#define I4 1
#define I3 2
#define I2 3
#define I1 4
static const uint64_t VA = ((uint64_t)I4 << 39) | ((uint64_t)I3 << 30) | ((uint64_t)I2 << 21) |
                           ((uint64_t)I1 << 12) | 0x123;

static int setup(void **state)
{
    struct pmem *m = test_malloc(sizeof *m);
    pmem_init(m, NFRAMES);
    *state = m;
    return 0;
}

static int teardown(void **state)
{
    struct pmem *m = *state;
    pmem_destroy(m);
    test_free(m);
    return 0;
}

/* ROOT -> L3T -> L2T -> L1T -> DATA for VA, with per-level flags. */
static void map4k_flags(struct pmem *m, uint64_t f4, uint64_t f3, uint64_t f2, uint64_t f1)
{
    pmem_write(m, ROOT, I4, pte_make(L3T, f4));
    pmem_write(m, L3T, I3, pte_make(L2T, f3));
    pmem_write(m, L2T, I2, pte_make(L1T, f2));
    pmem_write(m, L1T, I1, pte_make(DATA, f1));
}

static void map4k(struct pmem *m, uint64_t leaf)
{
    map4k_flags(m, TF, TF, TF, leaf);
}

/* ROOT -> L3T -> L2T -> the 2 MiB page at DATA_2M for VA (a PSE leaf). */
static void map2m(struct pmem *m)
{
    pmem_write(m, ROOT, I4, pte_make(L3T, TF));
    pmem_write(m, L3T, I3, pte_make(L2T, TF));
    pmem_write(m, L2T, I2, pte_make(DATA_2M, LF | _PAGE_PSE));
}

static uint32_t walk4(struct pmem *m, uint64_t va, enum access acc, int user, unsigned flags,
                     struct walk_result *r)
{
    return walk_1d(m, ROOT, va, acc, user, NULL, 0, flags, r);
}

static void test_refs_4k(void **state)
{
    struct pmem *m = *state;
    map4k(m, LF);
    struct walk_result r = { 0 };
    assert_int_equal(walk4(m, VA, ACC_READ, 1, 0, &r), 0);
    assert_int_equal(r.refs, 4);
    assert_int_equal(r.frame, DATA);
    assert_int_equal(r.size, PG_4K);
    assert_int_equal(r.level, 1);
    assert_int_equal(r.leaf_table, L1T);
    assert_int_equal(r.pwc_level, 4);
    assert_int_equal(r.flags & (TLB_W | TLB_U | TLB_NX), TLB_W | TLB_U);
    /* The page offset does not change the frame; another page of the same
     * table is not mapped. */
    assert_int_equal(walk4(m, VA & ~0xfffull, ACC_WRITE, 1, 0, &r), 0);
    assert_int_equal(r.frame, DATA);
    assert_int_equal(walk4(m, VA + 0x1000, ACC_READ, 1, 0, &r), PFEC_U);
    assert_int_equal(r.level, 1);
}

static void test_refs_2m(void **state)
{
    struct pmem *m = *state;
    map2m(m);
    struct walk_result r = { 0 };
    assert_int_equal(walk4(m, VA, ACC_READ, 1, 0, &r), 0);
    assert_int_equal(r.refs, 3);
    assert_int_equal(r.size, PG_2M);
    assert_int_equal(r.level, 2);
    assert_int_equal(r.leaf_table, L2T);
    /* VA's 4K index inside the 2M page is I1 */
    assert_int_equal(r.frame, DATA_2M + I1);
    /* first and last 4K page of the 2M page */
    assert_int_equal(walk4(m, va_of(I4, I3, I2, 0, 0), ACC_READ, 1, 0, &r), 0);
    assert_int_equal(r.frame, DATA_2M);
    assert_int_equal(walk4(m, va_of(I4, I3, I2, 511, 0xff8), ACC_WRITE, 1, 0, &r), 0);
    assert_int_equal(r.frame, DATA_2M + 511);
    /* Frame bits below 2M in the entry (bit 12 is PAT for large pages) are
     * not part of the base. */
    pmem_write(m, L2T, I2, pte_make(DATA_2M | 1, LF | _PAGE_PSE));
    assert_int_equal(walk4(m, VA, ACC_READ, 1, 0, &r), 0);
    assert_int_equal(r.frame, DATA_2M + I1);
    /* bits 20:13 are reserved: a walk through such an entry faults, with
     * P set (reserved bits are checked in present entries only, SDM 4.7) */
    pmem_write(m, L2T, I2, pte_make(DATA_2M | 2, LF | _PAGE_PSE));
    assert_int_equal(walk4(m, VA, ACC_READ, 1, 0, &r), PFEC_P | PFEC_RSVD | PFEC_U);
    pmem_write(m, L2T, I2, pte_make(DATA_2M | 256, LF | _PAGE_PSE));
    assert_true(walk4(m, VA, ACC_READ, 1, 0, &r) & PFEC_RSVD);
}

static void test_refs_1g(void **state)
{
    struct pmem *m = *state;
    pmem_write(m, ROOT, I4, pte_make(L3T, TF));
    pmem_write(m, L3T, I3, pte_make(DATA_1G, LF | _PAGE_PSE));
    struct walk_result r = { 0 };
    assert_int_equal(walk4(m, VA, ACC_READ, 1, 0, &r), 0);
    assert_int_equal(r.refs, 2);
    assert_int_equal(r.size, PG_1G);
    assert_int_equal(r.level, 3);
    assert_int_equal(r.leaf_table, L3T);
    assert_int_equal(r.frame, DATA_1G + I2 * 512 + I1);
    assert_int_equal(walk4(m, va_of(I4, I3, 511, 511, 0), ACC_READ, 1, 0, &r), 0);
    assert_int_equal(r.frame, DATA_1G + 511 * 512 + 511);
    assert_int_equal(walk4(m, va_of(I4, I3, 0, 0, 0), ACC_READ, 1, 0, &r), 0);
    assert_int_equal(r.frame, DATA_1G);
    /* bit 12 of a 1G entry is PAT, not part of the base; bits 29:13 are
     * reserved: set, the walk faults with PFEC_RSVD (SDM 4.5) */
    pmem_write(m, L3T, I3, pte_make(DATA_1G | 1, LF | _PAGE_PSE));
    assert_int_equal(walk4(m, VA, ACC_READ, 1, 0, &r), 0);
    assert_int_equal(r.frame, DATA_1G + I2 * 512 + I1);
    pmem_write(m, L3T, I3, pte_make(DATA_1G | 0x1ff, LF | _PAGE_PSE));
    assert_true(walk4(m, VA, ACC_READ, 1, 0, &r) & PFEC_RSVD);
    pmem_write(m, L3T, I3, pte_make(DATA_1G | (1ull << 17), LF | _PAGE_PSE));
    assert_true(walk4(m, VA, ACC_READ, 1, 0, &r) & PFEC_RSVD);
}

static void test_pwc(void **state)
{
    struct pmem *m = *state;
    map4k(m, LF);
    /* a second page in the same 2M region, and one in the next 2M region */
    pmem_write(m, L1T, I1 + 1, pte_make(DATA + 1, LF));
    pmem_write(m, L2T, I2 + 1, pte_make(L1T_B, TF));
    pmem_write(m, L1T_B, 0, pte_make(DATA + 2, LF));
    struct pwc pwc;
    pwc_init(&pwc, 2, 4, 32);
    struct walk_result r = { 0 };

    assert_int_equal(walk_1d(m, ROOT, VA, ACC_READ, 1, &pwc, 7, 0, &r), 0);
    assert_int_equal(r.refs, 4);
    assert_int_equal(r.pwc_level, 4);

    /* same 2M region: the PDE cache gives the L1 table */
    assert_int_equal(walk_1d(m, ROOT, VA + 0x1000, ACC_READ, 1, &pwc, 7, 0, &r), 0);
    assert_int_equal(r.refs, 1);
    assert_int_equal(r.pwc_level, 1);
    assert_int_equal(r.frame, DATA + 1);

    /* next 2M region, same 1G region: the PDPTE cache gives the L2 table */
    assert_int_equal(walk_1d(m, ROOT, va_of(I4, I3, I2 + 1, 0, 0), ACC_READ, 1, &pwc, 7, 0, &r), 0);
    assert_int_equal(r.refs, 2);
    assert_int_equal(r.pwc_level, 2);
    assert_int_equal(r.frame, DATA + 2);

    /* another PCID does not hit */
    assert_int_equal(walk_1d(m, ROOT, VA, ACC_READ, 1, &pwc, 8, 0, &r), 0);
    assert_int_equal(r.refs, 4);
    assert_int_equal(r.pwc_level, 4);

    /* after flushing the PCID, a full walk again */
    pwc_flush_pcid(&pwc, 7);
    assert_int_equal(walk_1d(m, ROOT, VA + 0x1000, ACC_READ, 1, &pwc, 7, 0, &r), 0);
    assert_int_equal(r.refs, 4);
    assert_int_equal(r.pwc_level, 4);

    /* Cached permissions still apply: a supervisor-only L3 entry forbids
     * user access even when the walk starts below it. */
    pwc_flush_all(&pwc);
    pmem_write(m, L3T, I3, pte_make(L2T, TF & ~_PAGE_USER));
    assert_int_equal(walk_1d(m, ROOT, VA, ACC_READ, 0, &pwc, 7, 0, &r), 0);
    assert_int_equal(walk_1d(m, ROOT, VA + 0x1000, ACC_READ, 1, &pwc, 7, 0, &r), PFEC_P | PFEC_U);
    assert_int_equal(r.pwc_level, 1);
    pwc_destroy(&pwc);
}

static void test_not_present(void **state)
{
    struct pmem *m = *state;
    struct walk_result r = { 0 };

    /* empty root */
    assert_int_equal(walk4(m, VA, ACC_READ, 1, 0, &r), PFEC_U);
    assert_int_equal(r.level, 4);
    assert_int_equal(r.refs, 1);
    assert_int_equal(r.leaf_table, ROOT);

    pmem_write(m, ROOT, I4, pte_make(L3T, TF));
    assert_int_equal(walk4(m, VA, ACC_WRITE, 1, 0, &r), PFEC_W | PFEC_U);
    assert_int_equal(r.level, 3);
    assert_int_equal(r.refs, 2);
    assert_int_equal(r.leaf_table, L3T);

    pmem_write(m, L3T, I3, pte_make(L2T, TF));
    assert_int_equal(walk4(m, VA, ACC_EXEC, 0, 0, &r), PFEC_I);
    assert_int_equal(r.level, 2);
    assert_int_equal(r.refs, 3);
    assert_int_equal(r.leaf_table, L2T);

    pmem_write(m, L2T, I2, pte_make(L1T, TF));
    assert_int_equal(walk4(m, VA, ACC_WRITE, 0, 0, &r), PFEC_W);
    assert_int_equal(r.level, 1);
    assert_int_equal(r.refs, 4);
    assert_int_equal(r.leaf_table, L1T);

    /* an entry with a frame but no P bit is not present */
    pmem_write(m, L1T, I1, pte_make(DATA, LF & ~_PAGE_PRESENT));
    assert_int_equal(walk4(m, VA, ACC_READ, 1, 0, &r), PFEC_U);
    assert_int_equal(r.level, 1);
    /* not present wins over every permission: no P bit in the code */
    assert_int_equal(walk4(m, VA, ACC_READ, 1, WALK_NOCHECK, &r), PFEC_U);

    pmem_write(m, L1T, I1, pte_make(DATA, LF));
    assert_int_equal(walk4(m, VA, ACC_READ, 1, 0, &r), 0);
}

static void test_user_supervisor(void **state)
{
    struct pmem *m = *state;
    struct walk_result r = { 0 };
    map4k(m, LF & ~_PAGE_USER);
    assert_int_equal(walk4(m, VA, ACC_READ, 1, 0, &r), PFEC_P | PFEC_U);
    assert_int_equal(r.level, 1);
    assert_int_equal(walk4(m, VA, ACC_WRITE, 1, 0, &r), PFEC_P | PFEC_U | PFEC_W);
    /* the kernel may access it */
    assert_int_equal(walk4(m, VA, ACC_READ, 0, 0, &r), 0);
    assert_int_equal(r.frame, DATA);
    assert_false(r.flags & TLB_U);

    /* U clear at an upper level forbids user access as well */
    map4k_flags(m, TF, TF & ~_PAGE_USER, TF, LF);
    assert_int_equal(walk4(m, VA, ACC_READ, 1, 0, &r), PFEC_P | PFEC_U);
    assert_int_equal(walk4(m, VA, ACC_READ, 0, 0, &r), 0);
    map4k_flags(m, TF & ~_PAGE_USER, TF, TF, LF);
    assert_int_equal(walk4(m, VA, ACC_READ, 1, 0, &r), PFEC_P | PFEC_U);
    map4k(m, LF);
    assert_int_equal(walk4(m, VA, ACC_READ, 1, 0, &r), 0);
    assert_true(r.flags & TLB_U);
}

static void test_read_only(void **state)
{
    struct pmem *m = *state;
    struct walk_result r = { 0 };
    map4k(m, LF & ~_PAGE_RW);
    assert_int_equal(walk4(m, VA, ACC_WRITE, 1, 0, &r), PFEC_P | PFEC_W | PFEC_U);
    assert_int_equal(r.level, 1);
    /* no CR0.WP exemption is modelled: supervisor writes fault as well */
    assert_int_equal(walk4(m, VA, ACC_WRITE, 0, 0, &r), PFEC_P | PFEC_W);
    assert_int_equal(walk4(m, VA, ACC_READ, 1, 0, &r), 0);
    assert_false(r.flags & TLB_W);

    /* W clear at any upper level forbids writes through a writable leaf */
    for (unsigned lvl = 2; lvl <= 4; lvl++) {
        map4k_flags(m, lvl == 4 ? TF & ~_PAGE_RW : TF, lvl == 3 ? TF & ~_PAGE_RW : TF,
                    lvl == 2 ? TF & ~_PAGE_RW : TF, LF);
        assert_int_equal(walk4(m, VA, ACC_WRITE, 1, 0, &r), PFEC_P | PFEC_W | PFEC_U);
        assert_int_equal(walk4(m, VA, ACC_READ, 1, 0, &r), 0);
        assert_false(r.flags & TLB_W);
    }
    map4k(m, LF);
    assert_int_equal(walk4(m, VA, ACC_WRITE, 1, 0, &r), 0);
    assert_true(r.flags & TLB_W);
}

static void test_nx(void **state)
{
    struct pmem *m = *state;
    struct walk_result r = { 0 };
    map4k(m, LF | _PAGE_NX);
    assert_int_equal(walk4(m, VA, ACC_EXEC, 1, 0, &r), PFEC_P | PFEC_I | PFEC_U);
    assert_int_equal(walk4(m, VA, ACC_EXEC, 0, 0, &r), PFEC_P | PFEC_I);
    assert_int_equal(walk4(m, VA, ACC_READ, 1, 0, &r), 0);
    assert_true(r.flags & TLB_NX);
    assert_int_equal(walk4(m, VA, ACC_WRITE, 1, 0, &r), 0);

    /* NX at an upper level makes the whole region non-executable */
    map4k_flags(m, TF, TF | _PAGE_NX, TF, LF);
    assert_int_equal(walk4(m, VA, ACC_EXEC, 1, 0, &r), PFEC_P | PFEC_I | PFEC_U);

    map4k(m, LF);
    assert_int_equal(walk4(m, VA, ACC_EXEC, 1, 0, &r), 0);
    assert_false(r.flags & TLB_NX);
}

static void test_accessed_dirty(void **state)
{
    struct pmem *m = *state;
    struct walk_result r = { 0 };
    const uint64_t dirty_bits = _PAGE_ACCESSED | _PAGE_DIRTY;

    /* without WALK_SET_AD nothing changes, for reads and writes */
    map4k(m, LF);
    pte_t before[4] = { pmem_read(m, ROOT, I4), pmem_read(m, L3T, I3), pmem_read(m, L2T, I2),
                        pmem_read(m, L1T, I1) };
    assert_int_equal(walk4(m, VA, ACC_READ, 1, 0, &r), 0);
    assert_int_equal(walk4(m, VA, ACC_WRITE, 1, 0, &r), 0);
    assert_int_equal(pmem_read(m, ROOT, I4), before[0]);
    assert_int_equal(pmem_read(m, L3T, I3), before[1]);
    assert_int_equal(pmem_read(m, L2T, I2), before[2]);
    assert_int_equal(pmem_read(m, L1T, I1), before[3]);
    assert_false(r.flags & TLB_D);

    /* a read with WALK_SET_AD sets A at every level, D nowhere */
    assert_int_equal(walk4(m, VA, ACC_READ, 1, WALK_SET_AD, &r), 0);
    assert_int_equal(pmem_read(m, ROOT, I4) & dirty_bits, _PAGE_ACCESSED);
    assert_int_equal(pmem_read(m, L3T, I3) & dirty_bits, _PAGE_ACCESSED);
    assert_int_equal(pmem_read(m, L2T, I2) & dirty_bits, _PAGE_ACCESSED);
    assert_int_equal(pmem_read(m, L1T, I1) & dirty_bits, _PAGE_ACCESSED);
    assert_false(r.flags & TLB_D);
    /* nothing else in the entries changed */
    assert_int_equal(pmem_read(m, L1T, I1), before[3] | _PAGE_ACCESSED);
    assert_int_equal(pmem_read(m, ROOT, I4), before[0] | _PAGE_ACCESSED);

    /* a write sets D on the leaf only */
    assert_int_equal(walk4(m, VA, ACC_WRITE, 1, WALK_SET_AD, &r), 0);
    assert_int_equal(pmem_read(m, L1T, I1) & dirty_bits, dirty_bits);
    assert_int_equal(pmem_read(m, ROOT, I4) & dirty_bits, _PAGE_ACCESSED);
    assert_int_equal(pmem_read(m, L3T, I3) & dirty_bits, _PAGE_ACCESSED);
    assert_int_equal(pmem_read(m, L2T, I2) & dirty_bits, _PAGE_ACCESSED);
    assert_true(r.flags & TLB_D);

    /* a write straight after mapping sets A and D together */
    map4k(m, LF);
    assert_int_equal(walk4(m, VA, ACC_WRITE, 1, WALK_SET_AD, &r), 0);
    assert_int_equal(pmem_read(m, L1T, I1) & dirty_bits, dirty_bits);
    assert_int_equal(pmem_read(m, L2T, I2) & dirty_bits, _PAGE_ACCESSED);

    /* a faulting write sets no D bit */
    map4k(m, LF & ~_PAGE_RW);
    assert_int_not_equal(walk4(m, VA, ACC_WRITE, 1, WALK_SET_AD, &r), 0);
    assert_false(pmem_read(m, L1T, I1) & _PAGE_DIRTY);

    /* a 2M leaf gets D; the L3 above it only A */
    map2m(m);
    assert_int_equal(walk4(m, VA, ACC_WRITE, 1, WALK_SET_AD, &r), 0);
    assert_int_equal(pmem_read(m, L2T, I2) & dirty_bits, dirty_bits);
    assert_true(pmem_read(m, L2T, I2) & _PAGE_PSE);
    assert_int_equal(pte_frame(pmem_read(m, L2T, I2)), DATA_2M);
    assert_int_equal(pmem_read(m, L3T, I3) & dirty_bits, _PAGE_ACCESSED);
}

static void test_nocheck(void **state)
{
    struct pmem *m = *state;
    struct walk_result r = { 0 };
    /* supervisor, read-only, non-executable page under a read-only L2 */
    map4k_flags(m, TF, TF, TF & ~_PAGE_RW, (LF & ~(_PAGE_USER | _PAGE_RW)) | _PAGE_NX);
    assert_int_equal(walk4(m, VA, ACC_WRITE, 1, 0, &r), PFEC_P | PFEC_W | PFEC_U);
    assert_int_equal(walk4(m, VA, ACC_EXEC, 1, 0, &r), PFEC_P | PFEC_I | PFEC_U);
    for (int acc = ACC_READ; acc <= ACC_EXEC; acc++) {
        assert_int_equal(walk4(m, VA, (enum access)acc, 1, WALK_NOCHECK, &r), 0);
        assert_int_equal(r.frame, DATA);
        assert_int_equal(r.refs, 4);
        /* the effective permissions are still reported */
        assert_int_equal(r.flags & (TLB_W | TLB_U | TLB_NX), TLB_NX);
    }
}

static void test_noncanonical(void **state)
{
    struct pmem *m = *state;
    struct walk_result r = { 0 };
    map4k(m, LF);
    const uint64_t bad[] = { 0x0000800000000000ull, VA | (1ull << 47), 0x8000000000000000ull,
                             0xffff7ffffffff000ull };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint32_t pfec = walk4(m, bad[i], ACC_READ, 1, 0, &r);
        assert_true(pfec & PFEC_RSVD);
        assert_int_equal(pfec & ~(uint32_t)PFEC_RSVD, PFEC_U);
        assert_int_equal(r.refs, 0);
        pfec = walk4(m, bad[i], ACC_WRITE, 0, WALK_NOCHECK, &r);
        assert_int_equal(pfec, PFEC_RSVD | PFEC_W);
    }
    /* the walk of the canonical original is fine */
    assert_int_equal(walk4(m, VA, ACC_READ, 1, 0, &r), 0);
}

static void test_table_outside_memory(void **state)
{
    struct pmem *m = *state;
    struct walk_result r = { 0 };
    pmem_write(m, ROOT, I4, pte_make(L3T, TF));
    pmem_write(m, L3T, I3, pte_make(NFRAMES + 5, TF));   /* beyond memory */
    uint32_t pfec = walk4(m, VA, ACC_READ, 1, 0, &r);
    assert_true(pfec & PFEC_RSVD);
    assert_int_equal(r.level, 2);
    assert_int_equal(r.refs, 2);
    /* a root beyond memory faults at once */
    pfec = walk_1d(m, NFRAMES, VA, ACC_READ, 1, NULL, 0, 0, &r);
    assert_true(pfec & PFEC_RSVD);
    assert_int_equal(r.refs, 0);
}

/* PS in a PML4 entry is reserved with 4-level paging (SDM 4.5): a walk
 * that reads such a present entry faults there, with P and RSVD (SDM
 * 4.7), after one reference, follows it nowhere and sets no Accessed bit
 * in it; WALK_NOCHECK does not hide it. A not-present one is not checked. */
static void test_pml4e_ps_reserved(void **state)
{
    struct pmem *m = *state;
    struct walk_result r = { 0 };
    map4k(m, LF);
    pmem_write(m, ROOT, I4, pte_make(L3T, TF | _PAGE_PSE));
    assert_int_equal(walk4(m, VA, ACC_READ, 1, 0, &r), PFEC_P | PFEC_RSVD | PFEC_U);
    assert_int_equal(r.level, 4);
    assert_int_equal(r.refs, 1);
    assert_int_equal(r.leaf_table, ROOT);
    assert_int_equal(walk4(m, VA, ACC_WRITE, 0, WALK_SET_AD, &r), PFEC_P | PFEC_RSVD | PFEC_W);
    assert_int_equal(pmem_read(m, ROOT, I4), pte_make(L3T, TF | _PAGE_PSE));   /* Accessed still clear */
    assert_int_equal(pmem_read(m, L3T, I3), pte_make(L2T, TF));                /* and nothing below read */
    assert_int_equal(walk4(m, VA, ACC_EXEC, 1, WALK_NOCHECK, &r), PFEC_P | PFEC_RSVD | PFEC_U | PFEC_I);
    /* Accessed set makes no difference */
    pmem_write(m, ROOT, I4, pte_make(L3T, TF | _PAGE_PSE | _PAGE_ACCESSED));
    assert_int_equal(walk4(m, VA, ACC_READ, 1, WALK_SET_AD, &r), PFEC_P | PFEC_RSVD | PFEC_U);
    /* not present: a plain not-present fault */
    pmem_write(m, ROOT, I4, pte_make(L3T, (TF & ~_PAGE_PRESENT) | _PAGE_PSE));
    assert_int_equal(walk4(m, VA, ACC_READ, 1, 0, &r), PFEC_U);
    /* PS clear again: the same tables translate */
    pmem_write(m, ROOT, I4, pte_make(L3T, TF));
    assert_int_equal(walk4(m, VA, ACC_READ, 1, 0, &r), 0);
    assert_int_equal(r.frame, DATA);
}

/* A walk that starts below the root (a paging-structure cache hit) does
 * not read the PML4 entry, as the hardware may use what it cached until
 * the guest invalidates it; after the invalidation the walk reads it and
 * faults. An entry with PS set is never cached. */
static void test_pml4e_ps_and_the_walk_caches(void **state)
{
    struct pmem *m = *state;
    struct walk_result r = { 0 };
    struct pwc pwc;
    map4k(m, LF);
    pwc_init(&pwc, 2, 4, 32);
    assert_int_equal(walk_1d(m, ROOT, VA, ACC_READ, 1, &pwc, 7, 0, &r), 0);
    pmem_write(m, ROOT, I4, pte_make(L3T, TF | _PAGE_PSE));
    assert_int_equal(walk_1d(m, ROOT, VA, ACC_READ, 1, &pwc, 7, 0, &r), 0);
    assert_int_equal(r.pwc_level, 1);
    pwc_flush_pcid(&pwc, 7);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(walk_1d(m, ROOT, VA, ACC_READ, 1, &pwc, 7, 0, &r), PFEC_P | PFEC_RSVD | PFEC_U);
        assert_int_equal(r.pwc_level, 4);   /* the second walk too: nothing was cached */
    }
    pwc_destroy(&pwc);
}

/* The EPT format: bit 7 of an L4 entry is reserved, and a walk that reads
 * it present stops with an EPT misconfiguration (SDM 29.3.3.1), not a
 * violation; in an L3 it maps a 1 GiB page; a not-present entry (bits 2:0
 * clear) is a violation whatever bit 7 says. */
static void test_ept_pml4e_bit7_misconfig(void **state)
{
    struct pmem *m = *state;
    struct walk_result r = { 0 };
    const struct walk_params p = { .fmt = PTF_EPT };
    pmem_write(m, ROOT, I4, ept_make(L3T, EPT_RWX));
    pmem_write(m, L3T, I3, ept_make(L2T, EPT_RWX));
    pmem_write(m, L2T, I2, ept_make(L1T, EPT_RWX));
    pmem_write(m, L1T, I1, ept_make(DATA, EPT_RWX));
    assert_int_equal(walk(m, ROOT, VA, ACC_READ, 0, &p, &r), 0);
    assert_int_equal(r.frame, DATA);
    pmem_write(m, ROOT, I4, ept_make(L3T, EPT_RWX | EPT_PS));
    assert_int_equal(walk(m, ROOT, VA, ACC_READ, 0, &p, &r), WALK_EPT_MISCONFIG);
    assert_int_equal(r.level, 4);
    assert_int_equal(r.refs, 1);
    assert_int_equal(walk(m, ROOT, VA, ACC_WRITE, 0, &p, &r), WALK_EPT_MISCONFIG);
    pmem_write(m, ROOT, I4, ept_make(L3T, EPT_PS));                    /* not present */
    assert_int_equal(walk(m, ROOT, VA, ACC_READ, 0, &p, &r), 1);
    pmem_write(m, ROOT, I4, ept_make(L3T, EPT_RWX));
    pmem_write(m, L3T, I3, ept_make(DATA_1G, EPT_RWX | EPT_PS));         /* a 1 GiB page */
    assert_int_equal(walk(m, ROOT, VA, ACC_READ, 0, &p, &r), 0);
    assert_int_equal(r.size, PG_1G);
    assert_int_equal(r.frame, DATA_1G + I2 * 512 + I1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_refs_4k, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refs_2m, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refs_1g, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pwc, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_present, setup, teardown),
        cmocka_unit_test_setup_teardown(test_user_supervisor, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nx, setup, teardown),
        cmocka_unit_test_setup_teardown(test_accessed_dirty, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nocheck, setup, teardown),
        cmocka_unit_test_setup_teardown(test_noncanonical, setup, teardown),
        cmocka_unit_test_setup_teardown(test_table_outside_memory, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pml4e_ps_reserved, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pml4e_ps_and_the_walk_caches, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ept_pml4e_bit7_misconfig, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

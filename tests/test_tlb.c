/* test_tlb.c: the Intel-style TLB model (L1 per page size, STLB, PCIDs,
 * global entries, true LRU, the architectural flushes). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "hw/tlb.h"

/* L1 4K: 4 sets x 4 ways; L1 2M: 2 x 4; L1 1G: 1 x 4; STLB: 16 x 4 with 2M. */
static const struct tlb_config CFG = {
    .l1_4k_entries = 16, .l1_4k_ways = 4,
    .l1_2m_entries = 8,  .l1_2m_ways = 4,
    .l1_1g_entries = 4,  .l1_1g_ways = 4,
    .l2_entries = 64,    .l2_ways = 4,
    .l2_2m = 1,
};

#define KVA 0xffffffff81000000ull   /* kernel-half address (global mappings) */

static void mk(struct tlb *t, const struct tlb_config *c)
{
    assert_int_equal(tlb_init(t, c), 0);
    assert_int_equal(tlb_count(t), 0);
}

static void ins(struct tlb *t, uint64_t va, uint16_t pcid, uint64_t frame, unsigned size, uint8_t flags)
{
    struct tlb_xlate x = { .frame = frame, .flags = flags, .size = (uint8_t)size };
    tlb_insert(t, va, pcid, &x);
}

/* Lookup returning the level; the frame (or ~0 on a miss) via *frame. */
static int look(struct tlb *t, uint64_t va, uint16_t pcid, uint64_t *frame)
{
    struct tlb_xlate x = { .frame = ~0ull };
    int r = tlb_lookup(t, va, pcid, &x);
    if (frame)
        *frame = r ? x.frame : ~0ull;
    return r;
}

#define PG(vpn) ((uint64_t)(vpn) << 12)

/* Fill L1 4K set 0 (4 ways), in this order: vpns 0, 4, 8, 12 -> frames 10..13. */
static void fill_l1_set0(struct tlb *t)
{
    ins(t, PG(0), 1, 10, PG_4K, 0);
    ins(t, PG(4), 1, 11, PG_4K, 0);
    ins(t, PG(8), 1, 12, PG_4K, 0);
    ins(t, PG(12), 1, 13, PG_4K, 0);
}

static void test_init_geometry(void **state)
{
    struct tlb t;
    struct tlb_config c = CFG;
    mk(&t, &c);
    assert_int_equal(t.l1[PG_4K].sets, 4);
    assert_int_equal(t.l1[PG_4K].ways, 4);
    assert_int_equal(t.l2.sets, 16);
    tlb_destroy(&t);

    c.l2_entries = 1536, c.l2_ways = 12;              /* 128 sets: fine */
    assert_int_equal(tlb_init(&t, &c), 0);
    assert_int_equal(t.l2.sets, 128);
    assert_int_equal(t.l2.set_mask, 127);
    tlb_destroy(&t);

    c.l2_entries = 100, c.l2_ways = 12;               /* not a multiple */
    assert_int_equal(tlb_init(&t, &c), -1);
    c.l2_entries = 96, c.l2_ways = 4;                 /* 24 sets */
    assert_int_equal(tlb_init(&t, &c), -1);
    c.l2_entries = 64, c.l2_ways = 0;                 /* no ways */
    assert_int_equal(tlb_init(&t, &c), -1);
    c = CFG;
    c.l1_4k_entries = 16, c.l1_4k_ways = 32;          /* more ways than entries */
    assert_int_equal(tlb_init(&t, &c), -1);
    c = CFG;
    c.l1_1g_entries = 48, c.l1_1g_ways = 4;           /* 12 sets */
    assert_int_equal(tlb_init(&t, &c), -1);
}

static void test_absent_structures(void **state)
{
    struct tlb t;
    struct tlb_config c = CFG;
    uint64_t f;
    c.l1_1g_entries = 0, c.l1_1g_ways = 0;
    c.l1_2m_entries = 0, c.l1_2m_ways = 4;
    mk(&t, &c);
    assert_int_equal(t.l1[PG_1G].ways, 0);
    ins(&t, 1ull << 30, 1, 0x40000, PG_1G, 0);        /* nowhere to go */
    assert_int_equal(tlb_count(&t), 0);
    assert_int_equal(look(&t, 1ull << 30, 1, NULL), 0);
    ins(&t, 0x200000, 1, 0x200, PG_2M, 0);            /* STLB only */
    assert_int_equal(tlb_count(&t), 1);
    assert_int_equal(look(&t, 0x201000, 1, &f), 2);   /* no L1 2M to refill */
    assert_int_equal(f, 0x201);
    assert_int_equal(look(&t, 0x201000, 1, &f), 2);
    assert_int_equal(tlb_flush_page(&t, 0x200000, 1), 1);
    assert_int_equal(tlb_flush_all(&t), 0);
    tlb_destroy(&t);
}

static void test_l1_hit(void **state)
{
    struct tlb t;
    struct tlb_xlate x;
    mk(&t, &CFG);
    ins(&t, 0x1234000, 1, 77, PG_4K, TLB_W | TLB_U | TLB_D);
    assert_int_equal(tlb_count(&t), 2);               /* L1 4K + STLB */
    assert_int_equal(tlb_lookup(&t, 0x1234abc, 1, &x), 1);
    assert_int_equal(x.frame, 77);
    assert_int_equal(x.flags, TLB_W | TLB_U | TLB_D);
    assert_int_equal(x.size, PG_4K);
    assert_int_equal(look(&t, 0x1235000, 1, NULL), 0);
    assert_int_equal(look(&t, 0x1233fff, 1, NULL), 0);
    tlb_destroy(&t);
}

static void test_stlb_refill(void **state)
{
    struct tlb t;
    uint64_t f;
    mk(&t, &CFG);
    /* vpns 0,4,..,16 share L1 set 0 (4 ways) but spread over STLB sets. */
    for (unsigned i = 0; i < 5; i++)
        ins(&t, PG(4 * i), 1, 100 + i, PG_4K, 0);
    assert_int_equal(tlb_count(&t), 4 + 5);
    assert_int_equal(look(&t, PG(0), 1, &f), 2);      /* evicted from L1 only */
    assert_int_equal(f, 100);
    assert_int_equal(look(&t, PG(0), 1, &f), 1);      /* refilled */
    assert_int_equal(f, 100);
    assert_int_equal(tlb_count(&t), 4 + 5);
    /* The refill evicted vpn 4 (then the LRU in L1 set 0). */
    assert_int_equal(look(&t, PG(4), 1, &f), 2);
    assert_int_equal(f, 101);
    assert_int_equal(look(&t, PG(4), 1, NULL), 1);
    assert_int_equal(look(&t, PG(12), 1, NULL), 1);
    assert_int_equal(look(&t, PG(16), 1, NULL), 1);
    assert_int_equal(look(&t, PG(8), 1, &f), 2);
    assert_int_equal(f, 102);
    tlb_destroy(&t);

    /* vpns 0,16,..,64 share L1 set 0 and STLB set 0: vpn 0 leaves both. */
    mk(&t, &CFG);
    for (unsigned i = 0; i < 5; i++)
        ins(&t, PG(16 * i), 1, 200 + i, PG_4K, 0);
    assert_int_equal(tlb_count(&t), 4 + 4);
    assert_int_equal(look(&t, PG(0), 1, NULL), 0);
    assert_int_equal(look(&t, PG(16), 1, NULL), 1);
    tlb_destroy(&t);
}

static void test_lru_touch_order(void **state)
{
    struct tlb t;
    mk(&t, &CFG);
    /* A,B,C,D (vpns 0,4,8,12) fill L1 set 0; touching A,B,D leaves C least
     * recent even though A was inserted first (FIFO would evict A). */
    fill_l1_set0(&t);
    assert_int_equal(look(&t, PG(0), 1, NULL), 1);
    assert_int_equal(look(&t, PG(4), 1, NULL), 1);
    assert_int_equal(look(&t, PG(12), 1, NULL), 1);
    ins(&t, PG(16), 1, 14, PG_4K, 0);  /* E evicts C */
    assert_int_equal(look(&t, PG(0), 1, NULL), 1);
    assert_int_equal(look(&t, PG(4), 1, NULL), 1);
    assert_int_equal(look(&t, PG(12), 1, NULL), 1);
    assert_int_equal(look(&t, PG(16), 1, NULL), 1);
    /* Touch order now A,B,D,E: C's refill from the STLB evicts A. */
    assert_int_equal(look(&t, PG(8), 1, NULL), 2);
    assert_int_equal(look(&t, PG(0), 1, NULL), 2);    /* ...which evicts B */
    assert_int_equal(look(&t, PG(12), 1, NULL), 1);
    assert_int_equal(look(&t, PG(4), 1, NULL), 2);
    tlb_destroy(&t);

    /* STLB LRU on its own: no L1 4K, so every hit is an STLB hit. */
    struct tlb_config c = CFG;
    c.l1_4k_entries = 0;
    mk(&t, &c);
    for (unsigned i = 0; i < 4; i++)
        ins(&t, PG(16 * i), 1, 20 + i, PG_4K, 0);     /* STLB set 0 */
    assert_int_equal(look(&t, PG(0), 1, NULL), 2);
    assert_int_equal(look(&t, PG(16), 1, NULL), 2);
    assert_int_equal(look(&t, PG(48), 1, NULL), 2);
    ins(&t, PG(64), 1, 24, PG_4K, 0);                 /* evicts vpn 32 */
    assert_int_equal(look(&t, PG(32), 1, NULL), 0);
    assert_int_equal(look(&t, PG(0), 1, NULL), 2);
    assert_int_equal(look(&t, PG(16), 1, NULL), 2);
    assert_int_equal(look(&t, PG(48), 1, NULL), 2);
    assert_int_equal(look(&t, PG(64), 1, NULL), 2);
    tlb_destroy(&t);
}

/* Sets wider than 16 ways keep 64-bit stamps: the same true LRU. */
static void test_lru_wide_set(void **state)
{
    struct tlb t;
    struct tlb_config c = CFG;
    c.l1_4k_entries = 32;
    c.l1_4k_ways = 32;                                /* one set of 32 ways */
    mk(&t, &c);
    for (unsigned i = 0; i < 32; i++)
        ins(&t, PG(i), 1, 100 + i, PG_4K, 0);
    assert_int_equal(look(&t, PG(0), 1, NULL), 1);    /* vpn 1 is now LRU */
    ins(&t, PG(40), 1, 140, PG_4K, 0);
    assert_int_equal(look(&t, PG(0), 1, NULL), 1);
    assert_int_equal(look(&t, PG(2), 1, NULL), 1);
    assert_int_equal(look(&t, PG(1), 1, NULL), 2);    /* from the STLB */
    tlb_destroy(&t);
}

/* A hit on the entry touched last skips the LRU update; that must never
 * change which entry is evicted. */
static void test_lru_repeat_hit(void **state)
{
    struct tlb t;
    mk(&t, &CFG);
    fill_l1_set0(&t);
    assert_int_equal(look(&t, PG(0), 1, NULL), 1);
    assert_int_equal(look(&t, PG(0), 1, NULL), 1);    /* the same page again */
    assert_int_equal(look(&t, PG(4), 1, NULL), 1);
    assert_int_equal(look(&t, PG(4), 1, NULL), 1);
    ins(&t, PG(16), 1, 14, PG_4K, 0);                 /* evicts vpn 8 */
    assert_int_equal(look(&t, PG(8), 1, NULL), 2);
    assert_int_equal(look(&t, PG(0), 1, NULL), 1);
    tlb_destroy(&t);
}

static void test_insert_replaces(void **state)
{
    struct tlb t;
    uint64_t f;
    struct tlb_xlate x;
    mk(&t, &CFG);
    ins(&t, 0x5000, 1, 10, PG_4K, TLB_W);
    ins(&t, 0x5000, 1, 11, PG_4K, TLB_W | TLB_D);     /* same tag: replaced */
    assert_int_equal(tlb_count(&t), 2);
    assert_int_equal(look(&t, 0x5000, 1, &f), 1);
    assert_int_equal(f, 11);
    /* A global entry re-walked from another PCID replaces the old one, so the
     * lookup sees the new flags whichever PCID asks. */
    ins(&t, KVA, 1, 30, PG_4K, TLB_G | TLB_W);
    ins(&t, KVA, 2, 30, PG_4K, TLB_G | TLB_W | TLB_D);
    assert_int_equal(tlb_count(&t), 4);
    assert_int_equal(tlb_lookup(&t, KVA, 1, &x), 1);
    assert_true(x.flags & TLB_D);
    tlb_destroy(&t);
}

static void test_pcid_and_global(void **state)
{
    struct tlb t;
    uint64_t f;
    mk(&t, &CFG);
    ins(&t, 0x400000, 1, 5, PG_4K, 0);
    assert_int_equal(look(&t, 0x400000, 2, NULL), 0);
    assert_int_equal(look(&t, 0x400000, 1, &f), 1);
    assert_int_equal(f, 5);
    ins(&t, 0x400000, 2, 6, PG_4K, 0);                /* coexists */
    assert_int_equal(look(&t, 0x400000, 1, &f), 1);
    assert_int_equal(f, 5);
    assert_int_equal(look(&t, 0x400000, 2, &f), 1);
    assert_int_equal(f, 6);
    assert_int_equal(look(&t, 0x400000, 3, NULL), 0);

    /* Global kernel-half entry hits from any PCID, from L1 and from STLB. */
    ins(&t, KVA, 1, 9, PG_4K, TLB_G);
    assert_int_equal(look(&t, KVA + 0x10, 7, &f), 1);
    assert_int_equal(f, 9);
    assert_int_equal(look(&t, KVA, 0xfff, NULL), 1);
    for (unsigned i = 0; i < 4; i++)                  /* evict it from L1 set 0 */
        ins(&t, PG(0x100 + 4 * i), 1, 50 + i, PG_4K, 0);
    assert_int_equal(look(&t, KVA, 3, &f), 2);
    assert_int_equal(f, 9);
    assert_int_equal(look(&t, KVA, 4, NULL), 1);
    /* A global user-half 2M page too. */
    ins(&t, 0x600000, 1, 0x400, PG_2M, TLB_G);
    assert_int_equal(look(&t, 0x7ff000, 9, &f), 1);
    assert_int_equal(f, 0x5ff);
    tlb_destroy(&t);
}

static void test_large_pages(void **state)
{
    struct tlb t;
    struct tlb_xlate x;
    uint64_t f;
    mk(&t, &CFG);
    /* 2M page at 0x40200000 -> frames 0x80000..0x801ff; inserted via an inner
     * page, so the entry must store the base frame. */
    ins(&t, 0x40203000, 1, 0x80003, PG_2M, TLB_W);
    assert_int_equal(tlb_lookup(&t, 0x403ff012, 1, &x), 1);
    assert_int_equal(x.frame, 0x801ff);
    assert_int_equal(x.size, PG_2M);
    assert_int_equal(x.flags, TLB_W);
    assert_int_equal(look(&t, 0x40200000, 1, &f), 1);
    assert_int_equal(f, 0x80000);
    assert_int_equal(look(&t, 0x40400000, 1, NULL), 0);
    assert_int_equal(tlb_count(&t), 2);               /* L1 2M + STLB */

    /* 1G page at 2 GiB -> frames 0x100000..; only in L1 1G. */
    ins(&t, 0x80000000ull + 0x12345000, 1, 0x100000 + 0x12345, PG_1G, 0);
    assert_int_equal(tlb_lookup(&t, 0x80000000ull + 0x3ffff000, 1, &x), 1);
    assert_int_equal(x.frame, 0x100000 + 0x3ffff);
    assert_int_equal(x.size, PG_1G);
    assert_int_equal(look(&t, 0x80000000ull, 1, &f), 1);
    assert_int_equal(f, 0x100000);
    assert_int_equal(look(&t, 0xc0000000ull, 1, NULL), 0);
    assert_int_equal(tlb_count(&t), 3);
    tlb_destroy(&t);

    /* 2M entries evicted from L1 2M (2 sets x 4) refill from the STLB. */
    mk(&t, &CFG);
    for (unsigned i = 0; i < 5; i++)
        ins(&t, (0x1000ull + 2 * i) << 21, 1, 0x10000 + 512 * i, PG_2M, 0);
    assert_int_equal(tlb_lookup(&t, (0x1000ull << 21) + 0x5000, 1, &x), 2);
    assert_int_equal(x.frame, 0x10005);
    assert_int_equal(x.size, PG_2M);
    assert_int_equal(look(&t, (0x1000ull << 21) + 0x7000, 1, &f), 1);
    assert_int_equal(f, 0x10007);
    tlb_destroy(&t);

    /* Without l2_2m the STLB holds no 2M entries. */
    struct tlb_config c = CFG;
    c.l2_2m = 0;
    mk(&t, &c);
    ins(&t, 0x200000, 1, 0x200, PG_2M, 0);
    assert_int_equal(tlb_count(&t), 1);
    tlb_destroy(&t);
}

/* A 4K entry and a 2M entry with the same vpn value share a tag format and a
 * STLB set: neither may answer for the other, nor be flushed for the other. */
static void test_size_tags_distinct(void **state)
{
    struct tlb t;
    uint64_t f;
    mk(&t, &CFG);
    ins(&t, PG(5), 1, 0x77, PG_4K, 0);                /* 4K vpn 5 */
    assert_int_equal(look(&t, 5ull << 21, 1, NULL), 0);
    ins(&t, 5ull << 21, 1, 0x400, PG_2M, 0);          /* 2M vpn 5 */
    assert_int_equal(tlb_count(&t), 4);
    assert_int_equal(tlb_flush_page(&t, PG(5), 1), 2);
    assert_int_equal(look(&t, (5ull << 21) + 0x3000, 1, &f), 1);
    assert_int_equal(f, 0x403);
    assert_int_equal(look(&t, PG(5), 1, NULL), 0);
    /* Only the STLB copy of the 2M page: a 4K probe of vpn 5 must miss. */
    ins(&t, PG(5), 1, 0x77, PG_4K, 0);
    for (unsigned i = 0; i < 4; i++)                  /* push 2M out of L1 2M set 1 */
        ins(&t, (7ull + 2 * i) << 21, 2, 0x800 + 512 * i, PG_2M, 0);
    assert_int_equal(tlb_flush_page(&t, PG(5), 1), 2);
    assert_int_equal(look(&t, PG(5), 1, NULL), 0);
    assert_int_equal(look(&t, 5ull << 21, 1, &f), 2);
    assert_int_equal(f, 0x400);
    assert_int_equal(tlb_flush_page(&t, (5ull << 21) + 0x1ff000, 1), 2);
    assert_int_equal(look(&t, 5ull << 21, 1, NULL), 0);
    tlb_destroy(&t);
}

static void test_flush_page(void **state)
{
    struct tlb t;
    uint64_t f;
    const uint64_t A = 0x10000, G = 0x20000, H = 0x40600000;  /* H: 2M vpn 0x203, STLB set 3 */
    mk(&t, &CFG);
    ins(&t, A, 1, 1, PG_4K, 0);
    ins(&t, A, 2, 2, PG_4K, 0);
    ins(&t, A + 0x1000, 1, 3, PG_4K, 0);
    ins(&t, G, 1, 4, PG_4K, TLB_G);
    ins(&t, H, 1, 0x1000, PG_2M, 0);
    ins(&t, H, 2, 0x2000, PG_2M, 0);
    ins(&t, KVA, 1, 0x5000, PG_1G, TLB_G);            /* 1G: L1 only */
    assert_int_equal(tlb_count(&t), 13);

    assert_int_equal(tlb_flush_page(&t, A + 0x10, 1), 2);
    assert_int_equal(look(&t, A, 1, NULL), 0);
    assert_int_equal(look(&t, A, 2, &f), 1);
    assert_int_equal(f, 2);
    assert_int_equal(look(&t, A + 0x1000, 1, &f), 1);
    assert_int_equal(f, 3);

    assert_int_equal(tlb_flush_page(&t, G, 5), 2);    /* global, any PCID */
    assert_int_equal(look(&t, G, 1, NULL), 0);

    assert_int_equal(tlb_flush_page(&t, H + 0x123000, 1), 2);   /* inside 2M */
    assert_int_equal(look(&t, H, 1, NULL), 0);
    assert_int_equal(look(&t, H + 0x1000, 2, &f), 1);
    assert_int_equal(f, 0x2001);

    assert_int_equal(tlb_flush_page(&t, KVA + 0x3e000000, 9), 1); /* inside 1G */
    assert_int_equal(look(&t, KVA, 1, NULL), 0);

    assert_int_equal(tlb_flush_page(&t, 0x99999000, 1), 0);
    assert_int_equal(tlb_count(&t), 13 - 7);
    tlb_destroy(&t);
}

/* Shared setup for the broad flushes: 11 entries, 4 of them global. */
static void populate(struct tlb *t)
{
    mk(t, &CFG);
    ins(t, 0x1000, 1, 1, PG_4K, 0);
    ins(t, 0x2000, 1, 2, PG_4K, 0);
    ins(t, 0x200000, 1, 0x200, PG_2M, 0);
    ins(t, 0x3000, 2, 3, PG_4K, 0);
    ins(t, KVA, 1, 4, PG_4K, TLB_G);
    ins(t, 0x40000000, 3, 0x40000, PG_1G, TLB_G);
    ins(t, 0x800000, 3, 0x800, PG_2M, TLB_G);
    assert_int_equal(tlb_count(t), 13);
}

static void test_flush_pcid(void **state)
{
    struct tlb t;
    populate(&t);
    assert_int_equal(tlb_flush_pcid(&t, 1), 6);
    assert_int_equal(look(&t, 0x1000, 1, NULL), 0);
    assert_int_equal(look(&t, 0x2000, 1, NULL), 0);
    assert_int_equal(look(&t, 0x200000, 1, NULL), 0);
    assert_int_equal(look(&t, 0x3000, 2, NULL), 1);
    assert_int_equal(look(&t, KVA, 1, NULL), 1);
    assert_int_equal(look(&t, 0x40000000, 1, NULL), 1);
    assert_int_equal(look(&t, 0x800000, 1, NULL), 1);
    assert_int_equal(tlb_count(&t), 7);
    assert_int_equal(tlb_flush_pcid(&t, 1), 0);
    assert_int_equal(tlb_flush_pcid(&t, 3), 0);       /* its entries are global */
    tlb_destroy(&t);
}

static void test_flush_nonglobal(void **state)
{
    struct tlb t;
    populate(&t);
    assert_int_equal(tlb_flush_nonglobal(&t), 8);
    assert_int_equal(tlb_count(&t), 5);
    assert_int_equal(look(&t, 0x1000, 1, NULL), 0);
    assert_int_equal(look(&t, 0x200000, 1, NULL), 0);
    assert_int_equal(look(&t, 0x3000, 2, NULL), 0);
    assert_int_equal(look(&t, KVA, 6, NULL), 1);
    assert_int_equal(look(&t, 0x40000000, 6, NULL), 1);
    assert_int_equal(look(&t, 0x800000, 6, NULL), 1);
    assert_int_equal(tlb_flush_nonglobal(&t), 0);
    tlb_destroy(&t);
}

static void test_flush_all(void **state)
{
    struct tlb t;
    populate(&t);
    assert_int_equal(tlb_flush_all(&t), 13);
    assert_int_equal(tlb_count(&t), 0);
    assert_int_equal(look(&t, KVA, 1, NULL), 0);
    assert_int_equal(look(&t, 0x40000000, 3, NULL), 0);
    assert_int_equal(look(&t, 0x1000, 1, NULL), 0);
    assert_int_equal(tlb_flush_all(&t), 0);
    tlb_destroy(&t);
}

/* A whole flush clears the valid bits and leaves the tags: nothing stale
 * may match, be flushed again, count, or take a way from a new entry. */
static void test_flush_all_leaves_nothing(void **state)
{
    struct tlb t;
    mk(&t, &CFG);
    fill_l1_set0(&t);                                 /* vpns 0, 4, 8, 12 in L1 set 0 */
    assert_int_equal(look(&t, PG(8), 1, NULL), 1);    /* the entry touched last */
    assert_int_equal(tlb_flush_all(&t), 8);
    for (unsigned v = 0; v <= 12; v += 4) {
        assert_int_equal(look(&t, PG(v), 1, NULL), 0);
        assert_int_equal(tlb_flush_page(&t, PG(v), 1), 0);
    }
    assert_int_equal(tlb_count(&t), 0);
    assert_int_equal(tlb_flush_pcid(&t, 1), 0);
    /* fresh entries fill the set from way 0, and the LRU order is theirs */
    ins(&t, PG(16), 1, 20, PG_4K, 0);
    ins(&t, PG(20), 1, 21, PG_4K, 0);
    ins(&t, PG(24), 1, 22, PG_4K, 0);
    ins(&t, PG(28), 1, 23, PG_4K, 0);
    assert_int_equal(tlb_count(&t), 8);
    assert_int_equal(look(&t, PG(16), 1, NULL), 1);
    ins(&t, PG(32), 1, 24, PG_4K, 0);                 /* evicts vpn 20 from L1 */
    assert_int_equal(look(&t, PG(20), 1, NULL), 2);
    assert_int_equal(look(&t, PG(8), 1, NULL), 0);    /* the old entry stays gone */
    tlb_destroy(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_geometry),
        cmocka_unit_test(test_absent_structures),
        cmocka_unit_test(test_l1_hit),
        cmocka_unit_test(test_stlb_refill),
        cmocka_unit_test(test_lru_touch_order),
        cmocka_unit_test(test_lru_wide_set),
        cmocka_unit_test(test_lru_repeat_hit),
        cmocka_unit_test(test_insert_replaces),
        cmocka_unit_test(test_pcid_and_global),
        cmocka_unit_test(test_large_pages),
        cmocka_unit_test(test_size_tags_distinct),
        cmocka_unit_test(test_flush_page),
        cmocka_unit_test(test_flush_pcid),
        cmocka_unit_test(test_flush_nonglobal),
        cmocka_unit_test(test_flush_all),
        cmocka_unit_test(test_flush_all_leaves_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

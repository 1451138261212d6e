/* test_buddy.c: the guest buddy allocator: decomposition, split/merge, LIFO
 * order, exhaustion, alignment, randomized stress and large ranges; and
 * buddy_check catching each of its invariants broken alone. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guest/buddy.h"

static void assert_ok(const struct buddy *b)
{
    char msg[256] = "";
    int rc = buddy_check(b, msg, sizeof msg);
    if (rc)
        print_error("buddy_check: %s\n", msg);
    assert_int_equal(rc, 0);
}

static void test_init_aligned(void **state)
{
    struct buddy b;
    buddy_init(&b, 4096, 8192);
    assert_int_equal(buddy_nr_free(&b, BUDDY_MAX_ORDER), 8);
    for (unsigned k = 0; k < BUDDY_MAX_ORDER; k++)
        assert_int_equal(buddy_nr_free(&b, k), 0);
    assert_int_equal(b.free_pages, 8192);
    assert_ok(&b);
    buddy_destroy(&b);
}

static void test_init_unaligned(void **state)
{
    /* [3, 2003): 3 | 4-7 | 8-15 | ... | 512-1023 | 1024-1535 | 1536-1791 |
     * 1792-1919 | 1920-1983 | 1984-1999 | 2000-2001 | 2002 */
    static const uint64_t want[BUDDY_MAX_ORDER + 1] = { 2, 1, 1, 1, 2, 1, 2, 2, 2, 2, 0 };
    struct buddy b;
    buddy_init(&b, 3, 2000);
    for (unsigned k = 0; k <= BUDDY_MAX_ORDER; k++)
        assert_int_equal(buddy_nr_free(&b, k), want[k]);
    assert_int_equal(b.free_pages, 2000);
    assert_ok(&b);
    /* Allocate everything one frame at a time: every frame exactly once. */
    uint8_t seen[2000] = { 0 };
    for (int i = 0; i < 2000; i++) {
        uint64_t f = buddy_alloc(&b, 0);
        assert_true(f >= 3 && f < 2003);
        assert_int_equal(seen[f - 3], 0);
        seen[f - 3] = 1;
    }
    assert_int_equal(buddy_alloc(&b, 0), UINT64_MAX);
    assert_int_equal(b.free_pages, 0);
    assert_ok(&b);
    for (uint64_t f = 3; f < 2003; f++)
        buddy_free(&b, f, 0);
    for (unsigned k = 0; k <= BUDDY_MAX_ORDER; k++)
        assert_int_equal(buddy_nr_free(&b, k), want[k]);
    assert_ok(&b);
    buddy_destroy(&b);
}

static void test_split_and_merge(void **state)
{
    struct buddy b;
    buddy_init(&b, 0, 1024);
    uint64_t f = buddy_alloc(&b, 0);
    assert_int_equal(f, 0);
    assert_int_equal(b.st.split, 10);
    assert_int_equal(b.st.alloc, 1);
    for (unsigned k = 0; k < BUDDY_MAX_ORDER; k++) {
        assert_int_equal(buddy_nr_free(&b, k), 1);
        assert_int_equal(b.area[k].blocks[0], 1ull << k); /* upper halves */
    }
    assert_int_equal(buddy_nr_free(&b, BUDDY_MAX_ORDER), 0);
    assert_int_equal(b.free_pages, 1023);
    assert_ok(&b);

    buddy_free(&b, f, 0);
    assert_int_equal(b.st.merge, 10);
    assert_int_equal(b.st.free, 1);
    for (unsigned k = 0; k < BUDDY_MAX_ORDER; k++)
        assert_int_equal(buddy_nr_free(&b, k), 0);
    assert_int_equal(buddy_nr_free(&b, BUDDY_MAX_ORDER), 1);
    assert_int_equal(b.free_pages, 1024);
    assert_ok(&b);
    buddy_destroy(&b);
}

static void test_no_merge_across_range_edge(void **state)
{
    /* [1, 3): frame 1's buddy 0 and frame 2's order-1 buddy 0 lie outside. */
    struct buddy b;
    buddy_init(&b, 1, 2);
    assert_int_equal(buddy_nr_free(&b, 0), 2);
    uint64_t x = buddy_alloc(&b, 0), y = buddy_alloc(&b, 0);
    assert_int_equal(x, 1);
    assert_int_equal(y, 2);
    buddy_free(&b, x, 0);
    buddy_free(&b, y, 0);
    assert_int_equal(b.st.merge, 0);
    assert_int_equal(buddy_nr_free(&b, 0), 2);
    assert_ok(&b);
    buddy_destroy(&b);
}

static void test_lifo(void **state)
{
    struct buddy b;
    buddy_init(&b, 0, 1024);
    uint64_t f[4];
    for (int i = 0; i < 4; i++)
        f[i] = buddy_alloc(&b, 0);
    assert_int_equal(f[0], 0);
    assert_int_equal(f[2], 2);
    buddy_free(&b, f[0], 0); /* A: buddy 1 still allocated */
    buddy_free(&b, f[2], 0); /* B: buddy 3 still allocated */
    assert_int_equal(b.st.merge, 0);
    assert_int_equal(buddy_alloc(&b, 0), f[2]);
    assert_int_equal(buddy_alloc(&b, 0), f[0]);
    assert_ok(&b);
    buddy_destroy(&b);
}

static void test_exhaustion(void **state)
{
    struct buddy b;
    buddy_init(&b, 0, 8);
    assert_int_equal(buddy_alloc(&b, 4), UINT64_MAX);
    assert_int_equal(b.st.fail, 1);
    assert_int_equal(buddy_alloc(&b, 3), 0);
    assert_int_equal(buddy_alloc(&b, 0), UINT64_MAX);
    assert_int_equal(buddy_alloc(&b, BUDDY_MAX_ORDER + 1), UINT64_MAX);
    assert_int_equal(b.st.fail, 3);
    assert_int_equal(b.st.alloc, 1);
    assert_int_equal(b.free_pages, 0);
    assert_ok(&b);
    buddy_free(&b, 0, 3);
    assert_int_equal(buddy_alloc(&b, 2), 0);
    assert_int_equal(buddy_alloc(&b, 2), 4);
    assert_int_equal(buddy_alloc(&b, 2), UINT64_MAX);
    buddy_destroy(&b);
}

static void test_alignment(void **state)
{
    /* Take the largest blocks first until nothing is left: every block is
     * aligned, inside the range, disjoint, and all frames get handed out. */
    const uint64_t base = 7, n = 5000;
    uint8_t *own = calloc(n, 1);
    struct buddy b;
    buddy_init(&b, base, n);
    uint64_t got = 0;
    for (int k = BUDDY_MAX_ORDER; k >= 0; k--) {
        uint64_t f;
        while ((f = buddy_alloc(&b, (unsigned)k)) != UINT64_MAX) {
            assert_int_equal(f & ((1ull << k) - 1), 0);
            assert_true(f >= base && f + (1ull << k) <= base + n);
            for (uint64_t i = f; i < f + (1ull << k); i++) {
                assert_int_equal(own[i - base], 0);
                own[i - base] = 1;
            }
            got += 1ull << k;
        }
    }
    assert_int_equal(got, n);
    assert_int_equal(b.free_pages, 0);
    assert_ok(&b);
    buddy_destroy(&b);
    free(own);
}

/* Runs fn in a child and reports whether it died of SIGABRT. */
static int aborts(void (*fn)(void))
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (!freopen("/dev/null", "w", stderr))
            _exit(2);
        fn();
        _exit(0);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT;
}

static void double_free_same(void)
{
    struct buddy b;
    buddy_init(&b, 0, 1024);
    uint64_t f = buddy_alloc(&b, 0);
    buddy_alloc(&b, 0);
    buddy_free(&b, f, 0);
    buddy_free(&b, f, 0);
}

static void double_free_inside_merged(void)
{
    struct buddy b;
    buddy_init(&b, 0, 1024);
    uint64_t f = buddy_alloc(&b, 2);
    buddy_free(&b, f, 2);    /* merges back into the order-10 block */
    buddy_free(&b, f + 1, 0); /* frame inside a free block */
}

static void double_free_covering(void)
{
    struct buddy b;
    buddy_init(&b, 0, 1024);
    uint64_t f = buddy_alloc(&b, 0);
    buddy_alloc(&b, 0);
    buddy_free(&b, f, 0);
    buddy_free(&b, f, 1); /* covers the free frame f */
}

static void free_misaligned(void)
{
    struct buddy b;
    buddy_init(&b, 0, 1024);
    buddy_alloc(&b, 2);
    buddy_free(&b, 2, 2);
}

static void free_out_of_range(void)
{
    struct buddy b;
    buddy_init(&b, 16, 16);
    buddy_alloc(&b, 0);
    buddy_free(&b, 32, 0);
}

static void good_free(void)
{
    struct buddy b;
    buddy_init(&b, 0, 1024);
    buddy_free(&b, buddy_alloc(&b, 3), 3);
    buddy_destroy(&b);
}

static void test_bad_free_aborts(void **state)
{
    assert_false(aborts(good_free));
    assert_true(aborts(double_free_same));
    assert_true(aborts(double_free_inside_merged));
    assert_true(aborts(double_free_covering));
    assert_true(aborts(free_misaligned));
    assert_true(aborts(free_out_of_range));
}

static void test_check_detects_corruption(void **state)
{
    struct buddy b;
    char msg[256] = "";
    buddy_init(&b, 0, 4096);
    buddy_alloc(&b, 0);
    assert_ok(&b);

    b.free_pages++;
    assert_int_equal(buddy_check(&b, msg, sizeof msg), -1);
    assert_non_null(strstr(msg, "free blocks hold 4095 pages, free_pages 4096"));
    b.free_pages--;

    msg[0] = 0;
    b.area[3].blocks[0] += 8; /* array now disagrees with the hash */
    assert_int_equal(buddy_check(&b, msg, sizeof msg), -1);
    assert_non_null(strstr(msg, "order 3: hash slot"));
    assert_non_null(strstr(msg, "(frame 8) disagrees with array"));
    b.area[3].blocks[0] -= 8;
    assert_ok(&b);
    buddy_destroy(&b);
}

/* A copy of buddy.c's hash (hslot, hput): the corruptions below that move a
 * block in the array re-index it so that only the intended invariant breaks.
 * Were the two to drift apart, every such case would report "not found in
 * hash" instead of its own message and fail. */
static void rehash(struct buddy_area *a)
{
    unsigned bits = (unsigned)__builtin_ctzll(a->hcap);
    uint64_t mask = a->hcap - 1;
    memset(a->hkey, 0, a->hcap * sizeof *a->hkey);
    a->hused = 0;
    for (uint64_t i = 0; i < a->n; i++) {
        uint64_t s = bits ? (a->blocks[i] * 0x9E3779B97F4A7C15ull) >> (64 - bits) : 0;
        while (a->hkey[s])
            s = (s + 1) & mask;
        a->hkey[s] = a->blocks[i] + 1;
        a->hval[s] = i;
        a->hused++;
    }
}

/* The slot of frame in a's hash (by a full scan). */
static uint64_t slot_of(const struct buddy_area *a, uint64_t frame)
{
    for (uint64_t s = 0; s < a->hcap; s++)
        if (a->hkey[s] == frame + 1)
            return s;
    fail_msg("frame %llu not in the hash", (unsigned long long)frame);
    return 0;
}

static void add_block(struct buddy *b, unsigned k, uint64_t frame)
{
    struct buddy_area *a = &b->area[k];
    if (a->n == a->cap) {    /* grown as buddy.c grows it (mv_realloc is realloc) */
        a->cap = a->cap ? 2 * a->cap : 8;
        a->blocks = realloc(a->blocks, a->cap * sizeof *a->blocks);
        assert_non_null(a->blocks);
    }
    a->blocks[a->n++] = frame;
    rehash(a);
    b->free_pages += 1ull << k;
}

/* The state every corruption starts from: 4096 frames, an order-2 block at
 * frame 0 allocated, so order 2 holds block 4 and orders 3..9 one block
 * each (8, 16, ..., 512), order 10 blocks 1024, 2048, 3072; orders 0 and 1
 * are empty (their hashes allocated, 16 slots). */
static void c_hcap(struct buddy *b)      /* an empty order's capacity not a power of two */
{
    b->area[0].hcap = 12;
}
static void c_hval(struct buddy *b)      /* two slots' indices swapped */
{
    struct buddy_area *a = &b->area[10];
    uint64_t s = slot_of(a, 1024), t = slot_of(a, 2048), v = a->hval[s];
    a->hval[s] = a->hval[t];
    a->hval[t] = v;
}
static void c_hused(struct buddy *b)     /* the occupied-slot count one too high */
{
    b->area[10].hused++;
}
static void c_unhashed(struct buddy *b)  /* block 1024 gone from the hash only: its slot now
                                          * repeats 2048's, so the hash still holds as many
                                          * entries as the array, each agreeing with it */
{
    struct buddy_area *a = &b->area[10];
    uint64_t s = slot_of(a, 1024), t = slot_of(a, 2048);
    a->hkey[s] = a->hkey[t];
    a->hval[s] = a->hval[t];
}
static void c_misaligned(struct buddy *b) /* order-2 block 4 moved to 2 (over the allocated
                                           * block, clear of block 8) */
{
    b->area[2].blocks[0] = 2;
    rehash(&b->area[2]);
}
static void c_beyond(struct buddy *b)    /* order-2 block 4 moved to 4096, past npages */
{
    b->area[2].blocks[0] = 4096;
    rehash(&b->area[2]);
}
static void c_unmerged(struct buddy *b)  /* the allocated block 0 freed without merging */
{
    add_block(b, 2, 0);
}
static void c_overlap(struct buddy *b)   /* frame 5 free at order 0 inside free order-2 block 4 */
{
    add_block(b, 0, 5);
}

/* One corruption per rule of buddy_check, each breaking that rule alone: with
 * the rule switched off the check passes (seen for each), so its message is
 * asserted. Not here: "sum > npages" with free_pages == sum (the last rule's
 * second half) cannot be reached while blocks are in range and disjoint,
 * which the rules before it check (see buddy_check). */
static void test_check_catches_each_rule(void **state)
{
    (void)state;
    static const struct {
        const char *what;
        void (*corrupt)(struct buddy *);
        const char *msg;
    } cases[] = {
        { "hcap", c_hcap, "order 0: bad sizes n=0 cap=0 hcap=12" },
        { "hval", c_hval, "disagrees with array" },
        { "hused", c_hused, "order 10: hash holds 3 blocks in 3 slots, array 3, hused 4" },
        { "unhashed", c_unhashed, "order 10: free block 1024 not found in hash" },
        { "misaligned", c_misaligned, "order 2: free block 2 misaligned" },
        { "beyond", c_beyond, "order 2: free block 4096 outside range" },
        { "unmerged", c_unmerged, "order 2: free buddies" },
        { "overlap", c_overlap, "free block 4 order 2 overlaps free block 5 order 0" },
    };
    for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct buddy b;
        char msg[256] = "";
        buddy_init(&b, 0, 4096);
        assert_int_equal(buddy_alloc(&b, 2), 0);
        assert_ok(&b);
        cases[i].corrupt(&b);
        int rc = buddy_check(&b, msg, sizeof msg);
        print_message("%-10s -> %s\n", cases[i].what, rc ? msg : "(not caught)");
        assert_int_equal(rc, -1);
        if (!strstr(msg, cases[i].msg))
            fail_msg("%s: expected \"%s\", got \"%s\"", cases[i].what, cases[i].msg, msg);
        buddy_destroy(&b);
    }
}

static uint64_t rng_state;
static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

struct held { uint64_t frame; unsigned order; };

static void stress(uint64_t base, uint64_t npages, uint64_t seed)
{
    const int ops = 200000;
    struct buddy b;
    uint64_t init[BUDDY_MAX_ORDER + 1];
    buddy_init(&b, base, npages);
    for (unsigned k = 0; k <= BUDDY_MAX_ORDER; k++)
        init[k] = buddy_nr_free(&b, k);
    struct held *h = malloc(npages * sizeof *h);
    uint8_t *own = calloc(npages, 1);
    uint64_t nh = 0, used = 0;
    rng_state = seed;

    for (int op = 1; op <= ops; op++) {
        /* First half hovers around half full; second half runs under pressure. */
        uint64_t r = rnd();
        int alloc = op <= ops / 2 ? r % npages >= used : r % 100 < 60;
        if (nh == 0 || alloc) {
            unsigned k = (unsigned)((r >> 8) % 5);
            uint64_t f = buddy_alloc(&b, k);
            if (f != UINT64_MAX) {
                assert_int_equal(f & ((1ull << k) - 1), 0);
                assert_true(f >= base && f + (1ull << k) <= base + npages);
                for (uint64_t i = f; i < f + (1ull << k); i++) {
                    assert_int_equal(own[i - base], 0);
                    own[i - base] = 1;
                }
                h[nh++] = (struct held){ f, k };
                used += 1ull << k;
            }
        } else {
            uint64_t i = (r >> 8) % nh;
            struct held x = h[i];
            h[i] = h[--nh];
            memset(own + (x.frame - base), 0, 1ull << x.order);
            buddy_free(&b, x.frame, x.order);
            used -= 1ull << x.order;
        }
        assert_int_equal(b.free_pages, npages - used);
        if (op % 1000 == 0)
            assert_ok(&b);
    }
    assert_true(b.st.split > 0 && b.st.merge > 0 && b.st.fail > 0);
    while (nh) {
        nh--;
        buddy_free(&b, h[nh].frame, h[nh].order);
    }
    assert_int_equal(b.free_pages, npages);
    for (unsigned k = 0; k <= BUDDY_MAX_ORDER; k++)
        assert_int_equal(buddy_nr_free(&b, k), init[k]);
    assert_ok(&b);
    buddy_destroy(&b);
    free(h);
    free(own);
}

static void test_stress_aligned(void **state)
{
    const uint64_t npages = (64ull << 20) >> 12; /* 64 MiB of 4 KiB frames */
    stress(0, npages, 0x1234567887654321ull);
    /* stress() compared with the initial structure: all order-10 blocks. */
}

static void test_stress_unaligned(void **state)
{
    stress(12345, (64ull << 20) >> 12, 0xdeadbeefcafef00dull);
}

static void test_large_range(void **state)
{
    const uint64_t npages = 16ull << 20; /* 64 GiB of 4 KiB frames */
    struct buddy b;
    buddy_init(&b, 0, npages);
    assert_int_equal(buddy_nr_free(&b, BUDDY_MAX_ORDER), 16384);
    for (unsigned k = 0; k < BUDDY_MAX_ORDER; k++) {
        assert_int_equal(buddy_nr_free(&b, k), 0);
        assert_true(b.area[k].hcap <= 16);
    }
    /* Memory follows the blocks, not the frames. */
    assert_true(b.area[BUDDY_MAX_ORDER].cap <= 2 * 16384);
    assert_true(b.area[BUDDY_MAX_ORDER].hcap <= 8 * 16384);
    assert_ok(&b);
    uint64_t f = buddy_alloc(&b, 0);
    assert_int_equal(f, 0);
    buddy_free(&b, f, 0);
    assert_int_equal(buddy_nr_free(&b, BUDDY_MAX_ORDER), 16384);
    assert_ok(&b);
    buddy_destroy(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_aligned),
        cmocka_unit_test(test_init_unaligned),
        cmocka_unit_test(test_split_and_merge),
        cmocka_unit_test(test_no_merge_across_range_edge),
        cmocka_unit_test(test_lifo),
        cmocka_unit_test(test_exhaustion),
        cmocka_unit_test(test_alignment),
        cmocka_unit_test(test_bad_free_aborts),
        cmocka_unit_test(test_check_detects_corruption),
        cmocka_unit_test(test_check_catches_each_rule),
        cmocka_unit_test(test_stress_aligned),
        cmocka_unit_test(test_stress_unaligned),
        cmocka_unit_test(test_large_range),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

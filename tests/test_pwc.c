/* test_pwc.c: the paging-structure caches (PML4E / PDPTE / PDE caches). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "hw/pwc.h"
#include "hw/tlb.h"
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define VA 0x00007f1234567000ull

/* Lookup; *table gets ~0 if untouched. */
static unsigned look(struct pwc *p, uint64_t va, uint16_t pcid, uint64_t *table)
{
    uint64_t t = ~0ull;
    uint8_t perms = 0xff;
    unsigned l = pwc_lookup(p, va, pcid, &t, &perms);
    if (l == 4) {
        assert_int_equal(t, ~0ull);   /* a miss leaves the outputs alone */
        assert_int_equal(perms, 0xff);
    }
    if (table)
        *table = t;
    return l;
}

static void test_miss(void **state)
{
    struct pwc p;
    pwc_init(&p, 4, 4, 4);
    assert_int_equal(look(&p, VA, 1, NULL), 4);
    assert_int_equal(look(&p, 0, 0, NULL), 4);
    pwc_destroy(&p);
}

static void test_deepest_wins(void **state)
{
    struct pwc p;
    uint64_t t;
    uint8_t perms;
    pwc_init(&p, 4, 4, 4);
    pwc_insert(&p, 4, VA, 1, 100, TLB_W | TLB_U);
    assert_int_equal(pwc_lookup(&p, VA, 1, &t, &perms), 3);
    assert_int_equal(t, 100);
    assert_int_equal(perms, TLB_W | TLB_U);
    pwc_insert(&p, 3, VA, 1, 200, TLB_W);
    assert_int_equal(pwc_lookup(&p, VA, 1, &t, &perms), 2);
    assert_int_equal(t, 200);
    assert_int_equal(perms, TLB_W);
    pwc_insert(&p, 2, VA, 1, 300, TLB_U | TLB_NX);
    assert_int_equal(pwc_lookup(&p, VA, 1, &t, &perms), 1);
    assert_int_equal(t, 300);
    assert_int_equal(perms, TLB_U | TLB_NX);
    pwc_destroy(&p);
}

static void test_keys(void **state)
{
    struct pwc p;
    uint64_t t;
    pwc_init(&p, 4, 4, 4);
    pwc_insert(&p, 4, VA, 1, 100, 0);
    pwc_insert(&p, 3, VA, 1, 200, 0);
    pwc_insert(&p, 2, VA, 1, 300, 0);
    /* Same 2M region (any 4K page, any offset): PDE hit. */
    uint64_t r2m = VA & ~((1ull << 21) - 1);
    assert_int_equal(look(&p, r2m, 1, &t), 1);
    assert_int_equal(t, 300);
    assert_int_equal(look(&p, r2m + (1ull << 21) - 1, 1, &t), 1);
    /* Another 2M region in the same 1G: PDPTE hit. */
    assert_int_equal(look(&p, r2m + (1ull << 21), 1, &t), 2);
    assert_int_equal(t, 200);
    assert_int_equal(look(&p, VA ^ (1ull << 29), 1, &t), 2);
    /* Another 1G region in the same 512G: PML4E hit. */
    assert_int_equal(look(&p, VA ^ (1ull << 30), 1, &t), 3);
    assert_int_equal(t, 100);
    assert_int_equal(look(&p, VA ^ (1ull << 38), 1, &t), 3);
    /* Another 512G region, or the kernel half: miss. */
    assert_int_equal(look(&p, VA ^ (1ull << 39), 1, NULL), 4);
    assert_int_equal(look(&p, VA | 0xffff800000000000ull, 1, NULL), 4);
    /* Kernel-half addresses are cached and keyed like any other. */
    const uint64_t k = 0xffffffff81234000ull;
    pwc_insert(&p, 2, k, 1, 400, 0);
    assert_int_equal(look(&p, k + 0x1000, 1, &t), 1);
    assert_int_equal(t, 400);
    assert_int_equal(look(&p, k + (1ull << 21), 1, NULL), 4);
    pwc_destroy(&p);
}

#define R(i) ((uint64_t)(i) << 21)

/* A PDE cache of 2 entries only, full: R(0) -> 10 and R(1) -> 11, with R(1)
 * the least recently used. */
static void two_pdes_r1_lru(struct pwc *p)
{
    pwc_init(p, 0, 0, 2);
    pwc_insert(p, 2, R(0), 1, 10, 0);
    pwc_insert(p, 2, R(1), 1, 11, 0);
    assert_int_equal(look(p, R(0), 1, NULL), 1);      /* R(1) is now LRU */
}

static void test_lru_eviction(void **state)
{
    struct pwc p;
    uint64_t t;
    two_pdes_r1_lru(&p);
    pwc_insert(&p, 2, R(2), 1, 12, 0);
    assert_int_equal(look(&p, R(1), 1, NULL), 4);
    assert_int_equal(look(&p, R(0), 1, &t), 1);
    assert_int_equal(t, 10);
    assert_int_equal(look(&p, R(2), 1, &t), 1);
    assert_int_equal(t, 12);
    /* R(0) is LRU now. */
    pwc_insert(&p, 2, R(3), 1, 13, 0);
    assert_int_equal(look(&p, R(0), 1, NULL), 4);
    assert_int_equal(look(&p, R(2), 1, NULL), 1);
    assert_int_equal(look(&p, R(3), 1, NULL), 1);
    pwc_destroy(&p);
}

/* pwc_insert_missed: what pwc_insert does when the entry is not cached. */
static void test_insert_missed(void **state)
{
    struct pwc p;
    uint64_t t;
    two_pdes_r1_lru(&p);
    pwc_insert_missed(&p, 2, R(2), 1, 12, 0);         /* evicts R(1), the LRU */
    assert_int_equal(look(&p, R(1), 1, NULL), 4);
    assert_int_equal(look(&p, R(2), 1, &t), 1);
    assert_int_equal(t, 12);
    assert_int_equal(look(&p, R(0), 1, &t), 1);
    assert_int_equal(t, 10);
    pwc_destroy(&p);
}

static void test_replace_same_tag(void **state)
{
    struct pwc p;
    uint64_t t;
    two_pdes_r1_lru(&p);
    pwc_insert(&p, 2, R(0) + 0x5000, 1, 20, TLB_W);   /* same key: updated */
    assert_int_equal(look(&p, R(0), 1, &t), 1);
    assert_int_equal(t, 20);
    assert_int_equal(look(&p, R(1), 1, &t), 1);        /* not evicted */
    assert_int_equal(t, 11);
    pwc_destroy(&p);
}

static void test_pcid_isolation(void **state)
{
    struct pwc p;
    uint64_t t;
    pwc_init(&p, 4, 4, 4);
    pwc_insert(&p, 2, VA, 1, 300, 0);
    assert_int_equal(look(&p, VA, 2, NULL), 4);
    assert_int_equal(look(&p, VA, 0, NULL), 4);
    pwc_insert(&p, 2, VA, 2, 310, 0);
    assert_int_equal(look(&p, VA, 1, &t), 1);
    assert_int_equal(t, 300);
    assert_int_equal(look(&p, VA, 2, &t), 1);
    assert_int_equal(t, 310);
    pwc_destroy(&p);
}

static void test_flushes(void **state)
{
    struct pwc p;
    uint64_t t;
    pwc_init(&p, 4, 4, 4);
    for (uint16_t pcid = 1; pcid <= 2; pcid++) {
        pwc_insert(&p, 4, VA, pcid, 100 * pcid, 0);
        pwc_insert(&p, 3, VA, pcid, 100 * pcid + 1, 0);
        pwc_insert(&p, 2, VA, pcid, 100 * pcid + 2, 0);
    }
    pwc_flush_pcid(&p, 1);
    assert_int_equal(look(&p, VA, 1, NULL), 4);       /* every level gone */
    assert_int_equal(look(&p, VA, 2, &t), 1);
    assert_int_equal(t, 202);
    pwc_flush_pcid(&p, 3);                            /* no entries: no effect */
    assert_int_equal(look(&p, VA, 2, NULL), 1);
    pwc_flush_all(&p);
    assert_int_equal(look(&p, VA, 2, NULL), 4);
    assert_int_equal(look(&p, VA ^ (1ull << 21), 2, NULL), 4);
    assert_int_equal(look(&p, VA ^ (1ull << 30), 2, NULL), 4);
    pwc_insert(&p, 3, VA, 2, 7, 0);                   /* usable after a flush */
    assert_int_equal(look(&p, VA, 2, &t), 2);
    assert_int_equal(t, 7);
    pwc_destroy(&p);

    /* a flush of everything leaves the cache as new: filled again, it
     * takes the lowest slots and evicts in recency order (70 entries: the
     * empty-slot bitmap's second word too) */
    pwc_init(&p, 0, 0, 70);
    for (int round = 0; round < 2; round++) {
        for (uint64_t i = 0; i < 70; i++)
            pwc_insert(&p, 2, VA + (i << 21), 1, 1000 + i, 0);
        for (uint64_t i = 0; i < 70; i++) {
            assert_int_equal(look(&p, VA + (i << 21), 1, &t), 1);
            assert_int_equal(t, 1000 + i);
            assert_int_equal(pwc_find(&p.lvl[2], p.lvl[2].hmask, pwc_tag(2, VA + (i << 21), 1)), (long)i);
        }
        pwc_insert(&p, 2, VA + (70ull << 21), 1, 2000, 0);   /* evicts the least recent: entry 0 */
        assert_int_equal(look(&p, VA, 1, NULL), 4);
        assert_int_equal(look(&p, VA + (70ull << 21), 1, &t), 1);
        assert_int_equal(p.lvl[2].valid, 70);
        pwc_flush_all(&p);
        assert_int_equal(p.lvl[2].valid, 0);
        for (uint32_t b = 0; b <= p.lvl[2].hmask; b++)   /* every index chain empty */
            assert_int_equal(p.lvl[2].hidx[b], 0);
        for (uint64_t i = 0; i <= 70; i++)
            assert_int_equal(look(&p, VA + (i << 21), 1, NULL), 4);
    }
    pwc_destroy(&p);
}

/* Every valid slot is in its tag's index chain (pwc.h). A slot taken out
 * of its chain behind the cache's back must stop the program at the next
 * eviction or PCID flush that looks for it (an assertion), not walk off
 * the chain. (A flush of everything empties the index at once and looks
 * for nothing.) In a child, since the assertion aborts. A cache of more
 * than PWC_SCAN_MAX entries: smaller ones have no index. */
static void test_broken_index_chain_is_caught(void **state)
{
    (void)state;
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        freopen("/dev/null", "w", stderr);   /* the assertion's message */
        struct pwc p;
        pwc_init(&p, 0, 0, PWC_SCAN_MAX + 1);
        pwc_insert(&p, 2, VA, 1, 100, 0);
        struct pwc_cache *c = &p.lvl[2];
        long i = pwc_find(c, c->hmask, pwc_tag(2, VA, 1));
        if (i < 0)
            _exit(3);                          /* the set-up itself failed */
        c->hidx[pwc_hslot(c->hmask, c->tag[i])] = c->hnext[i];   /* unlink it */
        pwc_flush_pcid(&p, 1);                 /* looks for it in its chain */
        _exit(0);
    }
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFSIGNALED(st));
    assert_int_equal(WTERMSIG(st), SIGABRT);
}

/* ---- against a plain model ------------------------------------------------
 * Each level a list of n slots with a use stamp: a hit or insert stamps
 * the slot, a new entry takes the lowest empty slot, else the oldest
 * stamp's. The cache must hold the same tag in the same slot after every
 * step, whether it scans (n <= PWC_SCAN_MAX; with the AVX2 scan where the
 * host has it, and without) or keeps an index. */
struct model {
    uint32_t n[5];
    uint64_t tag[5][PWC_SCAN_MAX * 2 + 8], table[5][PWC_SCAN_MAX * 2 + 8], stamp[5][PWC_SCAN_MAX * 2 + 8];
    uint64_t now;
};

static int model_lookup(struct model *m, uint64_t va, uint16_t pcid, uint64_t *table)
{
    for (unsigned l = 2; l <= 4; l++)
        for (uint32_t i = 0; i < m->n[l]; i++)
            if (m->tag[l][i] == pwc_tag(l, va, pcid)) {
                m->stamp[l][i] = ++m->now;
                *table = m->table[l][i];
                return (int)l - 1;
            }
    return 4;
}

static void model_insert(struct model *m, unsigned l, uint64_t va, uint16_t pcid, uint64_t table)
{
    uint64_t tag = pwc_tag(l, va, pcid);
    long v = -1;
    for (uint32_t i = 0; i < m->n[l] && v < 0; i++)
        if (m->tag[l][i] == tag)
            v = i;
    for (uint32_t i = 0; i < m->n[l] && v < 0; i++)
        if (!m->tag[l][i])
            v = i;
    if (v < 0) {
        v = 0;
        for (uint32_t i = 1; i < m->n[l]; i++)
            if (m->stamp[l][i] < m->stamp[l][v])
                v = i;
    }
    if (!m->n[l])
        return;
    m->tag[l][v] = tag;
    m->table[l][v] = table;
    m->stamp[l][v] = ++m->now;
}

static HW_SIMD_TARGET unsigned lookup_avx2(struct pwc *p, uint64_t va, uint16_t pcid, uint64_t *t, uint8_t *perms)
{
    return pwc_lookup_g(p, va, pcid, t, perms, PWC_GEOM_ANY, 1);
}

static void test_against_model(void **state)
{
    (void)state;
    static const uint32_t sizes[][3] = { { 2, 4, 32 }, { 1, 3, 17 }, { 4, 16, 33 }, { 8, 40, 64 }, { 0, 2, 5 } };
    for (int simd = 0; simd <= hw_simd_host(); simd++)
        for (unsigned z = 0; z < sizeof sizes / sizeof sizes[0]; z++) {
            struct pwc p;
            static struct model m;
            memset(&m, 0, sizeof m);
            m.n[4] = sizes[z][0], m.n[3] = sizes[z][1], m.n[2] = sizes[z][2];
            pwc_init(&p, m.n[4], m.n[3], m.n[2]);
            uint64_t x = 0x9e3779b97f4a7c15ull * (z + 1);
            for (unsigned step = 0; step < 20000; step++) {
                x ^= x << 13, x ^= x >> 7, x ^= x << 17;
                /* few enough 2 MiB regions, GiBs and 512 GiBs that entries
                 * are hit, missed and evicted at every level */
                uint64_t va = ((x >> 8) % 2) << 39 | ((x >> 12) % 3) << 30 | ((x >> 20) % 12) << 21;
                uint16_t pcid = (uint16_t)((x >> 40) % 2);
                /* now and then the hints go (they are only hints): the
                 * hits after it are found by the scan, in every slot */
                if (step % 64 == 0)
                    for (unsigned l = 2; l <= 4; l++)
                        if (p.lvl[l].n <= PWC_SCAN_MAX)
                            memset(p.lvl[l].hidx, 0, (p.lvl[l].hmask + 1) * sizeof *p.lvl[l].hidx);
                unsigned op = (unsigned)(x >> 50) % 100;
                if (op < 60) {
                    uint64_t t = 0, tm = 0;
                    uint8_t perms;
                    unsigned l = simd ? lookup_avx2(&p, va, pcid, &t, &perms) : pwc_lookup(&p, va, pcid, &t, &perms);
                    assert_int_equal(l, model_lookup(&m, va, pcid, &tm));
                    if (l < 4)
                        assert_int_equal(t, tm);
                    for (unsigned lv = l; lv >= 2; lv--) {   /* what a walk then caches */
                        pwc_insert_missed(&p, lv, va, pcid, step * 8 + lv, 0);
                        model_insert(&m, lv, va, pcid, step * 8 + lv);
                    }
                } else if (op < 90) {
                    unsigned lv = 2 + (unsigned)(x >> 30) % 3;
                    pwc_insert(&p, lv, va, pcid, step, 0);
                    model_insert(&m, lv, va, pcid, step);
                } else if (op < 98) {
                    pwc_flush_pcid(&p, pcid);
                    for (unsigned l = 2; l <= 4; l++)
                        for (uint32_t i = 0; i < m.n[l]; i++)
                            if (m.tag[l][i] && ((m.tag[l][i] >> 1) & 0xfff) == pcid)
                                m.tag[l][i] = 0;
                } else {
                    pwc_flush_all(&p);
                    memset(m.tag, 0, sizeof m.tag);
                }
                for (unsigned l = 2; l <= 4; l++)
                    for (uint32_t i = 0; i < m.n[l]; i++)
                        if (p.lvl[l].tag[i] != m.tag[l][i])
                            fail_msg("simd %d sizes %u/%u/%u step %u: level %u slot %u holds %#llx, the model %#llx",
                                     simd, m.n[4], m.n[3], m.n[2], step, l, i,
                                     (unsigned long long)p.lvl[l].tag[i], (unsigned long long)m.tag[l][i]);
            }
            pwc_destroy(&p);
        }
}

static void test_disabled(void **state)
{
    struct pwc p;
    uint64_t t;
    pwc_init(&p, 0, 0, 0);
    for (unsigned l = 2; l <= 4; l++)
        pwc_insert(&p, l, VA, 1, l, 0);
    assert_int_equal(look(&p, VA, 1, NULL), 4);
    pwc_flush_pcid(&p, 1);
    pwc_flush_all(&p);
    pwc_destroy(&p);

    /* Only the PDE cache off: the walk resumes from the PDPTE entry. */
    pwc_init(&p, 4, 4, 0);
    for (unsigned l = 2; l <= 4; l++)
        pwc_insert(&p, l, VA, 1, l, 0);
    assert_int_equal(look(&p, VA, 1, &t), 2);
    assert_int_equal(t, 3);
    pwc_destroy(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_miss),
        cmocka_unit_test(test_deepest_wins),
        cmocka_unit_test(test_keys),
        cmocka_unit_test(test_lru_eviction),
        cmocka_unit_test(test_insert_missed),
        cmocka_unit_test(test_replace_same_tag),
        cmocka_unit_test(test_pcid_isolation),
        cmocka_unit_test(test_flushes),
        cmocka_unit_test(test_disabled),
        cmocka_unit_test(test_against_model),
        cmocka_unit_test(test_broken_index_chain_is_caught),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

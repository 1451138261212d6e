/* test_geom.c: the miss path compiled for the default geometry (hw/geom.h).
 *
 * A CPU whose TLB, walk caches and data cache have the default geometry
 * takes a copy of the miss path (and, under nested paging with the default
 * nested TLB and EPT walk caches, of the 2D walk) in which those geometries
 * are constants. Checked here:
 *  - a machine booted with the default parameters takes the copies, and
 *    one that differs in any one geometry parameter does not;
 *  - the bodies given the constants do exactly what the generic bodies do:
 *    two copies of each structure (the TLB, the nested TLB, the walk caches,
 *    the data cache) of the default geometry are driven by the same random
 *    operations, one through the bodies with constants and one through the
 *    generic ones, with the AVX2 and the scalar scans, and every result and
 *    every word of their state must agree after every operation;
 *  - the comparison bites: given constants that do not match the structure
 *    (more sets than they say), the same drivers find a difference.
 * The golden results (tests/cli/golden.sh) check the copies end to end: the
 * default runs take them, the scalar pass the generic path. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "hw/dcache_body.h"
#include "hw/geom.h"
#include "hw/pwc.h"
#include "hw/simd.h"
#include "hw/tlb_body.h"
#include "lib/rng.h"
#include "testutil.h"

/* ===================================================================== */
/* Which copy a machine takes                                             */
/* ===================================================================== */

static void expect_copies(const char *mode, const char *param, int cpu, int nested)
{
    const char *p[2] = { param, NULL };
    struct tmachine *t = tm_boot_params(mode, "memwalk", param ? p : NULL);
    if (t->m.cpu.geom_default != cpu || (t->m.cpu.nested.enabled && t->m.cpu.nested.geom_default != nested))
        fail_msg("%s with %s: geom_default %d (want %d), nested %d (want %d)", mode, param ? param : "defaults",
                 t->m.cpu.geom_default, cpu, t->m.cpu.nested.geom_default, nested);
    assert_int_equal(cpu_geom_default(&t->m.cpu), cpu);
    assert_int_equal(tm_destroy(t), 0);
}

static void test_default_machine_takes_the_copies(void **state)
{
    (void)state;
    expect_copies("native", NULL, 1, 0);
    expect_copies("hap", NULL, 1, 1);
    expect_copies("selective", NULL, 1, 1);
    expect_copies("tsp", NULL, 1, 0);
    /* the guest's use of the walk caches is a run-time choice in the copy */
    expect_copies("hap", "hap.guest_pwc=false", 1, 1);
}

static void test_other_geometries_take_the_generic_path(void **state)
{
    (void)state;
    static const char *const cpu_params[] = {
        "tlb.l1_4k_entries=128", "tlb.l1_4k_ways=8", "tlb.l1_4k_entries=0", "tlb.l2_entries=768",
        "tlb.l2_ways=6",         "tlb.l2_entries=0", "cache.ptw_kb=512",    "cache.ptw_ways=8",
        "cache.ptw_kb=0",        "tlb.pwc_l2=16",    "tlb.pwc_l3=8",        "tlb.pwc_l4=0",
    };
    for (unsigned i = 0; i < sizeof cpu_params / sizeof cpu_params[0]; i++) {
        expect_copies("native", cpu_params[i], 0, 0);
        expect_copies("hap", cpu_params[i], 0, 0);
    }
    static const char *const nested_params[] = {
        "hap.ntlb_entries=64", "hap.ntlb_ways=8", "hap.ntlb_entries=0", "hap.ept_pwc_l2=64",
        "hap.ept_pwc_l3=2",    "hap.ept_pwc_l4=0",
    };
    for (unsigned i = 0; i < sizeof nested_params / sizeof nested_params[0]; i++)
        expect_copies("hap", nested_params[i], 1, 0);
}

/* ===================================================================== */
/* The bodies with constants against the generic bodies                   */
/* ===================================================================== */

#define STEP static inline __attribute__((always_inline))

/* Set by test_wrong_constants_are_caught: a difference is then expected,
 * and not printed. */
static int quiet;
#define say(...)                        \
    do {                                \
        if (!quiet)                     \
            print_message(__VA_ARGS__); \
    } while (0)

/* What the drivers saw, so that the test can insist its cases occurred. */
static struct {
    unsigned long l1_hit, stlb_hit, miss, general, ntlb_hit, pwc_level[5], dc_hit, dc_miss;
} seen;

/* ---- the CPU's TLB: the miss path's lookup below the L1 and its install */

struct tlb_op {
    uint64_t va;
    uint16_t pcid;
    struct tlb_xlate xn;   /* what a walk would give, on a miss */
};

STEP int tlb_step(struct tlb *t, const struct tlb_op *o, struct tlb_xlate *x, const int simd, const int geom)
{
    const struct geom g1 = geom ? GEOM_L1_4K : GEOM_ANY, g2 = geom ? GEOM_STLB : GEOM_ANY;
    uint64_t vpn = tlb_vpn(o->va, PG_4K), tag = tlb_tag(vpn, PG_4K, o->pcid);
    struct tlb_array *l1 = &t->l1[PG_4K];
    long i = tlb_array_find(l1, vpn, tag);
    if (i >= 0) {
        *x = (struct tlb_xlate){ .frame = l1->frame[i], .flags = l1->flags[i], .size = PG_4K };
        return 1;
    }
    int a = tlb_lookup_slow_4k_body_g(t, o->va, vpn, tag, x, simd, g1, g2);
    if (!a)
        tlb_insert_missed_4k_body_g(t, o->va, vpn, tag, &o->xn, simd, g1, g2);
    return a;
}

/* The nested TLB as the 2D walk uses it: a lookup, and after a miss an
 * install into its L1 arrays (it has no STLB). */
STEP int ntlb_step(struct tlb *t, const struct tlb_op *o, struct tlb_xlate *x, const int simd, const int geom)
{
    int a = tlb_lookup_body_g(t, o->va, 0, x, simd, geom ? GEOM_NTLB : GEOM_ANY);
    if (!a)
        tlb_insert_missed_body_g(t, o->va, 0, &o->xn, simd, geom ? GEOM_NTLB : GEOM_ANY,
                                 geom ? GEOM_ABSENT : GEOM_ANY);
    return a;
}

/* The walk caches as a walk uses them: a lookup, then an install of every
 * level the walk reads below the deepest hit (the level a variable, as in
 * the walker's loop). */
STEP unsigned pwc_step(struct pwc *p, uint64_t va, uint16_t pcid, uint64_t *table, uint8_t *perms, const int simd,
                       const int geom)
{
    const struct pwc_geom g = geom ? GEOM_PWC : PWC_GEOM_ANY;
    unsigned l = pwc_lookup_g(p, va, pcid, table, perms, g, simd);
    for (unsigned lv = l; lv >= 2; lv--)
        pwc_insert_missed_g(p, lv, va, pcid, (va >> 12) * 7 + lv, (uint8_t)(lv & 7), g);
    return l;
}

STEP int dc_step(struct dcache *d, uint64_t addr, const int simd, const int geom)
{
    return dcache_access_body(d, addr, simd, geom ? GEOM_DCACHE : GEOM_ANY);
}

/* Each step compiled four ways: AVX2 or scalar scans, constants or not. */
#define FOUR(name, ret, params, args)                                                                     \
    static HW_SIMD_TARGET ret name##_avx2 params { return geom ? name args(1, 1) : name args(1, 0); }      \
    static ret name##_scalar params { return geom ? name args(0, 1) : name args(0, 0); }
#define TLB_ARGS(s, g) (t, o, x, s, g)
#define PWC_ARGS(s, g) (p, va, pcid, table, perms, s, g)
#define DC_ARGS(s, g) (d, addr, s, g)
FOUR(tlb_step, int, (struct tlb * t, const struct tlb_op *o, struct tlb_xlate *x, int geom), TLB_ARGS)
FOUR(ntlb_step, int, (struct tlb * t, const struct tlb_op *o, struct tlb_xlate *x, int geom), TLB_ARGS)
FOUR(pwc_step, unsigned,
     (struct pwc * p, uint64_t va, uint16_t pcid, uint64_t *table, uint8_t *perms, int geom), PWC_ARGS)
FOUR(dc_step, int, (struct dcache * d, uint64_t addr, int geom), DC_ARGS)

/* ---- comparing two copies word by word ---- */

static int array_same(const char *what, const struct tlb_array *a, const struct tlb_array *b)
{
    size_t n = (size_t)a->sets * a->ways;
    int same = a->sets == b->sets && a->ways == b->ways && a->mru == b->mru && a->nglobal == b->nglobal &&
               !memcmp(a->nsize, b->nsize, sizeof a->nsize) && !memcmp(a->tag, b->tag, (n + 1) * sizeof *a->tag) &&
               !memcmp(a->frame, b->frame, n * sizeof *a->frame) && !memcmp(a->flags, b->flags, n) &&
               !memcmp(a->order, b->order, a->sets * sizeof *a->order) &&
               !memcmp(a->valid, b->valid, a->sets * sizeof *a->valid);
    if (!same)
        say("%s: the copies' state differs\n", what);
    return same;
}

static int tlb_same(const struct tlb *a, const struct tlb *b)
{
    return array_same("L1 4K", &a->l1[PG_4K], &b->l1[PG_4K]) && array_same("L1 2M", &a->l1[PG_2M], &b->l1[PG_2M]) &&
           array_same("L1 1G", &a->l1[PG_1G], &b->l1[PG_1G]) && array_same("STLB", &a->l2, &b->l2) &&
           a->frac == b->frac;
}

static int pwc_same(const struct pwc *a, const struct pwc *b)
{
    for (unsigned l = 2; l <= 4; l++) {
        const struct pwc_cache *x = &a->lvl[l], *y = &b->lvl[l];
        uint32_t n = x->n;
        int same = n == y->n && x->valid == y->valid && x->hmask == y->hmask &&
                   !memcmp(x->tag, y->tag, n * sizeof *x->tag) && !memcmp(x->table, y->table, n * sizeof *x->table) &&
                   !memcmp(x->perms, y->perms, n) && !memcmp(x->prev, y->prev, (n + 1) * sizeof *x->prev) &&
                   !memcmp(x->next, y->next, (n + 1) * sizeof *x->next) &&
                   !memcmp(x->empty, y->empty, (n / 64 + 1) * sizeof *x->empty) &&
                   !memcmp(x->hidx, y->hidx, (x->hmask + 1) * sizeof *x->hidx) &&
                   !memcmp(x->hnext, y->hnext, n * sizeof *x->hnext);
        if (!same) {
            say("walk cache of level %u: the copies' state differs\n", l);
            return 0;
        }
    }
    return 1;
}

static int dc_same(const struct dcache *a, const struct dcache *b)
{
    int same = a->mru_line == b->mru_line && !memcmp(a->tag, b->tag, (size_t)a->sets * a->ways * sizeof *a->tag) &&
               !memcmp(a->order, b->order, a->sets * sizeof *a->order);
    if (!same)
        say("data cache: the copies' state differs\n");
    return same;
}

static int xlate_same(int a, int b, const struct tlb_xlate *x, const struct tlb_xlate *y)
{
    return a == b && (!a || (x->frame == y->frame && x->flags == y->flags && x->size == y->size));
}

/* ---- the random operations ---- */

/* Pages of a few regions, so that sets fill and entries are hit again. */
static uint64_t random_va(rng_t *g)
{
    static const uint64_t region[] = { 0x400000ull, 0x7f0000000000ull, 0x40000000ull, 0xffff800000000000ull };
    return region[rng_below(g, 4)] + (rng_below(g, 3000) << 12) + rng_below(g, 4096);
}

static void random_xlate(rng_t *g, uint64_t va, int nested, struct tlb_xlate *x)
{
    unsigned r = (unsigned)rng_below(g, 100);
    x->size = r < 88 ? PG_4K : r < 96 || nested ? PG_2M : PG_1G;
    x->frame = (rng_below(g, 1 << 20) << 9) + ((va >> 12) & ((1u << (9 * x->size)) - 1));
    x->flags = (uint8_t)(rng_below(g, 32) & (TLB_W | TLB_U | TLB_NX | TLB_D));
    if (!nested && rng_below(g, 20) == 0)
        x->flags |= TLB_G;
}

static const uint16_t PCIDS[] = { 0, 1, 2, 4097 /* aliases 1 */ };

/* The driver: n operations on two copies of each structure, a (through
 * the bodies given the default geometry's constants) and b (through the
 * generic ones), of configurations tc and dc (the default but in the test
 * that the comparison bites, which also corrupts a's PDE cache at
 * operation corrupt, if not 0). 0 if they agreed throughout. */
static int drive(uint64_t seed, unsigned n, int simd, const struct tlb_config *tc, const struct dcache_config *dc,
                 unsigned corrupt)
{
    rng_t g;
    rng_seed(&g, seed, 7);
    const struct tlb_config nc = { .l1_4k_entries = 32, .l1_4k_ways = 4, .l1_2m_entries = 32, .l1_2m_ways = 4 };
    struct tlb ta, tb, na, nb;
    struct pwc pa, pb;
    struct dcache dca, dcb;
    assert_int_equal(tlb_init(&ta, tc), 0);
    assert_int_equal(tlb_init(&tb, tc), 0);
    assert_int_equal(tlb_init(&na, &nc), 0);
    assert_int_equal(tlb_init(&nb, &nc), 0);
    pwc_init(&pa, 2, 4, 32);
    pwc_init(&pb, 2, 4, 32);
    assert_int_equal(dcache_init(&dca, dc, 1 << 20), 0);
    assert_int_equal(dcache_init(&dcb, dc, 1 << 20), 0);
    int bad = 0;
    for (unsigned op = 0; op < n && !bad; op++) {
        unsigned kind = (unsigned)rng_below(&g, 100);
        if (corrupt && op == corrupt)
            pa.lvl[2].perms[rng_below(&g, 32)] ^= TLB_NX;
        struct tlb_op o = { .va = random_va(&g), .pcid = PCIDS[rng_below(&g, 4)] };
        struct tlb_xlate xa = { 0 }, xb = { 0 };
        if (kind < 40) {
            random_xlate(&g, o.va, 0, &o.xn);
            int a = simd ? tlb_step_avx2(&ta, &o, &xa, 1) : tlb_step_scalar(&ta, &o, &xa, 1);
            int b = simd ? tlb_step_avx2(&tb, &o, &xb, 0) : tlb_step_scalar(&tb, &o, &xb, 0);
            seen.l1_hit += a == 1;
            seen.stlb_hit += a == 2;
            seen.miss += !a;
            seen.general += !a && (o.xn.size != PG_4K || (o.xn.flags & TLB_G));
            if (!xlate_same(a, b, &xa, &xb) || !tlb_same(&ta, &tb)) {
                say("op %u: TLB va %#llx pcid %u: %d against %d\n", op, (unsigned long long)o.va, o.pcid, a, b);
                bad = 1;
            }
        } else if (kind < 55) {
            o.va &= (1ull << 39) - 1;   /* guest-physical */
            random_xlate(&g, o.va, 1, &o.xn);
            int a = simd ? ntlb_step_avx2(&na, &o, &xa, 1) : ntlb_step_scalar(&na, &o, &xa, 1);
            int b = simd ? ntlb_step_avx2(&nb, &o, &xb, 0) : ntlb_step_scalar(&nb, &o, &xb, 0);
            seen.ntlb_hit += a != 0;
            if (!xlate_same(a, b, &xa, &xb) || !tlb_same(&na, &nb)) {
                say("op %u: nested TLB gpa %#llx: %d against %d\n", op, (unsigned long long)o.va, a, b);
                bad = 1;
            }
        } else if (kind < 75) {
            uint64_t t1 = 0, t2 = 0;
            uint8_t p1 = 0, p2 = 0;
            unsigned a = simd ? pwc_step_avx2(&pa, o.va, o.pcid, &t1, &p1, 1) : pwc_step_scalar(&pa, o.va, o.pcid, &t1, &p1, 1);
            unsigned b = simd ? pwc_step_avx2(&pb, o.va, o.pcid, &t2, &p2, 0) : pwc_step_scalar(&pb, o.va, o.pcid, &t2, &p2, 0);
            seen.pwc_level[a]++;
            if (a != b || (a < 4 && (t1 != t2 || p1 != p2)) || !pwc_same(&pa, &pb)) {
                say("op %u: walk caches va %#llx pcid %u: level %u against %u\n", op, (unsigned long long)o.va,
                    o.pcid, a, b);
                bad = 1;
            }
        } else if (kind < 95) {
            uint64_t addr = (rng_below(&g, 4) << 32) + (rng_below(&g, 1 << 13) << 6) + rng_below(&g, 64);
            int a = simd ? dc_step_avx2(&dca, addr, 1) : dc_step_scalar(&dca, addr, 1);
            int b = simd ? dc_step_avx2(&dcb, addr, 0) : dc_step_scalar(&dcb, addr, 0);
            seen.dc_hit += a;
            seen.dc_miss += !a;
            if (a != b || !dc_same(&dca, &dcb)) {
                say("op %u: data cache addr %#llx: %d against %d\n", op, (unsigned long long)addr, a, b);
                bad = 1;
            }
        } else {   /* the flushes, generic code, alike on both */
            unsigned f = (unsigned)rng_below(&g, 4);
            if (f == 0) {
                tlb_flush_page(&ta, o.va, o.pcid), tlb_flush_page(&tb, o.va, o.pcid);
                pwc_flush_pcid(&pa, o.pcid), pwc_flush_pcid(&pb, o.pcid);
            } else if (f == 1) {
                tlb_flush_pcid(&ta, o.pcid), tlb_flush_pcid(&tb, o.pcid);
            } else if (f == 2 && rng_below(&g, 8) == 0) {
                tlb_flush_nonglobal(&ta), tlb_flush_nonglobal(&tb);
                pwc_flush_all(&pa), pwc_flush_all(&pb);
            } else if (rng_below(&g, 8) == 0) {
                tlb_flush_all(&na), tlb_flush_all(&nb);
            }
        }
    }
    tlb_destroy(&ta), tlb_destroy(&tb), tlb_destroy(&na), tlb_destroy(&nb);
    pwc_destroy(&pa), pwc_destroy(&pb);
    dcache_destroy(&dca), dcache_destroy(&dcb);
    return bad;
}

static const struct tlb_config DEFAULT_TLB = { 64, 4, 32, 4, 4, 4, 1536, 12, 1, 2, 4, 32 };
static const struct dcache_config DEFAULT_DC = { 256, 16 };

#if defined(__SANITIZE_ADDRESS__)
#define OPS 20000
#else
#define OPS 200000
#endif

static void test_constants_do_what_the_generic_path_does(void **state)
{
    (void)state;
    memset(&seen, 0, sizeof seen);
    for (int simd = hw_simd_host() ? 1 : 0; simd >= 0; simd--)
        assert_int_equal(drive(20 + (uint64_t)simd, OPS, simd, &DEFAULT_TLB, &DEFAULT_DC, 0), 0);
    print_message("TLB: L1 hits %lu, STLB hits %lu, misses %lu (general installs %lu); nested TLB hits %lu;"
                  " walk caches: PDE hits %lu, PDPTE %lu, PML4E %lu, none %lu; data cache %lu hits, %lu misses\n",
                  seen.l1_hit, seen.stlb_hit, seen.miss, seen.general, seen.ntlb_hit, seen.pwc_level[1],
                  seen.pwc_level[2], seen.pwc_level[3], seen.pwc_level[4], seen.dc_hit, seen.dc_miss);
    unsigned long least = OPS / 200;
    assert_true(seen.l1_hit > least && seen.stlb_hit > least && seen.miss > least && seen.general > least);
    assert_true(seen.ntlb_hit > least && seen.pwc_level[1] > least && seen.pwc_level[2] > least &&
                seen.pwc_level[3] > least && seen.pwc_level[4] > least);
    assert_true(seen.dc_hit > least && seen.dc_miss > least);
}

/* Structures with more sets than the constants say: the bodies then pick
 * other sets (in bounds), and the comparison must see it; and so must it
 * see a PDE cache entry's permissions changed behind the bodies' back. */
static void test_wrong_constants_are_caught(void **state)
{
    (void)state;
    struct tlb_config big_l1 = DEFAULT_TLB, big_stlb = DEFAULT_TLB;
    big_l1.l1_4k_entries = 128;   /* 32 sets, the constants say 16 */
    big_stlb.l2_entries = 3072;   /* 256 sets, the constants say 128 */
    const struct dcache_config big_dc = { 512, 16 };   /* 512 sets, the constants say 256 */
    quiet = 1;
    for (int simd = hw_simd_host() ? 1 : 0; simd >= 0; simd--) {
        assert_int_equal(drive(30, 20000, simd, &big_l1, &DEFAULT_DC, 0), 1);
        assert_int_equal(drive(31, 20000, simd, &big_stlb, &DEFAULT_DC, 0), 1);
        assert_int_equal(drive(32, 20000, simd, &DEFAULT_TLB, &big_dc, 0), 1);
        assert_int_equal(drive(33, 20000, simd, &DEFAULT_TLB, &DEFAULT_DC, 5000), 1);
    }
    quiet = 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_machine_takes_the_copies),
        cmocka_unit_test(test_other_geometries_take_the_generic_path),
        cmocka_unit_test(test_constants_do_what_the_generic_path_does),
        cmocka_unit_test(test_wrong_constants_are_caught),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

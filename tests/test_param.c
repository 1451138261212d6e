/* test_param.c: numbers on the command line and in result files are decimal
 * (lib/param.c), a parameter's canonical text reads back to the same value,
 * --at times are exact and bounded, and a control's canonical form reads back
 * to the same control (sim/config.c): what `memvirt rerun` relies on; and
 * the names a result holds (trace.file, the profile) are UTF-8, or the run
 * is refused (config_validate) and the JSON writer refuses the document,
 * since rerun, report and sweep merge cannot read it back. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <math.h>
#include <string.h>

#include "lib/json.h"
#include "lib/param.h"
#include "lib/rng.h"
#include "lib/text.h"
#include "testutil.h"

static void test_u64_decimal_only(void **state)
{
    (void)state;
    static const struct { const char *s; uint64_t v; } ok[] = {
        { "0", 0 }, { "7", 7 }, { "10", 10 }, { "4K", 4096 }, { "2m", 2u << 20 }, { "1G", 1u << 30 },
        { "3T", 3ull << 40 }, { "0K", 0 }, { "18446744073709551615", UINT64_MAX }, { "16777215T", 16777215ull << 40 },
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        uint64_t v = 12345;
        assert_int_equal(param_parse_u64(ok[i].s, &v), 0);
        assert_true(v == ok[i].v);
    }
    static const char *const bad[] = {
        "", "010", "00", "0x10", "0X1", "+7", "-1", " 7", "7 ", "7KB", "K", "1.5", "1e3",
        "0b1", "1_000", "99999999999999999999x", "16777216TB",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint64_t v = 12345;
        assert_int_equal(param_parse_u64(bad[i], &v), -1);
        assert_true(v == 12345);   /* untouched */
    }
    /* well formed but past 2^64 - 1: told apart, so the message can say
     * "out of range" rather than "malformed" */
    static const char *const big[] = {
        "18446744073709551616", "99999999999999999999", "16777216T", "17179869184G", "18014398509481984K",
    };
    for (size_t i = 0; i < sizeof big / sizeof big[0]; i++) {
        uint64_t v = 12345;
        assert_int_equal(param_parse_u64(big[i], &v), PARAM_TOO_BIG);
        assert_true(v == 12345);
    }
}

static void test_dbl_decimal_only(void **state)
{
    (void)state;
    static const struct { const char *s; double v; } ok[] = {
        { "0", 0 }, { "-1", -1 }, { "0.5", 0.5 }, { "2.4", 2.4 }, { "1e3", 1e3 }, { "2E-3", 2e-3 },
        { "1e+06", 1e6 }, { "-0.25", -0.25 }, { "10.0", 10 },
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        double v = 99;
        assert_int_equal(param_parse_dbl(ok[i].s, &v), 0);
        assert_true(v == ok[i].v);
    }
    static const char *const bad[] = {
        "", "+1", ".5", "5.", "00.5", "01", "0x1p3", "inf", "nan", "1e", "1e+", "- 1", "1,5", " 1", "--1",
        "1e400x",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        double v = 99;
        assert_int_equal(param_parse_dbl(bad[i], &v), -1);
        assert_true(v == 99);
    }
    static const char *const big[] = { "1e400", "1e309", "-1e309", "1.8e308" };
    for (size_t i = 0; i < sizeof big / sizeof big[0]; i++) {
        double v = 99;
        assert_int_equal(param_parse_dbl(big[i], &v), PARAM_TOO_BIG);
        assert_true(v == 99);
    }
    /* a negative zero is 0: results wrote -0, which a JSON reader takes
     * as the integer 0, so rerun wrote 0 */
    static const char *const zero[] = { "-0", "-0.0", "-0e-5", "0e-400", "0.0", "-0.000e9" };
    for (size_t i = 0; i < sizeof zero / sizeof zero[0]; i++) {
        double v = 99;
        assert_int_equal(param_parse_dbl(zero[i], &v), 0);
        assert_true(v == 0 && !signbit(v));
    }
    /* a number that is not 0 but rounds to it was taken as 0 (cost.cpi =
     * 1e-400 a free instruction, while 1e309 was refused); the smallest
     * denormal, and what rounds up to it, are numbers */
    static const char *const tiny[] = { "1e-400", "-1e-400", "0.0001e-320", "2e-324", "0.000000001e-316" };
    for (size_t i = 0; i < sizeof tiny / sizeof tiny[0]; i++) {
        double v = 99;
        if (param_parse_dbl(tiny[i], &v) != PARAM_TOO_SMALL)
            fail_msg("'%s' not refused as too small", tiny[i]);
        assert_true(v == 99);
    }
    static const char *const denormal[] = { "5e-324", "3e-324", "4.9406564584124654e-324", "1e-320" };
    for (size_t i = 0; i < sizeof denormal / sizeof denormal[0]; i++) {
        double v = 0;
        assert_int_equal(param_parse_dbl(denormal[i], &v), 0);
        assert_true(v > 0);
    }
}

/* The shortest text param_format gives reads back to the very same double
 * (a zero to +0), for random bit patterns and awkward values. */
static void test_dbl_format_round_trip(void **state)
{
    (void)state;
    rng_t r;
    rng_seed(&r, 1, 77);
    double awkward[] = { 0.1, 2.123456789123, 1.0 / 3, 1e-300, 5e-324, 1.7976931348623157e308, -0.0, 1e15, 123456789012345678.0 };
    for (int i = 0; i < 100000 + (int)(sizeof awkward / sizeof awkward[0]); i++) {
        double v;
        if (i < (int)(sizeof awkward / sizeof awkward[0])) {
            v = awkward[i];
        } else {
            uint64_t bits = rng_next(&r);
            memcpy(&v, &bits, sizeof v);
            if (!isfinite(v))
                continue;
        }
        char buf[64];
        param_format_dbl(v, buf, sizeof buf);
        double back;
        assert_int_equal(param_parse_dbl(buf, &back), 0);
        if (v == 0)   /* -0 is written and read as 0 (test_dbl_decimal_only) */
            assert_true(back == 0 && !signbit(back) && !strcmp(buf, "0"));
        else
            assert_memory_equal(&back, &v, sizeof v);
    }
    char buf[64];
    param_format_dbl(0.1, buf, sizeof buf);
    assert_string_equal(buf, "0.1");   /* shortest, not 0.10000000000000001 */
}

/* Every parameter of every group formats to text that param_set reads back
 * to the same bytes: the effective configuration in a result is exact. */
static void test_every_param_round_trips(void **state)
{
    (void)state;
    struct sim_config a, b;
    assert_int_equal(config_init(&a, "memwalk"), 0);
    assert_int_equal(config_init(&b, "memwalk"), 0);
    assert_int_equal(config_param(&a, "cost.clock_ghz=2.123456789123"), 0);
    assert_int_equal(config_param(&a, "memwalk.pattern=chase"), 0);
    assert_int_equal(config_param(&a, "guest.pcid=false"), 0);
    struct config_group ga[CONFIG_MAX_GROUPS], gb[CONFIG_MAX_GROUPS];
    unsigned n = config_groups(&a, ga), nb = config_groups(&b, gb), count = 0;
    assert_int_equal(n, nb);
    assert_string_equal(ga[n - 1].g->prefix, "memwalk");   /* the workload's group is there */
    for (unsigned i = 0; i < n; i++)
        for (size_t k = 0; k < ga[i].g->n; k++, count++) {
            const struct param_def *d = &ga[i].g->defs[k];
            char text[64];
            param_format(d, ga[i].cfg, text, sizeof text);
            assert_int_equal(param_set(gb[i].g, gb[i].cfg, d->name, text, "test"), 0);
            size_t size = d->type == P_U64 ? 8 : d->type == P_DBL ? 8 : d->type == P_BOOL ? sizeof(int) : PARAM_STR_MAX;
            assert_memory_equal((char *)ga[i].cfg + d->off, (char *)gb[i].cfg + d->off,
                                d->type == P_CHOICE ? strlen(text) + 1 : size);
        }
    assert_true(count > 80);
    config_free(&a);
    config_free(&b);
}

static void test_at_times_exact(void **state)
{
    (void)state;
    static const struct { const char *spec; uint64_t ns; const char *canon; } ok[] = {
        { "5m:ptcache=on", 300000000000ull, "5m:ptcache=on" },
        { "1.5m:ptcache=off", 90000000000ull, "90s:ptcache=off" },
        { "0.000000001s:ptcache=true", 1, "1ns:ptcache=on" },
        { "1500ms:ptcache_ratio=100", 1500000000ull, "1500ms:ptcache_ratio=100" },
        { "2.5us:ptcache_total=4K", 2500, "2500ns:ptcache_total=4096" },
        { "0s:ptcache=on", 0, "0m:ptcache=on" },
        { "18446744073709551615ns:ptcache=on", UINT64_MAX, "18446744073709551615ns:ptcache=on" },
        { "307445734m:ptcache=on", 307445734ull * 60000000000ull, "307445734m:ptcache=on" },
    };
    mv_error_quiet(1);
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        struct sim_config c;
        assert_int_equal(config_init(&c, "lmbench"), 0);
        assert_int_equal(config_at(&c, ok[i].spec), 0);
        assert_true(c.at[0].ns == ok[i].ns);
        char buf[96];
        config_at_format(&c.at[0], buf, sizeof buf);
        assert_string_equal(buf, ok[i].canon);
        /* the canonical form reads back to the same control (time, name,
         * value; its text is each one's own, for messages) */
        struct sim_config d;
        assert_int_equal(config_init(&d, "lmbench"), 0);
        assert_int_equal(config_at(&d, buf), 0);
        assert_true(d.at[0].ns == c.at[0].ns && d.at[0].value == c.at[0].value);
        assert_string_equal(d.at[0].name, c.at[0].name);
        assert_string_equal(c.at[0].text, ok[i].spec);
        assert_string_equal(d.at[0].text, ok[i].canon);
        config_free(&c);
        config_free(&d);
    }
    static const char *const bad[] = {
        "18446744073709551616ns:ptcache=on", "307445735m:ptcache=on", "0.5ns:ptcache=on", "1e3s:ptcache=on",
        "01s:ptcache=on", "-1s:ptcache=on", "+1s:ptcache=on", "1.s:ptcache=on", ".5s:ptcache=on", "1h:ptcache=on",
        "1 s:ptcache=on", "s:ptcache=on", "1s:ptcache_ratio=0x10", "1s:ptcache_ratio=010",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct sim_config c;
        assert_int_equal(config_init(&c, "lmbench"), 0);
        assert_int_equal(config_at(&c, bad[i]), -1);
        assert_int_equal(c.nat, 0);
        config_free(&c);
    }
    /* representable in ns but not in cycles at the clock: refused by validation */
    struct sim_config c;
    assert_int_equal(config_init(&c, "lmbench"), 0);
    assert_int_equal(config_at(&c, "7686143364045646848ns:ptcache=on"), 0);   /* 2^64 / 2.4 */
    assert_int_equal(config_validate(&c), -1);
    assert_non_null(strstr(mv_last_error(), "too large"));
    config_free(&c);
    assert_int_equal(config_init(&c, "lmbench"), 0);
    assert_int_equal(config_at(&c, "7686143364045645824ns:ptcache=on"), 0);   /* just below */
    assert_int_equal(config_validate(&c), 0);
    config_free(&c);
    mv_error_quiet(0);
}

/* A bad geometry is named by its parameters even where the machine itself
 * finds it (a configuration that skipped config_validate): the TLB, the
 * IOTLB when the domain is built, the nested TLB when hap starts. */
static void test_geometry_named_by_machine(void **state)
{
    (void)state;
    static const struct { const char *mode, *param, *msg; } cases[] = {
        { "native", "tlb.l2_entries=1000", "--param tlb.l2_entries=1000 is not a multiple of tlb.l2_ways=12 (the default)" },
        { "native", "cache.ptw_kb=48", "cache.ptw_kb=48 (768 64-byte lines) with cache.ptw_ways=16 (the default) gives 48 sets" },
        { "pv", "iommu.iotlb_entries=96", "iommu.iotlb_entries=96 with iommu.iotlb_ways=4 (the default) gives 24 sets" },
        { "hap", "hap.ntlb_entries=48", "hap.ntlb_entries=48 with hap.ntlb_ways=4 (the default) gives 12 sets" },
    };
    mv_error_quiet(1);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct tmachine *t = calloc(1, sizeof *t);
        assert_non_null(t);
        assert_int_equal(config_init(&t->cfg, "memwalk"), 0);
        t->cfg.quiet = 1;
        assert_int_equal(config_param(&t->cfg, cases[i].param), 0);
        assert_int_equal(machine_init(&t->m, &t->cfg, mode_find(cases[i].mode)), -1);
        if (!strstr(mv_last_error(), cases[i].msg))
            fail_msg("%s: got '%s'", cases[i].param, mv_last_error());
        t->m.failed = 1;
        tm_destroy(t);
    }
    mv_error_quiet(0);
}

/* A message naming a value the user may not have given says when it is
 * the default (param_show), whatever the type, and only then. */
static void test_show_marks_defaults(void **state)
{
    (void)state;
    struct sim_config c;
    char buf[PARAM_SHOW_MAX];
    assert_int_equal(config_init(&c, "memwalk"), 0);
    assert_string_equal(param_show(&tlb_params, &c.tlb, "l1_4k_ways", buf, sizeof buf),
                        "tlb.l1_4k_ways=4 (the default)");
    assert_string_equal(param_show(&selective_params, &c.hv.selective, "tlb_upper", buf, sizeof buf),
                        "selective.tlb_upper=10 (the default)");
    assert_string_equal(param_show(&selective_params, &c.hv.selective, "policy", buf, sizeof buf),
                        "selective.policy=dynamic (the default)");
    assert_int_equal(config_param(&c, "tlb.l1_4k_ways=8"), 0);
    assert_int_equal(config_param(&c, "selective.tlb_upper=10.5"), 0);
    assert_int_equal(config_param(&c, "selective.policy=fixed"), 0);
    assert_string_equal(param_show(&tlb_params, &c.tlb, "l1_4k_ways", buf, sizeof buf), "tlb.l1_4k_ways=8");
    assert_string_equal(param_show(&selective_params, &c.hv.selective, "tlb_upper", buf, sizeof buf),
                        "selective.tlb_upper=10.5");
    assert_string_equal(param_show(&selective_params, &c.hv.selective, "policy", buf, sizeof buf),
                        "selective.policy=fixed");
    /* the default's value given explicitly is the default value all the same */
    assert_int_equal(config_param(&c, "tlb.l2_entries=1536"), 0);
    assert_true(param_is_default(param_find(&tlb_params, "l2_entries"), &c.tlb));
    config_free(&c);
}

/* Names in results are UTF-8: the check itself, the run refused before it
 * starts, and the JSON writer's own refusal of a string that is not. */
static void test_names_utf8(void **state)
{
    (void)state;
    assert_int_equal(text_utf8_bad("/tmp/t.mvt"), -1);
    assert_int_equal(text_utf8_bad("/tmp/\xc3\xa9t\xc3\xa9/\xe2\x82\xac/\xf0\x9f\x98\x80.mvt"), -1);
    assert_int_equal(text_utf8_bad("/tmp/t\xff.mvt"), 6);
    assert_int_equal(text_utf8_bad("\xc0\x80"), 0);            /* overlong NUL */
    assert_int_equal(text_utf8_bad("ab\xed\xa0\x80"), 2);     /* a surrogate */
    assert_int_equal(text_utf8_bad("a\xe2\x82"), 1);           /* cut short */
    assert_int_equal(text_utf8_bad("a\xc3\xa9\xe9"), 3);      /* Latin-1 after UTF-8 */

    struct sim_config c;
    mv_error_quiet(1);
    assert_int_equal(config_init(&c, "trace"), 0);
    assert_int_equal(config_param(&c, "trace.file=/tmp/\xc3\xa9.mvt"), 0);
    assert_int_equal(config_validate(&c), -1);                             /* a name past the check: */
    assert_null(strstr(mv_last_error(), "UTF-8"));                         /* the file is not there */
    assert_non_null(strstr(mv_last_error(), "cannot open"));
    assert_int_equal(config_param(&c, "trace.file=/tmp/t\xff.mvt"), 0);   /* trace info replays it */
    assert_int_equal(config_validate(&c), -1);                             /* a run does not */
    assert_non_null(strstr(mv_last_error(), "--param: trace.file: '/tmp/t\\xff.mvt': not valid UTF-8 (byte 0xff "
                                            "at offset 6)"));
    assert_int_equal(config_param(&c, "trace.file=/tmp/t.mvt"), 0);
    strcpy(c.profile, "p\xfe");                                            /* behind config_profile's back */
    assert_int_equal(config_validate(&c), -1);
    assert_non_null(strstr(mv_last_error(), "--profile: 'p\\xfe'"));
    assert_int_equal(config_profile(&c, "/tmp/p\xfe.profile"), -1);         /* before it is read */
    assert_non_null(strstr(mv_last_error(), "not valid UTF-8"));
    mv_error_quiet(0);
    config_free(&c);

    char *buf;
    size_t len;
    FILE *f = open_memstream(&buf, &len);
    struct json j;
    json_init(&j, f);
    json_obj_begin(&j);
    json_key(&j, "file");
    json_str(&j, "/tmp/\xc3\xa9.mvt");
    json_obj_end(&j);
    assert_int_equal(json_finish(&j), 0);
    json_init(&j, f);
    json_obj_begin(&j);
    json_key(&j, "file");
    json_str(&j, "/tmp/t\xff.mvt");
    json_obj_end(&j);
    assert_int_equal(json_finish(&j), -1);
    json_init(&j, f);
    json_obj_begin(&j);
    json_key(&j, "\xff");
    json_u64(&j, 1);
    json_obj_end(&j);
    assert_int_equal(json_finish(&j), -1);
    fclose(f);
    free(buf);
}

/* text_escape: what a message line shows of text from outside. */
static void test_text_escape(void **state)
{
    (void)state;
    char out[64];
    static const struct { const char *in; size_t max; const char *want; } c[] = {
        { "plain text", SIZE_MAX, "plain text" },
        { "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", SIZE_MAX, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80" },
        { "a\nb\tc\rd", SIZE_MAX, "a\\nb\\tc\\rd" },
        { "\x1b[31m\x7f", SIZE_MAX, "\\x1b[31m\\x7f" },
        { "\xc2\x9b\xc2\xa0", SIZE_MAX, "\\xc2\\x9b\xc2\xa0" },      /* CSI (C1) escaped, NBSP kept */
        { "t\xff\xc0\x80\xed\xa0\x80", SIZE_MAX, "t\\xff\\xc0\\x80\\xed\\xa0\\x80" },   /* not UTF-8 */
        { "abcdef", 3, "abc" },
        { "ab\xc3\xa9", 3, "ab" },                                       /* a sequence past max_in is left out */
        { "\x01\x02\x03\x04\x05\x06\x07\x08\x0b\x0c\x0e\x0f\x10\x11\x12\x13\x14", SIZE_MAX,
          "\\x01\\x02\\x03\\x04\\x05\\x06\\x07\\x08\\x0b\\x0c\\x0e\\x0f\\x10\\x11\\x12" },   /* 60 bytes: a 16th would not fit in 64 with the NUL */
    };
    for (unsigned i = 0; i < sizeof c / sizeof c[0]; i++) {
        size_t k = text_escape(out, sizeof out, c[i].in, c[i].max);
        if (strcmp(out, c[i].want) || k != strlen(out))
            fail_msg("case %u: got '%s' (%zu), expected '%s'", i, out, k, c[i].want);
    }
    assert_int_equal(text_escape(out, 1, "abc", SIZE_MAX), 0);
    assert_string_equal(out, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text_escape),
        cmocka_unit_test(test_u64_decimal_only),
        cmocka_unit_test(test_dbl_decimal_only),
        cmocka_unit_test(test_dbl_format_round_trip),
        cmocka_unit_test(test_every_param_round_trips),
        cmocka_unit_test(test_at_times_exact),
        cmocka_unit_test(test_geometry_named_by_machine),
        cmocka_unit_test(test_show_marks_defaults),
        cmocka_unit_test(test_names_utf8),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

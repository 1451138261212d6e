/* test_profile.c: cost profile files (sim/profile.c): the format, loading
 * through --profile, one clear error per malformed input, atomic writing,
 * and that a profile changes the simulated results exactly as its entries
 * say. No timing here: calibrate's measurements are not unit-tested. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "testutil.h"
#include "sim/engine.h"
#include "sim/profile.h"
#include <dirent.h>
#include <math.h>
#include <errno.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>

static int parse(struct profile *p, const char *text)
{
    return profile_parse(p, "t.profile", text, strlen(text));
}

static void test_parse_valid(void **state)
{
    (void)state;
    const char *text =
        "# a comment\n"
        "\n"
        "  memvirt-cost-profile 1   # header with a comment\n"
        "host.cpu = \"AMD EPYC \\\"Genoa\\\" \\\\ x\"\n"
        "cost.syscall=1234\n"
        "cost.clock_ghz = 3.25 status=measured ns=1.5 spread=3.2..3.3 reps=21 method=\"a b # c\"\r\n"
        "\tcost.fork_fixed = 99000 status=fitted   # trailing\n"
        "measured.vm_exit_user = 52000.5 unit=cycles note=plain\n"
        "measured.diff = -3.5 spread=-10.25..2 ns=-1\n";
    struct profile p;
    assert_int_equal(parse(&p, text), 0);
    assert_int_equal(p.cost.syscall, 1234);
    assert_true(p.cost.clock_ghz == 3.25);
    assert_int_equal(p.cost.fork_fixed, 99000);
    struct cost def;
    param_defaults(&cost_params, &def);
    assert_int_equal(p.cost.exit_fixed, def.exit_fixed);   /* not named: default */
    assert_int_equal(p.cost.vm_exit, def.vm_exit);
    assert_int_equal(p.n, 6);
    const struct profile_line *l = profile_find(&p, "host.cpu");
    assert_non_null(l);
    assert_string_equal(l->value, "AMD EPYC \"Genoa\" \\ x");
    l = profile_find(&p, "cost.clock_ghz");
    assert_non_null(l);
    assert_string_equal(profile_line_attr(l, "method"), "a b # c");
    assert_string_equal(profile_line_attr(l, "spread"), "3.2..3.3");
    assert_string_equal(profile_line_attr(l, "reps"), "21");
    assert_null(profile_line_attr(l, "note"));
    l = profile_find(&p, "measured.vm_exit_user");
    assert_string_equal(l->value, "52000.5");
    assert_string_equal(profile_line_attr(l, "note"), "plain");
    profile_free(&p);
}

/* Every malformed input: exactly this message, nothing loaded. */
static void test_errors(void **state)
{
    (void)state;
    static const struct { const char *text, *msg; } cases[] = {
        { "", "t.profile:1:1: no 'memvirt-cost-profile 1' header: not a memvirt cost profile" },
        { "# only comments\n\n", "t.profile:2:1: no 'memvirt-cost-profile 1' header: not a memvirt cost profile" },
        { "cost.syscall = 1\n", "t.profile:1:1: expected the header 'memvirt-cost-profile 1' before anything else" },
        { "memvirt-cost-profilex 1\n", "t.profile:1:1: expected the header 'memvirt-cost-profile 1' before anything else" },
        { "memvirt-cost-profile 2\n", "t.profile:1:22: unsupported format version '2' (this memvirt reads version 1)" },
        { "memvirt-cost-profile\n", "t.profile:1:21: unsupported format version '' (this memvirt reads version 1)" },
        { "memvirt-cost-profile 1 x\n", "t.profile:1:24: unexpected text after the header" },
        { "memvirt-cost-profile 1\nCost.syscall = 1\n",
          "t.profile:2:1: expected a key (cost.NAME, host.NAME or measured.NAME)" },
        { "memvirt-cost-profile 1\ncost.syscall 1\n", "t.profile:2:14: expected '=' after 'cost.syscall'" },
        { "memvirt-cost-profile 1\ncost.syscall =\n", "t.profile:2:15: missing value for 'cost.syscall'" },
        { "memvirt-cost-profile 1\ncost.syscall = # x\n", "t.profile:2:16: missing value for 'cost.syscall'" },
        { "memvirt-cost-profile 1\ncost.sycall = 1\n", "t.profile:2:1: unknown cost entry 'cost.sycall' (see 'memvirt list')" },
        { "memvirt-cost-profile 1\nspeed.x = 1\n",
          "t.profile:2:1: unknown key 'speed.x' (keys are cost.NAME, host.NAME or measured.NAME)" },
        { "memvirt-cost-profile 1\nhost. = \"x\"\n",
          "t.profile:2:1: unknown key 'host.' (keys are cost.NAME, host.NAME or measured.NAME)" },
        { "memvirt-cost-profile 1\ncost.syscall = 12x\n",
          "t.profile:2:16: cost.syscall: malformed value '12x' (expected a decimal integer such as 12 or 4K)" },
        { "memvirt-cost-profile 1\ncost.syscall = -1\n",
          "t.profile:2:16: cost.syscall: malformed value '-1' (expected a decimal integer such as 12 or 4K)" },
        { "memvirt-cost-profile 1\ncost.clock_ghz = 0.01\n",
          "t.profile:2:18: cost.clock_ghz: value 0.01 out of range [0.1, 10]" },
        { "memvirt-cost-profile 1\ncost.syscall = \"12\"\n", "t.profile:2:16: cost.syscall: expected a number, not a string" },
        { "memvirt-cost-profile 1\nmeasured.x = fast\n",
          "t.profile:2:14: measured.x: malformed number 'fast'" },
        { "memvirt-cost-profile 1\nmeasured.x = 1e-400\n",
          "t.profile:2:14: measured.x: number '1e-400' is too close to 0 for a double (it would be 0)" },
        { "memvirt-cost-profile 1\ncost.cpi = 1e-400\n",
          "t.profile:2:12: cost.cpi: value 1e-400 is too close to 0 for a double (it would be 0: write 0 if that is meant)" },
        { "memvirt-cost-profile 1\ncost.syscall = 1\ncost.syscall = 2\n", "t.profile:3:1: duplicate key 'cost.syscall'" },
        { "memvirt-cost-profile 1\ncost.syscall = 1 status=guessed\n",
          "t.profile:2:25: status: unknown status 'guessed' (measured, fitted, bound or default)" },
        { "memvirt-cost-profile 1\ncost.syscall = 1 colour=red\n",
          "t.profile:2:18: unknown attribute 'colour' (status, ns, spread, reps, unit, method or note)" },
        { "memvirt-cost-profile 1\ncost.syscall = 1 ns=1 ns=2\n", "t.profile:2:23: duplicate attribute 'ns'" },
        { "memvirt-cost-profile 1\ncost.syscall = 1 ns=\n", "t.profile:2:21: missing value for attribute 'ns'" },
        { "memvirt-cost-profile 1\ncost.syscall = 1 ns=3ns\n", "t.profile:2:21: ns: malformed number '3ns'" },
        { "memvirt-cost-profile 1\ncost.syscall = 1 spread=3\n", "t.profile:2:25: spread: expected LOW..HIGH, not '3'" },
        { "memvirt-cost-profile 1\ncost.syscall = 1 spread=3..x\n",
          "t.profile:2:25: spread: malformed number 'x'" },
        { "memvirt-cost-profile 1\ncost.syscall = 1 spread=-1..-2\n", "t.profile:2:25: spread: low end -1 is above high end -2" },
        { "memvirt-cost-profile 1\ncost.syscall = 1 spread=5..3\n", "t.profile:2:25: spread: low end 5 is above high end 3" },
        { "memvirt-cost-profile 1\ncost.syscall = 1 reps=0\n",
          "t.profile:2:23: reps: malformed count '0' (expected a positive integer)" },
        { "memvirt-cost-profile 1\ncost.syscall = 1 status\n",
          "t.profile:2:18: expected NAME=VALUE or a '#' comment, not 'status'" },
        { "memvirt-cost-profile 1\nhost.cpu = \"abc\n", "t.profile:2:12: unterminated string (missing closing '\"')" },
        { "memvirt-cost-profile 1\nhost.cpu = \"a\\nb\"\n",
          "t.profile:2:14: unknown escape in string (only \\\" and \\\\ are allowed)" },
        { "memvirt-cost-profile 1\nhost.cpu = \"ab\"c\n", "t.profile:2:16: expected a space after the closing quote" },
        { "memvirt-cost-profile 1\nhost.cpu = ab\"c\n", "t.profile:2:14: unexpected '\"' inside a value (quote the whole value)" },
        { "memvirt-cost-profile 1\nhost.cpu = a\xc3\xa9\n", "t.profile:2:13: non-ASCII byte outside a quoted string" },
        { "memvirt-cost-profile 1\nhost.cpu = \"a\x01\"\n", "t.profile:2:14: control character 0x01" },
        { "memvirt-cost-profile 1\nhost.cpu = \"a\x7f\"\n", "t.profile:2:14: control character 0x7f" },
    };
    mv_error_quiet(1);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct profile p;
        if (parse(&p, cases[i].text) != -1 || strcmp(mv_last_error(), cases[i].msg))
            fail_msg("case %zu: got '%s', expected '%s'", i, mv_last_error(), cases[i].msg);
        assert_int_equal(p.n, 0);
        struct cost def;
        param_defaults(&cost_params, &def);
        assert_memory_equal(&p.cost, &def, sizeof def);
        profile_free(&p);
    }
    /* A NUL byte, a line too long, a value too long. */
    struct profile p;
    const char nul[] = "memvirt-cost-profile 1\nhost.x = \"a\0b\"\n";
    assert_int_equal(profile_parse(&p, "t.profile", nul, sizeof nul - 1), -1);
    assert_string_equal(mv_last_error(), "t.profile:2:12: NUL byte (not a text file?)");
    size_t big = PROFILE_LINE_MAX + 100;
    char *text = malloc(big + 64);
    int h = sprintf(text, "memvirt-cost-profile 1\nhost.x = ");
    memset(text + h, 'a', big);
    text[h + big] = 0;
    assert_int_equal(parse(&p, text), -1);
    assert_string_equal(mv_last_error(), "t.profile:2:16385: line longer than 16384 bytes");
    text[h + PROFILE_VALUE_MAX] = 0;
    assert_int_equal(parse(&p, text), -1);
    assert_string_equal(mv_last_error(), "t.profile:2:10: value longer than 511 bytes");
    text[h + PROFILE_VALUE_MAX - 1] = 0;   /* exactly 511 bytes: fine */
    assert_int_equal(parse(&p, text), 0);
    profile_free(&p);
    free(text);
    /* PROFILE_MAX_ENTRIES entries load; one more is refused at its line,
     * comments and blank lines between them not counted. */
    size_t cap = 64 + (PROFILE_MAX_ENTRIES + 1) * 40;
    text = malloc(cap);
    size_t at = (size_t)sprintf(text, "memvirt-cost-profile 1\n");
    for (int i = 0; i < PROFILE_MAX_ENTRIES; i++)
        at += (size_t)sprintf(text + at, "measured.m%d = %d\n#\n\n", i, i);
    assert_int_equal(parse(&p, text), 0);
    assert_int_equal(p.n, PROFILE_MAX_ENTRIES);
    profile_free(&p);
    sprintf(text + at, "host.x = y\n");
    assert_int_equal(parse(&p, text), -1);
    char want[160];
    snprintf(want, sizeof want, "t.profile:%d:1: more than %d entries (a profile holds one line per cost "
             "entry, host fact or measurement)", 2 + 3 * PROFILE_MAX_ENTRIES, PROFILE_MAX_ENTRIES);
    assert_string_equal(mv_last_error(), want);
    assert_int_equal(p.n, 0);
    free(text);
    mv_error_quiet(0);
}

/* What profile_write writes, profile_parse reads back unchanged. */
static void test_roundtrip(void **state)
{
    (void)state;
    struct profile p = { 0 };
    param_defaults(&cost_params, &p.cost);
    profile_add(&p, "host.cpu", "CPU with \"quotes\", \\backslash\\, # hash and caf\xc3\xa9");
    profile_add(&p, "host.empty", "");
    struct profile_line *l = profile_add(&p, "cost.syscall", "777");
    profile_attr(l, "status", "measured");
    profile_attr(l, "ns", "%.1f", 299.5);
    profile_attr(l, "spread", "%.1f..%.1f", 290.0, 310.25);
    profile_attr(l, "reps", "%u", 21u);
    profile_attr(l, "method", "getppid() x %d, pinned to CPU %d", 10000, 1);
    l = profile_add(&p, "cost.clock_ghz", "3.125");
    profile_attr(l, "note", "tab\there");   /* control bytes are cleaned on the way in */
    profile_add(&p, "measured.x", "12.5");
    p.cost.syscall = 777;
    p.cost.clock_ghz = 3.125;

    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    profile_write(f, &p, "written by a test\n\nsecond line");
    fclose(f);
    assert_non_null(strstr(buf, "# written by a test\n#\n# second line\nmemvirt-cost-profile 1\n"));

    struct profile q;
    assert_int_equal(profile_parse(&q, "mem", buf, len), 0);
    assert_int_equal(q.n, p.n);
    for (unsigned i = 0; i < p.n; i++) {
        assert_string_equal(q.line[i].key, p.line[i].key);
        assert_string_equal(q.line[i].value, p.line[i].value);
        assert_int_equal(q.line[i].nattr, p.line[i].nattr);
        for (unsigned a = 0; a < p.line[i].nattr; a++) {
            assert_string_equal(q.line[i].attr[a].name, p.line[i].attr[a].name);
            assert_string_equal(q.line[i].attr[a].value, p.line[i].attr[a].value);
        }
    }
    assert_string_equal(profile_line_attr(profile_find(&q, "cost.clock_ghz"), "note"), "tab here");
    assert_memory_equal(&q.cost, &p.cost, sizeof p.cost);
    free(buf);
    profile_free(&q);
    profile_free(&p);
}

static unsigned count_entries(const char *dir, const char *prefix)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    unsigned n = 0;
    for (struct dirent *e; (e = readdir(d));)
        n += !strncmp(e->d_name, prefix, strlen(prefix));
    closedir(d);
    return n;
}

/* Saving is atomic: the file appears whole or not at all. */
static void test_save(void **state)
{
    (void)state;
    char dir[] = "/tmp/memvirt-test-profile-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/host.profile", dir);
    struct profile p = { 0 };
    param_defaults(&cost_params, &p.cost);
    profile_add(&p, "cost.exit_fixed", "4242");
    p.cost.exit_fixed = 4242;
    assert_int_equal(profile_save(path, &p, "test"), 0);
    struct profile q;
    assert_int_equal(profile_load(&q, path), 0);
    assert_int_equal(q.cost.exit_fixed, 4242);
    profile_free(&q);
    assert_int_equal(count_entries(dir, "host.profile"), 1);   /* no temporary left */
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0644);

    char bad[300];
    snprintf(bad, sizeof bad, "%s/missing/x.profile", dir);
    mv_error_quiet(1);
    assert_int_equal(profile_save(bad, &p, NULL), -1);
    assert_non_null(strstr(mv_last_error(), "missing/x.profile': cannot write: "));
    assert_int_equal(profile_load(&q, bad), -1);
    assert_non_null(strstr(mv_last_error(), "x.profile: cannot read profile: No such file or directory"));
    mv_error_quiet(0);
    unlink(path);
    rmdir(dir);
    profile_free(&p);
}

/* A comment is free text (calibrate's holds its command line, with any
 * bytes a file name may have): control bytes, which the loader refuses,
 * are written as spaces, and the file loads. */
static void test_save_comment_control_bytes(void **state)
{
    (void)state;
    char path[64];
    tu_tmpname(path, sizeof path, "profile");
    struct profile p = { 0 };
    param_defaults(&cost_params, &p.cost);
    assert_int_equal(profile_save(path, &p, "memvirt calibrate -o a\x01" "b\r\nnext\tline\x1b[0m\x7f"), 0);
    struct profile q;
    assert_int_equal(profile_load(&q, path), 0);
    profile_free(&q);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[128];
    assert_non_null(fgets(line, sizeof line, f));
    assert_string_equal(line, "# memvirt calibrate -o a b \n");
    assert_non_null(fgets(line, sizeof line, f));
    assert_string_equal(line, "# next line [0m \n");
    fclose(f);
    unlink(path);
}

/* A write that fails (a full disk; here a file-size limit, EFBIG, with
 * SIGXFSZ ignored) names the file and the system's reason, and leaves the
 * old profile and no temporary file. */
static void test_save_write_fails(void **state)
{
    (void)state;
    char dir[] = "/tmp/memvirt-test-profile-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/full.profile", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("old\n", f);
    fclose(f);
    struct profile p = { 0 };
    param_defaults(&cost_params, &p.cost);
    char comment[9000];   /* more than a stdio buffer: the failure comes while writing */
    memset(comment, 'x', sizeof comment - 1);
    comment[sizeof comment - 1] = 0;
    struct rlimit old, lim = { 1024, 1024 };
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
    lim.rlim_max = old.rlim_max;
    void (*was)(int) = signal(SIGXFSZ, SIG_IGN);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    mv_error_quiet(1);
    int rc = profile_save(path, &p, comment);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
    signal(SIGXFSZ, was);
    assert_int_equal(rc, -1);
    char want[300];
    snprintf(want, sizeof want, "-o '%s': cannot write: %s", path, strerror(EFBIG));
    assert_string_equal(mv_last_error(), want);
    mv_error_quiet(0);
    char buf[8] = "";
    f = fopen(path, "r");
    assert_non_null(f);
    assert_non_null(fgets(buf, sizeof buf, f));
    fclose(f);
    assert_string_equal(buf, "old\n");
    assert_int_equal(count_entries(dir, ""), 3);   /* ., .. and the profile */
    unlink(path);
    rmdir(dir);
    profile_free(&p);
}

/* --profile: built-in names first, then files; an unknown name says both. */
static void test_config_profile(void **state)
{
    (void)state;
    char path[64];
    tu_tmpname(path, sizeof path, "profile");
    FILE *f = fopen(path, "w");
    fputs("memvirt-cost-profile 1\ncost.vm_exit = 7777\n", f);
    fclose(f);
    struct sim_config cfg;
    assert_int_equal(config_init(&cfg, "lmbench"), 0);
    assert_int_equal(config_profile(&cfg, path), 0);
    assert_int_equal(cfg.cost.vm_exit, 7777);
    assert_string_equal(cfg.profile, path);
    assert_int_equal(config_param(&cfg, "cost.vm_exit=5"), 0);   /* --param still wins */
    assert_int_equal(cfg.cost.vm_exit, 5);
    assert_int_equal(config_profile(&cfg, "nested"), 0);
    assert_int_equal(cfg.cost.vm_exit, 18890);
    mv_error_quiet(1);
    assert_int_equal(config_profile(&cfg, "/nonexistent/x.profile"), -1);
    assert_string_equal(mv_last_error(), "--profile: '/nonexistent/x.profile' is neither a built-in profile "
                                         "(default, nested, enlightened) nor a profile file");
    f = fopen(path, "w");
    fputs("memvirt-cost-profile 1\ncost.vm_exit = lots\n", f);
    fclose(f);
    assert_int_equal(config_profile(&cfg, path), -1);
    char want[256];
    snprintf(want, sizeof want, "%s:2:16: cost.vm_exit: malformed value 'lots' (expected a decimal integer such as 12 or 4K)", path);
    assert_string_equal(mv_last_error(), want);
    mv_error_quiet(0);
    config_free(&cfg);
    unlink(path);
}

static void run_with(const char *wl, const char *profile_text, const char *const *params, struct run_result *r)
{
    char path[64];
    tu_tmpname(path, sizeof path, "profile");
    FILE *f = fopen(path, "w");
    fputs(profile_text, f);
    fclose(f);
    struct sim_config cfg;
    assert_int_equal(config_init(&cfg, wl), 0);
    cfg.quiet = 1;
    assert_int_equal(config_profile(&cfg, path), 0);
    for (unsigned i = 0; params[i]; i++)
        assert_int_equal(config_param(&cfg, params[i]), 0);
    assert_int_equal(engine_run(&cfg, mode_find("native"), r), 0);
    config_free(&cfg);
    unlink(path);
}

/* A profile changes results exactly as its entries say: fork_fixed adds to
 * every operation that forks, exec_fixed once per exec; the clock rate
 * scales time and leaves cycles alone; walk costs move the walk bucket by
 * the walks' references times the change. */
static void test_profile_changes_results(void **state)
{
    (void)state;
    const char *const lm[] = { "lmbench.iterations=20", "lmbench.warmup=2", NULL };
    struct run_result a, b, c;
    run_with("lmbench", "memvirt-cost-profile 1\n", lm, &a);
    run_with("lmbench", "memvirt-cost-profile 1\ncost.fork_fixed = 84000\ncost.exec_fixed = 174000\n", lm, &b);
    run_with("lmbench", "memvirt-cost-profile 1\ncost.clock_ghz = 4.8\n", lm, &c);
    const double us = 1.0 / 2400.0;   /* one cycle at the default 2.4 GHz, in µs */
    assert_true(fabs(tu_metric(&b, "lat_fork_exit_us") - tu_metric(&a, "lat_fork_exit_us") - 24000 * us) < 1e-6);
    assert_true(fabs(tu_metric(&b, "lat_fork_execve_us") - tu_metric(&a, "lat_fork_execve_us") - 48000 * us) < 1e-6);
    assert_true(fabs(tu_metric(&b, "lat_fork_sh_us") - tu_metric(&a, "lat_fork_sh_us") - 72000 * us) < 1e-6);
    assert_int_equal(c.st.now, a.st.now);
    assert_true(fabs(tu_metric(&c, "lat_fork_exit_us") * 2 - tu_metric(&a, "lat_fork_exit_us")) < 1e-9);
    assert_true(fabs(c.sim_seconds * 2 - a.sim_seconds) < 1e-12);
    run_result_free(&a);
    run_result_free(&b);
    run_result_free(&c);

    const char *const mw[] = { "memwalk.ws_mb=64", "memwalk.refs=200000", NULL };
    run_with("memwalk", "memvirt-cost-profile 1\n", mw, &a);
    run_with("memwalk", "memvirt-cost-profile 1\ncost.walk_ref_miss = 160\ncost.walk_start = 30\n", mw, &b);
    const uint64_t *n = a.st.cnt;
    assert_true(n[CNT_walk_cache_miss] > 0 && n[CNT_tlb_miss] > 0);
    assert_memory_equal(a.st.cnt, b.st.cnt, sizeof a.st.cnt);   /* counts do not depend on costs */
    /* walk_ref_miss +100 per reference that missed; walk_start +20 per walk */
    uint64_t extra = b.st.cyc[CYC_walk] - a.st.cyc[CYC_walk] - n[CNT_walk_cache_miss] * 100;
    assert_int_equal(extra % 20, 0);
    assert_true(extra / 20 >= n[CNT_tlb_miss]);
    assert_int_equal(b.st.cyc[CYC_fault], a.st.cyc[CYC_fault]);
    run_result_free(&a);
    run_result_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_valid),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_save),
        cmocka_unit_test(test_save_write_fails),
        cmocka_unit_test(test_save_comment_control_bytes),
        cmocka_unit_test(test_config_profile),
        cmocka_unit_test(test_profile_changes_results),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

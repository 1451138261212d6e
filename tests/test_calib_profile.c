/* test_calib_profile.c: the profile calibrate writes (calib_write_profile in
 * src/calib/calibrate.c), without timing anything: every entry of the cost
 * registry appears in it, measured ones as cost.NAME lines, the others only
 * as comments (so a later change of a compiled default reaches runs under
 * the profile); and the loader ignores a status=default line that still
 * carries a value (an old profile), applying the compiled default. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "calib/calib.h"
#include "lib/err.h"
#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char *buf = NULL;
    size_t cap = 0;
    ssize_t n = getdelim(&buf, &cap, 0, f);
    assert_true(n > 0);
    fclose(f);
    return buf;
}

/* A line of text that starts (after "# " if commented) with "cost.NAME = ". */
static int has_entry(const char *text, const char *name, int commented)
{
    char want[128];
    snprintf(want, sizeof want, "%scost.%s = ", commented ? "# " : "", name);
    for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
        if (!strncmp(l, want, strlen(want)))
            return 1;
    return 0;
}

static void test_every_entry_written(void **state)
{
    (void)state;
    char path[] = "/tmp/memvirt-test-calib-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    struct cost cost;
    param_defaults(&cost_params, &cost);
    struct calib_entry *rec = calloc(cost_params.n, sizeof *rec);
    /* one measured entry, one fitted; the rest not measured */
    const struct param_def *sc = param_find(&cost_params, "syscall"), *ff = param_find(&cost_params, "fork_fixed");
    rec[sc - cost_params.defs] = (struct calib_entry){ .status = "measured", .cycles = 777, .lo = 770, .hi = 790,
                                                       .ns = 300, .reps = 5, .method = "test" };
    rec[ff - cost_params.defs] = (struct calib_entry){ .status = "fitted", .cycles = 1234, .method = "test" };
    cost.syscall = 777;
    cost.fork_fixed = 1234;
    snprintf(rec[param_find(&cost_params, "vm_exit") - cost_params.defs].note, PROFILE_VALUE_MAX, "no guest here");
    struct profile out = { 0 };
    profile_add(&out, "host.cpu", "test");
    assert_int_equal(calib_write_profile(path, &out, &cost, rec, "test header\n"), 0);
    char *text = slurp(path);
    for (size_t i = 0; i < cost_params.n; i++) {   /* every entry of the registry, once */
        const char *n = cost_params.defs[i].name;
        int live = has_entry(text, n, 0), comment = has_entry(text, n, 1);
        if (live + comment != 1)
            fail_msg("cost.%s: %d live, %d commented lines", n, live, comment);
        assert_int_equal(live, rec[i].status != NULL);
    }
    assert_non_null(strstr(text, "# cost.vm_exit = "));
    assert_non_null(strstr(text, "status=default (not measured; the compiled default applies): no guest here"));
    struct profile back;
    assert_int_equal(profile_load(&back, path), 0);
    assert_int_equal(back.cost.syscall, 777);
    assert_int_equal(back.cost.fork_fixed, 1234);
    assert_int_equal(back.n, 3);   /* host.cpu and the two cost lines */
    profile_free(&back);
    profile_free(&out);
    free(text);
    free(rec);
    unlink(path);
}

static struct calib_entry *entries_clock_measured(struct cost *cost)
{
    param_defaults(&cost_params, cost);
    struct calib_entry *rec = calloc(cost_params.n, sizeof *rec);
    rec[param_find(&cost_params, "clock_ghz") - cost_params.defs] =
        (struct calib_entry){ .status = "measured", .cycles = cost->clock_ghz, .method = "test" };
    return rec;
}

static int dir_entries(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    closedir(d);
    return n;
}

/* The header holds calibrate's command line, which may hold any byte of a
 * file name: a control byte is written as a space, and the profile loads
 * (it ran to the end, then refused its own file and left it there). */
static void test_header_control_bytes(void **state)
{
    (void)state;
    char dir[] = "/tmp/memvirt-test-calib-XXXXXX", path[64];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/a\x01" "b", dir);
    struct cost cost;
    struct calib_entry *rec = entries_clock_measured(&cost);
    struct profile out = { 0 };
    assert_int_equal(calib_write_profile(path, &out, &cost, rec, "memvirt calibrate -o a\x01" "b\n"), 0);
    profile_free(&out);
    struct profile back;
    assert_int_equal(profile_load(&back, path), 0);
    profile_free(&back);
    unlink(path);
    rmdir(dir);
    free(rec);
}

/* The written text is checked before it reaches the file: a profile that
 * would not load back (here a clock the format cannot hold) leaves nothing
 * behind, and an output that is not a regular file (a device, a FIFO: it
 * cannot be read back, or blocks) is refused with a message that says so. */
static void test_check_before_writing(void **state)
{
    (void)state;
    char dir[] = "/tmp/memvirt-test-calib-XXXXXX", path[64];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/nan.profile", dir);
    struct cost cost;
    struct calib_entry *rec = entries_clock_measured(&cost);
    cost.clock_ghz = NAN;
    struct profile out = { 0 };
    int q = mv_error_quiet(1);
    assert_int_equal(calib_write_profile(path, &out, &cost, rec, "test\n"), -1);
    assert_int_equal(dir_entries(dir), 0);
    param_defaults(&cost_params, &cost);
    profile_free(&out);   /* the call added its lines */
    assert_int_equal(calib_write_profile("/dev/null", &out, &cost, rec, "test\n"), -1);
    assert_non_null(strstr(mv_last_error(), "-o '/dev/null': not a regular file"));
    mv_error_quiet(q);
    profile_free(&out);
    rmdir(dir);
    free(rec);
}

/* An old profile's status=default line with a stale value: ignored, the
 * compiled default applies; a measured line next to it still loads. */
static void test_stale_default_ignored(void **state)
{
    (void)state;
    struct cost dflt;
    param_defaults(&cost_params, &dflt);
    char text[512];
    snprintf(text, sizeof text,
             "memvirt-cost-profile 1\n"
             "cost.pv_emulate = %llu status=default method=\"old\"\n"
             "cost.syscall = 999 status=measured\n",
             (unsigned long long)dflt.pv_emulate + 1000);
    struct profile p;
    int q = mv_error_quiet(1);
    assert_int_equal(profile_parse(&p, "old.profile", text, strlen(text)), 0);
    mv_error_quiet(q);
    assert_int_equal(p.cost.pv_emulate, dflt.pv_emulate);
    assert_int_equal(p.cost.syscall, 999);
    profile_free(&p);
    /* a malformed value is still an error, default or not */
    const char *bad = "memvirt-cost-profile 1\ncost.pv_emulate = x status=default\n";
    q = mv_error_quiet(1);
    assert_int_equal(profile_parse(&p, "bad.profile", bad, strlen(bad)), -1);
    mv_error_quiet(q);
    assert_non_null(strstr(mv_last_error(), "bad.profile:2:19"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_entry_written),
        cmocka_unit_test(test_stale_default_ignored),
        cmocka_unit_test(test_header_control_bytes),
        cmocka_unit_test(test_check_before_writing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

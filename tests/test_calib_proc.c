/* test_calib_proc.c: how calibrate runs the program it times (--hello,
 * src/calib/bench_proc.c). The figures are not checked, only that the
 * program asked for is what runs (its path is a path, never shell text),
 * with /dev/null as its input, that one that does not exit is killed, and
 * that the profile's notes say what kind of program it was. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "calib/calib.h"
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char dir[] = "/tmp/memvirt-test-calib-proc-XXXXXX";

/* Copy memvirt-hello (beside $MEMVIRT) to `to`, executable. */
static void copy_hello(const char *to)
{
    const char *mv = getenv("MEMVIRT");
    if (!mv)
        skip();
    char from[PATH_MAX], d[PATH_MAX];
    snprintf(d, sizeof d, "%s", mv);
    snprintf(from, sizeof from, "%s/memvirt-hello", dirname(d));
    int in = open(from, O_RDONLY), out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0755);
    assert_true(in >= 0 && out >= 0);
    char buf[65536];
    for (ssize_t n; (n = read(in, buf, sizeof buf)) > 0;)
        assert_int_equal(write(out, buf, (size_t)n), n);
    close(in);
    close(out);
}

static void run(const char *hello, unsigned limit_s, struct proc_result *pr)
{
    struct calib c = { .cpu = -1 };
    assert_int_equal(calib_init(&c, -1, 3), 0);
    c.hello = hello;
    if (limit_s)
        c.hello_limit_s = limit_s;
    bench_proc(&c, pr, 1);
}

/* /bin/sh ran the path as a command line: a space split it, and
 * `--hello "inj/h;touch INJECTED"` ran touch (and gave a figure). A bare
 * name is a file here, not a command to look up in PATH. */
static void test_hello_is_a_path(void **state)
{
    (void)state;
    char sub[256], hello[300];
    snprintf(sub, sizeof sub, "%s/dir with space", dir);
    assert_int_equal(mkdir(sub, 0755), 0);
    snprintf(hello, sizeof hello, "%s/h;touch INJECTED", sub);
    copy_hello(hello);
    assert_int_equal(chdir(sub), 0);
    struct proc_result pr;
    run(hello, 0, &pr);
    assert_true(pr.exec_ok && pr.sh_ok);
    run("h;touch INJECTED", 0, &pr);
    assert_true(pr.exec_ok && pr.sh_ok);
    assert_int_equal(access("INJECTED", F_OK), -1);
}

/* The program's standard input is /dev/null: /bin/cat as --hello read
 * calibrate's (a terminal, a pipe left open) and never exited. */
static void test_hello_stdin(void **state)
{
    (void)state;
    int p[2], saved = dup(0);
    assert_true(saved >= 0 && pipe(p) == 0);
    assert_int_equal(dup2(p[0], 0), 0);   /* a writer that never writes nor closes */
    struct proc_result pr;
    run("/bin/cat", 0, &pr);
    dup2(saved, 0);
    close(saved);
    close(p[0]);
    close(p[1]);
    assert_true(pr.exec_ok && pr.sh_ok && !pr.hung);
}

/* A program that does not exit is killed after the limit, and said so:
 * /usr/bin/yes as --hello held calibrate for ever. */
static void test_hello_time_limit(void **state)
{
    (void)state;
    if (access("/usr/bin/yes", X_OK))
        skip();
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    struct proc_result pr;
    run("/usr/bin/yes", 1, &pr);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    assert_true(pr.hung && !pr.exec_ok && !pr.sh_ok);
    assert_true(t1.tv_sec - t0.tv_sec < 20);   /* once: the repetitions do not wait again */
}

/* The notes named "the static memvirt-hello" whatever --hello ran. */
static void test_hello_described(void **state)
{
    (void)state;
    char hello[300], script[300], buf[512];
    snprintf(hello, sizeof hello, "%s/memvirt-hello", dir);
    copy_hello(hello);
    struct calib c = { .hello = hello };
    assert_int_equal(calib_hello_describe(&c, buf, sizeof buf), 0);
    assert_string_equal(buf, "the static memvirt-hello");
    c.hello_given = 1;
    assert_int_equal(calib_hello_describe(&c, buf, sizeof buf), 0);
    assert_non_null(strstr(buf, "--hello '"));
    assert_non_null(strstr(buf, "(a static ELF executable)"));

    c.hello = "/bin/sh";   /* Debian's dash: dynamically linked */
    assert_int_equal(calib_hello_describe(&c, buf, sizeof buf), 1);
    assert_non_null(strstr(buf, "--hello '/bin/sh' (a dynamically linked ELF executable)"));

    snprintf(script, sizeof script, "%s/script", dir);
    FILE *f = fopen(script, "w");
    assert_non_null(f);
    fputs("#!/bin/sh\nexit 0\n", f);
    fclose(f);
    c.hello = script;
    assert_int_equal(calib_hello_describe(&c, buf, sizeof buf), -1);
    assert_non_null(strstr(buf, "(not an ELF executable this can read)"));
    c.hello_given = 0;   /* a default that is not static is not called static */
    assert_int_equal(calib_hello_describe(&c, buf, sizeof buf), -1);
    assert_null(strstr(buf, "static"));
    unlink(script);
    unlink(hello);
}

int main(void)
{
    if (!mkdtemp(dir))
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hello_is_a_path),
        cmocka_unit_test(test_hello_stdin),
        cmocka_unit_test(test_hello_time_limit),
        cmocka_unit_test(test_hello_described),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    if (chdir(dir) == 0) {   /* what the tests made, failed or not */
        unlink("dir with space/INJECTED");
        unlink("dir with space/h;touch INJECTED");
        rmdir("dir with space");
    }
    rmdir(dir);
    return rc;
}

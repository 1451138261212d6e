/* test_progress.c: the progress display (sim/progress.c): the estimate of
 * the time left as it is written, no display where standard error is not
 * a terminal, and on a terminal (a pseudo-terminal put in place of
 * standard error) a line redrawn in place, cleared before a message so
 * that the message has a line of its own, cleared before a message that
 * ends the process and not drawn again, and cleared at the end. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "lib/err.h"
#include "sim/progress.h"
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

static void eta_is(double elapsed, double frac, const char *want)
{
    char buf[64];
    progress_eta(buf, sizeof buf, elapsed, frac);
    if (strcmp(buf, want))
        fail_msg("elapsed %g, done %g: '%s', expected '%s'", elapsed, frac, buf, want);
}

static void test_eta(void **state)
{
    (void)state;
    eta_is(10, 0, "");                    /* nothing done: no rate yet */
    eta_is(10, 1, "");                    /* all done */
    eta_is(0.5, 0.5, "");                 /* too early to say */
    eta_is(10, 0.5, "about 10s left");
    eta_is(100, 0.999, "under a second left");
    eta_is(10, 0.1, "about 1m30s left");
    eta_is(59.6, 0.5, "about 1m00s left");   /* rounds up to a minute, not "60s" */
    eta_is(3599.6, 0.5, "about 1h00m left");
    eta_is(3600, 0.5, "about 1h00m left");
    eta_is(86399, 0.5, "about 1d00h left");
    eta_is(3600, 0.01, "about 4d03h left");  /* 99 h */
    eta_is(1e9, 1e-9, "more than 999 days left");
    char small[8];
    progress_eta(small, sizeof small, 10, 0.1);   /* cut, terminated */
    assert_string_equal(small, "about 1");
}

/* Not a terminal (the test's stderr is a pipe or a file under ctest):
 * no display, and a NULL display takes every call. */
static void test_not_a_terminal(void **state)
{
    (void)state;
    const char *names[] = { "native" };
    int fd = open("/dev/null", O_WRONLY);
    assert_true(fd >= 0);
    int saved = dup(STDERR_FILENO);
    assert_true(saved >= 0);
    assert_int_equal(dup2(fd, STDERR_FILENO), STDERR_FILENO);
    struct progress *p = progress_start("memwalk", names, 1, 0);
    dup2(saved, STDERR_FILENO);
    close(saved);
    close(fd);
    assert_null(p);
    progress_set(NULL, 0, 0.5, 1, 2);
    progress_done(NULL, 0);
    progress_stop(NULL);
}

/* Read the pseudo-terminal's master into buf (from k) until needle is
 * found at or after buf + from, or 30 s pass: a loaded host may pause the
 * test or the display thread for a while, so nothing waits a fixed time. */
static size_t read_until(int master, char *buf, size_t n, size_t k, size_t from, const char *needle)
{
    for (int waited = 0; waited < 300; waited++) {
        buf[k] = '\0';
        if (strstr(buf + from, needle))
            break;
        struct pollfd pf = { master, POLLIN, 0 };
        if (k + 1 < n && poll(&pf, 1, 100) > 0) {
            ssize_t r = read(master, buf + k, n - 1 - k);
            if (r > 0)
                k += (size_t)r;
        }
    }
    buf[k] = '\0';
    return k;
}

static void test_on_a_terminal(void **state)
{
    (void)state;
    int master = posix_openpt(O_RDWR | O_NOCTTY);
    if (master < 0 || grantpt(master) || unlockpt(master))
        skip();   /* no pseudo-terminals here */
    int slave = open(ptsname(master), O_RDWR | O_NOCTTY);
    assert_true(slave >= 0);
    int saved = dup(STDERR_FILENO);
    assert_true(saved >= 0);
    fflush(stderr);
    assert_int_equal(dup2(slave, STDERR_FILENO), STDERR_FILENO);

    const char *names[] = { "native", "pv" };
    struct progress *quiet = progress_start("forkstorm", names, 2, 1);
    struct progress *p = progress_start("forkstorm", names, 2, 0);
    progress_set(p, 0, 0.5, 1.5, 1000);
    progress_set(p, 1, 0.25, 0.5, 10);
    char out[16384];
    /* the first line comes after a second */
    size_t k = read_until(master, out, sizeof out, 0, 0, "left\033[K");
    size_t before = k;
    mv_warn("a message while the line is up");
    k = read_until(master, out, sizeof out, k, before, "up\r\n");
    size_t after = k;
    k = read_until(master, out, sizeof out, k, after, "\rforkstorm  ");   /* redrawn below it */
    progress_done(p, 0);
    progress_stop(p);

    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    k = read_until(master, out, sizeof out, k, k, "\r\033[K");   /* the clear at the end */
    close(slave);
    close(master);

    assert_null(quiet);
    assert_non_null(p);
    /* (the terminal turns "\n" into "\r\n") */
    const char *line = strstr(out, "\rforkstorm  0 of 2 done  native 50%  pv 25%");
    if (!line)
        fail_msg("no progress line in: %s", out);
    assert_non_null(strstr(line, "left\033[K"));
    const char *msg = strstr(out, "memvirt: warning: a message while the line is up");
    assert_non_null(msg);
    assert_true(msg > line);
    /* the line was cleared just before the message */
    assert_true(msg - out >= 4);
    assert_memory_equal(msg - 4, "\r\033[K", 4);
    /* drawn again after it, and cleared at the end: the last bytes */
    assert_non_null(strstr(msg, "\rforkstorm  "));
    assert_true(k >= 4 && after <= k);
    assert_memory_equal(out + k - 4, "\r\033[K", 4);
}

/* A message that ends the process (mv_error_fatal, as an assertion, the
 * host's or the guest's out of memory call it): in a child whose standard
 * error is the terminal, the line is cleared before it and never drawn
 * again, though the display's thread runs on until the exit. how 0: the
 * call itself, then 700 ms before the exit; 1: a broken MV_ASSERT. */
static void fatal_message(int how)
{
    int master = posix_openpt(O_RDWR | O_NOCTTY);
    if (master < 0 || grantpt(master) || unlockpt(master))
        skip();
    int slave = open(ptsname(master), O_RDWR | O_NOCTTY);
    assert_true(slave >= 0);
    int go[2];
    assert_int_equal(pipe(go), 0);
    fflush(stderr);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        char b;
        struct rlimit none = { 0, 0 };
        setrlimit(RLIMIT_CORE, &none);   /* no core file from the abort */
        dup2(slave, STDERR_FILENO);
        const char *names[] = { "hap" };
        struct progress *p = progress_start("memwalk", names, 1, 0);
        progress_set(p, 0, 0.5, 1, 10);
        if (read(go[0], &b, 1) != 1)
            _exit(9);
        MV_ASSERT(how == 0, "the end");
        mv_error_fatal();
        fputs("memvirt: the end\n", stderr);
        usleep(700000);   /* the display would redraw within 250 ms */
        _exit(3);
    }
    close(go[0]);
    char out[16384];
    size_t k = read_until(master, out, sizeof out, 0, 0, "left\033[K");
    assert_int_equal(write(go[1], "x", 1), 1);
    size_t from = k;
    k = read_until(master, out, sizeof out, k, from, "the end\r\n");
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    close(slave);
    k = read_until(master, out, sizeof out, k, k, "(never)");   /* whatever came up to the exit */
    close(master);
    close(go[1]);
    if (how == 0)
        assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 3);
    else
        assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT);
    const char *line = strstr(out, "\rhap ");
    if (!line)
        fail_msg("no progress line in: %s", out);
    const char *msg = strstr(out, how == 0 ? "memvirt: the end" : "memvirt: internal invariant broken");
    if (!msg)
        fail_msg("no message in: %s", out);
    assert_true(msg - out >= 4);
    assert_memory_equal(msg - 4, "\r\033[K", 4);
    if (strstr(msg, "\rhap "))
        fail_msg("the line came back after the last message: %s", msg);
}

static void test_fatal_message(void **state)
{
    (void)state;
    fatal_message(0);
}

static void test_fatal_assertion(void **state)
{
    (void)state;
    fatal_message(1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_eta),
        cmocka_unit_test(test_not_a_terminal),
        cmocka_unit_test(test_on_a_terminal),
        cmocka_unit_test(test_fatal_message),
        cmocka_unit_test(test_fatal_assertion),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_calib_sched.c: the context-switch benchmark (src/calib/bench_sched.c)
 * leaves nothing behind when calibrate is killed in it. The figures are not
 * checked. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "calib/calib.h"
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

/* pid's first child, or 0 (/proc/PID/task/PID/children). */
static pid_t first_child(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int)pid, (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    int c = 0;
    if (fscanf(f, "%d", &c) != 1)
        c = 0;
    fclose(f);
    return c;
}

/* A TERM to calibrate while its echo child ran left that child blocked for
 * ever in a pipe read: it held the write end of its own input pipe. Here a
 * process runs the benchmark in a loop and is killed while a child exists;
 * as the subreaper we inherit any orphan, which must be gone soon. A few
 * times: the child may end on its own just before the TERM. */
static void test_term_leaves_no_child(void **state)
{
    (void)state;
    if (access("/proc/self/task", F_OK) || prctl(PR_SET_CHILD_SUBREAPER, 1))
        skip();
    int seen = 0;
    for (int round = 0; round < 5; round++) {
        pid_t cal = fork();
        assert_true(cal >= 0);
        if (cal == 0) {
            signal(SIGTERM, SIG_DFL);
            struct calib c = { .cpu = -1, .other_cpu = -1, .reps = 3, .tsc_ghz = 1 };
            struct sched_result r;
            for (;;)
                bench_sched(&c, &r);
        }
        pid_t echo = 0;
        for (int i = 0; i < 20000 && !echo; i++)   /* up to 2 s */
            if (!(echo = first_child(cal)))
                usleep(100);
        kill(cal, SIGTERM);
        assert_int_equal(waitpid(cal, NULL, 0), cal);
        if (!echo)
            continue;   /* no child seen: nothing to check this round */
        seen++;
        int left = 1;
        for (int i = 0; i < 500 && left; i++) {   /* up to 5 s */
            pid_t p = waitpid(-1, NULL, WNOHANG);
            if (p < 0 && errno == ECHILD)
                left = 0;
            else if (p == 0)
                usleep(10000);
        }
        if (left) {   /* clean up before failing */
            kill(echo, SIGKILL);
            while (waitpid(-1, NULL, 0) > 0)
                ;
        }
        assert_false(left);
    }
    assert_true(seen > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_term_leaves_no_child),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_reap.c: reaping a subreaper's children (lib/reap.c), as `trace
 * record` waits for perf: the child waited for keeps its exit status when
 * the wait for any orphan is the one that returns it (the recording used
 * to throw it away with the orphans' and then wait for it for ever); a
 * child that is no longer ours ends the wait; a running one does not. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include "lib/reap.h"

/* A child that exits with code, left a zombie (waited for without reaping). */
static pid_t zombie(int code)
{
    pid_t p = fork();
    if (p == 0)
        _exit(code);
    siginfo_t si;
    assert_int_equal(waitid(P_PID, (id_t)p, &si, WEXITED | WNOWAIT), 0);
    return p;
}

static void test_status_kept(void **state)
{
    (void)state;
    pid_t orphan = zombie(3), main_child = zombie(7), orphan2 = zombie(5);
    (void)orphan;
    (void)orphan2;
    int status = -1;
    assert_int_equal(reap_children(main_child, &status), 1);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 7);
    assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);          /* the orphans are reaped too */
    /* gone: nothing to wait for any more */
    assert_int_equal(reap_children(main_child, &status), 2);
}

static void test_running(void **state)
{
    (void)state;
    pid_t p = fork();
    if (p == 0) {
        pause();
        _exit(0);
    }
    int status = -1;
    assert_int_equal(reap_children(p, &status), 0);
    kill(p, SIGKILL);
    siginfo_t si;
    assert_int_equal(waitid(P_PID, (id_t)p, &si, WEXITED | WNOWAIT), 0);
    assert_int_equal(reap_children(p, &status), 1);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGKILL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status_kept),
        cmocka_unit_test(test_running),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

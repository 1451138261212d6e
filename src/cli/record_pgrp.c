/* record_pgrp.c: the recorded program's process group for `trace record`
 * (record_pgrp.h): its holder, a process of ours that leads the group and
 * tells a terminal's job-control signals (si_code SI_KERNEL, sent by the
 * tty driver to the foreground group) from the program's own (SI_USER,
 * kill(0, sig)); and the helper that moves the program into the group
 * before it execs, as a shell's job-control fork does. */
#define _GNU_SOURCE   /* pipe2 */
#include "cli/record_pgrp.h"
#include "cli/cli.h"
#include "lib/err.h"
#include "lib/outfile.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static int relay_fd = -1;        /* in the holder: where a terminal's signal is written */
static pid_t holder_parent;

static void holder_signal(int sig, siginfo_t *si, void *ctx)
{
    (void)ctx;
    if (si->si_code == SI_KERNEL) {             /* the terminal's */
        if (sig == SIGTSTP) {
            raise(SIGSTOP);                     /* for memvirt to see, and stop with the group */
        } else if (relay_fd >= 0) {
            unsigned char b = (unsigned char)sig;
            ssize_t n = write(relay_fd, &b, 1);
            (void)n;
        }
        return;
    }
    if (sig == SIGTERM && si->si_code == SI_USER && si->si_pid == holder_parent)
        _exit(0);                               /* record_pgrp_release */
}

static void holder(int fd, pid_t parent)
{
    relay_fd = fd;
    holder_parent = parent;
    prctl(PR_SET_PDEATHSIG, SIGKILL);          /* not left behind if memvirt dies */
    if (getppid() != parent)
        _exit(0);
    /* every signal that would end or stop it is ignored, but those it
     * tells apart by sender (ours: the terminal's, or memvirt's SIGTERM) */
    for (int sig = 1; sig < NSIG; sig++) {
        if (sig == SIGKILL || sig == SIGSTOP || sig == SIGCHLD || sig == SIGCONT)
            continue;
        struct sigaction sa = { 0 };
        sigemptyset(&sa.sa_mask);
        if (sig == SIGINT || sig == SIGQUIT || sig == SIGHUP || sig == SIGTSTP || sig == SIGTERM) {
            sa.sa_sigaction = holder_signal;
            sa.sa_flags = SA_SIGINFO;
        } else {
            sa.sa_handler = SIG_IGN;
        }
        sigaction(sig, &sa, NULL);
    }
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    for (;;)
        pause();
}

pid_t record_pgrp_hold(int relay, int *fd)
{
    int p[2] = { -1, -1 };
    *fd = -1;
    if (relay && pipe2(p, O_CLOEXEC | O_NONBLOCK))
        return mv_error("trace record: cannot make a pipe: %s", strerror(errno));
    /* no handler of ours may run in the holder before it has its own */
    sigset_t all, old;
    sigfillset(&all);
    sigprocmask(SIG_BLOCK, &all, &old);
    pid_t parent = getpid(), pid = fork();
    if (pid == 0) {
        setpgid(0, 0);
        if (p[0] >= 0)
            close(p[0]);
        holder(p[1], parent);
    }
    int e = errno;
    if (pid > 0)
        setpgid(pid, pid);                      /* whichever of us comes first */
    sigprocmask(SIG_SETMASK, &old, NULL);
    if (p[1] >= 0)
        close(p[1]);
    if (pid < 0) {
        if (p[0] >= 0)
            close(p[0]);
        return mv_error("trace record: cannot fork: %s", strerror(e));
    }
    *fd = p[0];
    return pid;
}

int record_pgrp_signal(int fd)
{
    unsigned char b;
    return fd >= 0 && read(fd, &b, 1) == 1 ? b : 0;
}

int record_pgrp_release(pid_t holder_pid, int fd)
{
    kill(holder_pid, SIGTERM);
    /* a terminal's signal still pending in the holder comes first (a lower
     * number), and is written before it exits */
    int st;
    while (waitpid(holder_pid, &st, 0) < 0 && errno == EINTR)
        ;
    int sig = 0, s;
    while ((s = record_pgrp_signal(fd)))
        sig = sig ? sig : s;
    if (fd >= 0)
        close(fd);
    return sig;
}

int record_pgrp_exec(int argc, char **argv)
{
    char *end;
    errno = 0;
    long g = argc >= 5 ? strtol(argv[2], &end, 10) : 0;
    if (argc < 5 || errno || *end || g <= 0 || strcmp(argv[3], "--")) {
        fprintf(stderr, "memvirt: trace record --exec-in-group PGID -- CMD ARGS: (memvirt's own, for record)\n");
        _exit(127);
    }
    if (setpgid(0, (pid_t)g)) {
        fprintf(stderr, "memvirt: trace record: cannot join the program's process group %ld: %s\n", g,
                strerror(errno));
        _exit(127);
    }
    outfile_exec_signals();
    execvp(argv[4], argv + 4);
    fprintf(stderr, "memvirt: trace record: cannot run %s: %s\n", argv[4], strerror(errno));
    _exit(127);   /* as a shell does; not exit(): no atexit handler of ours may run under strace */
}

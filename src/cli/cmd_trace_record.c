/* cmd_trace_record.c: `memvirt trace record [-o FILE] [--refs faults|all]
 * [--hold-ms N] [--sample N] [--window START:LEN] -- CMD ARGS...`: runs a
 * real program and every process it creates, and writes a memvirt trace.
 *
 * --refs faults (default) runs
 *   perf record -e page-faults -c 1 -d (+ the page-fault and memory syscall
 *   tracepoints, the task and mmap records) -- strace -f --seccomp-bpf
 *   -e inject=execve,exit_group:delay_enter=HOLD -- memvirt trace record
 *   --exec-in-group PGID -- CMD ARGS
 * perf gives the whole recording in one clock and one order; strace only
 * holds each process at execve and exit_group so that the /proc watcher
 * (trace/ptwatch.c) reads its VmPTE there. The holds are taken out of the
 * recorded time again (trace/import_perf.c).
 * --refs all runs CMD under valgrind's lackey (--trace-mem=yes
 * --trace-syscalls=yes --trace-children=yes), one log per process image,
 * with --sample / --window choosing which references to keep; the logs are
 * read one at a time (import_lackey.c), and one that cannot be is an error.
 *
 * The logs go to a temporary directory that is removed afterwards; the
 * trace appears under its name only once complete. A trace written to
 * standard output (-o /dev/stdout) has it to itself: the program's output
 * goes to standard error. The program runs in a process group apart from
 * the recorders' (record_pgrp.h: its own group signals do not stop them);
 * on a terminal, that group has it while the program runs (a Ctrl-C there
 * is an interrupt of the whole recording). Interrupted, it removes what it
 * wrote and stops the programs it started. The last line says how the
 * program ended; a recording cut short is an error.
 * The output may not be the program's own file. */
#include "cli/cli.h"
#include "cli/pyexec.h"
#include "cli/record_pgrp.h"
#include "lib/outfile.h"
#include "lib/err.h"
#include "lib/param.h"
#include "lib/reap.h"
#include "trace/format.h"
#include "trace/import.h"
#include "trace/ptwatch.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int cli_parse_window(const char *s, struct import_opts *o);

static const char *const perf_events[] = {
    "-e", "page-faults", "-c", "1", "-d",
    "-e", "exceptions:page_fault_user", "-e", "exceptions:page_fault_kernel",
    "-e", "syscalls:sys_enter_mmap,syscalls:sys_exit_mmap,syscalls:sys_enter_munmap,"
          "syscalls:sys_exit_munmap,syscalls:sys_enter_mprotect,syscalls:sys_exit_mprotect,"
          "syscalls:sys_enter_brk,syscalls:sys_exit_brk,syscalls:sys_enter_mremap,syscalls:sys_exit_mremap,"
          "syscalls:sys_enter_clone,syscalls:sys_enter_clone3,syscalls:sys_enter_vfork,"
          "syscalls:sys_enter_execve,syscalls:sys_exit_execve,syscalls:sys_enter_exit_group",
};

static void rm_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        char p[4200];
        while ((e = readdir(d)))
            if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
                snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
                unlink(p);
            }
        closedir(d);
    }
    rmdir(dir);
}

/* Could a recorder not write the whole of its log in dir? A file there as
 * large as the file-size limit (ulimit -f: perf and valgrind die of
 * SIGXFSZ at it), or dir's file system full (perf then ends with status
 * 255 and says nothing; valgrind drops the rest of its log, often at a
 * line's end, and goes on): the logs read as a program that never ran, a
 * malformed line or a shorter recording. Full is less than LOGS_ROOM left
 * by the end: valgrind's own temporary files there (each process's cmdline
 * and auxv, a block or two each) are gone, their room free again. A
 * heuristic both ways: a whole recording that leaves less is refused, and
 * a program of many processes under valgrind may free more (1 MiB refused
 * whole recordings on a small TMPDIR). 1 with the reason in why. */
#define LOGS_ROOM (64 * 1024)
static int logs_cut(const char *dir, char *why, size_t n)
{
    struct rlimit rl;
    int limited = !getrlimit(RLIMIT_FSIZE, &rl) && rl.rlim_cur != RLIM_INFINITY;
    DIR *d = limited ? opendir(dir) : NULL;
    struct dirent *e;
    int cut = 0;
    while (d && !cut && (e = readdir(d))) {
        char p[4200];
        struct stat st;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        if (!stat(p, &st) && S_ISREG(st.st_mode) && (uint64_t)st.st_size >= (uint64_t)rl.rlim_cur)
            cut = snprintf(why, n, "the log '%s' reached the file-size limit (ulimit -f, %llu bytes): raise it",
                           e->d_name, (unsigned long long)rl.rlim_cur) > 0;
    }
    if (d)
        closedir(d);
    struct statvfs vs;
    if (cut || statvfs(dir, &vs))
        return cut;
    uint64_t blocks = geteuid() ? vs.f_bavail : vs.f_bfree;   /* root writes into the reserve */
    if (blocks < LOGS_ROOM / (vs.f_frsize ? vs.f_frsize : 1) || (vs.f_files && !vs.f_ffree))
        cut = snprintf(why, n, "the file system of '%s' is full (less than 64 KiB left), so the logs are "
                       "likely cut: give TMPDIR a place with room", dir) > 0;
    return cut;
}

/* The child strace of perf (the tracer to watch), once it exists. */
static pid_t find_tracer(pid_t perf)
{
    DIR *d = opendir("/proc");
    if (!d)
        return 0;
    struct dirent *e;
    pid_t found = 0;
    while (!found && (e = readdir(d))) {
        char path[300], buf[512];
        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
        int fd = open(path, O_RDONLY);
        if (fd < 0)
            continue;
        ssize_t n = read(fd, buf, sizeof buf - 1);
        close(fd);
        if (n <= 0)
            continue;
        buf[n] = 0;
        const char *rp = strrchr(buf, ')');
        int ppid;
        char st;
        if (rp && sscanf(rp + 1, " %c %d", &st, &ppid) == 2 && ppid == perf && strstr(buf, "(strace)"))
            found = (pid_t)atoi(e->d_name);
    }
    closedir(d);
    return found;
}

/* The terminal's foreground group to pgrp (SIGTTOU blocked: we may be in
 * the background of it by then). */
static void give_terminal(pid_t pgrp)
{
    sigset_t ttou, old;
    sigemptyset(&ttou);
    sigaddset(&ttou, SIGTTOU);
    sigprocmask(SIG_BLOCK, &ttou, &old);
    tcsetpgrp(STDIN_FILENO, pgrp);
    sigprocmask(SIG_SETMASK, &old, NULL);
}

/* Run argv: in a process group of its own (the recorders, perf with strace:
 * the program joins group prog through record_pgrp_exec), or in prog
 * itself (in_prog: valgrind, which is the program). Poll w (if any) until
 * it ends, reaping the orphans that come to us as subreaper on the way
 * (reap_children keeps the status of argv's own process if one of those
 * waits returns it). An interrupt (the handler has killed both groups), or
 * one from the terminal that the holder of prog passed on, ends the wait
 * too. 0 with its wait status in *wstatus, or -1 if it could not run.
 * With out_on_stdout, the child's standard output is our standard error.
 * watch_ns: the interval between polls of /proc (0: no watching). tty:
 * prog has the terminal (we are in its foreground). The holder of prog
 * is released (reaped) here. */
static int run_tool(char *const *argv, const char *tmp_path, const char *logdir, struct ptwatch **w, long watch_ns,
                    int out_on_stdout, pid_t prog, int relay_fd, int in_prog, int tty, int *wstatus)
{
    pid_t pid = fork();
    if (pid < 0) {
        record_pgrp_release(prog, relay_fd);
        if (tty)
            give_terminal(getpgrp());
        return mv_error("trace record: cannot fork: %s", strerror(errno));
    }
    if (pid == 0) {
        setpgid(0, in_prog ? prog : 0);
        /* our handlers back to the default (exec would do it, but a signal
         * before it would run them here); an ignored signal stays ignored */
        for (unsigned k = 0; k < outfile_nstop_sigs; k++) {
            struct sigaction old;
            if (!sigaction(outfile_stop_sigs[k], NULL, &old) && old.sa_handler != SIG_IGN)
                signal(outfile_stop_sigs[k], SIG_DFL);
        }
        outfile_exec_signals();
        if (out_on_stdout)
            dup2(STDERR_FILENO, STDOUT_FILENO);
        execvp(argv[0], argv);
        fprintf(stderr, "memvirt: trace record: cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    setpgid(pid, in_prog ? prog : pid);
    cli_guard_output(tmp_path, in_prog ? prog : pid);
    cli_guard_group(prog);
    pid_t tracer = 0;
    int status = 0, tsig = 0;
    for (;;) {
        if (tty) {
            /* Ctrl-Z stopped the program's group, which has the terminal
             * (its holder stops too): stop with it as a shell's job does
             * (we are the job the shell knows), and when the shell
             * continues us, hand the terminal back and continue the group.
             * (Where our group is orphaned, as under `script -c`, the
             * kernel drops our stop and the group goes on at once.)
             * Without this the terminal stayed with a stopped group and
             * record waited forever. */
            int st;
            if (waitpid(prog, &st, WNOHANG | WUNTRACED) == prog && WIFSTOPPED(st)) {
                give_terminal(getpgrp());
                raise(SIGTSTP);
                give_terminal(prog);
                kill(-prog, SIGCONT);
                continue;
            }
        }
        if ((tsig = record_pgrp_signal(relay_fd)))
            break;
        if (reap_children(pid, &status) || cli_interrupted())
            break;
        if (watch_ns) {
            if (!tracer && (tracer = find_tracer(pid)))
                *w = ptwatch_new(tracer);
            if (*w)
                ptwatch_poll(*w);
        }
        struct timespec ts = { 0, watch_ns ? watch_ns : 5000000 };
        nanosleep(&ts, NULL);
    }
    /* Ctrl-C, Ctrl-\ or a hangup from the terminal went to the program's
     * group (and its holder passed it on): we were interrupted as much as
     * it was, the recorders too */
    int late = record_pgrp_release(prog, relay_fd);
    tsig = tsig ? tsig : late;
    if (tsig && !cli_interrupted()) {
        kill(-prog, SIGKILL);
        kill(in_prog ? -prog : -pid, SIGKILL);
        cli_interrupt(tsig);
    }
    /* interrupted: the recorder was killed (SIGKILL to its group, by the
     * handler or just above); wait until it is gone, so that nothing of it
     * still writes into the log directory the caller removes */
    if (cli_interrupted()) {
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
            ;
        /* and the rest of its killed group that came to us as subreaper
         * (valgrind's traced children), for up to a second: a log of theirs
         * written late kept the directory from going */
        for (int k = 0; k < 200; k++) {
            pid_t r = waitpid(-1, NULL, WNOHANG);
            if (r < 0 && errno != EINTR)
                break;                     /* ECHILD: none left */
            if (r == 0) {
                struct timespec ts = { 0, 5000000 };
                nanosleep(&ts, NULL);
            }
        }
    }
    if (tty)
        give_terminal(getpgrp());
    if (logdir)
        cli_guard_dir(logdir);             /* the logs are whole: an interrupt from now on removes them */
    cli_guard_group(0);
    cli_guard_output(tmp_path, 0);
    *wstatus = status;
    return 0;
}

/* Print the errors deferred while the logs were imported; one naming a file
 * of the recorders' temporary directory, which is gone by the time it is
 * read, says how to keep it. */
static void say_errors(const char *tmpdir)
{
    char *m = mv_error_take();
    if (!m)
        return;
    const char *hint = getenv("MEMVIRT_KEEP_LOGS") ? ""
                     : " (the recorders' logs are removed: rerun with MEMVIRT_KEEP_LOGS=1 to keep them)";
    for (char *line = m, *nl; *line; line = nl + 1) {
        nl = strchr(line, '\n');
        if (!nl)
            nl = line + strlen(line);
        char c = *nl;
        *nl = 0;
        fprintf(stderr, "%s%s\n", line, strstr(line, tmpdir) ? hint : "");
        if (!c)
            break;
    }
    free(m);
}

/* How the recorded program ended, from the recorder's wait status ws and
 * (perf) what the recording holds of it: into end ("" for exit status 0,
 * else " (the program exited with status N)" or "... was killed by signal
 * N (NAME)"). A recording cut short fails: the program's exit never
 * recorded (perf stopped before it); perf killed by a signal while some of
 * the program's processes still ran (left: those the builder ended), or
 * after the program exited by itself; perf ending with a status other
 * than the program's. 0, or -1 after mv_error. */
static int program_end(const struct import_stats *st, uint64_t left, int ws, int all, char *end, size_t n)
{
    int sig = WIFSIGNALED(ws) ? WTERMSIG(ws) : 0, code = WIFEXITED(ws) ? WEXITSTATUS(ws) : -1;
    char rec[96];
    if (sig)
        snprintf(rec, sizeof rec, "killed by signal %d (%s)", sig, strsignal(sig));
    else
        snprintf(rec, sizeof rec, "exit status %d", code);
    if (!all) {
        if (!st->prog_exited)
            return mv_error("trace record: the recording ended before the program did (perf: %s): nothing written",
                            rec);
        if (sig && left)
            return mv_error("trace record: perf was %s while %llu of the program's processes still ran: the "
                            "recording is cut short: nothing written", rec, (unsigned long long)left);
        if (st->prog_code_seen && (sig || code != st->prog_code))
            return mv_error("trace record: perf ended with %s, the program with exit status %d: the recording "
                            "may be cut short: nothing written", rec, st->prog_code);
        if (st->prog_code_seen)
            code = st->prog_code;
        else if (!sig && code > 128)               /* strace's own, where its raise() did not end it */
            sig = code - 128;
    }
    if (sig)
        snprintf(end, n, " (the program was killed by signal %d, %s)", sig, strsignal(sig));
    else if (code)
        snprintf(end, n, " (the program exited with status %d)", code);
    else
        end[0] = 0;
    return 0;
}

static char *join(char *const *argv)
{
    size_t n = 1;
    for (char *const *a = argv; *a; a++)
        n += strlen(*a) + 1;
    char *s = mv_calloc(1, n), *p = s;
    for (char *const *a = argv; *a; a++)
        p += sprintf(p, "%s%s", a == argv ? "" : " ", *a);
    return s;
}

/* Why execvp could not run name (prog: cli_find_program's answer), or
 * NULL if it can. */
static const char *program_unrunnable(const char *prog)
{
    if (!prog)
        return "no such program in PATH (give its path if it is not on it)";
    struct stat st;
    if (stat(prog, &st))
        return strerror(errno);
    if (S_ISDIR(st.st_mode))
        return "it is a directory";
    if (!S_ISREG(st.st_mode))
        return "it is not a regular file";
    if (access(prog, X_OK))
        return "it is not executable";
    return NULL;
}

int cmd_trace_record(int argc, char **argv)
{
    const char *out = NULL, *refs = "faults";
    uint64_t hold_ms = 20;
    struct import_opts o = { .sample = 1 };
    if (argc > 1 && !strcmp(argv[1], "--exec-in-group"))   /* record's own helper, run by strace */
        return record_pgrp_exec(argc, argv);
    const char *sampling = NULL;          /* --sample or --window, given */
    const char *refs_arg = NULL, *hold_arg = NULL, *sample_arg = NULL, *window_arg = NULL;
    int i = 1;
    for (; i < argc && strcmp(argv[i], "--"); i++) {
        const char *a = argv[i];
        int more = i + 1 < argc;
        /* an option that takes one value, given again: only with the same value */
        const char **once = !more ? NULL : !strcmp(a, "--refs") ? &refs_arg : !strcmp(a, "--hold-ms") ? &hold_arg
                          : !strcmp(a, "--sample") ? &sample_arg : !strcmp(a, "--window") ? &window_arg : NULL;
        if (once && cli_set_once("trace record", a, once, argv[i + 1]))
            return EXIT_USAGE;
        int takes_value = !strcmp(a, "-o") || !strcmp(a, "--refs") || !strcmp(a, "--hold-ms") ||
                          !strcmp(a, "--sample") || !strcmp(a, "--window");
        if (takes_value && (!more || !strcmp(argv[i + 1], "--")))
            return mv_error("trace record: %s needs a value (memvirt trace record --help)", a), EXIT_USAGE;
        if (!strcmp(a, "-o") && more) {
            if (out)
                return mv_error("trace record: -o given twice ('%s' and '%s'): one trace per recording", out,
                                argv[i + 1]), EXIT_USAGE;
            out = argv[++i];
        } else if (!strcmp(a, "--refs") && more) {
            refs = argv[++i];
            if (strcmp(refs, "faults") && strcmp(refs, "all"))
                return mv_error("trace record: --refs takes faults or all, not '%s'", refs), EXIT_USAGE;
        } else if (!strcmp(a, "--hold-ms") && more) {
            if (param_parse_u64(argv[++i], &hold_ms) || !hold_ms || hold_ms > 10000)
                return mv_error("--hold-ms '%s': expected 1 to 10000", argv[i]), EXIT_USAGE;
        } else if (!strcmp(a, "--sample") && more) {
            sampling = a;
            if (param_parse_u64(argv[++i], &o.sample) || !o.sample)
                return mv_error("--sample '%s': expected a positive integer", argv[i]), EXIT_USAGE;
        } else if (!strcmp(a, "--window") && more) {
            sampling = a;
            if (cli_parse_window(argv[++i], &o))
                return EXIT_USAGE;
        } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs("usage: memvirt trace record [-o FILE] [--refs faults|all] [options] -- CMD ARGS...\n"
                  "Runs CMD under perf and strace (docs/traces.md) and writes its trace.\n\n"
                  "  -o FILE              the trace to write (default: memvirt.mvt); written only whole\n"
                  "  --refs faults|all    faults: page faults and the kernel's exec layouts (default);\n"
                  "                       all: every reference, through valgrind's lackey (slow)\n"
                  "  --hold-ms N          hold each process this long at execve and exit to read its\n"
                  "                       page-table size (VmPTE) (default: 20; 1 to 10000)\n"
                  "  --sample N           --refs all: keep every Nth reference (default: 1)\n"
                  "  --window START:LEN   --refs all: keep LEN references from the START-th\n"
                  "  --help               this text\n\n", stdout);
            /* its own statuses: no run, so none of a run's failures */
            fputs("exit status:\n"
                  "  0  the trace was written (whatever the program's own exit status: the last line\n"
                  "     says it)\n"
                  "  1  the recording failed, nothing written: the program never ran, a recorder\n"
                  "     failed or recorded nothing, the recording was cut short, the trace could not\n"
                  "     be written, the host out of memory or of open files\n"
                  "  2  bad input: one 'memvirt: ...' line names it (an option, a program that cannot\n"
                  "     be run, an output that cannot be written); nothing is run or written\n"
                  "  128+N  interrupted by signal N (130: Ctrl-C), the program stopped and nothing\n"
                  "     left behind\n", stdout);
            fputs("\nexample:\n  memvirt trace record -o ls.mvt -- ls -l /\n", stdout);
            return EXIT_OK;
        } else {
            return mv_error("trace record: unknown option '%s' (the program goes after --)", a), EXIT_USAGE;
        }
    }
    if (i + 1 >= argc)
        return mv_error("trace record: no program given (memvirt trace record [options] -- CMD ARGS...)"),
               EXIT_USAGE;
    char *const *cmd = argv + i + 1;
    if (cmd[0][0] == '-')
        return mv_error("trace record: the program '%s' starts with '-': valgrind, perf or strace would take it "
                        "as an option of theirs (a file of that name: give its path, ./%s)", cmd[0], cmd[0]),
               EXIT_USAGE;
    if (!out)
        out = "memvirt.mvt";
    if (!*out)
        return mv_error("trace record: -o '': an empty file name (give a file name, or /dev/stdout to send the "
                        "trace down a pipe)"), EXIT_USAGE;
    int all = !strcmp(refs, "all");
    if (sampling && !all)
        return mv_error("trace record: %s chooses among every reference: it goes with --refs all, not --refs %s",
                        sampling, refs), EXIT_USAGE;

    /* The output first: a trace that cannot be written is known before the
     * program runs. The header says what is recorded, and when it started. */
    struct utsname u;
    uname(&u);
    char *command = join(cmd), kernel[600], when[64];
    snprintf(kernel, sizeof kernel, "%s %s %s %s", u.sysname, u.release, u.version, u.machine);
    time_t now = time(NULL);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    /* this kernel's vm.mmap_min_addr: the calls it refused never succeed in
     * the logs, and those below Debian's 65536 it allowed are kept */
    uint64_t min_addr = TRACE_MMAP_MIN_ADDR;
    char min_addr_s[32];
    FILE *mf = fopen("/proc/sys/vm/mmap_min_addr", "r");
    unsigned long long v;
    if (mf && fscanf(mf, "%llu", &v) == 1 && v <= TRACE_MMAP_MIN_ADDR_MAX)   /* as the reader takes it */
        min_addr = v;
    if (mf)
        fclose(mf);
    snprintf(min_addr_s, sizeof min_addr_s, "%llu", (unsigned long long)min_addr);
    const char *keys[] = { "command", "host", "kernel", "refs", "recorder", "recorded", "mmap_min_addr" };
    const char *vals[] = { command, u.nodename, kernel, refs,
                           all ? "valgrind lackey (--trace-mem=yes --trace-syscalls=yes)"
                               : "perf record (page faults, mmap and task records, memory syscalls) + strace holds",
                           when, min_addr_s };
    if (!strcmp(out, "-")) {
        free(command);
        return mv_error("trace record: -o '-': a trace is binary: give it a file name (or /dev/stdout to send "
                        "it down a pipe)"), EXIT_USAGE;
    }
    /* A program that cannot be run is bad input, known before any recorder
     * starts: as execvp would find it (a path as given, else along PATH). */
    char *prog = cli_find_program(cmd[0]);   /* an input: -o must not overwrite it */
    const char *why = program_unrunnable(prog);
    if (why) {
        free(command);
        free(prog);
        return mv_error("trace record: cannot run '%s': %s", cmd[0], why), EXIT_USAGE;
    }
    struct outset set = { 0 };
    int clash = prog && outset_input(&set, "the program", prog);
    /* nor the file the program reads as its standard input (-- sort <data) */
    struct stat in;
    if (!clash && !fstat(STDIN_FILENO, &in) && S_ISREG(in.st_mode))
        clash = outset_input(&set, "the program's standard input", "/dev/stdin");
    /* nor the recorders it runs (memvirt itself, strace's helper, every set refuses) */
    const char *recorders[] = { all ? "valgrind" : "perf", all ? NULL : "strace" };
    const char *missing = NULL;   /* a recorder not on PATH: said after the bad input */
    for (unsigned k = 0; k < 2 && !clash; k++) {
        char *r = recorders[k] ? cli_find_program(recorders[k]) : NULL;
        if (!r && recorders[k] && !missing)
            missing = recorders[k];
        clash = r && outset_input(&set, "the recorder", r);
        free(r);
    }
    /* its messages and the program's output go to standard error: not
     * into the trace (-o /dev/stderr, /dev/stdout 2>&1) */
    int refused = clash || outset_add(&set, "-o", out) ||
                  outset_stderr_shared(&set, "memvirt's messages and the program's output") ||
                  outset_refuse_terminal(&set, "a trace");
    if (!refused && missing)   /* the host's: neither the command's fault nor the program's */
        mv_error("trace record: cannot run %s: no such program in PATH (scripts/setup installs Debian's %s)",
                 missing, !strcmp(missing, "perf") ? "linux-perf" : missing);
    if (refused || missing) {
        free(command);
        outset_free(&set);
        free(prog);
        return refused ? EXIT_USAGE : EXIT_FAIL;
    }
    struct trace_writer *tw = trace_writer_open_set(&set, 0, keys, vals, 7);
    free(command);
    if (!tw) {
        outset_free(&set);
        free(prog);
        return EXIT_FAIL;
    }
    /* the trace goes to standard output (-o /dev/stdout into a pipe): the
     * program's and the recorders' own output goes to standard error */
    int out_on_stdout = outset_uses_stdout(&set);
    cli_guard_output(trace_writer_tmp_path(tw), 0);   /* an interrupt from here on removes it */

    char dir[] = "/tmp/memvirt-record.XXXXXX";
    const char *td = getenv("TMPDIR");
    char dirbuf[4096];
    snprintf(dirbuf, sizeof dirbuf, "%s/memvirt-record.XXXXXX", td && *td ? td : "/tmp");
    char *tmpdir = mkdtemp(dirbuf);
    if (!tmpdir)
        tmpdir = mkdtemp(dir);
    if (!tmpdir) {
        cli_guard_output(NULL, 0);
        trace_writer_abort(tw);
        outset_free(&set);
        free(prog);
        return mv_error("trace record: cannot create a temporary directory: %s", strerror(errno)), EXIT_FAIL;
    }
    if (!getenv("MEMVIRT_KEEP_LOGS"))
        cli_guard_dir(tmpdir);
    prctl(PR_SET_CHILD_SUBREAPER, 1);

    /* Run the program under the recorders: the program in a process group
     * of its own (record_pgrp.h), held from before it starts; on the
     * terminal, in the foreground, that group has the terminal while it
     * runs (one that reads it was stopped by SIGTTIN in the background,
     * and record waited forever), and we take it back after. */
    int tty = isatty(STDIN_FILENO) && tcgetpgrp(STDIN_FILENO) == getpgrp();
    int relay_fd = -1;
    pid_t holder = record_pgrp_hold(tty, &relay_fd);
    char self[4096], group[32];
    ssize_t sl = all ? 0 : readlink("/proc/self/exe", self, sizeof self - 1);
    if (holder > 0 && (sl < 0 || sl >= (ssize_t)sizeof self - 1)) {
        mv_error("trace record: cannot find memvirt's own binary (/proc/self/exe): %s",
                 sl < 0 ? strerror(errno) : "its path is too long");
        record_pgrp_release(holder, relay_fd);
        holder = -1;
    }
    if (holder < 0) {
        cli_guard_output(NULL, 0);
        trace_writer_abort(tw);
        outset_free(&set);
        free(prog);
        rm_dir(tmpdir);
        cli_guard_dir(NULL);
        return EXIT_FAIL;
    }
    self[sl > 0 ? sl : 0] = 0;
    snprintf(group, sizeof group, "%ld", (long)holder);
    if (tty)
        give_terminal(holder);
    char perfdata[4200], logpat[4200], hold[64];
    snprintf(perfdata, sizeof perfdata, "%s/perf.data", tmpdir);
    snprintf(logpat, sizeof logpat, "--log-file=%s/lackey.%%p.%%n", tmpdir);
    snprintf(hold, sizeof hold, "execve,exit_group:delay_enter=%llums", (unsigned long long)hold_ms);
    size_t ncmd = 0;
    while (cmd[ncmd])
        ncmd++;
    const char **av = mv_calloc(64 + ncmd, sizeof *av);
    size_t n = 0;
    char *inj = NULL;
    if (all) {
        /* not -q: the logs' "Command:" and "Parent PID:" lines tie the
         * process images together (import_lackey.c) */
        /* --vgdb=no: no gdbserver, so no vgdb FIFOs in TMPDIR, which a
         * valgrind killed by an interrupt left behind */
        const char *vg[] = { "valgrind", "--tool=lackey", "--vgdb=no", "--trace-mem=yes", "--trace-syscalls=yes",
                             "--trace-children=yes", logpat };
        for (size_t k = 0; k < sizeof vg / sizeof vg[0]; k++)
            av[n++] = vg[k];
    } else {
        const char *pre[] = { "perf", "record", "-q", "-B", "-N", "--no-bpf-event", "-m", "1024", "-o", perfdata };
        for (size_t k = 0; k < sizeof pre / sizeof pre[0]; k++)
            av[n++] = pre[k];
        for (size_t k = 0; k < sizeof perf_events / sizeof perf_events[0]; k++)
            av[n++] = perf_events[k];
        inj = mv_malloc(strlen(hold) + 16);
        sprintf(inj, "inject=%s", hold);
        /* strace starts memvirt's own helper, which joins the program's
         * group and execs the program (import_perf skips its image) */
        const char *st[] = { "--", "strace", "-f", "-qq", "--seccomp-bpf", "-o", "/dev/null",
                             "-e", "trace=execve,exit_group", "-e", inj, "--",
                             self, "trace", "record", "--exec-in-group", group, "--" };
        for (size_t k = 0; k < sizeof st / sizeof st[0]; k++)
            av[n++] = st[k];
    }
    for (size_t k = 0; k < ncmd; k++)
        av[n++] = cmd[k];
    struct ptwatch *w = NULL;
    /* A pass over /proc costs a scan of every process on the host: ten
     * passes to a hold see each one (every 0.5 ms, recording `sleep 5` took
     * 1.1 s of CPU, a fifth of a core the program runs beside) */
    long poll_ns = (long)(hold_ms * 100000);
    poll_ns = poll_ns < 500000 ? 500000 : poll_ns > 5000000 ? 5000000 : poll_ns;
    int wstatus = 0;
    int ran = run_tool((char *const *)av, trace_writer_tmp_path(tw), getenv("MEMVIRT_KEEP_LOGS") ? NULL : tmpdir, &w,
                       all ? 0 : poll_ns, out_on_stdout, holder, relay_fd, all, tty, &wstatus);
    /* the recorder's status: the program's as they pass it on (perf that
     * of strace, strace and valgrind that of the program) */
    int status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + (WIFSIGNALED(wstatus) ? WTERMSIG(wstatus) : 0);
    free(inj);
    free(av);
    int rc = EXIT_FAIL;
    if (cli_interrupted()) {
        ptwatch_free(w);
        cli_guard_output(NULL, 0);
        trace_writer_abort(tw);
        outset_free(&set);                 /* the output's temporary: the set owns it */
        rm_dir(tmpdir);
        cli_die_of_signal();
    }
    struct build *b = NULL;
    if (ran < 0) {
        mv_error("trace record: the recorder (%s) could not run '%s'", all ? "valgrind" : "perf and strace", cmd[0]);
        goto fail;
    }
    /* before the logs are read: cut, they would blame the program or a line */
    char cut[4400];
    if (logs_cut(tmpdir, cut, sizeof cut)) {
        mv_error("trace record: the recorders' logs were cut short, nothing written: %s", cut);
        goto fail;
    }

    /* Import what they wrote (an interrupt now removes the output's
     * temporary file and the recorders' logs: run_tool guarded both). The
     * errors wait for say_errors. */
    mv_error_defer(1);
    b = build_new(tw);
    build_set_mmap_min_addr(b, min_addr);
    struct import_stats st = { 0 };
    uint64_t matched = 0;                  /* images whose VmPTE was read */
    int irc = -1;
    if (all) {
        DIR *d = opendir(tmpdir);
        char **names = NULL;
        unsigned nf = 0;
        int bad = 0;
        struct dirent *e;
        if (!d)
            bad = mv_error("trace record: cannot read the logs' directory '%s': %s", tmpdir, strerror(errno));
        while (d && !bad && (e = readdir(d)))
            if (!strncmp(e->d_name, "lackey.", 7)) {
                names = mv_realloc(names, (nf + 1) * sizeof *names);
                names[nf] = mv_malloc(strlen(tmpdir) + strlen(e->d_name) + 2);
                sprintf(names[nf++], "%s/%s", tmpdir, e->d_name);
            }
        if (d)
            closedir(d);
        /* readdir's order is the file system's: sort for the same trace
         * from the same logs */
        for (unsigned x = 1; x < nf; x++)
            for (unsigned y = x; y > 0 && strcmp(names[y - 1], names[y]) > 0; y--) {
                char *tn = names[y];
                names[y] = names[y - 1];
                names[y - 1] = tn;
            }
        /* each log opened by the importer when its turn comes: one that
         * cannot be is an error (a process would be missing) */
        irc = bad ? -1 : nf ? import_lackey(b, NULL, (const char *const *)names, nf, &o, &st)
                 : mv_error("trace record: valgrind wrote no log (exit status %d; see its messages above)", status);
        for (unsigned k = 0; k < nf; k++)
            free(names[k]);
        free(names);
    } else {
        pid_t child = 0;
        FILE *f = access(perfdata, R_OK) ? NULL : import_open_perf(perfdata, &child);
        if (!f && access(perfdata, R_OK))
            mv_error("trace record: perf recorded nothing (exit status %d; see its messages above)", status);
        struct import_opts po = { .delay_ns = hold_ms * 1000000ull, .skip_root = 1, .helper_execs = 1 };
        if (f) {
            irc = import_perf(b, f, perfdata, &po, &st);
            if (import_close(f, child, perfdata, !irc))
                irc = -1;
        }
        uint64_t ns = 0;
        const struct ptsnap *s = w ? ptwatch_snaps(w, &ns) : NULL;
        for (uint64_t k = 0; k < ns && !irc; k++) {
            int m = build_ptinfo(b, s[k].pid, s[k].start_stack, s[k].at, s[k].bytes);
            if (m < 0)
                irc = -1;
            matched += m == 0;
        }
    }
    if (!irc)
        irc = build_finish(b);
    if (!irc && !build_execs(b))
        irc = mv_error("trace record: '%s' never ran: no process image was recorded (exit status %d; see the "
                       "messages above)", cmd[0], status);
    char end[128] = "";
    if (!irc)
        irc = program_end(&st, build_count(b, BC_LEFT_RUNNING), wstatus, all, end, sizeof end);
    mv_error_defer(0);
    say_errors(tmpdir);
    if (irc)
        goto fail;
    if (!all)
        fprintf(stderr, "memvirt: trace record: VmPTE read for %llu process images\n", (unsigned long long)matched);
    import_report(&st, stderr, "memvirt: trace record");
    import_warn_window(&st, &o, window_arg, "trace record");
    build_report(b, stderr, "memvirt: trace record");
    uint64_t nrec = trace_writer_count(tw);
    build_free(b);
    b = NULL;
    cli_guard_output(NULL, 0);
    int crc = trace_writer_commit(tw);
    tw = NULL;
    if (crc)
        goto out;
    fprintf(stderr, "memvirt: trace record: %llu records written to %s%s\n", (unsigned long long)nrec, out, end);
    rc = EXIT_OK;
    goto out;
fail:
    cli_guard_output(NULL, 0);
    trace_writer_abort(tw);
    build_free(b);
out:
    cli_guard_output(NULL, 0);
    ptwatch_free(w);
    if (getenv("MEMVIRT_KEEP_LOGS"))           /* debugging: keep the recorders' raw logs */
        fprintf(stderr, "memvirt: trace record: logs kept in %s\n", tmpdir);
    else
        rm_dir(tmpdir);
    cli_guard_dir(NULL);
    outset_free(&set);
    free(prog);
    return rc;
}

/* cmd_trace.c: `memvirt trace`: real programs as workloads.
 *
 *   memvirt trace record [-o FILE] [--refs faults|all] [options] -- CMD ARGS...
 *   memvirt trace import --from strace|perf|lackey FILE... [-o FILE] [options]
 *   memvirt trace info FILE
 *
 * Each action lives in its own file (cmd_trace_*.c); replay is
 * `memvirt run|compare --trace FILE`. */
#include "cli/cli.h"
#include "lib/err.h"
#include "lib/outfile.h"
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *f)
{
    fputs("usage: memvirt trace record [-o FILE] [--refs faults|all] [options] -- CMD ARGS...\n"
          "       memvirt trace import --from strace|perf|lackey FILE... [-o FILE] [options]\n"
          "       memvirt trace info FILE\n"
          "Real programs as workloads (docs/traces.md): record one under perf and strace (or\n"
          "valgrind's lackey for every reference), import their logs, show what a trace holds.\n"
          "Replay is a workload: memvirt run|compare --trace FILE. Each action explains its\n"
          "options with --help (memvirt trace record --help).\n\n", f);
    fputs(EXIT_STATUS_HELP, f);
    fputs("\nexample:\n"
          "  memvirt trace record -o true.mvt -- /bin/true\n"
          "  memvirt trace info true.mvt\n"
          "  memvirt compare --modes native,pv --trace true.mvt --check\n", f);
}

int cmd_trace(int argc, char **argv)
{
    if (argc < 2) {
        mv_error("trace: which action? record, import or info (see 'memvirt trace --help')");
        return EXIT_USAGE;
    }
    const char *act = argv[1];
    if (!strcmp(act, "-h") || !strcmp(act, "--help")) {
        usage(stdout);
        return EXIT_OK;
    }
    if (!strcmp(act, "record"))
        return cmd_trace_record(argc - 1, argv + 1);
    if (!strcmp(act, "import"))
        return cmd_trace_import(argc - 1, argv + 1);
    if (!strcmp(act, "info"))
        return cmd_trace_info(argc - 1, argv + 1);
    mv_error("trace: unknown action '%s' (record, import or info)", act);
    return EXIT_USAGE;
}

/* Interrupted (a signal of outfile_stop_sigs): while programs we started run,
 * stop them and let the caller clean up (cli_interrupted); otherwise
 * remove the half-written output and die of the same signal. Not only
 * SIGINT, SIGTERM and SIGHUP: lib/outfile removes its temporaries on the
 * others too, and record died of them with the recorders' logs left in
 * TMPDIR and the recorders and the program running on (a batch system's
 * SIGUSR1 or SIGXCPU). */
static const char *volatile guarded_path;
static volatile pid_t guarded_group;
static volatile pid_t guarded_group2;     /* the recorded program's, apart from the recorders' */
static volatile sig_atomic_t caught;
/* A directory to remove with its files (listed beforehand: the handler may
 * only unlink and rmdir, which are async-signal-safe). */
static char *volatile guarded_dir;
static char **volatile guarded_files;
static volatile unsigned nguarded_files;

static void on_signal(int sig)
{
    caught = sig;
    if (guarded_group2 > 0)
        kill(-guarded_group2, SIGKILL);
    if (guarded_group > 0) {
        kill(-guarded_group, SIGKILL);
        return;
    }
    if (guarded_path)
        unlink(guarded_path);
    outfile_unlink_temps();
    if (guarded_dir) {
        for (unsigned i = 0; i < nguarded_files; i++)
            unlink(guarded_files[i]);
        rmdir(guarded_dir);
    }
    signal(sig, SIG_DFL);
    raise(sig);
}

/* Not where the signal is ignored, as lib/outfile.c does: a signal memvirt
 * was started with ignored (nohup's SIGHUP, a background job's SIGINT)
 * stays ignored, for memvirt and for the programs it runs. Otherwise the
 * handler is the default or lib/outfile's own, which this one supersedes
 * (it unlinks the same temporaries). */
static void install(void)
{
    static int installed;
    if (!installed) {
        for (unsigned i = 0; i < outfile_nstop_sigs; i++) {
            struct sigaction old, sa = { 0 };
            sa.sa_handler = on_signal;
            sigemptyset(&sa.sa_mask);
            if (!sigaction(outfile_stop_sigs[i], NULL, &old) && (old.sa_flags & SA_SIGINFO || old.sa_handler != SIG_IGN))
                sigaction(outfile_stop_sigs[i], &sa, NULL);
        }
        installed = 1;
    }
}

static void unguard_dir(void)
{
    char **f = guarded_files;
    unsigned n = nguarded_files;
    char *d = guarded_dir;
    guarded_dir = NULL;                   /* the handler no longer looks */
    nguarded_files = 0;
    guarded_files = NULL;
    for (unsigned i = 0; i < n; i++)
        free(f[i]);
    free(f);
    free(d);
}

void cli_guard_dir(const char *dir)
{
    unguard_dir();
    if (!dir)
        return;
    char **files = NULL;
    unsigned n = 0;
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            files = mv_realloc(files, (n + 1) * sizeof *files);
            files[n] = mv_malloc(strlen(dir) + strlen(e->d_name) + 2);
            sprintf(files[n++], "%s/%s", dir, e->d_name);
        }
    if (d)
        closedir(d);
    guarded_files = files;
    nguarded_files = n;
    guarded_dir = mv_strdup(dir);
    install();
}

void cli_guard_output(const char *tmp_path, pid_t group)
{
    guarded_path = tmp_path;
    guarded_group = group;
    if (tmp_path || group)
        install();
}

void cli_guard_group(pid_t group)
{
    guarded_group2 = group;
    if (group)
        install();
}

int cli_interrupted(void) { return caught; }
void cli_interrupt(int sig) { caught = sig; }

void cli_die_of_signal(void)
{
    int sig = caught ? caught : SIGINT;
    signal(sig, SIG_DFL);
    raise(sig);
    _exit(128 + sig);
}

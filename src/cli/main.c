/* main.c: the memvirt command: a table of subcommands, each in its own file
 * (cmd_*.c, declared in cli.h).
 *
 *   memvirt run     --mode M --workload W [options]          one mode
 *   memvirt compare --modes a,b,... --workload W [options]   side by side
 *   memvirt rerun FILE.json [--json OUT] [--csv OUT]         repeat a run from its result
 *   memvirt list                                             modes, workloads, parameters, profiles
 *   memvirt report RESULT.json... -o report.html             one self-contained HTML page
 *   memvirt sweep SPEC [-j N | --slurm]                      a parameter sweep (docs/sweeps.md)
 *   memvirt --version                                        version and source revision
 *   memvirt calibrate [-o PROFILE] | --verify PROFILE         this host's costs (src/calib/)
 *   memvirt trace record|import|info ...                     real programs as workloads
 *
 * An unknown subcommand, or an argument after --version or --help, is bad
 * input: one message, exit status 2. A write to
 * standard output that failed, a reader gone too (SIGPIPE is ignored), is
 * one line here for every command and exit status 1. */
#include "cli/cli.h"
#include "lib/err.h"
#include "lib/outfile.h"
#include "lib/version.h"
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

struct subcommand {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary;
};

static const struct subcommand subcommands[] = {
    { "run", cmd_run, "run one mode on a workload" },
    { "compare", cmd_run, "run several modes side by side on the same workload" },
    { "rerun", cmd_rerun, "repeat a run from its JSON result, byte for byte" },
    { "list", cmd_list, "modes, workloads, cost profiles and every parameter" },
    { "report", cmd_report, "one self-contained HTML page from result files" },
    { "sweep", cmd_sweep, "a parameter sweep: runs through GNU parallel or a Slurm job array, merge" },
    { "calibrate", cmd_calibrate, "measure this host's costs into a profile file (--verify: check one)" },
    { "trace", cmd_trace, "record, import and inspect traces of real programs" },
};
#define NSUB (sizeof subcommands / sizeof subcommands[0])

static void usage(FILE *f)
{
    fputs("usage: memvirt COMMAND [options]   (memvirt COMMAND --help for its options)\n"
          "       memvirt --version\n"
          "commands:\n", f);
    for (unsigned i = 0; i < NSUB; i++)
        fprintf(f, "  %-10s %s\n", subcommands[i].name, subcommands[i].summary);
    fputs("\n" EXIT_STATUS_HELP "\nexample:\n  memvirt compare --workload lmbench --param lmbench.iterations=50\n", f);
}

/* Tables and listings go to standard output. A write there that failed (a
 * full disk, a closed descriptor, a reader gone: EPIPE, SIGPIPE being
 * ignored from the start) is an error of the command, as coreutils'
 * close_stdout makes it: one line here for every command, exit status 1
 * unless the command already failed. */
static int stdout_checked(int rc)
{
    if (rc) {               /* the command failed and said why (a --json - that failed too) */
        fflush(stdout);
        return rc;
    }
    /* A write that failed while the command printed left stdout's error
     * flag and, in errno, its reason, unless a later call changed it: kept
     * if it is a reason a write gives, else "write error" (coreutils says
     * no more in that case) */
    int early = ferror(stdout), e0 = errno;
    errno = 0;
    int bad = fflush(stdout) || ferror(stdout);
    int e = errno;
    if (!e && early && (e0 == ENOSPC || e0 == EPIPE || e0 == EIO || e0 == EFBIG || e0 == EDQUOT || e0 == EBADF))
        e = e0;
    if (!bad)
        return rc;
    mv_error("standard output: cannot write: %s", e ? strerror(e) : "write error");
    return EXIT_FAIL;
}

static int run(int argc, char **argv)
{
    if (argc < 2) {
        mv_error("which command? (see 'memvirt --help')");
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    int help = !strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help");
    int version = !strcmp(cmd, "--version") || !strcmp(cmd, "version");
    if ((help || version) && argc > 2) {   /* as every subcommand: nothing is ignored */
        mv_error("%s: unexpected argument '%s' (see 'memvirt --help')", cmd, argv[2]);
        return EXIT_USAGE;
    }
    if (help) {
        usage(stdout);
        return EXIT_OK;
    }
    if (version) {
        printf("memvirt %s (revision %s)\n", mv_version(), mv_revision());
        return EXIT_OK;
    }
    for (unsigned i = 0; i < NSUB; i++)
        if (!strcmp(cmd, subcommands[i].name))
            return subcommands[i].fn(argc - 1, argv + 1);
    mv_error("unknown command '%s' (see 'memvirt --help')", cmd);
    return EXIT_USAGE;
}

/* The stack: the soft limit raised to STACK_WANT where the hard one
 * allows (the programs memvirt starts, Python and GNU parallel, inherit
 * it). Below STACK_NEED, one line and the host-limit status: `ulimit -s
 * 48` was a stack overflow in the engine, a crash that left the outputs'
 * temporary files behind; the engine and the commands need less than
 * 64 KiB, Python 128 KiB. The run threads get RUN_STACK whatever the
 * limit was (sim/parallel.c: glibc sizes new threads by the limit as it
 * was at start). */
#define STACK_WANT ((rlim_t)8 << 20)
#define STACK_NEED ((rlim_t)256 << 10)
static int stack_ok(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_STACK, &rl) || rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= STACK_WANT)
        return 1;
    rlim_t want = rl.rlim_max != RLIM_INFINITY && rl.rlim_max < STACK_WANT ? rl.rlim_max : STACK_WANT;
    struct rlimit raised = { want, rl.rlim_max };
    if (want > rl.rlim_cur && !setrlimit(RLIMIT_STACK, &raised) && !getrlimit(RLIMIT_STACK, &raised))
        rl = raised;   /* else (a sandbox refusing it) the limit is what it was */
    if (rl.rlim_cur >= STACK_NEED)
        return 1;
    mv_error("the stack size limit (ulimit -s) is %llu KiB: memvirt needs at least %llu KiB",
             (unsigned long long)(rl.rlim_cur >> 10), (unsigned long long)(STACK_NEED >> 10));
    return 0;
}

int main(int argc, char **argv)
{
    outfile_guard_stdio();      /* before anything opens a file */
    outfile_ignore_sigxfsz();   /* a file-size limit is a write error each writer reports */
    outfile_ignore_sigpipe();   /* a reader gone too (EPIPE), said by stdout_checked at the end */
    if (!stack_ok())
        return EXIT_FAIL;
    return stdout_checked(run(argc, argv));
}

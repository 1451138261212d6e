/* cmd_calibrate.c: `memvirt calibrate`: measure this host's costs into a
 * profile file, or check a profile against this host (src/calib/,
 * docs/cost-model.md "Calibration").
 *
 *   memvirt calibrate [-o PROFILE] [--cpu N] [--reps N] [--hello PATH]
 *   memvirt calibrate --verify PROFILE [--cpu N] [--reps N]
 *
 * Bad options exit 2 before anything is measured (an output path that
 * cannot be written included); the profile is written atomically at the
 * end, so an interrupted run leaves nothing behind. */
#define _GNU_SOURCE
#include "calib/calib.h"
#include "cli/cli.h"
#include "hw/cost.h"
#include "lib/err.h"
#include "lib/outfile.h"
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <sched.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void usage(FILE *f)
{
    fputs("usage: memvirt calibrate [-o PROFILE] [options]     measure this host into a profile\n"
          "       memvirt calibrate --verify PROFILE [options] the native model against this host\n"
          "options:\n"
          "  -o, --output PROFILE   where to write the profile (default: this-host.profile)\n"
          "  --verify PROFILE       run the native model with PROFILE next to the same operations here\n"
          "  --cpu N                the CPU to pin to (default: the highest-numbered one allowed)\n"
          "  --reps N               samples of each measurement (default 41; median and spread)\n"
          "  --hello PATH           the static program fork+execve runs (default: memvirt-hello\n"
          "                         beside this binary)\n"
          "Takes about 16 s (15.8 s with the default --reps on this project's 2-CPU machine); close other\n"
          "work for steadier figures: it warns when the load average exceeds the CPUs.\n\n", f);
    fputs(EXIT_STATUS_HELP, f);
    fputs("\nexample (a quick, rough calibration, then a run under it):\n"
          "  memvirt calibrate --reps 3 -o quick.profile\n"
          "  memvirt run --profile quick.profile --workload lmbench --param lmbench.iterations=2\n", f);
}

/* Fail now, not after minutes of measuring, if `path` cannot take the
 * profile: lib/outfile checks it as calib_write_profile will write it (the
 * trial output is discarded at once). It must be a regular file or a new
 * name (a device or FIFO is no profile to load: the write to a FIFO blocked),
 * and none of calibrate's inputs: the running binary and `hello`, the
 * program fork+execve runs (`calibrate -o memvirt` replaced its binary). */
static int writable(const char *path, const char *hello)
{
    if (!*path)   /* outfile's message suggests '-', which calibrate refuses */
        return mv_error("calibrate: -o: empty file name");
    if (!strcmp(path, "-"))
        return mv_error("calibrate: -o '-': calibrate writes the profile into a file: give a file name");
    struct stat st;
    if (!stat(path, &st) && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))   /* outfile names a directory */
        return mv_error("calibrate: -o '%s': not a regular file: calibrate writes the profile into a file", path);
    struct outset set = { 0 };   /* the running binary is refused by every output set */
    int rc = outset_input(&set, "--hello", hello) || outset_add(&set, "-o", path) ? -1 : 0;
    outset_free(&set);
    return rc;
}

static char *default_hello(void)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return NULL;
    exe[n] = 0;
    const char *dir = dirname(exe);
    size_t len = strlen(dir) + 32;
    char *p = mv_malloc(len);
    snprintf(p, len, "%s/memvirt-hello", dir);
    return p;
}

enum { O_VERIFY = 100, O_CPU, O_REPS, O_HELLO, O_HELP };

/* Can path be executed: a regular file we may run (a directory passes
 * access(X_OK) too)? Else errno says why. */
static int runnable(const char *path)
{
    struct stat st;
    if (stat(path, &st))
        return 0;
    if (!S_ISREG(st.st_mode)) {
        errno = S_ISDIR(st.st_mode) ? EISDIR : EACCES;
        return 0;
    }
    return !access(path, X_OK);
}

int cmd_calibrate(int argc, char **argv)
{
    static const struct option opts[] = {
        { "output", required_argument, 0, 'o' }, { "verify", required_argument, 0, O_VERIFY },
        { "cpu", required_argument, 0, O_CPU },  { "reps", required_argument, 0, O_REPS },
        { "hello", required_argument, 0, O_HELLO }, { "help", no_argument, 0, O_HELP },
        { 0, 0, 0, 0 },
    };
    const char *out = NULL, *verify = NULL, *hello = NULL, *cpu_arg = NULL, *reps_arg = NULL;
    uint64_t reps = 41;
    int cpu = -1, c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
        uint64_t v;
        /* an option that takes one value, given again: only with the same value */
        const char **once = c == O_VERIFY ? &verify : c == O_HELLO ? &hello : c == O_CPU ? &cpu_arg
                          : c == O_REPS ? &reps_arg : NULL;
        if (once) {
            const struct option *o = opts;
            while (o->val != c)
                o++;
            char opt[32];
            snprintf(opt, sizeof opt, "--%s", o->name);
            if (cli_set_once("calibrate", opt, once, optarg))
                return EXIT_USAGE;
        }
        switch (c) {
        case 'o':
            if (out) {
                mv_error("calibrate: -o given twice ('%s' and '%s'): one profile per calibration", out, optarg);
                return EXIT_USAGE;
            }
            out = optarg;
            break;
        case O_VERIFY:
        case O_HELLO: break;   /* kept above */
        case O_CPU: {
            int prc = param_parse_u64(optarg, &v);
            if (prc && prc != PARAM_TOO_BIG) {
                mv_error("calibrate: --cpu: malformed CPU number '%s' (expected a decimal integer such as 0)", optarg);
                return EXIT_USAGE;
            }
            if (prc || v >= CPU_SETSIZE) {   /* well-formed, and no CPU at all: said as for one not allowed */
                calib_cpu_out_of_range(optarg);
                return EXIT_USAGE;
            }
            cpu = (int)v;
            break;
        }
        case O_REPS:
            if (param_parse_u64(optarg, &reps) || reps < 3 || reps > 1000) {
                mv_error("calibrate: --reps: expected an integer from 3 to 1000, not '%s'", optarg);
                return EXIT_USAGE;
            }
            break;
        case O_HELP: usage(stdout); return EXIT_OK;
        default:
            if (optopt)
                mv_error("calibrate: option '%s' needs a value", argv[optind - 1]);
            else
                mv_error("calibrate: unknown option '%s'", argv[optind - 1]);
            return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        mv_error("calibrate: unexpected argument '%s'", argv[optind]);
        return EXIT_USAGE;
    }
    if (hello && !runnable(hello)) {   /* the program asked for, not the default: bad input */
        mv_error("calibrate: --hello '%s': cannot run it: %s", hello, strerror(errno));
        return EXIT_USAGE;
    }
    if (verify && out) {
        mv_error("calibrate: --verify reads a profile, -o writes one: give one of them");
        return EXIT_USAGE;
    }
    struct verify_pred pred;
    if (verify) {   /* a bad profile is bad input: refuse it before measuring */
        struct profile p;
        if (access(verify, F_OK) && cost_profile_find(verify) >= 0) {
            mv_error("calibrate: --verify '%s': no such file; '%s' is a built-in profile, and --verify checks a "
                     "profile file (one `memvirt calibrate -o FILE` wrote)", verify, verify);
            return EXIT_USAGE;
        }
        if (profile_load(&p, verify))
            return EXIT_USAGE;
        int bad = verify_predict(&p.cost, verify, &pred);
        profile_free(&p);
        if (bad)
            return EXIT_USAGE;
    }
    char *def_hello = hello ? NULL : default_hello();
    struct calib cal = { .log = stderr, .hello = hello ? hello : def_hello, .hello_given = hello != NULL };
    if (!verify && writable(out = out ? out : "this-host.profile", cal.hello)) {
        free(def_hello);
        return EXIT_USAGE;
    }
    if (calib_init(&cal, cpu, (unsigned)reps)) {
        free(def_hello);
        return EXIT_USAGE;
    }
    if (!cal.hello || !runnable(cal.hello))
        calib_log(&cal, "note: %s is not an executable; fork+execve will not be measured\n",
                  cal.hello ? cal.hello : "memvirt-hello");

    int rc;
    if (verify) {
        rc = calibrate_verify(&cal, verify, &pred);
    } else {
        char cmdline[1024] = "memvirt";   /* argv[0] is "calibrate" */
        for (int i = 0; i < argc; i++)
            snprintf(cmdline + strlen(cmdline), sizeof cmdline - strlen(cmdline), " %s", argv[i]);
        rc = calibrate_run(&cal, out, cmdline);
    }
    free(def_hello);
    return rc ? EXIT_FAIL : EXIT_OK;
}

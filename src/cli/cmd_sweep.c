/* cmd_sweep.c: `memvirt sweep`: a parameter sweep from a spec file
 * (docs/sweeps.md), expanded into independent runs of `memvirt run`.
 *
 *   memvirt sweep SPEC [--out DIR] [-j N] [--set KEY=VALUES]... [--list]
 *   memvirt sweep SPEC --slurm [--sbatch OPTION]... [--wait] [--no-submit]
 *   memvirt sweep merge DIR [--csv FILE] [--json FILE] [--partial]
 *   memvirt sweep one DIR INDEX
 *
 * The runs go to GNU parallel (local, -j N) or into a Slurm job array; runs
 * whose result is already in DIR are skipped. A bad spec gets one message
 * naming file, line and column, exit status 2, and nothing is written. */
#include "cli/cli.h"
#include "cli/pyexec.h"
#include "cli/sweep.h"
#include "lib/err.h"
#include "lib/param.h"
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

static void sweep_usage(FILE *f)
{
    fputs("usage: memvirt sweep SPEC [--out DIR] [-j N] [--set KEY=VALUES]... [--list]\n"
          "       memvirt sweep SPEC --slurm [--out DIR] [--sbatch OPTION]... [--wait] [--no-submit]\n"
          "       memvirt sweep merge DIR [--csv FILE] [--json FILE] [--partial]\n"
          "       memvirt sweep one DIR INDEX\n"
          "options:\n"
          "  --out DIR          where the manifest and results go (default: SPEC's name without\n"
          "                     its extension, plus .runs, in the current directory)\n"
          "  -j N               run N at a time through GNU parallel (default: one per core)\n"
          "  --set KEY=VALUES   replace or add an axis, as a spec line would (repeatable, one key each)\n"
          "  --list             print the runs (index, id, done, stale or pending, arguments); run nothing\n"
          "  --slurm            write DIR/sweep-K.sbatch, job arrays of the pending runs (each below the\n"
          "                     cluster's MaxArraySize, default 1001), and DIR/merge.sbatch, which runs\n"
          "                     'sweep merge' after them all; sbatch them\n"
          "  --sbatch OPTION    an extra #SBATCH option (repeatable), e.g. --sbatch --partition=short\n"
          "  --wait             wait for the arrays and the merge to finish (sbatch --wait)\n"
          "  --no-submit        write the batch scripts only\n"
          "spec format and more examples: docs/sweeps.md\n\n", f);
    fputs(EXIT_STATUS_HELP, f);
    fputs("  130  interrupted (Ctrl-C): finished runs keep their results; the same command runs the rest\n", f);
    fputs("\nexample (a spec of --set axes alone; /dev/null is an empty spec file):\n"
          "  memvirt sweep /dev/null --set mode=native,pv --set workload=lmbench "
          "--set lmbench.iterations=2 --out study.runs -j 2\n"
          "  memvirt sweep merge study.runs\n", f);
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        mv_error("sweep: cannot read '%s': %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 4096, n = 0;
    char *buf = mv_malloc(cap);
    size_t got;
    errno = 0;
    while ((got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            if (cap >= (16u << 20)) {
                mv_error("sweep: '%s' is larger than 16 MiB: not a spec", path);
                free(buf);
                fclose(f);
                return NULL;
            }
            cap *= 2;
            buf = mv_realloc(buf, cap);
        }
    }
    int err = ferror(f) ? (errno ? errno : EIO) : 0;   /* (fread's failure leaves its errno) */
    fclose(f);
    if (err) {
        mv_error("sweep: cannot read '%s': %s", path, err == EISDIR ? "it is a directory, not a spec" : strerror(err));
        free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}

static int mkdir_p(const char *path)
{
    char buf[PATH_MAX];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
        return mv_error("sweep: path too long: '%s'", path);
    for (char *p = buf + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            if (mkdir(buf, 0777) && errno != EEXIST)
                return mv_error("sweep: cannot create '%s': %s", buf, strerror(errno));
            *p = '/';
        }
    if (mkdir(buf, 0777) && errno != EEXIST)
        return mv_error("sweep: cannot create '%s': %s", buf, strerror(errno));
    return 0;
}

/* SPEC's name without directory and extension, plus .runs */
static void default_dir(const char *spec, char *out, size_t len)
{
    const char *base = strrchr(spec, '/');
    base = base ? base + 1 : spec;
    const char *dot = strrchr(base, '.');
    int n = dot && dot != base ? (int)(dot - base) : (int)strlen(base);
    snprintf(out, len, "%.*s.runs", n, base);
}

/* The absolute path dir has once made (mkdir_p): its longest existing
 * prefix resolved (symlinks and all), the rest as given. 0, or -1 (errno)
 * if no prefix resolves. */
static int planned_realpath(const char *dir, char *out, size_t len)
{
    char buf[PATH_MAX];
    if (snprintf(buf, sizeof buf, "%s", dir) >= (int)sizeof buf) {
        errno = ENAMETOOLONG;
        return -1;
    }
    const char *rest = NULL;   /* the part not made yet, in dir */
    for (;;) {
        char *r = realpath(*buf ? buf : ".", NULL);
        if (r) {
            int n = snprintf(out, len, "%s%s%s", r, rest && strcmp(r, "/") ? "/" : "", rest ? rest : "");
            free(r);
            if (n >= (int)len) {
                errno = ENAMETOOLONG;
                return -1;
            }
            return 0;
        }
        if (errno != ENOENT)
            return -1;
        char *slash = strrchr(buf, '/');
        while (slash && slash > buf && slash[-1] == '/')
            slash--;
        if (!slash) {
            rest = dir;
            buf[0] = 0;
        } else {
            rest = dir + (slash - buf) + strspn(dir + (slash - buf), "/");
            slash[slash == buf] = 0;   /* "/x" -> "/" */
        }
    }
}

enum { O_OUT = 1, O_SET, O_LIST, O_SLURM, O_SBATCH, O_WAIT, O_NOSUBMIT, O_HELP };

/* The merge command for dir, as a shell would take it: quoted when it holds
 * anything but safe characters, after '--' when it starts with '-' (as
 * `--out -dash`: 'memvirt sweep merge -dash' was taken as an option). */
static void merge_hint(const char *dir)
{
    fputs("memvirt sweep merge ", stderr);
    if (dir[0] == '-')
        fputs("-- ", stderr);
    if (dir[strspn(dir, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./+,:@%=-")]) {
        fputc('\'', stderr);
        for (const char *c = dir; *c; c++)
            if (*c == '\'')
                fputs("'\\''", stderr);
            else
                fputc(*c, stderr);
        fputc('\'', stderr);
    } else {
        fputs(dir, stderr);
    }
    fputc('\n', stderr);
}

int cmd_sweep(int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "merge"))
        return cli_exec_python("sweep merge", "merge.py", argc - 1, argv + 1);
    /* not for people: what merge.py asks of the results it merges, in the
     * C that --list's stale rule is written in */
    if (argc == 3 && !strcmp(argv[1], "_foreign"))
        return sweep_foreign(argv[2]);
    if (argc >= 2 && !strcmp(argv[1], "one")) {
        if (argc >= 3 && (!strcmp(argv[2], "--help") || !strcmp(argv[2], "-h"))) {
            fputs("usage: memvirt sweep one DIR INDEX\n"
                  "Run the run of index INDEX (0-based) of the sweep in DIR, as DIR/sweep.tsv lists it, into\n"
                  "DIR/runs/ID.json and ID.txt; nothing if its result there is current. What each GNU parallel\n"
                  "job and Slurm array task of 'memvirt sweep' executes; 'memvirt sweep SPEC --list' shows the\n"
                  "indices.\n\n", stdout);
            fputs(EXIT_STATUS_HELP, stdout);
            fputs("\nexample (run 0 of a sweep planned for Slurm, by hand):\n"
                  "  memvirt sweep /dev/null --set mode=native --set workload=lmbench --out study.runs --slurm "
                  "--no-submit\n"
                  "  memvirt sweep one study.runs 0\n", stdout);
            return EXIT_OK;
        }
        if (argc != 4) {
            mv_error("sweep one: expected DIR INDEX");
            return EXIT_USAGE;
        }
        /* a job of the GNU parallel a local sweep started (sweep_exec.c):
         * it ends with that parallel, killed at a second Ctrl-C, rather
         * than run on as an orphan beside the sweep run again */
        if (getenv("MEMVIRT_SWEEP_BIN") && getenv("PARALLEL_PID")) {
            prctl(PR_SET_PDEATHSIG, SIGTERM);
            if (getppid() == 1)   /* parallel gone before that */
                return EXIT_FAIL;
        }
        return sweep_one(argv[2], argv[3]);
    }
    static const struct option opts[] = {
        { "out", required_argument, 0, O_OUT },     { "set", required_argument, 0, O_SET },
        { "list", no_argument, 0, O_LIST },          { "slurm", no_argument, 0, O_SLURM },
        { "sbatch", required_argument, 0, O_SBATCH }, { "wait", no_argument, 0, O_WAIT },
        { "no-submit", no_argument, 0, O_NOSUBMIT }, { "help", no_argument, 0, O_HELP },
        { 0, 0, 0, 0 },
    };
    const char *out = NULL, *jobs = NULL;
    const char **sets = mv_calloc((size_t)argc, sizeof *sets);
    struct sweep_opts o = { .sbatch = mv_calloc((size_t)argc, sizeof(char *)), .submit = 1 };
    int nsets = 0, list = 0, slurm = 0, c, rc = EXIT_USAGE;
    struct sweep_spec spec = { 0 };
    struct sweep_plan plan = { 0 };
    unsigned *pending = NULL;
    char *text = NULL;
    int lock_fd = -1, die_of = 0;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "j:", opts, NULL)) != -1) {
        switch (c) {
        case 'j':
        case O_OUT:   /* one value each: given again, only with the same one */
            if (cli_set_once("sweep", c == 'j' ? "-j" : "--out", c == 'j' ? &jobs : &out, optarg))
                goto done;
            break;
        case O_SET: sets[nsets++] = optarg; break;
        case O_LIST: list = 1; break;
        case O_SLURM: slurm = 1; break;
        case O_SBATCH:
            if (strpbrk(optarg, "\r\n")) {   /* it would become more lines of the batch script */
                mv_error("sweep: --sbatch option #%u: a line break in '%.*s...': one #SBATCH option per --sbatch",
                         o.nsbatch + 1, (int)strcspn(optarg, "\r\n"), optarg);
                rc = EXIT_USAGE;
                goto done;
            }
            if (!optarg[strspn(optarg, " \t")]) {   /* a bare '#SBATCH ' line: no option, nothing sbatch takes */
                mv_error("sweep: --sbatch option #%u is %s: give an #SBATCH option (--sbatch --partition=short)",
                         o.nsbatch + 1, *optarg ? "blank" : "empty");
                rc = EXIT_USAGE;
                goto done;
            }
            o.sbatch[o.nsbatch++] = optarg;
            break;
        case O_WAIT: o.wait = 1; break;
        case O_NOSUBMIT: o.submit = 0; break;
        case O_HELP: sweep_usage(stdout); rc = EXIT_OK; goto done;
        default:
            if (optopt == 'j')
                mv_error("sweep: option '-j' needs a value");
            else
                cli_bad_option("sweep", opts, argv);
            goto done;
        }
    }
    if (optind != argc - 1) {
        if (optind == argc)
            mv_error("sweep: expected a spec file (see 'memvirt sweep --help')");
        else
            mv_error("sweep: unexpected argument '%s'", argv[optind + 1]);
        goto done;
    }
    unsigned njobs;
    int jrc = jobs ? cli_parse_jobs(jobs, &njobs) : 0;   /* what GNU parallel gets: a plain count */
    if (jrc) {
        mv_error("sweep: -j '%s': %sexpected a decimal integer from 1 to %d", jobs,
                 jrc == -2 ? "out of range: " : "", CLI_MAX_JOBS);
        goto done;
    }
    if (out && !*out) {   /* "" would make the sweep in /runs */
        mv_error("sweep: --out: empty directory name");
        goto done;
    }
    if (jobs && slurm) {
        mv_error("sweep: -j is for local runs; Slurm decides how many array tasks run at once");
        goto done;
    }
    if (!slurm && (o.nsbatch || o.wait || !o.submit)) {
        mv_error("sweep: --sbatch, --wait and --no-submit need --slurm");
        goto done;
    }
    const char *path = argv[optind];
    size_t len;
    if (!(text = read_file(path, &len)))
        goto done;
    if (sweep_spec_parse(&spec, path, text, len))
        goto done;
    for (int i = 0; i < nsets; i++) {
        char where[32];
        snprintf(where, sizeof where, "--set #%d", i + 1);
        if (sweep_spec_set(&spec, where, sets[i]))
            goto done;
    }
    if (sweep_plan_build(&spec, &plan))
        goto done;

    char dir[PATH_MAX], abs_dir[PATH_MAX];
    if (out)
        snprintf(dir, sizeof dir, "%s", out);
    else
        default_dir(path, dir, sizeof dir);
    if (list) {
        for (unsigned r = 0; r < plan.nruns; r++)
            printf("%u\t%s\t%s\t%s\n", r, plan.runs[r].id,
                   sweep_result_current(dir, &plan.runs[r], 0) ? "done"
                   : access(sweep_result_path(dir, plan.runs[r].id, "json"), F_OK) ? "pending" : "stale",
                   plan.runs[r].args);
        rc = EXIT_OK;
        goto done;
    }
    /* #SBATCH lines cannot name every directory: refused before anything is
     * made or written (the directory, its lock, a manifest in place of the
     * last one) */
    if (slurm) {
        if (planned_realpath(dir, abs_dir, sizeof abs_dir)) {
            mv_error("sweep: cannot resolve '%s': %s", dir, strerror(errno));
            goto done;
        }
        if (sweep_slurm_dir_check(abs_dir))
            goto done;
    }
    char runs_dir[PATH_MAX + 8];
    snprintf(runs_dir, sizeof runs_dir, "%s/runs", dir);
    if (mkdir_p(runs_dir))   /* an output directory that cannot be made: bad input, nothing has run */
        goto done;
    if (!realpath(dir, abs_dir)) {
        mv_error("sweep: cannot resolve '%s': %s", dir, strerror(errno));
        goto done;
    }
    o.dir = abs_dir;
    o.jobs = jobs;
    /* One sweep at a time in a directory: a second one rewrote the manifest
     * and the pending list under the first, whose runs then read the wrong
     * lines. The lock is the kernel's (flock), released however we end. */
    char lock[PATH_MAX + 16];
    snprintf(lock, sizeof lock, "%s/sweep.lock", abs_dir);
    lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (lock_fd < 0) {
        mv_error("sweep: cannot create '%s': %s", lock, strerror(errno));
        goto done;
    }
    if (flock(lock_fd, LOCK_EX | LOCK_NB)) {
        if (errno == EWOULDBLOCK)
            mv_error("sweep: another sweep is running in '%s' (it holds %s): wait for it to end, or give "
                     "another --out", dir, lock);
        else
            mv_error("sweep: cannot lock '%s': %s", lock, strerror(errno));
        goto done;
    }
    char manifest[PATH_MAX + 16];
    snprintf(manifest, sizeof manifest, "%s/sweep.tsv", abs_dir);
    if (sweep_manifest_write(&plan, manifest)) {
        rc = EXIT_FAIL;
        goto done;
    }
    pending = mv_calloc(plan.nruns ? plan.nruns : 1, sizeof *pending);
    unsigned npend = sweep_pending(&plan, abs_dir, pending, 1);
    unsigned before = plan.nruns - npend;
    if (!npend) {
        fprintf(stderr, "sweep: all %u runs already finished in %s; merge with: ", plan.nruns, dir);
        merge_hint(dir);
        rc = EXIT_OK;
        goto done;
    }
    rc = slurm ? sweep_exec_slurm(&o, &plan, pending, npend) : sweep_exec_local(&o, pending, npend);
    if (!slurm && sweep_interrupted()) {
        /* Ctrl-C: what is done stays done; the same command runs the rest */
        int sig = sweep_interrupted();
        unsigned left = sweep_pending(&plan, abs_dir, pending, 0);
        fprintf(stderr, "sweep: interrupted (%s): %u runs: %u finished now, %u before, %u without a result; "
                        "the same command runs those\n", strsignal(sig), plan.nruns, plan.nruns - left - before,
                before, left);
        if (sig == SIGINT)
            rc = 130;   /* as a shell reports Ctrl-C, and as report and sweep merge end */
        else
            die_of = sig;
    } else if (rc != EXIT_USAGE && (!slurm || (o.wait && o.submit))) {
        unsigned left = sweep_pending(&plan, abs_dir, pending, 0);
        if (left)
            /* a run killed by a signal (the OOM killer, scancel) says
             * nothing: where its exit status is kept */
            fprintf(stderr, "sweep: %u runs: %u finished now, %u before, %u without a result (see the messages "
                            "above; each run's exit status is in %s/%s)\n",
                    plan.nruns, plan.nruns - left - before, before, left, dir, slurm ? "slurm/" : "joblog.txt");
        else
        {
            fprintf(stderr, "sweep: %u runs: %u finished now, %u before; merge with: ", plan.nruns,
                    plan.nruns - before, before);
            merge_hint(dir);
        }
        rc = left ? EXIT_FAIL : EXIT_OK;
    }
done:
    if (lock_fd >= 0)
        close(lock_fd);
    free(pending);
    free(text);
    sweep_plan_free(&plan);
    sweep_spec_free(&spec);
    free(sets);
    free(o.sbatch);
    if (die_of) {   /* SIGTERM, SIGHUP: end as the signal ends a process, once it has been said */
        signal(die_of, SIG_DFL);
        raise(die_of);
    }
    return rc;
}

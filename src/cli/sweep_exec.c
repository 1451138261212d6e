/* sweep_exec.c: runs a sweep's pending runs (see sweep.h): locally through
 * GNU parallel, or as a Slurm job array submitted with sbatch. Both start
 * `memvirt sweep one DIR INDEX` per run; no scheduling of our own. */
#include "cli/cli.h"
#include "cli/pyexec.h"
#include "cli/sweep.h"
#include "lib/err.h"
#include "lib/outfile.h"
#include "lib/text.h"
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

const char *sweep_result_path(const char *dir, const char *id, const char *ext)
{
    static char path[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/runs/%s.%s", dir, id, ext);
    return path;
}

static const struct sweep_plan *sort_plan;
static int by_id(const void *a, const void *b)
{
    unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;
    int c = strcmp(sort_plan->runs[x].id, sort_plan->runs[y].id);
    return c ? c : (x > y) - (x < y);
}

unsigned sweep_pending(const struct sweep_plan *p, const char *dir, unsigned *out, int say)
{
    /* The same run listed twice (two groups) is checked, said and run once,
     * under its first index: the indices sorted by id (then index) find
     * each id's first in O(n log n) (a scan per run took 10 s for 70,000). */
    unsigned *ix = mv_calloc(p->nruns + 1, sizeof *ix);
    unsigned char *first = mv_calloc(p->nruns + 1, 1);
    for (unsigned r = 0; r < p->nruns; r++)
        ix[r] = r;
    sort_plan = p;
    qsort(ix, p->nruns, sizeof *ix, by_id);
    for (unsigned i = 0; i < p->nruns; i++)
        first[ix[i]] = !i || strcmp(p->runs[ix[i]].id, p->runs[ix[i - 1]].id);
    unsigned n = 0;
    for (unsigned r = 0; r < p->nruns; r++)   /* in the plan's order, as its messages are said */
        if (first[r] && !sweep_result_current(dir, &p->runs[r], say))
            out[n++] = r;
    free(ix);
    free(first);
    return n;
}

/* Is prog on the PATH? */
static int on_path(const char *prog)
{
    char *f = cli_find_program(prog);
    int found = f != NULL;
    free(f);
    return found;
}

/* SIGINT, SIGTERM or SIGHUP while GNU parallel ran (sweep_interrupted), and
 * parallel's pid, to pass the signal on to. */
static volatile sig_atomic_t caught;
static volatile pid_t spawned;
static const int stop_sigs[] = { SIGINT, SIGTERM, SIGHUP };

static void on_stop(int sig)
{
    int again = caught != 0;
    if (!caught)
        caught = sig;
    /* Ctrl-C reached it too; a kill of memvirt alone did not. A second
     * signal kills it: a parallel that cannot fork (ulimit -u) retried
     * for ever, deaf to TERM and INT. Its runs die with it (each `sweep
     * one` it started is told of its parent's death: cmd_sweep.c). */
    if (spawned > 0)
        kill(spawned, again ? SIGKILL : sig);
}

int sweep_interrupted(void) { return caught; }

/* fork, exec argv (GNU parallel), wait: its exit status, or -1 after
 * mv_error. The child is told of our death (PR_SET_PDEATHSIG): a KILL to
 * memvirt alone must not leave parallel running the sweep as an orphan;
 * each run's own child is tied to its `sweep one` the same way. SIGINT,
 * SIGTERM and SIGHUP (each unless memvirt was started with it ignored, as
 * a background job's SIGINT) are noted and passed on to parallel, which
 * stops its runs and ends; the caller then says what became of the sweep
 * (sweep_interrupted). */
static int spawn(char *const *argv)
{
    struct sigaction old[3];
    int set[3] = { 0 };
    for (unsigned i = 0; i < 3; i++) {
        struct sigaction sa = { 0 };
        sa.sa_handler = on_stop;
        sigemptyset(&sa.sa_mask);   /* one stop signal at a time: the second is seen as the second */
        for (unsigned j = 0; j < 3; j++)
            sigaddset(&sa.sa_mask, stop_sigs[j]);
        if (!sigaction(stop_sigs[i], NULL, &old[i]) && (old[i].sa_flags & SA_SIGINFO || old[i].sa_handler != SIG_IGN))
            set[i] = !sigaction(stop_sigs[i], &sa, NULL);
    }
    fflush(NULL);
    pid_t parent = getpid();
    pid_t pid = fork();
    int rc = -1;
    if (pid < 0) {
        mv_error("sweep: fork: %s", strerror(errno));
        goto out;
    }
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != parent)
            _exit(127);
        outfile_exec_signals();
        execvp(argv[0], argv);
        fprintf(stderr, "memvirt: sweep: cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    spawned = pid;
    if (caught)   /* before its pid was known */
        kill(pid, caught);
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR) {
            mv_error("sweep: waitpid: %s", strerror(errno));
            goto out;
        }
    rc = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    if (WIFSIGNALED(st) && !caught)   /* it says nothing then: a file-size limit (SIGXFSZ), say */
        mv_warn("sweep: %s was killed by signal %d (%s)%s", argv[0], WTERMSIG(st), strsignal(WTERMSIG(st)),
                WTERMSIG(st) == SIGXFSZ ? " (ulimit -f)" : "");
out:
    spawned = 0;
    for (unsigned i = 0; i < 3; i++)
        if (set[i])
            sigaction(stop_sigs[i], &old[i], NULL);
    return rc;
}

/* Close f, written to path since errno was cleared: 0, or -1 after an
 * error naming the reason a write or the close failed. */
static int close_checked(FILE *f, const char *path)
{
    int bad = ferror(f), e = errno;
    if (fclose(f)) {
        bad = 1;
        if (!e)
            e = errno;
    }
    if (bad)
        return mv_error("sweep: cannot write '%s': %s", path, strerror(e ? e : EIO));
    return 0;
}

static int write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return mv_error("sweep: cannot write '%s': %s", path, strerror(errno));
    errno = 0;
    fputs(text, f);
    return close_checked(f, path);
}

int sweep_exec_local(const struct sweep_opts *o, const unsigned *pending, unsigned n)
{
    if (!on_path("parallel")) {
        mv_error("sweep: GNU parallel is not installed (scripts/setup installs Debian's 'parallel')");
        return EXIT_USAGE;
    }
    char list[PATH_MAX + 32], joblog[PATH_MAX + 32];
    snprintf(list, sizeof list, "%s/pending.txt", o->dir);
    snprintf(joblog, sizeof joblog, "%s/joblog.txt", o->dir);
    FILE *f = fopen(list, "w");
    if (!f) {
        mv_error("sweep: cannot write '%s': %s", list, strerror(errno));
        return EXIT_USAGE;
    }
    errno = 0;
    for (unsigned i = 0; i < n; i++)
        fprintf(f, "%u\n", pending[i]);
    if (close_checked(f, list))
        return EXIT_USAGE;
    char *argv[20];
    int a = 0;
    argv[a++] = "parallel";
    argv[a++] = "--will-cite";   /* no citation notice on every run */
    argv[a++] = "--tag";         /* a failed run's messages start with its index */
    argv[a++] = "-q";            /* the command's words as they are (paths may hold spaces) */
    if (o->jobs) {
        argv[a++] = "-j";
        argv[a++] = (char *)o->jobs;
    }
    if (isatty(STDERR_FILENO))
        argv[a++] = "--bar";     /* on a terminal, its progress bar: runs done and the time left */
    argv[a++] = "--tmpdir";      /* its temporary files beside the results: a TMPDIR it cannot write */
    argv[a++] = (char *)o->dir;  /* was a Perl error of parallel's and every run without a result */
    argv[a++] = "--joblog";
    argv[a++] = joblog;
    /* The command is a template in which parallel replaces {}, {.}, {=perl=}
     * and the like: memvirt's path and the directory (the user's text) stay
     * out of it, in the environment, or a directory named '{=...=}' would
     * run Perl. */
    argv[a++] = "sh";
    argv[a++] = "-c";
    argv[a++] = "exec \"$MEMVIRT_SWEEP_BIN\" sweep one \"$MEMVIRT_SWEEP_DIR\" \"$1\"";
    argv[a++] = "sh";
    argv[a++] = "{}";
    argv[a++] = "::::";
    argv[a++] = list;
    argv[a] = NULL;
    setenv("MEMVIRT_SWEEP_BIN", cli_self(), 1);
    setenv("MEMVIRT_SWEEP_DIR", o->dir, 1);
    int st = spawn(argv);
    unsetenv("MEMVIRT_SWEEP_BIN");
    unsetenv("MEMVIRT_SWEEP_DIR");
    if (caught)
        return 128 + caught;
    if (st < 0 || st == 127)
        return EXIT_USAGE;
    if (st == 255)   /* parallel's own error, a signal to it alone among them */
        mv_warn("sweep: GNU parallel ended with exit status 255: it stopped early (a signal to it, or an error "
                "of its own it said above)");
    return st ? EXIT_FAIL : EXIT_OK;
}

/* "0-3,5,7-9" */
static char *array_spec(const unsigned *ix, unsigned n)
{
    size_t cap = 64, len = 0;
    char *s = mv_malloc(cap);
    s[0] = 0;
    for (unsigned i = 0; i < n;) {
        unsigned j = i;
        while (j + 1 < n && ix[j + 1] == ix[j] + 1)
            j++;
        if (len + 32 > cap) {
            cap = 2 * cap + 32;
            s = mv_realloc(s, cap);
        }
        if (j > i)
            len += (size_t)sprintf(s + len, "%s%u-%u", len ? "," : "", ix[i], ix[j]);
        else
            len += (size_t)sprintf(s + len, "%s%u", len ? "," : "", ix[i]);
        i = j + 1;
    }
    return s;
}

/* 'text' with ' as '\'' */
static void sh_quote(FILE *f, const char *s)
{
    fputc('\'', f);
    for (; *s; s++)
        if (*s == '\'')
            fputs("'\\''", f);
        else
            fputc(*s, f);
    fputc('\'', f);
}

/* Slurm's MaxArraySize (`scontrol show config`): array indices must stay
 * below it. 1001, Slurm's default, when scontrol is not there to ask. */
static unsigned max_array_size(void)
{
    unsigned n = 1001;
    if (!on_path("scontrol"))
        return n;
    fflush(NULL);
    FILE *f = outfile_popen("scontrol show config 2>/dev/null", "r");   /* SIGPIPE at its default there */
    if (!f)
        return n;
    char line[512];
    unsigned v;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "MaxArraySize = %u", &v) == 1 && v > 0)
            n = v;
    pclose(f);
    return n;
}

/* sbatch --parsable ARGS: 0 and the job id in id[], or the exit status
 * (-1 after mv_error). */
static int sbatch(char *const *argv, char *id, size_t size)
{
    int fd[2];
    if (pipe(fd))
        return mv_error("sweep: pipe: %s", strerror(errno));
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(fd[0]);
        close(fd[1]);
        return mv_error("sweep: fork: %s", strerror(errno));
    }
    if (pid == 0) {
        dup2(fd[1], STDOUT_FILENO);
        close(fd[0]);
        close(fd[1]);
        outfile_exec_signals();
        execvp(argv[0], argv);
        fprintf(stderr, "memvirt: sweep: cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(fd[1]);
    size_t n = 0;
    ssize_t got;
    while (n + 1 < size && ((got = read(fd[0], id + n, size - 1 - n)) > 0 || (got < 0 && errno == EINTR)))
        n += got > 0 ? (size_t)got : 0;
    id[n] = 0;
    id[strcspn(id, ";\n")] = 0;   /* "JOBID" or "JOBID;CLUSTER" */
    close(fd[0]);
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return mv_error("sweep: waitpid: %s", strerror(errno));
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* The script's first lines: a comment saying what it is (of the spec
 * `spec`, its name made one safe line: a newline in it would end the
 * comment and run the rest), then its #SBATCH options. */
static void script_head(FILE *f, const struct sweep_opts *o, const char *spec, const char *what, const char *job,
                        const char *out)
{
    fputs("#!/bin/sh\n# memvirt sweep of ", f);
    text_put_line_safe(f, spec);
    fprintf(f, ": %s\n# Written by 'memvirt sweep --slurm'.\n", what);
    fprintf(f, "#SBATCH --job-name=%s\n#SBATCH --ntasks=1\n#SBATCH --cpus-per-task=1\n#SBATCH --output=%s/slurm/%s\n",
            job, o->dir, out);
    for (unsigned i = 0; i < o->nsbatch; i++)
        fprintf(f, "#SBATCH %s\n", o->sbatch[i]);
}

int sweep_slurm_dir_check(const char *abs)
{
    if (strpbrk(abs, " \t\n%"))
        return mv_error("sweep: --slurm: the directory '%s' has a space or '%%', which #SBATCH lines cannot hold",
                        abs);
    return 0;
}

int sweep_exec_slurm(const struct sweep_opts *o, const struct sweep_plan *p, const unsigned *pending, unsigned n)
{
    if (sweep_slurm_dir_check(o->dir))   /* cmd_sweep checked it before making it: a symlink changed since */
        return EXIT_USAGE;
    char logs[PATH_MAX + 32];
    snprintf(logs, sizeof logs, "%s/slurm", o->dir);
    if (mkdir(logs, 0777) && errno != EEXIST) {
        mv_error("sweep: cannot create '%s': %s", logs, strerror(errno));
        return EXIT_USAGE;
    }
    /* Arrays of the pending indices (ascending), each spanning fewer than
     * MaxArraySize manifest lines: task T of an array starting at OFFSET
     * runs the run of index OFFSET+T (a sparse array skips finished ones). */
    unsigned max = max_array_size(), narr = 0;
    unsigned *first = mv_calloc(n + 1, sizeof *first);   /* index into pending[] where array k starts */
    for (unsigned i = 0; i < n; i++)
        if (!i || pending[i] - pending[first[narr - 1]] >= max)
            first[narr++] = i;
    first[narr] = n;
    char (*script)[PATH_MAX + 32] = mv_calloc(narr + 1, sizeof *script);
    /* scripts of an earlier submission with more arrays would mislead */
    for (unsigned k = narr;; k++) {
        char old[PATH_MAX + 32];
        snprintf(old, sizeof old, "%s/sweep-%u.sbatch", o->dir, k);
        if (unlink(old))
            break;
    }
    int rc = EXIT_OK;
    for (unsigned k = 0; k < narr && rc == EXIT_OK; k++) {
        unsigned lo = first[k], hi = first[k + 1], off = pending[lo];
        unsigned *rel = mv_calloc(hi - lo, sizeof *rel);
        for (unsigned i = lo; i < hi; i++)
            rel[i - lo] = pending[i] - off;
        char *arr = array_spec(rel, hi - lo);
        free(rel);
        char *text = NULL, what[512];
        size_t tlen = 0;
        FILE *f = open_memstream(&text, &tlen);
        snprintf(what, sizeof what, "Slurm job array %u of %u, %u of the %u runs without a result (of %u);\n"
                 "# task T runs the run of index %u+T (sweep one DIR INDEX)", k + 1, narr, hi - lo, n, p->nruns, off);
        script_head(f, o, p->spec, what, "memvirt-sweep", "%A_%a.out");
        fprintf(f, "#SBATCH --array=%s\nOFFSET=%u\nexec ", arr, off);
        sh_quote(f, cli_self());
        fputs(" sweep one ", f);
        sh_quote(f, o->dir);
        fputs(" \"$((OFFSET + SLURM_ARRAY_TASK_ID))\"\n", f);
        fclose(f);
        free(arr);
        snprintf(script[k], sizeof script[k], "%s/sweep-%u.sbatch", o->dir, k);
        if (write_text(script[k], text))
            rc = EXIT_USAGE;
        free(text);
    }
    /* the merge, once every array has finished (whatever became of its tasks) */
    char *text = NULL;
    size_t tlen = 0;
    FILE *f = open_memstream(&text, &tlen);
    char what[512];
    snprintf(what, sizeof what, "merge the results once the %u arrays have finished", narr);
    script_head(f, o, p->spec, what, "memvirt-sweep-merge", "merge_%j.out");
    fputs("exec ", f);
    sh_quote(f, cli_self());
    fputs(" sweep merge ", f);
    sh_quote(f, o->dir);
    fputc('\n', f);
    fclose(f);
    snprintf(script[narr], sizeof script[narr], "%s/merge.sbatch", o->dir);
    if (rc == EXIT_OK && write_text(script[narr], text))
        rc = EXIT_USAGE;
    free(text);
    free(first);
    if (rc != EXIT_OK || !o->submit) {
        if (rc == EXIT_OK)
            fprintf(stderr, "sweep: wrote %u job array script%s (%u runs: %s/sweep-0.sbatch ...) and %s; submit "
                            "each array with sbatch, then the merge with sbatch "
                            "--dependency=afterany:JOBID:JOBID... %s\n",
                    narr, narr == 1 ? "" : "s", n, o->dir, script[narr], script[narr]);
        free(script);
        return rc;
    }
    if (!on_path("sbatch")) {
        free(script);
        mv_error("sweep: --slurm: sbatch is not installed (Debian's slurm-client), or use -j for a local run");
        return EXIT_USAGE;
    }
    size_t dcap = 32 + 24 * (size_t)narr;
    char *dep = mv_malloc(dcap), id[64];
    size_t dlen = (size_t)snprintf(dep, dcap, "--dependency=afterany");
    for (unsigned k = 0; k < narr; k++) {
        char *argv[] = { "sbatch", "--parsable", script[k], NULL };
        int st = sbatch(argv, id, sizeof id);
        if (st || !id[0]) {
            if (st >= 0)
                mv_error("sweep: sbatch failed (exit status %d) for %s", st, script[k]);
            free(dep);
            free(script);
            return st < 0 || st == 127 ? EXIT_USAGE : EXIT_FAIL;
        }
        dlen += (size_t)snprintf(dep + dlen, dcap - dlen, ":%.20s", id);
        printf("Submitted batch job %s (%s)\n", id, script[k]);
        fflush(stdout);
    }
    char *argv[6];
    int a = 0;
    argv[a++] = "sbatch";
    argv[a++] = "--parsable";
    if (o->wait)
        argv[a++] = "--wait";
    argv[a++] = dep;
    argv[a++] = script[narr];
    argv[a] = NULL;
    int st = sbatch(argv, id, sizeof id);
    if (id[0])
        printf("Submitted batch job %s (%s, after the arrays)\n", id, script[narr]);
    if (st && st >= 0 && !o->wait)
        mv_error("sweep: sbatch failed (exit status %d) for %s", st, script[narr]);
    free(dep);
    free(script);
    if (st < 0 || st == 127)
        return EXIT_USAGE;
    return st ? EXIT_FAIL : EXIT_OK;
}

int sweep_one(const char *dir, const char *index)
{
    char *end;
    errno = 0;
    unsigned long ix = strtoul(index, &end, 10);
    if (!*index || *end || errno || strspn(index, "0123456789") != strlen(index)) {   /* no sign, no space */
        mv_error("sweep one: INDEX '%s': expected a non-negative integer", index);
        return EXIT_USAGE;
    }
    if (index[0] == '0' && index[1]) {   /* as every other number memvirt reads: '010' is not 8, nor 10 */
        mv_error("sweep one: INDEX '%s': a leading zero (write it as 'memvirt sweep SPEC --list' shows it)", index);
        return EXIT_USAGE;
    }
    char manifest[PATH_MAX + 16], id[17];
    snprintf(manifest, sizeof manifest, "%s/sweep.tsv", dir);
    char *args;
    unsigned long nruns;
    mv_error_context("sweep one: ");   /* the manifest's reader serves other commands too */
    int bad = sweep_manifest_read(manifest, ix, id, &args, &nruns);
    mv_error_context(NULL);
    if (bad)
        return EXIT_USAGE;
    char json[PATH_MAX + 64], txt[PATH_MAX + 64];
    snprintf(json, sizeof json, "%s", sweep_result_path(dir, id, "json"));
    snprintf(txt, sizeof txt, "%s", sweep_result_path(dir, id, "txt"));
    struct sweep_run planned = { .args = args };
    snprintf(planned.id, sizeof planned.id, "%s", id);
    if (sweep_result_current(dir, &planned, 0)) {
        free(args);
        return EXIT_OK;   /* finished before, and still current: resubmitted sweeps skip it */
    }
    /* Not a result, and stale (above): a FIFO, device or socket where the
     * result goes (or a link to one) would take the run's output, or
     * block it for ever (a FIFO without a reader). It goes, as a stale
     * result is replaced; a directory stays, and the run says so. */
    const char *result[2] = { json, txt };
    for (int k = 0; k < 2; k++) {
        struct stat rst;
        if (stat(result[k], &rst) || S_ISREG(rst.st_mode) || S_ISDIR(rst.st_mode))
            continue;
        if (unlink(result[k])) {
            mv_error("sweep one: '%s' is not a regular file and cannot be removed: %s", result[k],
                     strerror(errno));
            free(args);
            return EXIT_FAIL;
        }
        fprintf(stderr, "memvirt: warning: sweep one: '%s' was not a regular file: removed, the run's %s "
                        "goes there\n", result[k], k ? "table" : "result");
    }
    /* argv of `memvirt run`: its words, then where the results go */
    char **av = mv_calloc(strlen(args) / 2 + 8, sizeof *av);
    int ac = 0;
    av[ac++] = "run";
    for (char *save = NULL, *w = strtok_r(args, " ", &save); w; w = strtok_r(NULL, " ", &save))
        av[ac++] = w;
    av[ac++] = "--quiet";
    av[ac++] = "--json";
    av[ac++] = json;
    av[ac] = NULL;
    /* The run's table goes to a temporary file of outfile's, nameless
     * while the run goes where the host allows (so that a SIGKILL, an OOM
     * kill or Slurm's time limit leaves nothing beside the results), and
     * replaces the table only when the run succeeded. */
    struct outset os = { .n = 0 };
    if (outset_add(&os, "sweep one", txt)) {
        outset_free(&os);
        free(av);
        free(args);
        return EXIT_FAIL;
    }
    int tfd = fileno(outset_stream(&os, 0));
    /* the run in a child: a guest out of memory exits from deep inside it,
     * and its table must not stay behind half-written */
    fflush(NULL);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        mv_error("sweep one: fork: %s", strerror(errno));
        outset_free(&os);
        free(av);
        free(args);
        return EXIT_FAIL;
    }
    if (pid == 0) {
        /* the run ends with this process: a TERM to it alone (kill PID)
         * must not leave the run going as an orphan */
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != parent)
            _exit(EXIT_FAIL);
        /* what the run says names the manifest line it comes from (a value
         * edited into it that the run refuses); run ix is on line ix + 3:
         * the reader takes only consecutive indices after the two header
         * lines */
        char where[PATH_MAX + 96];
        snprintf(where, sizeof where, "sweep one: %s:%lu: run %lu: ", manifest, ix + 3, ix);
        mv_error_context(where);
        if (dup2(tfd, STDOUT_FILENO) < 0) {
            mv_error("cannot write '%s': %s", txt, strerror(errno));   /* after the context */
            _exit(EXIT_FAIL);
        }
        int st = cmd_run(ac, av);
        if (fflush(stdout) || ferror(stdout))
            st = st ? st : EXIT_FAIL;
        exit(st);
    }
    int st, rc;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    rc = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    if (rc == EXIT_OK && outset_commit(&os))
        rc = EXIT_FAIL;
    outset_free(&os);   /* a failed run's table: discarded */
    free(av);
    free(args);
    return rc;
}

/* outfile.c: checking and committing output files (see outfile.h). */
#define _GNU_SOURCE   /* mkostemp */
#include "lib/outfile.h"
#include "lib/err.h"
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_LINKS 40   /* as the kernel's MAXSYMLINKS */
#define MAX_TEMPS 32   /* temporary files alive at once, over every set */

/* ---- temporaries removed by a signal ---------------------------------- */

static char *volatile temps[MAX_TEMPS];
static volatile pid_t temp_pid[MAX_TEMPS];   /* the process that made it (a forked child leaves it be) */

void outfile_unlink_temps(void)
{
    pid_t me = getpid();
    for (unsigned i = 0; i < MAX_TEMPS; i++) {
        char *t = temps[i];
        if (t && temp_pid[i] == me)
            unlink(t);
    }
}

const int outfile_stop_sigs[] = { SIGINT,  SIGTERM, SIGHUP,  SIGQUIT, SIGXCPU, SIGALRM,
                                  SIGVTALRM, SIGPROF, SIGUSR1, SIGUSR2, SIGIO,   SIGPWR };
const unsigned outfile_nstop_sigs = sizeof outfile_stop_sigs / sizeof outfile_stop_sigs[0];

static void on_signal(int sig)
{
    outfile_unlink_temps();
    signal(sig, SIG_DFL);
    raise(sig);
}

/* Our handler, where nobody (a caller's handler, an inherited SIG_IGN) has
 * one; and at exit (a guest out of memory exits from deep inside a run) and
 * quick exit (the host out of memory, lib/err.c). The signals are those
 * that end the process by default: asked to stop or quit, a reader gone
 * (SIGPIPE where it is not ignored; memvirt ignores it but while a FIFO's
 * reader is awaited, open_stream), a file-size or CPU-time limit (SIGXFSZ
 * where it is not ignored, SIGXCPU), a timer or user signal nobody handles, an abort (a
 * broken invariant) and a crash; each is raised again once the temporaries
 * are gone, so the process ends as it would have. */
static void install(void)
{
    static int done;
    if (done)
        return;
    done = 1;
    atexit(outfile_unlink_temps);
    at_quick_exit(outfile_unlink_temps);
    /* besides the stop signals: a reader gone, a file-size limit, a crash */
    static const int more[] = { SIGPIPE, SIGXFSZ, SIGSYS, SIGTRAP, SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL };
    const unsigned nmore = sizeof more / sizeof more[0];
    for (unsigned i = 0; i < outfile_nstop_sigs + nmore; i++) {
        int sig = i < outfile_nstop_sigs ? outfile_stop_sigs[i] : more[i - outfile_nstop_sigs];
        struct sigaction old, sa = { 0 };
        sa.sa_handler = on_signal;
        sigemptyset(&sa.sa_mask);
        if (!sigaction(sig, NULL, &old) && old.sa_handler == SIG_DFL && !(old.sa_flags & SA_SIGINFO))
            sigaction(sig, &sa, NULL);
    }
}

static int xfsz_ignored;   /* by outfile_ignore_sigxfsz: its default was SIG_DFL */
static int pipe_ignored;   /* by outfile_ignore_sigpipe: the same */

/* Ignore sig where it has its default action: 1 if so. */
static int ignore_default(int sig)
{
    struct sigaction old;
    if (sigaction(sig, NULL, &old) || old.sa_handler != SIG_DFL || (old.sa_flags & SA_SIGINFO))
        return 0;
    signal(sig, SIG_IGN);
    return 1;
}

void outfile_ignore_sigxfsz(void)
{
    xfsz_ignored |= ignore_default(SIGXFSZ);
}

void outfile_ignore_sigpipe(void)
{
    pipe_ignored |= ignore_default(SIGPIPE);
}

void outfile_exec_signals(void)
{
    if (xfsz_ignored)
        signal(SIGXFSZ, SIG_DFL);
    if (pipe_ignored)
        signal(SIGPIPE, SIG_DFL);
}

FILE *outfile_popen(const char *command, const char *type)
{
    struct sigaction xfsz_old, pipe_old, dfl = { .sa_handler = SIG_DFL };
    sigemptyset(&dfl.sa_mask);
    if (xfsz_ignored)
        sigaction(SIGXFSZ, &dfl, &xfsz_old);
    if (pipe_ignored)
        sigaction(SIGPIPE, &dfl, &pipe_old);
    FILE *f = popen(command, type);   /* its child inherits them as the fork leaves them */
    int e = errno;
    if (pipe_ignored)
        sigaction(SIGPIPE, &pipe_old, NULL);
    if (xfsz_ignored)
        sigaction(SIGXFSZ, &xfsz_old, NULL);
    errno = e;
    return f;
}

static int stdio_closed[3];   /* by outfile_guard_stdio */

void outfile_guard_stdio(void)
{
    for (int fd = 0; fd <= STDERR_FILENO; fd++) {
        if (fcntl(fd, F_GETFD) != -1 || errno != EBADF)
            continue;
        /* open the other way round: reading or writing it fails as on a
         * closed descriptor (EBADF), and no file opened later gets its
         * number (the lowest free one); closed again at exec, so the
         * programs memvirt starts find it as memvirt did */
        int n = open("/dev/null", (fd == STDIN_FILENO ? O_WRONLY : O_RDONLY) | O_NOCTTY | O_CLOEXEC);
        if (n == fd)
            stdio_closed[fd] = 1;
        else if (n >= 0)
            close(n);
    }
}

/* fstat of standard output or error, as not there when it was closed. */
static int stdio_stat(int fd, struct stat *st)
{
    if (stdio_closed[fd]) {
        errno = EBADF;
        return -1;
    }
    return fstat(fd, st);
}

/* Is (dev, ino) the file standard descriptor fd is open on? */
static int is_stdio(int fd, dev_t dev, ino_t ino)
{
    struct stat st;
    return !stdio_stat(fd, &st) && st.st_dev == dev && st.st_ino == ino;
}

static int track(char *name)
{
    for (unsigned i = 0; i < MAX_TEMPS; i++)
        if (!temps[i]) {
            temp_pid[i] = getpid();
            temps[i] = name;
            install();
            return 0;
        }
    return -1;
}

static void untrack(const char *name)
{
    for (unsigned i = 0; i < MAX_TEMPS; i++)
        if (temps[i] == name)
            temps[i] = NULL;
}

int outfile_track_temp(char *name) { return track(name); }
void outfile_untrack_temp(const char *name) { untrack(name); }

/* ---- names -------------------------------------------------------------- */

static char *dir_of(const char *path)
{
    char *copy = mv_strdup(path);
    char *d = mv_strdup(dirname(copy));
    free(copy);
    return d;
}

static char *base_of(const char *path)
{
    char *copy = mv_strdup(path);
    char *b = mv_strdup(basename(copy));
    free(copy);
    return b;
}

static char *join(const char *d, const char *b)
{
    char *p = mv_malloc(strlen(d) + strlen(b) + 2);
    sprintf(p, "%s%s%s", d, strcmp(d, "/") ? "/" : "", b);
    return p;
}

/* A name that does not exist: if it is a dangling symbolic link, the name its
 * chain of links ends in (what writing through it creates). NULL after mv_error. */
static char *follow_dangling(const char *opt, const char *path)
{
    char *p = mv_strdup(path);
    struct stat st;
    for (int hops = 0; !lstat(p, &st) && S_ISLNK(st.st_mode); hops++) {
        char link[PATH_MAX];
        ssize_t n = hops < MAX_LINKS ? readlink(p, link, sizeof link - 1) : -1;
        if (n < 0) {
            mv_error("%s '%s': cannot write: %s", opt, path, strerror(hops < MAX_LINKS ? errno : ELOOP));
            free(p);
            return NULL;
        }
        link[n] = 0;
        char *next;
        if (link[0] == '/') {
            next = mv_strdup(link);
        } else {
            char *d = dir_of(p);
            next = join(d, link);
            free(d);
        }
        free(p);
        p = next;
    }
    return p;
}

/* The canonical name of a file that does not exist: its directory's real path
 * and its name. NULL after mv_error (the directory is missing). */
static char *canonical_new(const char *opt, const char *shown, const char *path)
{
    char *d = dir_of(path), *b = base_of(path);
    char *real = realpath(d, NULL);
    char *id = NULL;
    struct stat st;
    if (!real)
        mv_error("%s '%s': cannot write: directory '%s': %s", opt, shown, d, strerror(errno));
    else if (stat(real, &st))   /* ENAMETOOLONG: a working directory deeper than PATH_MAX */
        mv_error("%s '%s': cannot write: directory '%s': %s", opt, shown, d, strerror(errno));
    else if (!S_ISDIR(st.st_mode))
        mv_error("%s '%s': cannot write: '%s' is not a directory", opt, shown, d);
    else
        id = join(real, b);
    free(real);
    free(d);
    free(b);
    return id;
}

/* ---- inputs ------------------------------------------------------------- */

static int same(int ea, dev_t da, ino_t ia, const char *ida, int eb, dev_t db, ino_t ib, const char *idb)
{
    if (ea && eb)
        return da == db && ia == ib;
    return ida && idb && !strcmp(ida, idb);
}

static int clash_in(const struct outin *in, const struct outfile *o)
{
    if (!same(in->exists, in->dev, in->ino, in->ident, o->exists, o->dev, o->ino, o->ident))
        return 0;
    return mv_error("%s '%s' is %s '%s', an input of this command: it would be overwritten (give the "
                    "output another name)", o->opt, o->path, in->opt, in->path);
}

/* The running binary, in every set: an output renamed over it replaced
 * memvirt under its own feet (`run --json memvirt` exited 0 and left no
 * program behind; a write to it in place fails with ETXTBSY, the rename
 * does not). Its real name (/proc/self/exe, links resolved) for the
 * message; nothing when /proc cannot tell. */
static int clash_self(const struct outfile *o)
{
    struct stat st;
    if (!o->exists || stat("/proc/self/exe", &st) || st.st_dev != o->dev || st.st_ino != o->ino)
        return 0;
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    exe[n > 0 ? n : 0] = 0;
    return mv_error("%s '%s' is the memvirt binary%s%s%s that is running: it would be overwritten (give the "
                    "output another name)", o->opt, o->path, n > 0 ? " '" : "", exe, n > 0 ? "'" : "");
}

int outset_input(struct outset *s, const char *opt, const char *path)
{
    if (!path || !*path || !strcmp(path, "-"))
        return 0;
    if (s->nin == s->in_cap) {
        s->in_cap = s->in_cap ? 2 * s->in_cap : 8;
        s->in = mv_realloc(s->in, s->in_cap * sizeof *s->in);
    }
    struct outin *in = &s->in[s->nin];
    memset(in, 0, sizeof *in);
    in->opt = opt;
    in->path = mv_strdup(path);   /* the caller's may be gone by the time an output names it */
    struct stat st;
    if (!stat(path, &st)) {
        in->exists = 1;
        in->dev = st.st_dev;
        in->ino = st.st_ino;
    } else {
        int q = mv_error_quiet(1);
        char *t = follow_dangling(opt, path);
        in->ident = t ? canonical_new(opt, path, t) : NULL;
        mv_error_quiet(q);
        free(t);
    }
    s->nin++;
    for (unsigned i = 0; i < s->n; i++)
        if (clash_in(in, &s->f[i]))
            return -1;
    return 0;
}

int infile_open_nonblock(const char *path, struct stat *st)
{
    int fd;
    while ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) < 0 && errno == EINTR)
        ;
    if (fd >= 0 && fstat(fd, st)) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

/* ---- outputs ------------------------------------------------------------ */

/* Create o's temporary file beside its target: ".NAME.XXXXXX", NAME cut
 * short so that the whole stays within NAME_MAX. */
static char *tmp_template(const struct outfile *o)
{
    char *d = dir_of(o->target), *b = base_of(o->target);
    size_t room = NAME_MAX - 8;   /* '.', '.', XXXXXX */
    if (strlen(b) > room)
        b[room] = 0;
    char *t = mv_malloc(strlen(d) + strlen(b) + 12);
    sprintf(t, "%s%s.%s.XXXXXX", d, strcmp(d, "/") ? "/" : "", b);
    free(d);
    free(b);
    return t;
}

/* Can a file without a name be given one (linkat through /proc/self/fd)?
 * Without /proc, or with a kernel or file system that has no O_TMPFILE,
 * the temporary file is named from the start. */
static int proc_fd_usable(void)
{
    static int ok = -1;
    if (ok < 0)   /* MEMVIRT_NAMED_TEMPS=1: the named path, for the tests of its cleanup */
        ok = !access("/proc/self/fd", X_OK) && !getenv("MEMVIRT_NAMED_TEMPS");
    return ok;
}

static int make_tmp(struct outfile *o)
{
    /* Nameless while the run goes (O_TMPFILE): a process killed by a signal
     * it cannot catch (SIGKILL, the OOM killer) leaves nothing behind; the
     * file gets its name in the commit (finish_tmp), just before the rename. */
    int fd = -1;
    char *t = tmp_template(o);
    size_t tl = strlen(t);
    free(t);
    if (proc_fd_usable() && tl < PATH_MAX) {   /* too long a name: mkostemp says so now, not after the run */
        char *d = dir_of(o->target);
        fd = open(d, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
        free(d);
        o->anon = fd >= 0;
    }
    if (fd < 0) {
        o->tmp = tmp_template(o);
        fd = mkostemp(o->tmp, O_CLOEXEC);
    }
    if (fd < 0) {
        int e = errno;
        free(o->tmp);
        o->tmp = NULL;
        /* ENOENT from a directory that is there: one that takes no new
         * files (/proc's, /sys's); "No such file or directory" alone
         * misleads, the file being there */
        char *d2 = dir_of(o->target);
        struct stat dst;
        int there = e == ENOENT && !stat(d2, &dst) && S_ISDIR(dst.st_mode);
        free(d2);
        mv_error("%s '%s': cannot write: cannot create a file in its directory: %s", o->opt, o->path,
                 there ? "the directory takes no new files (as those of /proc and /sys)" : strerror(e));
        if (e == EMFILE || e == ENFILE || e == ENOMEM)
            exit(1);   /* the host's limits, not bad input: exit status 1, as out of memory (err.c) */
        return -1;
    }
    if (o->tmp && track(o->tmp)) {
        close(fd);
        unlink(o->tmp);
        free(o->tmp);
        o->tmp = NULL;
        return mv_error("%s '%s': too many output files at once", o->opt, o->path);
    }
    o->out = fchmod(fd, o->mode) ? NULL : fdopen(fd, "w");
    if (!o->out) {
        int e = errno;
        close(fd);
        return mv_error("%s '%s': cannot write: %s", o->opt, o->path, strerror(e));
    }
    return 0;
}

static void outfile_free(struct outfile *o)
{
    if (o->out)
        fclose(o->out);
    if (o->fd > STDERR_FILENO)
        close(o->fd);
    free(o->buf);
    free(o->target);
    free(o->ident);
    if (o->tmp) {
        untrack(o->tmp);
        unlink(o->tmp);
        free(o->tmp);
    }
    memset(o, 0, sizeof *o);
}

/* Would rename() over `target` (a regular file, st) fail for the sticky
 * bit of its directory? In a sticky directory only the file's owner, the
 * directory's owner or a privileged process (CAP_FOWNER; taken here as
 * euid 0) may remove or replace an entry. */
static int sticky_denies(const char *target, const struct stat *st)
{
    uid_t me = geteuid();
    if (me == 0 || st->st_uid == me)
        return 0;
    char *dir = mv_strdup(target);
    char *slash = strrchr(dir, '/');
    if (slash)
        *(slash == dir ? slash + 1 : slash) = 0;
    struct stat ds;
    int deny = !stat(slash ? dir : ".", &ds) && (ds.st_mode & S_ISVTX) && ds.st_uid != me;
    free(dir);
    return deny;
}

/* Fill in o's kind, identity and target from its path. -1 after mv_error. */
static int classify(struct outfile *o)
{
    const char *opt = o->opt, *path = o->path;
    struct stat st;
    if (!*path)
        return mv_error("%s: empty file name (use '-' for standard output)", opt);
    if (path[strlen(path) - 1] == '/')
        return mv_error("%s '%s': cannot write: it names a directory", opt, path);
    if (!strcmp(path, "-")) {
        o->kind = OUTFILE_STDOUT;
        if (!stdio_stat(STDOUT_FILENO, &st)) {
            o->exists = 1;
            o->dev = st.st_dev;
            o->ino = st.st_ino;
        }
        return 0;
    }
    if (!stat(path, &st)) {   /* it exists: what the kernel finds there, links followed */
        o->exists = 1;
        o->dev = st.st_dev;
        o->ino = st.st_ino;
        if (S_ISDIR(st.st_mode))
            return mv_error("%s '%s': cannot write: it is a directory", opt, path);
        if (S_ISREG(st.st_mode) &&
            (is_stdio(STDOUT_FILENO, st.st_dev, st.st_ino) || is_stdio(STDERR_FILENO, st.st_dev, st.st_ino))) {
            /* the file standard output or error is (/dev/stdout, or a log
             * both go to): written at its offset as they are, not replaced
             * under them */
            o->kind = OUTFILE_STREAM;
        } else if (S_ISREG(st.st_mode)) {
            o->kind = OUTFILE_REPLACE;
            o->mode = st.st_mode & 07777;
            o->target = realpath(path, NULL);
            if (!o->target)
                return mv_error("%s '%s': cannot write: %s", opt, path, strerror(errno));
            if (sticky_denies(o->target, &st))
                return mv_error("%s '%s': cannot replace it: its directory is sticky (as /tmp is) and neither "
                                "the file nor the directory is yours", opt, path);
        } else if (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
            o->kind = OUTFILE_STREAM;
        } else {
            /* a socket cannot be opened by name; standard output may be one */
            if (!is_stdio(STDOUT_FILENO, st.st_dev, st.st_ino))
                return mv_error("%s '%s': cannot write: not a regular file, device or FIFO", opt, path);
            o->kind = OUTFILE_STREAM;
        }
        if (access(path, W_OK))
            return mv_error("%s '%s': cannot write: %s", opt, path, strerror(errno));
        return 0;
    }
    if (errno != ENOENT)
        return mv_error("%s '%s': cannot write: %s", opt, path, strerror(errno));
    char *t = follow_dangling(opt, path);
    if (!t)
        return -1;
    o->ident = canonical_new(opt, path, t);
    free(t);
    if (!o->ident)
        return -1;
    o->target = mv_strdup(o->ident);
    o->kind = OUTFILE_REPLACE;
    mode_t mask = umask(0);
    umask(mask);
    o->mode = 0666 & ~mask;
    return 0;
}

static int same_file(const struct outfile *a, const struct outfile *b)
{
    if (a->kind == OUTFILE_STDOUT && b->kind == OUTFILE_STDOUT)
        return 1;
    return same(a->exists, a->dev, a->ino, a->ident, b->exists, b->dev, b->ino, b->ident);
}

int outset_add(struct outset *s, const char *opt, const char *path)
{
    MV_ASSERT(s->n < OUTSET_MAX, "too many outputs");
    struct outfile *o = &s->f[s->n];
    memset(o, 0, sizeof *o);
    o->opt = opt;
    o->path = path;
    o->fd = -1;
    if (classify(o) || clash_self(o))
        goto bad;
    for (unsigned i = 0; i < s->n; i++)
        if (same_file(&s->f[i], o)) {
            mv_error("%s '%s' and %s '%s' are the same file: give each output its own", s->f[i].opt,
                     s->f[i].path, opt, path);
            goto bad;
        }
    for (unsigned i = 0; i < s->nin; i++)
        if (clash_in(&s->in[i], o))
            goto bad;
    if (o->kind == OUTFILE_REPLACE) {
        if (make_tmp(o))
            goto bad;
    } else {
        o->out = open_memstream(&o->buf, &o->len);
        if (!o->out)
            mv_out_of_memory(0);   /* its only failure */
    }
    s->n++;
    return 0;
bad:
    outfile_free(o);
    return -1;
}

FILE *outset_stream(struct outset *s, unsigned i)
{
    MV_ASSERT(i < s->n, "no output %u", i);
    return s->f[i].out;
}

int outset_stream_failed(const struct outset *s, unsigned i)
{
    int e = errno;
    MV_ASSERT(i < s->n, "no output %u", i);
    return mv_error("%s '%s': cannot write: %s", s->f[i].opt, s->f[i].path, e ? strerror(e) : "write error");
}

const char *outset_tmp_path(const struct outset *s, unsigned i)
{
    MV_ASSERT(i < s->n, "no output %u", i);
    return s->f[i].tmp;
}

static int is_stdout(const struct outfile *o, const struct stat *so)
{
    return o->kind == OUTFILE_STDOUT || (o->exists && o->dev == so->st_dev && o->ino == so->st_ino);
}

static int is_stderr(const struct outfile *o)
{
    return o->kind == OUTFILE_STREAM && o->exists && is_stdio(STDERR_FILENO, o->dev, o->ino);
}

/* The output that takes standard output, or -1. */
static int stdout_taker(const struct outset *s)
{
    struct stat st;
    int have = !stdio_stat(STDOUT_FILENO, &st);
    for (unsigned i = 0; i < s->n; i++) {
        const struct outfile *o = &s->f[i];
        if (o->kind == OUTFILE_STDOUT)
            return (int)i;
        /* stdout redirected to the same pipe or file: keep them apart (a
         * terminal is shared without harm) */
        if (have && is_stdout(o, &st) && !S_ISCHR(st.st_mode))
            return (int)i;
    }
    return -1;
}

int outset_uses_stdout(const struct outset *s)
{
    return stdout_taker(s) >= 0;
}

/* An output that is standard error's file, where what goes: t is the
 * output taking standard output (what goes to standard error because of
 * it), or -1 where what always goes there. */
static int stderr_clash(const struct outset *s, int t, const char *what)
{
    struct stat se;
    if (stdio_stat(STDERR_FILENO, &se) || S_ISCHR(se.st_mode))
        return 0;   /* nothing to mix with; a terminal, /dev/null */
    for (unsigned i = 0; i < s->n; i++) {
        const struct outfile *o = &s->f[i];
        if (!o->exists || o->dev != se.st_dev || o->ino != se.st_ino)
            continue;
        if (t < 0)
            return mv_error("%s '%s' is standard error's file, which gets %s too: give the output another file",
                            o->opt, o->path, what);
        if ((int)i == t)
            return mv_error("%s '%s' takes standard output, which is standard error's file too, where %s then "
                            "goes: give standard error or the output another file", o->opt, o->path, what);
        return mv_error("%s '%s' is standard error, where %s goes when %s '%s' takes standard output: give "
                        "each its own file", o->opt, o->path, what, s->f[t].opt, s->f[t].path);
    }
    return 0;
}

int outset_stderr_clash(const struct outset *s, const char *what)
{
    int t = stdout_taker(s);
    return t < 0 ? 0 : stderr_clash(s, t, what);   /* what goes to stdout otherwise */
}

int outset_stderr_shared(const struct outset *s, const char *what)
{
    return stderr_clash(s, -1, what);
}

int outset_refuse_terminal(const struct outset *s, const char *what)
{
    for (unsigned i = 0; i < s->n; i++) {
        const struct outfile *o = &s->f[i];
        int fd = -1;
        if (o->kind == OUTFILE_STDOUT)
            fd = STDOUT_FILENO;
        else if (o->kind == OUTFILE_STREAM && o->exists)
            fd = is_stdio(STDOUT_FILENO, o->dev, o->ino)   ? STDOUT_FILENO
                 : is_stdio(STDERR_FILENO, o->dev, o->ino) ? STDERR_FILENO
                                                           : -1;
        if (fd >= 0 && isatty(fd))
            return mv_error("%s '%s': %s is binary, and standard %s is a terminal: redirect it, or name a file",
                            o->opt, o->path, what, fd == STDOUT_FILENO ? "output" : "error");
    }
    return 0;
}

static int write_all(int fd, const char *buf, size_t len)
{
    while (len) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Open a stream output (a FIFO waits for its reader). Standard output, by
 * '-' or by a name for the same file (/dev/stdout, a socket), is fd 1. */
static int open_stream(struct outfile *o)
{
    struct stat st;
    if ((o->kind == OUTFILE_STDOUT || !stdio_stat(STDOUT_FILENO, &st)) && is_stdout(o, &st)) {
        if (fflush(stdout))
            return mv_error("%s '%s': cannot write to standard output: %s", o->opt, o->path, strerror(errno));
        o->fd = STDOUT_FILENO;
        return 0;
    }
    if (is_stderr(o)) {
        fflush(stderr);
        o->fd = STDERR_FILENO;
        return 0;
    }
    /* a FIFO's reader may be awaited here, however long, with nothing
     * written: SIGPIPE ends the process (its temporaries removed) as it
     * would have, were it not ignored for the writes (outfile_ignore_sigpipe) */
    struct sigaction pipe_old, rm = { .sa_handler = on_signal };
    sigemptyset(&rm.sa_mask);
    if (pipe_ignored)
        sigaction(SIGPIPE, &rm, &pipe_old);
    int fd;
    while ((fd = open(o->path, O_WRONLY | O_NOCTTY | O_CLOEXEC)) < 0 && errno == EINTR)
        ;
    int e = errno;
    if (pipe_ignored)
        sigaction(SIGPIPE, &pipe_old, NULL);
    errno = e;
    if (fd < 0)
        return mv_error("%s '%s': cannot write: %s", o->opt, o->path, strerror(errno));
    o->fd = fd;
    if (fstat(fd, &st) || st.st_dev != o->dev || st.st_ino != o->ino)
        return mv_error("%s '%s': the file changed during the run", o->opt, o->path);
    return 0;
}

/* Give the nameless temporary file (fd) a name beside its target:
 * ".NAME.XXXXXX" as mkostemp would make it, another on a clash. */
static int name_tmp(struct outfile *o, int fd)
{
    static const char digits[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    char proc[64];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
    char *t = tmp_template(o);
    char *x = t + strlen(t) - 6;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t r = (uint64_t)ts.tv_nsec ^ (uint64_t)ts.tv_sec << 30 ^ (uint64_t)getpid() << 40 ^ (uintptr_t)o;
    for (int tries = 0; tries < 1000; tries++) {
        for (int i = 0; i < 6; i++) {
            r = r * 6364136223846793005ull + 1442695040888963407ull;   /* an LCG: names, not secrets */
            x[i] = digits[(r >> 33) % (sizeof digits - 1)];
        }
        /* the handled signals held from the name to its tracking: one
         * between them would leave the name behind (on_signal) */
        sigset_t all, old;
        sigfillset(&all);
        sigprocmask(SIG_BLOCK, &all, &old);
        int linked = !linkat(AT_FDCWD, proc, AT_FDCWD, t, AT_SYMLINK_FOLLOW);
        int e = errno, full = linked && track(t);
        if (full)
            unlink(t);
        sigprocmask(SIG_SETMASK, &old, NULL);
        if (linked) {
            if (full) {
                free(t);
                return mv_error("%s '%s': too many output files at once", o->opt, o->path);
            }
            o->tmp = t;
            o->anon = 0;
            return 0;
        }
        errno = e;
        if (errno != EEXIST)
            break;
    }
    int e = errno;
    free(t);
    return mv_error("%s '%s': cannot write: cannot name the file in its directory: %s", o->opt, o->path,
                    strerror(e));
}

/* Finish a temporary file: its content flushed to the disk, and a name
 * given to one that has none. */
static int finish_tmp(struct outfile *o)
{
    int rc = fflush(o->out) || ferror(o->out) || fsync(fileno(o->out));
    int e = errno;
    if (!rc && o->anon && name_tmp(o, fileno(o->out))) {
        fclose(o->out);
        o->out = NULL;
        return -1;
    }
    if (fclose(o->out) && !rc) {
        rc = 1;
        e = errno;
    }
    o->out = NULL;
    if (rc)
        return mv_error("%s '%s': cannot write: %s", o->opt, o->path, e ? strerror(e) : "write error");
    return 0;
}

int outset_commit(struct outset *s)
{
    int rc = 0;
    for (unsigned i = 0; i < s->n && !rc; i++) {
        struct outfile *o = &s->f[i];
        if (o->kind == OUTFILE_REPLACE)
            continue;
        if (fclose(o->out))
            rc = mv_error("%s '%s': out of memory formatting the output", o->opt, o->path);
        o->out = NULL;
    }
    /* the streams opened first: the temporary files stay nameless while a
     * FIFO's reader is awaited, however long */
    for (unsigned i = 0; i < s->n && !rc; i++)
        if (s->f[i].kind != OUTFILE_REPLACE)
            rc = open_stream(&s->f[i]);
    for (unsigned i = 0; i < s->n && !rc; i++)
        if (s->f[i].kind == OUTFILE_REPLACE)
            rc = finish_tmp(&s->f[i]);
    /* A reader that went away is an error (EPIPE: SIGPIPE is ignored,
     * outfile_ignore_sigpipe), not the end of us mid-commit. */
    for (unsigned i = 0; i < s->n && !rc; i++) {
        struct outfile *o = &s->f[i];
        if (o->kind != OUTFILE_REPLACE && write_all(o->fd, o->buf, o->len))
            rc = mv_error("%s '%s': cannot write: %s", o->opt, o->path, strerror(errno));
    }
    char done[1024] = "";
    for (unsigned i = 0; i < s->n && !rc; i++) {
        struct outfile *o = &s->f[i];
        if (o->kind != OUTFILE_REPLACE)
            continue;
        if (rename(o->tmp, o->target)) {
            rc = mv_error("%s '%s': cannot replace it: %s%s%s", o->opt, o->path, strerror(errno),
                          *done ? "; already replaced: " : "", done);
            break;
        }
        untrack(o->tmp);
        free(o->tmp);
        o->tmp = NULL;
        snprintf(done + strlen(done), sizeof done - strlen(done), "%s%s '%s'", *done ? ", " : "", o->opt,
                 o->path);
    }
    for (unsigned i = 0; i < s->n; i++) {
        struct outfile *o = &s->f[i];
        if (o->fd > STDERR_FILENO && close(o->fd) && !rc)
            rc = mv_error("%s '%s': cannot write: %s", o->opt, o->path, strerror(errno));
        o->fd = -1;
    }
    return rc ? -1 : 0;   /* temporary files left are removed by outset_free */
}

void outset_free(struct outset *s)
{
    for (unsigned i = 0; i < s->n; i++)
        outfile_free(&s->f[i]);
    for (unsigned i = 0; i < s->nin; i++) {
        free(s->in[i].ident);
        free(s->in[i].path);
    }
    free(s->in);
    s->in = NULL;
    s->n = s->nin = s->in_cap = 0;
}

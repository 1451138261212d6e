/* outfile.c: checking and committing output files (see outfile.h). */
#include "lib/outfile.h"
#include "lib/err.h"
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_LINKS 40   /* as the kernel's MAXSYMLINKS */

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

/* Follow symbolic links from `path`. Returns the final name (malloc'd) and
 * whether it exists (with *st filled), or NULL after mv_error. */
static char *resolve(const struct outfile *o, const char *path, struct stat *st, int *exists)
{
    char *p = mv_strdup(path);
    for (int hops = 0;; hops++) {
        if (lstat(p, st)) {
            if (errno == ENOENT) {
                *exists = 0;
                return p;
            }
            mv_error("%s '%s': cannot write: %s", o->opt, o->path, strerror(errno));
            free(p);
            return NULL;
        }
        if (!S_ISLNK(st->st_mode)) {
            *exists = 1;
            return p;
        }
        if (hops == MAX_LINKS) {
            mv_error("%s '%s': cannot write: %s", o->opt, o->path, strerror(ELOOP));
            free(p);
            return NULL;
        }
        char link[PATH_MAX];
        ssize_t n = readlink(p, link, sizeof link - 1);
        if (n < 0) {
            mv_error("%s '%s': cannot read the link '%s': %s", o->opt, o->path, p, strerror(errno));
            free(p);
            return NULL;
        }
        link[n] = 0;
        char *next;
        if (link[0] == '/') {
            next = mv_strdup(link);
        } else {
            char *d = dir_of(p);
            next = mv_malloc(strlen(d) + strlen(link) + 2);
            sprintf(next, "%s/%s", d, link);
            free(d);
        }
        free(p);
        p = next;
    }
}

/* The directory a new or replaced file goes to must exist and be writable. */
static int check_dir(const struct outfile *o, const char *target)
{
    char *d = dir_of(target);
    struct stat st;
    int rc = 0;
    if (stat(d, &st))
        rc = mv_error("%s '%s': cannot write: directory '%s': %s", o->opt, o->path, d, strerror(errno));
    else if (!S_ISDIR(st.st_mode))
        rc = mv_error("%s '%s': cannot write: '%s' is not a directory", o->opt, o->path, d);
    else if (access(d, W_OK | X_OK))
        rc = mv_error("%s '%s': cannot write: directory '%s': %s", o->opt, o->path, d, strerror(errno));
    free(d);
    return rc;
}

/* A new file's identity: its directory's canonical path and its name. */
static char *new_ident(const char *target)
{
    char *d = dir_of(target), *b = base_of(target);
    char *real = realpath(d, NULL);
    char *id = mv_malloc(strlen(real ? real : d) + strlen(b) + 2);
    sprintf(id, "%s/%s", real ? real : d, b);
    free(real);
    free(d);
    free(b);
    return id;
}

static int same_file(const struct outfile *a, const struct outfile *b)
{
    if (a->kind == OUTFILE_STDOUT && b->kind == OUTFILE_STDOUT)
        return 1;
    if (a->exists && b->exists)
        return a->dev == b->dev && a->ino == b->ino;
    if (a->ident && b->ident)
        return !strcmp(a->ident, b->ident);
    return 0;
}

static void outfile_free(struct outfile *o)
{
    if (o->mem)
        fclose(o->mem);
    free(o->buf);
    free(o->target);
    free(o->ident);
    if (o->tmp) {
        unlink(o->tmp);
        free(o->tmp);
    }
    memset(o, 0, sizeof *o);
}

int outset_add(struct outset *s, const char *opt, const char *path)
{
    MV_ASSERT(s->n < OUTSET_MAX, "too many outputs");
    struct outfile *o = &s->f[s->n];
    memset(o, 0, sizeof *o);
    o->opt = opt;
    o->path = path;
    struct stat st;
    if (!*path)
        return mv_error("%s: empty file name (use '-' for standard output)", opt);
    if (path[strlen(path) - 1] == '/')
        return mv_error("%s '%s': cannot write: it names a directory", opt, path);
    if (!strcmp(path, "-")) {
        o->kind = OUTFILE_STDOUT;
        if (!fstat(STDOUT_FILENO, &st)) {
            o->exists = 1;
            o->dev = st.st_dev;
            o->ino = st.st_ino;
        }
    } else {
        o->target = resolve(o, path, &st, &o->exists);
        if (!o->target)
            goto bad;
        if (o->exists) {
            o->dev = st.st_dev;
            o->ino = st.st_ino;
            if (S_ISDIR(st.st_mode)) {
                mv_error("%s '%s': cannot write: it is a directory", opt, path);
                goto bad;
            }
            if (S_ISREG(st.st_mode)) {
                o->kind = OUTFILE_REPLACE;
                o->mode = st.st_mode & 0777;
                if (check_dir(o, o->target))
                    goto bad;
            } else if (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
                o->kind = OUTFILE_STREAM;
            } else {
                mv_error("%s '%s': cannot write: not a regular file, device or FIFO", opt, path);
                goto bad;
            }
            if (access(o->target, W_OK)) {
                mv_error("%s '%s': cannot write: %s", opt, path, strerror(errno));
                goto bad;
            }
        } else {
            o->kind = OUTFILE_REPLACE;
            mode_t mask = umask(0);
            umask(mask);
            o->mode = 0666 & ~mask;
            if (check_dir(o, o->target))
                goto bad;
            o->ident = new_ident(o->target);
        }
    }
    for (unsigned i = 0; i < s->n; i++)
        if (same_file(&s->f[i], o)) {
            mv_error("%s '%s' and %s '%s' are the same file: give each output its own", s->f[i].opt,
                     s->f[i].path, opt, path);
            goto bad;
        }
    o->mem = open_memstream(&o->buf, &o->len);
    MV_ASSERT(o->mem, "open_memstream: %s", strerror(errno));
    s->n++;
    return 0;
bad:
    outfile_free(o);
    return -1;
}

FILE *outset_stream(struct outset *s, unsigned i)
{
    MV_ASSERT(i < s->n, "no output %u", i);
    return s->f[i].mem;
}

int outset_uses_stdout(const struct outset *s)
{
    struct stat st;
    int have = !fstat(STDOUT_FILENO, &st);
    for (unsigned i = 0; i < s->n; i++) {
        const struct outfile *o = &s->f[i];
        if (o->kind == OUTFILE_STDOUT)
            return 1;
        /* stdout redirected to the same pipe or file: keep them apart (a
         * terminal is shared without harm) */
        if (have && o->exists && o->dev == st.st_dev && o->ino == st.st_ino && !S_ISCHR(st.st_mode))
            return 1;
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

/* Write a regular file's content to a fresh temporary file beside it. */
static int write_tmp(struct outfile *o)
{
    char *d = dir_of(o->target), *b = base_of(o->target);
    o->tmp = mv_malloc(strlen(d) + strlen(b) + 16);
    sprintf(o->tmp, "%s/.%s.XXXXXX", d, b);
    free(d);
    free(b);
    int fd = mkstemp(o->tmp);
    if (fd < 0) {
        int e = errno;
        free(o->tmp);
        o->tmp = NULL;
        return mv_error("%s '%s': cannot create a temporary file beside it: %s", o->opt, o->path, strerror(e));
    }
    int rc = fchmod(fd, o->mode) || write_all(fd, o->buf, o->len);
    int e = errno;
    if (close(fd) && !rc) {
        rc = 1;
        e = errno;
    }
    if (rc)
        return mv_error("%s '%s': cannot write: %s", o->opt, o->path, strerror(e));
    return 0;
}

static int write_stream(struct outfile *o)
{
    if (o->kind == OUTFILE_STDOUT) {
        if (fflush(stdout) || write_all(STDOUT_FILENO, o->buf, o->len))
            return mv_error("%s '-': cannot write to standard output: %s", o->opt, strerror(errno));
        return 0;
    }
    int fd = open(o->target, O_WRONLY | O_NOCTTY | O_CLOEXEC);
    if (fd < 0)
        return mv_error("%s '%s': cannot write: %s", o->opt, o->path, strerror(errno));
    struct stat st;
    int rc = 0, e = 0;
    if (fstat(fd, &st) || st.st_dev != o->dev || st.st_ino != o->ino) {
        close(fd);
        return mv_error("%s '%s': the file changed during the run", o->opt, o->path);
    }
    if (write_all(fd, o->buf, o->len)) {
        rc = -1;
        e = errno;
    }
    if (close(fd) && !rc) {
        rc = -1;
        e = errno;
    }
    if (rc)
        return mv_error("%s '%s': cannot write: %s", o->opt, o->path, strerror(e));
    return 0;
}

int outset_commit(struct outset *s)
{
    for (unsigned i = 0; i < s->n; i++) {
        struct outfile *o = &s->f[i];
        if (fclose(o->mem)) {
            o->mem = NULL;
            return mv_error("%s '%s': out of memory formatting the output", o->opt, o->path);
        }
        o->mem = NULL;
    }
    /* A reader that went away must give an error, not kill us mid-commit. */
    struct sigaction ign = { .sa_handler = SIG_IGN }, old;
    sigemptyset(&ign.sa_mask);
    sigaction(SIGPIPE, &ign, &old);
    int rc = 0;
    for (unsigned i = 0; i < s->n && !rc; i++)
        if (s->f[i].kind == OUTFILE_REPLACE)
            rc = write_tmp(&s->f[i]);
    for (unsigned i = 0; i < s->n && !rc; i++)
        if (s->f[i].kind != OUTFILE_REPLACE)
            rc = write_stream(&s->f[i]);
    for (unsigned i = 0; i < s->n && !rc; i++) {
        struct outfile *o = &s->f[i];
        if (o->kind != OUTFILE_REPLACE)
            continue;
        if (rename(o->tmp, o->target))
            rc = mv_error("%s '%s': cannot replace it: %s", o->opt, o->path, strerror(errno));
        else {
            free(o->tmp);
            o->tmp = NULL;
        }
    }
    sigaction(SIGPIPE, &old, NULL);
    return rc ? -1 : 0;   /* temporary files left are removed by outset_free */
}

void outset_free(struct outset *s)
{
    for (unsigned i = 0; i < s->n; i++)
        outfile_free(&s->f[i]);
    s->n = 0;
}

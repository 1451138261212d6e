/* reopen.c: input logs read through a bounded cache of open descriptors
 * (reopen.h). Each log has a descriptor-less stdio stream (fopencookie)
 * whose read hook takes the log's descriptor from the cache, reopening the
 * log by name at the offset it stopped at (pread) if it was closed to make
 * room, least recently read first. The cap is the caller's; if the host
 * refuses a descriptor under it anyway (descriptors inherited from the
 * parent count against the same limit), the cache closes its least recent
 * log, lowers its cap to what it holds, and tries again: only a cache that
 * holds nothing else gives up (the host's failure, as import_fopen says). */
#define _GNU_SOURCE   /* fopencookie */
#include "trace/reopen.h"
#include "lib/err.h"
#include "trace/import.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

/* Each stream's buffer, REOPEN_BUF: what a log's FILE held when every log
 * was open (a regular file's st_blksize), so the logs read ahead take no
 * more memory than they did; a log is reopened once per this many bytes at
 * most. */
#define NONE UINT_MAX

struct rlog {
    struct reopen_set *s;
    FILE *f;                  /* the stream (made at the first reopen_stream) */
    char *buf;                /* its buffer (glibc takes a size only with one) */
    int fd;                   /* -1: closed */
    int opened;               /* opened once: the identity below is the file's */
    int eof;
    off_t off;                /* the next byte to read */
    struct import_log_id id;  /* the file as it was when last closed (or first opened) */
    unsigned prev, next;      /* the open logs, least recently read first */
};

struct reopen_set {
    const char *const *names;
    struct rlog *l;
    unsigned n, max, open, peak, buf;
    unsigned lru, mru;        /* the ends of the open logs' list */
    unsigned long long opens;
    int failed;
};

static unsigned idx(const struct rlog *r)
{
    return (unsigned)(r - r->s->l);
}

static void unlink_open(struct rlog *r)
{
    struct reopen_set *s = r->s;
    if (r->prev != NONE)
        s->l[r->prev].next = r->next;
    else
        s->lru = r->next;
    if (r->next != NONE)
        s->l[r->next].prev = r->prev;
    else
        s->mru = r->prev;
    r->prev = r->next = NONE;
}

static void link_mru(struct rlog *r)
{
    struct reopen_set *s = r->s;
    r->prev = s->mru;
    r->next = NONE;
    if (s->mru != NONE)
        s->l[s->mru].next = idx(r);
    else
        s->lru = idx(r);
    s->mru = idx(r);
}

static void remember(struct rlog *r, const struct stat *sb)
{
    import_log_remember(&r->id, sb);
}

/* Close r's descriptor, keeping what the file is now: a reopening must find
 * it so (a log still growing while it was read is judged from here). */
static void lclose(struct rlog *r)
{
    if (r->fd < 0)
        return;
    struct stat sb;
    if (!fstat(r->fd, &sb))
        remember(r, &sb);
    close(r->fd);
    r->fd = -1;
    unlink_open(r);
    r->s->open--;
}

static int fail(struct reopen_set *s)
{
    s->failed = 1;
    return -1;
}

#define CLOSED_FOR " (it was closed to stay within the limit on open files, and reopened to read on)"

static int lopen(struct rlog *r)
{
    struct reopen_set *s = r->s;
    const char *name = s->names[idx(r)];
    if (s->open >= s->max && s->lru != NONE)
        lclose(&s->l[s->lru]);
    int fd;
    /* O_NONBLOCK: a log that became a FIFO is refused below rather than
     * waited on (on a regular file the flag changes nothing) */
    while ((fd = open(name, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) < 0) {
        int e = errno;
        if (e == EINTR)
            continue;
        if ((e == EMFILE || e == ENFILE) && s->lru != NONE) {
            s->max = s->open;                      /* what the host lets us hold */
            lclose(&s->l[s->lru]);
            continue;
        }
        /* its first opening too: the log was there when checked */
        import_log_gone(name, e, r->opened ? CLOSED_FOR : "");
        return fail(s);
    }
    struct stat sb;
    if (fstat(fd, &sb)) {
        int e = errno;
        close(fd);
        import_fail_outside();
        return mv_error("cannot read '%s': %s", name, strerror(e)), fail(s);
    }
    char why[96];
    const char *bad = r->opened ? import_log_changed(&r->id, &sb, why, sizeof why)
                    : !S_ISREG(sb.st_mode) ? "it is not a regular file now" : NULL;
    if (bad) {
        close(fd);
        import_fail_outside();
        return mv_error("log '%s' changed while it was imported: %s" CLOSED_FOR, name, bad), fail(s);
    }
    remember(r, &sb);
    r->opened = 1;
    r->fd = fd;
    link_mru(r);
    s->opens++;
    if (++s->open > s->peak)
        s->peak = s->open;
    return 0;
}

static ssize_t lread(void *cookie, char *buf, size_t size)
{
    struct rlog *r = cookie;
    struct reopen_set *s = r->s;
    if (s->failed)
        return -1;
    if (r->eof)
        return 0;
    if (r->fd < 0) {
        if (lopen(r))
            return -1;
    } else if (s->mru != idx(r)) {
        unlink_open(r);
        link_mru(r);
    }
    ssize_t k;
    while ((k = pread(r->fd, buf, size, r->off)) < 0 && errno == EINTR)
        ;
    if (k < 0) {
        int e = errno;
        import_fail_outside();
        import_host_failure(e);
        return mv_error("cannot read '%s': %s", s->names[idx(r)], strerror(e)), fail(s);
    }
    r->off += k;
    /* at the size the file had when last looked at: if it is still that
     * size, this is its end, and the descriptor is freed now rather than
     * kept (or taken again) only to read nothing */
    struct stat sb;
    if (r->off >= r->id.size && (fstat(r->fd, &sb) || (remember(r, &sb), r->off >= r->id.size))) {
        r->eof = 1;
        lclose(r);
    }
    return k;
}

static int lclose_stream(void *cookie)
{
    lclose(cookie);
    return 0;
}

struct reopen_set *reopen_set_new(const char *const *names, unsigned n, unsigned max, unsigned buf)
{
    struct reopen_set *s = mv_calloc(1, sizeof *s);
    s->buf = buf ? buf : REOPEN_BUF;
    s->names = names;
    s->n = n;
    s->max = max ? max : 1;
    s->lru = s->mru = NONE;
    s->l = mv_calloc(n ? n : 1, sizeof *s->l);
    for (unsigned i = 0; i < n; i++) {
        s->l[i].s = s;
        s->l[i].fd = -1;
        s->l[i].prev = s->l[i].next = NONE;
    }
    return s;
}

FILE *reopen_stream(struct reopen_set *s, unsigned i)
{
    struct rlog *r = &s->l[i];
    if (r->f)
        return r->f;
    cookie_io_functions_t io = { .read = lread, .close = lclose_stream };
    if (!(r->f = fopencookie(r, "r", io))) {
        int e = errno;
        import_host_failure(e);
        mv_error("cannot open '%s': %s", s->names[i], strerror(e));
        return NULL;
    }
    r->buf = mv_malloc(s->buf);
    setvbuf(r->f, r->buf, _IOFBF, s->buf);
    return r->f;
}

int reopen_failed(const struct reopen_set *s)
{
    return s->failed;
}

void reopen_done(struct reopen_set *s, unsigned i)
{
    struct rlog *r = &s->l[i];
    if (r->f)
        fclose(r->f);
    r->f = NULL;
    free(r->buf);
    r->buf = NULL;
    lclose(r);
}

void reopen_set_free(struct reopen_set *s)
{
    if (!s)
        return;
    for (unsigned i = 0; i < s->n; i++)
        reopen_done(s, i);
    free(s->l);
    free(s);
}

unsigned reopen_open_now(const struct reopen_set *s)
{
    return s->open;
}

unsigned reopen_open_peak(const struct reopen_set *s)
{
    return s->peak;
}

unsigned long long reopen_opens(const struct reopen_set *s)
{
    return s->opens;
}

unsigned reopen_max_open(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > UINT_MAX / 2)
        return UINT_MAX / 2;
    return rl.rlim_cur > REOPEN_MARGIN + 1 ? (unsigned)rl.rlim_cur - REOPEN_MARGIN : 1;
}

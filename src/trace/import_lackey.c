/* import_lackey.c: valgrind lackey logs into a trace (import.h).
 *
 * Recorded with `valgrind --tool=lackey --trace-mem=yes --trace-syscalls=yes
 * --trace-children=yes --log-file=DIR/lackey.%p.%n` (not -q, which drops the
 * header lines used here): one log per process image, holding every instruction fetch ("I"), load ("L"), store ("S") and
 * modify ("M") in program order, interleaved with valgrind's own trace of
 * the system calls ("SYSCALL[pid,tid](nr) sys_name ( args ) --> result"),
 * and headed by "==pid== Command:" and "Parent PID:" lines.
 *
 * Logs carry no time: a process replays in one go, and a child runs to its
 * end at the point where its parent forked it (as after vfork). valgrind
 * loads the program itself, so no exec layout is known: pages outside every
 * traced mapping get an implicit mapping (build_implicit), and the address
 * space is the one the program had under valgrind. Threads share their
 * process's log, so their references are the process's. Files are named by
 * path (dev 0, a hash of the path), each process keeping its own descriptor
 * table (trace/fdtab.h). valgrind prints clone's flags in hex without "0x";
 * every other number it prints without "0x" is decimal. --sample N keeps one reference in N,
 * --window START:LEN the LEN references after the first START, per process.
 * Logs given by name are opened one at a time (a parent's is closed while
 * a child it forked replays, and reopened at its offset after): the
 * process tree is walked with an explicit stack, so its depth costs
 * neither the C stack nor descriptors. */
#include "lib/err.h"
#include "trace/fdtab.h"
#include "trace/import.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#define O_CLOEXEC_BIT 0x80000       /* x86-64 O_CLOEXEC */

struct lfile {
    FILE *f;                      /* open while it is read */
    int own;                      /* opened here by name (closed after each read) */
    struct import_log_id id;      /* the file the header scan read */
    const char *name;
    uint32_t pid, ppid;
    char *cmd, *exec_to;          /* first word of Command; target of its execve */
    int done;
    int target;                   /* another log of its pid execs into its cmd */
};

/* Where a process stands: the image it replays (and where in it), or the
 * next to choose. The process tree is walked with an explicit stack of
 * these, not by recursion (a chain of 10,000 processes overflowed the
 * stack), and a parent's log is closed while a child replays, reopened at
 * its offset after: one log open at a time, however deep the tree. */
struct frame {
    uint32_t pid;
    int child;                    /* forked in a parent's log: exits when it ends */
    struct fdtab *fds;
    uint64_t nref;
    const char *want;             /* the image an execve went to */
    int first;
    struct lfile *lf;             /* the image replayed, NULL: choose the next */
    long off;                     /* where lf was left for a child, -1 none */
    uint64_t lineno;
    char *pending;                /* a call whose result comes later */
    unsigned pending_nr;
    uint32_t threads[64];
    unsigned nthreads;
};

struct lctx {
    struct build *b;
    const struct import_opts *o;
    struct import_stats *st;
    struct lfile *lf;
    unsigned n;
    uint64_t t;
    /* the logs sorted by (pid, index), (pid, cmd, index), (pid, target,
     * index) and (pid, exec_to, index), and the first position in each
     * group of equal keys not yet known done (+1; 0 unset): finding a
     * process's next image is a binary search, not a walk of every log
     * (4,000 logs took 53 s) */
    struct lfile **by_pid, **by_cmd, **by_first, **by_exec;
    unsigned *cur_pid, *cur_cmd, *cur_first;
    int spawn;                    /* the replay stopped at a fork: a child runs */
    uint32_t spawn_pid;
};

static char *first_word(const char *s)
{
    size_t n = strcspn(s, " ");
    char *w = mv_malloc(n + 1);
    memcpy(w, s, n);
    w[n] = 0;
    return w;
}

/* A log opened by its name, for a read from its start. It was a regular
 * file when cmd_trace_import checked it (a log is read twice), and the
 * second time it must be the file the header scan read: one no longer
 * there, or another, changed while it was imported, as the strace
 * importer's logs (import.h: exit 1). O_NONBLOCK: a FIFO put in its place
 * is refused, not waited on. */
static int lopen(struct lfile *lf, int again)
{
    if (!lf->own)
        return 0;
    int fd;
    while ((fd = open(lf->name, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) < 0 && errno == EINTR)
        ;
    if (fd < 0)
        return import_log_gone(lf->name, errno, "");
    struct stat sb;
    if (fstat(fd, &sb)) {
        int e = errno;
        close(fd);
        import_fail_outside();
        return mv_error("cannot read '%s': %s", lf->name, strerror(e));
    }
    char why[96];
    const char *bad = !S_ISREG(sb.st_mode) ? "it is not a regular file now"
                    : again ? import_log_changed(&lf->id, &sb, why, sizeof why) : NULL;
    if (bad) {
        close(fd);
        import_fail_outside();
        return mv_error("log '%s' changed while it was imported: %s", lf->name, bad);
    }
    if (!(lf->f = fdopen(fd, "r"))) {
        int e = errno;
        close(fd);
        return import_log_gone(lf->name, e, "");
    }
    import_log_remember(&lf->id, &sb);
    return 0;
}

/* What the file is when closed: its second reading must find it so (a log
 * still written while its header was scanned is judged from here, as the
 * strace importer judges a log it closed). */
static void lclose(struct lfile *lf)
{
    if (lf->own && lf->f) {
        struct stat sb;
        if (!fstat(fileno(lf->f), &sb))
            import_log_remember(&lf->id, &sb);
        fclose(lf->f);
        lf->f = NULL;
    }
}

/* Header scan: pid, parent, command, and where its execve went. */
static int scan(struct lfile *lf, struct import_stats *st)
{
    if (lopen(lf, 0))
        return -1;
    char *buf = NULL;
    size_t cap = 0, len;
    uint64_t lineno = 0;
    int got;
    while ((got = import_getline(lf->f, &buf, &cap, &len, NULL)) > 0) {
        const char *p;
        lineno++;
        if (buf[0] == '=' && buf[1] == '=') {
            unsigned long pid = strtoul(buf + 2, NULL, 10);
            if (!lf->pid && pid && pid <= UINT32_MAX)
                lf->pid = (uint32_t)pid;
            if ((p = strstr(buf, "== Command: ")) && !lf->cmd)
                lf->cmd = first_word(p + 12);
            if ((p = strstr(buf, "== Parent PID: ")))
                lf->ppid = (uint32_t)strtoul(p + 15, NULL, 10);
        } else if (!strncmp(buf, "SYSCALL[", 8) && (p = strstr(buf, "(59) sys_execve ( ")) &&
                   (p = strchr(p + 18, '('))) {
            size_t n = strcspn(p + 1, ")");
            free(lf->exec_to);
            lf->exec_to = mv_malloc(n + 1);
            memcpy(lf->exec_to, p + 1, n);
            lf->exec_to[n] = 0;
        }
    }
    int err = errno;
    free(buf);
    (void)st;
    if (got < 0) {
        if (lf->own)
            lclose(lf);
        return import_read_failed(lf->name, lineno + 1, err);
    }
    if (lf->own) {
        lclose(lf);
        return 0;
    }
    if (fseek(lf->f, 0, SEEK_SET))
        return mv_error("lackey log '%s': cannot read it twice (a pipe?)", lf->name);
    return 0;
}

/* "( a, b, c )" -> numbers; a "0x..(path)" argument gives its path too.
 * With hex_first, the first argument is hex even without 0x (valgrind
 * prints clone's flags as %lx: a thread's are 3d0f00). */
static int args(const char *s, uint64_t *v, unsigned max, const char **path, size_t *plen, int hex_first)
{
    const char *p = strstr(s, " ( ");
    if (!p)
        return -1;
    p += 3;
    unsigned n = 0;
    while (*p && *p != ')' && n < max) {
        struct import_line l = { "", 0, p, p, 0, 0 };
        if (((p[0] == '0' && p[1] == 'x') || (hex_first && !n) ? import_hex(&l, &v[n]) : import_dec(&l, &v[n])))
            return -1;
        p = l.p;
        if (*p == '(') {
            size_t k = strcspn(p + 1, ")");
            if (path) {
                *path = p + 1;
                *plen = k;
            }
            p += k + 2;
        }
        n++;
        if (*p == ',')
            p++;
        while (*p == ' ')
            p++;
    }
    return (int)n;
}

static int result(const char *s, uint64_t *r)
{
    const char *p = strstr(s, "--> ");
    if (!p)
        return -1;
    const char *ok = strstr(p, "Success(");
    if (!ok)
        return 0;
    struct import_line l = { "", 0, ok + 8, ok + 8, 0, 0 };
    return import_hex(&l, r) ? -1 : 1;
}

/* A child of pid starts: the replay of pid stops after this line, the
 * child runs to its end with a copy of pid's descriptors, then pid goes on. */
static int child(struct lctx *c, uint64_t t, uint32_t pid, uint32_t ch, uint32_t flags)
{
    if (build_fork(c->b, t, pid, ch, flags))
        return -1;
    c->spawn = 1;
    c->spawn_pid = ch;
    return 0;
}

/* A complete system call of pid: text holds "sys_name ( args ) ... --> result". */
static int syscall_line(struct lctx *c, struct import_line *l, uint32_t pid, unsigned nr, const char *text,
                        uint32_t *threads, unsigned *nthreads, struct fdtab *fds)
{
    uint64_t a[8] = { 0 }, r = 0;
    const char *path = NULL;
    size_t plen = 0;
    int na = args(text, a, 8, &path, &plen, nr == 56);
    int res = result(text, &r);
    uint64_t t = ++c->t;
    if (nr == 57 || nr == 58) {                       /* valgrind turns vfork into fork */
        const char *p = strstr(text, "created child ");
        if (!p)
            return import_malformed(l, "fork: process P created child C");
        return child(c, t, pid, (uint32_t)strtoul(p + 14, NULL, 10), 0);
    }
    if (res < 0 && nr != 231 && nr != 60 && nr != 59)
        return import_malformed(l, "--> Success(...) or Failure(...)");
    if (res == 0)
        return 0;                                      /* the call failed */
    switch (nr) {
    case 9:
        if (na != 6)
            return import_malformed(l, "sys_mmap ( addr, len, prot, flags, fd, offset )");
        if (a[3] & 0x20)
            return build_mmap(c->b, t, pid, r, a[1], (uint32_t)a[2] & 7, TRM_ANON | (a[3] & 1 ? TRM_SHARED : 0),
                              0, 0, 0);
        {
            const char *fp = fdtab_path(fds, a[4]);
            char tmp[48];
            size_t fl = fp ? strlen(fp)
                           : (size_t)snprintf(tmp, sizeof tmp, "fd:%u:%llu", pid, (unsigned long long)a[4]);
            return build_mmap(c->b, t, pid, r, a[1], (uint32_t)a[2] & 7, a[3] & 1 ? TRM_SHARED : 0, 0,
                              import_path_hash(fp ? fp : tmp, fl), a[5] >> 12);
        }
    case 10:
        return na == 3 ? build_mprotect(c->b, t, pid, a[0], a[1], (uint32_t)a[2] & 7)
                       : import_malformed(l, "sys_mprotect ( addr, len, prot )");
    case 11:
        return na == 2 ? build_munmap(c->b, t, pid, a[0], a[1]) : import_malformed(l, "sys_munmap ( addr, len )");
    case 12:
        return build_brk(c->b, t, pid, r);
    case 25:
        return na >= 3 ? build_mremap(c->b, t, pid, a[0], a[1], r, a[2])
                       : import_malformed(l, "sys_mremap ( addr, old_len, new_len, ... )");
    case 56: {
        /* "sys_clone ( 1200011, ..." is hex: the flags as %lx (args read them so) */
        uint64_t fl = a[0];
        if (na < 1 || r > UINT32_MAX)
            return import_malformed(l, "sys_clone ( FLAGS, ... ) --> Success(tid), FLAGS in hex");
        if (fl & 0x10000) {                            /* CLONE_THREAD */
            if (*nthreads < 64)
                threads[(*nthreads)++] = (uint32_t)r;
            return build_fork(c->b, t, pid, (uint32_t)r, TRF_THREAD | TRF_VM);
        }
        return child(c, t, pid, (uint32_t)r, (fl & 0x100 ? TRF_VM : 0) | (fl & 0x4000 ? TRF_VFORK : 0));
    }
    case 2:                                            /* open ( path, flags, mode ) */
    case 257:                                          /* openat ( dirfd, path, flags, mode ) */
        if (path && na >= (nr == 2 ? 2 : 3))
            fdtab_open(fds, r, path, plen, (a[nr == 2 ? 1 : 2] & O_CLOEXEC_BIT) != 0);
        return 0;
    case 3:
        if (na >= 1)
            fdtab_close(fds, a[0]);
        return 0;
    default:
        return 0;
    }
}

/* Replay f's log: references and system calls, in order, from where it
 * was left, to its end or to a fork (c->spawn: the child runs next). */
static int replay(struct lctx *c, struct frame *f)
{
    struct lfile *lf = f->lf;
    uint64_t *nref = &f->nref;
    struct fdtab *fds = f->fds;
    char *buf = NULL;
    size_t cap = 0, len;
    int rc = 0;
    struct import_line l = { lf->name, f->lineno, NULL, NULL, (unsigned)(lf - c->lf), 0 };
    int got = 0;
    while (!rc && !c->spawn && (got = import_getline(lf->f, &buf, &cap, &len, c->st)) > 0) {
        l.lineno++;
        import_count_line(c->st, l.file, buf);
        l.text = l.p = buf;
        l.cut = got == 2;
        char k0 = buf[0], k1 = buf[1];
        if ((k0 == 'I' && k1 == ' ') || (k0 == ' ' && (k1 == 'L' || k1 == 'S' || k1 == 'M') && buf[2] == ' ')) {
            l.p = buf + 2;
            import_skip_space(&l);
            uint64_t addr, size;
            const char *size_at = NULL;
            if (import_hex(&l, &addr) || !import_lit(&l, ",") || !(size_at = l.p) || import_dec(&l, &size))
                rc = import_malformed(&l, "ADDRESS,SIZE");
            else if (!size) {   /* lackey writes an access's size in bytes, at least 1 */
                l.p = size_at;
                rc = import_malformed(&l, "ADDRESS,SIZE with a SIZE of at least 1, not 0");
            }
            uint64_t i = (*nref)++;
            c->st->refs++;
            if (*nref > c->st->refs_most)
                c->st->refs_most = *nref;
            if (rc || i < c->o->window_start || (c->o->window_len && i - c->o->window_start >= c->o->window_len) ||
                (i - c->o->window_start) % c->o->sample)
                continue;
            c->st->refs_kept++;
            unsigned kind = k0 == 'I' ? TRR_EXEC : (k1 == 'L' ? TRR_READ : TRR_WRITE);
            rc = build_ref(c->b, ++c->t, lf->pid, addr, kind);
        } else if (!strncmp(buf, "SYSCALL[", 8)) {
            l.p = buf + 8;
            uint64_t pid, tid, nr;
            if (import_dec(&l, &pid) || !import_lit(&l, ",") || import_dec(&l, &tid) || !import_lit(&l, "](") ||
                import_dec(&l, &nr) || !import_lit(&l, ")"))
                rc = import_malformed(&l, "SYSCALL[PID,TID](NR)");
            else if (strstr(l.p, " ... [async] --> ")) {
                if (f->pending && f->pending_nr == nr) {      /* the async call's result */
                    size_t a = strlen(f->pending);
                    char *full = mv_malloc(a + strlen(l.p) + 2);
                    sprintf(full, "%s %s", f->pending, strstr(l.p, "--> "));
                    rc = syscall_line(c, &l, lf->pid, (unsigned)nr, full, f->threads, &f->nthreads, fds);
                    free(full);
                    free(f->pending);
                    f->pending = NULL;
                }
            } else if (strstr(l.p, "--> [async]") || !strstr(l.p, "--> ")) {
                if (nr == 57 || nr == 58)
                    rc = syscall_line(c, &l, lf->pid, (unsigned)nr, l.p, f->threads, &f->nthreads, fds);
                else {
                    free(f->pending);
                    f->pending = mv_strdup(l.p);           /* its result comes later */
                    f->pending_nr = (unsigned)nr;
                }
            } else {
                rc = syscall_line(c, &l, lf->pid, (unsigned)nr, l.p, f->threads, &f->nthreads, fds);
            }
        } else if (!strncmp(buf, " --> ", 5) && f->pending) {
            size_t a = strlen(f->pending);
            char *full = mv_malloc(a + len + 2);
            sprintf(full, "%s %s", f->pending, buf + 1);
            rc = syscall_line(c, &l, lf->pid, f->pending_nr, full, f->threads, &f->nthreads, fds);
            free(full);
            free(f->pending);
            f->pending = NULL;
        } else if (!strncmp(buf, " --> ", 5)) {
            continue;                                   /* a child's return from the fork in its parent's log */
        } else if (buf[0] == '=' && buf[1] == '=') {
            continue;                                   /* valgrind's own messages */
        } else if (len) {
            import_unknown(c->st, &l);
        }
    }
    f->lineno = l.lineno;
    if (!rc && got < 0)
        rc = import_read_failed(lf->name, l.lineno + 1, errno);
    free(buf);
    if (c->spawn && !rc)
        return 0;
    for (unsigned i = 0; i < f->nthreads && !rc; i++)
        if (build_known(c->b, f->threads[i]))
            rc = build_exit(c->b, ++c->t, f->threads[i]);
    free(f->pending);
    f->pending = NULL;
    return rc;
}

/* Orders of the logs (struct lctx): by pid, then the key, then the index. */
static int cmp_ptr(const struct lfile *a, const struct lfile *b) { return (a > b) - (a < b); }
static int cmp_pidk(const struct lfile *a, uint32_t pid) { return (a->pid > pid) - (a->pid < pid); }
static int cmp_str(const char *a, const char *b) { return !a || !b ? (a != NULL) - (b != NULL) : strcmp(a, b); }

static int key_pid(const struct lfile *a, const struct lfile *k) { return cmp_pidk(a, k->pid); }
static int key_cmd(const struct lfile *a, const struct lfile *k)
{
    int d = cmp_pidk(a, k->pid);
    return d ? d : cmp_str(a->cmd, k->cmd);
}
static int key_first(const struct lfile *a, const struct lfile *k)
{
    int d = cmp_pidk(a, k->pid);
    return d ? d : a->target - k->target;
}
static int key_exec(const struct lfile *a, const struct lfile *k)
{
    int d = cmp_pidk(a, k->pid);
    return d ? d : cmp_str(a->exec_to, k->cmd);
}
#define SORTER(name, key)                                                                   \
    static int name(const void *x, const void *y)                                            \
    {                                                                                        \
        const struct lfile *a = *(struct lfile *const *)x, *b = *(struct lfile *const *)y;    \
        int d = key(a, b);                                                                    \
        return d ? d : cmp_ptr(a, b);                                                         \
    }
SORTER(sort_pid, key_pid)
SORTER(sort_cmd, key_cmd)
SORTER(sort_first, key_first)
static int sort_exec(const void *x, const void *y)
{
    const struct lfile *a = *(struct lfile *const *)x, *b = *(struct lfile *const *)y;
    int d = cmp_pidk(a, b->pid);
    d = d ? d : cmp_str(a->exec_to, b->exec_to);
    return d ? d : cmp_ptr(a, b);
}

/* The first position of ord[0..n) whose key is not below k's. */
static unsigned lower(struct lfile *const *ord, unsigned n, const struct lfile *k,
                      int (*key)(const struct lfile *, const struct lfile *))
{
    unsigned lo = 0, hi = n;
    while (lo < hi) {
        unsigned mid = lo + (hi - lo) / 2;
        if (key(ord[mid], k) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The first log not done whose key is k's, in index order: the group's
 * cursor moves past the done ones (done is for good), so each is passed
 * once per order. */
static struct lfile *pick(struct lctx *c, struct lfile *const *ord, unsigned *cur, const struct lfile *k,
                          int (*key)(const struct lfile *, const struct lfile *))
{
    unsigned lo = lower(ord, c->n, k, key), i = cur[lo] ? cur[lo] - 1 : lo;
    while (i < c->n && !key(ord[i], k) && ord[i]->done)
        i++;
    cur[lo] = i + 1;
    return i < c->n && !key(ord[i], k) ? ord[i] : NULL;
}

/* The next image of f's process, in exec order: the one its execve went
 * to, else any left; the first, one that is no other image's execve
 * target, else any. */
static struct lfile *next_image(struct lctx *c, const struct frame *f)
{
    struct lfile k = { .pid = f->pid, .cmd = (char *)f->want };
    struct lfile *next = NULL;
    if (f->want && !(next = pick(c, c->by_cmd, c->cur_cmd, &k, key_cmd)))
        next = pick(c, c->by_pid, c->cur_pid, &k, key_pid);   /* no image matches the execve: any left */
    if (!next && f->first && !(next = pick(c, c->by_first, c->cur_first, &k, key_first)))
        next = pick(c, c->by_pid, c->cur_pid, &k, key_pid);
    return next;
}

/* Process pid (a root, or one no fork led to) and every child it forked,
 * depth first, with the descriptors fds (freed here). */
static int process(struct lctx *c, uint32_t pid, struct fdtab *fds)
{
    struct frame *st = NULL;
    unsigned n = 0, cap = 0;
    int rc = 0;
    uint32_t top = pid;
    struct fdtab *topfds = fds;
    int start = 1, ischild = 0;
    for (;;) {
        if (start) {
            if (n == cap) {
                cap = cap ? 2 * cap : 16;
                st = mv_realloc(st, cap * sizeof *st);
            }
            st[n++] = (struct frame){ .pid = top, .child = ischild, .fds = topfds, .first = 1, .off = -1 };
            start = 0;
        }
        if (!n)
            break;
        struct frame *f = &st[n - 1];
        if (!f->lf) {
            struct lfile *next = f->first || f->want ? next_image(c, f) : NULL;
            if (!next) {                                /* the process has ended */
                uint32_t p = f->pid;
                int ch = f->child;
                fdtab_free(f->fds);
                n--;
                if (ch)
                    rc = build_exit(c->b, ++c->t, p);
                if (rc)
                    break;
                continue;
            }
            next->done = 1;
            if (!f->first)
                fdtab_exec(f->fds);
            if (!f->first || !build_known(c->b, f->pid))
                rc = build_exec(c->b, ++c->t, f->pid, next->cmd ? next->cmd : "", NULL, 0, 0);
            f->lf = next;
            f->lineno = 0;
            f->nthreads = 0;
            f->off = -1;
            if (!rc)
                rc = lopen(next, 1);
        } else if (f->off >= 0) {                       /* back from a child */
            if (!(rc = lopen(f->lf, 1)) && f->lf->own && fseek(f->lf->f, f->off, SEEK_SET))
                rc = mv_error("lackey log '%s': cannot return to byte %ld of it", f->lf->name, f->off);
            f->off = -1;
        }
        if (!rc)
            rc = replay(c, f);
        if (rc)
            break;
        if (c->spawn) {                                 /* a child runs to its end first */
            c->spawn = 0;
            if (f->lf->own && (f->off = ftell(f->lf->f)) < 0)
                rc = mv_error("lackey log '%s': cannot tell where its reading is", f->lf->name);
            if (f->lf->own)
                lclose(f->lf);
            if (rc)
                break;
            top = c->spawn_pid;
            topfds = fdtab_copy(f->fds);
            ischild = start = 1;
            continue;
        }
        lclose(f->lf);
        f->first = 0;
        f->want = f->lf->exec_to;
        f->lf = NULL;
    }
    for (unsigned i = 0; i < n; i++) {                 /* after an error */
        if (st[i].lf)
            lclose(st[i].lf);
        free(st[i].pending);
        fdtab_free(st[i].fds);
    }
    free(st);
    return rc;
}

int import_lackey(struct build *b, FILE **f, const char *const *names, unsigned n, const struct import_opts *o,
                  struct import_stats *st)
{
    struct lctx c = { .b = b, .o = o, .st = st, .lf = mv_calloc(n ? n : 1, sizeof *c.lf), .n = n };
    int rc = 0;
    for (unsigned i = 0; i < n && !rc; i++) {
        c.lf[i].f = f ? f[i] : NULL;
        c.lf[i].own = !f;
        c.lf[i].name = names[i];
        rc = scan(&c.lf[i], st);
    }
    if (!rc && o->scanned)
        o->scanned(o->scanned_ctx);
    build_implicit(b, 1);
    c.by_pid = mv_malloc((n ? n : 1) * sizeof *c.by_pid);
    c.by_cmd = mv_malloc((n ? n : 1) * sizeof *c.by_cmd);
    c.by_first = mv_malloc((n ? n : 1) * sizeof *c.by_first);
    c.by_exec = mv_malloc((n ? n : 1) * sizeof *c.by_exec);
    c.cur_pid = mv_calloc(n + 1, sizeof *c.cur_pid);
    c.cur_cmd = mv_calloc(n + 1, sizeof *c.cur_cmd);
    c.cur_first = mv_calloc(n + 1, sizeof *c.cur_first);
    for (unsigned i = 0; i < n; i++)
        c.by_pid[i] = c.by_cmd[i] = c.by_exec[i] = &c.lf[i];
    if (n) {
        qsort(c.by_pid, n, sizeof *c.by_pid, sort_pid);
        qsort(c.by_cmd, n, sizeof *c.by_cmd, sort_cmd);
        qsort(c.by_exec, n, sizeof *c.by_exec, sort_exec);
    }
    /* a log is a target if another log of its pid execs into its command */
    for (unsigned i = 0; i < n; i++) {
        struct lfile *lf = &c.lf[i];
        if (!lf->cmd)
            continue;
        unsigned j = lower(c.by_exec, n, lf, key_exec);
        for (; j < n && !key_exec(c.by_exec[j], lf) && !lf->target; j++)
            lf->target = c.by_exec[j] != lf;
    }
    for (unsigned i = 0; i < n; i++)
        c.by_first[i] = &c.lf[i];
    if (n)
        qsort(c.by_first, n, sizeof *c.by_first, sort_first);
    /* the roots first (their children follow where they were forked), then
     * any log no fork led to */
    for (int pass = 0; pass < 2; pass++)
        for (unsigned i = 0; i < n && !rc; i++) {
            struct lfile *lf = &c.lf[i];
            if (lf->done)
                continue;
            struct lfile k = { .pid = lf->ppid };
            unsigned j = lower(c.by_pid, n, &k, key_pid);
            int root = !(j < n && c.by_pid[j]->pid == lf->ppid);
            if (!root && !pass)
                continue;
            rc = process(&c, lf->pid, fdtab_new());
            if (!rc && build_known(b, lf->pid))
                rc = build_exit(b, ++c.t, lf->pid);
        }
    free(c.by_pid);
    free(c.by_cmd);
    free(c.by_first);
    free(c.by_exec);
    free(c.cur_pid);
    free(c.cur_cmd);
    free(c.cur_first);
    for (unsigned i = 0; i < n; i++) {
        lclose(&c.lf[i]);
        free(c.lf[i].cmd);
        free(c.lf[i].exec_to);
    }
    free(c.lf);
    return rc;
}

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
 * Logs given by name are opened one at a time (a parent's stays open while
 * the children it forked replay): a thousand processes need no thousand
 * descriptors. */
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
};

struct lctx {
    struct build *b;
    const struct import_opts *o;
    struct import_stats *st;
    struct lfile *lf;
    unsigned n;
    uint64_t t;
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
    while (import_getline(lf->f, &buf, &cap, &len, NULL)) {
        const char *p;
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
    free(buf);
    (void)st;
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
        struct import_line l = { "", 0, p, p };
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
    struct import_line l = { "", 0, ok + 8, ok + 8 };
    return import_hex(&l, r) ? -1 : 1;
}

static int process(struct lctx *c, uint32_t pid, struct fdtab *fds);

/* A child of pid starts: it runs to its end here, with a copy of pid's
 * descriptors. */
static int child(struct lctx *c, uint64_t t, uint32_t pid, uint32_t ch, uint32_t flags, struct fdtab *fds)
{
    if (build_fork(c->b, t, pid, ch, flags))
        return -1;
    return process(c, ch, fdtab_copy(fds)) || build_exit(c->b, ++c->t, ch) ? -1 : 0;
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
        return child(c, t, pid, (uint32_t)strtoul(p + 14, NULL, 10), 0, fds);
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
        return child(c, t, pid, (uint32_t)r, (fl & 0x100 ? TRF_VM : 0) | (fl & 0x4000 ? TRF_VFORK : 0), fds);
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

/* Replay one log: references and system calls, in order. */
static int replay(struct lctx *c, struct lfile *lf, uint64_t *nref, struct fdtab *fds)
{
    char *buf = NULL, *pending = NULL;
    unsigned pending_nr = 0;
    size_t cap = 0, len;
    int rc = 0;
    uint32_t threads[64];
    unsigned nthreads = 0;
    struct import_line l = { lf->name, 0, NULL, NULL };
    while (!rc && import_getline(lf->f, &buf, &cap, &len, c->st)) {
        l.lineno++;
        c->st->lines++;
        l.text = l.p = buf;
        char k0 = buf[0], k1 = buf[1];
        if ((k0 == 'I' && k1 == ' ') || (k0 == ' ' && (k1 == 'L' || k1 == 'S' || k1 == 'M') && buf[2] == ' ')) {
            l.p = buf + 2;
            import_skip_space(&l);
            uint64_t addr, size;
            if (import_hex(&l, &addr) || !import_lit(&l, ",") || import_dec(&l, &size))
                rc = import_malformed(&l, "ADDRESS,SIZE");
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
                if (pending && pending_nr == nr) {      /* the async call's result */
                    size_t a = strlen(pending);
                    char *full = mv_malloc(a + strlen(l.p) + 2);
                    sprintf(full, "%s %s", pending, strstr(l.p, "--> "));
                    rc = syscall_line(c, &l, lf->pid, (unsigned)nr, full, threads, &nthreads, fds);
                    free(full);
                    free(pending);
                    pending = NULL;
                }
            } else if (strstr(l.p, "--> [async]") || !strstr(l.p, "--> ")) {
                if (nr == 57 || nr == 58)
                    rc = syscall_line(c, &l, lf->pid, (unsigned)nr, l.p, threads, &nthreads, fds);
                else {
                    free(pending);
                    pending = mv_strdup(l.p);           /* its result comes later */
                    pending_nr = (unsigned)nr;
                }
            } else {
                rc = syscall_line(c, &l, lf->pid, (unsigned)nr, l.p, threads, &nthreads, fds);
            }
        } else if (!strncmp(buf, " --> ", 5) && pending) {
            size_t a = strlen(pending);
            char *full = mv_malloc(a + len + 2);
            sprintf(full, "%s %s", pending, buf + 1);
            rc = syscall_line(c, &l, lf->pid, pending_nr, full, threads, &nthreads, fds);
            free(full);
            free(pending);
            pending = NULL;
        } else if (!strncmp(buf, " --> ", 5)) {
            continue;                                   /* a child's return from the fork in its parent's log */
        } else if (buf[0] == '=' && buf[1] == '=') {
            continue;                                   /* valgrind's own messages */
        } else if (len) {
            import_unknown(c->st, &l);
        }
    }
    for (unsigned i = 0; i < nthreads && !rc; i++)
        if (build_known(c->b, threads[i]))
            rc = build_exit(c->b, ++c->t, threads[i]);
    free(buf);
    free(pending);
    return rc;
}

/* All images of pid, in exec order, with its descriptors fds (freed here). */
static int process(struct lctx *c, uint32_t pid, struct fdtab *fds)
{
    uint64_t nref = 0;
    char *want = NULL;      /* the image an execve went to */
    int first = 1, rc = 0;
    for (;;) {
        struct lfile *next = NULL;
        for (unsigned i = 0; i < c->n && !next && want; i++) {
            struct lfile *lf = &c->lf[i];
            if (!lf->done && lf->pid == pid && lf->cmd && !strcmp(lf->cmd, want))
                next = lf;
        }
        if (!next && want) {                      /* no image matches the execve: any left */
            for (unsigned i = 0; i < c->n && !next; i++)
                if (!c->lf[i].done && c->lf[i].pid == pid)
                    next = &c->lf[i];
        }
        if (!next && first) {
            /* the first image: one that is no other image's execve target */
            for (unsigned i = 0; i < c->n && !next; i++) {
                struct lfile *lf = &c->lf[i];
                int target = 0;
                for (unsigned j = 0; j < c->n; j++)
                    target |= j != i && c->lf[j].pid == pid && c->lf[j].exec_to && lf->cmd &&
                              !strcmp(c->lf[j].exec_to, lf->cmd);
                if (!lf->done && lf->pid == pid && !target)
                    next = lf;
            }
            for (unsigned i = 0; i < c->n && !next; i++)
                if (!c->lf[i].done && c->lf[i].pid == pid)
                    next = &c->lf[i];
        }
        if (!next)
            break;
        next->done = 1;
        if (!first)
            fdtab_exec(fds);
        if (!first || !build_known(c->b, pid))
            rc = build_exec(c->b, ++c->t, pid, next->cmd ? next->cmd : "", NULL, 0, 0);
        if (!rc && !(rc = lopen(next, 1))) {
            rc = replay(c, next, &nref, fds);
            lclose(next);
        }
        if (rc)
            break;
        first = 0;
        want = next->exec_to;
        if (!want)
            break;
    }
    fdtab_free(fds);
    return rc;
}

int import_lackey(struct build *b, FILE **f, const char *const *names, unsigned n, const struct import_opts *o,
                  struct import_stats *st)
{
    struct lctx c = { b, o, st, mv_calloc(n ? n : 1, sizeof *c.lf), n, 0 };
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
    /* the roots first (their children follow where they were forked), then
     * any log no fork led to */
    for (int pass = 0; pass < 2; pass++)
        for (unsigned i = 0; i < n && !rc; i++) {
            struct lfile *lf = &c.lf[i];
            if (lf->done)
                continue;
            int root = 1;
            for (unsigned j = 0; j < n; j++)
                root &= c.lf[j].pid != lf->ppid;
            if (!root && !pass)
                continue;
            rc = process(&c, lf->pid, fdtab_new());
            if (!rc && build_known(b, lf->pid))
                rc = build_exit(b, ++c.t, lf->pid);
        }
    for (unsigned i = 0; i < n; i++) {
        lclose(&c.lf[i]);
        free(c.lf[i].cmd);
        free(c.lf[i].exec_to);
    }
    free(c.lf);
    return rc;
}

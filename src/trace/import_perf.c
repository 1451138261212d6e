/* import_perf.c: `perf script` output into a trace (import.h).
 *
 * One perf recording holds everything, in one clock and one order: the
 * kernel's PERF_RECORD_COMM/FORK/EXIT records (the process tree, threads
 * told apart by pid == parent pid), PERF_RECORD_MMAP2 (every mapping with its
 * address, size, protection, offset and device:inode, including those exec
 * makes: the binary, the interpreter, bss, stack, vdso and vvar), the
 * page-faults software event with its address, the exceptions:page_fault_*
 * tracepoints (whose error code says read, write or fetch), and the
 * syscalls:sys_{enter,exit}_* tracepoints of munmap, mprotect, brk, mremap,
 * clone, vfork, execve and exit_group (MMAP2 says nothing of those).
 *
 * Fields read: `perf script --ns --show-task-events --show-mmap-events
 * --show-lost-events -F pid,tid,time,event,addr,trace` (import_open_perf
 * runs exactly that on a perf.data file). */
#define _GNU_SOURCE   /* pipe2 */
#include "lib/err.h"
#include "lib/outfile.h"
#include "trace/import.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

enum call { C_NONE, C_MMAP, C_MUNMAP, C_MPROTECT, C_BRK, C_MREMAP, C_CLONE, C_CLONE3, C_VFORK, C_EXECVE, C_OTHER };

/* What exec made, held until the heap start is known (ld.so's first brk). */
enum exec_state { X_NONE, X_LAYOUT, X_WAIT_BRK };

struct deferred { int type; uint64_t t, a, b, c, d, e, f, g; unsigned k; };   /* type 0: ref, 1: mmap */

struct ptid {
    uint32_t tid;
    enum call call;
    uint64_t arg[5];
    uint64_t pf_addr, pf_err;
    int pf_valid;
    uint32_t fork_flags;
    enum exec_state xs;
    int helper;                       /* started by the skipped root, not yet exec'd */
    int helper_execs;                 /* its execs still to come before the program's (o->helper_execs) */
    uint64_t last_raw;                /* recorded time of its last event */
    uint64_t xt;                      /* time of the exec */
    char *path;
    struct trace_seg *seg;
    uint32_t nseg, capseg;
    struct deferred *dfr;
    uint32_t ndfr, capdfr;
    struct ptid *next;
};

#define NH 4096
#define MAX_DEFERRED (1u << 20)

struct pctx {
    struct build *b;
    const struct import_opts *o;
    struct import_stats *st;
    struct ptid *h[NH];
    int64_t root;                     /* skipped helper process, or -1 */
    int root_seen;
    uint32_t prog;                    /* the first process the skipped root started: the program */
    uint64_t shifted;                 /* strace's holds so far, taken out of the time */
};

static struct ptid *tid_of(struct pctx *c, uint32_t tid)
{
    struct ptid **pp = &c->h[tid % NH];
    for (struct ptid *p = *pp; p; p = p->next)
        if (p->tid == tid)
            return p;
    struct ptid *p = mv_calloc(1, sizeof *p);
    p->tid = tid;
    p->next = *pp;
    *pp = p;
    return p;
}

static void tid_reset_exec(struct ptid *p)
{
    free(p->path);
    p->path = NULL;
    p->nseg = p->ndfr = 0;
    p->xs = X_NONE;
}

static void free_all(struct pctx *c)
{
    for (unsigned i = 0; i < NH; i++)
        for (struct ptid *p = c->h[i], *n; p; p = n) {
            n = p->next;
            free(p->path);
            free(p->seg);
            free(p->dfr);
            free(p);
        }
}

/* Emit a pending exec and what waited for it. */
static int flush_exec(struct pctx *c, struct ptid *p, uint64_t start_brk)
{
    if (p->xs == X_NONE)
        return 0;
    int rc = build_exec(c->b, p->xt, p->tid, p->path ? p->path : "", p->seg, p->nseg, start_brk);
    for (uint32_t i = 0; i < p->ndfr && !rc; i++) {
        struct deferred *d = &p->dfr[i];
        rc = d->type == 0 ? build_ref(c->b, d->t, p->tid, d->a, d->k)
                          : build_mmap(c->b, d->t, p->tid, d->a, d->b, (uint32_t)d->c, (uint32_t)d->d, d->e,
                                       d->f, d->g);
    }
    tid_reset_exec(p);
    return rc;
}

static int defer(struct pctx *c, struct ptid *p, struct deferred d)
{
    if (p->ndfr == MAX_DEFERRED && flush_exec(c, p, 0))
        return -1;
    if (p->xs == X_NONE)
        return d.type == 0 ? build_ref(c->b, d.t, p->tid, d.a, d.k)
                           : build_mmap(c->b, d.t, p->tid, d.a, d.b, (uint32_t)d.c, (uint32_t)d.d, d.e, d.f, d.g);
    if (p->ndfr == p->capdfr) {
        p->capdfr = p->capdfr ? p->capdfr * 2 : 64;
        p->dfr = mv_realloc(p->dfr, p->capdfr * sizeof *p->dfr);
    }
    p->dfr[p->ndfr++] = d;
    return 0;
}

/* [0xADDR(0xLEN) @ OFF MAJ:MIN INO GEN]: PROT PATH */
static int mmap2(struct pctx *c, struct import_line *l, struct ptid *p, uint64_t t)
{
    uint64_t addr, len, off, maj, min, ino, gen;
    if (!import_lit(l, "[") || import_hex(l, &addr) || !import_lit(l, "(") || import_hex(l, &len) ||
        !import_lit(l, ") @ ") || import_hex(l, &off))
        return import_malformed(l, "[0xADDR(0xLEN) @ OFFSET");
    import_skip_space(l);
    if (import_hex(l, &maj) || !import_lit(l, ":") || import_hex(l, &min))
        return import_malformed(l, "a device MAJ:MIN");
    import_skip_space(l);
    if (import_dec(l, &ino))
        return import_malformed(l, "an inode number");
    import_skip_space(l);
    if (import_dec(l, &gen) || !import_lit(l, "]: "))
        return import_malformed(l, "an inode generation and ']: '");
    const char *pr = l->p;
    if (strlen(pr) < 4 || !strchr("r-", pr[0]) || !strchr("w-", pr[1]) || !strchr("x-", pr[2]) ||
        !strchr("ps", pr[3]))
        return import_malformed(l, "protection like r-xp");
    uint32_t prot = (pr[0] == 'r' ? TRP_READ : 0) | (pr[1] == 'w' ? TRP_WRITE : 0) | (pr[2] == 'x' ? TRP_EXEC : 0);
    int shared = pr[3] == 's';
    l->p += 4;
    import_skip_space(l);
    const char *path = l->p;
    int anon = ino == 0 && maj == 0 && min == 0;
    int stack = !strcmp(path, "[stack]");
    uint64_t dev = maj << 32 | min;
    uint64_t pgoff = anon ? 0 : off >> 12;
    if (addr >= TRACE_USER_END)
        return 0;                                       /* kernel text and modules */
    if (p->xs == X_LAYOUT) {
        if (p->nseg == p->capseg) {
            p->capseg = p->capseg ? p->capseg * 2 : 32;
            p->seg = mv_realloc(p->seg, p->capseg * sizeof *p->seg);
        }
        p->seg[p->nseg++] = (struct trace_seg){ addr & ~4095ull, len, prot,
                                                stack ? TRS_STACK : anon ? TRS_ANON : TRS_FILE,
                                                (uint32_t)shared, anon ? 0 : dev, anon ? 0 : ino, pgoff };
        if (!anon && !p->path && *path != '[')
            p->path = mv_strdup(path);
        return 0;
    }
    /* MMAP2 also reports what mprotect, brk and mremap did: those come from
     * their syscall tracepoints instead. */
    if (p->call == C_MPROTECT || p->call == C_BRK || p->call == C_MREMAP || p->call == C_MUNMAP)
        return 0;
    struct deferred d = { 1, t, addr & ~4095ull, len + (addr & 4095), prot,
                          (anon ? TRM_ANON : 0) | (shared ? TRM_SHARED : 0), anon ? 0 : dev, anon ? 0 : ino,
                          pgoff, 0 };
    return defer(c, p, d);
}

static enum call call_of(const char *name)
{
    static const struct { const char *n; enum call c; } t[] = {
        { "mmap", C_MMAP }, { "munmap", C_MUNMAP }, { "mprotect", C_MPROTECT }, { "brk", C_BRK },
        { "mremap", C_MREMAP }, { "clone", C_CLONE }, { "clone3", C_CLONE3 }, { "vfork", C_VFORK },
        { "execve", C_EXECVE },
    };
    for (unsigned i = 0; i < sizeof t / sizeof t[0]; i++)
        if (!strcmp(t[i].n, name))
            return t[i].c;
    return C_OTHER;
}

static int need(struct import_line *l, const char *from, const char *key, uint64_t *v)
{
    int rc = import_field(from, key, v);
    if (rc == 1)
        return 0;
    l->p = from;
    char what[64];
    snprintf(what, sizeof what, "a field '%s'", key);
    return import_malformed(l, what);
}

static int syscall_event(struct pctx *c, struct import_line *l, struct ptid *p, uint64_t t, const char *ev,
                         const char *args)
{
    int enter = !strncmp(ev, "sys_enter_", 10);
    enum call k = call_of(ev + 10 - (enter ? 0 : 1));
    if (enter) {
        if (k != C_MMAP && k != C_OTHER && p->xs == X_WAIT_BRK && k != C_BRK && flush_exec(c, p, 0))
            return -1;
        p->call = k;
        memset(p->arg, 0, sizeof p->arg);
        switch (k) {
        case C_MUNMAP:
            return need(l, args, "addr", &p->arg[0]) || need(l, args, "len", &p->arg[1]);
        case C_MPROTECT:
            return need(l, args, "start", &p->arg[0]) || need(l, args, "len", &p->arg[1]) ||
                   need(l, args, "prot", &p->arg[2]);
        case C_MREMAP:
            return need(l, args, "addr", &p->arg[0]) || need(l, args, "old_len", &p->arg[1]) ||
                   need(l, args, "new_len", &p->arg[2]);
        case C_BRK:
            return need(l, args, "brk", &p->arg[0]);
        case C_CLONE:
            if (need(l, args, "clone_flags", &p->arg[0]))
                return -1;
            p->fork_flags = (p->arg[0] & 0x100 ? TRF_VM : 0) | (p->arg[0] & 0x4000 ? TRF_VFORK : 0);
            return 0;
        case C_VFORK:
            p->fork_flags = TRF_VM | TRF_VFORK;
            return 0;
        case C_CLONE3:
            p->fork_flags = 0;      /* its flags are in user memory: taken as a fork */
            return 0;
        default:
            return 0;
        }
    }
    /* exit: the return value */
    uint64_t ret;
    struct import_line v = *l;
    v.p = args;
    if (import_hex(&v, &ret))
        return import_malformed(&v, "a return value 0x...");
    enum call was = p->call;
    p->call = C_NONE;
    if (k != was && was != C_NONE)
        return 0;                                  /* the enter was lost: nothing to trust */
    int ok = (int64_t)ret >= 0 || (int64_t)ret < -4095;
    switch (k) {
    case C_EXECVE:
        if (p->xs == X_LAYOUT)
            p->xs = X_WAIT_BRK;
        return 0;
    case C_MUNMAP:
        return ret == 0 && was == k ? build_munmap(c->b, t, p->tid, p->arg[0], p->arg[1]) : 0;
    case C_MPROTECT:
        return ret == 0 && was == k ? build_mprotect(c->b, t, p->tid, p->arg[0], p->arg[1], (uint32_t)p->arg[2]) : 0;
    case C_MREMAP:
        return ok && was == k ? build_mremap(c->b, t, p->tid, p->arg[0], p->arg[1], ret, p->arg[2]) : 0;
    case C_BRK:
        if (p->xs == X_WAIT_BRK) {
            if (flush_exec(c, p, was == k && p->arg[0] == 0 ? ret : 0))
                return -1;
        }
        return build_brk(c->b, t, p->tid, ret);
    default:
        return 0;
    }
}

static int task_event(struct pctx *c, struct import_line *l, uint32_t pid, uint32_t tid, uint64_t t, int fork)
{
    uint64_t a, b, pa, pb;
    if (!import_lit(l, "(") || import_dec(l, &a) || !import_lit(l, ":") || import_dec(l, &b) ||
        !import_lit(l, "):(") || import_dec(l, &pa) || !import_lit(l, ":") || import_dec(l, &pb) ||
        !import_lit(l, ")"))
        return import_malformed(l, "(PID:TID):(PPID:PTID)");
    if (a > UINT32_MAX || b > UINT32_MAX || pa > UINT32_MAX || pb > UINT32_MAX)
        return import_malformed(l, "thread ids below 2^32");
    (void)pid;
    (void)tid;
    if (!fork) {
        if (c->root >= 0 && a == (uint64_t)c->root)
            return 0;
        if (c->prog && a == c->prog && b == c->prog)
            c->st->prog_exited = 1;
        struct ptid *p = tid_of(c, (uint32_t)b);
        if (p->helper) {
            p->helper = 0;
            return 0;
        }
        if (flush_exec(c, p, 0))
            return -1;
        return build_exit(c->b, t, (uint32_t)b);
    }
    if (c->root >= 0 && pa == (uint64_t)c->root) {
        if (a != pa) {                              /* a process the helper started: a root once it execs */
            if (!c->prog)
                c->prog = c->st->prog = (uint32_t)b;
            tid_of(c, (uint32_t)b)->helper = 1;
            tid_of(c, (uint32_t)b)->helper_execs = c->o->helper_execs;
            tid_of(c, (uint32_t)b)->last_raw = tid_of(c, tid)->last_raw;
        }
        return 0;
    }
    struct ptid *pp = tid_of(c, (uint32_t)pb);
    tid_of(c, (uint32_t)b)->last_raw = tid_of(c, tid)->last_raw;
    if (flush_exec(c, pp, 0))
        return -1;
    uint32_t flags = a == pa ? TRF_THREAD | TRF_VM : pp->fork_flags;
    return build_fork(c->b, t, (uint32_t)pb, (uint32_t)b, flags);
}

static int record(struct pctx *c, struct import_line *l, uint32_t pid, uint32_t tid, uint64_t t)
{
    struct ptid *p = tid_of(c, tid);
    if (import_lit(l, "PERF_RECORD_COMM exec: ")) {
        if (c->o->skip_root && !c->root_seen) {
            c->root_seen = 1;
            c->root = pid;
            return 0;
        }
        if (c->root >= 0 && pid == (uint64_t)c->root)
            return 0;
        if (p->helper && p->helper_execs > 0) {
            p->helper_execs--;                       /* the recorder's own helper image (record's setpgid) */
            return 0;
        }
        if (flush_exec(c, p, 0))
            return -1;
        tid_reset_exec(p);
        p->helper = 0;
        p->xs = X_LAYOUT;
        p->xt = t;
        return 0;
    }
    if (c->root >= 0 && pid == (uint64_t)c->root && strncmp(l->p, "PERF_RECORD_FORK", 16))
        return 0;
    if (import_lit(l, "PERF_RECORD_FORK"))
        return task_event(c, l, pid, tid, t, 1);
    if (import_lit(l, "PERF_RECORD_EXIT"))
        return task_event(c, l, pid, tid, t, 0);
    if (p->helper && strncmp(l->p, "PERF_RECORD_EXIT", 16))
        return 0;
    if (import_lit(l, "PERF_RECORD_MMAP2 ")) {
        uint64_t a, b;
        if (import_dec(l, &a) || !import_lit(l, "/") || import_dec(l, &b) || !import_lit(l, ": "))
            return import_malformed(l, "PID/TID: after PERF_RECORD_MMAP2");
        return mmap2(c, l, p, t);
    }
    if (import_lit(l, "PERF_RECORD_LOST")) {
        uint64_t n = 1;
        import_field(l->p, "lost", &n);
        c->st->lost += n;
        return 0;
    }
    if (import_lit(l, "PERF_RECORD_COMM: ") || import_lit(l, "PERF_RECORD_MMAP "))
        return 0;                                  /* renames; the kernel's own text */
    import_unknown(c->st, l);
    return 0;
}

static int fault(struct pctx *c, struct ptid *p, uint64_t t, uint64_t addr)
{
    unsigned kind = TRR_READ;
    if (p->pf_valid && p->pf_addr == addr)
        kind = (p->pf_err & 0x2) ? TRR_WRITE : (p->pf_err & 0x10) ? TRR_EXEC : TRR_READ;
    p->pf_valid = 0;
    if (addr >= TRACE_USER_END)
        return 0;
    struct deferred d = { 0, t, addr, 0, 0, 0, 0, 0, 0, kind };
    return defer(c, p, d);
}

static int line(struct pctx *c, struct import_line *l)
{
    uint64_t pid, tid, sec, frac;
    import_skip_space(l);
    if (!*l->p)
        return 0;
    if (import_dec(l, &pid) || !import_lit(l, "/") || import_dec(l, &tid)) {
        import_unknown(c->st, l);                  /* perf's own messages */
        return 0;
    }
    if (pid > UINT32_MAX || tid > UINT32_MAX)
        return import_malformed(l, "thread ids below 2^32");
    import_skip_space(l);
    const char *ts = l->p;
    if (import_dec(l, &sec) || !import_lit(l, "."))
        return import_malformed(l, "a time SECONDS.NANOSECONDS:");
    const char *fs = l->p;
    if (import_dec(l, &frac) || !import_lit(l, ":") || sec > 1ull << 32)
        return import_malformed(l, "a time SECONDS.NANOSECONDS:");
    for (long n = l->p - 1 - fs; n < 9; n++)
        frac *= 10;
    if (l->p - 1 - fs > 9) {
        l->p = ts;
        return import_malformed(l, "a time with at most 9 decimals");
    }
    /* strace held the process just before these tracepoints fire: the gap
     * since its previous event, up to the hold, is taken out of the time. */
    uint64_t raw = sec * 1000000000ull + frac;
    struct ptid *self = tid_of(c, (uint32_t)tid);
    import_skip_space(l);
    if (c->o->delay_ns && self->last_raw && raw > self->last_raw &&
        (strstr(l->p, "syscalls:sys_enter_execve:") == l->p || strstr(l->p, "syscalls:sys_enter_exit_group:") == l->p)) {
        uint64_t gap = raw - self->last_raw;
        if (gap >= c->o->delay_ns / 2)
            c->shifted += gap < c->o->delay_ns ? gap : c->o->delay_ns;
    }
    self->last_raw = raw;
    uint64_t t = raw > c->shifted ? raw - c->shifted : 0;
    if (!strncmp(l->p, "PERF_RECORD_", 12))
        return record(c, l, (uint32_t)pid, (uint32_t)tid, t);
    if (c->root >= 0 && pid == (uint64_t)c->root)
        return 0;
    const char *ev = l->p, *colon = strchr(ev, ':');
    while (colon && colon[1] && colon[1] != ' ')
        colon = strchr(colon + 1, ':');
    if (!colon) {
        import_unknown(c->st, l);
        return 0;
    }
    struct ptid *p = tid_of(c, (uint32_t)tid);
    size_t nl = (size_t)(colon - ev);
    const char *args = colon + 1;
    while (*args == ' ')
        args++;
    if (p->helper && strncmp(ev, "syscalls:", 9))
        return 0;                                  /* before its exec, a copy of the helper */
    if (nl == 11 && !strncmp(ev, "page-faults", 11)) {
        struct import_line v = *l;
        v.p = args;
        uint64_t addr;
        if (import_hex(&v, &addr))
            return import_malformed(&v, "a fault address");
        return fault(c, p, t, addr);
    }
    if (nl >= 26 && !strncmp(ev, "exceptions:page_fault_", 22)) {
        uint64_t a, e;
        if (need(l, args, "address", &a) || need(l, args, "error_code", &e))
            return -1;
        p->pf_addr = a;
        p->pf_err = e;
        p->pf_valid = 1;
        if (!strncmp(ev + 22, "user", 4) && p->xs == X_LAYOUT)
            p->xs = X_WAIT_BRK;                    /* user code runs: exec is over */
        return 0;
    }
    if (nl > 13 && !strncmp(ev, "syscalls:sys_", 13)) {
        char name[64];
        snprintf(name, sizeof name, "%.*s", (int)(nl - 9 < 63 ? nl - 9 : 63), ev + 9);
        if (p->helper)
            return 0;                              /* a copy of the helper, or its own image */
        if (p->xs == X_LAYOUT && strcmp(name, "sys_exit_execve"))
            p->xs = X_WAIT_BRK;
        uint64_t code;
        if (c->prog && pid == c->prog && !strcmp(name, "sys_enter_exit_group") &&
            import_field(args, "error_code", &code) == 1) {
            c->st->prog_code = (int)(code & 0xff);  /* exit_group's argument, as wait() gives it */
            c->st->prog_code_seen = 1;
        }
        return syscall_event(c, l, p, t, name, args);
    }
    import_unknown(c->st, l);
    return 0;
}

int import_perf(struct build *b, FILE *f, const char *name, const struct import_opts *o, struct import_stats *st)
{
    struct pctx *c = mv_calloc(1, sizeof *c);
    c->b = b;
    c->o = o;
    c->st = st;
    c->root = -1;
    char *buf = NULL;
    size_t cap = 0, len;
    int rc = 0;
    struct import_line l = { name, 0, NULL, NULL, 0, 0 };
    int got;
    while (!rc && (got = import_getline(f, &buf, &cap, &len, st)) > 0) {
        l.lineno++;
        import_count_line(st, 0, buf);   /* (perf's logs counted one at a time by the caller) */
        l.text = l.p = buf;
        l.cut = got == 2;
        build_at(b, name, l.lineno);
        rc = line(c, &l);
    }
    build_at(b, name, 0);   /* the execs held to the end: the log's, no line's */
    if (!rc && got < 0)
        rc = import_read_failed(name, l.lineno + 1, errno);
    for (unsigned i = 0; i < NH && !rc; i++)
        for (struct ptid *p = c->h[i]; p && !rc; p = p->next)
            rc = flush_exec(c, p, 0);
    free(buf);
    free_all(c);
    free(c);
    return rc;
}

/* The input opened, and whether it is a perf.data (*data) rather than text.
 * again: import_check_perf opened it before, so a failure to open it now is
 * the log changing while it was imported (import.h), not bad input. */
static FILE *open_input(const char *path, int *data, int again)
{
    *data = 0;
    FILE *f = again ? fopen(path, "rb") : import_fopen(path, "rb");
    if (!f && again)
        import_log_gone(path, errno, "");
    if (!f)
        return NULL;
    char magic[8] = { 0 };
    size_t n = fread(magic, 1, sizeof magic, f);
    if (n < 8 || memcmp(magic, "PERFILE2", 8)) {
        rewind(f);
        return f;
    }
    /* perf script opens the file again by its name: a FIFO or a pipe has
     * given us its first bytes already (perf then waited forever) */
    struct stat sb;
    if (fstat(fileno(f), &sb) || !S_ISREG(sb.st_mode)) {
        fclose(f);
        mv_error("'%s': a perf.data must be a regular file (perf script reads it by name; not a FIFO, pipe or "
                 "device)", path);
        return NULL;
    }
    *data = 1;
    return f;
}

int import_check_perf(const char *path)
{
    int data;
    FILE *f = open_input(path, &data, 0);
    if (f)
        fclose(f);
    return f ? 0 : -1;
}

static FILE *open_perf(const char *path, pid_t *child, int again)
{
    *child = 0;
    int data;
    FILE *f = open_input(path, &data, again);
    if (!f || !data)
        return f;
    fclose(f);
    /* close-on-exec: a later file's perf script must not hold this pipe
     * open (closed early, this child then blocked on a full pipe forever) */
    int fd[2];
    if (pipe2(fd, O_CLOEXEC))
        return import_host_failure(errno), mv_error("cannot run perf script on '%s': %s", path, strerror(errno)),
               NULL;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fd[1], 1);                     /* the copy is not close-on-exec */
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0)
            dup2(null, 2);                  /* perf's notes on ignored fields */
        outfile_exec_signals();
        execlp("perf", "perf", "script", "-i", path, "--ns", "--show-task-events", "--show-mmap-events",
               "--show-lost-events", "-F", "pid,tid,time,event,addr,trace", (char *)NULL);
        _exit(127);
    }
    int e = errno;
    close(fd[1]);
    if (pid < 0) {
        close(fd[0]);
        return mv_error("cannot run perf script on '%s': %s", path, strerror(e)), NULL;
    }
    if (!(f = fdopen(fd[0], "r"))) {
        e = errno;
        close(fd[0]);
        kill(pid, SIGTERM);
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
            ;
        return mv_error("cannot run perf script on '%s': %s", path, strerror(e)), NULL;
    }
    *child = pid;
    return f;
}

FILE *import_open_perf(const char *path, pid_t *child)
{
    return open_perf(path, child, 0);
}

FILE *import_reopen_perf(const char *path, pid_t *child)
{
    return open_perf(path, child, 1);
}

int import_close(FILE *f, pid_t child, const char *path, int report)
{
    if (!f)
        return 0;
    fclose(f);
    if (!child)
        return 0;
    if (!report)
        kill(child, SIGTERM);               /* not read to its end: stop it (it may be writing) */
    int status = 0;
    pid_t r;
    while ((r = waitpid(child, &status, 0)) < 0 && errno == EINTR)
        ;
    if (!report)
        return 0;
    if (r < 0)
        return mv_error("perf script on '%s': waitpid: %s", path, strerror(errno));
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127)   /* the host's, not the input's */
        return import_fail_outside(), mv_error("perf script on '%s' failed: cannot run perf (scripts/setup installs "
                                               "Debian's linux-perf)", path);
    if (WIFEXITED(status) && WEXITSTATUS(status))
        return mv_error("perf script on '%s' failed (exit status %d): not a perf.data it can read (run "
                        "'perf script -i %s' to see why)", path, WEXITSTATUS(status), path);
    if (WIFSIGNALED(status))
        return mv_error("perf script on '%s' was killed by signal %d", path, WTERMSIG(status));
    return 0;
}

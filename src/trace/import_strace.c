/* import_strace.c: `strace -f -ttt [-y]` output into a trace (import.h).
 *
 * strace shows the process tree (fork, vfork, clone with its flags, clone3,
 * execve, exit_group and "+++ exited"/"+++ killed" lines) and the memory
 * calls with their results; it shows no page references and not what exec
 * mapped (the binary, the interpreter, the stack), so a trace imported from
 * strace alone has the calls, the heap and the libraries, and each exec gets
 * a default stack. Files are named by path (-y, or the path an earlier
 * open/openat returned the descriptor for): dev 0 and a hash of the path
 * stand for the file's identity (trace/fdtab.h). An interrupted call
 * ("<unfinished ...>") is taken up again at its "<... resumed>" line; its
 * time is the entry's. A child may speak before its parent's clone returns:
 * it is then the child of a task whose clone, fork or vfork is unfinished,
 * found on the list of those (not by a scan of every task seen). */
#include "lib/err.h"
#include "trace/fdtab.h"
#include "trace/import.h"
#include <stdlib.h>
#include <string.h>

#define NH 4096
#define MAXARGS 8

struct stid {
    uint32_t tid;
    char *pending;            /* "name(args" of an unfinished call */
    uint64_t pending_t;
    struct fdtab *fd;         /* its descriptors (NULL: none known); copied on fork */
    struct stid *next;
    struct stid *fprev, *fnext;   /* on the list of unfinished forks */
    int forking;
};

struct sctx {
    struct build *b;
    struct import_stats *st;
    struct stid *h[NH];
    struct stid *forks, *forks_tail;   /* tasks whose clone/fork/vfork is unfinished, oldest first */
    int64_t first;            /* the first pid seen: spawned */
};

static const char *const fork_calls[] = { "clone(", "clone3(", "fork(", "vfork(" };

static int fork_call(const char *text)
{
    for (unsigned k = 0; k < 4; k++)
        if (!strncmp(text, fork_calls[k], strlen(fork_calls[k])))
            return (int)k;
    return -1;
}

/* p's pending call changed: keep the list of unfinished forks in step. */
static void pending_set(struct sctx *c, struct stid *p, char *text, uint64_t t)
{
    free(p->pending);
    p->pending = text;
    p->pending_t = t;
    int f = text && fork_call(text) >= 0;
    if (f == p->forking)
        return;
    if (f) {
        p->fprev = c->forks_tail;
        p->fnext = NULL;
        *(c->forks_tail ? &c->forks_tail->fnext : &c->forks) = p;
        c->forks_tail = p;
    } else {
        *(p->fprev ? &p->fprev->fnext : &c->forks) = p->fnext;
        *(p->fnext ? &p->fnext->fprev : &c->forks_tail) = p->fprev;
        p->fprev = p->fnext = NULL;
    }
    p->forking = f;
}

static struct stid *stid_of(struct sctx *c, uint32_t tid)
{
    struct stid **pp = &c->h[tid % NH];
    for (struct stid *p = *pp; p; p = p->next)
        if (p->tid == tid)
            return p;
    struct stid *p = mv_calloc(1, sizeof *p);
    p->tid = tid;
    p->next = *pp;
    *pp = p;
    return p;
}

static void free_all(struct sctx *c)
{
    for (unsigned i = 0; i < NH; i++)
        for (struct stid *p = c->h[i], *n; p; p = n) {
            n = p->next;
            fdtab_free(p->fd);
            free(p->pending);
            free(p);
        }
}

/* Split "a, b, {c, d}, "e,f"" at top-level commas. Returns the count. */
static unsigned split_args(char *s, char **arg, unsigned max)
{
    unsigned n = 0, depth = 0;
    int quote = 0;
    char *start = s;
    for (char *p = s;; p++) {
        char ch = *p;
        if (quote) {
            if (ch == '\\' && p[1])
                p++;
            else if (ch == '"')
                quote = 0;
            else if (!ch)
                break;
            continue;
        }
        if (ch == '"')
            quote = 1;
        else if (ch == '(' || ch == '[' || ch == '{')
            depth++;
        else if ((ch == ')' || ch == ']' || ch == '}') && depth)
            depth--;
        if ((ch == ',' && !depth) || !ch) {
            if (n < max) {
                *p = 0;
                while (*start == ' ')
                    start++;
                arg[n++] = start;
            }
            if (!ch)
                break;
            start = p + 1;
        }
    }
    return n;
}

static int num(const char *s, uint64_t *v)
{
    struct import_line l = { "", 0, s, s };
    int neg = *s == '-';
    if (neg)
        l.p++;
    int rc = (l.p[0] == '0' && l.p[1] == 'x') ? import_hex(&l, v) : import_dec(&l, v);
    if (rc || (*l.p && *l.p != '<' && *l.p != ' '))
        return -1;
    if (neg)
        *v = (uint64_t)-(int64_t)*v;
    return 0;
}

static uint32_t prot_of(const char *s)
{
    return (strstr(s, "PROT_READ") ? TRP_READ : 0) | (strstr(s, "PROT_WRITE") ? TRP_WRITE : 0) |
           (strstr(s, "PROT_EXEC") ? TRP_EXEC : 0);
}

/* The path a descriptor argument names: "3</path>" (-y) or an earlier open. */
static int fd_path(struct stid *p, const char *arg, const char **path, size_t *n)
{
    const char *lt = strchr(arg, '<');
    if (lt) {
        const char *gt = strrchr(arg, '>');
        if (!gt || gt < lt)
            return -1;
        *path = lt + 1;
        *n = (size_t)(gt - lt - 1);
        return 0;
    }
    uint64_t fd;
    if (num(arg, &fd) || !(*path = fdtab_path(p->fd, fd)))
        return -1;
    *n = strlen(*path);
    return 0;
}

/* One complete call: name, its arguments (text, modified), its result. */
static int call(struct sctx *c, struct import_line *l, struct stid *p, uint64_t t, const char *name, char *args,
                const char *ret)
{
    uint64_t r;
    int ok = ret && !num(ret, &r) && !(r >= (uint64_t)-4095);
    char *a[MAXARGS] = { 0 };   /* the slots past na stay NULL, never a previous line's */
    unsigned na = split_args(args, a, MAXARGS);
    uint64_t v[5];
#define NEED(cond, what) do { if (!(cond)) return import_malformed(l, what); } while (0)
    if (!strcmp(name, "mmap")) {
        if (!ok)
            return 0;
        NEED(na == 6 && !num(a[1], &v[1]) && !num(a[5], &v[4]), "mmap(addr, len, prot, flags, fd, offset)");
        int anon = strstr(a[3], "MAP_ANON") != NULL;
        uint64_t ino = 0;
        if (!anon) {
            const char *path;
            size_t n;
            if (fd_path(p, a[4], &path, &n)) {
                uint64_t fd;
                NEED(!num(a[4], &fd), "a file descriptor");
                char buf[32];
                n = (size_t)snprintf(buf, sizeof buf, "fd:%u:%llu", p->tid, (unsigned long long)fd);
                ino = import_path_hash(buf, n);
            } else {
                ino = import_path_hash(path, n);
            }
        }
        return build_mmap(c->b, t, p->tid, r, v[1], prot_of(a[2]),
                          (anon ? TRM_ANON : 0) | (strstr(a[3], "MAP_SHARED") ? TRM_SHARED : 0), 0, ino, v[4] >> 12);
    }
    if (!strcmp(name, "munmap")) {
        NEED(na == 2 && !num(a[0], &v[0]) && !num(a[1], &v[1]), "munmap(addr, len)");
        return ok && r == 0 ? build_munmap(c->b, t, p->tid, v[0], v[1]) : 0;
    }
    if (!strcmp(name, "mprotect")) {
        NEED(na == 3 && !num(a[0], &v[0]) && !num(a[1], &v[1]), "mprotect(addr, len, prot)");
        return ok && r == 0 ? build_mprotect(c->b, t, p->tid, v[0], v[1], prot_of(a[2])) : 0;
    }
    if (!strcmp(name, "brk")) {
        NEED(na == 1 && ok, "brk(addr) = address");
        return build_brk(c->b, t, p->tid, r);
    }
    if (!strcmp(name, "mremap")) {
        NEED(na >= 4 && !num(a[0], &v[0]) && !num(a[1], &v[1]) && !num(a[2], &v[2]),
             "mremap(addr, old_len, new_len, flags...)");
        return ok ? build_mremap(c->b, t, p->tid, v[0], v[1], r, v[2]) : 0;
    }
    if (!strcmp(name, "openat") || !strcmp(name, "open")) {
        const char *pa = a[!strcmp(name, "openat") ? 1 : 0];
        if (ok && na >= 2 && *pa == '"') {
            const char *q = strrchr(pa + 1, '"');
            if (!p->fd)
                p->fd = fdtab_new();
            if (q)
                fdtab_open(p->fd, r, pa + 1, (size_t)(q - pa - 1), 0);
        }
        return 0;
    }
    if (!strcmp(name, "fork") || !strcmp(name, "vfork") || !strcmp(name, "clone") || !strcmp(name, "clone3")) {
        if (!ok || r > UINT32_MAX)
            return 0;
        uint32_t flags = 0;
        if (!strcmp(name, "vfork"))
            flags = TRF_VM | TRF_VFORK;
        else if (strcmp(name, "fork"))
            flags = (strstr(args, "CLONE_VM") ? TRF_VM : 0) | (strstr(args, "CLONE_VFORK") ? TRF_VFORK : 0) |
                    (strstr(args, "CLONE_THREAD") ? TRF_THREAD : 0);
        if (c->first < 0)
            c->first = p->tid;
        if (!build_known(c->b, p->tid) && build_spawn(c->b, t, p->tid))
            return -1;
        if (build_known(c->b, (uint32_t)r))
            return 0;                               /* forked when the child first spoke */
        struct stid *ch = stid_of(c, (uint32_t)r);
        if (p->fd && !(flags & TRF_THREAD) && !ch->fd)
            ch->fd = fdtab_copy(p->fd);
        return build_fork(c->b, t, p->tid, (uint32_t)r, flags);
    }
    if (!strcmp(name, "execve") || !strcmp(name, "execveat")) {
        if (!ok || r != 0)
            return 0;
        int at = !strcmp(name, "execveat");   /* its path is the second argument */
        NEED(!at || na >= 2, "execveat(dirfd, path, argv, envp, flags)");
        const char *pa = na ? a[at] : "";
        char path[512] = "";
        if (*pa == '"') {
            const char *q = strrchr(pa + 1, '"');
            size_t n = q ? (size_t)(q - pa - 1) : 0;
            snprintf(path, sizeof path, "%.*s", (int)(n < 500 ? n : 500), pa + 1);
        }
        return build_exec(c->b, t, p->tid, path, NULL, 0, 0);
    }
    return 0;
#undef NEED
}

static int line(struct sctx *c, struct import_line *l)
{
    uint64_t tid = 0, sec, frac;
    import_skip_space(l);
    if (!*l->p)
        return 0;
    if (import_lit(l, "[pid")) {
        import_skip_space(l);
        if (import_dec(l, &tid) || !import_lit(l, "]"))
            return import_malformed(l, "[pid N]");
    } else {
        const char *save = l->p;
        if (import_dec(l, &tid) || *l->p != ' ' || !strchr(l->p, '.')) {
            l->p = save;
            tid = 0;
        }
    }
    if (tid > UINT32_MAX)
        return import_malformed(l, "a pid below 2^32");
    import_skip_space(l);
    const char *ts = l->p;
    if (import_dec(l, &sec) || !import_lit(l, ".")) {
        l->p = ts;
        size_t w = strspn(l->p, "abcdefghijklmnopqrstuvwxyz0123456789_");
        if (w && l->p[w] == '(')                    /* a call without its time */
            return import_malformed(l, "a timestamp (record with strace -f -ttt)");
        import_unknown(c->st, l);
        return 0;
    }
    const char *fs = l->p;
    if (import_dec(l, &frac) || l->p - fs > 9 || sec > 1ull << 34)
        return import_malformed(l, "a -ttt timestamp SECONDS.MICROSECONDS");
    for (long n = l->p - fs; n < 9; n++)
        frac *= 10;
    uint64_t t = sec * 1000000000ull + frac;
    import_skip_space(l);
    if (c->first < 0)
        c->first = (int64_t)tid;
    struct stid *p = stid_of(c, (uint32_t)tid);
    const char *s = l->p;
    /* A child may speak before its parent's clone returns: it is the child
     * of the task whose clone/fork is still unfinished. */
    if (c->first != (int64_t)tid && !build_known(c->b, (uint32_t)tid)) {
        for (struct stid *q = c->forks; q; q = q->fnext) {
            int k = fork_call(q->pending);
            if (!build_known(c->b, q->tid))
                continue;
            uint32_t fl = k == 3 ? TRF_VM | TRF_VFORK
                          : k == 2 ? 0
                                   : (strstr(q->pending, "CLONE_VM") ? TRF_VM : 0) |
                                         (strstr(q->pending, "CLONE_VFORK") ? TRF_VFORK : 0) |
                                         (strstr(q->pending, "CLONE_THREAD") ? TRF_THREAD : 0);
            if (build_fork(c->b, q->pending_t, q->tid, (uint32_t)tid, fl))
                return -1;
            break;
        }
    }
    if (!strncmp(s, "+++ ", 4)) {
        if (strstr(s, "exited with") || strstr(s, "killed by"))
            return build_exit(c->b, t, (uint32_t)tid);
        import_unknown(c->st, l);
        return 0;
    }
    if (!strncmp(s, "--- ", 4))
        return 0;                                   /* signals */
    char *text = NULL;
    uint64_t tcall = t;
    if (!strncmp(s, "<... ", 5)) {
        const char *res = strstr(s, " resumed>");
        if (!res)
            return import_malformed(l, "<... NAME resumed>");
        if (!p->pending) {
            import_unknown(c->st, l);               /* the start was not in the log */
            return 0;
        }
        size_t a = strlen(p->pending), b = strlen(res + 9);
        text = mv_malloc(a + b + 1);
        memcpy(text, p->pending, a);
        memcpy(text + a, res + 9, b + 1);
        tcall = p->pending_t;
        pending_set(c, p, NULL, 0);
    } else {
        text = mv_strdup(s);
    }
    /* name(args) = ret */
    char *paren = strchr(text, '(');
    size_t nl = paren ? (size_t)(paren - text) : 0;
    if (!paren || !nl || strspn(text, "abcdefghijklmnopqrstuvwxyz0123456789_") != nl) {
        free(text);
        import_unknown(c->st, l);
        return 0;
    }
    char *unf = strstr(text, " <unfinished ...>");
    if (unf) {
        *unf = 0;
        pending_set(c, p, text, t);
        return 0;
    }
    /* the arguments end at the last ") = " (or ") " before "= ?") */
    char *eq = NULL, *res = NULL;
    for (char *q = strstr(text, " = "); q; q = strstr(q + 1, " = ")) {
        char *b = q;
        while (b > text && b[-1] == ' ')
            b--;
        if (b > text && b[-1] == ')') {
            eq = b - 1;
            res = q + 3;
        }
    }
    if (!eq) {
        *paren = 0;
        static const char *const used[] = { "mmap", "munmap", "mprotect", "brk", "mremap", "openat", "open",
                                            "fork", "vfork", "clone", "clone3", "execve", "execveat" };
        int ours = 0;
        for (unsigned i = 0; i < sizeof used / sizeof used[0]; i++)
            ours |= !strcmp(text, used[i]);
        int unfinished_exit = !!strstr(paren + 1, "= ?");
        free(text);
        if (ours && !unfinished_exit)
            return import_malformed(l, "NAME(ARGS) = RESULT");
        if (!ours && !unfinished_exit)
            import_unknown(c->st, l);
        return 0;                                   /* exit_group: the "+++ exited" line ends the task */
    }
    *eq = 0;
    *paren = 0;
    if (c->first == (int64_t)tid && !build_known(c->b, (uint32_t)tid) && strcmp(text, "execve") &&
        build_spawn(c->b, tcall, (uint32_t)tid)) {
        free(text);
        return -1;
    }
    int rc = call(c, l, p, tcall, text, paren + 1, res);
    free(text);
    return rc;
}

int import_strace(struct build *b, FILE *f, const char *name, const struct import_opts *o, struct import_stats *st)
{
    (void)o;
    struct sctx *c = mv_calloc(1, sizeof *c);
    c->b = b;
    c->st = st;
    c->first = -1;
    char *buf = NULL;
    size_t cap = 0, len;
    int rc = 0;
    struct import_line l = { name, 0, NULL, NULL };
    while (!rc && import_getline(f, &buf, &cap, &len, st)) {
        l.lineno++;
        st->lines++;
        l.text = l.p = buf;
        rc = line(c, &l);
    }
    free(buf);
    free_all(c);
    free(c);
    return rc;
}

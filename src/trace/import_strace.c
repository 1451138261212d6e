/* import_strace.c: the tasks of a strace log (import_strace.h), and their
 * calls into builder events.
 *
 * strace shows the process tree (fork, vfork, clone with its flags, clone3,
 * execve, exit_group and "+++ exited"/"+++ killed" lines) and the memory
 * calls with their results; it shows no page references and not what exec
 * mapped (the binary, the interpreter, the stack), so a trace imported from
 * strace alone has the calls, the heap and the libraries, and each exec gets
 * a default stack. Files are named by path (-y, or the path an earlier
 * open/openat returned the descriptor for): dev 0 and a hash of the path
 * stand for the file's identity (trace/fdtab.h). Threads (CLONE_THREAD or
 * CLONE_FILES) share one descriptor table, as they share Linux's
 * files_struct; fork and vfork copy it; exec unshares it and closes the
 * close-on-exec ones.
 *
 * An interrupted call ("<unfinished ...>") is taken up again at its
 * "<... resumed>" line; its time is the entry's (an execve by a thread is
 * resumed by the leader whose pid the thread takes: "superseded"). munmap is applied at its
 * entry: the kernel unmaps before it returns, and another thread may map
 * the range again (and print that) before strace shows the return.
 *
 * A new task may speak before the clone that made it returns. With exactly
 * one fork, vfork or clone unfinished (and no task waiting for a parent),
 * it is that call's child, and the call is marked as having made it. With
 * several, nobody can tell yet: its lines are held until a call returns its
 * pid (then they are replayed, under that parent) or until one call is left
 * for one waiting task. Held lines are bounded (HOLD_MAX bytes); what is
 * never claimed is counted and reported. Every lookup is a balanced tree's
 * (tasks by tid) or a list head: no line walks the tasks. */
#include "trace/import_strace.h"
#include "lib/err.h"
#include "lib/tree.h"
#include "trace/fdtab.h"
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define MAXARGS 8
#define HOLD_MAX (64u << 20)

/* A descriptor table shared by the tasks of one files_struct. */
struct sfiles {
    struct fdtab *t;
    unsigned refs;
};

/* A line held until its task's parent is known. */
struct hline {
    struct hline *next;
    const char *name;
    uint64_t lineno, t;
    uint32_t tid;
    unsigned file;                 /* the log's index (import_line) */
    int cut;                       /* import_line's */
    size_t off;                    /* where the call begins in text */
    char text[];
};

enum { FREE_TASK, WAITING, STRAY };   /* held: no (WAITING: not yet) known parent */

struct stid {
    uint32_t tid;                  /* first: the task tree's key (lib/tree.h) */
    uint32_t claimed;              /* the child its unfinished fork was given when that child spoke */
    unsigned char forking;         /* on the list of unfinished, unclaimed forks */
    unsigned char held;            /* FREE_TASK, WAITING or STRAY (no fork was unfinished when it spoke) */
    unsigned char applied;         /* its unfinished call (munmap) was applied at its entry */
    char *pending;                 /* "name(args" of an unfinished call */
    uint64_t pending_t;
    uint64_t seq;                  /* forking: when its fork began; held: when it first spoke */
    struct sfiles *fd;             /* NULL: none known */
    struct stid *lprev, *lnext;    /* on the forks list, or a held list */
    struct hline *hl, **hl_tail;
    uint64_t hbytes, hn;
};

struct list {
    struct stid *head, *tail;
    uint64_t n;
};

struct ready {
    struct ready *next;
    struct hline *hl;
};

struct strace_tasks {
    struct build *b;
    struct import_stats *st;
    void *tree;                    /* the tasks by tid (lib/tree.h): no choice of tids
                                      makes a lookup cost more than log n */
    size_t n;
    struct list forks;             /* unfinished, unclaimed forks of known tasks, oldest first */
    struct list waiting, strays;   /* held tasks */
    uint64_t hbytes, hold_max;     /* bytes of lines held, and their bound */
    struct ready *ready, *ready_tail;
    uint64_t seq;                  /* lines handled */
    int64_t first;                 /* the first pid seen: spawned (-1: none yet; INT64_MAX: it is gone) */
};

static void list_add(struct list *l, struct stid *p)
{
    p->lprev = l->tail;
    p->lnext = NULL;
    *(l->tail ? &l->tail->lnext : &l->head) = p;
    l->tail = p;
    l->n++;
}

static void list_del(struct list *l, struct stid *p)
{
    *(p->lprev ? &p->lprev->lnext : &l->head) = p->lnext;
    *(p->lnext ? &p->lnext->lprev : &l->tail) = p->lprev;
    p->lprev = p->lnext = NULL;
    l->n--;
}

static struct stid *stid_find(const struct strace_tasks *c, uint32_t tid)
{
    return tree_find(&c->tree, tid);
}

static struct stid *stid_get(struct strace_tasks *c, uint32_t tid)
{
    struct stid *p = stid_find(c, tid);
    if (p)
        return p;
    p = mv_calloc(1, sizeof *p);
    p->tid = tid;
    p->hl_tail = &p->hl;
    tree_insert(&c->tree, p);
    c->n++;
    return p;
}

static void files_put(struct sfiles *s)
{
    if (s && !--s->refs) {
        fdtab_free(s->t);
        free(s);
    }
}

static struct sfiles *files_of(struct stid *p)
{
    if (!p->fd) {
        p->fd = mv_calloc(1, sizeof *p->fd);
        p->fd->t = fdtab_new();
        p->fd->refs = 1;
    }
    return p->fd;
}

static void free_lines(struct hline *h)
{
    for (struct hline *n; h; h = n) {
        n = h->next;
        free(h);
    }
}

static const char *const fork_calls[] = { "clone(", "clone3(", "fork(", "vfork(" };

static int fork_call(const char *text)
{
    for (unsigned k = 0; k < 4; k++)
        if (!strncmp(text, fork_calls[k], strlen(fork_calls[k])))
            return (int)k;
    return -1;
}

/* The TRF_* flags of fork call k whose text (its arguments, whole) is text. */
static uint32_t fork_flags(int k, const char *text)
{
    if (k == 3)
        return TRF_VM | TRF_VFORK;
    if (k == 2)
        return 0;
    /* -X raw ("flags=0x10d00") and -X verbose (the same, then the names
     * in a C comment): x86-64's CLONE_VM 0x100, CLONE_VFORK 0x4000,
     * CLONE_THREAD 0x10000 */
    const char *f = strstr(text, "flags=0x");
    if (f) {
        f += 6;
        size_t n = 2 + strspn(f + 2, "0123456789abcdef");
        if (n > 2 && n <= 18) {
            uint64_t v = strtoull(f, NULL, 16);
            return (v & 0x100 ? TRF_VM : 0) | (v & 0x4000 ? TRF_VFORK : 0) | (v & 0x10000 ? TRF_THREAD : 0);
        }
    }
    return (strstr(text, "CLONE_VM") ? TRF_VM : 0) | (strstr(text, "CLONE_VFORK") ? TRF_VFORK : 0) |
           (strstr(text, "CLONE_THREAD") ? TRF_THREAD : 0);
}

/* p's pending call changed: keep the list of unfinished forks in step. */
static void pending_set(struct strace_tasks *c, struct stid *p, char *text, uint64_t t)
{
    free(p->pending);
    p->pending = text;
    p->pending_t = t;
    p->applied = 0;
    p->claimed = 0;
    int f = text && fork_call(text) >= 0;
    if (f && !p->forking) {
        p->seq = c->seq;
        list_add(&c->forks, p);
    } else if (!f && p->forking) {
        list_del(&c->forks, p);
    }
    p->forking = (unsigned char)f;
}

/* Task p is gone (exited, killed): forget it, its unfinished call with it. */
static void stid_drop(struct strace_tasks *c, struct stid *p)
{
    if ((int64_t)p->tid == c->first)
        c->first = INT64_MAX;   /* no tid: a line of it after its exit is a stranger's, not a new first task */
    pending_set(c, p, NULL, 0);
    if (p->held)
        list_del(p->held == WAITING ? &c->waiting : &c->strays, p);
    c->hbytes -= p->hbytes;
    free_lines(p->hl);
    files_put(p->fd);
    tree_delete(&c->tree, p);
    c->n--;
    free(p);
}

/* child (a tid) was made by parent's fork call (text: its arguments). */
static int fork_child(struct strace_tasks *c, struct stid *parent, uint32_t child, uint64_t t, uint32_t flags,
                      const char *text)
{
    struct stid *ch = stid_get(c, child);
    struct sfiles *old = ch->fd;
    if ((flags & TRF_THREAD) || strstr(text, "CLONE_FILES")) {
        ch->fd = files_of(parent);                 /* one files_struct */
        ch->fd->refs++;
    } else if (parent->fd) {
        ch->fd = mv_calloc(1, sizeof *ch->fd);     /* a copy, replacing a dead task's */
        ch->fd->t = fdtab_copy(parent->fd->t);
        ch->fd->refs = 1;
    } else {
        ch->fd = NULL;
    }
    files_put(old);
    return build_fork(c->b, t, parent->tid, child, flags);
}

/* Task p spoke, at line l, while q's fork is unfinished: it is q's child. */
static int claim(struct strace_tasks *c, struct stid *q, struct stid *p, struct import_line *l)
{
    list_del(&c->forks, q);
    q->forking = 0;
    q->claimed = p->tid;
    uint32_t fl = fork_flags(fork_call(q->pending), q->pending);
    if ((fl & TRF_THREAD) && !(fl & TRF_VM))   /* as call() refuses a finished one: EINVAL in Linux */
        return import_malformed(l, "a task whose parent's unfinished clone has CLONE_THREAD only with CLONE_VM");
    return fork_child(c, q, p->tid, q->pending_t, fl, q->pending);
}

static void start_hold(struct strace_tasks *c, struct stid *p)
{
    p->held = c->forks.n ? WAITING : STRAY;
    p->seq = c->seq;
    list_add(p->held == WAITING ? &c->waiting : &c->strays, p);
}

static void hold(struct strace_tasks *c, struct stid *p, const struct import_line *l, uint64_t t)
{
    size_t n = strlen(l->text) + 1;
    if (c->hbytes + n > c->hold_max) {
        c->st->held_over++;
        if (!p->hn)
            stid_drop(c, p);                        /* nothing held: not even the task is kept */
        return;
    }
    struct hline *h = mv_malloc(sizeof *h + n);
    h->next = NULL;
    h->name = l->name;
    h->lineno = l->lineno;
    h->file = l->file;
    h->cut = l->cut;
    h->t = t;
    h->tid = p->tid;
    h->off = (size_t)(l->p - l->text);
    memcpy(h->text, l->text, n);
    *p->hl_tail = h;
    p->hl_tail = &h->next;
    p->hbytes += n;
    p->hn++;
    c->hbytes += n;
}

/* p's parent is known now: replay its held lines (after the current line). */
static void release(struct strace_tasks *c, struct stid *p)
{
    list_del(p->held == WAITING ? &c->waiting : &c->strays, p);
    p->held = FREE_TASK;
    c->hbytes -= p->hbytes;
    struct ready *r = mv_malloc(sizeof *r);
    r->next = NULL;
    r->hl = p->hl;
    *(c->ready_tail ? &c->ready_tail->next : &c->ready) = r;
    c->ready_tail = r;
    p->hl = NULL;
    p->hl_tail = &p->hl;
    p->hbytes = p->hn = 0;
}

/* Split "a, b, {c, d}, "e,f", 3</p, (q>" at top-level commas. strace -y
 * prints a descriptor's path after it, unquoted, in <...>, escaping '>' and
 * '\' in it (as \76 and \\): so NAME<...> ends at the first '>' not escaped.
 * Returns the count. */
static unsigned split_args(char *s, char **arg, unsigned max)
{
    unsigned n = 0, depth = 0;
    int quote = 0, path = 0;
    char *start = s;
    for (char *p = s;; p++) {
        char ch = *p;
        if (quote || path) {
            if (ch == '\\' && p[1])
                p++;
            else if ((quote && ch == '"') || (path && ch == '>'))
                quote = path = 0;
            else if (!ch)
                break;
            continue;
        }
        if (ch == '"')
            quote = 1;
        else if (ch == '<' && p[1] != '<' && p > s && (strchr("0123456789_", p[-1]) || (p[-1] >= 'A' && p[-1] <= 'Z')))
            path = 1;   /* "3</path>" (-y), not "21<<MAP_HUGE_SHIFT" */
        else if (ch == '<' && p[1] == '<')
            p++;
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
    struct import_line l = { "", 0, s, s, 0, 0 };
    int neg = *s == '-';
    if (neg)
        l.p++;
    int rc = (l.p[0] == '0' && l.p[1] == 'x') ? import_hex(&l, v) : import_dec(&l, v);
    if (rc || (*l.p && *l.p != '<' && *l.p != ' '))
        return -1;
    if (neg)
        *v = 0 - *v;   /* two's complement in unsigned arithmetic: -9223372036854775808 too (no signed overflow) */
    return 0;
}

/* Flags as strace prints them: names and numbers joined by '|'
 * ("PROT_READ|PROT_WRITE", "MAP_PRIVATE|MAP_ANONYMOUS|0x40000",
 * "MAP_HUGETLB|21<<MAP_HUGE_SHIFT"), or one number (strace -X raw; -X
 * verbose writes the names after it in a C comment, which must close). A
 * name from `names` (each exactly) adds its bits; another name with the
 * same prefix is taken only when `any_name` (a flag the model has no use
 * for: strace knows dozens of MAP_* ones, and new kernels add more);
 * anything else is refused. Each name is matched whole: "PROT_WRITEX"
 * is not PROT_WRITE. */
struct flag_name {
    const char *name;
    uint64_t bits;
};

/* The number t[0..n) (num's forms), not NUL-terminated where it stands. */
static int token_num(const char *t, size_t n, uint64_t *v)
{
    char buf[32];
    if (n >= sizeof buf)
        return -1;
    memcpy(buf, t, n);
    buf[n] = 0;
    return num(buf, v);
}

static int flags_of(const char *s, const char *prefix, const struct flag_name *names, int any_name, uint64_t *out)
{
    uint64_t v = 0;
    size_t pl = strlen(prefix);
    const char *t = s;
    const char *cmt = strstr(s, " /* ");
    if (cmt) {   /* -X verbose: the number, then the names in a C comment: the number holds */
        size_t cl = strlen(cmt);
        if (cl < 7 || strcmp(cmt + cl - 3, " */"))
            return -1;
        return token_num(s, (size_t)(cmt - s), out);
    }
    for (;;) {
        size_t n = strcspn(t, "|");
        if (!n)
            return -1;
        uint64_t x;
        if (!strncmp(t, prefix, pl)) {
            size_t k = pl;
            while (k < n && (isupper((unsigned char)t[k]) || isdigit((unsigned char)t[k]) || t[k] == '_'))
                k++;
            if (k != n || k == pl)
                return -1;
            const struct flag_name *f = names;
            while (f->name && (strlen(f->name) != n || strncmp(f->name, t, n)))
                f++;
            if (!f->name && !any_name)
                return -1;
            v |= f->name ? f->bits : 0;
        } else if (n > 16 && !strncmp(t + n - 16, "<<MAP_HUGE_SHIFT", 16) && !strcmp(prefix, "MAP_")) {
            /* a huge page size, log2 in the top bits: the model maps huge
             * pages by the mapping's own hint, not this */
            size_t d = 0;
            while (isdigit((unsigned char)t[d]))
                d++;
            if (!d || d + 16 != n)
                return -1;
        } else {
            if (token_num(t, n, &x))
                return -1;
            v |= x;
        }
        if (!t[n])
            break;
        t += n + 1;
    }
    *out = v;
    return 0;
}

/* x86-64's PROT_READ 1, PROT_WRITE 2, PROT_EXEC 4; strace's other names
 * (some of other architectures) are known and have no effect here. */
static int prot_of(const char *s, uint32_t *prot)
{
    static const struct flag_name names[] = {
        { "PROT_NONE", 0 }, { "PROT_READ", 1 }, { "PROT_WRITE", 2 }, { "PROT_EXEC", 4 }, { "PROT_SEM", 8 },
        { "PROT_GROWSDOWN", 0x01000000 }, { "PROT_GROWSUP", 0x02000000 }, { "PROT_SAO", 0x10 },
        { "PROT_ADI", 0x10 }, { "PROT_BTI", 0x10 }, { "PROT_MTE", 0x20 }, { NULL, 0 },
    };
    uint64_t v;   /* bits past those: mmap ignores them (its prot is an unsigned long; calc_vm_prot_bits) */
    if (flags_of(s, "PROT_", names, 0, &v))
        return -1;
    *prot = (v & 1 ? TRP_READ : 0) | (v & 2 ? TRP_WRITE : 0) | (v & 4 ? TRP_EXEC : 0);
    return 0;
}

/* MAP_SHARED 0x01 (MAP_SHARED_VALIDATE 0x03), MAP_ANONYMOUS 0x20 (also
 * spelled MAP_ANON); every other MAP_* name is taken and has no effect. */
static int mflags_of(const char *s, uint32_t *fl)
{
    static const struct flag_name names[] = {
        { "MAP_SHARED", 1 }, { "MAP_SHARED_VALIDATE", 3 }, { "MAP_ANONYMOUS", 0x20 }, { "MAP_ANON", 0x20 },
        { NULL, 0 },
    };
    uint64_t v;   /* unknown bits: ignored by mmap (MAP_PRIVATE and MAP_SHARED) */
    if (flags_of(s, "MAP_", names, 1, &v))
        return -1;
    *fl = (v & 0x20 ? TRM_ANON : 0) | (v & 1 ? TRM_SHARED : 0);
    return 0;
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
    if (num(arg, &fd) || !(*path = fdtab_path(p->fd ? p->fd->t : NULL, fd)))
        return -1;
    *n = strlen(*path);
    return 0;
}

/* One complete call: name, its arguments (text, modified), its result.
 * base: where name is in l->text (NULL when the line was a resumption):
 * an error then points at the argument at fault. */
static int call(struct strace_tasks *c, struct import_line *l, struct stid *p, uint64_t t, char *name, char *args,
                const char *ret, uint32_t claimed, const char *base)
{
    uint64_t r;
    int ok = ret && !num(ret, &r) && !(r >= (uint64_t)-4095);
    int fk = fork_call(name);                     /* name still holds "name(args" here */
    uint32_t fflags = fk >= 0 ? fork_flags(fk, args) : 0;
    args[-1] = 0;
    char *a[MAXARGS] = { 0 };   /* the slots past na stay NULL, never a previous line's */
    unsigned na = split_args(args, a, MAXARGS);
    uint64_t v[5];
#define NEED(cond, at, what)                                                                                      \
    do {                                                                                                          \
        if (!(cond)) {                                                                                            \
            if (base && (at))                                                                                     \
                l->p = base + ((const char *)(at) - name);                                                        \
            return import_malformed(l, what);                                                                     \
        }                                                                                                         \
    } while (0)
    if (!strcmp(name, "mmap")) {
        if (!ok)
            return 0;
        NEED(na == 6 && !num(a[1], &v[1]) && !num(a[5], &v[4]), args, "mmap(addr, len, prot, flags, fd, offset)");
        uint32_t prot, fl;
        NEED(!prot_of(a[2], &prot), a[2], "mmap's protection: PROT_* names or a number");
        NEED(!mflags_of(a[3], &fl), a[3], "mmap's flags: MAP_* names or a number");
        uint64_t ino = 0;
        if (!(fl & TRM_ANON)) {
            const char *path;
            size_t n;
            if (fd_path(p, a[4], &path, &n)) {
                uint64_t fd;
                NEED(!num(a[4], &fd) && fd <= INT32_MAX, a[4],
                     "a file descriptor (a mapping without MAP_ANONYMOUS needs one: Linux fails fd -1 with EBADF)");
                char buf[32];
                n = (size_t)snprintf(buf, sizeof buf, "fd:%u:%llu", p->tid, (unsigned long long)fd);
                ino = import_path_hash(buf, n);
            } else {
                ino = import_path_hash(path, n);
            }
        }
        return build_mmap(c->b, t, p->tid, r, v[1], prot, fl, 0, ino, v[4] >> 12);
    }
    if (!strcmp(name, "munmap")) {
        NEED(na == 2 && !num(a[0], &v[0]) && !num(a[1], &v[1]), args, "munmap(addr, len)");
        return ok && r == 0 ? build_munmap(c->b, t, p->tid, v[0], v[1]) : 0;
    }
    if (!strcmp(name, "mprotect")) {
        uint32_t prot = 0;
        NEED(na == 3 && !num(a[0], &v[0]) && !num(a[1], &v[1]), args, "mprotect(addr, len, prot)");
        /* a failed call's protection is what the kernel refused (EINVAL for
         * unknown bits): read only that of one that succeeded */
        NEED(!(ok && r == 0) || !prot_of(a[2], &prot), a[2], "mprotect's protection: PROT_* names or a number");
        return ok && r == 0 ? build_mprotect(c->b, t, p->tid, v[0], v[1], prot) : 0;
    }
    if (!strcmp(name, "brk")) {
        NEED(na == 1 && ok, args, "brk(addr) = address");
        return build_brk(c->b, t, p->tid, r);
    }
    if (!strcmp(name, "mremap")) {
        NEED(na >= 4 && !num(a[0], &v[0]) && !num(a[1], &v[1]) && !num(a[2], &v[2]), args,
             "mremap(addr, old_len, new_len, flags...)");
        return ok ? build_mremap(c->b, t, p->tid, v[0], v[1], r, v[2]) : 0;
    }
    if (!strcmp(name, "openat") || !strcmp(name, "open")) {
        int at = !strcmp(name, "openat");
        const char *pa = a[at];
        if (ok && na >= (unsigned)at + 2 && *pa == '"') {
            const char *q = strrchr(pa + 1, '"');
            uint64_t fl = 0;
            int cloexec = strstr(a[at + 1], "O_CLOEXEC") || (!num(a[at + 1], &fl) && (fl & 02000000));
            if (q)
                fdtab_open(files_of(p)->t, r, pa + 1, (size_t)(q - pa - 1), cloexec);
        }
        return 0;
    }
    if (!strcmp(name, "close")) {
        if (ok && na == 1 && p->fd && !num(a[0], &v[0]))
            fdtab_close(p->fd->t, v[0]);
        return 0;
    }
    if (fk >= 0) {
        if (!ok || r > UINT32_MAX || !r)
            return 0;
        /* clone(2) fails a thread of its own memory with EINVAL: one that
         * returned a child is no log strace wrote (the trace reader refuses
         * such a fork record too) */
        NEED(!(fflags & TRF_THREAD) || (fflags & TRF_VM), args, "clone's flags: CLONE_THREAD only with CLONE_VM");
        if (c->first < 0)
            c->first = p->tid;
        if (!build_known(c->b, p->tid) && build_spawn(c->b, t, p->tid))
            return -1;
        if (claimed == r)
            return 0;                               /* forked when the child first spoke */
        if (build_known(c->b, (uint32_t)r)) {
            c->st->fork_live++;                     /* a pid reused, or an exit lost: left out, counted */
            return 0;
        }
        struct stid *ch = stid_find(c, (uint32_t)r);
        int rc = fork_child(c, p, (uint32_t)r, t, fflags, args);
        if (!rc && ch && ch->held)
            release(c, ch);                         /* its lines, held until now */
        return rc;
    }
    if (!strcmp(name, "execve") || !strcmp(name, "execveat")) {
        if (!ok || r != 0)
            return 0;
        int at = !strcmp(name, "execveat");   /* its path is the second argument */
        NEED(!at || na >= 2, args, "execveat(dirfd, path, argv, envp, flags)");
        const char *pa = na ? a[at] : "";
        char path[512] = "";
        if (*pa == '"') {
            const char *q = strrchr(pa + 1, '"');
            size_t n = q ? (size_t)(q - pa - 1) : 0;
            snprintf(path, sizeof path, "%.*s", (int)(n < 500 ? n : 500), pa + 1);
        }
        if (p->fd) {                                /* exec unshares the table, then closes O_CLOEXEC */
            if (p->fd->refs > 1) {
                struct sfiles *own = mv_calloc(1, sizeof *own);
                own->t = fdtab_copy(p->fd->t);
                own->refs = 1;
                files_put(p->fd);
                p->fd = own;
            }
            fdtab_exec(p->fd->t);
        }
        return build_exec(c->b, t, p->tid, path, NULL, 0, 0);
    }
    return 0;
#undef NEED
}

/* munmap(addr, len <unfinished ...>: unmap now (see the top). */
static int munmap_at_entry(struct strace_tasks *c, struct stid *p, uint64_t t)
{
    char *copy = mv_strdup(p->pending + strlen("munmap("));
    char *a[2];
    uint64_t addr, len;
    int rc = 0;
    if (split_args(copy, a, 2) == 2 && !num(a[0], &addr) && !num(a[1], &len)) {
        p->applied = 1;
        rc = build_munmap(c->b, t, p->tid, addr, len);
    }
    free(copy);
    return rc;
}

/* "N +++ superseded by execve in pid T +++": thread T of process N called
 * execve; Linux gave it N's pid (de_thread), ending the leader and the
 * other threads. T's unfinished execve becomes N's, whose "<... execve
 * resumed>" follows; T is gone. */
static int superseded(struct strace_tasks *c, struct stid *p, const char *tid_text, uint64_t t)
{
    struct import_line x = { "", 0, tid_text, tid_text, 0, 0 };
    uint64_t old;
    if (import_dec(&x, &old) || old > UINT32_MAX || old == p->tid)
        return 0;
    struct stid *q = stid_find(c, (uint32_t)old);
    if (!q || q->held)
        return 0;
    if (q->pending && !strncmp(q->pending, "execve", 6)) {
        char *text = q->pending;
        uint64_t tq = q->pending_t;
        q->pending = NULL;
        pending_set(c, p, text, tq);                /* what the leader was in never returns */
    }
    int rc = build_exit(c->b, t, q->tid);
    stid_drop(c, q);
    return rc;
}

static const char *const used[] = { "mmap", "munmap", "mprotect", "brk", "mremap", "openat", "open", "close",
                                    "fork", "vfork", "clone", "clone3", "execve", "execveat" };

/* A line of task p, whose parent is known (or which is the first task). */
static int dispatch(struct strace_tasks *c, struct import_line *l, struct stid *p, uint64_t t)
{
    const char *s = l->p;
    if (!strncmp(s, "+++ ", 4)) {
        if (strstr(s, "exited with") || strstr(s, "killed by")) {
            int rc = build_exit(c->b, t, p->tid);
            stid_drop(c, p);
            return rc;
        }
        const char *sup = strstr(s, "superseded by execve in pid ");
        if (sup)
            return superseded(c, p, sup + strlen("superseded by execve in pid "), t);
        import_unknown(c->st, l);
        return 0;
    }
    if (!strncmp(s, "--- ", 4))
        return 0;                                   /* signals */
    char *text = NULL;
    uint64_t tcall = t;
    uint32_t claimed = 0;
    const char *base = s;
    if (!strncmp(s, "<... ", 5)) {
        const char *res = strstr(s, " resumed>");
        if (!res)
            return import_malformed(l, "<... NAME resumed>");
        if (!p->pending) {
            import_unknown(c->st, l);               /* the start was not in the log */
            return 0;
        }
        /* the call resumed is the one this task left unfinished: another
         * name is no log strace wrote (joined, its result would be taken
         * as the unfinished call's); '<... resumed>' names none */
        size_t rn = res > s + 5 ? (size_t)(res - (s + 5)) : 0, pn = strcspn(p->pending, "(");
        if (rn && (rn != pn || strncmp(s + 5, p->pending, pn))) {
            char what[200];
            snprintf(what, sizeof what, "<... %.*s resumed>, the call this task left unfinished (not %.*s)",
                     (int)(pn < 60 ? pn : 60), p->pending, (int)(rn < 60 ? rn : 60), s + 5);
            l->p = s + 5;
            return import_malformed(l, what);
        }
        size_t a = strlen(p->pending), b = strlen(res + 9);
        text = mv_malloc(a + b + 1);
        memcpy(text, p->pending, a);
        memcpy(text + a, res + 9, b + 1);
        tcall = p->pending_t;
        claimed = p->claimed;
        int applied = p->applied;
        pending_set(c, p, NULL, 0);
        base = NULL;
        if (applied) {                              /* munmap, done at its entry */
            free(text);
            return 0;
        }
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
    /* the first task is spawned at its first call, unless that is the
     * execve that starts it */
    if (c->first == (int64_t)p->tid && !build_known(c->b, p->tid) && strncmp(text, "execve(", 7) &&
        build_spawn(c->b, tcall, p->tid)) {
        free(text);
        return -1;
    }
    char *unf = strstr(text, " <unfinished ...>");
    if (!unf)
        unf = strstr(text, " <pid changed to ");   /* strace -ff: an execve in a thread, taken up by its leader */
    if (unf) {
        *unf = 0;
        pending_set(c, p, text, t);
        return strncmp(text, "munmap(", 7) ? 0 : munmap_at_entry(c, p, t);
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
    int rc = call(c, l, p, tcall, text, paren + 1, res, claimed, base);
    free(text);
    return rc;
}

/* A line of task tid: its own, held, or taken by the one fork unfinished. */
static int task_line(struct strace_tasks *c, struct import_line *l, uint32_t tid, uint64_t t)
{
    c->seq++;
    build_at(c->b, l->name, l->lineno);   /* the events of this line (a held one: its own) */
    if (c->first < 0)
        c->first = tid;
    struct stid *p = stid_get(c, tid);
    if (p->held) {
        hold(c, p, l, t);
        return 0;
    }
    if ((int64_t)tid != c->first && !build_known(c->b, tid)) {
        if (!c->waiting.n && c->forks.n == 1) {
            if (claim(c, c->forks.head, p, l))
                return -1;
        } else {
            start_hold(c, p);
            hold(c, p, l, t);
            return 0;
        }
    }
    return dispatch(c, l, p, t);
}

int strace_task_line(struct strace_tasks *c, struct import_line *l, uint32_t tid, uint64_t t)
{
    int rc = task_line(c, l, tid, t);
    for (;;) {
        while (c->ready) {                          /* held lines whose task's parent is now known */
            struct ready *r = c->ready;
            if (!(c->ready = r->next))
                c->ready_tail = NULL;
            struct hline *h = r->hl;
            free(r);
            for (struct hline *n; h; h = n) {
                n = h->next;
                if (!rc) {
                    struct import_line hl = { h->name, h->lineno, h->text, h->text + h->off, h->file, h->cut };
                    rc = task_line(c, &hl, h->tid, h->t);
                }
                free(h);
            }
        }
        if (rc)
            return rc;
        if (c->waiting.n && !c->forks.n) {          /* no fork left to have made them */
            while (c->waiting.head) {
                struct stid *p = c->waiting.head;
                list_del(&c->waiting, p);
                p->held = STRAY;
                list_add(&c->strays, p);
            }
        } else if (c->waiting.n == 1 && c->forks.n == 1 && c->forks.head->seq < c->waiting.head->seq) {
            struct stid *p = c->waiting.head;       /* one fork left, one task waiting: its child */
            build_at(c->b, l->name, l->lineno);
            if (claim(c, c->forks.head, p, l))
                return -1;
            release(c, p);
            continue;
        }
        return 0;
    }
}

struct strace_tasks *strace_tasks_new(struct build *b, struct import_stats *st)
{
    struct strace_tasks *c = mv_calloc(1, sizeof *c);
    c->b = b;
    c->st = st;
    c->first = -1;
    c->hold_max = HOLD_MAX;
    return c;
}

uint64_t strace_tasks_forks_unfinished(const struct strace_tasks *c) { return c->forks.n; }
uint64_t strace_tasks_count(const struct strace_tasks *c) { return c->n; }
void strace_tasks_hold_max(struct strace_tasks *c, uint64_t bytes) { c->hold_max = bytes; }

/* A task's held lines, never claimed, counted as orphans. */
static void count_orphans(void *task, void *arg)
{
    const struct stid *p = task;
    struct import_stats *st = arg;
    if (p->held && p->hn) {
        st->orphan_tasks++;
        st->orphan_lines += p->hn;
    }
}

static void stid_free(void *q)
{
    struct stid *p = q;
    free_lines(p->hl);
    files_put(p->fd);
    free(p->pending);
    free(p);
}

void strace_tasks_end(struct strace_tasks *c)
{
    for (struct ready *r = c->ready, *n; r; r = n) {
        n = r->next;
        free_lines(r->hl);
        free(r);
    }
    tree_each(c->tree, count_orphans, c->st);
    tree_destroy(c->tree, stid_free);
    free(c);
}

/* build.c: the importers' common back end (build.h): a model of each
 * recorded address space, kept the way Linux and the guest kernel keep it
 * (mm/mmap.c, mm/mprotect.c, mm/mremap.c, kernel/fork.c: threads and vfork
 * share an mm, fork copies it, exec replaces it), used to keep out of the
 * trace what a kernel would refuse, and the trace records written. */
#include "trace/build.h"
#include "lib/err.h"
#include "lib/range_tree.h"
#include "lib/tree.h"
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define PAGE 4096ull
#define BV_STACK 0x100            /* part of the stack (grows down) */
#define BV_GROWSDOWN 0x200        /* the stack exec made (the guest's VM_GROWSDOWN VMA) */
#define STACK_MAX (8ull << 20)    /* RLIMIT_STACK default: how far a stack may grow */

struct bvma {
    uint64_t start, end;
    uint32_t prot, flags;          /* TRP_*; TRM_* | BV_STACK */
    uint64_t dev, ino, pgoff;
};

/* A VMA in its mm's tree (lib/range_tree.h, as the guest keeps them:
 * guest/vma.c): no order of mmaps in a log makes the model quadratic. */
struct bvma_node {
    RB_ENTRY(bvma_node) rb;
    struct bvma v;
};
RB_HEAD(bvma_rb, bvma_node);
RANGE_TREE_GENERATE(bvma_rb, bvma_node, rb, v)

struct bmm {
    struct bvma_rb vmas;           /* by address */
    uint32_t n, users;             /* n: VMAs in it */
    uint64_t start_brk, brk;
};

struct btask {
    uint32_t pid, seq;             /* pid first: the task tree's key (lib/tree.h) */
    uint64_t stack_lo, stack_hi;   /* the initial stack of its current image */
    struct bmm *mm;
};

struct bimage { uint32_t pid, seq; uint64_t lo, hi; };

struct build {
    struct trace_writer *w;
    /* the tasks by pid: a balanced tree (lib/tree.h), as the guest keeps them,
     * so that no choice of pids in a log makes a lookup cost more than
     * log n (a hash by pid mod 4096 took 25 s to import 30,000 threads
     * whose pids shared the remainder) */
    void *tasks;
    struct bimage *img;
    uint64_t nimg, capimg;
    uint64_t t0, last;
    int have_t0, implicit;
    uint64_t cnt[BC__N];
    uint64_t execs;                  /* exec records written */
    uint64_t mmap_min_addr;          /* the recording kernel's vm.mmap_min_addr */
    const char *at_name;             /* where the events come from now (build_at), for messages */
    uint64_t at_line;
};

static const char *const counter_doc[BC__N] = {
    "references written",
    "references outside every mapping dropped",
    "references the mapping's protection forbids dropped",
    "stack expansions below the stack mapping",
    "events of processes not seen starting dropped",
    "mmap/mprotect/mremap calls (or exec mappings) a kernel would refuse dropped",
    ("mmap/brk/mremap calls (or exec mappings) below vm.mmap_min_addr dropped (a recording kernel with a lower "
     "one: trace import --mmap-min-addr)"),   /* one string: clang's -Wstring-concatenation */
    "processes started under a live pid (the old one was ended)",
    "exec mappings beyond the format's limit written as mmaps",
    "execs without a stack mapping given a default stack",
    "pages outside every traced mapping given an implicit mapping",
    ("references outside every mapping below vm.mmap_min_addr dropped (no stack growth or implicit mapping "
     "there: a recording kernel with a lower one: trace import --mmap-min-addr)"),
    "processes still running where the input ends (made to exit there)",
    "mprotect calls of length 0 dropped (Linux returns 0 and changes nothing)",
    ("mremap calls of old length 0 dropped (on shared memory Linux makes a second mapping of the same "
     "pages, which the format cannot say)"),
};

struct build *build_new(struct trace_writer *w)
{
    struct build *b = mv_calloc(1, sizeof *b);
    b->w = w;
    b->mmap_min_addr = TRACE_MMAP_MIN_ADDR;
    return b;
}

void build_set_mmap_min_addr(struct build *b, uint64_t addr)
{
    b->mmap_min_addr = addr;
}

static void free_bvma(struct bvma_node *n) { free(n); }

static void mm_put(struct bmm *mm)
{
    if (mm && --mm->users == 0) {
        bvma_rb_clear(&mm->vmas, free_bvma);
        free(mm);
    }
}

static void btask_free(void *p)
{
    struct btask *t = p;
    mm_put(t->mm);
    free(t);
}

void build_free(struct build *b)
{
    if (!b)
        return;
    tree_destroy(b->tasks, btask_free);
    free(b->img);
    free(b);
}

void build_at(struct build *b, const char *name, uint64_t line)
{
    b->at_name = name;
    b->at_line = line;
}

/* *t, in the importer's clock, made the trace's: since the first event,
 * never going back. -1 after mv_error for a time past the longest span a
 * trace may have (TRACE_SPAN_MAX), which the reader refuses: said at the
 * input's line (build_at) of the first event past it. */
static int rel(struct build *b, uint64_t *t)
{
    if (!b->have_t0) {
        b->t0 = *t;
        b->have_t0 = 1;
    }
    uint64_t r = *t < b->t0 ? 0 : *t - b->t0;
    if (r < b->last)
        r = b->last;
    if (r > TRACE_SPAN_MAX) {
        char where[300] = "trace import";
        if (b->at_name && b->at_line)
            snprintf(where, sizeof where, "%s:%llu", b->at_name, (unsigned long long)b->at_line);
        else if (b->at_name)
            snprintf(where, sizeof where, "%s", b->at_name);
        char secs[40];   /* to the nanosecond, without trailing zeros: 604800.000001 is past 604800 */
        int n = snprintf(secs, sizeof secs, "%llu.%09llu", (unsigned long long)(r / 1000000000ull),
                         (unsigned long long)(r % 1000000000ull));
        while (secs[n - 1] == '0')
            secs[--n] = 0;
        if (secs[n - 1] == '.')
            secs[--n] = 0;
        return mv_error("%s: an event %s s after the first, past the longest span a trace may have (%llu s, "
                        "a week: memvirt replays no longer)", where, secs, TRACE_SPAN_MAX / 1000000000ull);
    }
    b->last = r;
    *t = r;
    return 0;
}

static struct btask *task_of(struct build *b, uint32_t pid)
{
    return tree_find(&b->tasks, pid);
}

void build_implicit(struct build *b, int on) { b->implicit = on; }

int build_known(const struct build *b, uint32_t pid) { return task_of((struct build *)b, pid) != NULL; }

static struct btask *task_add(struct build *b, uint32_t pid, struct bmm *mm)
{
    struct btask *t = mv_calloc(1, sizeof *t);
    t->pid = pid;
    t->mm = mm;
    tree_insert(&b->tasks, t);
    return t;
}

static void task_del(struct build *b, struct btask *t)
{
    tree_delete(&b->tasks, t);
    mm_put(t->mm);
    free(t);
}

static void add_image(struct build *b, uint32_t pid, uint32_t seq, uint64_t lo, uint64_t hi)
{
    if (b->nimg == b->capimg) {
        b->capimg = b->capimg ? b->capimg * 2 : 64;
        b->img = mv_realloc(b->img, b->capimg * sizeof *b->img);
    }
    b->img[b->nimg++] = (struct bimage){ pid, seq, lo, hi };
}

/* ---- the VMA model: non-overlapping ranges in a red-black tree ---- */

static struct bvma_node *bnode(struct bvma *v)
{
    return (struct bvma_node *)((char *)v - offsetof(struct bvma_node, v));
}
static struct bvma *bv(struct bvma_node *n) { return n ? &n->v : NULL; }
static struct bvma *vfirst(struct bmm *mm) { return bv(bvma_rb_first(&mm->vmas)); }
static struct bvma *vnext(struct bvma *v) { return bv(bvma_rb_next(bnode(v))); }
static struct bvma *vprev(struct bvma *v) { return bv(bvma_rb_prev(bnode(v))); }

static struct bvma *vlower(const struct bmm *mm, uint64_t va)   /* first with end > va */
{
    return bv(bvma_rb_lower(&mm->vmas, va));
}

static struct bvma *vfind(struct bmm *mm, uint64_t va)
{
    return bv(bvma_rb_find(&mm->vmas, va));
}

/* Link a copy of v (its range free: the caller made it so). */
static struct bvma *vins(struct bmm *mm, const struct bvma *v)
{
    struct bvma_node *n = mv_malloc(sizeof *n);
    n->v = *v;
    bvma_rb_insert(&mm->vmas, n);
    mm->n++;
    return &n->v;
}

static void vdel(struct bmm *mm, struct bvma *v)
{
    bvma_rb_remove(&mm->vmas, bnode(v));
    mm->n--;
    free(bnode(v));
}

static void vsplit(struct bmm *mm, uint64_t a)
{
    struct bvma *v = vfind(mm, a);
    if (!v || v->start == a)
        return;
    struct bvma hi = *v;
    hi.start = a;
    if (!(hi.flags & TRM_ANON))
        hi.pgoff += (a - v->start) / PAGE;
    v->end = a;
    vins(mm, &hi);
}

static int vintersects(const struct bmm *mm, uint64_t s, uint64_t e)
{
    const struct bvma *v = vlower(mm, s);
    return v && v->start < e;
}

static void vunmap(struct bmm *mm, uint64_t s, uint64_t e)
{
    if (!vintersects(mm, s, e))
        return;                    /* nothing to split or remove: one lookup says so */
    vsplit(mm, s);
    vsplit(mm, e);
    struct bvma *v = vlower(mm, s);
    while (v && v->end <= e) {
        struct bvma *next = vnext(v);
        vdel(mm, v);
        v = next;
    }
}

static void vmap(struct bmm *mm, const struct bvma *v)
{
    vunmap(mm, v->start, v->end);
    vins(mm, v);
}

/* vma_merge: neighbours that Linux (and the guest kernel, guest/vma.c)
 * would make one VMA: contiguous, the same protection, sharing, file and
 * stack kind, and for a file contiguous offsets. Merged as the guest merges
 * them, after the calls that merge there (mmap, mprotect, mremap, brk,
 * exec), so a later call over the whole range is accepted here exactly
 * when the guest accepts it. The stack exec made never merges (the guest's
 * is VM_GROWSDOWN); what the builder adds below it merges only with more
 * of the same (the guest would merge it with any anonymous neighbour: here
 * less is merged than there, never more). */
static int vmergeable(const struct bvma *a, const struct bvma *b)
{
    if (a->end != b->start || a->prot != b->prot || a->flags != b->flags || (a->flags & BV_GROWSDOWN))
        return 0;
    if (a->flags & TRM_ANON)
        return 1;
    return a->dev == b->dev && a->ino == b->ino && a->pgoff + (a->end - a->start) / PAGE == b->pgoff;
}

static void vmerge(struct bmm *mm, uint64_t s, uint64_t e)
{
    /* with no VMA ending past s, none after it can merge either */
    struct bvma *v = vlower(mm, s), *r, *p;
    if (!v)
        return;
    if ((p = vprev(v)))
        v = p;
    while ((r = vnext(v)) && v->start <= e) {
        if (vmergeable(v, r)) {
            uint64_t rend = r->end;
            vdel(mm, r);
            v->end = rend;
        } else {
            v = r;
        }
    }
}

static int vcovered(struct bmm *mm, uint64_t s, uint64_t e)
{
    for (uint64_t a = s; a < e;) {
        struct bvma *v = vfind(mm, a);
        if (!v)
            return 0;
        a = v->end;
    }
    return 1;
}

static struct bmm *mm_new(void)
{
    struct bmm *mm = mv_calloc(1, sizeof *mm);
    mm->users = 1;
    return mm;
}

static struct bmm *mm_copy(struct bmm *o)
{
    struct bmm *mm = mm_new();
    for (struct bvma *v = vfirst(o); v; v = vnext(v))
        vins(mm, v);
    mm->start_brk = o->start_brk;
    mm->brk = o->brk;
    return mm;
}

static int range_ok(uint64_t addr, uint64_t len)
{
    return !(addr & (PAGE - 1)) && len && addr < TRACE_USER_END && len <= TRACE_USER_END - addr;
}

static uint64_t page_up(uint64_t x) { return (x + PAGE - 1) & ~(PAGE - 1); }

/* ---- events ---- */

static int put(struct build *b, const struct trace_rec *r) { return trace_write(b->w, r); }

static int end_task(struct build *b, uint64_t t, struct btask *tk)
{
    struct trace_rec r = { .kind = TR_EXIT, .t = t, .pid = tk->pid };
    task_del(b, tk);
    return put(b, &r);
}

int build_spawn(struct build *b, uint64_t t, uint32_t pid)
{
    if (rel(b, &t))
        return -1;
    struct btask *old = task_of(b, pid);
    if (old) {
        b->cnt[BC_PID_REUSED]++;
        if (end_task(b, t, old))
            return -1;
    }
    task_add(b, pid, mm_new());
    struct trace_rec r = { .kind = TR_SPAWN, .t = t, .pid = pid };
    return put(b, &r);
}

int build_fork(struct build *b, uint64_t t, uint32_t parent, uint32_t child, uint32_t flags)
{
    if (rel(b, &t))
        return -1;
    struct btask *p = task_of(b, parent);
    if (!p || parent == child) {
        b->cnt[BC_UNKNOWN_PID]++;
        return 0;
    }
    struct btask *old = task_of(b, child);
    if (old) {
        b->cnt[BC_PID_REUSED]++;
        if (end_task(b, t, old))
            return -1;
    }
    struct bmm *mm;
    if (flags & TRF_VM) {
        mm = p->mm;
        mm->users++;
    } else {
        mm = mm_copy(p->mm);
    }
    struct btask *c = task_add(b, child, mm);
    c->stack_lo = p->stack_lo;
    c->stack_hi = p->stack_hi;
    if (!(flags & TRF_THREAD) && p->stack_hi)
        add_image(b, child, 0, p->stack_lo, p->stack_hi);   /* a copy (or, after vfork, the same) */
    struct trace_rec r = { .kind = TR_FORK, .t = t, .pid = parent, .child = child, .flags = flags };
    return put(b, &r);
}

static uint32_t seg_flags(const struct trace_seg *s)
{
    return (s->kind == TRS_FILE ? 0 : TRM_ANON) | (s->shared ? TRM_SHARED : 0) |
           (s->kind == TRS_STACK ? BV_STACK : 0);
}

int build_exec(struct build *b, uint64_t t, uint32_t pid, const char *path,
               const struct trace_seg *segs, uint32_t n, uint64_t start_brk)
{
    struct btask *tk = task_of(b, pid);
    if (!tk) {
        if (build_spawn(b, t, pid))
            return -1;
        tk = task_of(b, pid);
    }
    if (rel(b, &t))
        return -1;
    struct bmm *mm = mm_new();
    for (uint32_t i = 0; i < n; i++) {
        const struct trace_seg *s = &segs[i];
        uint64_t len = page_up(s->len);
        if (range_ok(s->start, len) && s->start < b->mmap_min_addr) {
            b->cnt[BC_BELOW_MIN_ADDR]++;
            continue;
        }
        if (!range_ok(s->start, len) ||
            (s->kind == TRS_FILE && (s->pgoff > TRACE_FILE_PAGES || len / PAGE > TRACE_FILE_PAGES - s->pgoff))) {
            b->cnt[BC_CALL_REFUSED]++;
            continue;
        }
        struct bvma v = { s->start, s->start + len, s->prot & 7, seg_flags(s), s->dev, s->ino, s->pgoff };
        if (v.flags & TRM_ANON)
            v.dev = v.ino = v.pgoff = 0;
        vmap(mm, &v);
    }
    /* One stack: the highest piece flagged as stack that can take the
     * arguments (read-write); else a default one. */
    struct bvma *stack = NULL;
    for (struct bvma *v = vfirst(mm); v; v = vnext(v))
        if ((v->flags & BV_STACK) && (v->prot & (TRP_READ | TRP_WRITE)) == (TRP_READ | TRP_WRITE))
            stack = v;
    if (!stack) {
        b->cnt[BC_NO_STACK]++;
        struct bvma v = { TRACE_DEFAULT_STACK_START, TRACE_USER_END - PAGE,
                          TRP_READ | TRP_WRITE, TRM_ANON | BV_STACK, 0, 0, 0 };
        vmap(mm, &v);
        stack = vfind(mm, v.start);
    }
    mm->start_brk = mm->brk = start_brk < TRACE_USER_END ? start_brk : 0;

    struct trace_seg *out = mv_malloc((mm->n ? mm->n : 1) * sizeof *out);
    uint32_t nout = 0, nextra = 0;
    struct bvma *extra = mv_malloc((mm->n ? mm->n : 1) * sizeof *extra);
    for (struct bvma *v = vfirst(mm); v; v = vnext(v)) {
        if (v != stack)
            v->flags &= ~(uint32_t)BV_STACK;
        if (v != stack && nout >= TRACE_MAX_SEGS - 1) {
            extra[nextra++] = *v;
            continue;
        }
        out[nout++] = (struct trace_seg){
            .start = v->start, .len = v->end - v->start, .prot = v->prot,
            .kind = v == stack ? TRS_STACK : (v->flags & TRM_ANON) ? TRS_ANON : TRS_FILE,
            .shared = (v->flags & TRM_SHARED) != 0, .dev = v->dev, .ino = v->ino, .pgoff = v->pgoff };
    }
    b->cnt[BC_LAYOUT_TRIMMED] += nextra;
    stack->flags |= BV_GROWSDOWN;
    uint64_t slo = stack->start, shi = stack->end;
    vmerge(mm, 0, TRACE_USER_END);          /* as do_execve merges what it mapped */
    mm_put(tk->mm);
    tk->mm = mm;
    tk->seq++;
    tk->stack_lo = slo;
    tk->stack_hi = shi;
    add_image(b, pid, tk->seq, tk->stack_lo, tk->stack_hi);

    struct trace_rec r = { .kind = TR_EXEC, .t = t, .pid = pid, .path = path ? path : "",
                           .seg = out, .nseg = nout, .start_brk = mm->start_brk };
    int rc = put(b, &r);
    b->execs++;
    for (uint32_t i = 0; i < nextra && !rc; i++) {
        struct trace_rec m = { .kind = TR_MMAP, .t = t, .pid = pid, .addr = extra[i].start,
                               .len = extra[i].end - extra[i].start, .prot = extra[i].prot,
                               .flags = extra[i].flags & (TRM_ANON | TRM_SHARED), .dev = extra[i].dev,
                               .ino = extra[i].ino, .pgoff = extra[i].pgoff };
        rc = put(b, &m);
    }
    free(out);
    free(extra);
    return rc;
}

int build_exit(struct build *b, uint64_t t, uint32_t pid)
{
    if (rel(b, &t))
        return -1;
    struct btask *tk = task_of(b, pid);
    if (!tk) {
        b->cnt[BC_UNKNOWN_PID]++;
        return 0;
    }
    return end_task(b, t, tk);
}

/* The task of an event, or NULL (counted). */
static struct btask *actor(struct build *b, uint32_t pid)
{
    struct btask *tk = task_of(b, pid);
    if (!tk)
        b->cnt[BC_UNKNOWN_PID]++;
    return tk;
}

int build_mmap(struct build *b, uint64_t t, uint32_t pid, uint64_t addr, uint64_t len, uint32_t prot,
               uint32_t flags, uint64_t dev, uint64_t ino, uint64_t pgoff)
{
    if (rel(b, &t))
        return -1;
    struct btask *tk = actor(b, pid);
    len = page_up(len);
    if (!tk)
        return 0;
    if (range_ok(addr, len) && addr < b->mmap_min_addr) {
        b->cnt[BC_BELOW_MIN_ADDR]++;
        return 0;
    }
    if (!range_ok(addr, len) || (!(flags & TRM_ANON) && (pgoff > TRACE_FILE_PAGES ||
                                                         len / PAGE > TRACE_FILE_PAGES - pgoff))) {
        b->cnt[BC_CALL_REFUSED]++;
        return 0;
    }
    flags &= TRM_ANON | TRM_SHARED;
    if (flags & TRM_ANON)
        dev = ino = pgoff = 0;
    struct bvma v = { addr, addr + len, prot & 7, flags, dev, ino, pgoff };
    vmap(tk->mm, &v);
    vmerge(tk->mm, addr, addr + len);
    struct trace_rec r = { .kind = TR_MMAP, .t = t, .pid = pid, .addr = addr, .len = len, .prot = prot & 7,
                           .flags = flags, .dev = dev, .ino = ino, .pgoff = pgoff };
    return put(b, &r);
}

int build_munmap(struct build *b, uint64_t t, uint32_t pid, uint64_t addr, uint64_t len)
{
    if (rel(b, &t))
        return -1;
    struct btask *tk = actor(b, pid);
    len = page_up(len);
    if (!tk)
        return 0;
    if (!range_ok(addr, len)) {
        b->cnt[BC_CALL_REFUSED]++;
        return 0;
    }
    vunmap(tk->mm, addr, addr + len);
    struct trace_rec r = { .kind = TR_MUNMAP, .t = t, .pid = pid, .addr = addr, .len = len };
    return put(b, &r);
}

int build_mprotect(struct build *b, uint64_t t, uint32_t pid, uint64_t addr, uint64_t len, uint32_t prot)
{
    if (rel(b, &t))
        return -1;
    struct btask *tk = actor(b, pid);
    if (!tk)
        return 0;
    /* do_mprotect_pkey: a misaligned start is EINVAL, then `if (!len)
     * return 0`, and only then the length rounds up (a length that wraps
     * there is ENOMEM, refused below as an empty range) */
    if (!len && !(addr & (PAGE - 1))) {
        b->cnt[BC_NOOP]++;
        return 0;
    }
    len = page_up(len);
    if (!range_ok(addr, len) || !vcovered(tk->mm, addr, addr + len)) {
        b->cnt[BC_CALL_REFUSED]++;
        return 0;
    }
    vsplit(tk->mm, addr);
    vsplit(tk->mm, addr + len);
    for (struct bvma *v = vlower(tk->mm, addr); v && v->start < addr + len; v = vnext(v))
        v->prot = prot & 7;
    vmerge(tk->mm, addr, addr + len);
    struct trace_rec r = { .kind = TR_MPROTECT, .t = t, .pid = pid, .addr = addr, .len = len, .prot = prot & 7 };
    return put(b, &r);
}

int build_brk(struct build *b, uint64_t t, uint32_t pid, uint64_t brk)
{
    if (rel(b, &t))
        return -1;
    struct btask *tk = actor(b, pid);
    if (!tk)
        return 0;
    struct bmm *mm = tk->mm;
    if (!mm->start_brk) {
        /* The exec did not say where the heap starts: the first break seen
         * is the start, and the heap is written as the mappings brk makes
         * (the guest kernel, not knowing the start either, could not place
         * it: it would take everything below the break for the heap). */
        if (!mm->brk || brk >= TRACE_USER_END) {
            mm->brk = brk < TRACE_USER_END ? brk : 0;
            return 0;
        }
        uint64_t oa = page_up(mm->brk), na = page_up(brk);
        struct trace_rec r = { .t = t, .pid = pid };
        if (na > oa) {
            if (oa < b->mmap_min_addr)
                b->cnt[BC_BELOW_MIN_ADDR]++;
            if (oa < b->mmap_min_addr || vintersects(mm, oa, na))
                return 0;
            struct bvma v = { oa, na, TRP_READ | TRP_WRITE, TRM_ANON, 0, 0, 0 };
            vmap(mm, &v);
            vmerge(mm, oa, na);
            r.kind = TR_MMAP;
            r.prot = TRP_READ | TRP_WRITE;
            r.flags = TRM_ANON;
        } else if (na < oa) {
            vunmap(mm, na, oa);
            r.kind = TR_MUNMAP;
        }
        mm->brk = brk;
        if (na == oa)
            return 0;
        r.addr = na > oa ? oa : na;
        r.len = na > oa ? na - oa : oa - na;
        return put(b, &r);
    }
    if (brk < mm->start_brk || brk >= TRACE_USER_END || brk == mm->brk)
        return 0;                                  /* the kernel leaves the break as it is */
    uint64_t oa = page_up(mm->brk), na = page_up(brk);
    if (na < oa) {
        vunmap(mm, na, oa);
    } else if (na > oa) {
        if (oa < b->mmap_min_addr)
            b->cnt[BC_BELOW_MIN_ADDR]++;
        if (oa < b->mmap_min_addr || vintersects(mm, oa, na))
            return 0;
        struct bvma v = { oa, na, TRP_READ | TRP_WRITE, TRM_ANON, 0, 0, 0 };
        vmap(mm, &v);
        vmerge(mm, oa, na);
    }
    mm->brk = brk;
    struct trace_rec r = { .kind = TR_BRK, .t = t, .pid = pid, .addr = brk };
    return put(b, &r);
}

int build_mremap(struct build *b, uint64_t t, uint32_t pid, uint64_t addr, uint64_t len,
                 uint64_t new_addr, uint64_t new_len)
{
    if (rel(b, &t))
        return -1;
    struct btask *tk = actor(b, pid);
    len = page_up(len);
    new_len = page_up(new_len);
    if (!tk)
        return 0;
    struct bmm *mm = tk->mm;
    if (new_addr != addr && new_addr < b->mmap_min_addr && range_ok(new_addr, new_len)) {
        b->cnt[BC_BELOW_MIN_ADDR]++;   /* a move below vm.mmap_min_addr */
        return 0;
    }
    if (!len && !(addr & (PAGE - 1)) && new_len) {   /* mremap's duplicate of a shared mapping */
        b->cnt[BC_MREMAP_DUP]++;
        return 0;
    }
    struct bvma *v = range_ok(addr, len) && range_ok(new_addr, new_len) ? vfind(mm, addr) : NULL;
    int ok = v && addr + len <= v->end;
    if (ok && new_addr == addr && new_len > len)
        ok = addr + len == v->end && !vintersects(mm, addr + len, addr + new_len);
    if (ok && new_addr != addr)
        ok = !(new_addr < addr + len && addr < new_addr + new_len);
    if (ok && !(v->flags & TRM_ANON))
        ok = v->pgoff + (addr - v->start) / PAGE + new_len / PAGE <= TRACE_FILE_PAGES;
    if (!ok) {
        b->cnt[BC_CALL_REFUSED]++;
        return 0;
    }
    struct bvma nv = *v;
    if (new_addr == addr) {
        if (new_len < len) {
            vunmap(mm, addr + new_len, addr + len);
        } else if (new_len > len) {
            nv.start = addr + len;
            nv.end = addr + new_len;
            if (!(nv.flags & TRM_ANON))
                nv.pgoff = v->pgoff + (nv.start - v->start) / PAGE;
            vmap(mm, &nv);
            vmerge(mm, addr, addr + new_len);
        }
    } else {
        nv.start = new_addr;
        nv.end = new_addr + new_len;
        if (!(nv.flags & TRM_ANON))
            nv.pgoff = v->pgoff + (addr - v->start) / PAGE;
        vunmap(mm, addr, addr + len);
        vmap(mm, &nv);
        vmerge(mm, new_addr, new_addr + new_len);
    }
    struct trace_rec r = { .kind = TR_MREMAP, .t = t, .pid = pid, .addr = addr, .len = len,
                           .new_addr = new_addr, .new_len = new_len };
    return put(b, &r);
}

int build_ref(struct build *b, uint64_t t, uint32_t pid, uint64_t addr, unsigned kind)
{
    if (rel(b, &t))
        return -1;
    struct btask *tk = actor(b, pid);
    if (!tk)
        return 0;
    if (addr >= TRACE_USER_END) {
        b->cnt[BC_REF_UNMAPPED]++;
        return 0;
    }
    struct bmm *mm = tk->mm;
    struct bvma *v = vfind(mm, addr);
    if (!v) {
        /* expand_stack: a touch below the stack, within the stack limit */
        struct bvma *up = vlower(mm, addr), *below = up ? vprev(up) : NULL;
        uint64_t pg = addr & ~(PAGE - 1);
        /* Neither the stack (expand_downwards) nor an implicit mapping can
         * go below vm.mmap_min_addr: the replay's mmap would fail with EPERM. */
        const int low = pg < b->mmap_min_addr;
        if (!low && up && (up->flags & BV_STACK) && up->start - pg <= STACK_MAX && !(below && below->end > pg)) {
            struct bvma g = { pg, up->start, TRP_READ | TRP_WRITE, TRM_ANON | BV_STACK, 0, 0, 0 };
            vmap(mm, &g);
            vmerge(mm, g.start, g.end);
            b->cnt[BC_STACK_GROW]++;
            struct trace_rec r = { .kind = TR_MMAP, .t = t, .pid = pid, .addr = g.start,
                                   .len = g.end - g.start, .prot = g.prot, .flags = TRM_ANON };
            if (put(b, &r))
                return -1;
            v = vfind(mm, addr);
        } else if (b->implicit && low) {
            b->cnt[BC_REF_BELOW_MIN_ADDR]++;
            return 0;
        } else if (b->implicit) {
            struct bvma g = { pg, pg + PAGE, 7, TRM_ANON, 0, 0, 0 };
            vmap(mm, &g);
            vmerge(mm, g.start, g.end);
            b->cnt[BC_IMPLICIT]++;
            struct trace_rec r = { .kind = TR_MMAP, .t = t, .pid = pid, .addr = pg, .len = PAGE, .prot = 7,
                                   .flags = TRM_ANON };
            if (put(b, &r))
                return -1;
            v = vfind(mm, addr);
        } else {
            b->cnt[BC_REF_UNMAPPED]++;
            return 0;
        }
    }
    /* as the guest's fault handler checks it */
    if ((kind == TRR_WRITE && !(v->prot & TRP_WRITE)) || (kind == TRR_EXEC && !(v->prot & TRP_EXEC)) ||
        (kind == TRR_READ && !(v->prot & 7))) {
        b->cnt[BC_REF_PROT]++;
        return 0;
    }
    b->cnt[BC_REFS]++;
    return trace_write_ref(b->w, t, pid, (addr & ~7ull) | (kind & 3));
}

int build_ptinfo(struct build *b, uint32_t pid, uint64_t start_stack, uint32_t at, uint64_t bytes)
{
    if (bytes > TRACE_MAX_PT_BYTES)
        return 1;                                  /* no real kernel's: the reader would refuse it */
    for (uint64_t i = b->nimg; i-- > 0;) {
        const struct bimage *im = &b->img[i];
        if (im->pid == pid && start_stack >= im->lo && start_stack < im->hi) {
            struct trace_rec r = { .kind = TR_PTINFO, .t = b->last, .pid = pid,
                                   .pt = { im->seq, at, bytes } };
            return put(b, &r) ? -1 : 0;
        }
    }
    return 1;
}

struct btask_list {
    struct btask **t;
    uint64_t n, cap;
};

static void collect_task(void *task, void *arg)
{
    struct btask_list *l = arg;
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 64;
        l->t = mv_realloc(l->t, l->cap * sizeof *l->t);
    }
    l->t[l->n++] = task;
}

int build_finish(struct build *b)
{
    /* the tasks left, lowest pid first (collected: end_task changes the tree) */
    struct btask_list l = { 0 };
    tree_each(b->tasks, collect_task, &l);
    int rc = 0;
    for (uint64_t i = 0; i < l.n && !rc; i++) {
        b->cnt[BC_LEFT_RUNNING]++;
        rc = end_task(b, b->last, l.t[i]);
    }
    free(l.t);
    return rc;
}

uint64_t build_count(const struct build *b, enum build_counter c) { return b->cnt[c]; }

uint64_t build_execs(const struct build *b) { return b->execs; }

void build_report(const struct build *b, FILE *f, const char *who)
{
    for (unsigned c = 0; c < BC__N; c++)
        if (b->cnt[c] && c != BC_REFS)
            fprintf(f, "%s: %llu %s\n", who, (unsigned long long)b->cnt[c], counter_doc[c]);
}

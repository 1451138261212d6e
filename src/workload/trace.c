/* trace.c: the `trace` workload: replays a recorded trace (trace/format.h)
 * as the guest's event stream, so a real program's process tree, exec
 * layouts, memory system calls and page references run under any mode, the
 * modes added later included, without this file knowing them.
 *
 * The trace is streamed record by record (constant memory). Files are named
 * in the trace by device and inode; each distinct pair becomes one guest
 * file, so mappings of the same file share page-cache frames. With
 * trace.idle, the guest idles until each record's recorded time, so
 * simulated time follows the recording when the guest is faster than the
 * real machine was. A trace whose records span more than TRACE_SPAN_MAX of
 * recorded time is refused before any run (the time series grows with
 * simulated time). Processes still running where the trace ends exit
 * there, in pid order (as the importers end theirs), so the guest ends with
 * every frame given back. Errors found while replaying name the file and
 * the record (tr_where). */
#include "guest/kernel.h"
#include "lib/err.h"
#include "trace/reader.h"
#include "workload/evq.h"
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct trace_cfg {
    char file[4096];
    char digest[64];
    int  idle;
    char open[4096];   /* not a parameter: where a rerun found file (tr_seal), if elsewhere */
};

static const struct param_def defs[] = {
    PARAM_STR(struct trace_cfg, file, "", "the trace to replay (memvirt run --trace FILE sets it)"),
    PARAM_STR(struct trace_cfg, digest, "", "the file's size and FNV-1a hash, BYTES:fnv1a64:HEX; a run fills it "
                                            "in, a different file is refused"),
    PARAM_BOOL(struct trace_cfg, idle, "true", "idle until each record's recorded time"),
};
static const struct param_group group = { "trace", defs, sizeof defs / sizeof defs[0],
                                          "replay of a recorded trace" };

_Static_assert(TRR_WRITE == REF_WRITE && TRR_EXEC == REF_EXEC, "reference kinds differ");

struct fileid { uint64_t dev, ino; uint32_t id; };

struct trace_state {
    struct trace_cfg c;
    struct trace_reader *r;
    struct evq q;
    struct layout lay;
    char *name;
    struct fileid *files;
    uint32_t nfiles, capfiles;
    uint64_t *live;                 /* pid + 1 of those running (open addressing; 0 empty, ~0 deleted) */
    uint32_t nlive, caplive, usedlive;
    int ended;                      /* the end record was read: the rest are the exits */
};

#define LIVE_DEL UINT64_MAX

static uint32_t pid_slot(uint64_t key, uint32_t cap) { return (uint32_t)((key * 0x9e3779b97f4a7c15ull) >> 32) & (cap - 1); }

/* pid + 1 is stored, so pid 0 (a valid thread id in a trace) fits. An exit
 * leaves a tombstone (LIVE_DEL) in the probe chain; usedlive counts them
 * with the live keys. When the table is half used it is rebuilt without
 * them: at twice the size if the live keys fill a quarter or more, at the
 * same size otherwise, so a pid forked and exited again and again reuses
 * one table of constant size instead of doubling it each time its chain of
 * tombstones fills it (320,000 fork/exit cycles of one pid: 27 s, a table
 * of 2^20 slots; now linear, 64 slots). */
static void live_add(struct trace_state *s, uint32_t pid)
{
    if (2 * (s->usedlive + 1) > s->caplive) {
        uint32_t ncap = !s->caplive ? 64 : 4 * (s->nlive + 1) > s->caplive ? s->caplive * 2 : s->caplive;
        uint64_t *nl = mv_calloc(ncap, sizeof *nl);
        for (uint32_t i = 0; i < s->caplive; i++)
            if (s->live[i] && s->live[i] != LIVE_DEL) {
                uint32_t j = pid_slot(s->live[i], ncap);
                while (nl[j])
                    j = (j + 1) & (ncap - 1);
                nl[j] = s->live[i];
            }
        free(s->live);
        s->live = nl;
        s->caplive = ncap;
        s->usedlive = s->nlive;
    }
    uint64_t k = (uint64_t)pid + 1;
    uint32_t j = pid_slot(k, s->caplive);
    for (; s->live[j]; j = (j + 1) & (s->caplive - 1))
        if (s->live[j] == k)
            return;
    s->live[j] = k;
    s->nlive++;
    s->usedlive++;
}

static void live_del(struct trace_state *s, uint32_t pid)
{
    if (!s->caplive)
        return;
    uint64_t k = (uint64_t)pid + 1;
    for (uint32_t j = pid_slot(k, s->caplive); s->live[j]; j = (j + 1) & (s->caplive - 1))
        if (s->live[j] == k) {
            s->live[j] = LIVE_DEL;
            s->nlive--;
            return;
        }
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* The trace has ended: queue an exit for every process still running. */
static void exit_live(struct trace_state *s)
{
    uint32_t *p = mv_malloc((s->nlive ? s->nlive : 1) * sizeof *p), n = 0;
    for (uint32_t i = 0; i < s->caplive; i++)
        if (s->live[i] && s->live[i] != LIVE_DEL)
            p[n++] = (uint32_t)(s->live[i] - 1);
    qsort(p, n, sizeof *p, cmp_u32);
    for (uint32_t i = 0; i < n; i++)
        evq_push(&s->q, (struct event){ .type = EV_EXIT, .pid = p[i] });
    free(p);
    s->nlive = 0;
}

static uint64_t mix(uint64_t a, uint64_t b)
{
    uint64_t h = a * 0x9e3779b97f4a7c15ull ^ b;
    h ^= h >> 31;
    h *= 0xbf58476d1ce4e5b9ull;
    return h ^ (h >> 29);
}

/* The guest file of (dev, ino): one id per distinct pair, from 1. */
static uint32_t file_id(struct trace_state *s, uint64_t dev, uint64_t ino)
{
    if (2 * (s->nfiles + 1) > s->capfiles) {
        uint32_t ncap = s->capfiles ? s->capfiles * 2 : 256;
        struct fileid *nf = mv_calloc(ncap, sizeof *nf);
        for (uint32_t i = 0; i < s->capfiles; i++) {
            if (!s->files[i].id)
                continue;
            uint32_t j = (uint32_t)mix(s->files[i].dev, s->files[i].ino) & (ncap - 1);
            while (nf[j].id)
                j = (j + 1) & (ncap - 1);
            nf[j] = s->files[i];
        }
        free(s->files);
        s->files = nf;
        s->capfiles = ncap;
    }
    uint32_t j = (uint32_t)mix(dev, ino) & (s->capfiles - 1);
    while (s->files[j].id) {
        if (s->files[j].dev == dev && s->files[j].ino == ino)
            return s->files[j].id;
        j = (j + 1) & (s->capfiles - 1);
    }
    s->files[j] = (struct fileid){ dev, ino, ++s->nfiles };
    return s->nfiles;
}

/* The file replayed: the one named, or where a rerun found it. */
static const char *tr_path(const struct trace_cfg *c) { return c->open[0] ? c->open : c->file; }

/* Digests already computed, by file identity and modification time: a
 * sweep plans every run over the same trace, and a trace can be large. */
#define DIGEST_MEMO 8
static struct digest_memo {
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
    uint64_t h;
    int valid;   /* tr_validate passed it: the same bytes pass again */
} memo[DIGEST_MEMO];
static unsigned nmemo;
static pthread_mutex_t memo_lock = PTHREAD_MUTEX_INITIALIZER;

static struct digest_memo *memo_find(const struct stat *st)
{
    for (unsigned i = 0; i < nmemo; i++)
        if (memo[i].dev == st->st_dev && memo[i].ino == st->st_ino && memo[i].size == st->st_size &&
            memo[i].mtime.tv_sec == st->st_mtim.tv_sec && memo[i].mtime.tv_nsec == st->st_mtim.tv_nsec)
            return &memo[i];
    return NULL;
}

/* "BYTES:fnv1a64:HEX" of the file's bytes; -1 if it cannot be read. */
static int digest_of(const char *path, char *out, size_t len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    struct stat st;
    int known = !fstat(fileno(f), &st);
    uint64_t h = 0xcbf29ce484222325ull, n = 0;   /* FNV-1a, 64 bits */
    pthread_mutex_lock(&memo_lock);
    const struct digest_memo *m = known ? memo_find(&st) : NULL;
    int hit = m != NULL;
    if (hit) {
        h = m->h;
        n = (uint64_t)m->size;
    }
    pthread_mutex_unlock(&memo_lock);
    int bad = 0;
    if (!hit) {
        enum { BUF = 1 << 16 };
        unsigned char *buf = mv_malloc(BUF);   /* not on the stack: a small stack limit would crash */
        size_t k;
        while ((k = fread(buf, 1, BUF, f)) > 0) {
            for (size_t i = 0; i < k; i++)
                h = (h ^ buf[i]) * 0x100000001b3ull;
            n += k;
        }
        bad = ferror(f);
        free(buf);
    }
    fclose(f);
    if (bad)
        return -1;
    if (!hit && known && n == (uint64_t)st.st_size) {
        pthread_mutex_lock(&memo_lock);
        if (!memo_find(&st)) {
            struct digest_memo *e = &memo[nmemo < DIGEST_MEMO ? nmemo++ : 0];
            *e = (struct digest_memo){ st.st_dev, st.st_ino, st.st_size, st.st_mtim, h, 0 };
        }
        pthread_mutex_unlock(&memo_lock);
    }
    snprintf(out, len, "%llu:fnv1a64:%016llx", (unsigned long long)n, (unsigned long long)h);
    return 0;
}

/* d is a digest as digest_of writes one: BYTES:fnv1a64:HEX, the size in
 * decimal and the hash in 16 lower-case hex digits. */
static int digest_well_formed(const char *d)
{
    const char *p = d;
    while (*p >= '0' && *p <= '9')
        p++;
    if (p == d || p - d > 20 || strncmp(p, ":fnv1a64:", 9))
        return 0;
    p += 9;
    unsigned n = 0;
    for (; (*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'); p++)
        n++;
    return n == 16 && !*p;
}

/* Which file, and is it the one the run recorded (workload.h). A file that
 * cannot be read is left to tr_validate to report. A digest given must be
 * one (a run compares it byte for byte with the file's); a result always
 * records one, so a rerun of a result without one is of an altered file. */
static int tr_seal(void *cfg, const char *base)
{
    struct trace_cfg *c = cfg;
    c->open[0] = 0;
    if (!c->file[0])
        return 0;
    if (c->digest[0] && !digest_well_formed(c->digest))
        return mv_error("trace.digest '%s': malformed: expected BYTES:fnv1a64:HEX (the size, then 16 lower-case "
                        "hex digits), as a run records it", c->digest);
    if (base && !c->digest[0])
        return mv_error("trace.digest is empty: a result records its trace's (BYTES:fnv1a64:HEX), so this one was "
                        "altered");
    if (base && c->file[0] != '/' && access(c->file, F_OK)) {
        char p[sizeof c->open];
        if ((size_t)snprintf(p, sizeof p, "%s/%s", base, c->file) < sizeof p && !access(p, F_OK))
            strcpy(c->open, p);
    }
    /* a run reads its trace more than once (digest, validate, replay) */
    if (trace_check_regular(tr_path(c)))
        return -1;
    char now[sizeof c->digest];
    if (digest_of(tr_path(c), now, sizeof now))
        return 0;
    if (!c->digest[0]) {
        strcpy(c->digest, now);
        return 0;
    }
    if (strcmp(c->digest, now) && base && c->file[0] != '/' && !c->open[0]) {
        /* another file of that name here: the one beside the result may be it */
        char p[sizeof c->open], there[sizeof c->digest];
        if ((size_t)snprintf(p, sizeof p, "%s/%s", base, c->file) < sizeof p &&
            !digest_of(p, there, sizeof there) && !strcmp(c->digest, there)) {
            strcpy(c->open, p);
            return 0;
        }
    }
    if (strcmp(c->digest, now))
        return mv_error("trace '%s': not the file the run replayed: trace.digest is %s, the file's is %s "
                        "(BYTES:fnv1a64:HASH)", tr_path(c), c->digest, now);
    return 0;
}

static const char *tr_input_path(const void *cfg)
{
    const struct trace_cfg *c = cfg;
    return c->file[0] ? tr_path(c) : NULL;
}

/* Was the file validated already, as the bytes of its digest? A sweep
 * validates every run it plans, each over the same trace (and unsealed:
 * c->digest is empty there): its records are read once per file and
 * process, not once per run. Keyed like the digests, by file identity and
 * modification time, and by the digest itself (digest_of memoizes it). */
static struct digest_memo *valid_memo(const struct stat *st, const char *digest)
{
    char d[64];
    struct digest_memo *m = memo_find(st);
    if (!m)
        return NULL;
    snprintf(d, sizeof d, "%llu:fnv1a64:%016llx", (unsigned long long)m->size, (unsigned long long)m->h);
    return strcmp(d, digest) ? NULL : m;
}

static int tr_validate(const void *cfg, const struct kconfig *guest)
{
    const struct trace_cfg *c = cfg;
    if (!c->file[0])
        return mv_error("workload trace: no trace file given (--trace FILE or --param trace.file=FILE)");
    struct stat before, after;
    char now[sizeof c->digest];
    int known = !stat(tr_path(c), &before) && S_ISREG(before.st_mode) && !digest_of(tr_path(c), now, sizeof now) &&
                (!c->digest[0] || !strcmp(c->digest, now));
    if (known) {
        pthread_mutex_lock(&memo_lock);
        const struct digest_memo *m = valid_memo(&before, now);
        int hit = m && m->valid;
        pthread_mutex_unlock(&memo_lock);
        if (hit)
            return 0;
    }
    int rc = trace_verify(tr_path(c));
    /* valid, and the file is still what was validated: remember it */
    if (!rc && known && !stat(tr_path(c), &after) && after.st_dev == before.st_dev && after.st_ino == before.st_ino &&
        after.st_size == before.st_size && after.st_mtim.tv_sec == before.st_mtim.tv_sec &&
        after.st_mtim.tv_nsec == before.st_mtim.tv_nsec) {
        pthread_mutex_lock(&memo_lock);
        struct digest_memo *m = valid_memo(&after, now);
        if (m)
            m->valid = 1;
        pthread_mutex_unlock(&memo_lock);
    }
    return rc;
}

static void *tr_create(const void *cfg, uint64_t seed)
{
    struct trace_state *s = mv_calloc(1, sizeof *s);
    s->c = *(const struct trace_cfg *)cfg;
    s->r = trace_open(tr_path(&s->c));
    if (!s->r) {
        free(s);
        return NULL;
    }
    return s;
}

static struct event ev_of(enum ev_type t, uint32_t pid)
{
    return (struct event){ .type = t, .pid = pid };
}

static struct event mmap_ev(struct trace_state *s, uint32_t pid, uint64_t addr, uint64_t len, uint32_t prot,
                            int shared, int anon, uint64_t dev, uint64_t ino, uint64_t pgoff)
{
    struct event e = ev_of(EV_MMAP, pid);
    e.addr = addr;
    e.len = len;
    e.prot = prot;
    e.flags = (shared ? MAP_SHARED : MAP_PRIVATE) | (anon ? MAP_ANON : 0);
    e.file = anon ? 0 : file_id(s, dev, ino);
    e.off = anon ? 0 : pgoff;
    return e;
}

/* An exec: the layout holds the stack, the heap start and as many private
 * segments as it can; the rest follow as mmaps (same result: the segments
 * do not overlap). */
static void push_exec(struct trace_state *s, const struct trace_rec *rec)
{
    free(s->name);
    s->name = mv_strdup(rec->path);
    struct layout *l = &s->lay;
    memset(l, 0, sizeof *l);
    l->name = s->name;
    struct event extra[TRACE_MAX_SEGS];
    unsigned nextra = 0;
    for (uint32_t i = 0; i < rec->nseg; i++) {
        const struct trace_seg *g = &rec->seg[i];
        int room = l->nseg + 2 < LAYOUT_MAX_SEGS;   /* keep one slot for the stack, one for the heap */
        if (g->kind == TRS_STACK || (room && !g->shared)) {
            struct segment *sg = &l->seg[l->nseg++];
            *sg = (struct segment){ g->start, g->len, g->prot,
                                    g->kind == TRS_STACK ? SEG_STACK : g->kind == TRS_FILE ? SEG_FILE : SEG_ANON,
                                    0, 0 };
            if (g->kind == TRS_FILE) {
                sg->file = file_id(s, g->dev, g->ino);
                sg->pgoff = g->pgoff;
            }
        } else {
            extra[nextra++] = mmap_ev(s, rec->pid, g->start, g->len, g->prot, g->shared, g->kind != TRS_FILE,
                                      g->dev, g->ino, g->pgoff);
        }
    }
    if (rec->start_brk)
        l->seg[l->nseg++] = (struct segment){ rec->start_brk & ~4095ull, 0, PROT_READ | PROT_WRITE,
                                              SEG_HEAP, 0, 0 };
    struct event e = ev_of(EV_EXEC, rec->pid);
    e.layout = l;
    evq_push(&s->q, e);
    for (unsigned i = 0; i < nextra; i++)
        evq_push(&s->q, extra[i]);
}

static void tr_next(void *st, struct event *ev)
{
    struct trace_state *s = st;
    for (;;) {
        if (evq_pop(&s->q, ev))
            return;
        if (s->ended) {
            *ev = ev_of(EV_END, 0);
            return;
        }
        struct trace_rec rec;
        int rc = trace_next(s->r, &rec);
        if (rc < 0) {
            *ev = ev_of(EV_ERROR, 0);
            return;
        }
        if (rc == 0) {
            s->ended = 1;
            exit_live(s);
            continue;
        }
        if (s->c.idle) {
            struct event i = ev_of(EV_IDLE_UNTIL, 0);
            i.ns = rec.t;
            evq_push(&s->q, i);
        }
        struct event e = ev_of(EV_END, rec.pid);
        switch (rec.kind) {
        case TR_SPAWN:
            e.type = EV_SPAWN;
            live_add(s, rec.pid);
            break;
        case TR_FORK:
            e.type = EV_FORK;
            e.child = rec.child;
            live_add(s, rec.child);
            e.flags = (rec.flags & TRF_VM) ? CLONE_VM : 0;
            break;
        case TR_EXEC:
            push_exec(s, &rec);
            continue;
        case TR_EXIT:
            e.type = EV_EXIT;
            live_del(s, rec.pid);
            break;
        case TR_MMAP:
            e = mmap_ev(s, rec.pid, rec.addr, rec.len, rec.prot, rec.flags & TRM_SHARED,
                        rec.flags & TRM_ANON, rec.dev, rec.ino, rec.pgoff);
            break;
        case TR_MUNMAP:
            e.type = EV_MUNMAP;
            e.addr = rec.addr;
            e.len = rec.len;
            break;
        case TR_MPROTECT:
            e.type = EV_MPROTECT;
            e.addr = rec.addr;
            e.len = rec.len;
            e.prot = rec.prot;
            break;
        case TR_BRK:
            e.type = EV_BRK;
            e.addr = rec.addr;
            break;
        case TR_MREMAP:
            e.type = EV_MREMAP;
            e.addr = rec.addr;
            e.len = rec.len;
            e.new_addr = rec.new_addr;
            e.new_len = rec.new_len;
            break;
        case TR_REFS:
            /* TRR_WRITE and TRR_EXEC are REF_WRITE and REF_EXEC: the batch
             * is the reader's, valid until the next record is read. */
            e.type = EV_ACCESS;
            e.batch = rec.ref;
            e.n = rec.nref;
            break;
        default:
            continue;               /* TR_PTINFO: for `trace info` */
        }
        evq_push(&s->q, e);
    }
}

/* Where the replay is, for an error: the file and the record the current
 * event came from (a record's events are all queued before the next is
 * read; the exits at the end come from the end record). */
static void tr_where(void *st, char *buf, size_t len)
{
    struct trace_state *s = st;
    if (s->ended)
        snprintf(buf, len, "trace '%s': at its end", trace_name(s->r));
    else
        snprintf(buf, len, "trace '%s': record %llu at byte %llu of the decompressed stream", trace_name(s->r),
                 (unsigned long long)trace_record_number(s->r), (unsigned long long)trace_record_offset(s->r));
}

/* The header's mmap_min_addr (trace import --mmap-min-addr, trace record);
 * trace_open refused one that is not a byte address in the user half. */
static int tr_recorded_min_addr(void *st, uint64_t *addr)
{
    const char *v = trace_header_get(((struct trace_state *)st)->r, "mmap_min_addr");
    return v && !param_parse_u64(v, addr);
}

static double tr_progress(void *st)
{
    return trace_progress(((struct trace_state *)st)->r);
}

static void tr_destroy(void *st)
{
    struct trace_state *s = st;
    trace_close(s->r);
    evq_free(&s->q);
    free(s->files);
    free(s->live);
    free(s->name);
    free(s);
}

const struct workload_def wl_trace = {
    .name = "trace",
    .doc = "replay of a recorded real program (memvirt trace record; docs/traces.md)",
    .replays_input = 1,
    .params = &group,
    .cfg_size = sizeof(struct trace_cfg),
    .validate = tr_validate,
    .create = tr_create,
    .next = tr_next,
    .progress = tr_progress,
    .where = tr_where,
    .destroy = tr_destroy,
    .input_path = tr_input_path,
    .input_seal = tr_seal,
    .recorded_mmap_min_addr = tr_recorded_min_addr,
};

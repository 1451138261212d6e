/* reader.c: the streaming trace reader (reader.h). Compressed input comes
 * from a file or memory in chunks; libzstd decompresses into a window that
 * always holds at least one whole record (records are bounded in size), and
 * verifies the frame's content checksum at the end. */
#include "trace/reader.h"
#include "lib/err.h"
#include "lib/param.h"
#include "trace/check.h"
#include "trace/varint.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zstd.h>
#include <zstd_errors.h>

#define WIN_CAP (1u << 20)          /* decompressed window */
#define WIN_NEED (320u << 10)       /* bytes kept ahead of the parser: more than any record */

struct trace_reader {
    char *name;
    FILE *f;
    const unsigned char *mem;
    size_t memlen, mempos;
    uint64_t total, comp_read;      /* compressed bytes: all, consumed */
    ZSTD_DCtx *dz;
    unsigned char *in;
    size_t incap, inlen, inpos;
    int src_eof, frame_done;
    unsigned char *buf;
    size_t lo, hi;
    uint64_t base;                  /* stream offset of buf[0] */
    uint64_t nrec, t;
    uint64_t last_off;              /* decompressed offset of the last record returned */
    int ended;
    unsigned nhdr;
    char *hkey[TRACE_MAX_HDR], *hval[TRACE_MAX_HDR];
    char why_buf[96];               /* a reason naming what the file holds */
    char *path;
    struct trace_seg *seg;
    uint64_t *refs;
};

static int fail(struct trace_reader *r, const char *fmt, const char *what)
{
    return mv_error(fmt, r->name, what);
}

/* Read more compressed input. 0, or -1 on an I/O error. */
static int read_input(struct trace_reader *r)
{
    if (r->inpos < r->inlen || r->src_eof)
        return 0;
    r->inpos = 0;
    if (r->mem) {
        size_t n = r->memlen - r->mempos < r->incap ? r->memlen - r->mempos : r->incap;
        memcpy(r->in, r->mem + r->mempos, n);
        r->mempos += n;
        r->inlen = n;
    } else {
        r->inlen = fread(r->in, 1, r->incap, r->f);
        if (ferror(r->f))
            return mv_error("trace '%s': read error: %s", r->name, strerror(errno));
    }
    r->comp_read += r->inlen;
    if (!r->inlen)
        r->src_eof = 1;
    return 0;
}

/* The file offset of the next compressed byte not yet decompressed. */
static uint64_t comp_pos(const struct trace_reader *r)
{
    return r->comp_read - (r->inlen - r->inpos) + TRACE_PREAMBLE;
}

/* Keep at least WIN_NEED bytes ahead of lo, unless the frame has ended. */
static int fill(struct trace_reader *r)
{
    if (r->hi - r->lo >= WIN_NEED || r->frame_done)
        return 0;
    memmove(r->buf, r->buf + r->lo, r->hi - r->lo);
    r->base += r->lo;
    r->hi -= r->lo;
    r->lo = 0;
    while (r->hi < WIN_CAP && !r->frame_done) {
        if (read_input(r))
            return -1;
        if (r->inpos == r->inlen && r->src_eof)
            return mv_error("trace '%s': truncated: the compressed data ends at byte %llu before the "
                            "end of the trace", r->name, (unsigned long long)(r->comp_read + TRACE_PREAMBLE));
        ZSTD_inBuffer in = { r->in, r->inlen, r->inpos };
        ZSTD_outBuffer out = { r->buf, WIN_CAP, r->hi };
        size_t rc = ZSTD_decompressStream(r->dz, &out, &in);
        r->inpos = in.pos;
        r->hi = out.pos;
        if (ZSTD_isError(rc)) {
            if (ZSTD_getErrorCode(rc) == ZSTD_error_checksum_wrong)
                return fail(r, "trace '%s': corrupted: %s (the file was damaged after it was written)",
                            "checksum mismatch");
            return mv_error("trace '%s': corrupted: %s near compressed byte %llu", r->name,
                            ZSTD_getErrorName(rc),
                            (unsigned long long)comp_pos(r));
        }
        if (rc == 0) {
            r->frame_done = 1;
            if (read_input(r))
                return -1;
            if (r->inpos < r->inlen)
                return mv_error("trace '%s': corrupted: bytes after the end of the compressed data, from byte %llu",
                                r->name, (unsigned long long)comp_pos(r));
        }
        if (r->hi - r->lo >= WIN_NEED)
            break;
    }
    return 0;
}

/* Parsing cursor over the window. */
struct cur {
    struct trace_reader *r;
    const unsigned char *p, *end;
    int bad;
    const char *why;
};

static uint64_t get(struct cur *c, uint64_t max, const char *what)
{
    uint64_t v = 0;
    if (c->bad)
        return 0;
    int rc = varint_get(&c->p, c->end, &v);
    if (rc) {
        c->bad = 1;
        c->why = rc == -1 ? "record cut short" : "number longer than 64 bits";
        return 0;
    }
    if (v > max) {
        c->bad = 1;
        c->why = what;
        return 0;
    }
    return v;
}

static char *get_str(struct cur *c, char **dst)
{
    uint64_t len = get(c, TRACE_MAX_STR, "string longer than the format allows");
    if (c->bad)
        return NULL;
    if ((uint64_t)(c->end - c->p) < len) {
        c->bad = 1;
        c->why = "record cut short";
        return NULL;
    }
    *dst = mv_realloc(*dst, len + 1);
    memcpy(*dst, c->p, len);
    (*dst)[len] = 0;
    if (memchr(*dst, 0, len)) {
        c->bad = 1;
        c->why = "string with a NUL byte";
    }
    c->p += len;
    return *dst;
}

#define PAGES_MAX (TRACE_USER_END >> 12)

/* A page range [start, start + len) inside the user half, len > 0. */
static void range(struct cur *c, uint64_t *addr, uint64_t *len)
{
    uint64_t s = get(c, PAGES_MAX - 1, "address outside the user address space");
    uint64_t n = get(c, PAGES_MAX, "length outside the user address space");
    if (!c->bad && (n == 0 || s + n > PAGES_MAX)) {
        c->bad = 1;
        c->why = n ? "range runs past the end of the user address space" : "empty range (a length of 0 pages)";
    }
    *addr = s << 12;
    *len = n << 12;
}

int trace_layout_check(const struct trace_seg *s, uint32_t n, const char **why)
{
    unsigned stacks = 0;
    for (uint32_t i = 0; i < n; i++) {
        if ((s[i].start | s[i].len) & 4095 || !s[i].len || s[i].start >= TRACE_USER_END ||
            s[i].len > TRACE_USER_END - s[i].start) {
            *why = "exec segment outside the user address space";
            return -1;
        }
        if (i && s[i].start < s[i - 1].start + s[i - 1].len) {
            *why = "exec segments overlap or are out of order";
            return -1;
        }
        stacks += s[i].kind == TRS_STACK;
        if (s[i].kind == TRS_STACK && (s[i].prot & (TRP_READ | TRP_WRITE)) != (TRP_READ | TRP_WRITE)) {
            *why = "exec stack not readable and writable (exec writes the arguments there)";
            return -1;
        }
    }
    if (stacks != 1) {
        *why = "exec layout without exactly one stack";
        return -1;
    }
    return 0;
}

static void parse_exec(struct cur *c, struct trace_rec *rec)
{
    struct trace_reader *r = c->r;
    rec->path = get_str(c, &r->path);
    rec->start_brk = get(c, TRACE_USER_END - 1, "heap start outside the user address space");
    rec->nseg = (uint32_t)get(c, TRACE_MAX_SEGS, "more exec segments than the format allows");
    for (uint32_t i = 0; i < rec->nseg && !c->bad; i++) {
        struct trace_seg *s = &r->seg[i];
        memset(s, 0, sizeof *s);
        range(c, &s->start, &s->len);
        if (c->p >= c->end) {
            c->bad = 1;
            c->why = "record cut short";
            break;
        }
        unsigned b = *c->p++;
        s->prot = b & 7;
        s->kind = (b >> 3) & 3;
        s->shared = (b >> 5) & 1;
        if (b >> 6 || s->kind > TRS_STACK) {
            c->bad = 1;
            c->why = "bad exec segment kind";
            break;
        }
        if (s->kind == TRS_FILE) {
            s->dev = get(c, UINT64_MAX, "");
            s->ino = get(c, UINT64_MAX, "");
            s->pgoff = get(c, TRACE_FILE_PAGES - (s->len >> 12), "file mapping beyond 2^32 pages of its file");
        }
    }
    rec->seg = r->seg;
    if (!c->bad && trace_layout_check(r->seg, rec->nseg, &c->why))
        c->bad = 1;
}

static void parse_body(struct cur *c, struct trace_rec *rec)
{
    struct trace_reader *r = c->r;
    switch (rec->kind) {
    case TR_SPAWN:
    case TR_EXIT:
        break;
    case TR_FORK:
        rec->child = (uint32_t)get(c, UINT32_MAX, "child id above 2^32");
        rec->flags = (uint32_t)get(c, TRF_VM | TRF_VFORK | TRF_THREAD, "unknown fork flags");
        if (!c->bad && (rec->flags & TRF_THREAD) && !(rec->flags & TRF_VM)) {
            c->bad = 1;   /* clone(2): CLONE_THREAD needs CLONE_SIGHAND, which needs CLONE_VM */
            c->why = "a thread (CLONE_THREAD) that does not share its parent's memory (no CLONE_VM)";
        }
        break;
    case TR_EXEC:
        parse_exec(c, rec);
        break;
    case TR_MMAP:
        range(c, &rec->addr, &rec->len);
        rec->prot = (uint32_t)get(c, 7, "unknown protection bits");
        rec->flags = (uint32_t)get(c, TRM_SHARED | TRM_ANON, "unknown mmap flags");
        if (!(rec->flags & TRM_ANON)) {
            rec->dev = get(c, UINT64_MAX, "");
            rec->ino = get(c, UINT64_MAX, "");
            rec->pgoff = get(c, TRACE_FILE_PAGES - (rec->len >> 12), "file mapping beyond 2^32 pages of its file");
        }
        break;
    case TR_MUNMAP:
        range(c, &rec->addr, &rec->len);
        break;
    case TR_MPROTECT:
        range(c, &rec->addr, &rec->len);
        rec->prot = (uint32_t)get(c, 7, "unknown protection bits");
        break;
    case TR_BRK:
        rec->addr = get(c, TRACE_USER_END - 1, "break outside the user address space");
        break;
    case TR_MREMAP:
        range(c, &rec->addr, &rec->len);
        range(c, &rec->new_addr, &rec->new_len);
        break;
    case TR_REFS: {
        rec->nref = (uint32_t)get(c, TRACE_MAX_REFS, "more references than the format allows");
        if (!c->bad && !rec->nref) {
            c->bad = 1;
            c->why = "empty reference batch";
        }
        uint64_t prev = 0;
        for (uint32_t i = 0; i < rec->nref && !c->bad; i++) {
            uint64_t v = get(c, UINT64_MAX, "");
            int64_t d = unzigzag(v >> 2);
            uint64_t a = prev + (uint64_t)d;
            if (a >= (TRACE_USER_END >> 3) || (v & 3) == 3) {
                c->bad = 1;
                c->why = (v & 3) == 3 ? "unknown reference kind" : "reference outside the user address space";
                break;
            }
            r->refs[i] = a << 3 | (v & 3);
            prev = a;
        }
        rec->ref = r->refs;
        break;
    }
    case TR_PTINFO:
        rec->pt.seq = (uint32_t)get(c, UINT32_MAX, "image number above 2^32");
        rec->pt.at = (uint32_t)get(c, 1, "unknown page-table sample point");
        rec->pt.bytes = get(c, TRACE_MAX_PT_BYTES, "page-table size too large");
        break;
    default:
        break;
    }
}

static int bad_record(struct trace_reader *r, uint64_t off, const char *why)
{
    return mv_error("trace '%s': record %llu at byte %llu of the decompressed stream: %s", r->name,
                    (unsigned long long)r->nrec + 1, (unsigned long long)off, why);
}

/* A record whose kind and thread were read: the message names them too. */
static int bad_body(struct trace_reader *r, uint64_t off, const struct trace_rec *rec, const char *why)
{
    return mv_error("trace '%s': record %llu at byte %llu of the decompressed stream (%s, thread %u): %s", r->name,
                    (unsigned long long)r->nrec + 1, (unsigned long long)off, trace_kind_name(rec->kind),
                    (unsigned)rec->pid, why);
}

int trace_next(struct trace_reader *r, struct trace_rec *rec)
{
    if (r->ended)
        return 0;
    if (fill(r))
        return -1;
    memset(rec, 0, sizeof *rec);
    uint64_t off = r->base + r->lo;
    if (r->lo == r->hi)
        return bad_record(r, off, "the trace ends without its end record (truncated)");
    struct cur c = { r, r->buf + r->lo, r->buf + r->hi, 0, NULL };
    unsigned kind = *c.p++;
    if (kind == TR_HEADER || kind >= TR__N)
        return bad_record(r, off, "unknown record kind");
    rec->kind = (enum trace_kind)kind;
    if (kind == TR_END) {
        rec->count = get(&c, UINT64_MAX, "");
        if (c.bad)
            return bad_record(r, off, c.why);
        if (rec->count != r->nrec)
            return bad_record(r, off, "the end record's count does not match the records read");
        r->lo = (size_t)(c.p - r->buf);
        /* The frame must end here, its checksum verified. */
        while (!r->frame_done && r->hi == r->lo)
            if (fill(r))
                return -1;
        if (r->hi != r->lo)
            return bad_record(r, r->base + r->lo, "data after the end record");
        r->ended = 1;
        return 0;
    }
    uint64_t dt = get(&c, UINT64_MAX, "");
    rec->pid = (uint32_t)get(&c, UINT32_MAX, "thread id above 2^32");
    if (c.bad)
        return bad_record(r, off, c.why);
    if (dt > UINT64_MAX - r->t)
        return bad_body(r, off, rec, "time overflows");
    parse_body(&c, rec);
    if (c.bad)
        return bad_body(r, off, rec, c.why);
    r->t += dt;
    rec->t = r->t;
    r->lo = (size_t)(c.p - r->buf);
    r->nrec++;
    r->last_off = off;
    return 1;
}

int trace_check_span(const struct trace_reader *r, const struct trace_rec *rec)
{
    if (rec->t <= TRACE_SPAN_MAX)
        return 0;
    return mv_error("trace '%s': record %llu at byte %llu of the decompressed stream: its time, %.0f s after the "
                    "trace's start, is past the longest span memvirt replays (%llu s, a week)",
                    r->name, (unsigned long long)r->nrec, (unsigned long long)r->last_off, (double)rec->t / 1e9,
                    TRACE_SPAN_MAX / 1000000000ull);
}

static struct trace_reader *start(struct trace_reader *r)
{
    unsigned char pre[TRACE_PREAMBLE];
    size_t got;
    if (r->mem) {
        got = r->memlen < sizeof pre ? r->memlen : sizeof pre;
        memcpy(pre, r->mem, got);
        r->mempos = got;
    } else {
        got = fread(pre, 1, sizeof pre, r->f);
    }
    if (got == 0) {
        if (!r->mem && ferror(r->f))   /* a directory, say: not "empty" */
            mv_error("trace '%s': cannot read: %s", r->name, strerror(errno));
        else
            mv_error("trace '%s': empty file", r->name);
        goto bad;
    }
    if (got < 8 || memcmp(pre, TRACE_MAGIC, 8)) {
        mv_error("trace '%s': not a memvirt trace (bad magic at byte 0)", r->name);
        goto bad;
    }
    if (got < sizeof pre) {
        mv_error("trace '%s': truncated: the file ends inside its %d-byte preamble", r->name, TRACE_PREAMBLE);
        goto bad;
    }
    unsigned version = pre[8] | pre[9] << 8, flags = pre[10] | pre[11] << 8;
    if (version != TRACE_VERSION) {
        mv_error("trace '%s': format version %u at byte 8; this memvirt reads version %d", r->name,
                 version, TRACE_VERSION);
        goto bad;
    }
    if (flags) {
        mv_error("trace '%s': unknown flags %#x at byte 10", r->name, flags);
        goto bad;
    }
    r->dz = ZSTD_createDCtx();
    r->incap = ZSTD_DStreamInSize();
    r->in = mv_malloc(r->incap);
    r->buf = mv_malloc(WIN_CAP);
    r->seg = mv_malloc(TRACE_MAX_SEGS * sizeof *r->seg);
    r->refs = mv_malloc(TRACE_MAX_REFS * sizeof *r->refs);
    /* The frame header (RFC 8878 3.1.1): the magic number, then the frame
     * header descriptor, whose bit 2 says the frame ends with a content
     * checksum. libzstd verifies one only if the frame has it: a frame
     * without is refused here, since nothing else would guard the records. */
    if (read_input(r))
        goto bad;
    if (r->inlen >= 5) {
        const unsigned char *h = r->in;
        uint32_t magic = (uint32_t)h[0] | (uint32_t)h[1] << 8 | (uint32_t)h[2] << 16 | (uint32_t)h[3] << 24;
        if (magic != 0xFD2FB528u) {
            mv_error("trace '%s': corrupted: no zstd frame at byte %d (magic %#x)", r->name, TRACE_PREAMBLE,
                     magic);
            goto bad;
        }
        if (!(h[4] & 0x04)) {
            mv_error("trace '%s': corrupted: the zstd frame at byte %d has no content checksum (the format "
                     "requires one: its frame header descriptor at byte %d lacks the checksum flag)",
                     r->name, TRACE_PREAMBLE, TRACE_PREAMBLE + 4);
            goto bad;
        }
    }
    if (fill(r))
        goto bad;
    if (r->lo == r->hi || r->buf[r->lo] != TR_HEADER) {
        mv_error("trace '%s': record 0 at byte 0 of the decompressed stream: %s", r->name,
                 r->lo == r->hi ? "no header (truncated)" : "the trace does not start with its header");
        goto bad;
    }
    struct cur c = { r, r->buf + r->lo + 1, r->buf + r->hi, 0, NULL };
    r->nhdr = (unsigned)get(&c, TRACE_MAX_HDR, "more header entries than the format allows");
    for (unsigned i = 0; i < r->nhdr && !c.bad; i++) {
        get_str(&c, &r->hkey[i]);
        get_str(&c, &r->hval[i]);
        for (unsigned j = 0; j < i && !c.bad; j++)   /* which value would hold? (at most 32 keys) */
            if (!strcmp(r->hkey[j], r->hkey[i])) {
                c.bad = 1;
                snprintf(r->why_buf, sizeof r->why_buf, "duplicate header key '%.64s'", r->hkey[i]);
                c.why = r->why_buf;
            }
    }
    if (c.bad) {
        for (unsigned i = 0; i < r->nhdr; i++)
            if (!r->hkey[i] || !r->hval[i])
                r->nhdr = i;
        mv_error("trace '%s': header (record 0) at byte %llu of the decompressed stream: %s", r->name,
                 (unsigned long long)(c.p - r->buf), c.why);
        goto bad;
    }
    r->lo = (size_t)(c.p - r->buf);
    const char *min_addr = trace_header_get(r, "mmap_min_addr");
    uint64_t v;
    if (min_addr && (param_parse_u64(min_addr, &v) || v > TRACE_MMAP_MIN_ADDR_MAX)) {
        mv_error("trace '%s': header (record 0): mmap_min_addr '%.64s': not a byte address of at most %llu "
                 "(%#llx) (the recording kernel's vm.mmap_min_addr: above it not even an exec's default stack "
                 "could be mapped)", r->name, min_addr, (unsigned long long)TRACE_MMAP_MIN_ADDR_MAX,
                 (unsigned long long)TRACE_MMAP_MIN_ADDR_MAX);
        goto bad;
    }
    return r;
bad:
    trace_close(r);
    return NULL;
}

int trace_check_regular(const char *path)
{
    struct stat st;
    if (!stat(path, &st) && !S_ISREG(st.st_mode))
        return mv_error("trace '%s': not a regular file (%s): give the trace's file", path,
                        S_ISDIR(st.st_mode) ? "a directory" : "a device, FIFO or socket");
    return 0;
}

struct trace_reader *trace_open(const char *path)
{
    struct trace_reader *r = mv_calloc(1, sizeof *r);
    r->name = mv_strdup(path);
    r->f = fopen(path, "rb");
    if (!r->f) {
        mv_error("trace '%s': cannot open: %s", path, strerror(errno));
        trace_close(r);
        return NULL;
    }
    struct stat st;
    if (!fstat(fileno(r->f), &st))
        r->total = (uint64_t)st.st_size;
    return start(r);
}

struct trace_reader *trace_open_mem(const void *data, size_t len, const char *name)
{
    struct trace_reader *r = mv_calloc(1, sizeof *r);
    r->name = mv_strdup(name);
    r->mem = data ? data : (const unsigned char *)"";
    r->memlen = len;
    r->total = len;
    return start(r);
}

void trace_close(struct trace_reader *r)
{
    if (!r)
        return;
    if (r->f)
        fclose(r->f);
    ZSTD_freeDCtx(r->dz);
    for (unsigned i = 0; i < TRACE_MAX_HDR; i++) {
        free(r->hkey[i]);
        free(r->hval[i]);
    }
    free(r->in);
    free(r->buf);
    free(r->seg);
    free(r->refs);
    free(r->path);
    free(r->name);
    free(r);
}

unsigned trace_header_count(const struct trace_reader *r) { return r->nhdr; }
const char *trace_name(const struct trace_reader *r) { return r->name; }
uint64_t trace_record_number(const struct trace_reader *r) { return r->nrec; }
uint64_t trace_record_offset(const struct trace_reader *r) { return r->last_off; }
const char *trace_header_key(const struct trace_reader *r, unsigned i) { return r->hkey[i]; }
const char *trace_header_value(const struct trace_reader *r, unsigned i) { return r->hval[i]; }

const char *trace_header_get(const struct trace_reader *r, const char *key)
{
    for (unsigned i = 0; i < r->nhdr; i++)
        if (!strcmp(r->hkey[i], key))
            return r->hval[i];
    return NULL;
}

double trace_progress(const struct trace_reader *r)
{
    return r->total ? (double)(r->comp_read + (r->mem ? 0 : TRACE_PREAMBLE)) / (double)r->total : 0;
}

int trace_verify(const char *path)
{
    struct trace_reader *r = trace_open(path);
    if (!r)
        return -1;
    struct trace_check ck = { 0 };
    struct trace_rec rec;
    int rc;
    while ((rc = trace_next(r, &rec)) == 1)
        if (trace_check_record(&ck, r, &rec)) {
            rc = -1;
            break;
        }
    trace_close(r);
    trace_check_free(&ck);
    return rc;
}

const char *trace_kind_name(enum trace_kind k)
{
    static const char *const names[TR__N] = { "end", "header", "spawn", "fork", "exec", "exit", "mmap",
                                              "munmap", "mprotect", "brk", "mremap", "refs", "ptinfo" };
    return (unsigned)k < TR__N ? names[k] : "?";
}

/* writer.c: encodes records (format.h, docs/trace-format.md) and compresses
 * them with libzstd's streaming API into one frame with a content checksum.
 * A file is written through lib/outfile (a temporary file beside the target,
 * renamed into place only by trace_writer_commit; devices and FIFOs written
 * through). */
#include "trace/writer.h"
#include "lib/err.h"
#include "lib/outfile.h"
#include "trace/varint.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#define RAW_CAP (1u << 17)     /* encoded records buffered before compression */
#define REC_MAX (64u << 10)    /* the largest encoded record */

struct trace_writer {
    char *path;                /* file mode: output idx of set (lib/outfile) */
    struct outset *set;
    unsigned idx;
    int own;                   /* set is the writer's own */
    FILE *f;
    unsigned char *mem;        /* memory mode */
    size_t memlen, memcap;
    ZSTD_CCtx *cz;
    unsigned char *raw;
    size_t nraw;
    unsigned char *out;
    size_t outcap;
    uint64_t last_t, count;
    int failed;                /* a write of the output failed */
    /* pending references of one pid */
    uint32_t ref_pid;
    uint64_t ref_t;
    uint64_t *refs;
    uint32_t nrefs;
};

static int sink(struct trace_writer *w, const void *p, size_t n)
{
    if (w->f) {
        if (fwrite(p, 1, n, w->f) != n) {
            w->failed = 1;
            return mv_error("cannot write '%s': %s", w->path, strerror(errno));
        }
        return 0;
    }
    if (w->memlen + n > w->memcap) {
        w->memcap = (w->memlen + n) * 2;
        w->mem = mv_realloc(w->mem, w->memcap);
    }
    memcpy(w->mem + w->memlen, p, n);
    w->memlen += n;
    return 0;
}

/* Compress what is buffered; end the frame if last. */
static int pump(struct trace_writer *w, int last)
{
    ZSTD_inBuffer in = { w->raw, w->nraw, 0 };
    for (;;) {
        ZSTD_outBuffer o = { w->out, w->outcap, 0 };
        size_t left = ZSTD_compressStream2(w->cz, &o, &in, last ? ZSTD_e_end : ZSTD_e_continue);
        if (ZSTD_isError(left))
            return mv_error("trace: compression failed: %s", ZSTD_getErrorName(left));
        if (o.pos && sink(w, w->out, o.pos))
            return -1;
        if (last ? left == 0 : in.pos == in.size)
            break;
    }
    w->nraw = 0;
    return 0;
}

static int emit(struct trace_writer *w, const unsigned char *rec, size_t n)
{
    while (n) {
        if (w->nraw == RAW_CAP && pump(w, 0))
            return -1;
        size_t c = RAW_CAP - w->nraw < n ? RAW_CAP - w->nraw : n;
        memcpy(w->raw + w->nraw, rec, c);
        w->nraw += c;
        rec += c;
        n -= c;
    }
    return 0;
}

static size_t put_str(unsigned char *p, const char *s)
{
    size_t len = strlen(s);
    if (len > TRACE_MAX_STR)
        len = TRACE_MAX_STR;
    size_t n = varint_put(p, len);
    memcpy(p + n, s, len);
    return n + len;
}

static struct trace_writer *start(struct trace_writer *w, const char *const *keys,
                                  const char *const *values, unsigned n)
{
    w->cz = ZSTD_createCCtx();
    ZSTD_CCtx_setParameter(w->cz, ZSTD_c_compressionLevel, 9);
    ZSTD_CCtx_setParameter(w->cz, ZSTD_c_checksumFlag, 1);
    w->raw = mv_malloc(RAW_CAP);
    w->outcap = ZSTD_CStreamOutSize();
    w->out = mv_malloc(w->outcap);
    w->refs = mv_malloc(TRACE_MAX_REFS * sizeof *w->refs);
    unsigned char pre[TRACE_PREAMBLE];
    memcpy(pre, TRACE_MAGIC, 8);
    pre[8] = TRACE_VERSION & 0xff;
    pre[9] = TRACE_VERSION >> 8;
    pre[10] = pre[11] = 0;
    if (sink(w, pre, sizeof pre)) {
        trace_writer_abort(w);
        return NULL;
    }
    if (n > TRACE_MAX_HDR)
        n = TRACE_MAX_HDR;
    unsigned char *rec = mv_malloc(2 * TRACE_MAX_HDR * (TRACE_MAX_STR + VARINT_MAX) + 16);
    size_t k = 0;
    rec[k++] = TR_HEADER;
    k += varint_put(rec + k, n);
    for (unsigned i = 0; i < n; i++) {
        k += put_str(rec + k, keys[i]);
        k += put_str(rec + k, values[i]);
    }
    int rc = emit(w, rec, k);
    free(rec);
    if (rc) {
        trace_writer_abort(w);
        return NULL;
    }
    return w;
}

static struct trace_writer *open_in(struct outset *set, int own, unsigned i, const char *const *keys,
                                    const char *const *values, unsigned n)
{
    struct trace_writer *w = mv_calloc(1, sizeof *w);
    w->set = set;
    w->own = own;
    w->idx = i;
    w->path = mv_strdup(set->f[i].path);
    w->f = outset_stream(set, i);
    return start(w, keys, values, n);
}

struct trace_writer *trace_writer_open(const char *path, const char *const *keys,
                                       const char *const *values, unsigned n)
{
    if (!strcmp(path, "-")) {
        mv_error("-o '-': a trace is binary: give it a file name (or /dev/stdout to send it down a pipe)");
        return NULL;
    }
    struct outset *set = mv_calloc(1, sizeof *set);
    if (outset_add(set, "-o", path)) {
        outset_free(set);
        free(set);
        return NULL;
    }
    return open_in(set, 1, 0, keys, values, n);
}

struct trace_writer *trace_writer_open_set(struct outset *set, unsigned i, const char *const *keys,
                                           const char *const *values, unsigned n)
{
    return open_in(set, 0, i, keys, values, n);
}

struct trace_writer *trace_writer_mem(const char *const *keys, const char *const *values, unsigned n)
{
    struct trace_writer *w = mv_calloc(1, sizeof *w);
    return start(w, keys, values, n);
}

static int flush_refs(struct trace_writer *w)
{
    if (!w->nrefs)
        return 0;
    unsigned char *rec = mv_malloc(3 * VARINT_MAX + 1 + (size_t)w->nrefs * VARINT_MAX);
    size_t k = 0;
    rec[k++] = TR_REFS;
    k += varint_put(rec + k, w->ref_t - w->last_t);
    k += varint_put(rec + k, w->ref_pid);
    k += varint_put(rec + k, w->nrefs);
    uint64_t prev = 0;
    for (uint32_t i = 0; i < w->nrefs; i++) {
        uint64_t a = TRACE_REF_ADDR(w->refs[i]) >> 3;
        k += varint_put(rec + k, zigzag((int64_t)(a - prev)) << 2 | TRACE_REF_KIND(w->refs[i]));
        prev = a;
    }
    w->last_t = w->ref_t;
    w->nrefs = 0;
    w->count++;
    int rc = emit(w, rec, k);
    free(rec);
    return rc;
}

int trace_write_ref(struct trace_writer *w, uint64_t t, uint32_t pid, uint64_t ref)
{
    if (t < w->last_t)
        t = w->last_t;
    if (w->nrefs && (pid != w->ref_pid || w->nrefs == TRACE_MAX_REFS) && flush_refs(w))
        return -1;
    if (!w->nrefs) {
        w->ref_pid = pid;
        w->ref_t = t;
    }
    w->refs[w->nrefs++] = ref;
    return 0;
}

static size_t put_seg(unsigned char *p, const struct trace_seg *s)
{
    size_t k = 0;
    k += varint_put(p + k, s->start >> 12);
    k += varint_put(p + k, s->len >> 12);
    p[k++] = (unsigned char)((s->prot & 7) | (s->kind & 3) << 3 | (s->shared ? 0x20 : 0));
    if (s->kind == TRS_FILE) {
        k += varint_put(p + k, s->dev);
        k += varint_put(p + k, s->ino);
        k += varint_put(p + k, s->pgoff);
    }
    return k;
}

int trace_write(struct trace_writer *w, const struct trace_rec *r)
{
    if (r->kind == TR_REFS) {
        for (uint32_t i = 0; i < r->nref; i++)
            if (trace_write_ref(w, r->t, r->pid, r->ref[i]))
                return -1;
        return 0;
    }
    MV_ASSERT(r->kind > TR_HEADER && r->kind < TR__N, "trace_write of kind %d", r->kind);
    MV_ASSERT(r->kind != TR_EXEC || r->nseg <= TRACE_MAX_SEGS, "exec with %u segments", r->nseg);
    if (flush_refs(w))
        return -1;
    uint64_t t = r->t < w->last_t ? w->last_t : r->t;
    size_t cap = REC_MAX + (r->kind == TR_EXEC ? (size_t)r->nseg * 6 * VARINT_MAX : 0);
    unsigned char *rec = mv_malloc(cap);
    size_t k = 0;
    rec[k++] = (unsigned char)r->kind;
    k += varint_put(rec + k, t - w->last_t);
    k += varint_put(rec + k, r->pid);
    switch (r->kind) {
    case TR_FORK:
        k += varint_put(rec + k, r->child);
        k += varint_put(rec + k, r->flags);
        break;
    case TR_EXEC:
        k += put_str(rec + k, r->path ? r->path : "");
        k += varint_put(rec + k, r->start_brk);
        k += varint_put(rec + k, r->nseg);
        for (uint32_t i = 0; i < r->nseg; i++)
            k += put_seg(rec + k, &r->seg[i]);
        break;
    case TR_MMAP:
        k += varint_put(rec + k, r->addr >> 12);
        k += varint_put(rec + k, r->len >> 12);
        k += varint_put(rec + k, r->prot);
        k += varint_put(rec + k, r->flags);
        if (!(r->flags & TRM_ANON)) {
            k += varint_put(rec + k, r->dev);
            k += varint_put(rec + k, r->ino);
            k += varint_put(rec + k, r->pgoff);
        }
        break;
    case TR_MUNMAP:
        k += varint_put(rec + k, r->addr >> 12);
        k += varint_put(rec + k, r->len >> 12);
        break;
    case TR_MPROTECT:
        k += varint_put(rec + k, r->addr >> 12);
        k += varint_put(rec + k, r->len >> 12);
        k += varint_put(rec + k, r->prot);
        break;
    case TR_BRK:
        k += varint_put(rec + k, r->addr);
        break;
    case TR_MREMAP:
        k += varint_put(rec + k, r->addr >> 12);
        k += varint_put(rec + k, r->len >> 12);
        k += varint_put(rec + k, r->new_addr >> 12);
        k += varint_put(rec + k, r->new_len >> 12);
        break;
    case TR_PTINFO:
        k += varint_put(rec + k, r->pt.seq);
        k += varint_put(rec + k, r->pt.at);
        k += varint_put(rec + k, r->pt.bytes);
        break;
    default:
        break;
    }
    w->last_t = t;
    w->count++;
    int rc = emit(w, rec, k);
    free(rec);
    return rc;
}

int trace_writer_failed(const struct trace_writer *w)
{
    return w->failed;
}

uint64_t trace_writer_count(const struct trace_writer *w) { return w->count + (w->nrefs ? 1 : 0); }
const char *trace_writer_tmp_path(const struct trace_writer *w)
{
    return w->set ? outset_tmp_path(w->set, w->idx) : NULL;
}

static int finish(struct trace_writer *w)
{
    if (flush_refs(w))
        return -1;
    unsigned char rec[1 + VARINT_MAX];
    rec[0] = TR_END;
    size_t k = 1 + varint_put(rec + 1, w->count);
    if (emit(w, rec, k) || pump(w, 1))
        return -1;
    return 0;
}

static void release(struct trace_writer *w)
{
    ZSTD_freeCCtx(w->cz);
    free(w->raw);
    free(w->out);
    free(w->refs);
    free(w->path);
    free(w->mem);
    if (w->own) {
        outset_free(w->set);   /* an uncommitted output is discarded */
        free(w->set);
    }
    free(w);
}

int trace_writer_commit(struct trace_writer *w)
{
    MV_ASSERT(w->f, "trace_writer_commit on an in-memory writer");
    int rc = finish(w);
    if (!rc && (fflush(w->f) || ferror(w->f)))
        rc = mv_error("cannot write '%s': %s", w->path, strerror(errno));
    w->f = NULL;   /* the output set's own stream */
    if (!rc)
        rc = outset_commit(w->set);
    release(w);
    return rc;
}

int trace_writer_commit_mem(struct trace_writer *w, unsigned char **buf, size_t *len)
{
    MV_ASSERT(!w->f, "trace_writer_commit_mem on a file writer");
    int rc = finish(w);
    *buf = w->mem;
    *len = w->memlen;
    w->mem = NULL;
    release(w);
    return rc;
}

void trace_writer_abort(struct trace_writer *w)
{
    if (!w)
        return;
    release(w);   /* the caller's set, if it is one, discards the output when freed */
}

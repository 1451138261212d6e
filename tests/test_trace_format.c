/* test_trace_format.c: the trace format (src/trace/writer.c, reader.c) and
 * the importers' builder (src/trace/build.c): every record kind survives a
 * round trip; truncated, corrupted, wrong-version, wrong-magic and empty
 * inputs each give one clean error (every prefix and every single flipped
 * byte of a real trace is tried); well-framed streams (checksum intact)
 * whose records are wrong are refused by the reader's own rules (end count,
 * data after the end, a reference past user space); a layout the guest
 * could not load is refused; a trace far larger than the reader's window
 * streams through; and
 * the builder keeps out what a kernel would refuse, counting it. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>
#include <sys/wait.h>
#include <zstd.h>
#include "trace/build.h"
#include "trace/reader.h"
#include "trace/varint.h"
#include "trace/writer.h"
#include "testutil.h"

static const char *K[] = { "command", "host" }, *V[] = { "sh -c true", "testhost" };

static unsigned char *finish(struct trace_writer *w, size_t *len)
{
    unsigned char *buf;
    assert_int_equal(trace_writer_commit_mem(w, &buf, len), 0);
    return buf;
}

/* A trace with one record of every kind. */
static unsigned char *sample(size_t *len)
{
    struct trace_writer *w = trace_writer_mem(K, V, 2);
    struct trace_seg seg[3] = {
        { 0x555555554000ull, 0x3000, TRP_READ | TRP_EXEC, TRS_FILE, 0, 0xfe00, 1234, 0 },
        { 0x555555557000ull, 0x1000, TRP_READ | TRP_WRITE, TRS_ANON, 0, 0, 0, 0 },
        { 0x7ffffffde000ull, 0x21000, TRP_READ | TRP_WRITE, TRS_STACK, 0, 0, 0, 0 },
    };
    uint64_t refs[3] = { 0x555555554008ull | TRR_EXEC, 0x555555557010ull | TRR_WRITE, 0x7fffffffe000ull };
    struct trace_rec r[] = {
        { .kind = TR_SPAWN, .t = 10, .pid = 7 },
        { .kind = TR_EXEC, .t = 20, .pid = 7, .path = "/bin/true", .seg = seg, .nseg = 3, .start_brk = 0x555555560000ull },
        { .kind = TR_MMAP, .t = 30, .pid = 7, .addr = 0x7f0000000000ull, .len = 0x2000, .prot = 3,
          .flags = TRM_SHARED, .dev = 9, .ino = 99, .pgoff = 4 },
        { .kind = TR_REFS, .t = 35, .pid = 7, .ref = refs, .nref = 3 },
        { .kind = TR_MPROTECT, .t = 40, .pid = 7, .addr = 0x7f0000000000ull, .len = 0x1000, .prot = 1 },
        { .kind = TR_MREMAP, .t = 45, .pid = 7, .addr = 0x7f0000000000ull, .len = 0x2000,
          .new_addr = 0x7f1000000000ull, .new_len = 0x4000 },
        { .kind = TR_BRK, .t = 50, .pid = 7, .addr = 0x555555581234ull },
        { .kind = TR_FORK, .t = 60, .pid = 7, .child = 8, .flags = TRF_VM | TRF_VFORK },
        { .kind = TR_MUNMAP, .t = 70, .pid = 7, .addr = 0x7f1000000000ull, .len = 0x4000 },
        { .kind = TR_EXIT, .t = 80, .pid = 8 },
        { .kind = TR_PTINFO, .t = 80, .pid = 7, .pt = { 1, 0, 40960 } },
        { .kind = TR_EXIT, .t = 90, .pid = 7 },
    };
    for (unsigned i = 0; i < sizeof r / sizeof r[0]; i++)
        assert_int_equal(trace_write(w, &r[i]), 0);
    return finish(w, len);
}

static void test_round_trip(void **state)
{
    (void)state;
    size_t len;
    unsigned char *buf = sample(&len);
    struct trace_reader *r = trace_open_mem(buf, len, "sample");
    assert_non_null(r);
    assert_string_equal(trace_header_get(r, "command"), "sh -c true");
    assert_string_equal(trace_header_get(r, "host"), "testhost");
    assert_null(trace_header_get(r, "nope"));
    struct trace_rec x;
    enum trace_kind want[] = { TR_SPAWN, TR_EXEC, TR_MMAP, TR_REFS, TR_MPROTECT, TR_MREMAP, TR_BRK, TR_FORK,
                               TR_MUNMAP, TR_EXIT, TR_PTINFO, TR_EXIT };
    for (unsigned i = 0; i < sizeof want / sizeof want[0]; i++) {
        assert_int_equal(trace_next(r, &x), 1);
        assert_int_equal(x.kind, want[i]);
        switch (x.kind) {
        case TR_EXEC:
            assert_string_equal(x.path, "/bin/true");
            assert_int_equal(x.nseg, 3);
            assert_int_equal(x.seg[0].ino, 1234);
            assert_int_equal(x.seg[0].dev, 0xfe00);
            assert_int_equal(x.seg[2].kind, TRS_STACK);
            assert_int_equal(x.seg[2].len, 0x21000);
            assert_int_equal(x.start_brk, 0x555555560000ull);
            assert_int_equal(x.t, 20);
            break;
        case TR_MMAP:
            assert_int_equal(x.addr, 0x7f0000000000ull);
            assert_int_equal(x.len, 0x2000);
            assert_int_equal(x.flags, TRM_SHARED);
            assert_int_equal(x.ino, 99);
            assert_int_equal(x.pgoff, 4);
            break;
        case TR_REFS:
            assert_int_equal(x.nref, 3);
            assert_int_equal(x.ref[0], 0x555555554008ull | TRR_EXEC);
            assert_int_equal(x.ref[1], 0x555555557010ull | TRR_WRITE);
            assert_int_equal(x.ref[2], 0x7fffffffe000ull);
            break;
        case TR_MREMAP:
            assert_int_equal(x.new_addr, 0x7f1000000000ull);
            assert_int_equal(x.new_len, 0x4000);
            break;
        case TR_BRK:
            assert_int_equal(x.addr, 0x555555581234ull);
            break;
        case TR_FORK:
            assert_int_equal(x.child, 8);
            assert_int_equal(x.flags, TRF_VM | TRF_VFORK);
            break;
        case TR_PTINFO:
            assert_int_equal(x.pt.seq, 1);
            assert_int_equal(x.pt.bytes, 40960);
            break;
        default:
            break;
        }
    }
    assert_int_equal(trace_next(r, &x), 0);
    assert_int_equal(trace_next(r, &x), 0);
    trace_close(r);
    free(buf);
}

static int read_all(const unsigned char *buf, size_t len)
{
    struct trace_reader *r = trace_open_mem(buf, len, "t");
    if (!r)
        return -1;
    struct trace_rec x;
    int rc;
    while ((rc = trace_next(r, &x)) == 1)
        ;
    trace_close(r);
    return rc;
}

/* Bytes after the zstd frame: refused, naming the first of them. */
static void test_bytes_after_the_frame(void **state)
{
    (void)state;
    size_t len;
    unsigned char *buf = sample(&len);
    buf = realloc(buf, len + 3);
    memcpy(buf + len, "xyz", 3);
    for (size_t extra = 1; extra <= 3; extra++) {
        assert_int_equal(read_all(buf, len + extra), -1);
        char want[128];
        snprintf(want, sizeof want, "trace 't': corrupted: bytes after the end of the compressed data, from byte %zu",
                 len);
        assert_string_equal(mv_last_error(), want);
    }
    free(buf);
}

static void test_every_prefix_is_an_error(void **state)
{
    (void)state;
    size_t len;
    unsigned char *buf = sample(&len);
    assert_int_equal(read_all(buf, len), 0);
    for (size_t n = 0; n < len; n++) {
        if (read_all(buf, n) != -1)
            fail_msg("a %zu-byte prefix of a %zu-byte trace was accepted", n, len);
        const char *e = mv_last_error();
        if (n == 0)
            assert_non_null(strstr(e, "empty file"));
        else if (n >= TRACE_PREAMBLE)
            assert_true(strstr(e, "truncated") || strstr(e, "corrupted"));
    }
    free(buf);
}

/* A digest of everything the records say (FNV-1a over their fields). */
static uint64_t digest(const unsigned char *buf, size_t len, int *rc)
{
    uint64_t h = 0xcbf29ce484222325ull;
#define MIX(v) (h = (h ^ (uint64_t)(v)) * 0x100000001b3ull)
    struct trace_reader *r = trace_open_mem(buf, len, "t");
    *rc = -1;
    if (!r)
        return 0;
    struct trace_rec x;
    while ((*rc = trace_next(r, &x)) == 1) {
        MIX(x.kind); MIX(x.t); MIX(x.pid); MIX(x.child); MIX(x.flags); MIX(x.addr); MIX(x.len);
        MIX(x.new_addr); MIX(x.new_len); MIX(x.prot); MIX(x.dev); MIX(x.ino); MIX(x.pgoff);
        MIX(x.start_brk); MIX(x.pt.bytes); MIX(x.nseg); MIX(x.nref);
        for (uint32_t i = 0; i < x.nseg; i++) {
            MIX(x.seg[i].start); MIX(x.seg[i].len); MIX(x.seg[i].prot); MIX(x.seg[i].ino);
        }
        for (uint32_t i = 0; i < x.nref; i++)
            MIX(x.ref[i]);
    }
    trace_close(r);
#undef MIX
    return h;
}

/* zstd's content checksum guards what the trace says: every flipped bit is
 * an error, unless it changed no record at all (a bit the decoder ignores). */
static void test_every_flipped_byte_is_caught(void **state)
{
    (void)state;
    size_t len;
    unsigned char *buf = sample(&len);
    int rc;
    uint64_t good = digest(buf, len, &rc);
    assert_int_equal(rc, 0);
    unsigned harmless = 0, caught = 0;
    for (size_t i = 0; i < len; i++)
        for (unsigned bit = 0; bit < 8; bit++) {
            buf[i] ^= (unsigned char)(1u << bit);
            uint64_t d = digest(buf, len, &rc);
            if (rc == 0 && d != good)
                fail_msg("flipping bit %u of byte %zu changed the records unnoticed", bit, i);
            harmless += rc == 0;
            caught += rc != 0;
            buf[i] ^= (unsigned char)(1u << bit);
        }
    assert_true(caught > 20 * harmless);
    /* where it says so */
    buf[len - 1] ^= 0x40;                 /* the frame's checksum */
    assert_int_equal(read_all(buf, len), -1);
    assert_non_null(strstr(mv_last_error(), "checksum"));
    free(buf);
}

static void test_version_magic_empty(void **state)
{
    (void)state;
    size_t len;
    unsigned char *buf = sample(&len);
    buf[8] = 2;
    assert_null(trace_open_mem(buf, len, "v2.mvt"));
    assert_non_null(strstr(mv_last_error(), "version 2"));
    assert_non_null(strstr(mv_last_error(), "v2.mvt"));
    buf[8] = TRACE_VERSION;
    buf[0] = 'X';
    assert_null(trace_open_mem(buf, len, "m.mvt"));
    assert_non_null(strstr(mv_last_error(), "not a memvirt trace"));
    assert_null(trace_open_mem(buf, 0, "e.mvt"));
    assert_non_null(strstr(mv_last_error(), "empty file"));
    free(buf);
    assert_null(trace_open("/nonexistent/dir/x.mvt"));
    assert_non_null(strstr(mv_last_error(), "cannot open"));
}

/* A well-formed zstd frame without its content checksum is refused: the
 * format requires one (libzstd would read it happily and nothing would
 * guard the records). The same records with the checksum read back. */
static void test_frame_without_checksum(void **state)
{
    (void)state;
    size_t len;
    unsigned char *buf = sample(&len);
    unsigned long long raw_len = ZSTD_getFrameContentSize(buf + TRACE_PREAMBLE, len - TRACE_PREAMBLE);
    assert_true(raw_len != ZSTD_CONTENTSIZE_ERROR && raw_len != ZSTD_CONTENTSIZE_UNKNOWN);
    unsigned char *raw = malloc(raw_len);
    assert_int_equal(ZSTD_decompress(raw, raw_len, buf + TRACE_PREAMBLE, len - TRACE_PREAMBLE), raw_len);
    for (int ck = 0; ck <= 1; ck++) {
        size_t cap = TRACE_PREAMBLE + ZSTD_compressBound(raw_len);
        unsigned char *out = malloc(cap);
        memcpy(out, buf, TRACE_PREAMBLE);
        ZSTD_CCtx *cz = ZSTD_createCCtx();
        ZSTD_CCtx_setParameter(cz, ZSTD_c_checksumFlag, ck);
        size_t n = ZSTD_compress2(cz, out + TRACE_PREAMBLE, cap - TRACE_PREAMBLE, raw, raw_len);
        assert_false(ZSTD_isError(n));
        ZSTD_freeCCtx(cz);
        struct trace_reader *r = trace_open_mem(out, TRACE_PREAMBLE + n, "nock.mvt");
        if (!ck) {
            assert_null(r);
            assert_non_null(strstr(mv_last_error(), "no content checksum"));
            assert_non_null(strstr(mv_last_error(), "nock.mvt"));
        } else {
            assert_non_null(r);
            struct trace_rec x;
            int rc;
            while ((rc = trace_next(r, &x)) == 1)
                ;
            assert_int_equal(rc, 0);
            trace_close(r);
        }
        free(out);
    }
    free(raw);
    free(buf);
}

/* sample()'s records, decompressed: everything between the preamble and the
 * zstd frame's end. */
static unsigned char *sample_raw(size_t *rawlen)
{
    size_t len;
    unsigned char *buf = sample(&len);
    unsigned long long n = ZSTD_getFrameContentSize(buf + TRACE_PREAMBLE, len - TRACE_PREAMBLE);
    assert_true(n != ZSTD_CONTENTSIZE_ERROR && n != ZSTD_CONTENTSIZE_UNKNOWN);
    unsigned char *raw = malloc(n + 64);      /* room for a record or two more */
    assert_int_equal(ZSTD_decompress(raw, n, buf + TRACE_PREAMBLE, len - TRACE_PREAMBLE), n);
    free(buf);
    /* it ends with the end record: kind 0, count 12 */
    assert_int_equal(raw[n - 2], TR_END);
    assert_int_equal(raw[n - 1], 12);
    *rawlen = n;
    return raw;
}

/* Read raw records framed as a trace: the preamble, then one zstd frame with
 * its checksum, so the checksum passes and only the reader's own rules can
 * refuse the content. 0 if the whole trace reads, else -1 with the error
 * containing want. */
static int read_framed(const unsigned char *raw, size_t rawlen, const char *want)
{
    size_t cap = TRACE_PREAMBLE + ZSTD_compressBound(rawlen);
    unsigned char *out = malloc(cap);
    memcpy(out, TRACE_MAGIC, 8);
    out[8] = TRACE_VERSION, out[9] = 0, out[10] = out[11] = 0;
    ZSTD_CCtx *cz = ZSTD_createCCtx();
    ZSTD_CCtx_setParameter(cz, ZSTD_c_checksumFlag, 1);
    size_t n = ZSTD_compress2(cz, out + TRACE_PREAMBLE, cap - TRACE_PREAMBLE, raw, rawlen);
    assert_false(ZSTD_isError(n));
    ZSTD_freeCCtx(cz);
    int rc = read_all(out, TRACE_PREAMBLE + n);
    free(out);
    if (rc == 1 || (rc == 0) != (want == NULL))
        fail_msg("expected %s, the reader returned %d (%s)", want ? want : "success", rc,
                 rc ? mv_last_error() : "no error");
    if (want && !strstr(mv_last_error(), want))
        fail_msg("expected \"%s\", got \"%s\"", want, mv_last_error());
    return rc;
}

/* A header of two entries, then the end record: keys a and b. */
static size_t header_only(unsigned char *raw, const char *a, const char *b)
{
    size_t n = 0;
    raw[n++] = TR_HEADER;
    n += varint_put(raw + n, 2);
    const char *s[4] = { a, "1", b, "2" };
    for (int i = 0; i < 4; i++) {
        n += varint_put(raw + n, strlen(s[i]));
        memcpy(raw + n, s[i], strlen(s[i]));
        n += strlen(s[i]);
    }
    raw[n++] = TR_END;
    n += varint_put(raw + n, 0);
    return n;
}

/* A key given twice in the header: which value holds? Refused. */
static void test_duplicate_header_key(void **state)
{
    (void)state;
    unsigned char raw[64];
    read_framed(raw, header_only(raw, "source", "command"), NULL);
    read_framed(raw, header_only(raw, "source", "source"), "header (record 0)");
    read_framed(raw, header_only(raw, "source", "source"), "duplicate header key 'source'");
}

/* A single-reference batch at addr (relative to 0), then the end record,
 * in place of the sample's end record; returns the new length. */
static size_t append_ref(unsigned char *raw, size_t rawlen, uint64_t addr)
{
    size_t n = rawlen - 2;
    raw[n++] = TR_REFS;
    n += varint_put(raw + n, 0);                                  /* dt */
    n += varint_put(raw + n, 7);                                  /* pid */
    n += varint_put(raw + n, 1);                                  /* one reference */
    n += varint_put(raw + n, zigzag((int64_t)(addr >> 3)) << 2 | TRR_READ);
    raw[n++] = TR_END;
    n += varint_put(raw + n, 13);
    return n;
}

/* An anonymous mmap of thread 7 at page `page`, `pages` long, then the end
 * record, in place of the sample's end record; returns the new length. */
static size_t append_mmap(unsigned char *raw, size_t rawlen, uint64_t page, uint64_t pages)
{
    size_t n = rawlen - 2;
    raw[n++] = TR_MMAP;
    n += varint_put(raw + n, 0);                                  /* dt */
    n += varint_put(raw + n, 7);                                  /* pid */
    n += varint_put(raw + n, page);
    n += varint_put(raw + n, pages);
    n += varint_put(raw + n, TRP_READ | TRP_WRITE);
    n += varint_put(raw + n, TRM_ANON);
    raw[n++] = TR_END;
    n += varint_put(raw + n, 13);
    return n;
}

/* A fork by thread 7 of child 99 with `flags`, then the end record, in
 * place of the sample's end record; returns the new length. */
static size_t append_fork(unsigned char *raw, size_t rawlen, uint32_t flags)
{
    size_t n = rawlen - 2;
    raw[n++] = TR_FORK;
    n += varint_put(raw + n, 0);                                  /* dt */
    n += varint_put(raw + n, 7);                                  /* pid */
    n += varint_put(raw + n, 99);                                 /* child */
    n += varint_put(raw + n, flags);
    raw[n++] = TR_END;
    n += varint_put(raw + n, 13);
    return n;
}

/* Content the checksum cannot refuse, since it was framed that way: each
 * rule of the reader that sees only the records refuses its case. */
static void test_well_framed_bad_content(void **state)
{
    (void)state;
    size_t len;
    unsigned char *raw = sample_raw(&len);
    read_framed(raw, len, NULL);                                  /* reframed as is: reads */

    raw[len - 1] = 11;                                            /* the end record's count */
    read_framed(raw, len, "record 13 at byte");
    read_framed(raw, len, "the end record's count does not match the records read");
    raw[len - 1] = 13;
    read_framed(raw, len, "the end record's count does not match the records read");
    raw[len - 1] = 12;

    raw[len] = TR_END;                                            /* a second end record */
    raw[len + 1] = 12;
    read_framed(raw, len + 2, "data after the end record");
    read_framed(raw, len + 1, "data after the end record");      /* one stray byte */

    uint64_t top = TRACE_USER_END - 8;                            /* the last 8 bytes of user space */
    read_framed(raw, append_ref(raw, len, top), NULL);
    read_framed(raw, append_ref(raw, len, TRACE_USER_END), "reference outside the user address space");
    read_framed(raw, append_ref(raw, len, 1ull << 60), "reference outside the user address space");
    /* a bad field of a record names the record's kind and thread */
    read_framed(raw, append_mmap(raw, len, 0x400, 2), NULL);
    read_framed(raw, append_mmap(raw, len, 0x400, 0), "record 13 at byte");
    read_framed(raw, append_mmap(raw, len, 0x400, 0), "(mmap, thread 7): empty range (a length of 0 pages)");
    read_framed(raw, append_mmap(raw, len, (TRACE_USER_END >> 12) - 1, 2),
                "(mmap, thread 7): range runs past the end of the user address space");
    /* a thread shares its parent's memory: clone(2) refuses CLONE_THREAD
     * without CLONE_VM (EINVAL), and the reader the record */
    read_framed(raw, append_fork(raw, len, TRF_THREAD | TRF_VM), NULL);
    read_framed(raw, append_fork(raw, len, TRF_VM | TRF_VFORK), NULL);
    read_framed(raw, append_fork(raw, len, 0), NULL);
    read_framed(raw, append_fork(raw, len, TRF_THREAD),
                "(fork, thread 7): a thread (CLONE_THREAD) that does not share its parent's memory (no CLONE_VM)");
    read_framed(raw, append_fork(raw, len, TRF_THREAD | TRF_VFORK), "no CLONE_VM");
    free(raw);
}

/* The reader refuses an exec layout the guest kernel could not load. */
static void test_bad_layout_refused(void **state)
{
    (void)state;
    struct trace_seg seg[2] = {
        { 0x400000, 0x3000, 5, TRS_FILE, 0, 1, 2, 0 },
        { 0x401000, 0x1000, 3, TRS_STACK, 0, 0, 0, 0 },       /* overlaps the first */
    };
    struct trace_writer *w = trace_writer_mem(K, V, 2);
    struct trace_rec r = { .kind = TR_EXEC, .pid = 1, .path = "x", .seg = seg, .nseg = 2 };
    assert_int_equal(trace_write(w, &r), 0);
    size_t len;
    unsigned char *buf = finish(w, &len);
    assert_int_equal(read_all(buf, len), -1);
    assert_non_null(strstr(mv_last_error(), "overlap"));
    free(buf);
    seg[1].start = 0x500000;
    seg[1].kind = TRS_ANON;                                   /* no stack */
    w = trace_writer_mem(K, V, 2);
    assert_int_equal(trace_write(w, &r), 0);
    buf = finish(w, &len);
    assert_int_equal(read_all(buf, len), -1);
    assert_non_null(strstr(mv_last_error(), "stack"));
    free(buf);
    seg[1].kind = TRS_STACK;
    seg[1].prot = TRP_READ;                                   /* exec could not write the arguments */
    w = trace_writer_mem(K, V, 2);
    assert_int_equal(trace_write(w, &r), 0);
    buf = finish(w, &len);
    assert_int_equal(read_all(buf, len), -1);
    assert_non_null(strstr(mv_last_error(), "stack not readable and writable"));
    free(buf);
    /* the builder gives such an exec a default stack instead */
    w = trace_writer_mem(K, V, 2);
    struct build *b = build_new(w);
    assert_int_equal(build_exec(b, 1, 1, "x", seg, 2, 0), 0);
    assert_int_equal(build_count(b, BC_NO_STACK), 1);
    build_free(b);
    buf = finish(w, &len);
    assert_int_equal(read_all(buf, len), 0);
    free(buf);
}

/* Many times the reader's window: streamed through, every reference intact. */
static void test_large_trace_streams(void **state)
{
    (void)state;
    char path[64];
    tu_tmpname(path, sizeof path, "trace");
    struct trace_writer *w = trace_writer_open(path, K, V, 2);
    assert_non_null(w);
    const uint64_t n = 3000000;
    for (uint64_t i = 0; i < n; i++)
        assert_int_equal(trace_write_ref(w, i, (uint32_t)(1 + i / 100000), ((i * 2654435761ull) % (1ull << 40)) << 3), 0);
    assert_int_equal(trace_writer_commit(w), 0);
    struct trace_reader *r = trace_open(path);
    assert_non_null(r);
    struct trace_rec x;
    uint64_t i = 0;
    while (trace_next(r, &x) == 1)
        for (uint32_t k = 0; k < x.nref; k++, i++)
            if (x.ref[k] != ((i * 2654435761ull) % (1ull << 40)) << 3)
                fail_msg("reference %llu differs", (unsigned long long)i);
    assert_int_equal(i, n);
    trace_close(r);
    assert_int_equal(trace_verify(path), 0);
    unlink(path);
}

/* An aborted writer leaves nothing; a committed one leaves exactly the file. */
static void test_abort_leaves_nothing(void **state)
{
    (void)state;
    char dir[] = "/tmp/memvirt-test-abort-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[128];
    snprintf(path, sizeof path, "%s/out.mvt", dir);
    struct trace_writer *w = trace_writer_open(path, K, V, 2);
    assert_non_null(w);
    struct trace_rec r = { .kind = TR_SPAWN, .pid = 1 };
    assert_int_equal(trace_write(w, &r), 0);
    trace_writer_abort(w);
    assert_int_equal(rmdir(dir), 0);          /* empty: no temporary file left */
}

/* The builder: what a kernel would refuse stays out, and is counted. */
static void test_builder_filters(void **state)
{
    (void)state;
    struct trace_writer *w = trace_writer_mem(K, V, 2);
    struct build *b = build_new(w);
    struct trace_seg seg[] = {
        { 0x400000, 0x2000, TRP_READ | TRP_EXEC, TRS_FILE, 0, 1, 2, 0 },
        { 0x401000, 0x1000, TRP_READ, TRS_FILE, 0, 1, 2, 1 },     /* replaces part of the first */
        { 0x7ffffffde000ull, 0x21000, TRP_READ | TRP_WRITE, TRS_STACK, 0, 0, 0, 0 },
    };
    assert_int_equal(build_exec(b, 100, 5, "/bin/x", seg, 3, 0x600000), 0);
    assert_true(build_known(b, 5));
    assert_int_equal(build_ref(b, 101, 5, 0x400010, TRR_EXEC), 0);
    assert_int_equal(build_ref(b, 102, 5, 0x401010, TRR_EXEC), 0);    /* now r-- */
    assert_int_equal(build_ref(b, 103, 5, 0x900000, TRR_READ), 0);    /* nothing there */
    assert_int_equal(build_ref(b, 104, 5, 0x7ffffffdd010ull, TRR_WRITE), 0);   /* the stack grows */
    assert_int_equal(build_mprotect(b, 105, 5, 0x800000, 0x1000, 1), 0);      /* unmapped: refused */
    assert_int_equal(build_mprotect(b, 105, 5, 0x800000, 0, 1), 0);           /* length 0: Linux's no-op */
    assert_int_equal(build_mprotect(b, 105, 5, 0x800010, 0, 1), 0);           /* unaligned: EINVAL */
    assert_int_equal(build_mprotect(b, 105, 5, 0x400000, ~0ull - 10, 1), 0);   /* rounds up to 0: ENOMEM */
    assert_int_equal(build_mremap(b, 105, 5, 0x400000, 0, 0x900000, 0x1000), 0);   /* a duplicate */
    assert_int_equal(build_brk(b, 106, 5, 0x610000), 0);
    assert_int_equal(build_ref(b, 107, 5, 0x608000, TRR_WRITE), 0);           /* the heap */
    assert_int_equal(build_fork(b, 108, 5, 6, TRF_VM | TRF_VFORK), 0);
    assert_int_equal(build_mmap(b, 109, 6, 0x700000, 0x1000, 3, TRM_ANON, 0, 0, 0), 0);
    assert_int_equal(build_ref(b, 110, 5, 0x700000, TRR_WRITE), 0);           /* shared mm: mapped for 5 */
    assert_int_equal(build_ref(b, 111, 42, 0x700000, TRR_WRITE), 0);          /* unknown pid */
    /* an exec that does not know its heap start: the first break is the
     * start, growth becomes an anonymous mapping (not a heap from 0) */
    assert_int_equal(build_exec(b, 112, 9, "/bin/y", seg, 3, 0), 0);
    assert_int_equal(build_brk(b, 113, 9, 0x650000), 0);
    assert_int_equal(build_brk(b, 114, 9, 0x652000), 0);
    assert_int_equal(build_ref(b, 115, 9, 0x651000, TRR_WRITE), 0);           /* in the heap */
    assert_int_equal(build_ref(b, 116, 9, 0x500000, TRR_WRITE), 0);           /* below it: nothing */
    assert_int_equal(build_ptinfo(b, 5, 0x7fffffffe000ull, 0, 8192), 0);
    assert_int_equal(build_ptinfo(b, 5, 0x100000, 0, 8192), 1);               /* no such image */
    assert_int_equal(build_count(b, BC_REFS), 5);
    assert_int_equal(build_count(b, BC_REF_PROT), 1);
    assert_int_equal(build_count(b, BC_REF_UNMAPPED), 2);
    assert_int_equal(build_count(b, BC_STACK_GROW), 1);
    assert_int_equal(build_count(b, BC_CALL_REFUSED), 3);
    assert_int_equal(build_count(b, BC_NOOP), 1);
    assert_int_equal(build_count(b, BC_MREMAP_DUP), 1);
    assert_int_equal(build_count(b, BC_UNKNOWN_PID), 1);
    build_free(b);
    size_t len;
    unsigned char *buf = finish(w, &len);
    struct trace_reader *r = trace_open_mem(buf, len, "b");
    struct trace_rec x;
    assert_int_equal(trace_next(r, &x), 1);
    assert_int_equal(x.kind, TR_SPAWN);
    assert_int_equal(x.t, 0);                 /* time starts at the first event */
    assert_int_equal(trace_next(r, &x), 1);
    assert_int_equal(x.kind, TR_EXEC);
    assert_int_equal(x.nseg, 3);              /* r-x, r--, stack: the overlap resolved */
    assert_int_equal(x.seg[0].len, 0x1000);
    assert_int_equal(x.seg[1].prot, TRP_READ);
    assert_int_equal(x.seg[1].pgoff, 1);
    trace_close(r);
    free(buf);
}

/* The builder merges neighbouring VMAs as Linux and the guest do: a
 * mapping grown in place, then moved whole, is one VMA (realloc does this);
 * file mappings merge only with contiguous offsets; the exec'd stack never
 * merges. */
static void test_builder_merges(void **state)
{
    (void)state;
    struct trace_writer *w = trace_writer_mem(K, V, 2);
    struct build *b = build_new(w);
    struct trace_seg seg[] = {
        { 0x400000, 0x1000, TRP_READ | TRP_EXEC, TRS_FILE, 0, 1, 2, 0 },
        { 0x7ffffffde000ull, 0x21000, TRP_READ | TRP_WRITE, TRS_STACK, 0, 0, 0, 0 },
    };
    const uint64_t A = 0x7f0000000000ull, B = 0x7f1000000000ull, F = 0x7f2000000000ull;
    assert_int_equal(build_exec(b, 1, 5, "/bin/x", seg, 2, 0x600000), 0);
    assert_int_equal(build_mmap(b, 2, 5, A, 0x2000, 3, TRM_ANON, 0, 0, 0), 0);
    assert_int_equal(build_mremap(b, 3, 5, A, 0x2000, A, 0x4000), 0);           /* grows in place */
    assert_int_equal(build_mremap(b, 4, 5, A, 0x4000, B, 0x8000), 0);           /* the whole: one VMA */
    assert_int_equal(build_mremap(b, 5, 5, B, 0x8000, B, 0x10000), 0);         /* and again */
    assert_int_equal(build_count(b, BC_CALL_REFUSED), 0);
    /* two mmaps side by side with the same protection are one VMA */
    assert_int_equal(build_mmap(b, 6, 5, A, 0x1000, 3, TRM_ANON, 0, 0, 0), 0);
    assert_int_equal(build_mmap(b, 7, 5, A + 0x1000, 0x1000, 3, TRM_ANON, 0, 0, 0), 0);
    assert_int_equal(build_mremap(b, 8, 5, A, 0x2000, A + 0x100000, 0x2000), 0);
    assert_int_equal(build_count(b, BC_CALL_REFUSED), 0);
    /* file pages 0-1 and 2-3 of one file merge; 5 after 3 does not */
    assert_int_equal(build_mmap(b, 9, 5, F, 0x2000, 1, 0, 7, 8, 0), 0);
    assert_int_equal(build_mmap(b, 10, 5, F + 0x2000, 0x2000, 1, 0, 7, 8, 2), 0);
    assert_int_equal(build_mmap(b, 11, 5, F + 0x4000, 0x1000, 1, 0, 7, 8, 5), 0);
    assert_int_equal(build_mremap(b, 12, 5, F, 0x4000, F + 0x100000, 0x4000), 0);
    assert_int_equal(build_count(b, BC_CALL_REFUSED), 0);
    assert_int_equal(build_mremap(b, 13, 5, F + 0x100000, 0x4000, F, 0x4000), 0);
    assert_int_equal(build_mremap(b, 14, 5, F, 0x5000, F + 0x200000, 0x5000), 0);
    assert_int_equal(build_count(b, BC_CALL_REFUSED), 1);                        /* offsets 0-3 and 5 */
    /* mprotect then back: split, then merged again */
    assert_int_equal(build_mprotect(b, 15, 5, B + 0x4000, 0x1000, 1), 0);
    assert_int_equal(build_mprotect(b, 16, 5, B + 0x4000, 0x1000, 3), 0);
    assert_int_equal(build_mremap(b, 17, 5, B, 0x10000, A + 0x400000, 0x10000), 0);
    assert_int_equal(build_count(b, BC_CALL_REFUSED), 1);
    /* the stack exec made and an anonymous mapping right below it stay two */
    assert_int_equal(build_mmap(b, 18, 5, 0x7ffffffdd000ull, 0x1000, 3, TRM_ANON, 0, 0, 0), 0);
    assert_int_equal(build_mremap(b, 19, 5, 0x7ffffffdd000ull, 0x2000, A + 0x800000, 0x2000), 0);
    assert_int_equal(build_count(b, BC_CALL_REFUSED), 2);
    /* a file mapping past 2^32 pages of its file: the reader would refuse it */
    assert_int_equal(build_mmap(b, 20, 5, F, 0x2000, 1, 0, 7, 9, TRACE_FILE_PAGES - 1), 0);
    assert_int_equal(build_count(b, BC_CALL_REFUSED), 3);
    assert_int_equal(build_mmap(b, 21, 5, F, 0x2000, 1, 0, 7, 9, TRACE_FILE_PAGES - 2), 0);
    assert_int_equal(build_mremap(b, 22, 5, F, 0x2000, F, 0x3000), 0);          /* would pass it */
    assert_int_equal(build_count(b, BC_CALL_REFUSED), 4);
    build_free(b);
    size_t len;
    free(finish(w, &len));
}

/* The layout every `trace info` test execs: a page of program, a stack. */
static const struct trace_seg INFO_SEG[2] = {
    { 0x400000, 0x1000, TRP_READ | TRP_EXEC, TRS_FILE, 0, 1, 2, 0 },
    { 0x7ffffffde000ull, 0x21000, TRP_READ | TRP_WRITE, TRS_STACK, 0, 0, 0, 0 },
};

/* `memvirt trace info PATH` with its standard output (`err`: its standard
 * error instead) into out; PATH removed. Its wait status. */
static int trace_info_status(const char *mv, const char *path, int err, char *out, size_t len)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "'%s' trace info '%s' %s", mv, path, err ? "2>&1 >/dev/null" : "2>/dev/null");
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t n = fread(out, 1, len - 1, p);
    out[n] = 0;
    int st = pclose(p);
    unlink(path);
    return st;
}

/* The same, and it must exit 0. */
static void trace_info(const char *mv, const char *path, char *out, size_t len)
{
    assert_int_equal(trace_info_status(mv, path, 0, out, len), 0);
}

/* `trace info` compares the guest's page-table pages with the recorded
 * VmPTE, and says so when they differ: one image whose real count is right
 * (6: an L3, L2 and L1 for the program and again for the stack), one wrong. */
static void test_info_compares(void **state)
{
    (void)state;
    const char *mv = getenv("MEMVIRT");
    if (!mv)
        skip();
    char path[64];
    tu_tmpname(path, sizeof path, "info");
    struct trace_writer *w = trace_writer_open(path, K, V, 2);
    uint64_t refs[2] = { 0x400000 | TRR_EXEC, 0x7fffffffe000ull | TRR_WRITE };
    for (uint32_t pid = 1; pid <= 2; pid++) {
        struct trace_rec r[] = {
            { .kind = TR_SPAWN, .pid = pid },
            { .kind = TR_EXEC, .pid = pid, .path = pid == 1 ? "/right" : "/wrong", .seg = INFO_SEG, .nseg = 2 },
            { .kind = TR_REFS, .pid = pid, .ref = refs, .nref = 2 },
            { .kind = TR_EXIT, .pid = pid },
            { .kind = TR_PTINFO, .pid = pid, .pt = { 1, 0, pid == 1 ? 6 * 4096 : 9 * 4096 } },
        };
        for (unsigned i = 0; i < 5; i++)
            assert_int_equal(trace_write(w, &r[i]), 0);
    }
    assert_int_equal(trace_writer_commit(w), 0);
    char out[8192];
    trace_info(mv, path, out, sizeof out);
    assert_non_null(strstr(out, "within one page: 1 of 2 images"));
    assert_non_null(strstr(out, "        6         6     +0  /right"));
    assert_non_null(strstr(out, "        9         6     -3  /wrong"));
}

/* `memvirt ARGS PATH ARGS2` with its standard error into out (PATH kept).
 * Its wait status. */
static int mv_status(const char *mv, const char *args, const char *path, const char *args2, char *out, size_t len)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "'%s' %s '%s' %s 2>&1 >/dev/null", mv, args, path, args2);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t n = fread(out, 1, len - 1, p);
    out[n] = 0;
    return pclose(p);
}

/* Page-table figures of an image the trace never made are refused at
 * their record (src/trace/check.c), by `trace info` and by `run` alike,
 * before any replay: they were a row of a process that never ran (info),
 * and run replayed them without a word. A pid never spawned; an image
 * past the execs made; image 0 of a thread, which made none; and, taken,
 * the figures of an exited process, and of an image an earlier holder of
 * a reused pid made. */
static void test_info_phantom_image(void **state)
{
    (void)state;
    const char *mv = getenv("MEMVIRT");
    if (!mv)
        skip();
    static const struct { uint32_t pid, seq; int ok; } c[] = {
        { 3, 0, 0 },   /* never spawned */
        { 1, 2, 0 },   /* exec'd once */
        { 2, 0, 0 },   /* a thread: no image 0 */
        { 1, 1, 1 },   /* its own, after its exit */
        { 4, 2, 1 },   /* made by the pid's first holder, which exec'd twice */
        { 0, 0, 1 },   /* pid 0 and 2^32 - 1 are pids like others (the table keys on them) */
        { UINT32_MAX, 0, 1 },
        { UINT32_MAX, 1, 0 },
    };
    for (unsigned b = 0; b < sizeof c / sizeof c[0]; b++) {
        char path[64], err[1024];
        tu_tmpname(path, sizeof path, "phantom");
        struct trace_writer *w = trace_writer_open(path, K, V, 2);
        struct trace_rec r[] = {
            { .kind = TR_SPAWN, .pid = 1 },
            { .kind = TR_EXEC, .pid = 1, .path = "/x", .seg = INFO_SEG, .nseg = 2 },
            { .kind = TR_FORK, .pid = 1, .child = 2, .flags = TRF_THREAD | TRF_VM },
            { .kind = TR_EXIT, .pid = 2 },
            { .kind = TR_SPAWN, .pid = 4 },
            { .kind = TR_EXEC, .pid = 4, .path = "/x", .seg = INFO_SEG, .nseg = 2 },
            { .kind = TR_EXEC, .pid = 4, .path = "/x", .seg = INFO_SEG, .nseg = 2 },
            { .kind = TR_EXIT, .pid = 4 },
            { .kind = TR_SPAWN, .pid = 4 },   /* pid 4 again: images 0 only, so far */
            { .kind = TR_EXIT, .pid = 4 },
            { .kind = TR_EXIT, .pid = 1 },
            { .kind = TR_SPAWN, .pid = 0 },
            { .kind = TR_EXIT, .pid = 0 },
            { .kind = TR_SPAWN, .pid = UINT32_MAX },
            { .kind = TR_EXIT, .pid = UINT32_MAX },
            { .kind = TR_PTINFO, .pid = 1, .pt = { 1, 0, 6 * 4096 } },   /* its own: fine */
            { .kind = TR_PTINFO, .pid = c[b].pid, .pt = { c[b].seq, 0, 4096 } },
        };
        const unsigned n = sizeof r / sizeof r[0];
        for (unsigned i = 0; i < n; i++)
            assert_int_equal(trace_write(w, &r[i]), 0);
        assert_int_equal(trace_writer_commit(w), 0);
        char want[200];
        snprintf(want, sizeof want, "record %u at byte", n);
        char why[200];
        snprintf(why, sizeof why, "(ptinfo, thread %u): page-table figures of image %u of a process the trace "
                 "never started or exec'd that often", c[b].pid, c[b].seq);
        static const char *const cmd[][2] = { { "trace info", "" }, { "run --mode native --quiet --trace", "" },
                                             { "compare --modes native,hap --quiet --trace", "" } };
        for (unsigned k = 0; k < 3; k++) {
            int st = mv_status(mv, cmd[k][0], path, cmd[k][1], err, sizeof err);
            if (c[b].ok) {
                if (WEXITSTATUS(st) != 0 || strstr(err, "ptinfo"))
                    fail_msg("case %u, %s: exit %d, '%s'", b, cmd[k][0], WEXITSTATUS(st), err);
                continue;
            }
            if (WEXITSTATUS(st) != 2)   /* bad input, as any refused trace */
                fail_msg("case %u, %s: exit %d, not 2: '%s'", b, cmd[k][0], WEXITSTATUS(st), err);
            if (!strstr(err, want) || !strstr(err, why) || strchr(err, '\n') != err + strlen(err) - 1)
                fail_msg("case %u, %s: not the one line naming the record: '%s'", b, cmd[k][0], err);
        }
        unlink(path);
    }
}

/* `trace info` counts pages per process: pids whose keys once collided
 * (pid << 36 lost bits 28 and up and shared bit 63 with the map's marker:
 * 1, 1 + 2^27, 1 + 2^28 and 1 + 2^31 were one process) each count their own
 * page; a page touched twice counts once, a neighbour in the same 64-page
 * word of the bitmap counts too. */
static void test_info_pages_per_process(void **state)
{
    (void)state;
    const char *mv = getenv("MEMVIRT");
    if (!mv)
        skip();
    char path[64];
    tu_tmpname(path, sizeof path, "pages");
    struct trace_writer *w = trace_writer_open(path, K, V, 2);
    uint64_t one[1] = { 0x7fffffffe000ull | TRR_WRITE };
    uint64_t three[3] = { 0x7fffffffe000ull | TRR_WRITE, 0x7fffffffd000ull | TRR_WRITE,
                          0x7fffffffe008ull | TRR_READ };
    const uint32_t pids[] = { 1, 1 + (1u << 27), 1 + (1u << 28), 1 + (1u << 31) };
    for (unsigned j = 0; j < 4; j++) {
        struct trace_rec r[] = {
            { .kind = TR_SPAWN, .pid = pids[j] },
            { .kind = TR_EXEC, .pid = pids[j], .path = "/x", .seg = INFO_SEG, .nseg = 2 },
            { .kind = TR_REFS, .pid = pids[j], .ref = j ? one : three, .nref = j ? 1 : 3 },
            { .kind = TR_EXIT, .pid = pids[j] },
        };
        for (unsigned i = 0; i < 4; i++)
            assert_int_equal(trace_write(w, &r[i]), 0);
    }
    assert_int_equal(trace_writer_commit(w), 0);
    char out[8192];
    trace_info(mv, path, out, sizeof out);
    assert_non_null(strstr(out, "references 6 (read 1, write 5, fetch 0)"));
    if (!strstr(out, "pages touched 5 "))
        fail_msg("expected 5 pages touched:\n%s", out);
}

/* `trace info` keeps one row per process image: pids p and p + 2^31 are
 * two (the image key pid << 32 | seq had a marker bit set at bit 63, which
 * is the pid's bit 31: the two were one row, one VmPTE overwriting the
 * other's). */
static void test_info_images_by_pid(void **state)
{
    (void)state;
    const char *mv = getenv("MEMVIRT");
    if (!mv)
        skip();
    char path[64];
    tu_tmpname(path, sizeof path, "imgkey");
    struct trace_writer *w = trace_writer_open(path, K, V, 2);
    const uint32_t pids[] = { 5, 5 + (1u << 31) };
    for (unsigned j = 0; j < 2; j++) {
        struct trace_rec r[] = {
            { .kind = TR_SPAWN, .pid = pids[j] },
            { .kind = TR_EXEC, .pid = pids[j], .path = j ? "/high" : "/low", .seg = INFO_SEG, .nseg = 2 },
            { .kind = TR_EXIT, .pid = pids[j] },
            { .kind = TR_PTINFO, .pid = pids[j], .pt = { 1, 0, (6 + j) * 4096 } },
        };
        for (unsigned i = 0; i < 4; i++)
            assert_int_equal(trace_write(w, &r[i]), 0);
    }
    assert_int_equal(trace_writer_commit(w), 0);
    char out[8192];
    trace_info(mv, path, out, sizeof out);
    if (!strstr(out, "        5    1         6 ") || !strstr(out, "  /low\n") ||
        !strstr(out, "2147483653    1         7 ") || !strstr(out, "  /high\n"))
        fail_msg("expected one row per pid (5: 6 pages, /low; 2147483653: 7 pages, /high):\n%s", out);
}

/* `trace info`'s count of pages touched has bounded memory: references one
 * page in 64 (a 64-page word of the set each) past its 2^21 words stop the
 * count, and the line says it is a lower bound and names the record (the
 * set grew with every word: an 11 KB trace of such references took 800
 * MB). The replay that follows may run the guest out of memory (exit 3). */
static void test_info_pages_bounded(void **state)
{
    (void)state;
    const char *mv = getenv("MEMVIRT");
    if (!mv)
        skip();
    char path[64], out[8192];
    tu_tmpname(path, sizeof path, "sparse");
    struct trace_writer *w = trace_writer_open(path, K, V, 2);
    const uint64_t base = 0x100000000000ull, stride = 64 * 4096;
    struct trace_rec r[] = {
        { .kind = TR_SPAWN, .pid = 100 },
        { .kind = TR_EXEC, .pid = 100, .path = "/x", .seg = INFO_SEG, .nseg = 2 },
        { .kind = TR_MMAP, .pid = 100, .addr = base, .len = 1ull << 40, .prot = TRP_READ | TRP_WRITE,
          .flags = TRM_ANON },
    };
    for (unsigned i = 0; i < 3; i++)
        assert_int_equal(trace_write(w, &r[i]), 0);
    for (uint64_t i = 0; i < (1u << 21) + 4096; i++)
        assert_int_equal(trace_write_ref(w, 0, 100, (base + i * stride) | TRR_READ), 0);
    assert_int_equal(trace_writer_commit(w), 0);
    int st = trace_info_status(mv, path, 0, out, sizeof out);
    if (!WIFEXITED(st) || (WEXITSTATUS(st) != 0 && WEXITSTATUS(st) != 3))
        fail_msg("trace info: status %d:\n%s", st, out);
    if (!strstr(out, "pages touched at least 2097152 (") || !strstr(out, "the count stopped at record "))
        fail_msg("expected the count to stop at 2^21 words:\n%s", out);
}

int main(void)
{
    mv_error_quiet(1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),          cmocka_unit_test(test_every_prefix_is_an_error),
        cmocka_unit_test(test_every_flipped_byte_is_caught), cmocka_unit_test(test_version_magic_empty),
        cmocka_unit_test(test_bad_layout_refused),  cmocka_unit_test(test_large_trace_streams),
        cmocka_unit_test(test_abort_leaves_nothing), cmocka_unit_test(test_builder_filters),
        cmocka_unit_test(test_builder_merges),      cmocka_unit_test(test_frame_without_checksum),
        cmocka_unit_test(test_info_compares),       cmocka_unit_test(test_info_pages_per_process),
        cmocka_unit_test(test_well_framed_bad_content), cmocka_unit_test(test_info_images_by_pid),
        cmocka_unit_test(test_info_pages_bounded),  cmocka_unit_test(test_info_phantom_image),
        cmocka_unit_test(test_duplicate_header_key), cmocka_unit_test(test_bytes_after_the_frame),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_reopen.c: many logs read through a bounded cache of descriptors
 * (src/trace/reopen.c) and the strace importer reading its logs that way
 * (src/trace/import_strace_logs.c):
 *  - every log reads back byte for byte, however the reads interleave,
 *    with 1, 2, 3 or all descriptors, and never more open than the cap
 *    (counted by the cache and, independently, in /proc/self/fd); a log
 *    smaller than a stream's buffer is opened once;
 *  - a host that refuses descriptors under the cap (its limit lowered
 *    here): the cache lowers its cap and goes on;
 *  - a log changed between its openings (grown, rewritten at the same
 *    size, replaced, removed, made a FIFO): one error naming it, its read
 *    ends as an error (not as the log's end), a failure outside the input;
 *    the same reads without the change succeed; a log removed before its
 *    first opening (after the command's check) is said the same way;
 *  - strace -ff logs (merged by time) and -f logs (one after the other)
 *    imported by name under caps of 1 to 3, with 4 KiB and 64-byte
 *    buffers, give the very trace they give held open; a log removed in
 *    the middle of a merge stops the import with one error naming it.
 * (tests/fuzz/fuzz_strace.c makes the same comparison on every input of
 * several logs, with one descriptor and 16-byte buffers.) */
#define _GNU_SOURCE   /* fopencookie */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include "lib/err.h"
#include "trace/import.h"
#include "trace/reader.h"
#include "trace/reopen.h"
#include "trace/writer.h"

#define NLOG 12

static char dir[64];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/memvirt-reopen.XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    DIR *d = opendir(dir);
    struct dirent *e;
    char p[384];
    while (d && (e = readdir(d)))
        if (e->d_name[0] != '.') {
            snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
            unlink(p);
        }
    if (d)
        closedir(d);
    return rmdir(dir);
}

static void put(const char *path, const char *data, size_t n)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

/* Descriptors open in this process (*top: the highest, if asked). */
static unsigned fds_open_top(int *top)
{
    DIR *d = opendir("/proc/self/fd");
    assert_non_null(d);
    unsigned n = 0;
    int self = dirfd(d), hi = -1;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.' && atoi(e->d_name) != self) {
            n++;
            if (atoi(e->d_name) > hi)
                hi = atoi(e->d_name);
        }
    closedir(d);
    if (top)
        *top = hi;
    return n;
}

static unsigned fds_open(void)
{
    return fds_open_top(NULL);
}

static uint64_t rng = 88172645463325252ull;
static unsigned next_rand(unsigned n)
{
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return (unsigned)(rng % n);
}

/* NLOG logs of varied sizes (empty, around the buffer's 4096 bytes, 20 KB;
 * NUL bytes, no final newline), their bytes in data[i], names in names[i]. */
static size_t sizes[NLOG] = { 0, 1, 100, 4095, 4096, 4097, 8192, 9000, 20000, 30001, 65536, 3 };
static char *data[NLOG], names[NLOG][96];
static const char *namep[NLOG];

static void make_logs(void)
{
    for (unsigned i = 0; i < NLOG; i++) {
        data[i] = malloc(sizes[i] + 1);
        for (size_t k = 0; k < sizes[i]; k++)
            data[i][k] = (char)(k % 61 == 60 ? '\n' : k % 97 == 5 ? 0 : 'a' + (k * 7 + i) % 26);
        snprintf(names[i], sizeof names[i], "%s/log.%u", dir, 100 + i);
        namep[i] = names[i];
        put(names[i], data[i], sizes[i]);
    }
}

static void free_logs(void)
{
    for (unsigned i = 0; i < NLOG; i++) {
        unlink(names[i]);
        free(data[i]);
    }
}

/* Read every log in random steps, interleaved; each must read back whole.
 * Returns the most descriptors seen open beyond base (0: not counted, the
 * host's limit leaves none to count with). */
static unsigned read_all(struct reopen_set *s, unsigned base, int count)
{
    size_t got[NLOG] = { 0 };
    int done[NLOG] = { 0 };
    unsigned left = NLOG, most = 0;
    char *back[NLOG];
    for (unsigned i = 0; i < NLOG; i++)
        back[i] = malloc(sizes[i] + 1);
    while (left) {
        unsigned i = next_rand(NLOG);
        if (done[i])
            continue;
        FILE *f = reopen_stream(s, i);
        assert_non_null(f);
        for (unsigned k = next_rand(3000) + 1; k-- > 0;) {
            int c = getc(f);
            assert_false(reopen_failed(s));
            if (c == EOF) {
                done[i] = 1;
                left--;
                reopen_done(s, i);
                break;
            }
            assert_true(got[i] < sizes[i]);
            back[i][got[i]++] = (char)c;
        }
        if (!count)
            continue;
        unsigned now = fds_open();
        if (now - base > most)
            most = now - base;
        assert_int_equal(now - base, reopen_open_now(s));
    }
    for (unsigned i = 0; i < NLOG; i++) {
        assert_int_equal(got[i], sizes[i]);
        if (sizes[i])
            assert_memory_equal(back[i], data[i], sizes[i]);
        free(back[i]);
    }
    return most;
}

static void test_reads_back(void **state)
{
    (void)state;
    make_logs();
    unsigned base = fds_open();
    unsigned caps[] = { 1, 2, 3, NLOG };
    for (unsigned c = 0; c < 4; c++) {
        struct reopen_set *s = reopen_set_new(namep, NLOG, caps[c], 0);
        unsigned most = read_all(s, base, 1);
        assert_true(most >= 1 && most <= caps[c]);
        assert_true(reopen_open_peak(s) <= caps[c]);
        assert_int_equal(reopen_open_now(s), 0);
        if (caps[c] == NLOG)    /* room for all: each log opened once */
            assert_int_equal(reopen_opens(s), NLOG);
        else                    /* else the large ones more than once */
            assert_true(reopen_opens(s) > NLOG);
        reopen_set_free(s);
        assert_int_equal(fds_open(), base);
    }
    /* logs smaller than the buffer, read in turns of a line: each opened
     * once (read whole, then its descriptor freed), with one descriptor */
    struct reopen_set *s = reopen_set_new(namep, 4, 1, 0);
    for (unsigned round = 0; round < 3; round++)
        for (unsigned i = 0; i < 4; i++) {
            int c;
            while ((c = getc(reopen_stream(s, i))) != EOF && c != '\n')
                ;
        }
    assert_int_equal(reopen_opens(s), 4);
    assert_int_equal(reopen_open_now(s), 0);
    reopen_set_free(s);
    free_logs();
}

/* The cap is not the host's: its limit lowered to 3 descriptors more than
 * are open now, a cap of 100 still reads everything. */
static void test_host_limit_below_cap(void **state)
{
    (void)state;
    make_logs();
    struct rlimit old, low;
    assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
    int top, fill[1024], nfill = 0;
    fds_open_top(&top);
    /* the gaps below the highest descriptor filled: 3 free ones, above it */
    for (;;) {
        assert_true(nfill < 1024);
        fill[nfill] = open("/dev/null", O_RDONLY);
        assert_true(fill[nfill] >= 0);
        if (fill[nfill] > top) {
            close(fill[nfill]);
            break;
        }
        nfill++;
    }
    unsigned base = fds_open();
    low = old;
    low.rlim_cur = (rlim_t)top + 1 + 3;
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
    struct reopen_set *s = reopen_set_new(namep, NLOG, 100, 0);
    read_all(s, base, 0);
    unsigned peak = reopen_open_peak(s), opens = (unsigned)reopen_opens(s);
    reopen_set_free(s);
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
    assert_int_equal(peak, 3);
    assert_true(opens > NLOG);        /* it had to close and reopen */
    assert_int_equal(fds_open(), base);
    while (nfill--)
        close(fill[nfill]);
    free_logs();
}

enum change { NONE, GROW, SAME_SIZE, REPLACE, REMOVE, FIFO };

/* Two 20 KB logs, one descriptor: log 0 read a little (its buffer filled,
 * its descriptor open), then log 1 (log 0 closed to make room); log 0 is
 * changed, then read on past its buffer: reopened. */
static void change_between(enum change how, const char *expect)
{
    char a[96], b[96], *big = malloc(20000);
    memset(big, 'x', 20000);
    snprintf(a, sizeof a, "%s/a.1", dir);
    snprintf(b, sizeof b, "%s/b.2", dir);
    put(a, big, 20000);
    put(b, big, 20000);
    const char *nm[2] = { a, b };
    struct reopen_set *s = reopen_set_new(nm, 2, 1, 0);
    for (int k = 0; k < 100; k++)
        assert_int_equal(getc(reopen_stream(s, 0)), 'x');
    for (int k = 0; k < 100; k++)
        assert_int_equal(getc(reopen_stream(s, 1)), 'x');
    assert_int_equal(reopen_open_now(s), 1);
    char other[96];
    snprintf(other, sizeof other, "%s/other", dir);
    struct timespec ts[2] = { { 0, UTIME_OMIT }, { 1000000000, 0 } };
    switch (how) {
    case NONE:
        break;
    case GROW: {
        FILE *f = fopen(a, "a");
        fputs("more\n", f);
        fclose(f);
        break;
    }
    case SAME_SIZE:
        big[5000] = 'y';
        put(a, big, 20000);
        assert_int_equal(utimensat(AT_FDCWD, a, ts, 0), 0);   /* a time apart from the first */
        break;
    case REPLACE:
        put(other, big, 20000);
        assert_int_equal(rename(other, a), 0);
        break;
    case REMOVE:
        assert_int_equal(unlink(a), 0);
        break;
    case FIFO:
        assert_int_equal(unlink(a), 0);
        assert_int_equal(mkfifo(a, 0600), 0);
        break;
    }
    import_failure_reset();
    mv_error_defer(1);
    size_t n = 100;
    int c;
    while ((c = getc(reopen_stream(s, 0))) == 'x')
        n++;
    mv_error_defer(0);
    char *said = mv_error_take();
    if (how == NONE) {
        assert_int_equal(c, EOF);
        assert_int_equal(n, 20000);
        assert_false(reopen_failed(s));
        assert_null(said);
        assert_int_equal(import_host_failure(0), 0);
    } else {
        assert_int_equal(c, EOF);
        assert_int_equal(n, 4096);              /* what the buffer held, then the error */
        assert_true(reopen_failed(s));
        assert_non_null(said);
        assert_non_null(strstr(said, a));
        assert_non_null(strstr(said, "changed while it was imported"));
        assert_non_null(strstr(said, expect));
        assert_ptr_equal(strchr(said, '\n'), said + strlen(said) - 1);   /* one line */
        assert_int_equal(import_host_failure(0), 1);   /* not the input's fault: exit 1 */
    }
    free(said);
    reopen_set_free(s);
    unlink(a);
    unlink(b);
    free(big);
}

static void test_unchanged(void **state)  { (void)state; change_between(NONE, ""); }
static void test_grown(void **state)      { (void)state; change_between(GROW, "its size went from 20000 to 20005 bytes"); }
static void test_rewritten(void **state)  { (void)state; change_between(SAME_SIZE, "modification time changed"); }
static void test_replaced(void **state)   { (void)state; change_between(REPLACE, "another file has its name"); }
static void test_removed(void **state)    { (void)state; change_between(REMOVE, "No such file or directory"); }
static void test_made_fifo(void **state)  { (void)state; change_between(FIFO, "not a regular file now"); }

/* A log removed before its first opening (after cmd_trace_import's check
 * opened it): it changed while it was imported, a failure outside the
 * input (exit 1), as at a reopening and as the lackey importer says it
 * (test_importers.c); it was bad input (exit 2, "cannot open"). A log
 * unopenable for want of descriptors is still the host's "cannot open". */
static void test_removed_before_first_open(void **state)
{
    (void)state;
    char a[96];
    snprintf(a, sizeof a, "%s/gone.1", dir);
    put(a, "x\n", 2);
    const char *nm[1] = { a };
    struct reopen_set *s = reopen_set_new(nm, 1, 1, 0);
    assert_int_equal(unlink(a), 0);
    import_failure_reset();
    mv_error_defer(1);
    assert_int_equal(getc(reopen_stream(s, 0)), EOF);
    mv_error_defer(0);
    char *said = mv_error_take(), want[256];
    snprintf(want, sizeof want, "memvirt: log '%s' changed while it was imported: No such file or directory\n", a);
    assert_true(reopen_failed(s));
    assert_non_null(said);
    assert_string_equal(said, want);
    assert_int_equal(import_host_failure(0), 1);
    free(said);
    reopen_set_free(s);
}

/* ---- the strace importer ---- */

static const char *K[] = { "source" }, *V[] = { "test" };

/* strace -ff logs: a root (pid 500) forks 5 children, which then run
 * interleaved, 60 calls each (about 6 KB a log); log i is logs[i]. */
#define NFF 6
static char *ff[NFF];

static void make_ff(void)
{
    size_t cap = 1 << 16;
    for (unsigned i = 0; i < NFF; i++) {
        ff[i] = calloc(1, cap);
    }
    unsigned long t = 1;
    char line[256];
#define AT(i, ...) (snprintf(line, sizeof line, __VA_ARGS__), \
                    snprintf(ff[i] + strlen(ff[i]), cap - strlen(ff[i]), "1700000000.%06lu %s\n", t++, line))
    AT(0, "execve(\"/bin/sh\", [\"sh\"], 0x7ffe /* 1 var */) = 0");
    for (unsigned c = 1; c < NFF; c++)
        AT(0, "clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, "
              "child_tidptr=0x7f0000000a10) = %u", 500 + c);
    for (unsigned c = 1; c < NFF; c++)
        AT(c, "execve(\"/bin/true\", [\"/bin/true\"], 0x7ffe /* 1 var */) = 0");
    for (unsigned r = 0; r < 60; r++)
        for (unsigned c = 1; c < NFF; c++) {
            unsigned long a = 0x7f0000000000ul + c * 0x10000000ul + (r / 3) * 0x4000;
            if (r % 3 == 0)
                AT(c, "mmap(NULL, 16384, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x%lx", a);
            else if (r % 3 == 1)
                AT(c, "mprotect(0x%lx, 4096, PROT_READ)   = 0", a);
            else
                AT(c, "munmap(0x%lx, 8192)                      = 0", a + 0x2000);
        }
    for (unsigned c = 1; c < NFF; c++) {
        AT(c, "exit_group(0)                           = ?");
        AT(c, "+++ exited with 0 +++");
    }
    AT(0, "exit_group(0) = ?");
    AT(0, "+++ exited with 0 +++");
#undef AT
}

/* Import logs (n, names nm; held[i]: the stream to use, or NULL: by name)
 * with open_max max; the trace's bytes in *out (NULL when it failed). */
static int import_with(const char *const *nm, FILE **held, unsigned n, unsigned max, unsigned buf,
                       unsigned char **out, size_t *len)
{
    struct trace_writer *w = trace_writer_mem(K, V, 1);
    struct build *b = build_new(w);
    struct import_opts o = { .sample = 1, .open_max = max, .open_buf = buf };
    struct import_stats st = { 0 };
    int rc = import_strace_files(b, held, nm, n, &o, &st);
    if (!rc)
        rc = build_finish(b);
    build_free(b);
    *out = NULL;
    if (!rc)
        assert_int_equal(trace_writer_commit_mem(w, out, len), 0);
    else
        trace_writer_abort(w);
    return rc;
}

static unsigned records(unsigned char *buf, size_t len)
{
    struct trace_reader *r = trace_open_mem(buf, len, "test");
    assert_non_null(r);
    struct trace_rec x;
    unsigned n = 0;
    int rc;
    while ((rc = trace_next(r, &x)) == 1)
        n++;
    assert_int_equal(rc, 0);
    trace_close(r);
    return n;
}

static void check_same(const char *const *nm, char **texts, unsigned n, unsigned least)
{
    FILE *held[NFF];
    for (unsigned i = 0; i < n; i++)
        held[i] = fmemopen(texts[i], strlen(texts[i]), "r");
    unsigned char *want, *got;
    size_t wl, gl;
    assert_int_equal(import_with(nm, held, n, 0, 0, &want, &wl), 0);
    for (unsigned i = 0; i < n; i++)
        fclose(held[i]);
    assert_true(records(want, wl) >= least);     /* a real trace, not an empty one */
    for (unsigned max = 1; max <= 3; max++)
        for (unsigned buf = 0; buf <= 64; buf += 64) {    /* 4 KiB, and 64 bytes: reopened all the time */
            assert_int_equal(import_with(nm, NULL, n, max, buf, &got, &gl), 0);
            assert_int_equal(gl, wl);
            assert_memory_equal(got, want, wl);
            free(got);
        }
    free(want);
}

static void test_strace_ff_capped(void **state)
{
    (void)state;
    make_ff();
    char nm[NFF][96];
    const char *np[NFF];
    for (unsigned i = 0; i < NFF; i++) {
        assert_true(strlen(ff[i]) > 4096 || i == 0);   /* past a buffer: reopened */
        snprintf(nm[i], sizeof nm[i], "%s/ff.%u", dir, 500 + i);
        np[i] = nm[i];
        put(nm[i], ff[i], strlen(ff[i]));
    }
    check_same(np, ff, NFF, 5 * 62);    /* each child's exec, 60 calls and exit */
    /* the same logs as strace -f logs (a pid column), read one after the
     * other: each its own recording */
    char *f[NFF];
    for (unsigned i = 0; i < NFF; i++) {
        f[i] = calloc(1, 2 * strlen(ff[i]) + 1);
        for (char *p = ff[i], *e; *p; p = e + 1) {
            e = strchr(p, '\n');
            sprintf(f[i] + strlen(f[i]), "%u %.*s\n", 500 + i, (int)(e - p), p);
        }
        snprintf(nm[i], sizeof nm[i], "%s/f%u.strace", dir, i);
        put(nm[i], f[i], strlen(f[i]));
    }
    check_same(np, f, NFF, 5 * 62);
    for (unsigned i = 0; i < NFF; i++) {
        unlink(nm[i]);
        snprintf(nm[i], sizeof nm[i], "%s/ff.%u", dir, 500 + i);
        unlink(nm[i]);
        free(f[i]);
        free(ff[i]);
    }
}

/* A held log (a pipe, say) whose second read removes a log read by name:
 * the merge stops with one error naming that log. */
struct pacer {
    const char *text, *victim;
    size_t at;
    unsigned reads;
};

static ssize_t pace(void *cookie, char *buf, size_t size)
{
    struct pacer *p = cookie;
    if (++p->reads == 2 && p->victim)
        unlink(p->victim);
    const char *nl = strchr(p->text + p->at, '\n');
    size_t n = nl ? (size_t)(nl - (p->text + p->at)) + 1 : strlen(p->text + p->at);
    if (n > size)
        n = size;
    memcpy(buf, p->text + p->at, n);
    p->at += n;
    return (ssize_t)n;
}

static void removed_in_merge(int remove)
{
    make_ff();
    char nm[NFF][96];
    const char *np[NFF];
    for (unsigned i = 0; i < NFF; i++) {
        snprintf(nm[i], sizeof nm[i], "%s/ff.%u", dir, 500 + i);
        np[i] = nm[i];
        put(nm[i], ff[i], strlen(ff[i]));
    }
    /* the root's log comes through the pacer: its reads, one line each,
     * happen while the children's logs are read (two descriptors for
     * five of them) */
    struct pacer p = { ff[0], remove ? nm[3] : NULL, 0, 0 };
    cookie_io_functions_t io = { .read = pace };
    FILE *held[NFF] = { fopencookie(&p, "r", io) };
    mv_error_defer(1);
    unsigned char *got;
    size_t gl;
    int rc = import_with(np, held, NFF, 3, 0, &got, &gl);
    mv_error_defer(0);
    char *said = mv_error_take();
    fclose(held[0]);
    assert_true(p.reads > 2);
    if (!remove) {
        assert_int_equal(rc, 0);
        assert_null(said);
        free(got);
    } else {
        assert_int_equal(rc, -1);
        assert_non_null(said);
        assert_non_null(strstr(said, nm[3]));
        assert_non_null(strstr(said, "changed while it was imported: No such file or directory"));
        assert_ptr_equal(strchr(said, '\n'), said + strlen(said) - 1);
    }
    free(said);
    for (unsigned i = 0; i < NFF; i++) {
        unlink(nm[i]);
        free(ff[i]);
    }
}

static void test_strace_merge_intact(void **state)  { (void)state; removed_in_merge(0); }
static void test_strace_log_removed(void **state)   { (void)state; removed_in_merge(1); }

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reads_back),          cmocka_unit_test(test_host_limit_below_cap),
        cmocka_unit_test(test_unchanged),           cmocka_unit_test(test_strace_ff_capped),
        cmocka_unit_test(test_strace_merge_intact), cmocka_unit_test(test_grown),
        cmocka_unit_test(test_rewritten),           cmocka_unit_test(test_replaced),
        cmocka_unit_test(test_removed),             cmocka_unit_test(test_made_fifo),
        cmocka_unit_test(test_strace_log_removed), cmocka_unit_test(test_removed_before_first_open),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

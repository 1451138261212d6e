/* fuzz_strace.c: libFuzzer target for the strace importer
 * (src/trace/import_strace*.c). An input is one log, or, when it begins
 * with "FF", up to four logs separated by form feeds (named log.100 to
 * log.103, as strace -ff names them), imported together; whatever the
 * importer writes must read back whole. Several logs are also written to
 * files and imported by name through the bounded cache of descriptors
 * (src/trace/reopen.c) with one descriptor and 16-byte buffers, so that
 * every log is closed and reopened at its offset again and again: the
 * status, the error, the counts and the trace must be the very ones of the
 * logs read from memory. */
#include "fuzz_import.h"
#include "trace/writer.h"
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAXLOGS 4

static const char *names[MAXLOGS] = { "log.100", "log.101", "log.102", "log.103" };

/* The logs in buf[0..n): their starts and lengths; how many. */
static unsigned split(const char *buf, size_t n, size_t *at, size_t *len)
{
    unsigned k = 0;
    size_t start = 2;
    for (size_t i = 2; i <= n && k < MAXLOGS; i++)
        if (i == n || buf[i] == '\f' || k == MAXLOGS - 1) {
            size_t end = k == MAXLOGS - 1 ? n : i;
            at[k] = start;
            len[k] = end - start;
            k++;
            start = end + 1;
            if (end == n)
                break;
        }
    return k;
}

static int import_ff(struct build *b, FILE *f, const char *name, const struct import_opts *o,
                     struct import_stats *st)
{
    (void)name;
    static char buf[(1 << 20) + 1];
    size_t n = fread(buf, 1, sizeof buf - 1, f), at[MAXLOGS], len[MAXLOGS];
    FILE *fs[MAXLOGS];
    unsigned k = split(buf, n, at, len);
    for (unsigned i = 0; i < k; i++) {
        fs[i] = fmemopen(buf + at[i], len[i] ? len[i] : 1, "r");
        if (!len[i])
            fgetc(fs[i]);
    }
    int rc = import_strace_files(b, fs, names, k, o, st);
    for (unsigned i = 0; i < k; i++)
        fclose(fs[i]);
    return rc;
}

/* Import the logs (from memory: fs; by name: fs NULL) into a trace of
 * their own: the status, the error said, the counts and the trace's bytes. */
struct outcome {
    int rc;
    char err[512];
    struct import_stats st;
    unsigned char *trace;
    size_t len;
};

static void import_to(FILE **fs, const char *const *nm, unsigned k, const struct import_opts *o,
                      struct outcome *out)
{
    const char *kk[] = { "source" }, *vv[] = { "fuzz" };
    struct trace_writer *w = trace_writer_mem(kk, vv, 1);
    struct build *b = build_new(w);
    memset(out, 0, sizeof *out);
    mv_error("-");                                   /* no error yet */
    out->rc = import_strace_files(b, fs, nm, k, o, &out->st);
    if (!out->rc)
        out->rc = build_finish(b);
    snprintf(out->err, sizeof out->err, "%s", mv_last_error());
    build_free(b);
    if (out->rc)
        trace_writer_abort(w);
    else if (trace_writer_commit_mem(w, &out->trace, &out->len))
        abort();
}

static char dir[] = "/tmp/memvirt-fuzz-strace.XXXXXX", paths[MAXLOGS][64];
static const char *pathp[MAXLOGS];

static void remove_dir(void)
{
    for (unsigned i = 0; i < MAXLOGS; i++)
        unlink(paths[i]);
    rmdir(dir);
}

static void by_name(const uint8_t *data, size_t size)
{
    static int ready;
    if (!ready) {                 /* the logs' files, in a directory of this process's own */
        if (!mkdtemp(dir))
            abort();
        for (unsigned i = 0; i < MAXLOGS; i++) {
            snprintf(paths[i], sizeof paths[i], "%s/%s", dir, names[i]);
            pathp[i] = paths[i];
        }
        atexit(remove_dir);
        ready = 1;
    }
    size_t at[MAXLOGS], len[MAXLOGS];
    unsigned k = split((const char *)data, size, at, len);
    FILE *fs[MAXLOGS];
    for (unsigned i = 0; i < k; i++) {
        FILE *w = fopen(paths[i], "w");
        if (!w || fwrite(data + at[i], 1, len[i], w) != len[i] || fclose(w))
            abort();
        fs[i] = fmemopen((void *)(data + at[i]), len[i] ? len[i] : 1, "r");
        if (!len[i])
            fgetc(fs[i]);
    }
    struct import_opts mem = { .sample = 1 }, cache = { .sample = 1, .open_max = 1, .open_buf = 16 };
    struct outcome a, b;
    import_to(fs, pathp, k, &mem, &a);
    for (unsigned i = 0; i < k; i++)
        fclose(fs[i]);
    import_to(NULL, pathp, k, &cache, &b);
    if (a.rc != b.rc || strcmp(a.err, b.err) || memcmp(&a.st, &b.st, sizeof a.st) || a.len != b.len ||
        (a.len && memcmp(a.trace, b.trace, a.len)))
        abort();
    free(a.trace);
    free(b.trace);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct import_opts o = { .sample = 1 };
    int ff = size >= 2 && !memcmp(data, "FF", 2);
    fuzz_import(data, size, ff ? import_ff : import_strace, &o);
    if (ff && size <= (1 << 20))
        by_name(data, size);
    return 0;
}

/* fuzz_import.h: the body shared by the importer fuzz targets: import the
 * input (one text log) into an in-memory trace, and check that whatever the
 * importer wrote reads back as a sound trace. */
#ifndef MV_FUZZ_IMPORT_H
#define MV_FUZZ_IMPORT_H
#include "lib/err.h"
#include "trace/import.h"
#include "trace/reader.h"
#include <stdio.h>
#include <stdlib.h>

typedef int (*importer_fn)(struct build *b, FILE *f, const char *name, const struct import_opts *o,
                           struct import_stats *st);

static inline void fuzz_import(const uint8_t *data, size_t size, importer_fn fn, const struct import_opts *o)
{
    mv_error_quiet(1);
    FILE *f = fmemopen((void *)data, size ? size : 1, "r");
    if (!f)
        return;
    if (!size)
        fgetc(f);
    const char *k[] = { "source" }, *v[] = { "fuzz" };
    struct trace_writer *w = trace_writer_mem(k, v, 1);
    struct build *b = build_new(w);
    struct import_stats st = { 0 };
    int rc = fn(b, f, "fuzz", o, &st);
    if (!rc)
        rc = build_finish(b);
    fclose(f);
    build_free(b);
    unsigned char *buf;
    size_t len;
    int wrc = trace_writer_commit_mem(w, &buf, &len);
    if (!rc && !wrc) {
        /* what an importer writes, the reader must accept whole */
        struct trace_reader *r = trace_open_mem(buf, len, "fuzz-out");
        if (!r)
            abort();
        struct trace_rec rec;
        int n;
        while ((n = trace_next(r, &rec)) == 1)
            if (trace_check_span(r, &rec))   /* and replay: no time past the span (a week) */
                abort();
        if (n < 0)
            abort();
        trace_close(r);
    }
    free(buf);
}

#endif

/* fuzz_strace.c: libFuzzer target for the strace importer
 * (src/trace/import_strace*.c). An input is one log, or, when it begins
 * with "FF", up to four logs separated by form feeds (named log.100 to
 * log.103, as strace -ff names them), imported together; whatever the
 * importer writes must read back whole. */
#include "fuzz_import.h"
#include <string.h>

#define MAXLOGS 4

static int import_ff(struct build *b, FILE *f, const char *name, const struct import_opts *o,
                     struct import_stats *st)
{
    (void)name;
    static char buf[(1 << 20) + 1];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    FILE *fs[MAXLOGS];
    const char *names[MAXLOGS] = { "log.100", "log.101", "log.102", "log.103" };
    unsigned k = 0;
    size_t start = 2;
    for (size_t i = 2; i <= n && k < MAXLOGS; i++)
        if (i == n || buf[i] == '\f' || k == MAXLOGS - 1) {
            size_t end = k == MAXLOGS - 1 ? n : i, len = end - start;
            fs[k] = fmemopen(buf + start, len ? len : 1, "r");
            if (!len)
                fgetc(fs[k]);
            k++;
            start = end + 1;
            if (end == n)
                break;
        }
    int rc = import_strace_files(b, fs, names, k, o, st);
    for (unsigned i = 0; i < k; i++)
        fclose(fs[i]);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct import_opts o = { .sample = 1 };
    fuzz_import(data, size, size >= 2 && !memcmp(data, "FF", 2) ? import_ff : import_strace, &o);
    return 0;
}

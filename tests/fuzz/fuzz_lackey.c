/* fuzz_lackey.c: libFuzzer target for the lackey importer
 * (src/trace/import_lackey.c): the input is one log; a first byte above 0xf0
 * also turns sampling and a window on. */
#include "fuzz_import.h"

static int one_log(struct build *b, FILE *f, const char *name, const struct import_opts *o,
                   struct import_stats *st)
{
    return import_lackey(b, &f, &name, 1, o, st);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct import_opts o = { .sample = 1 };
    if (size && data[0] > 0xf0) {
        o.sample = 3;
        o.window_start = 5;
        o.window_len = 100;
    }
    fuzz_import(data, size, one_log, &o);
    return 0;
}

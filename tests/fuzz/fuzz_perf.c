/* fuzz_perf.c: libFuzzer target for the perf script importer
 * (src/trace/import_perf.c), with and without the recorder's options. */
#include "fuzz_import.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct import_opts o = { .sample = 1 };
    if (size && (data[0] & 1)) {        /* one bit picks the recorder's options */
        o.delay_ns = 20000000;
        o.skip_root = 1;
    }
    fuzz_import(data, size, import_perf, &o);
    return 0;
}

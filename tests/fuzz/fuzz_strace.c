/* fuzz_strace.c: libFuzzer target for the strace importer (src/trace/import_strace.c). */
#include "fuzz_import.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct import_opts o = { .sample = 1 };
    fuzz_import(data, size, import_strace, &o);
    return 0;
}

/* fuzz_trace.c: libFuzzer target for the binary trace reader
 * (src/trace/reader.c) and the checks every command makes of its records
 * (src/trace/check.c): any bytes must give records or one clean error,
 * never a crash, an overrun or a leak. */
#include "lib/err.h"
#include "trace/check.h"
#include "trace/reader.h"
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mv_error_quiet(1);
    struct trace_reader *r = trace_open_mem(data, size, "fuzz");
    if (!r)
        return 0;
    struct trace_check ck = { 0 };
    struct trace_rec rec;
    while (trace_next(r, &rec) == 1 && !trace_check_record(&ck, r, &rec))
        ;
    trace_close(r);
    trace_check_free(&ck);
    return 0;
}

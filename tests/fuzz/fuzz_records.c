/* fuzz_records.c: libFuzzer target for replay of the trace format itself:
 * the input is a decompressed record stream (header, records, end record);
 * the target compresses it into a trace file as the writer would (one zstd
 * frame with its checksum), and replays it under --check, checking after
 * every event, in a mode chosen by a hash of the input, with fault-around
 * off, at Linux's 64 KiB or at its largest (2 MiB) by the same hash. fuzz_trace mutates
 * compressed bytes, which almost never decompress; fuzz_replay reaches the
 * guest only through what the strace importer's builder lets through. Here
 * any record the reader accepts reaches the guest kernel and the mode: an
 * mremap moving PTEs, a fork of a thread, an exec over a shared mm. A bad
 * trace may fail the run (an unknown pid, a reference to nothing mapped);
 * a broken --check invariant or a crash is a finding. */
#include "fuzz_checked_replay.h"
#include "lib/err.h"
#include "trace/format.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mv_error_quiet(1);
    if (!size)
        return 0;
    size_t cap = TRACE_PREAMBLE + ZSTD_compressBound(size);
    unsigned char *buf = malloc(cap);
    memcpy(buf, TRACE_MAGIC, 8);
    buf[8] = TRACE_VERSION & 0xff;
    buf[9] = TRACE_VERSION >> 8;
    buf[10] = buf[11] = 0;
    ZSTD_CCtx *cz = ZSTD_createCCtx();
    ZSTD_CCtx_setParameter(cz, ZSTD_c_checksumFlag, 1);
    size_t n = ZSTD_compress2(cz, buf + TRACE_PREAMBLE, cap - TRACE_PREAMBLE, data, size);
    ZSTD_freeCCtx(cz);
    if (ZSTD_isError(n))
        abort();
    char path[64];
    snprintf(path, sizeof path, "/tmp/memvirt-fuzz-records-%d.mvt", (int)getpid());
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(buf, 1, TRACE_PREAMBLE + n, f) != TRACE_PREAMBLE + n || fclose(f))
        abort();
    free(buf);
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < size; i++)
        h = (h ^ data[i]) * 0x100000001b3ull;
    const struct mode_def *mode = mode_at((unsigned)(h % mode_count()));
    static const char *const around[] = { "4096", "65536", "2097152" };
    if (fuzz_checked_replay(path, mode, around[(h >> 16) % 3]) && !strncmp(mv_last_error(), "--check", 7)) {
        fprintf(stderr, "replay under %s broke an invariant: %s\n", mode->name, mv_last_error());
        abort();
    }
    unlink(path);
    return 0;
}

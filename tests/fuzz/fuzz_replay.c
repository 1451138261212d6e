/* fuzz_replay.c: libFuzzer target for the importers' builder against the
 * guest kernel: whatever the strace importer (the richest in system calls)
 * makes of the input must replay in native mode under --check without an
 * error, since the builder keeps out everything the guest kernel would
 * refuse. A difference between the builder's model of an address space and
 * the guest's is a finding. */
#include "fuzz_checked_replay.h"
#include "lib/err.h"
#include "trace/import.h"
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mv_error_quiet(1);
    FILE *f = fmemopen((void *)data, size ? size : 1, "r");
    if (!f)
        return 0;
    if (!size)
        fgetc(f);
    char path[64];
    snprintf(path, sizeof path, "/tmp/memvirt-fuzz-replay-%d.mvt", (int)getpid());
    const char *k[] = { "source" }, *v[] = { "fuzz" };
    struct trace_writer *w = trace_writer_open(path, k, v, 1);
    struct build *b = build_new(w);
    struct import_stats st = { 0 };
    struct import_opts o = { .sample = 1 };
    int rc = import_strace(b, f, "fuzz", &o, &st);
    fclose(f);
    if (!rc)
        rc = build_finish(b);
    build_free(b);
    if (rc) {
        trace_writer_abort(w);
        return 0;
    }
    if (trace_writer_commit(w))
        abort();
    if (fuzz_checked_replay(path, mode_find("native"), NULL)) {
        fprintf(stderr, "replay failed: %s\n", mv_last_error());
        abort();
    }
    unlink(path);
    return 0;
}

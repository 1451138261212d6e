/* fuzz_sweep_manifest.c: libFuzzer target for the sweep manifest reader
 * (sim/sweep_manifest.c), which `memvirt sweep one DIR INDEX` runs on
 * DIR/sweep.tsv, a text file users may edit by hand.
 *
 * Any input must give run 0 (and run 1) or be refused with one error
 * naming the file; never crash, hang or leak. A run it gives has a 16-digit
 * hex id and arguments that sweep_args_check accepts. */
#include "lib/err.h"
#include "sim/sweep_plan.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mv_error_quiet(1);
    char path[] = "/tmp/memvirt-fuzz-manifest-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        abort();
    if (size && write(fd, data, size) != (ssize_t)size)
        abort();
    close(fd);
    for (unsigned long ix = 0; ix < 2; ix++) {
        char id[17], why[200];
        char *args = NULL;
        unsigned long nruns;
        if (sweep_manifest_read(path, ix, id, &args, &nruns)) {
            if (args || strncmp(mv_last_error(), path, strlen(path)))   /* refused: nothing given, the file named */
                abort();
            continue;
        }
        if (strlen(id) != 16 || strspn(id, "0123456789abcdef") != 16 || !args || sweep_args_check(args, why, sizeof why))
            abort();
        free(args);
    }
    unlink(path);
    return 0;
}

/* replay.c: the driver a fuzz target is linked with outside libFuzzer: it
 * feeds each file named on the command line to LLVMFuzzerTestOneInput, so
 * `make test` replays every target's seed corpus (and any crash input kept
 * as a regression) under the normal and the sanitizer builds. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        FILE *f = fopen(argv[i], "rb");
        if (!f) {
            fprintf(stderr, "%s: cannot read %s\n", argv[0], argv[i]);
            return 1;
        }
        size_t cap = 1 << 16, n = 0, got;
        uint8_t *buf = malloc(cap);
        while ((got = fread(buf + n, 1, cap - n, f)) > 0)
            if ((n += got) == cap)
                buf = realloc(buf, cap *= 2);
        fclose(f);
        LLVMFuzzerTestOneInput(buf, n);
        free(buf);
    }
    printf("%s: %d inputs replayed\n", argv[0], argc - 1);
    return 0;
}

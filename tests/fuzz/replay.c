/* replay.c: runs a fuzz target (tests/fuzz/fuzz_*.c) over files without
 * libFuzzer: each argument is a file or a directory of files (a seed
 * corpus, kept findings), fed once to LLVMFuzzerTestOneInput. The normal
 * and sanitizer builds run every target over its corpus and findings this
 * way as a test; `make fuzz` links the same targets with libFuzzer to
 * search for new inputs. A missing argument is skipped (a target with no
 * kept findings); no input at all is a failure. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "replay: cannot read %s\n", path);
        return -1;
    }
    size_t cap = 4096, n = 0, got;
    uint8_t *buf = malloc(cap);
    while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0)
        if ((n += got) == cap)
            buf = realloc(buf, cap *= 2);
    fclose(f);
    if (!buf)
        return -1;
    LLVMFuzzerTestOneInput(buf, n);
    free(buf);
    return 0;
}

int main(int argc, char **argv)
{
    unsigned files = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st))
            continue;
        if (!S_ISDIR(st.st_mode)) {
            if (run_file(argv[i]))
                return 1;
            files++;
            continue;
        }
        struct dirent **names;            /* in name order: the same run each time */
        int n = scandir(argv[i], &names, NULL, alphasort);
        if (n < 0)
            return 1;
        int rc = 0;
        for (int e = 0; e < n; e++) {
            if (!rc && names[e]->d_name[0] != '.') {
                char path[4096];
                snprintf(path, sizeof path, "%s/%s", argv[i], names[e]->d_name);
                if (run_file(path))
                    rc = 1;
                files++;
            }
            free(names[e]);
        }
        free(names);
        if (rc)
            return 1;
    }
    printf("replay: %u inputs, no failure\n", files);
    return files ? 0 : 1;
}

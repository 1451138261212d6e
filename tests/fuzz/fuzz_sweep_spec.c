/* fuzz_sweep_spec.c: libFuzzer target for the sweep spec reader and planner
 * (sim/sweep_spec.c, sim/sweep_plan.c): whatever the bytes, they are read
 * and checked without a crash, a leak or undefined behaviour, and a spec
 * that is accepted expands into runs whose arguments `memvirt run` takes.
 *
 *   make fuzz                  clang -fsanitize=fuzzer,address,undefined, a timed run
 *   fuzz_sweep_spec FILE...    (without libFuzzer) replays files: the corpus in make test */
#include "lib/err.h"
#include "sim/sweep_plan.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sweep_spec s;
    mv_error_quiet(1);
    if (sweep_spec_parse(&s, "fuzz.sweep", (const char *)data, size) == 0) {
        struct sweep_plan p;
        if (sweep_plan_build(&s, &p) == 0) {
            for (unsigned r = 0; r < p.nruns; r++)
                if (!p.runs[r].args[0] || strlen(p.runs[r].id) != 16)
                    abort();
            sweep_plan_free(&p);
        } else if (!strstr(mv_last_error(), "fuzz.sweep")) {
            abort();   /* every planning error names the spec */
        }
        sweep_spec_free(&s);
    } else if (strncmp(mv_last_error(), "fuzz.sweep:", 11)) {
        abort();       /* every syntax error names the spec and its line */
    }
    return 0;
}

#ifndef MEMVIRT_LIBFUZZER
int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        FILE *f = fopen(argv[i], "rb");
        if (!f) {
            fprintf(stderr, "fuzz_sweep_spec: cannot read %s\n", argv[i]);
            return 1;
        }
        char *buf = malloc(1 << 20);
        size_t n = fread(buf, 1, 1 << 20, f);
        fclose(f);
        LLVMFuzzerTestOneInput((const uint8_t *)buf, n);
        free(buf);
    }
    printf("fuzz_sweep_spec: %d inputs replayed\n", argc - 1);
    return 0;
}
#endif

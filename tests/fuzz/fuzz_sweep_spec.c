/* fuzz_sweep_spec.c: libFuzzer target for the sweep spec reader and planner
 * (sim/sweep_spec.c, sim/sweep_plan.c): whatever the bytes, they are read
 * and checked without a crash, a leak or undefined behaviour, and a spec
 * that is accepted expands into runs whose arguments `memvirt run` takes.
 *
 *   make fuzz FUZZ=sweep_spec  under libFuzzer for FUZZ_SECONDS
 *   fuzz_sweep_spec FILE...    (the replay build) replays files: the corpus in make test */
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

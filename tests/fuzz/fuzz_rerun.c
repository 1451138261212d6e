/* fuzz_rerun.c: libFuzzer harness for what memvirt reads from outside: a
 * JSON result file for `memvirt rerun` (sim/config_load.c), and the same
 * bytes as command-line text: a --param assignment, an --at control and the
 * number parsers (lib/param.c, sim/config.c). Any input must give either a
 * result or one error, never a crash, leak or undefined behaviour; and what
 * parses must survive the round trip the result files rely on (canonical
 * text reads back to the same value). `make fuzz FUZZ=rerun` runs it, seeded with
 * real results (tests/fuzz/corpus/rerun/). */
#include "lib/err.h"
#include "lib/param.h"
#include "sim/config_file.h"
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void text_properties(const char *s)
{
    uint64_t u;
    double d, back;
    char buf[64];
    if (!param_parse_u64(s, &u)) {
        snprintf(buf, sizeof buf, "%llu", (unsigned long long)u);
        uint64_t again;
        if (param_parse_u64(buf, &again) || again != u)
            __builtin_trap();
    }
    if (!param_parse_dbl(s, &d)) {
        param_format_dbl(d, buf, sizeof buf);
        if (param_parse_dbl(buf, &back) || memcmp(&back, &d, sizeof d))
            __builtin_trap();
    }
    struct sim_config c;
    if (config_init(&c, "forkstorm"))
        __builtin_trap();
    config_param(&c, s);
    if (!config_at(&c, s)) {
        char canon[96];
        config_at_format(&c.at[0], canon, sizeof canon);
        struct sim_config c2;
        config_init(&c2, "forkstorm");
        if (config_at(&c2, canon) || c2.at[0].ns != c.at[0].ns || c2.at[0].value != c.at[0].value ||
            strcmp(c2.at[0].name, c.at[0].name))   /* the same control (its text is its own) */
            __builtin_trap();
        config_free(&c2);
    }
    config_validate(&c);
    config_free(&c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mv_error_quiet(1);
    struct sim_config c;
    const struct mode_def *sel[CONFIG_MAX_MODES];
    unsigned n = 0;
    int rc = config_load_json("fuzz.json", (const char *)data, size, &c, sel, &n);
    if (rc == 0 && (n == 0 || n > CONFIG_MAX_MODES || !c.wl))
        __builtin_trap();   /* success must mean a complete configuration */
    config_free(&c);
    if (size < 256) {
        char *s = malloc(size + 1);
        memcpy(s, data, size);
        s[size] = 0;
        text_properties(s);
        free(s);
    }
    return 0;
}

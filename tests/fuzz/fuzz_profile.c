/* fuzz_profile.c: libFuzzer target for the cost profile parser
 * (sim/profile.c), which reads files named by --profile.
 *
 * Any input must either parse or be refused with one error naming line and
 * column; it must never crash, hang or leak. What parses must survive a
 * round trip: written back with profile_write and parsed again, it gives
 * the same lines and the same cost table. */
#include "lib/err.h"
#include "sim/profile.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mv_error_quiet(1);
    struct profile p;
    if (profile_parse(&p, "fuzz", (const char *)data, size)) {
        const char *msg = mv_last_error();
        if (strncmp(msg, "fuzz:", 5))   /* every error names the input */
            abort();
        profile_free(&p);
        return 0;
    }
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        abort();
    profile_write(f, &p, "round trip");
    fclose(f);
    struct profile q;
    if (profile_parse(&q, "roundtrip", buf, len))
        abort();
    if (q.n != p.n || memcmp(&q.cost, &p.cost, sizeof p.cost))
        abort();
    for (unsigned i = 0; i < p.n; i++) {
        const struct profile_line *a = &p.line[i], *b = &q.line[i];
        if (strcmp(a->key, b->key) || strcmp(a->value, b->value) || a->nattr != b->nattr)
            abort();
        for (unsigned k = 0; k < a->nattr; k++)
            if (strcmp(a->attr[k].name, b->attr[k].name) || strcmp(a->attr[k].value, b->attr[k].value))
                abort();
    }
    free(buf);
    profile_free(&q);
    profile_free(&p);
    return 0;
}

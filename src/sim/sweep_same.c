/* sweep_same.c: two runs of a sweep that are one run (see sweep_same.h).
 * A configuration is hashed over what config_json_write writes of it, each
 * parameter's field as stored rather than as text (formatting every
 * parameter of every run took the planner 4.6 times as long); runs whose
 * hashes agree are compared by their texts. */
#include "sim/sweep_same.h"
#include "lib/err.h"
#include "lib/json.h"
#include "lib/param.h"
#include "sim/config_file.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* FNV-1a 64 from two bases */
static void add(struct sweep_same *x, const void *p, size_t n)
{
    for (const unsigned char *b = p; n--; b++)
        for (int k = 0; k < 2; k++)
            x->h[k] = (x->h[k] ^ *b) * 0x100000001b3ull;
}

static void add_str(struct sweep_same *x, const char *s) { add(x, s, strlen(s) + 1); }

struct sweep_same sweep_same_of(const struct sim_config *cfg, const char *mode, unsigned run)
{
    struct sweep_same x = { { 0xcbf29ce484222325ull, 0x84222325cbf29ce4ull }, run };
    add_str(&x, mode);
    add_str(&x, cfg->wl->name);
    add(&x, &cfg->seed, sizeof cfg->seed);
    add_str(&x, cfg->profile);
    add(&x, &cfg->check, sizeof cfg->check);
    for (unsigned i = 0; i < cfg->nat; i++) {
        add(&x, &cfg->at[i].ns, sizeof cfg->at[i].ns);
        add_str(&x, cfg->at[i].name);
        add(&x, &cfg->at[i].value, sizeof cfg->at[i].value);
    }
    struct config_group g[CONFIG_MAX_GROUPS];
    unsigned ng = config_groups(cfg, g);
    for (unsigned i = 0; i < ng; i++)
        for (size_t k = 0; k < g[i].g->n; k++) {
            const struct param_def *d = &g[i].g->defs[k];
            const char *f = (const char *)g[i].cfg + d->off;
            if (d->type == P_U64)
                add(&x, f, sizeof(uint64_t));
            else if (d->type == P_DBL)
                add(&x, f, sizeof(double));
            else if (d->type == P_BOOL)
                add(&x, f, sizeof(int));
            else
                add_str(&x, f);
        }
    return x;
}

char *sweep_same_text(const struct sim_config *cfg, const char *mode)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    MV_ASSERT(f, "sweep: open_memstream");
    struct json j;
    json_init(&j, f);
    json_obj_begin(&j);
    config_json_write(&j, cfg, &mode, 1);
    json_obj_end(&j);
    int bad = json_finish(&j);
    fclose(f);
    MV_ASSERT(!bad, "sweep: a run's configuration as JSON is malformed");
    return text;
}

static int by_hash(const void *x, const void *y)
{
    const struct sweep_same *a = x, *b = y;
    for (int k = 0; k < 2; k++)
        if (a->h[k] != b->h[k])
            return a->h[k] < b->h[k] ? -1 : 1;
    return (a->run > b->run) - (a->run < b->run);
}

int sweep_same_first(struct sweep_same *same, unsigned n, sweep_same_text_fn *text, void *ctx, unsigned *earlier,
                     unsigned *later)
{
    if (n < 2)
        return 0;   /* (same may be NULL) */
    qsort(same, n, sizeof *same, by_hash);
    int found = 0;
    for (unsigned k = 1; k < n; k++) {
        if (memcmp(same[k].h, same[k - 1].h, sizeof same[k].h) || (found && same[k].run >= *later))
            continue;
        unsigned f = k - 1;   /* the earliest run of these hashes */
        while (f > 0 && !memcmp(same[f - 1].h, same[k].h, sizeof same[k].h))
            f--;
        char *ta = text(ctx, same[f].run), *tb = ta ? text(ctx, same[k].run) : NULL;
        if (tb && !strcmp(ta, tb)) {
            *earlier = same[f].run;
            *later = same[k].run;
            found = 1;
        }
        free(ta);
        free(tb);
    }
    return found;
}

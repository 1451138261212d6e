/* config_file.c: writing the effective configuration into results (see
 * config_file.h); config_load.c reads it back. */
#include "sim/config_file.h"
#include "lib/err.h"
#include "lib/json.h"
#include "lib/version.h"
#include <string.h>

void config_json_write(struct json *j, const struct sim_config *c, const char *const *mode_names, unsigned nmode_names)
{
    json_key(j, "version"); json_str(j, mv_version());
    json_key(j, "revision"); json_str(j, mv_revision());
    json_key(j, "seed"); json_u64(j, c->seed);
    json_key(j, "profile"); json_str(j, c->profile);
    json_key(j, "check"); json_bool(j, c->check);
    json_key(j, "clock_ghz"); json_dbl(j, c->cost.clock_ghz);
    json_key(j, "workload"); json_str(j, c->wl->name);
    json_key(j, "modes");
    json_arr_begin(j);
    for (unsigned i = 0; i < nmode_names; i++)
        json_str(j, mode_names[i]);
    json_arr_end(j);
    json_key(j, "at");
    json_arr_begin(j);
    for (unsigned i = 0; i < c->nat; i++) {
        char spec[96];
        config_at_format(&c->at[i], spec, sizeof spec);
        json_str(j, spec);
    }
    json_arr_end(j);
    json_key(j, "params");
    json_obj_begin(j);
    struct config_group g[CONFIG_MAX_GROUPS];
    unsigned ng = config_groups(c, g);
    for (unsigned i = 0; i < ng; i++)
        for (size_t k = 0; k < g[i].g->n; k++) {
            const struct param_def *d = &g[i].g->defs[k];
            char name[96], val[PARAM_VALUE_MAX];
            snprintf(name, sizeof name, "%s.%s", g[i].g->prefix, d->name);
            param_format(d, g[i].cfg, val, sizeof val);
            json_key(j, name);
            if (d->type == P_U64 || d->type == P_DBL)
                json_raw(j, val);
            else if (d->type == P_BOOL)
                json_bool(j, !strcmp(val, "true"));
            else
                json_str(j, val);
        }
    json_obj_end(j);
}

/* One CSV field, quoted (RFC 4180) when it holds a comma, quote or newline. */
static void csv_field(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static void csv_row(FILE *f, const struct sim_config *c, const char *name, const char *value)
{
    fputc(',', f);
    csv_field(f, c->wl->name);
    fputs(",config,", f);
    csv_field(f, name);
    fputs(",,", f);
    csv_field(f, value);
    fputc('\n', f);
}

void config_csv_write(FILE *f, const struct sim_config *c, const char *const *mode_names, unsigned nmode_names)
{
    char buf[96];
    csv_row(f, c, "version", mv_version());
    csv_row(f, c, "revision", mv_revision());
    snprintf(buf, sizeof buf, "%llu", (unsigned long long)c->seed);
    csv_row(f, c, "seed", buf);
    csv_row(f, c, "profile", c->profile);
    csv_row(f, c, "check", c->check ? "true" : "false");
    csv_row(f, c, "workload", c->wl->name);
    for (unsigned i = 0; i < nmode_names; i++)
        csv_row(f, c, "mode", mode_names[i]);
    for (unsigned i = 0; i < c->nat; i++) {
        config_at_format(&c->at[i], buf, sizeof buf);
        csv_row(f, c, "at", buf);
    }
    struct config_group g[CONFIG_MAX_GROUPS];
    unsigned ng = config_groups(c, g);
    for (unsigned i = 0; i < ng; i++)
        for (size_t k = 0; k < g[i].g->n; k++) {
            const struct param_def *d = &g[i].g->defs[k];
            char name[96], val[PARAM_VALUE_MAX];
            snprintf(name, sizeof name, "%s.%s", g[i].g->prefix, d->name);
            param_format(d, g[i].cfg, val, sizeof val);
            csv_row(f, c, name, val);
        }
}


/* param.c: parsing, range checking and listing of named parameters. */
#include "lib/param.h"
#include "lib/err.h"
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int param_parse_u64(const char *s, uint64_t *out)
{
    if (!s || !*s || *s == '-' || isspace((unsigned char)*s))
        return -1;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno || end == s)
        return -1;
    unsigned shift = 0;
    switch (*end) {
    case 'k': case 'K': shift = 10; end++; break;
    case 'm': case 'M': shift = 20; end++; break;
    case 'g': case 'G': shift = 30; end++; break;
    case 't': case 'T': shift = 40; end++; break;
    default: break;
    }
    if (*end)
        return -1;
    if (shift && v > (UINT64_MAX >> shift))
        return -1;
    *out = (uint64_t)v << shift;
    return 0;
}

int param_parse_dbl(const char *s, double *out)
{
    if (!s || !*s || isspace((unsigned char)*s))
        return -1;
    errno = 0;
    char *end;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

int param_parse_bool(const char *s, int *out)
{
    static const char *const yes[] = { "1", "true", "on", "yes" };
    static const char *const no[] = { "0", "false", "off", "no" };
    for (size_t i = 0; i < 4; i++) {
        if (!strcasecmp(s, yes[i])) { *out = 1; return 0; }
        if (!strcasecmp(s, no[i])) { *out = 0; return 0; }
    }
    return -1;
}

static int choice_ok(const char *choices, const char *v)
{
    size_t n = strlen(v);
    const char *p = choices;
    while (*p) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == n && !strncmp(p, v, n))
            return 1;
        if (!bar)
            break;
        p = bar + 1;
    }
    return 0;
}

const struct param_def *param_find(const struct param_group *g, const char *name)
{
    for (size_t i = 0; i < g->n; i++)
        if (!strcmp(g->defs[i].name, name))
            return &g->defs[i];
    return NULL;
}

static int set_one(const struct param_group *g, const struct param_def *d, void *cfg,
                   const char *value, const char *where)
{
    char *field = (char *)cfg + d->off;
    switch (d->type) {
    case P_U64: {
        uint64_t v;
        if (param_parse_u64(value, &v))
            return mv_error("%s: %s.%s: malformed value '%s' (expected a non-negative integer)",
                            where, g->prefix, d->name, value);
        if ((double)v < d->min || (double)v > d->max)
            return mv_error("%s: %s.%s: value %s out of range [%.0f, %.0f]",
                            where, g->prefix, d->name, value, d->min, d->max);
        memcpy(field, &v, sizeof v);
        return 0;
    }
    case P_DBL: {
        double v;
        if (param_parse_dbl(value, &v))
            return mv_error("%s: %s.%s: malformed value '%s' (expected a number)",
                            where, g->prefix, d->name, value);
        if (v < d->min || v > d->max)
            return mv_error("%s: %s.%s: value %s out of range [%g, %g]",
                            where, g->prefix, d->name, value, d->min, d->max);
        memcpy(field, &v, sizeof v);
        return 0;
    }
    case P_BOOL: {
        int v;
        if (param_parse_bool(value, &v))
            return mv_error("%s: %s.%s: malformed value '%s' (expected true or false)",
                            where, g->prefix, d->name, value);
        memcpy(field, &v, sizeof v);
        return 0;
    }
    case P_CHOICE:
        if (!choice_ok(d->choices, value) || strlen(value) >= PARAM_STR_MAX)
            return mv_error("%s: %s.%s: value '%s' is not one of %s",
                            where, g->prefix, d->name, value, d->choices);
        strcpy(field, value);
        return 0;
    case P_STR:
        if (strlen(value) >= (size_t)d->max)
            return mv_error("%s: %s.%s: value too long (at most %.0f characters)",
                            where, g->prefix, d->name, d->max - 1);
        strcpy(field, value);
        return 0;
    }
    return mv_error("%s: %s.%s: unknown parameter type", where, g->prefix, d->name);
}

int param_set(const struct param_group *g, void *cfg, const char *name,
              const char *value, const char *where)
{
    const struct param_def *d = param_find(g, name);
    if (!d)
        return mv_error("%s: unknown parameter '%s.%s' (see 'memvirt list')",
                        where, g->prefix, name);
    return set_one(g, d, cfg, value, where);
}

void param_defaults(const struct param_group *g, void *cfg)
{
    for (size_t i = 0; i < g->n; i++) {
        int rc = set_one(g, &g->defs[i], cfg, g->defs[i].def, "default");
        MV_ASSERT(rc == 0, "bad default for %s.%s", g->prefix, g->defs[i].name);
    }
}

void param_print_group(FILE *f, const struct param_group *g)
{
    for (size_t i = 0; i < g->n; i++) {
        const struct param_def *d = &g->defs[i];
        char name[96];
        snprintf(name, sizeof name, "%s.%s", g->prefix, d->name);
        fprintf(f, "  %-34s %-10s %s", name, *d->def ? d->def : "\"\"", d->doc);
        if (d->type == P_CHOICE)
            fprintf(f, " (%s)", d->choices);
        fputc('\n', f);
    }
}

void param_print_values(FILE *f, const struct param_group *g, const void *cfg)
{
    for (size_t i = 0; i < g->n; i++) {
        const struct param_def *d = &g->defs[i];
        const char *field = (const char *)cfg + d->off;
        fprintf(f, "%s.%s=", g->prefix, d->name);
        switch (d->type) {
        case P_U64: { uint64_t v; memcpy(&v, field, sizeof v); fprintf(f, "%llu\n", (unsigned long long)v); break; }
        case P_DBL: { double v; memcpy(&v, field, sizeof v); fprintf(f, "%.17g\n", v); break; }
        case P_BOOL: { int v; memcpy(&v, field, sizeof v); fprintf(f, "%s\n", v ? "true" : "false"); break; }
        case P_CHOICE: case P_STR: fprintf(f, "%s\n", field); break;
        }
    }
}

/* param.c: parsing, range checking and listing of named parameters. */
#include "lib/param.h"
#include "lib/err.h"
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Decimal digits only: no sign, no leading zero (except "0" itself), no
 * hex; a K/M/G/T suffix multiplies by 2^10..2^40. A well-formed number past
 * 2^64 - 1 (digits or suffix) is PARAM_TOO_BIG, told apart from bad syntax. */
int param_parse_u64(const char *s, uint64_t *out)
{
    if (!s || !isdigit((unsigned char)*s) || (s[0] == '0' && isdigit((unsigned char)s[1])))
        return -1;
    uint64_t v = 0;
    int big = 0;   /* the digits alone overflow: still read the rest, so syntax errors come first */
    for (; isdigit((unsigned char)*s); s++) {
        unsigned d = (unsigned)(*s - '0');
        if (v > (UINT64_MAX - d) / 10)
            big = 1;
        else
            v = v * 10 + d;
    }
    unsigned shift = 0;
    switch (*s) {
    case 'k': case 'K': shift = 10; s++; break;
    case 'm': case 'M': shift = 20; s++; break;
    case 'g': case 'G': shift = 30; s++; break;
    case 't': case 'T': shift = 40; s++; break;
    default: break;
    }
    if (*s)
        return -1;
    if (big || (shift && v > (UINT64_MAX >> shift)))
        return PARAM_TOO_BIG;
    *out = v << shift;
    return 0;
}

/* A decimal number as JSON writes one: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
 * (no '+', no hex, no leading zeros, no inf/nan), finite as a double; one
 * beyond the largest double (1e309) is PARAM_TOO_BIG, a non-zero one that
 * rounds to 0 (1e-400) PARAM_TOO_SMALL. */
int param_parse_dbl(const char *s, double *out)
{
    if (!s)
        return -1;
    const char *p = s;
    if (*p == '-')
        p++;
    if (!isdigit((unsigned char)*p) || (p[0] == '0' && isdigit((unsigned char)p[1])))
        return -1;
    while (isdigit((unsigned char)*p))
        p++;
    if (*p == '.') {
        if (!isdigit((unsigned char)*++p))
            return -1;
        while (isdigit((unsigned char)*p))
            p++;
    }
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-')
            p++;
        if (!isdigit((unsigned char)*p))
            return -1;
        while (isdigit((unsigned char)*p))
            p++;
    }
    if (*p)
        return -1;
    char *end;
    double v = strtod(s, &end);   /* rounds; underflow gives a denormal or 0 */
    if (end != p)
        return -1;
    if (!isfinite(v))
        return PARAM_TOO_BIG;
    if (v == 0 && strpbrk(s, "123456789") && strpbrk(s, "123456789") < (strpbrk(s, "eE") ? strpbrk(s, "eE") : p))
        return PARAM_TOO_SMALL;   /* a non-zero digit before the exponent, and it rounded to 0 */
    *out = v == 0 ? 0.0 : v;   /* -0 is 0: results write 0, and rerun reads 0 back */
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
        int prc = param_parse_u64(value, &v);
        if (prc == PARAM_TOO_BIG)
            return mv_error("%s: %s.%s: value %s out of range [%.0f, %.0f]",
                            where, g->prefix, d->name, value, d->min, d->max);
        if (prc)
            return mv_error("%s: %s.%s: malformed value '%s' (expected a decimal integer such as 12 or 4K)",
                            where, g->prefix, d->name, value);
        if ((double)v < d->min || (double)v > d->max)
            return mv_error("%s: %s.%s: value %s out of range [%.0f, %.0f]",
                            where, g->prefix, d->name, value, d->min, d->max);
        memcpy(field, &v, sizeof v);
        return 0;
    }
    case P_DBL: {
        double v;
        int prc = param_parse_dbl(value, &v);
        char range[72];
        param_range(d, range, sizeof range);
        if (prc == PARAM_TOO_BIG)
            return mv_error("%s: %s.%s: value %s out of range %s", where, g->prefix, d->name, value, range);
        if (prc == PARAM_TOO_SMALL)
            return mv_error("%s: %s.%s: value %s is too close to 0 for a double (it would be 0: write 0 if that "
                            "is meant)", where, g->prefix, d->name, value);
        if (prc)
            return mv_error("%s: %s.%s: malformed value '%s' (expected a decimal number such as 0.5 or 2e-3)",
                            where, g->prefix, d->name, value);
        if (v < d->min || v > d->max)
            return mv_error("%s: %s.%s: value %s out of range %s", where, g->prefix, d->name, value, range);
        memcpy(field, &v, sizeof v);
        return 0;
    }
    case P_BOOL: {
        int v;
        if (param_parse_bool(value, &v))
            return mv_error("%s: %s.%s: malformed value '%s' (expected true or false; any of " PARAM_BOOL_ALSO ")",
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

void param_format_dbl(double v, char *buf, size_t len)
{
    MV_ASSERT(buf && len, "no room to format %g", v);   /* (and gcc 12's -fsanitize builds see buf is not NULL) */
    if (v == 0)
        v = 0.0;   /* never "-0": param_parse_dbl reads no negative zero */
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, len, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            return;
    }
}

void param_format(const struct param_def *d, const void *cfg, char *buf, size_t len)
{
    const char *field = (const char *)cfg + d->off;
    switch (d->type) {
    case P_U64: { uint64_t v; memcpy(&v, field, sizeof v); snprintf(buf, len, "%llu", (unsigned long long)v); return; }
    case P_DBL: { double v; memcpy(&v, field, sizeof v); param_format_dbl(v, buf, len); return; }
    case P_BOOL: { int v; memcpy(&v, field, sizeof v); snprintf(buf, len, "%s", v ? "true" : "false"); return; }
    case P_CHOICE: case P_STR: snprintf(buf, len, "%s", field); return;
    }
    snprintf(buf, len, "?");
}

void param_range(const struct param_def *d, char *buf, size_t len)
{
    switch (d->type) {
    case P_U64: snprintf(buf, len, "[%.0f, %.0f]", d->min, d->max); return;
    case P_DBL: {   /* as a value is written (1000000000, not %g's 1e+09) */
        char lo[25], hi[25];   /* %.17g of any double fits */
        param_format_dbl(d->min, lo, sizeof lo);
        param_format_dbl(d->max, hi, sizeof hi);
        snprintf(buf, len, "[%s, %s]", lo, hi);
        return;
    }
    case P_BOOL: snprintf(buf, len, "true|false"); return;
    case P_CHOICE: snprintf(buf, len, "%s", d->choices); return;
    case P_STR: snprintf(buf, len, "text"); return;
    }
    snprintf(buf, len, "?");
}

void param_print_group(FILE *f, const struct param_group *g)
{
    for (size_t i = 0; i < g->n; i++) {
        const struct param_def *d = &g->defs[i];
        char name[96], range[72];
        snprintf(name, sizeof name, "%s.%s", g->prefix, d->name);
        param_range(d, range, sizeof range);
        fprintf(f, "  %-34s %-10s %-22s %s\n", name, *d->def ? d->def : "\"\"", range, d->doc);
    }
}

int param_is_default(const struct param_def *d, const void *cfg)
{
    size_t field = d->type == P_STR ? (size_t)d->max : d->type == P_CHOICE ? PARAM_STR_MAX : sizeof(uint64_t);
    char *def = mv_calloc(1, d->off + field);
    int quiet = mv_error_quiet(1);
    int rc = set_one(&(struct param_group){ "", d, 1, "" }, d, def, d->def, "default");
    mv_error_quiet(quiet);
    MV_ASSERT(rc == 0, "bad default for %s", d->name);
    char *a = mv_malloc(2 * PARAM_VALUE_MAX);
    param_format(d, cfg, a, PARAM_VALUE_MAX);
    param_format(d, def, a + PARAM_VALUE_MAX, PARAM_VALUE_MAX);
    int same = !strcmp(a, a + PARAM_VALUE_MAX);
    free(a);
    free(def);
    return same;
}

const char *param_show(const struct param_group *g, const void *cfg, const char *name, char *buf, size_t len)
{
    const struct param_def *d = param_find(g, name);
    MV_ASSERT(d, "no parameter %s.%s", g->prefix, name);
    char v[PARAM_VALUE_MAX];
    param_format(d, cfg, v, sizeof v);
    snprintf(buf, len, "%s.%s=%s%s", g->prefix, name, v, param_is_default(d, cfg) ? " (the default)" : "");
    return buf;
}

static uint64_t u64_of(const struct param_group *g, const void *cfg, const char *name)
{
    const struct param_def *d = param_find(g, name);
    MV_ASSERT(d && d->type == P_U64, "no integer parameter %s.%s", g->prefix, name);
    uint64_t v;
    memcpy(&v, (const char *)cfg + d->off, sizeof v);
    return v;
}

int param_check_sets(const struct param_group *g, const void *cfg, const char *entries_name, uint64_t n,
                     const char *unit, const char *ways_name)
{
    uint64_t entries = u64_of(g, cfg, entries_name), ways = u64_of(g, cfg, ways_name);
    if (n == 0)
        return 0;   /* absent */
    int edef = param_is_default(param_find(g, entries_name), cfg);
    int wdef = param_is_default(param_find(g, ways_name), cfg);
    char ekey[96], wkey[96], what[256], wshow[192];
    snprintf(ekey, sizeof ekey, "%s.%s", g->prefix, entries_name);
    snprintf(wkey, sizeof wkey, "%s.%s", g->prefix, ways_name);
    /* "tlb.l2_entries=1536", "cache.ptw_kb=256 (4096 64-byte lines)", each
     * with "the default" where it is */
    if (n == entries)
        snprintf(what, sizeof what, "%s=%llu%s", ekey, (unsigned long long)entries, edef ? " (the default)" : "");
    else
        snprintf(what, sizeof what, "%s=%llu (%s%llu %s)", ekey, (unsigned long long)entries,
                 edef ? "the default: " : "", (unsigned long long)n, unit);
    snprintf(wshow, sizeof wshow, "%s=%llu%s", wkey, (unsigned long long)ways, wdef ? " (the default)" : "");
    /* the user gave the entries, not the ways: the message leads with them */
    int by_entries = wdef && !edef;
    if (ways == 0)
        return mv_error("--param %s=0: a structure of %s needs at least one way", wkey, what);
    if (ways > n)
        return by_entries
                   ? mv_error("--param %s: fewer %s than %s: the number of %s must be a multiple of the ways", what,
                              unit, wshow, unit)
                   : mv_error("--param %s is more than %s: the number of %s must be a multiple of the ways", wshow,
                              what, unit);
    if (n % ways)
        return by_entries
                   ? mv_error("--param %s is not a multiple of %s: the number of %s must be a multiple of the ways",
                              what, wshow, unit)
                   : mv_error("--param %s does not divide %s: the number of %s must be a multiple of the ways", wshow,
                              what, unit);
    uint64_t sets = n / ways;
    if (sets & (sets - 1)) {
        uint64_t lo = 1;
        while (lo * 2 < sets)
            lo *= 2;
        char hint[160] = "";
        if (n == entries)   /* the next valid counts below and above, at these ways */
            snprintf(hint, sizeof hint, " (%s=%llu or %llu would do)", ekey, (unsigned long long)(lo * ways),
                     (unsigned long long)(2 * lo * ways));
        /* the user gave the ways, not the entries: the message leads with them */
        if (edef && !wdef)
            return mv_error("--param %s with %s gives %llu sets, not a power of two: the number of sets "
                            "(%s / ways) must be 1, 2, 4, 8 ...%s", wshow, what, (unsigned long long)sets, unit, hint);
        return mv_error("--param %s with %s gives %llu sets, not a power of two: the number of sets "
                        "(%s / ways) must be 1, 2, 4, 8 ...%s", what, wshow, (unsigned long long)sets, unit, hint);
    }
    return 0;
}

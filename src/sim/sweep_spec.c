/* sweep_spec.c: reads the text of a sweep spec into groups of axes (see
 * sweep_spec.h, docs/sweeps.md). Syntax only: what a key or value means is
 * checked by sweep_plan.c against the registries. */
#include "sim/sweep_spec.h"
#include "lib/err.h"
#include "lib/text.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct cursor {
    const char *file;
    unsigned line;
};

__attribute__((format(printf, 3, 4)))
static int perr(const struct cursor *c, unsigned col, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return mv_error("%s:%u:%u: %s", c->file, c->line, col, msg);
}

static char *dup_n(const char *s, size_t n)
{
    char *p = mv_malloc(n + 1);
    memcpy(p, s, n);
    p[n] = 0;
    return p;
}

static int is_space(char ch) { return ch == ' ' || ch == '\t'; }
static int is_key_char(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '_' || ch == '.' || ch == '-';
}

/* A byte as a message shows it. */
static const char *show(char ch, char *buf)
{
    unsigned char u = (unsigned char)ch;
    if (u < 0x20 || u >= 0x7f)
        snprintf(buf, 8, "0x%02x", u);
    else
        snprintf(buf, 8, "'%c'", ch);
    return buf;
}

static void axis_free(struct sweep_axis *a)
{
    free(a->key.text);
    for (unsigned i = 0; i < a->nvals; i++)
        free(a->vals[i].text);
    free(a->vals);
    free(a->where);
}

static void group_free(struct sweep_group *g)
{
    free(g->name.text);
    for (unsigned i = 0; i < g->naxes; i++)
        axis_free(&g->axes[i]);
    free(g->axes);
}

void sweep_spec_free(struct sweep_spec *s)
{
    free(s->file);
    group_free(&s->common);
    for (unsigned i = 0; i < s->ngroups; i++)
        group_free(&s->groups[i]);
    free(s->groups);
    memset(s, 0, sizeof *s);
}

static struct sweep_axis *group_find(struct sweep_group *g, const char *key)
{
    for (unsigned i = 0; i < g->naxes; i++)
        if (!strcmp(g->axes[i].key.text, key))
            return &g->axes[i];
    return NULL;
}

static void group_remove(struct sweep_group *g, const char *key)
{
    struct sweep_axis *a = group_find(g, key);
    if (!a)
        return;
    axis_free(a);
    unsigned i = (unsigned)(a - g->axes);
    memmove(&g->axes[i], &g->axes[i + 1], (g->naxes - i - 1) * sizeof *a);
    g->naxes--;
}

/* `KEY = V, V, ...` in line[0..len) (comment already cut). */
static int parse_axis(const struct cursor *c, const char *line, size_t len, struct sweep_axis *out)
{
    memset(out, 0, sizeof *out);
    size_t i = 0;
    while (i < len && is_space(line[i]))
        i++;
    size_t k0 = i;
    while (i < len && is_key_char(line[i]))
        i++;
    size_t k1 = i;
    while (i < len && is_space(line[i]))
        i++;
    char b[8];
    if (k1 == k0)
        return perr(c, (unsigned)k0 + 1, "expected KEY = VALUE, VALUE, ... or [group], found %s",
                    k0 == len ? "nothing" : show(line[k0], b));
    if (i == len || line[i] != '=') {
        if (i < len && is_key_char(line[i]))
            return perr(c, (unsigned)i + 1, "expected '=' after key '%.*s'", (int)(k1 - k0), line + k0);
        if (i < len)
            return perr(c, (unsigned)i + 1, "unexpected character %s in a key (keys are letters, digits, '_', '.', '-')",
                        show(line[i], b));
        return perr(c, (unsigned)i + 1, "expected '=' and values after key '%.*s'", (int)(k1 - k0), line + k0);
    }
    out->key = (struct sweep_tok){ dup_n(line + k0, k1 - k0), c->line, (unsigned)k0 + 1, NULL };
    i++;   /* past '=' */
    for (;;) {
        while (i < len && is_space(line[i]))
            i++;
        size_t v0 = i;
        while (i < len && line[i] != ',' && !is_space(line[i])) {
            unsigned char ch = (unsigned char)line[i];
            if (ch < 0x20 || ch == 0x7f) {
                axis_free(out);
                return perr(c, (unsigned)i + 1, "control character 0x%02x in a value", ch);
            }
            i++;
        }
        size_t v1 = i;
        while (i < len && is_space(line[i]))
            i++;
        if (v1 == v0) {
            axis_free(out);
            return perr(c, (unsigned)v0 + 1, "%s", i < len ? "empty value before ','" : "expected a value");
        }
        if (i < len && line[i] != ',') {
            axis_free(out);
            return perr(c, (unsigned)i + 1, "expected ',' between values (a value is one word)");
        }
        if (out->nvals == SWEEP_MAX_VALUES) {
            axis_free(out);
            return perr(c, (unsigned)v0 + 1, "more than %d values", SWEEP_MAX_VALUES);
        }
        out->vals = mv_realloc(out->vals, (out->nvals + 1) * sizeof *out->vals);
        out->vals[out->nvals++] = (struct sweep_tok){ dup_n(line + v0, v1 - v0), c->line, (unsigned)v0 + 1, NULL };
        if (i == len)
            return 0;
        i++;   /* past ',' */
    }
}

static int add_axis(const struct cursor *c, struct sweep_group *g, struct sweep_axis *a)
{
    struct sweep_axis *old = group_find(g, a->key.text);
    if (old) {
        perr(c, a->key.col, "key '%s' given twice in %s (first on line %u)", a->key.text,
             g->name.text ? "this group" : "the common lines", old->key.line);
        axis_free(a);
        return -1;
    }
    if (g->naxes == SWEEP_MAX_AXES) {
        perr(c, a->key.col, "more than %d keys", SWEEP_MAX_AXES);
        axis_free(a);
        return -1;
    }
    g->axes = mv_realloc(g->axes, (g->naxes + 1) * sizeof *g->axes);
    g->axes[g->naxes++] = *a;
    return 0;
}

/* `[name]`; line[start] is '['. */
static int parse_header(const struct cursor *c, struct sweep_spec *s, const char *line, size_t start, size_t len)
{
    const char *close = memchr(line + start, ']', len - start);
    if (!close)
        return perr(c, (unsigned)len + 1, "expected ']' to close the group name");
    for (const char *p = close + 1; p < line + len; p++)
        if (!is_space(*p))
            return perr(c, (unsigned)(p - line) + 1, "unexpected text after ']'");
    size_t n0 = start + 1, n1 = (size_t)(close - line);
    while (n0 < n1 && is_space(line[n0]))
        n0++;
    while (n1 > n0 && is_space(line[n1 - 1]))
        n1--;
    if (n1 == n0)
        return perr(c, (unsigned)start + 2, "empty group name");
    for (size_t i = n0; i < n1; i++) {
        unsigned char ch = (unsigned char)line[i];
        if (ch < 0x20 || ch == 0x7f || ch == '[' || ch == '"')
            return perr(c, (unsigned)i + 1, "character '%s' not allowed in a group name",
                        ch == '\t' ? "\\t" : ch == '[' ? "[" : ch == '"' ? "\"" : "control");
    }
    /* the name goes into the results' JSON and CSV, which are UTF-8 */
    char *name = dup_n(line + n0, n1 - n0);
    long bad = text_utf8_bad(name);
    free(name);
    if (bad >= 0)
        return perr(c, (unsigned)(n0 + (size_t)bad) + 1, "byte 0x%02x: a group name is UTF-8 text",
                    (unsigned char)line[n0 + (size_t)bad]);
    for (unsigned g = 0; g < s->ngroups; g++)
        if (strlen(s->groups[g].name.text) == n1 - n0 && !memcmp(s->groups[g].name.text, line + n0, n1 - n0))
            return perr(c, (unsigned)n0 + 1, "group '%s' given twice (first on line %u)", s->groups[g].name.text,
                        s->groups[g].name.line);
    if (s->ngroups == SWEEP_MAX_GROUPS)
        return perr(c, (unsigned)start + 1, "more than %d groups", SWEEP_MAX_GROUPS);
    s->groups = mv_realloc(s->groups, (s->ngroups + 1) * sizeof *s->groups);
    s->groups[s->ngroups++] = (struct sweep_group){ .name = { dup_n(line + n0, n1 - n0), c->line, (unsigned)n0 + 1, NULL } };
    return 0;
}

int sweep_spec_parse(struct sweep_spec *s, const char *file, const char *text, size_t len)
{
    memset(s, 0, sizeof *s);
    s->file = mv_strdup(file);
    struct cursor c = { file, 0 };
    size_t pos = 0;
    while (pos < len) {
        c.line++;
        const char *line = text + pos;
        const char *nl = memchr(line, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - line) : len - pos;
        pos += n + (nl ? 1 : 0);
        const char *nul = memchr(line, 0, n);
        if (nul) {
            perr(&c, (unsigned)(nul - line) + 1, "NUL byte (a spec is text)");
            goto fail;
        }
        if (n && line[n - 1] == '\r')
            n--;
        const char *hash = memchr(line, '#', n);
        if (hash)
            n = (size_t)(hash - line);
        size_t i = 0;
        while (i < n && is_space(line[i]))
            i++;
        if (i == n)
            continue;
        if (line[i] == '[') {
            if (parse_header(&c, s, line, i, n))
                goto fail;
            continue;
        }
        struct sweep_axis a;
        if (parse_axis(&c, line, n, &a))
            goto fail;
        if (add_axis(&c, s->ngroups ? &s->groups[s->ngroups - 1] : &s->common, &a))
            goto fail;
    }
    return 0;
fail:
    sweep_spec_free(s);
    return -1;
}

/* The values of a as they were given ("a, b"), for messages. */
static void values_text(const struct sweep_axis *a, char *buf, size_t n)
{
    size_t len = 0;
    buf[0] = 0;
    for (unsigned i = 0; i < a->nvals && len < n; i++)
        len += (size_t)snprintf(buf + len, n - len, "%s%s", i ? ", " : "", a->vals[i].text);
    if (len >= n && n > 4)
        strcpy(buf + n - 4, "...");
}

int sweep_spec_set(struct sweep_spec *s, const char *where, const char *kv)
{
    struct cursor c = { where, 1 };
    struct sweep_axis a;
    if (parse_axis(&c, kv, strlen(kv), &a))
        return -1;
    /* a key two --sets give: the same values are one axis, other values a
     * contradiction (the later one was taken, silently), as `memvirt run`
     * takes a --param given twice */
    struct sweep_axis *old = group_find(&s->common, a.key.text);
    if (old && old->where) {
        int same = old->nvals == a.nvals;
        for (unsigned i = 0; same && i < a.nvals; i++)
            same = !strcmp(old->vals[i].text, a.vals[i].text);
        if (!same) {
            char was[200], now[200];
            values_text(old, was, sizeof was);
            values_text(&a, now, sizeof now);
            perr(&c, a.key.col, "%s given twice with different values ('%s' at %s and '%s' here): one --set per key",
                 a.key.text, was, old->where, now);
        }
        axis_free(&a);
        return same ? 0 : -1;
    }
    a.lenient = 1;
    a.where = mv_strdup(where);   /* the plan reports a bad value where it was given */
    a.key.where = a.where;
    for (unsigned i = 0; i < a.nvals; i++)
        a.vals[i].where = a.where;
    group_remove(&s->common, a.key.text);
    for (unsigned g = 0; g < s->ngroups; g++)
        group_remove(&s->groups[g], a.key.text);
    return add_axis(&c, &s->common, &a);
}

/* profile.c: reading and writing cost profile files (see profile.h).
 *
 * The reader is strict: the first malformed thing in a file is reported as
 * NAME:LINE:COL with what was expected, and nothing is loaded. It never
 * trusts the input's sizes: every token is bounded, and the parser is
 * fuzzed (tests/fuzz/fuzz_profile.c). */
#include "sim/profile.h"
#include "lib/err.h"
#include "lib/outfile.h"
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const statuses[] = { "measured", "fitted", "bound", "default" };
static const char *const attr_names[] = { "status", "ns", "spread", "reps", "unit", "method", "note" };
#define NSTATUS (sizeof statuses / sizeof statuses[0])
#define NATTR_NAMES (sizeof attr_names / sizeof attr_names[0])

struct pctx {
    const char *name;
    unsigned line;
    const char *s, *e;      /* the line, without its newline */
};

__attribute__((format(printf, 3, 4)))
static int perr(const struct pctx *c, const char *at, const char *fmt, ...)
{
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return mv_error("%s:%u:%zu: %s", c->name, c->line, (size_t)(at - c->s) + 1, msg);
}

static int is_ws(char ch) { return ch == ' ' || ch == '\t'; }

static const char *skip_ws(const char *p, const char *e)
{
    while (p < e && is_ws(*p))
        p++;
    return p;
}

/* A shortened, printable copy of [p, p+n) for messages. */
static const char *shown(char *buf, size_t size, const char *p, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n && k + 4 < size; i++)
        buf[k++] = (p[i] >= 0x20 && p[i] < 0x7f) ? p[i] : '?';
    if (n > size - 4 && size >= 4) {
        buf[k++] = '.'; buf[k++] = '.'; buf[k++] = '.';
    }
    buf[k] = 0;
    return buf;
}

/* One value token at *pp: a "quoted string" (escapes \" and \\) or a bare
 * run of printable ASCII. Unquoted into out[PROFILE_VALUE_MAX]. */
static int token(const struct pctx *c, const char **pp, char *out, int *quoted)
{
    const char *p = *pp, *e = c->e, *start = p;
    size_t n = 0;
    *quoted = 0;
    if (p < e && *p == '"') {
        *quoted = 1;
        p++;
        for (;;) {
            if (p == e)
                return perr(c, start, "unterminated string (missing closing '\"')");
            char ch = *p;
            if (ch == '"')
                break;
            if (ch == '\\') {
                if (p + 1 == e || (p[1] != '"' && p[1] != '\\'))
                    return perr(c, p, "unknown escape in string (only \\\" and \\\\ are allowed)");
                ch = p[1];
                p++;
            }
            if (n + 1 >= PROFILE_VALUE_MAX)
                return perr(c, start, "value longer than %d bytes", PROFILE_VALUE_MAX - 1);
            out[n++] = ch;
            p++;
        }
        p++;   /* the closing quote */
        if (p < e && !is_ws(*p))
            return perr(c, p, "expected a space after the closing quote");
    } else {
        while (p < e && !is_ws(*p)) {
            if (*p == '"')
                return perr(c, p, "unexpected '\"' inside a value (quote the whole value)");
            if ((unsigned char)*p >= 0x80)
                return perr(c, p, "non-ASCII byte outside a quoted string");
            if (n + 1 >= PROFILE_VALUE_MAX)
                return perr(c, start, "value longer than %d bytes", PROFILE_VALUE_MAX - 1);
            out[n++] = *p++;
        }
        if (p == start)
            return perr(c, start, "missing value");
    }
    out[n] = 0;
    *pp = p;
    return 0;
}

/* A name: a lower-case letter, then lower-case letters, digits, '_' and (if
 * dots) '.'. Returns its length (0: none). */
static size_t name_len(const char *p, const char *e, int dots)
{
    if (p == e || *p < 'a' || *p > 'z')
        return 0;
    size_t n = 1;
    while (p + n < e && ((p[n] >= 'a' && p[n] <= 'z') || (p[n] >= '0' && p[n] <= '9') ||
                         p[n] == '_' || (dots && p[n] == '.')))
        n++;
    return n;
}

/* A measured figure: any finite number (a difference of two measurements
 * can come out below zero). */
static int check_number(const struct pctx *c, const char *at, const char *what, const char *v, double *out)
{
    double d;
    int prc = param_parse_dbl(v, &d);
    if (prc == PARAM_TOO_SMALL)
        return perr(c, at, "%s: number '%s' is too close to 0 for a double (it would be 0)", what, v);
    if (prc)
        return perr(c, at, "%s: malformed number '%s'", what, v);
    if (out)
        *out = d;
    return 0;
}

static int check_attr(const struct pctx *c, const char *at, const struct profile_attr *a)
{
    const char *v = a->value;
    if (!strcmp(a->name, "status")) {
        for (unsigned i = 0; i < NSTATUS; i++)
            if (!strcmp(v, statuses[i]))
                return 0;
        return perr(c, at, "status: unknown status '%s' (measured, fitted, bound or default)", v);
    }
    if (!strcmp(a->name, "ns"))
        return check_number(c, at, "ns", v, NULL);
    if (!strcmp(a->name, "reps")) {
        uint64_t r;
        if (param_parse_u64(v, &r) || r == 0)
            return perr(c, at, "reps: malformed count '%s' (expected a positive integer)", v);
        return 0;
    }
    if (!strcmp(a->name, "spread")) {
        const char *dd = strstr(v + 1, "..");   /* v + 1: a leading "-" is the low end's sign */
        if (!dd)
            return perr(c, at, "spread: expected LOW..HIGH, not '%s'", v);
        char lo[PROFILE_VALUE_MAX];
        memcpy(lo, v, (size_t)(dd - v));
        lo[dd - v] = 0;
        double l = 0, h = 0;
        if (check_number(c, at, "spread", lo, &l) || check_number(c, at, "spread", dd + 2, &h))
            return -1;
        if (l > h)
            return perr(c, at, "spread: low end %s is above high end %s", lo, dd + 2);
        return 0;
    }
    return 0;   /* unit, method, note: any text */
}

static struct profile_line *grow(struct profile *p)
{
    if (p->n == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 64;
        p->line = mv_realloc(p->line, p->cap * sizeof *p->line);
    }
    struct profile_line *l = &p->line[p->n++];
    memset(l, 0, sizeof *l);
    return l;
}

/* One "KEY = VALUE [ATTR=VALUE ...] [# comment]" line. */
static int parse_entry(struct profile *p, const struct pctx *c, const char *s)
{
    const char *e = c->e;
    char buf[80];
    if (p->n >= PROFILE_MAX_ENTRIES)
        return perr(c, s, "more than %d entries (a profile holds one line per cost entry, "
                    "host fact or measurement)", PROFILE_MAX_ENTRIES);
    size_t kl = name_len(s, e, 1);
    if (!kl)
        return perr(c, s, "expected a key (cost.NAME, host.NAME or measured.NAME)");
    if (kl >= PROFILE_KEY_MAX)
        return perr(c, s, "key longer than %d bytes", PROFILE_KEY_MAX - 1);
    const char *key_at = s;
    struct profile_line l = { 0 };
    memcpy(l.key, s, kl);
    l.key[kl] = 0;
    const char *q = skip_ws(s + kl, e);
    if (q == e || *q != '=')
        return perr(c, q, "expected '=' after '%s'", l.key);
    q = skip_ws(q + 1, e);
    if (q == e || *q == '#')
        return perr(c, q, "missing value for '%s'", l.key);
    const char *val_at = q;
    int quoted;
    if (token(c, &q, l.value, &quoted))
        return -1;
    while (q < e) {
        q = skip_ws(q, e);
        if (q == e || *q == '#')
            break;
        size_t al = name_len(q, e, 0);
        if (!al || q + al == e || q[al] != '=')
            return perr(c, q, "expected NAME=VALUE or a '#' comment, not '%s'",
                        shown(buf, sizeof buf, q, (size_t)(e - q)));
        struct profile_attr a = { 0 };
        unsigned known = 0;
        for (unsigned i = 0; i < NATTR_NAMES; i++)
            known |= strlen(attr_names[i]) == al && !strncmp(q, attr_names[i], al);
        if (!known)
            return perr(c, q, "unknown attribute '%s' (status, ns, spread, reps, unit, method or note)",
                        shown(buf, sizeof buf, q, al));
        memcpy(a.name, q, al);
        for (unsigned i = 0; i < l.nattr; i++)
            if (!strcmp(l.attr[i].name, a.name))
                return perr(c, q, "duplicate attribute '%s'", a.name);
        q += al + 1;
        if (q == e || is_ws(*q))
            return perr(c, q, "missing value for attribute '%s'", a.name);
        const char *av = q;
        int aq;
        if (token(c, &q, a.value, &aq) || check_attr(c, av, &a))
            return -1;
        l.attr[l.nattr++] = a;   /* at most NATTR_NAMES <= PROFILE_MAX_ATTRS, no duplicates */
    }
    for (unsigned i = 0; i < p->n; i++)
        if (!strcmp(p->line[i].key, l.key))
            return perr(c, key_at, "duplicate key '%s'", l.key);

    if (!strncmp(l.key, "cost.", 5)) {
        const char *name = l.key + 5;
        if (!param_find(&cost_params, name))
            return perr(c, key_at, "unknown cost entry '%s' (see 'memvirt list')", l.key);
        if (quoted)
            return perr(c, val_at, "%s: expected a number, not a string", l.key);
        char where[sizeof buf + 64];
        snprintf(where, sizeof where, "%s:%u:%zu", c->name, c->line, (size_t)(val_at - c->s) + 1);
        const char *status = profile_line_attr(&l, "status");
        if (status && !strcmp(status, "default")) {
            /* Not a measurement: the compiled default applies, whatever
             * value the line froze when it was written. */
            struct cost dflt, seen;
            param_defaults(&cost_params, &dflt);
            seen = dflt;
            if (param_set(&cost_params, &seen, name, l.value, where))
                return -1;
            if (memcmp(&seen, &dflt, sizeof seen)) {
                char now[64];
                param_format(param_find(&cost_params, name), &dflt, now, sizeof now);
                mv_warn("%s: %s = %s is marked status=default but the compiled default is now %s: "
                        "the line is ignored and %s applies (recalibrate, or delete the line)",
                        where, l.key, l.value, now, now);
            }
        } else if (param_set(&cost_params, &p->cost, name, l.value, where)) {
            return -1;
        }
    } else if (!strncmp(l.key, "measured.", 9) && l.key[9]) {
        if (check_number(c, val_at, l.key, l.value, NULL))
            return -1;
    } else if (strncmp(l.key, "host.", 5) || !l.key[5]) {
        return perr(c, key_at, "unknown key '%s' (keys are cost.NAME, host.NAME or measured.NAME)", l.key);
    }
    *grow(p) = l;
    return 0;
}

static int parse_header(const struct pctx *c, const char *s)
{
    const char *e = c->e;
    size_t ml = strlen(PROFILE_MAGIC);
    if ((size_t)(e - s) < ml || strncmp(s, PROFILE_MAGIC, ml) || (s + ml < e && !is_ws(s[ml])))
        return perr(c, s, "expected the header '%s %d' before anything else", PROFILE_MAGIC, PROFILE_VERSION);
    const char *v = skip_ws(s + ml, e);
    const char *ve = v;
    while (ve < e && !is_ws(*ve))
        ve++;
    char buf[40];
    if (ve - v != 1 || *v != '0' + PROFILE_VERSION)
        return perr(c, v, "unsupported format version '%s' (this memvirt reads version %d)",
                    shown(buf, sizeof buf, v, (size_t)(ve - v)), PROFILE_VERSION);
    const char *rest = skip_ws(ve, e);
    if (rest < e && *rest != '#')
        return perr(c, rest, "unexpected text after the header");
    return 0;
}

int profile_parse(struct profile *p, const char *name, const char *text, size_t len)
{
    memset(p, 0, sizeof *p);
    param_defaults(&cost_params, &p->cost);
    struct pctx c = { .name = name };
    const char *t = text, *end = text + len;
    int header = 0;
    while (t < end) {
        c.line++;
        const char *nl = memchr(t, '\n', (size_t)(end - t));
        c.s = t;
        c.e = nl ? nl : end;
        t = nl ? nl + 1 : end;
        if (c.e > c.s && c.e[-1] == '\r')   /* tolerate CRLF line ends */
            c.e--;
        if (c.e - c.s > PROFILE_LINE_MAX) {
            perr(&c, c.s + PROFILE_LINE_MAX, "line longer than %d bytes", PROFILE_LINE_MAX);
            goto fail;
        }
        for (const char *q = c.s; q < c.e; q++) {
            unsigned char ch = (unsigned char)*q;
            if (ch == 0) {
                perr(&c, q, "NUL byte (not a text file?)");
                goto fail;
            }
            if ((ch < 0x20 && ch != '\t') || ch == 0x7f) {
                perr(&c, q, "control character 0x%02x", ch);
                goto fail;
            }
        }
        const char *s = skip_ws(c.s, c.e);
        if (s == c.e || *s == '#')
            continue;
        if (!header) {
            if (parse_header(&c, s))
                goto fail;
            header = 1;
            continue;
        }
        if (parse_entry(p, &c, s))
            goto fail;
    }
    if (!header) {
        mv_error("%s:%u:1: no '%s %d' header: not a memvirt cost profile", name, c.line ? c.line : 1,
                 PROFILE_MAGIC, PROFILE_VERSION);
        goto fail;
    }
    return 0;
fail:
    profile_free(p);
    param_defaults(&cost_params, &p->cost);
    return -1;
}

int profile_load(struct profile *p, const char *path)
{
    memset(p, 0, sizeof *p);
    param_defaults(&cost_params, &p->cost);
    FILE *f = fopen(path, "rb");
    if (!f)
        return mv_error("%s: cannot read profile: %s", path, strerror(errno));
    size_t cap = 8192, n = 0, got;
    char *buf = mv_malloc(cap);
    while ((got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            if (cap >= (64u << 20)) {
                fclose(f);
                free(buf);
                return mv_error("%s: profile larger than 64 MiB", path);
            }
            buf = mv_realloc(buf, cap *= 2);
        }
    }
    int bad = ferror(f), err = errno;
    fclose(f);
    if (bad) {
        free(buf);
        return mv_error("%s: cannot read profile: %s", path, strerror(err));
    }
    int rc = profile_parse(p, path, buf, n);
    free(buf);
    return rc;
}

void profile_free(struct profile *p)
{
    free(p->line);
    p->line = NULL;
    p->n = p->cap = 0;
}

/* A byte as a profile can hold it: a control byte (which the loader
 * refuses) becomes a space. */
static char clean_char(char c)
{
    unsigned char ch = (unsigned char)c;
    return (ch < 0x20 || ch == 0x7f) ? ' ' : c;
}

/* Copy text, replacing what a profile cannot hold (control bytes). */
static void clean_copy(char *dst, size_t size, const char *src)
{
    size_t i = 0;
    for (; src[i] && i + 1 < size; i++)
        dst[i] = clean_char(src[i]);
    dst[i] = 0;
}

struct profile_line *profile_add(struct profile *p, const char *key, const char *value)
{
    struct profile_line *l = grow(p);
    clean_copy(l->key, sizeof l->key, key);
    clean_copy(l->value, sizeof l->value, value);
    return l;
}

void profile_attr(struct profile_line *l, const char *name, const char *fmt, ...)
{
    MV_ASSERT(l->nattr < PROFILE_MAX_ATTRS, "too many attributes on %s", l->key);
    struct profile_attr *a = &l->attr[l->nattr++];
    char buf[PROFILE_VALUE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    clean_copy(a->name, sizeof a->name, name);
    clean_copy(a->value, sizeof a->value, buf);
}

const struct profile_line *profile_find(const struct profile *p, const char *key)
{
    for (unsigned i = 0; i < p->n; i++)
        if (!strcmp(p->line[i].key, key))
            return &p->line[i];
    return NULL;
}

const char *profile_line_attr(const struct profile_line *l, const char *name)
{
    for (unsigned i = 0; i < l->nattr; i++)
        if (!strcmp(l->attr[i].name, name))
            return l->attr[i].value;
    return NULL;
}

static void put_value(FILE *f, const char *v, int force_quote)
{
    int q = force_quote || !*v;
    for (const char *s = v; *s && !q; s++)
        q = is_ws(*s) || *s == '"' || *s == '\\' || *s == '#' || (unsigned char)*s >= 0x80;
    if (!q) {
        fputs(v, f);
        return;
    }
    fputc('"', f);
    for (const char *s = v; *s; s++) {
        if (*s == '"' || *s == '\\')
            fputc('\\', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

void profile_write(FILE *f, const struct profile *p, const char *comment)
{
    for (const char *s = comment; s && *s;) {
        const char *nl = strchr(s, '\n');
        size_t n = nl ? (size_t)(nl - s) : strlen(s);
        fputs(n ? "# " : "#", f);
        for (size_t i = 0; i < n; i++)   /* free text (calibrate's command line): cleaned as values are */
            fputc(clean_char(s[i]), f);
        fputc('\n', f);
        s = nl ? nl + 1 : s + n;
    }
    fprintf(f, "%s %d\n", PROFILE_MAGIC, PROFILE_VERSION);
    const char *section = "";
    size_t section_len = 0;
    for (unsigned i = 0; i < p->n; i++) {
        const struct profile_line *l = &p->line[i];
        const char *dot = strchr(l->key, '.');
        size_t sl = dot ? (size_t)(dot - l->key) : strlen(l->key);
        if (i == 0 || section_len != sl || strncmp(section, l->key, sl)) {   /* a blank line between groups */
            fputc('\n', f);
            section = l->key;
            section_len = sl;
        }
        fputs(l->key, f);
        fputs(" = ", f);
        put_value(f, l->value, !strncmp(l->key, "host.", 5));
        for (unsigned a = 0; a < l->nattr; a++) {
            fprintf(f, " %s=", l->attr[a].name);
            put_value(f, l->attr[a].value, !strcmp(l->attr[a].name, "method") || !strcmp(l->attr[a].name, "note"));
        }
        fputc('\n', f);
    }
}

int profile_save(const char *path, const struct profile *p, const char *comment)
{
    struct outset set = { 0 };
    int rc = outset_add(&set, "-o", path);
    if (!rc) {
        FILE *f = outset_stream(&set, 0);
        profile_write(f, p, comment);
        rc = ferror(f) ? outset_stream_failed(&set, 0) : outset_commit(&set);
    }
    outset_free(&set);
    return rc;
}

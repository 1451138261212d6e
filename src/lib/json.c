/* json.c: streaming JSON writer (see json.h). */
#include "lib/json.h"
#include "lib/text.h"
#include <math.h>

void json_init(struct json *j, FILE *f)
{
    j->f = f;
    j->depth = 0;
    j->first[0] = 1;
    j->after_key = 0;
    j->error = 0;
}

static void indent(struct json *j)
{
    fputc('\n', j->f);
    for (int i = 0; i < j->depth; i++)
        fputs("  ", j->f);
}

/* Before any value or key: separator and indentation. */
static void pre(struct json *j, int is_key)
{
    if (j->after_key) {
        if (is_key)
            j->error = 1;
        j->after_key = 0;
        return;
    }
    if (j->depth == 0) {
        if (!j->first[0])
            j->error = 1;   /* a second top-level value */
        j->first[0] = 0;
        return;
    }
    if (!j->first[j->depth])
        fputc(',', j->f);
    j->first[j->depth] = 0;
    indent(j);
}

static void open(struct json *j, char c)
{
    pre(j, 0);
    fputc(c, j->f);
    if (j->depth + 1 >= JSON_MAX_DEPTH) {
        j->error = 1;
        return;
    }
    j->depth++;
    j->first[j->depth] = 1;
}

static void close(struct json *j, char c)
{
    if (j->depth == 0 || j->after_key) {
        j->error = 1;
        return;
    }
    int empty = j->first[j->depth];
    j->depth--;
    if (!empty)
        indent(j);
    fputc(c, j->f);
}

void json_obj_begin(struct json *j) { open(j, '{'); }
void json_obj_end(struct json *j) { close(j, '}'); }
void json_arr_begin(struct json *j) { open(j, '['); }
void json_arr_end(struct json *j) { close(j, ']'); }

/* A string that is not UTF-8 makes no JSON (RFC 8259 8.1): the document is
 * in error (json_finish fails, and no such file is written). The commands
 * refuse such names from the user before they run (config_validate). */
static void put_string(struct json *j, const char *s)
{
    FILE *f = j->f;
    if (text_utf8_bad(s) >= 0)
        j->error = 1;
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': fputs("\\\"", f); break;
        case '\\': fputs("\\\\", f); break;
        case '\n': fputs("\\n", f); break;
        case '\r': fputs("\\r", f); break;
        case '\t': fputs("\\t", f); break;
        case '\b': fputs("\\b", f); break;
        case '\f': fputs("\\f", f); break;
        default:
            if (*p < 0x20)
                fprintf(f, "\\u%04x", *p);
            else
                fputc(*p, f);
        }
    }
    fputc('"', f);
}

void json_key(struct json *j, const char *k)
{
    pre(j, 1);
    put_string(j, k);
    fputs(": ", j->f);
    j->after_key = 1;
}

void json_str(struct json *j, const char *s) { pre(j, 0); put_string(j, s); }
void json_u64(struct json *j, uint64_t v) { pre(j, 0); fprintf(j->f, "%llu", (unsigned long long)v); }
void json_i64(struct json *j, int64_t v) { pre(j, 0); fprintf(j->f, "%lld", (long long)v); }
void json_bool(struct json *j, int v) { pre(j, 0); fputs(v ? "true" : "false", j->f); }
void json_null(struct json *j) { pre(j, 0); fputs("null", j->f); }
void json_raw(struct json *j, const char *number) { pre(j, 0); fputs(number, j->f); }

void json_dbl(struct json *j, double v)
{
    pre(j, 0);
    if (!isfinite(v))
        fputs("null", j->f);
    else if (fabs(v) < 1e15 && v == (double)(int64_t)v)
        fprintf(j->f, "%lld", (long long)v);
    else
        fprintf(j->f, "%.9g", v);
}

int json_finish(struct json *j)
{
    if (j->depth != 0 || j->after_key || j->first[0])
        j->error = 1;
    fputc('\n', j->f);
    return j->error || ferror(j->f) ? -1 : 0;
}

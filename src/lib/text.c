/* text.c: text made safe for line-based UTF-8 files (see text.h). */
#include "lib/text.h"
#include "lib/err.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

unsigned text_utf8_len(const unsigned char *s)
{
    unsigned char c = s[0];
    unsigned n;
    unsigned char lo = 0x80, hi = 0xbf;   /* the second byte's range */
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        n = 2;
    else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        if (c == 0xe0)
            lo = 0xa0;
        if (c == 0xed)
            hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        if (c == 0xf0)
            lo = 0x90;
        if (c == 0xf4)
            hi = 0x8f;
    } else
        return 0;
    if (s[1] < lo || s[1] > hi)
        return 0;
    for (unsigned i = 2; i < n; i++)
        if (s[i] < 0x80 || s[i] > 0xbf)
            return 0;
    return n;
}

void text_put_line_safe(FILE *f, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned n = text_utf8_len(p);
        if (!n || (n == 1 && (*p < 0x20 || *p == 0x7f))) {
            fputc('?', f);
            p++;
            continue;
        }
        fwrite(p, 1, n, f);
        p += n;
    }
}

size_t text_escape(char *out, size_t cap, const char *s, size_t max_in)
{
    size_t k = 0, used = 0;
    const unsigned char *in = (const unsigned char *)s;
    while (cap && used < max_in && in[used]) {
        const unsigned char *p = in + used;
        unsigned n = text_utf8_len(p);
        char esc[8];
        const char *put = (const char *)p;
        size_t len = n;
        if (n > 1 && p[0] == 0xc2 && p[1] < 0xa0)   /* a C1 control */
            n = 0;
        if (n == 1 && (*p < 0x20 || *p == 0x7f))
            n = 0;
        if (!n) {
            if (*p == '\n' || *p == '\t' || *p == '\r')
                len = (size_t)snprintf(esc, sizeof esc, "\\%c", *p == '\n' ? 'n' : *p == '\t' ? 't' : 'r');
            else
                len = (size_t)snprintf(esc, sizeof esc, "\\x%02x", *p);
            put = esc;
            n = 1;
        }
        if (max_in - used < n || k + len + 1 > cap)
            break;
        memcpy(out + k, put, len);
        k += len;
        used += n;
    }
    if (cap)
        out[k] = 0;
    return k;
}

long text_utf8_bad(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned n = text_utf8_len(p);
        if (!n)
            return (long)((const char *)p - s);
        p += n;
    }
    return -1;
}

int text_utf8_name(const char *what, const char *s)
{
    long bad = text_utf8_bad(s);
    if (bad < 0)
        return 0;
    /* shown with every byte that is not UTF-8 as \xHH, the rest as given */
    char *shown = mv_malloc(4 * strlen(s) + 1), *o = shown;
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        unsigned n = text_utf8_len(p);
        if (!n) {
            o += sprintf(o, "\\x%02x", *p++);
            continue;
        }
        memcpy(o, p, n);
        o += n;
        p += n;
    }
    *o = 0;
    mv_error("%s: '%s': not valid UTF-8 (byte 0x%02x at offset %ld): results are JSON, whose strings are "
             "UTF-8, and the name must read back as the same file: rename the file, or link to it under a UTF-8 "
             "name", what, shown, (unsigned char)s[bad], bad);
    free(shown);
    return -1;
}

/* text.c: text made safe for line-based UTF-8 files (see text.h). */
#include "lib/text.h"
#include "lib/err.h"
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

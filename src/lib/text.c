/* text.c: text made safe for line-based UTF-8 files (see text.h). */
#include "lib/text.h"

/* The length of the well-formed UTF-8 sequence at s (RFC 3629: no
 * overlong forms, no surrogates, nothing past U+10FFFF), or 0. */
static unsigned utf8_len(const unsigned char *s)
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
        unsigned n = utf8_len(p);
        if (!n || (n == 1 && (*p < 0x20 || *p == 0x7f))) {
            fputc('?', f);
            p++;
            continue;
        }
        fwrite(p, 1, n, f);
        p += n;
    }
}

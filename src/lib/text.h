/* text.h: text from the user made safe to write into line-based files
 * (a sweep's manifest and its Slurm scripts), which their readers take as
 * UTF-8 lines; and the check that a name may go into a JSON string. */
#ifndef MV_LIB_TEXT_H
#define MV_LIB_TEXT_H
#include <stddef.h>
#include <stdio.h>

/* Write s to f with every control character (below 0x20, and 0x7f) and
 * every byte that is not part of a well-formed UTF-8 sequence replaced by
 * '?': the result is one line of valid UTF-8, whatever s held (a file name
 * may hold a newline or Latin-1 bytes). */
void text_put_line_safe(FILE *f, const char *s);

/* The length of the well-formed UTF-8 sequence at s (RFC 3629: no
 * overlong forms, no surrogates, nothing past U+10FFFF), or 0. */
unsigned text_utf8_len(const unsigned char *s);

/* s, at most its first max_in bytes, into out (cap bytes, always
 * NUL-terminated; it stops before what would not fit) as one line safe
 * for a terminal: printable ASCII and well-formed UTF-8 as they are; a
 * newline, tab and carriage return as \n, \t, \r; every other control
 * byte, C1 control (U+0080..U+009F) and byte that is not UTF-8 as \xHH.
 * The length written. s must end with a NUL even past max_in (a UTF-8
 * sequence starting before max_in is read whole to see if it is one). */
size_t text_escape(char *out, size_t cap, const char *s, size_t max_in);

/* The offset of the first byte of s that is not part of a well-formed
 * UTF-8 sequence (RFC 3629), or -1 if s is valid UTF-8 throughout. */
long text_utf8_bad(const char *s);

/* Refuse a name from the user that would go into a result's JSON (a trace
 * file, a profile file) unless it is valid UTF-8: JSON strings are UTF-8
 * (RFC 8259), and a byte escaped some other way would not read back as the
 * same file name. `what` names where it came from ("--trace",
 * "--param: trace.file"). 0, or -1 after one mv_error
 * ("WHAT: 'NAME': not valid UTF-8 (byte 0xHH at offset N) ...") with
 * every byte of the name that is not UTF-8 shown as \xHH. */
int text_utf8_name(const char *what, const char *s);

#endif

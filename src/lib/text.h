/* text.h: text from the user made safe to write into line-based files
 * (a sweep's manifest and its Slurm scripts), which their readers take as
 * UTF-8 lines. */
#ifndef MV_LIB_TEXT_H
#define MV_LIB_TEXT_H
#include <stdio.h>

/* Write s to f with every control character (below 0x20, and 0x7f) and
 * every byte that is not part of a well-formed UTF-8 sequence replaced by
 * '?': the result is one line of valid UTF-8, whatever s held (a file name
 * may hold a newline or Latin-1 bytes). */
void text_put_line_safe(FILE *f, const char *s);

#endif

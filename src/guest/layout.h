/* layout.h: what execve loads: an executable and its libraries as segments.
 *
 * A layout plays the part of an ELF binary plus its shared libraries and
 * the initial stack: the kernel turns each segment into a VMA (file-backed
 * private mappings for text and data, anonymous for bss, heap and stack). */
#ifndef MV_GUEST_LAYOUT_H
#define MV_GUEST_LAYOUT_H
#include <stdint.h>

enum seg_kind { SEG_FILE, SEG_ANON, SEG_HEAP, SEG_STACK };

struct segment {
    uint64_t start, len;     /* page aligned */
    unsigned prot;           /* PROT_* */
    unsigned kind;           /* enum seg_kind */
    uint32_t file;           /* SEG_FILE: inode */
    uint64_t pgoff;          /* SEG_FILE: offset in pages */
};

#define LAYOUT_MAX_SEGS 64
struct layout {
    const char *name;
    unsigned nseg;
    struct segment seg[LAYOUT_MAX_SEGS];
};

#endif

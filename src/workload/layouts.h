/* layouts.h: the built-in executable images the workloads exec: a shell, a
 * tiny program, lmbench's lat_proc, a browser and its helper processes, and
 * the memwalk kernel. Sizes follow typical x86-64 Linux binaries (a PIE image
 * near 0x555555554000, libraries below 0x7ffff8000000, the stack at the top
 * of the user half); each binary and library is one file (inode) so its pages
 * are shared through the page cache by every process that maps it. */
#ifndef MV_WORKLOAD_LAYOUTS_H
#define MV_WORKLOAD_LAYOUTS_H
#include "guest/layout.h"

const struct layout *layout_get(const char *name);   /* NULL if unknown */
/* The lowest address any built-in program maps (their PIE image's start):
 * a guest whose vm.mmap_min_addr is above it refuses every exec of them. */
uint64_t layouts_lowest(void);

/* The parts of a layout a process touches: ranges and the access kind. */
#define STACK_TOP 0x7ffffffff000ull

#endif

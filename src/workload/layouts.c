/* layouts.c: built-in executable layouts (see layouts.h). */
#include "workload/layouts.h"
#include "guest/kernel.h"
#include "lib/err.h"
#include <pthread.h>
#include <string.h>

#define KB 1024ull
#define MB (1024ull * 1024)

static void seg(struct layout *l, uint64_t start, uint64_t len, unsigned prot, unsigned kind,
                uint32_t file, uint64_t pgoff)
{
    MV_ASSERT(l->nseg < LAYOUT_MAX_SEGS, "layout %s: too many segments", l->name);
    l->seg[l->nseg++] = (struct segment){ start, len, prot, kind, file, pgoff };
}

/* An ELF object: text (r-x), read-only data (r--), data (rw-, private file
 * pages) and bss (anonymous); returns the address after it. */
static uint64_t object(struct layout *l, uint64_t base, uint32_t inode, uint64_t text,
                       uint64_t rodata, uint64_t data, uint64_t bss)
{
    uint64_t a = base, off = 0;
    seg(l, a, text, PROT_READ | PROT_EXEC, SEG_FILE, inode, off);
    a += text; off += text >> 12;
    if (rodata) {
        seg(l, a, rodata, PROT_READ, SEG_FILE, inode, off);
        a += rodata; off += rodata >> 12;
    }
    seg(l, a, data, PROT_READ | PROT_WRITE, SEG_FILE, inode, off);
    a += data;
    if (bss) {
        seg(l, a, bss, PROT_READ | PROT_WRITE, SEG_ANON, 0, 0);
        a += bss;
    }
    return a;
}

enum { INO_SH = 10, INO_HELLO, INO_LATPROC, INO_BROWSER, INO_HELPER, INO_MEMWALK,
       INO_LD = 100, INO_LIBC, INO_LIBM, INO_LIBPTHREAD, INO_LIBGUI = 120 };

static uint64_t libs_common(struct layout *l, uint64_t top)
{
    uint64_t a = top - 16 * MB;
    a = object(l, a, INO_LIBC, 1400 * KB, 400 * KB, 16 * KB, 56 * KB);
    a = object(l, a + 64 * KB, INO_LIBM, 600 * KB, 100 * KB, 8 * KB, 0);
    object(l, a + 64 * KB, INO_LD, 160 * KB, 40 * KB, 8 * KB, 8 * KB);
    return top - 16 * MB;
}

static void stack(struct layout *l, uint64_t len)
{
    seg(l, STACK_TOP - len, len, PROT_READ | PROT_WRITE, SEG_STACK, 0, 0);
}

/* A program: its executable's sizes, its heap, how many GUI libraries it
 * maps besides libc, libm and ld.so, and its stack. */
struct program {
    const char *name;
    uint32_t inode;
    uint64_t text, rodata, data, bss;
    uint64_t heap_gap, heap;      /* the heap starts heap_gap after the image */
    unsigned gui_libs;
    uint64_t stack;
};

static const struct program programs[] = {
    { "sh", INO_SH, 1000 * KB, 200 * KB, 48 * KB, 40 * KB, 4 * MB, 132 * KB, 0, 132 * KB },
    { "hello", INO_HELLO, 16 * KB, 4 * KB, 4 * KB, 4 * KB, 4 * MB, 0, 0, 132 * KB },
    { "lat_proc", INO_LATPROC, 64 * KB, 16 * KB, 8 * KB, 16 * KB, 4 * MB, 132 * KB, 0, 132 * KB },
    /* a browser: a large main binary, many GUI libraries, a big heap */
    { "browser", INO_BROWSER, 24 * MB, 6 * MB, 1 * MB, 512 * KB, 32 * MB, 16 * MB, 10, 8 * MB },
    { "helper", INO_HELPER, 2 * MB, 512 * KB, 128 * KB, 128 * KB, 8 * MB, 2 * MB, 3, 1 * MB },
    { "memwalk", INO_MEMWALK, 32 * KB, 8 * KB, 8 * KB, 8 * KB, 4 * MB, 0, 0, 8 * MB },
};
#define NPROGRAMS (sizeof programs / sizeof programs[0])

static struct layout layouts[NPROGRAMS];
static pthread_once_t built = PTHREAD_ONCE_INIT;   /* runs may start in parallel threads */

#define PIE_BASE 0x555555554000ull   /* where x86-64 Linux loads a PIE (ELF_ET_DYN_BASE) */

uint64_t layouts_lowest(void)
{
    return PIE_BASE;   /* every program's image starts there, below its heap, libraries and stack */
}

static void build(void)
{
    const uint64_t pie = PIE_BASE, libtop = 0x7ffff8000000ull;
    for (unsigned i = 0; i < NPROGRAMS; i++) {
        const struct program *p = &programs[i];
        struct layout *l = &layouts[i];
        l->name = p->name;
        uint64_t a = object(l, pie, p->inode, p->text, p->rodata, p->data, p->bss);
        seg(l, a + p->heap_gap, p->heap, PROT_READ | PROT_WRITE, SEG_HEAP, 0, 0);
        uint64_t libs = libs_common(l, libtop);
        for (unsigned g = 0; g < p->gui_libs; g++)
            object(l, libs - (g + 1) * 4 * MB, INO_LIBGUI + g, 1536 * KB, 512 * KB, 64 * KB, 32 * KB);
        stack(l, p->stack);
    }
}

const struct layout *layout_get(const char *name)
{
    pthread_once(&built, build);
    for (unsigned i = 0; i < NPROGRAMS; i++)
        if (!strcmp(layouts[i].name, name))
            return &layouts[i];
    return NULL;
}

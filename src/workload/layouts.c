/* layouts.c: built-in executable layouts (see layouts.h). */
#include "workload/layouts.h"
#include "guest/kernel.h"
#include "lib/err.h"
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

static struct layout L_sh, L_hello, L_latproc, L_browser, L_helper, L_memwalk;
static int built;

static void build(void)
{
    L_sh.name = "sh"; L_hello.name = "hello"; L_latproc.name = "lat_proc";
    L_browser.name = "browser"; L_helper.name = "helper"; L_memwalk.name = "memwalk";
    const uint64_t pie = 0x555555554000ull, libtop = 0x7ffff8000000ull;
    uint64_t a;

    L_sh.name = "sh";
    a = object(&L_sh, pie, INO_SH, 1000 * KB, 200 * KB, 48 * KB, 40 * KB);
    seg(&L_sh, a + 4 * MB, 132 * KB, PROT_READ | PROT_WRITE, SEG_HEAP, 0, 0);
    libs_common(&L_sh, libtop);
    stack(&L_sh, 132 * KB);

    L_hello.name = "hello";
    a = object(&L_hello, pie, INO_HELLO, 16 * KB, 4 * KB, 4 * KB, 4 * KB);
    seg(&L_hello, a + 4 * MB, 0, PROT_READ | PROT_WRITE, SEG_HEAP, 0, 0);
    libs_common(&L_hello, libtop);
    stack(&L_hello, 132 * KB);

    L_latproc.name = "lat_proc";
    a = object(&L_latproc, pie, INO_LATPROC, 64 * KB, 16 * KB, 8 * KB, 16 * KB);
    seg(&L_latproc, a + 4 * MB, 132 * KB, PROT_READ | PROT_WRITE, SEG_HEAP, 0, 0);
    libs_common(&L_latproc, libtop);
    stack(&L_latproc, 132 * KB);

    /* A browser: a large main binary, many GUI libraries, a big heap. */
    L_browser.name = "browser";
    a = object(&L_browser, pie, INO_BROWSER, 24 * MB, 6 * MB, 1 * MB, 512 * KB);
    seg(&L_browser, a + 32 * MB, 16 * MB, PROT_READ | PROT_WRITE, SEG_HEAP, 0, 0);
    a = libs_common(&L_browser, libtop);
    for (unsigned i = 0; i < 10; i++)
        object(&L_browser, a - (i + 1) * 4 * MB, INO_LIBGUI + i, 1536 * KB, 512 * KB, 64 * KB, 32 * KB);
    stack(&L_browser, 8 * MB);

    L_helper.name = "helper";
    a = object(&L_helper, pie, INO_HELPER, 2 * MB, 512 * KB, 128 * KB, 128 * KB);
    seg(&L_helper, a + 8 * MB, 2 * MB, PROT_READ | PROT_WRITE, SEG_HEAP, 0, 0);
    a = libs_common(&L_helper, libtop);
    for (unsigned i = 0; i < 3; i++)
        object(&L_helper, a - (i + 1) * 4 * MB, INO_LIBGUI + i, 1536 * KB, 512 * KB, 64 * KB, 32 * KB);
    stack(&L_helper, 1 * MB);

    L_memwalk.name = "memwalk";
    a = object(&L_memwalk, pie, INO_MEMWALK, 32 * KB, 8 * KB, 8 * KB, 8 * KB);
    seg(&L_memwalk, a + 4 * MB, 0, PROT_READ | PROT_WRITE, SEG_HEAP, 0, 0);
    libs_common(&L_memwalk, libtop);
    stack(&L_memwalk, 8 * MB);
    built = 1;
}

const struct layout *layout_get(const char *name)
{
    if (!built)
        build();
    const struct layout *all[] = { &L_sh, &L_hello, &L_latproc, &L_browser, &L_helper, &L_memwalk };
    for (unsigned i = 0; i < sizeof all / sizeof all[0]; i++)
        if (!strcmp(all[i]->name, name))
            return all[i];
    return NULL;
}

/* bench_page.c: clearing and copying one 4 KiB page (cost.page_zero,
 * cost.page_copy), the way the kernel does it on CPUs with ERMS
 * (clear_page_erms, copy with rep movsb): cache-hot, the same page again
 * and again, and cache-cold, 1 MiB of a 256 MiB area per sample, the next
 * 1 MiB each time, so a page comes back only after far more than any
 * last-level cache holds has been written. */
#define _GNU_SOURCE
#include "calib/calib.h"
#include <sys/mman.h>

#define HOT_ROUNDS 200     /* per sample */
#define COLD_PAGES 256     /* per sample: 1 MiB of the area, the next one each time */
#define COLD_BYTES (256ull << 20)

static inline void clear_4k(void *dst)
{
    size_t n = 4096;
    __asm__ volatile("rep stosb" : "+D"(dst), "+c"(n) : "a"(0) : "memory");
}

static inline void copy_4k(void *dst, const void *src)
{
    size_t n = 4096;
    __asm__ volatile("rep movsb" : "+D"(dst), "+S"(src), "+c"(n) :: "memory");
}

struct area { char *p; size_t len; int copy; size_t next; };

static double hot(const struct calib *c, void *arg)
{
    struct area *a = arg;
    uint64_t t0 = calib_tsc();
    for (int i = 0; i < HOT_ROUNDS; i++) {
        if (a->copy)
            copy_4k(a->p + 4096, a->p);
        else
            clear_4k(a->p);
    }
    return calib_ns(c, calib_tsc() - t0) / HOT_ROUNDS;
}

static double cold(const struct calib *c, void *arg)
{
    struct area *a = arg;
    size_t half = a->len / 2;
    if (a->next + COLD_PAGES * 4096 > half)
        a->next = 0;
    char *p = a->p + a->next;
    a->next += COLD_PAGES * 4096;
    uint64_t t0 = calib_tsc();
    for (size_t i = 0; i < COLD_PAGES; i++) {
        if (a->copy)
            copy_4k(p + i * 4096, p + half + i * 4096);
        else
            clear_4k(p + i * 4096);
    }
    return calib_ns(c, calib_tsc() - t0) / COLD_PAGES;
}

void bench_page(const struct calib *c, struct page_result *out)
{
    struct area a = { .p = mmap(NULL, COLD_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE,
                                -1, 0), .len = COLD_BYTES };
    if (a.p == MAP_FAILED) {
        *out = (struct page_result){ 0 };
        return;
    }
    madvise(a.p, a.len, MADV_NOHUGEPAGE);
    calib_repeat(c, hot, &a, &out->clear_hot);
    calib_repeat(c, cold, &a, &out->clear_cold);
    a.copy = 1;
    calib_repeat(c, hot, &a, &out->copy_hot);
    calib_repeat(c, cold, &a, &out->copy_cold);
    munmap(a.p, a.len);
}

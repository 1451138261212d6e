/* bench_walk.c: what a TLB miss costs (cost.stlb_hit, cost.walk_start,
 * cost.walk_ref, cost.walk_ref_miss; see calib.h for the two benchmarks).
 *
 * Each load of the chase depends on the one before, so the time per load is
 * its latency. The chase over 4 KiB pages and the chase over 2 MiB pages
 * touch the same lines of the same number of pages in the same order; only
 * the translations differ, so their difference is what translation costs
 * per load (as long as 2 MiB translations stay in the TLB). The huge-page
 * area is aligned to 2 MiB and populated before timing. Samples are timed
 * in thread CPU time (a sample another process interrupted would otherwise
 * count that process's time). */
#define _GNU_SOURCE
#include "calib/calib.h"
#include "lib/err.h"
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define HPAGE (2ull << 20)
#define STEPS 10000   /* loads per sample: a few milliseconds at most */

struct area { char *raw, *p; size_t rawlen, len; };

long calib_anon_huge_kb(void)
{
    FILE *f = fopen("/proc/self/smaps_rollup", "r");
    if (!f)
        return -1;
    char line[256];
    long kb = -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "AnonHugePages: %ld", &kb) == 1)
            break;
    fclose(f);
    return kb;
}

static int area_map(struct area *a, size_t len, int huge)
{
    a->len = (len + HPAGE - 1) & ~(HPAGE - 1);
    a->rawlen = a->len + HPAGE;
    a->raw = mmap(NULL, a->rawlen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (a->raw == MAP_FAILED)
        return -1;
    a->p = (char *)(((uintptr_t)a->raw + HPAGE - 1) & ~(uintptr_t)(HPAGE - 1));
    madvise(a->p, a->len, huge ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
    for (size_t off = 0; off < a->len; off += 4096)
        a->p[off] = 0;
    return 0;
}

static void area_unmap(struct area *a)
{
    munmap(a->raw, a->rawlen);
}

static uint64_t xorshift(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Link `n` nodes, node i at p + i*stride + off(i), in a random cycle. */
static void *link_cycle(char *p, size_t n, size_t stride, int spread_lines)
{
    uint32_t *perm = mv_malloc(n * sizeof *perm);
    for (size_t i = 0; i < n; i++)
        perm[i] = (uint32_t)i;
    uint64_t s = 0x9e3779b97f4a7c15ull;
    for (size_t i = n - 1; i > 0; i--) {
        size_t j = xorshift(&s) % (i + 1);
        uint32_t t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
#define NODE(i) (p + (size_t)(i) * stride + (spread_lines ? (((size_t)(i) * 0x9e3779b1u) >> 7) % 64 * 64 : 0))
    for (size_t i = 0; i < n; i++)
        *(void **)NODE(perm[i]) = NODE(perm[(i + 1) % n]);
    void *start = NODE(perm[0]);
#undef NODE
    free(perm);
    return start;
}

/* STEPS loads from *pos on; *pos moves on, so samples continue the lap. */
static double chase(const struct calib *c, void **pos)
{
    void *q = *pos;
    uint64_t t0 = calib_cpu_ns();
    for (int i = 0; i < STEPS; i++)
        q = *(void **)q;
    __asm__ volatile("" : "+r"(q));   /* the loads are needed, and before t1 */
    uint64_t t1 = calib_cpu_ns();
    *pos = q;
    (void)c;
    return (double)(t1 - t0) / STEPS;
}

int bench_chase(const struct calib *c, uint64_t ws, struct chase_result *out)
{
    struct area small, huge;
    memset(out, 0, sizeof *out);
    if (area_map(&small, ws, 0))
        return -1;
    long before = calib_anon_huge_kb();
    if (area_map(&huge, ws, 1)) {
        area_unmap(&small);
        return -1;
    }
    long after = calib_anon_huge_kb();
    out->huge_share = before >= 0 && after >= 0 ? (double)(after - before) * 1024 / (double)huge.len : -1;
    size_t pages = ws / 4096;
    void *s4 = link_cycle(small.p, pages, 4096, 1), *s2 = link_cycle(huge.p, pages, 4096, 1);
    unsigned n = c->reps;
    double *a = mv_calloc(3 * n, sizeof *a), *b = a + n, *d = b + n;
    for (size_t w = 0; w < pages / STEPS + 2; w++) {   /* a lap first: caches and TLBs */
        chase(c, &s4);
        chase(c, &s2);
    }
    for (unsigned i = 0; i < n; i++) {   /* alternate, so drift hits both alike */
        a[i] = chase(c, &s4);
        b[i] = chase(c, &s2);
        d[i] = a[i] - b[i];
    }
    calib_stats(a, n, &out->small);
    calib_stats(b, n, &out->huge);
    calib_stats(d, n, &out->diff);
    free(a);
    area_unmap(&small);
    area_unmap(&huge);
    return 0;
}

static double dense(const struct calib *c, void *arg)
{
    return chase(c, arg);   /* arg: the current position */
}

int bench_load_latency(const struct calib *c, uint64_t footprint, struct calib_stat *out)
{
    struct area a;
    if (area_map(&a, footprint, 1))
        return -1;
    void *pos = link_cycle(a.p, footprint / 64, 64, 0);
    for (size_t w = 0; w < footprint / 64 / STEPS + 2; w++)
        chase(c, &pos);
    calib_repeat(c, dense, &pos, out);
    area_unmap(&a);
    return 0;
}

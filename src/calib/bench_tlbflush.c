/* bench_tlbflush.c: what a TLB flush costs, as far as user space can see
 * (cost.tlb_invlpg, cost.tlb_flush; and the shootdown of another CPU).
 *
 * User space cannot run INVLPG; it can make the kernel do it. Each timed
 * step takes write permission away from a mapping and gives it back with
 * two mprotect calls. When the pages are present, the kernel rewrites their
 * entries and flushes them (one page: INVLPG; 64 pages, beyond Linux's
 * tlb_single_page_flush_ceiling of 33: a full flush); when the same mapping
 * was never touched there is nothing to flush. Half the difference per step
 * is the flush plus the entry rewrites; 64 and 128 pages (both full
 * flushes) give the rewriting per page, which calibrate.c takes away. With
 * a second thread of the process running on another CPU, the kernel must
 * also interrupt that CPU: the extra is the shootdown. Timed in thread CPU
 * time. */
#define _GNU_SOURCE
#include "calib/calib.h"
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <sys/mman.h>

#define AREA 0x300000000000ull   /* isolated: no neighbour to merge with */

struct step { char *p; size_t len; };

static double one_rep(const struct calib *c, void *arg)
{
    struct step *s = arg;
    int steps = s->len > 4096 ? 10 : 100;   /* a sample: a fraction of a millisecond */
    uint64_t t0 = calib_cpu_ns();
    for (int i = 0; i < steps; i++) {
        mprotect(s->p, s->len, PROT_READ);
        mprotect(s->p, s->len, PROT_READ | PROT_WRITE);
    }
    (void)c;
    return (double)(calib_cpu_ns() - t0) / steps;
}

static int measure(const struct calib *c, size_t pages, int touch, struct calib_stat *out)
{
    size_t len = pages * 4096;
    char *p = mmap((void *)AREA, len, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (p != (char *)AREA)
        return -1;
    madvise(p, len, MADV_NOHUGEPAGE);
    if (touch)
        for (size_t off = 0; off < len; off += 4096)
            p[off] = 1;
    struct step s = { p, len };
    calib_repeat(c, one_rep, &s, out);
    munmap(p, len);
    return 0;
}

struct spinner { int cpu; atomic_int stop; volatile char *page; };

static void *spin(void *arg)
{
    struct spinner *s = arg;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(s->cpu, &set);
    sched_setaffinity(0, sizeof set, &set);
    while (!atomic_load_explicit(&s->stop, memory_order_relaxed))
        (void)s->page[0];
    return NULL;
}

void bench_tlbflush(const struct calib *c, struct flush_result *out)
{
    *out = (struct flush_result){ 0 };
    measure(c, 1, 1, &out->one);
    measure(c, 1, 0, &out->one_absent);
    measure(c, 64, 1, &out->many);
    measure(c, 64, 0, &out->many_absent);
    measure(c, 128, 1, &out->more);
    measure(c, 128, 0, &out->more_absent);
    if (c->other_cpu < 0)
        return;
    /* The spinner needs a CPU of its own. */
    struct spinner sp = { .cpu = c->other_cpu, .page = (volatile char *)AREA };
    char *p = mmap((void *)AREA, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (p != (char *)AREA)
        return;
    p[0] = 1;
    pthread_t th;
    if (!pthread_create(&th, NULL, spin, &sp)) {
        struct step s = { p, 4096 };
        calib_repeat(c, one_rep, &s, &out->remote);
        atomic_store(&sp.stop, 1);
        pthread_join(th, NULL);
        out->remote_ok = 1;
    }
    munmap(p, 4096);
}

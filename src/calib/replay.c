/* replay.c: the same operations on the host as memvirt's memwalk workload
 * makes in the model, for `calibrate --verify`.
 *
 * memwalk is a pure generator: created with the same parameters and seed it
 * gives the same events here as in the simulator. They are carried out for
 * real in this process: its working-set mmap (MAP_HUGETLB: transparent huge
 * pages through madvise) and every later munmap and mmap at the same
 * addresses, and every reference into the working set as a real 8-byte load
 * or store. With pattern=chase the references form a pointer chase, so
 * each one waits for the one before, as in a real chase: its address is made
 * to depend on the previous load's value (plus a zero the compiler cannot
 * see through). Other patterns issue independent references, which the
 * CPU overlaps. References to the simulated program image, which this
 * process does not have, are skipped. Timing covers the walk phase only, from the
 * end of the prefault (or the working set's mmap) to the exit, exactly the
 * span model.c marks in the simulator. The clock is the thread's CPU time
 * (user and kernel), read around each event: on a shared machine, time the
 * thread spent waiting for the CPU is not the workload's. */
#define _GNU_SOURCE
#include "calib/calib.h"
#include "lib/err.h"
#include <string.h>
#include <sys/mman.h>

struct ws { uint64_t lo, len; int huge; };

static int do_mmap(const struct event *e, struct ws *ws)
{
    int huge = (e->flags & MAP_HUGETLB) != 0;
    void *p = mmap((void *)e->addr, e->len, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
    if (p != (void *)e->addr)
        return mv_error("calibrate --verify: cannot map %#llx+%llu for the replay",
                        (unsigned long long)e->addr, (unsigned long long)e->len);
    madvise(p, e->len, huge ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
    if (!ws->len)
        *ws = (struct ws){ e->addr, e->len, huge };
    return 0;
}

static volatile uint64_t zero;   /* always 0; the compiler cannot know */

static uint64_t access_batch(const struct event *e, const struct ws *ws, int dependent, uint64_t *skipped)
{
    uint64_t sum = 0, last = 0;
    uint64_t mask = zero;   /* 0: (last & mask) adds nothing but a dependency */
    for (uint32_t i = 0; i < e->n; i++) {
        uint64_t ref = e->batch[i], va = ref & ~(uint64_t)REF_KIND_MASK;
        if (va - ws->lo >= ws->len) {
            ++*skipped;
            continue;
        }
        if (dependent)
            va += last & mask;
        if (ref & REF_WRITE) {
            *(volatile uint64_t *)va = i;
        } else {
            last = *(volatile uint64_t *)va;
            sum += last;
        }
    }
    return sum;
}

int replay_memwalk(const struct calib *c, const char *const *params, double *walk_ns, double *huge_share)
{
    *huge_share = -1;
    long huge_before = calib_anon_huge_kb();
    struct sim_config cfg;
    if (config_init(&cfg, "memwalk"))
        return -1;
    for (unsigned i = 0; params[i]; i++)
        if (config_param(&cfg, params[i])) {
            config_free(&cfg);
            return -1;
        }
    const struct param_def *wd = param_find(cfg.wl->params, "ws_mb"), *pd = param_find(cfg.wl->params, "prefault"),
                           *pt = param_find(cfg.wl->params, "pattern");
    uint64_t ws_mb;
    int prefault;
    memcpy(&ws_mb, (char *)cfg.wl_cfg + wd->off, sizeof ws_mb);
    memcpy(&prefault, (char *)cfg.wl_cfg + pd->off, sizeof prefault);
    int dependent = !strcmp((char *)cfg.wl_cfg + pt->off, "chase");
    uint64_t skip = prefault ? (ws_mb << 20) >> 12 : 0, seen = 0, skipped = 0, sum = 0, ns = 0;
    void *st = cfg.wl->create(cfg.wl_cfg, cfg.seed);
    struct ws ws = { 0 };
    int walking = 0, rc = 0;
    for (;;) {
        struct event e;
        cfg.wl->next(st, &e);
        if (e.type == EV_END)
            break;
        uint64_t t0 = calib_cpu_ns();
        switch (e.type) {
        case EV_MMAP:
            rc = do_mmap(&e, &ws);
            if (!walking && !skip && ws.len)
                walking = 1, t0 = calib_cpu_ns();
            break;
        case EV_MUNMAP:
            munmap((void *)e.addr, e.len);
            break;
        case EV_ACCESS:
            sum += access_batch(&e, &ws, dependent, &skipped);
            break;
        case EV_EXIT:
            walking = 0;
            if (ws.len && huge_before >= 0) {   /* how much of it THP really backed */
                long now = calib_anon_huge_kb();
                *huge_share = now >= 0 ? (double)(now - huge_before) * 1024 / (double)ws.len : -1;
            }
            if (ws.len)
                munmap((void *)ws.lo, ws.len);
            ws.len = 0;
            break;
        default:
            break;
        }
        uint64_t t1 = calib_cpu_ns();
        if (walking)
            ns += t1 - t0;
        if (e.type == EV_ACCESS && ws.len && !walking) {
            seen += e.n;
            walking = seen >= skip;
        }
        if (rc)
            break;
    }
    cfg.wl->destroy(st);
    config_free(&cfg);
    if (ws.len)
        munmap((void *)ws.lo, ws.len);
    __asm__ volatile("" :: "r"(sum));
    (void)c;
    *walk_ns = (double)ns;
    return rc;
}

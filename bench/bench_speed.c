/* bench_speed.c: simulation speed: simulated references per second of wall
 * time, native mode, memwalk random over a working set far beyond the TLB's
 * reach (default 1 GiB vs 6 MiB of STLB reach), so nearly every reference
 * misses the L1 TLB and most walk the tables.
 *
 *   bench_speed [refs] [ws_mb] [pattern]
 *
 * Prints the rate for the walk phase (prefault excluded by subtracting a run
 * with refs=1). Wall-clock measurements belong here, never in unit tests. */
#include "lib/err.h"
#include "sim/config.h"
#include "sim/engine.h"
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static double run(uint64_t refs, const char *ws_mb, const char *pattern, struct run_result *res)
{
    struct sim_config cfg;
    char p[64];
    if (config_init(&cfg, "memwalk"))
        exit(1);
    cfg.quiet = 1;
    snprintf(p, sizeof p, "memwalk.refs=%llu", (unsigned long long)refs);
    if (config_param(&cfg, p))
        exit(1);
    snprintf(p, sizeof p, "memwalk.ws_mb=%s", ws_mb);
    if (config_param(&cfg, p))
        exit(1);
    snprintf(p, sizeof p, "memwalk.pattern=%s", pattern);
    if (config_param(&cfg, p))
        exit(1);
    double t0 = now();
    if (engine_run(&cfg, mode_find("native"), res))
        exit(1);
    double t = now() - t0;
    config_free(&cfg);
    return t;
}

int main(int argc, char **argv)
{
    uint64_t refs = argc > 1 ? strtoull(argv[1], NULL, 0) : 100000000ull;
    const char *ws = argc > 2 ? argv[2] : "1024";
    const char *pattern = argc > 3 ? argv[3] : "random";
    struct run_result base, full;
    double tb = run(1, ws, pattern, &base);
    double tf = run(refs, ws, pattern, &full);
    uint64_t r = full.st.cnt[CNT_refs] - base.st.cnt[CNT_refs];
    uint64_t miss = full.st.cnt[CNT_tlb_miss] - base.st.cnt[CNT_tlb_miss];
    printf("memwalk %s, ws %s MiB, native: %llu refs in %.3f s (setup %.3f s excluded)\n", pattern, ws,
           (unsigned long long)r, tf - tb, tb);
    printf("  TLB misses: %.1f%% of references\n", 100.0 * (double)miss / (double)r);
    printf("  speed: %.1f million simulated references per second\n", (double)r / (tf - tb) / 1e6);
    run_result_free(&base);
    run_result_free(&full);
    return 0;
}

/* memwalk.h: memory access kernels over a working set, shared by the
 * memwalk workload (memwalk.c) and its named presets (presets.c).
 *
 * One process maps an anonymous working set and walks it with one of four
 * patterns: seq (8-byte steps), stride (fixed stride in bytes, wrapping;
 * each reference is to the 8-byte word holding the byte), random
 * (independent uniform addresses) or chase (a pointer chase: a random cyclic
 * order over the pages, each visited once per lap). Knobs give a TLB-heavy
 * program like mcf (a large working set, random or chase) or a fault-heavy
 * one like gcc (remap: every remap_every references a random chunk is
 * unmapped and mapped afresh, so it faults in again). instr_per_ref says how
 * many of the program's instructions one reference of the stream stands for:
 * the stream holds the references that matter to translation, and the rest
 * of the program's work is folded into that ratio. */
#ifndef MV_WORKLOAD_MEMWALK_H
#define MV_WORKLOAD_MEMWALK_H
#include "guest/kernel.h"
#include "workload/workload.h"

struct memwalk_cfg {
    uint64_t ws_mb;
    char     pattern[PARAM_STR_MAX];
    uint64_t stride;
    uint64_t refs;
    uint64_t write_pct;
    char     page_size[PARAM_STR_MAX];
    uint64_t remap_every;
    uint64_t remap_kb;
    int      prefault;
    double   instr_per_ref;
    uint64_t base_gb;        /* where the working set begins, GiB */
    /* Phases (memwalk-phases): with phase_refs > 0 the program alternates
     * phase_refs references of the kernel above and b_phase_refs of this
     * one, over its own working set at b_base_gb (page size and stride
     * shared). */
    uint64_t phase_refs, b_phase_refs;
    uint64_t b_ws_mb;
    char     b_pattern[PARAM_STR_MAX];
    uint64_t b_write_pct, b_remap_every, b_remap_kb;
    double   b_instr_per_ref;
    uint64_t b_base_gb;
};

/* The parameter table's entries, with the defaults that differ between presets. */
#define MEMWALK_PARAMS(d_ws, d_pattern, d_refs, d_write, d_page, d_remap_every, d_remap_kb, d_ipr)                  \
        PARAM_U64(struct memwalk_cfg, ws_mb, d_ws, 1, 1 << 22, "working set in MiB"),                          \
        PARAM_CHOICE(struct memwalk_cfg, pattern, d_pattern, "seq|stride|random|chase", "access pattern"),    \
        PARAM_U64(struct memwalk_cfg, stride, "4096", 8, 1ull << 30, "stride in bytes (pattern=stride)"),   \
        PARAM_U64(struct memwalk_cfg, refs, d_refs, 1, 1e12, "references to make"),                          \
        PARAM_U64(struct memwalk_cfg, write_pct, d_write, 0, 100, "percent of references that write"),    \
        PARAM_CHOICE(struct memwalk_cfg, page_size, d_page, "4k|2m",                                     \
                     "page size of the working sets (2m: huge pages; each working set then a whole "           \
                     "number of them, an even number of MiB)"),                                      \
        PARAM_U64(struct memwalk_cfg, remap_every, d_remap_every, 0, 1e12,                                    \
                  "references between remaps of a chunk (0: never)"),                                       \
        PARAM_U64(struct memwalk_cfg, remap_kb, d_remap_kb, 4, 1 << 30, "size of a remapped chunk in KiB"),   \
        PARAM_BOOL(struct memwalk_cfg, prefault, "true", "write every page of the working set before walking it"), \
        PARAM_DBL(struct memwalk_cfg, instr_per_ref, d_ipr, 1, 1e6,                                           \
                  "instructions one reference stands for (the rest of the program's work)"),                \
        PARAM_U64(struct memwalk_cfg, base_gb, "16384", 1, 65535, "where the working set begins, GiB")

/* The generator, for workloads built on it. */
void  *memwalk_create(const void *cfg, uint64_t seed);
void   memwalk_next(void *st, struct event *ev);
double memwalk_progress(void *st);
double memwalk_instr_per_ref(void *st);
void   memwalk_destroy(void *st);
/* The configuration's cross-checks, messages naming parameters as g's
 * (prefix.name, the defaults marked so). -1 after mv_error. */
int    memwalk_check(const struct memwalk_cfg *c, const struct kconfig *guest, const struct param_group *g);

#endif

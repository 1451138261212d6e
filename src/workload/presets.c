/* presets.c: named memwalk presets shaped like the extremes of the
 * selective-paging paper (Wang et al., VEE'11; REFERENCE.md §6), and a
 * program that alternates them. Each is a workload of its own, with
 * memwalk's parameters under its own prefix and its own defaults:
 *
 *  memwalk-gcc     many guest page faults, few TLB misses: a sequential
 *                  sweep of 16 MiB (one TLB miss per 512 references) with a
 *                  256 KiB chunk unmapped and mapped afresh every 2 M
 *                  references (64 faults when the sweep comes back to it);
 *                  two instructions a reference.
 *  memwalk-mcf     TLB-miss-bound, few faults once its working set is in: a
 *                  pointer chase over 256 MiB, every reference a TLB miss,
 *                  each standing for 72 instructions (the program's other
 *                  loads hit the TLB).
 *  memwalk-phases  the two alternating in one process, 40 M references of
 *                  gcc-like work then 3 M of mcf-like (a chase over 64 MiB),
 *                  twice, over their own working sets.
 *
 * The instructions per reference set the rates per 1,000 instructions the
 * paper's policy reads, close to the paper's (gcc: about 1.1 TLB misses and
 * 0.014 faults; mcf: about 14 misses and 0.00025 faults once its working set
 * is in): docs/selective-clustering.md gives the rates memvirt measures. */
#include "workload/memwalk.h"

#define PRESET(id, d_prefix, d_doc, ...)                                                                     \
    static const struct param_def id##_defs[] = { __VA_ARGS__ };                                         \
    static const struct param_group id##_group = { d_prefix, id##_defs, sizeof id##_defs / sizeof id##_defs[0], \
                                                   d_doc };                                              \
    static int id##_validate(const void *cfg, const struct kconfig *guest)                               \
    {                                                                                                    \
        return memwalk_check(cfg, guest, &id##_group);                                                      \
    }                                                                                                    \
    const struct workload_def wl_##id = {                                                                \
        .name = d_prefix, .doc = d_doc, .params = &id##_group, .cfg_size = sizeof(struct memwalk_cfg),      \
        .validate = id##_validate, .create = memwalk_create, .next = memwalk_next,                      \
        .progress = memwalk_progress, .destroy = memwalk_destroy, .instr_per_ref = memwalk_instr_per_ref, \
    };

PRESET(memwalk_gcc, "memwalk-gcc", "memwalk shaped like gcc in VEE'11: many page faults, few TLB misses",
       MEMWALK_PARAMS("16", "seq", "40000000", "20", "4k", "2097152", "256", "2"))

PRESET(memwalk_mcf, "memwalk-mcf", "memwalk shaped like mcf in VEE'11: TLB-miss-bound, few page faults",
       MEMWALK_PARAMS("256", "chase", "20000000", "5", "4k", "0", "1024", "72"))

#define B(f, d, lo, hi, doc) PARAM_U64(struct memwalk_cfg, f, d, lo, hi, doc)
PRESET(memwalk_phases, "memwalk-phases", "memwalk alternating gcc-like and mcf-like phases (VEE'11's extremes)",
       MEMWALK_PARAMS("16", "seq", "86000000", "20", "4k", "2097152", "256", "2"),
       B(phase_refs, "40000000", 1, 1e12, "references of a gcc-like phase before an mcf-like one"),
       B(b_phase_refs, "3000000", 1, 1e12, "references of an mcf-like phase"),
       B(b_ws_mb, "64", 1, 1 << 22, "mcf-like phase: working set in MiB"),
       PARAM_CHOICE(struct memwalk_cfg, b_pattern, "chase", "seq|stride|random|chase", "mcf-like phase: pattern"),
       B(b_write_pct, "5", 0, 100, "mcf-like phase: percent of references that write"),
       B(b_remap_every, "0", 0, 1e12, "mcf-like phase: references between remaps (0: never)"),
       B(b_remap_kb, "1024", 4, 1 << 30, "mcf-like phase: remapped chunk in KiB"),
       PARAM_DBL(struct memwalk_cfg, b_instr_per_ref, "72", 1, 1e6, "mcf-like phase: instructions per reference"),
       B(b_base_gb, "32768", 1, 65535, "mcf-like phase: where its working set begins, GiB"))
#undef B

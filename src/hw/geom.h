/* geom.h: the geometry of the CPU's caching structures as constants.
 *
 * Models nothing: it is how the miss path is compiled. The bodies of the
 * miss path (tlb_body.h, dcache_body.h, pwc.h, walk_tmpl.h) read each
 * structure's geometry (ways, sets, entries) from the structure, so they
 * serve any configuration. An instance of them may be given a geometry as
 * constants instead: the compiler then folds the set masks and index
 * multiplies, compiles the set scans for their width, and drops the
 * branches of other geometries (wide sets, absent structures). The CPU's
 * miss path and the 2D walk are compiled once more for the default
 * configuration (GEOM_* below), and a CPU whose structures have exactly
 * that geometry uses that copy (cpu_init, cpu_enable_nested decide once);
 * every other geometry takes the generic copy. The copies compute the
 * same results: only the speed differs. */
#ifndef MV_HW_GEOM_H
#define MV_HW_GEOM_H
#include <stdint.h>

#define GEOM_INLINE static inline __attribute__((always_inline))
/* On each compiled copy of the miss path or the 2D walk: every call in it
 * that has a body in these headers is inlined. gcc otherwise leaves some
 * helpers of the bodies (the walk caches' lookup, the LRU touch, a set
 * scan) calls, more of them as the bodies grew their geometry parameters,
 * with those as arguments, not constants. */
#define GEOM_COPY __attribute__((flatten))

/* A set-associative structure (a TLB array, the data cache): sets = 0
 * means not known, read the structure; else ways (0: absent) and sets
 * (a power of two) are constants. */
struct geom {
    uint32_t ways, sets;
};
#define GEOM_ANY    ((struct geom){ 0, 0 })
#define GEOM_ABSENT ((struct geom){ 0, 1 })
/* geom: whether this copy is compiled for the default geometry (a
 * constant in each copy): then g, else read the structure. */
#define GEOM_OF(geom, g) ((geom) ? (g) : GEOM_ANY)

GEOM_INLINE uint32_t geom_ways(struct geom g, uint32_t ways) { return g.sets ? g.ways : ways; }
GEOM_INLINE uint32_t geom_mask(struct geom g, uint32_t set_mask) { return g.sets ? g.sets - 1 : set_mask; }
GEOM_INLINE uint32_t geom_bits(struct geom g, uint32_t set_bits)
{
    return g.sets ? (uint32_t)__builtin_ctz(g.sets) : set_bits;
}

/* The paging-structure caches (pwc.h): entries per level, n[2] the PDE
 * cache, n[3] the PDPTE, n[4] the PML4E; 0: not known, read the cache. */
struct pwc_geom {
    uint32_t n[5];
};
#define PWC_GEOM_ANY ((struct pwc_geom){ { 0, 0, 0, 0, 0 } })

/* The default configuration (tlb.*: sim/config.c; cache.*: hw/dcache.c;
 * hap.*: hv/hvconfig.c). tests/test_geom.c checks that a CPU built from
 * the default parameters matches it. */
#define GEOM_L1_4K  ((struct geom){ 4, 16 })     /* tlb.l1_4k_entries 64, 4 ways */
#define GEOM_STLB   ((struct geom){ 12, 128 })   /* tlb.l2_entries 1536, 12 ways */
#define GEOM_DCACHE ((struct geom){ 16, 256 })   /* cache.ptw_kb 256 in 64-byte lines, 16 ways */
#define GEOM_PWC    ((struct pwc_geom){ { 0, 0, 32, 4, 2 } })   /* tlb.pwc_l2, pwc_l3, pwc_l4 */
#define GEOM_NTLB   ((struct geom){ 4, 8 })      /* hap.ntlb_entries 32, 4 ways: its 4K and 2M arrays */
#define GEOM_EPT_PWC ((struct pwc_geom){ { 0, 0, 32, 4, 2 } })  /* hap.ept_pwc_l2, l3, l4 */

#endif

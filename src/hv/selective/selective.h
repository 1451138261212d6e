/* selective.h: the state of mode selective (selective.c), for the mode and
 * for the tests that break it on purpose to see its check catch it.
 *
 * Invariants (sel_check): under nested paging no shadow page exists (a
 * switch to nested drops them all); under shadow paging the shadows obey
 * shadow_check; the EPT, kept in both modes, obeys hap_check_state. */
#ifndef MV_HV_SELECTIVE_SELECTIVE_H
#define MV_HV_SELECTIVE_SELECTIVE_H
#include "hv/hap/hap.h"
#include "hv/selective/policy.h"
#include "hv/shadow/shadow.h"

#define MAX_HIST 64

struct selective {
    struct hap hap;          /* first: the EPT is found where hap keeps it */
    struct shadow sh;
    struct hv *h;
    enum sel_mode mode;
    enum { POL_DYNAMIC, POL_FIXED, POL_ALTERNATE } policy;
    uint64_t sample_cycles, next_sample;
    uint64_t alt_cycles, dwell_cycles, next_alt, back_at;
    uint64_t last_tlb, last_pf, last_instr;
    struct sel_sample hist[MAX_HIST];   /* the last samples, a ring of nhist */
    unsigned nhist, hist_pos;
    uint64_t to_shadow, to_hap, samples;
    uint64_t mode_since, shadow_cycles;  /* simulated time under shadow paging */
};

#endif

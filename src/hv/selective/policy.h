/* policy.h: the selective-paging policy of Wang et al., VEE'11
 * (REFERENCE.md §6), as a function of the samples alone.
 *
 * Every sampling period the hypervisor reads the TLB misses and guest page
 * faults of the period per 1,000 retired instructions; the history is the
 * mean of the previous `history` samples. The rules, in order:
 *  1. TLB rate high and fault rate under 80% of its upper bound -> shadow;
 *  2. fault rate high and TLB rate under 80% of its upper bound -> nested;
 *     (80%: selective.bound_share)
 *  3. both under their lower bounds                               -> stay;
 *  4. the historic or the current TLB rate zero                  -> nested;
 *  5. historic and current faults-per-miss ratio above its upper -> nested;
 *  6. historic and current ratio below its lower bound            -> shadow;
 *  7. otherwise                                                    -> stay. */
#ifndef MV_HV_SELECTIVE_POLICY_H
#define MV_HV_SELECTIVE_POLICY_H
#include "hv/hvconfig.h"

enum sel_mode { SEL_HAP = 0, SEL_SHADOW = 1 };

enum sel_rule {
    RULE_TLB_HIGH = 1, RULE_PF_HIGH, RULE_BOTH_LOW, RULE_TLB_ZERO, RULE_RATIO_HIGH, RULE_RATIO_LOW, RULE_OTHER,
};

/* Rates per 1,000 instructions; ratio: faults per TLB miss (0 when no miss). */
struct sel_sample {
    double tlb, pf, ratio;
};

/* A sample from the period's counts. */
struct sel_sample sel_sample_of(uint64_t tlb_misses, uint64_t faults, uint64_t instructions);

/* The mode to run next, from the current sample, the history's mean and the
 * mode now; *rule says which rule decided. */
enum sel_mode sel_decide(const struct selconfig *c, const struct sel_sample *cur, const struct sel_sample *hist,
                         enum sel_mode now, enum sel_rule *rule);
const char *sel_rule_name(enum sel_rule r);

#endif

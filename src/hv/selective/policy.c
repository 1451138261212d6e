/* policy.c: VEE'11's selective-paging rules (see policy.h). */
#include "hv/selective/policy.h"

struct sel_sample sel_sample_of(uint64_t tlb_misses, uint64_t faults, uint64_t instructions)
{
    double kinst = (double)instructions / 1000.0;
    struct sel_sample s = { 0, 0, 0 };
    if (kinst <= 0)
        return s;
    s.tlb = (double)tlb_misses / kinst;
    s.pf = (double)faults / kinst;
    s.ratio = tlb_misses ? (double)faults / (double)tlb_misses : 0;
    return s;
}

enum sel_mode sel_decide(const struct selconfig *c, const struct sel_sample *cur, const struct sel_sample *hist,
                         enum sel_mode now, enum sel_rule *rule)
{
    if (cur->tlb > c->tlb_upper && cur->pf < c->bound_share * c->pf_upper)
        return *rule = RULE_TLB_HIGH, SEL_SHADOW;
    if (cur->pf > c->pf_upper && cur->tlb < c->bound_share * c->tlb_upper)
        return *rule = RULE_PF_HIGH, SEL_HAP;
    if (cur->tlb < c->tlb_lower && cur->pf < c->pf_lower)
        return *rule = RULE_BOTH_LOW, now;
    if (hist->tlb == 0 || cur->tlb == 0)
        return *rule = RULE_TLB_ZERO, SEL_HAP;
    if (hist->ratio > c->ratio_upper && cur->ratio > c->ratio_upper)
        return *rule = RULE_RATIO_HIGH, SEL_HAP;
    if (hist->ratio < c->ratio_lower && cur->ratio < c->ratio_lower)
        return *rule = RULE_RATIO_LOW, SEL_SHADOW;
    return *rule = RULE_OTHER, now;
}

const char *sel_rule_name(enum sel_rule r)
{
    switch (r) {
    case RULE_TLB_HIGH: return "TLB misses high, faults low";
    case RULE_PF_HIGH: return "faults high, TLB misses low";
    case RULE_BOTH_LOW: return "both low";
    case RULE_TLB_ZERO: return "TLB misses zero";
    case RULE_RATIO_HIGH: return "faults per miss high";
    case RULE_RATIO_LOW: return "faults per miss low";
    case RULE_OTHER: return "no rule";
    }
    return "?";
}

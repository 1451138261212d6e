/* hvconfig.h: the hypervisor's configuration: one parameter group per
 * hypervisor component (Xen PV MMU, IOMMU, ...), routed by sim/config.c. */
#ifndef MV_HV_HVCONFIG_H
#define MV_HV_HVCONFIG_H
#include "lib/param.h"

struct hvconfig {
    int reserved;
};

extern const struct param_group *const hv_groups[];
extern const unsigned hv_ngroups;
void *hvconfig_part(struct hvconfig *h, unsigned i);
int   hvconfig_validate(const struct hvconfig *h);

#endif

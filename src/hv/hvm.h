/* hvm.h: what the hardware-virtualized paging modes (hap, tsp, ssp) share:
 * devices see guest-physical addresses through an IOMMU mapping the whole
 * guest (built once by the domain builder), and the invariants over it. */
#ifndef MV_HV_HVM_H
#define MV_HV_HVM_H
#include "hv/hv.h"

/* The domain's devices are always behind the IOMMU (passthrough). */
int hvm_iommu_attached(const struct hvconfig *cfg);
/* The I/O invariants (hvm.c): 0, or -1 with a message. The I/O
 * tables are rescanned only when they changed since *io_gen_checked. */
int hvm_check(struct hv *h, uint64_t *io_gen_checked, char *msg, unsigned len);

#endif

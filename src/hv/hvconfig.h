/* hvconfig.h: the hypervisor's configuration: one parameter group per
 * hypervisor component, routed by sim/config.c: the Xen PV MMU (xen.*) and
 * the VT-d IOMMU (iommu.*). */
#ifndef MV_HV_HVCONFIG_H
#define MV_HV_HVCONFIG_H
#include "hw/iommu.h"
#include "lib/param.h"

struct xenconfig {
    char     iommu_profile[PARAM_STR_MAX]; /* xen-4.2 | xen-4.17 */
    int      iommu_sync;       /* keep the IOMMU in sync with page types (passthrough PV) */
    int      linear_pt;        /* allow same-level (linear) page-table entries */
    uint64_t preempt_entries;  /* preempt validation after this many entries (0: never) */
    uint64_t machine_mb;       /* machine RAM (0: twice the guest's) */
    int      user_pgd;         /* x86-64 PV: separate user-mode L4 per address space */
    uint64_t nic_mbps;         /* NIC traffic alongside the workload (0: none) */
    uint64_t disk_mbps;        /* disk traffic alongside the workload (0: none) */
    uint64_t dma_period_us;    /* device activity interval */
    uint64_t nic_ring;         /* NIC ring buffers (pages) per direction */
};

struct hvconfig {
    struct xenconfig xen;
    struct iommu_config iommu;
};

extern const struct param_group xen_params;
extern const struct param_group *const hv_groups[];
extern const unsigned hv_ngroups;
void *hvconfig_part(struct hvconfig *h, unsigned i);
int   hvconfig_validate(const struct hvconfig *h);
/* xen.machine_mb, when given, must hold the guest's RAM plus Xen's own 48 MiB
 * (its image and heap: hv/domain.c). -1 after mv_error. */
int   hvconfig_validate_memory(const struct hvconfig *h, uint64_t guest_mb);

#endif

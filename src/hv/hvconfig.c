/* hvconfig.c: hypervisor parameter groups (see hvconfig.h). */
#include "hv/hvconfig.h"
#include "lib/err.h"
#include <stddef.h>
#include <string.h>

static const struct param_def xen_defs[] = {
    PARAM_CHOICE(struct xenconfig, iommu_profile, "xen-4.2", "xen-4.2|xen-4.17",
                 "IOMMU sync on type changes: xen-4.2 invalidates on map and unmap; "
                 "xen-4.17 on unmap only (map too with iommu.caching_mode)"),
    PARAM_BOOL(struct xenconfig, iommu_sync, "true",
               "keep the IOMMU in sync with page types (PV guest with a passthrough device)"),
    PARAM_BOOL(struct xenconfig, linear_pt, "true", "allow linear (same-level) page-table entries (pv-linear-pt)"),
    PARAM_U64(struct xenconfig, preempt_entries, "0", 0, 1e9,
              "preempt L2-L4 validation after this many entries (0: never)"),
    PARAM_U64(struct xenconfig, machine_mb, "0", 0, 1 << 24, "machine RAM in MiB (0: twice the guest RAM)"),
    PARAM_BOOL(struct xenconfig, user_pgd, "true", "x86-64 PV: a separate user-mode L4 per address space"),
    PARAM_U64(struct xenconfig, nic_mbps, "0", 0, 1e6, "NIC receive traffic alongside the workload, Mbit/s"),
    PARAM_U64(struct xenconfig, disk_mbps, "0", 0, 1e6, "disk traffic alongside the workload, Mbit/s"),
    PARAM_U64(struct xenconfig, dma_period_us, "1000", 1, 1e9, "device activity interval in microseconds"),
    PARAM_U64(struct xenconfig, nic_ring, "256", 1, 4096, "NIC receive/transmit ring buffers, 4 KiB each"),
};
const struct param_group xen_params = { "xen", xen_defs, sizeof xen_defs / sizeof xen_defs[0],
                                        "Xen PV MMU and devices" };

const struct param_group *const hv_groups[] = { &xen_params, &iommu_params };
const unsigned hv_ngroups = 2;

void *hvconfig_part(struct hvconfig *h, unsigned i)
{
    return i == 0 ? (void *)&h->xen : (void *)&h->iommu;
}

/* The least machine memory hv/domain.c builds a PV domain in: the guest's
 * frames plus 24 extents of 2 MiB (Xen's first 16 MiB and 32 MiB of heap). */
#define XEN_MIN_EXTRA_MB 48

int hvconfig_validate_memory(const struct hvconfig *h, uint64_t guest_mb)
{
    if (h->xen.machine_mb && h->xen.machine_mb < guest_mb + XEN_MIN_EXTRA_MB)
        return mv_error("--param xen.machine_mb=%llu: too small: machine memory must hold the guest's RAM "
                        "(guest.ram_mb=%llu) and %d MiB for Xen (need at least %llu MiB)",
                        (unsigned long long)h->xen.machine_mb, (unsigned long long)guest_mb, XEN_MIN_EXTRA_MB,
                        (unsigned long long)(guest_mb + XEN_MIN_EXTRA_MB));
    return 0;
}

int hvconfig_validate(const struct hvconfig *h)
{
    struct iommu_config c = h->iommu;
    if (c.iotlb_ways == 0 || c.iotlb_entries % c.iotlb_ways ||
        ((c.iotlb_entries / c.iotlb_ways) & (c.iotlb_entries / c.iotlb_ways - 1)) || c.qi_entries < 2)
        return mv_error("--param iommu.*: invalid IOTLB geometry or queue size");
    return 0;
}

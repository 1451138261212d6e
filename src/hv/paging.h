/* paging.h: a hypervisor paging mode, as a table of functions (Xen's struct
 * paging_mode in xen/arch/x86/mm/, with shadow/ and hap/ side by side).
 *
 * A paging mode decides how the guest's memory is virtualized: what a TLB
 * miss walks (the guest's tables, a shadow, or both dimensions of nested
 * paging), what a guest page-table store, page fault, CR3 write and each
 * kind of TLB flush do and whether they exit. Its trap handlers are the
 * vCPU's (struct vmm_ops, ctx = struct hv *); a handler that exits calls
 * hv_exit() first. Adding a mode is new files plus one line in paging.c. */
#ifndef MV_HV_PAGING_H
#define MV_HV_PAGING_H
#include "hv/hv.h"

/* What a mode offers the guest (part of the guest ABI; see public/xen.h). */
#define PM_PV_MMU      0x1   /* paravirtualized MMU: the guest must use hypercalls */
#define PM_PTCACHE     0x2   /* PiBooster's cache flag: the guest may run its page-table cache */

struct paging_mode {
    const char *name;
    const char *doc;
    unsigned features;        /* PM_* */
    int dfn_is_gfn;           /* devices see guest-physical addresses (HVM); else machine (PV) */
    /* The domain's devices are behind the IOMMU in this configuration? */
    int (*iommu_attached)(const struct hvconfig *cfg);
    /* Set the VT-d driver's behaviour (struct vtd_domain: superpages,
     * freeing emptied tables) before the domain's I/O tables are built.
     * NULL: Xen 4.2's driver, 4 KiB entries only. */
    void (*iommu_driver)(const struct hvconfig *cfg, struct vtd_domain *vd);
    /* Hypervisor frames the mode needs beyond the I/O tables. */
    uint64_t (*heap_frames)(const struct hvconfig *cfg, uint64_t guest_frames);
    int  (*init)(struct hv *h);            /* -1 after mv_error */
    void (*destroy)(struct hv *h);
    void (*booted)(struct hv *h);          /* after boot: reset the mode's statistics */
    int  (*check)(struct hv *h, char *msg, unsigned len);
    void (*instruments)(struct hv *h, struct mv_instruments *in);
    /* Simulated time has advanced to `now` (cycles): periodic work such as
     * sampling (may be NULL). */
    void (*tick)(struct hv *h, uint64_t now);
    const struct mv_control_def *controls; /* offered controls, NULL-name terminated (may be NULL) */
    /* The parameter groups (prefixes) that only modes listing them read,
     * NULL-terminated (may be NULL): a run none of whose modes reads a
     * group given a non-default value says so (sim/config_unused.c). */
    const char *const *params;
    struct vmm_ops traps;                  /* installed on the vCPU */
};

extern const struct paging_mode *const paging_modes[];
extern const unsigned npaging_modes;
const struct paging_mode *paging_mode_find(const char *name);

extern const struct paging_mode pm_pv, pm_pv_pibooster, pm_tsp, pm_ssp, pm_hap, pm_selective;

#endif

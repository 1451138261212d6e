/* hvconfig.h: the hypervisor's configuration: one parameter group per
 * component, routed by sim/config.c: the domain and its devices (hv.*), the
 * Xen PV MMU (xen.*), the VT-d IOMMU (iommu.*), shadow paging (shadow.*,
 * with tsp.* and ssp.* for each variant), nested paging (hap.*), selective
 * switching between them (selective.*) and exit clustering (clustering.*). */
#ifndef MV_HV_HVCONFIG_H
#define MV_HV_HVCONFIG_H
#include "hw/iommu.h"
#include "lib/param.h"

/* The domain: machine memory and the passthrough devices' traffic. */
struct hvbase {
    uint64_t machine_mb;       /* machine RAM (0: twice the guest's) */
    char     host_page_size[PARAM_STR_MAX]; /* auto | 4k | 2m: the host pages behind guest memory */
    uint64_t nic_mbps;         /* NIC traffic alongside the workload (0: none) */
    uint64_t disk_mbps;        /* disk traffic alongside the workload (0: none) */
    uint64_t dma_period_us;    /* device activity interval */
    uint64_t nic_ring;         /* NIC ring buffers (pages) per direction */
    int      vpid;             /* VM exits keep the guest's TLB entries (false: each exit flushes them) */
};

struct xenconfig {
    char     iommu_profile[PARAM_STR_MAX]; /* xen-4.2 | xen-4.17 */
    char     iommu_superpages[PARAM_STR_MAX]; /* auto | off | 2m | 1g (Xen 4.17's driver) */
    int      iommu_sync;       /* keep the IOMMU in sync with page types (passthrough PV) */
    int      linear_pt;        /* allow same-level (linear) page-table entries */
    uint64_t preempt_entries;  /* preempt validation after this many entries (0: never) */
    int      user_pgd;         /* x86-64 PV: separate user-mode L4 per address space */
    int      l1tf_check;       /* pv-l1tf: not-present entries naming cacheable RAM crash the domain */
    char     xpti[PARAM_STR_MAX]; /* off | on | pcid: page-table isolation (Xen 4.10.1 on, xpti.c) */
};

struct shadowconfig {
    uint64_t pool_permille;    /* shadow pages: this many per 1000 guest frames (KVM: 20) */
    uint64_t max_roots;        /* shadow roots kept (0: as many as the pool holds) */
    uint64_t prefetch;         /* guest L1 entries filled with a fault's, an aligned group (KVM: 8) */
};

struct tspconfig {
    uint64_t flood_threshold;  /* counted writes to a shadowed table before it is unshadowed */
    char     flood_detector[PARAM_STR_MAX]; /* auto | vcpu (KVM before 3.3) | page (KVM 3.3 on) */
    int      unsync;           /* KVM's unsync: leave written L1 shadows out of sync until a flush */
    uint64_t oos_limit;        /* out-of-sync L1 shadows at once (Xen: SHADOW_OOS_PAGES, 3); 0: no limit (KVM) */
    char     retry[PARAM_STR_MAX]; /* auto | true | false: KVM's retry_instruction (3.3 on) */
};

struct sspconfig {
    uint64_t rootbuf_entries;  /* shadow page-table base address buffer (0: none) */
    int      fault_trap;       /* page faults handled in the hardware-mode trap, not by a VM exit */
    int      flush_fill;       /* an INVLPG also fills an entry the shadow lacks (shadow_fill_va) */
};

struct hapconfig {
    char     ept_page_size[PARAM_STR_MAX]; /* 4k | 2m host pages */
    char     ept_populate[PARAM_STR_MAX];  /* fault (KVM: on EPT violations) | boot (Xen: when built) */
    uint64_t ept_pwc_l4, ept_pwc_l3, ept_pwc_l2;  /* EPT paging-structure caches */
    uint64_t ntlb_entries, ntlb_ways;             /* nested TLB */
    int      guest_pwc;        /* guest-dimension paging-structure caches */
};

/* selective: VEE'11's policy and its thresholds (per 1,000 instructions). */
struct selconfig {
    char     policy[PARAM_STR_MAX];  /* dynamic | fixed | alternate */
    char     start[PARAM_STR_MAX];   /* hap | shadow */
    double   sample_ms;
    uint64_t history;
    double   pf_upper, pf_lower, tlb_upper, tlb_lower, ratio_upper, ratio_lower;
    double   bound_share;      /* rules 1-2: the other rate under this share of its upper bound */
    double   alternate_ms, dwell_ms;   /* policy=alternate: a round trip every alternate_ms */
};

/* Exit clustering (Agesen et al., USENIX ATC'12): VM exits at guest code
 * sites handled together in one transition, under binary translation. */
struct clusterconfig {
    int      enable;           /* --clustering */
    uint64_t window;           /* the next exiting operation within this many guest cycles joins the cluster */
    uint64_t cache_sites;      /* translations kept, one per site (LRU) */
};

struct hvconfig {
    struct hvbase hv;
    struct xenconfig xen;
    struct iommu_config iommu;
    struct shadowconfig shadow;
    struct tspconfig tsp;
    struct sspconfig ssp;
    struct hapconfig hap;
    struct selconfig selective;
    struct clusterconfig clustering;
};

extern const struct param_group hv_params, xen_params, shadow_params, tsp_params, ssp_params, hap_params,
    selective_params, clustering_params;
extern const struct param_group *const hv_groups[];
extern const unsigned hv_ngroups;
void *hvconfig_part(struct hvconfig *h, unsigned i);
int   hvconfig_validate(const struct hvconfig *h);
/* The selective.policy that alone reads parameter selective.`name`
 * ("dynamic": the sampling and VEE'11's rules; "alternate": the forced
 * round trips), or NULL if every policy reads it (policy, start). */
const char *selconfig_policy_reading(const char *name);
/* hv.host_page_size resolved: 1 if guest memory is backed by 2 MiB host pages. */
int   hvconfig_host_2m(const struct hvconfig *h);
/* The parameter of group `group` that sizes the hypervisor's own frames
 * (the shadow pool's shadow.pool_permille), if the group has one: its
 * setting ("shadow.pool_permille=20") into setting, what it sizes into doc;
 * else both are left as they are. For the message of a machine too small. */
void  hvconfig_heap_setting(const struct hvconfig *h, const char *group, char *setting, size_t slen, char *doc,
                            size_t dlen);
/* Its IOMMU (IOTLB geometry, queue size) and nested-TLB parts, each a bad
 * value named by its parameters; -1 after mv_error. */
int   hvconfig_validate_iommu(const struct iommu_config *c);
int   hvconfig_validate_ntlb(const struct hapconfig *c);
/* xen.machine_mb, when given, must hold the guest's RAM plus Xen's own 48 MiB
 * (its image and heap: hv/domain.c). -1 after mv_error. */
int   hvconfig_validate_memory(const struct hvconfig *h, uint64_t guest_mb);

#endif

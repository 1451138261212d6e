/* cost.h: the cost profile: simulated cycles charged per hardware and kernel
 * event, and the clock that turns cycles into time.
 *
 * memvirt runs the real algorithms and *models* time: each event is charged a
 * number of cycles from this table. Every entry has a documented default
 * (docs/cost-model.md lists the sources; figures from REFERENCE.md §5 are cited
 * there); a named profile overrides some defaults, and --param cost.NAME=V
 * overrides any one. Entries marked "unverified" are estimates, not
 * measurements, and are parameters precisely so they can be varied. */
#ifndef MV_HW_COST_H
#define MV_HW_COST_H
#include "lib/param.h"
#include <stdint.h>

struct cost {
    double   clock_ghz;
    double   cpi;             /* cycles per instruction of a program's work between references */
    /* CPU translation */
    uint64_t ref;             /* a reference that hits the L1 TLB */
    uint64_t stlb_hit;        /* extra for an STLB hit */
    uint64_t walk_start;      /* fixed part of a page walk */
    uint64_t walk_ref;        /* each memory reference of a walk that hits the cache */
    uint64_t walk_ref_miss;   /* each one that misses it (LLC or DRAM) */
    uint64_t tlb_invlpg;      /* one INVLPG */
    uint64_t tlb_flush;       /* a full or PCID flush */
    uint64_t cr3_write;       /* MOV to CR3 */
    /* guest kernel */
    uint64_t fault_entry;     /* exception entry/exit + fault dispatch */
    uint64_t fault_handle;    /* handle_mm_fault bookkeeping per fault */
    uint64_t fault_around_page; /* fault-around: map one more cached file page (no PTE store) */
    uint64_t syscall;         /* system-call entry/exit */
    uint64_t page_zero;       /* clear one 4 KiB page */
    uint64_t page_copy;       /* copy one 4 KiB page */
    uint64_t buddy_op;        /* one buddy alloc/free call */
    uint64_t buddy_step;      /* each split or merge */
    uint64_t pt_alloc_path;   /* page-table page allocation path (ctor, accounting) */
    uint64_t pt_free_path;    /* page-table page freeing path (dtor, RCU/batching) */
    uint64_t pte_write;       /* one native store of a page-table entry */
    uint64_t pte_copy;        /* copy one entry in fork's copy_page_range */
    uint64_t vma_op;          /* create/split/merge/free one VMA */
    uint64_t fork_fixed;      /* fork: task, files, signals, creds (not mm) */
    uint64_t exec_fixed;      /* execve: ELF load, argv, credentials */
    uint64_t exit_fixed;      /* exit: everything but the address space */
    uint64_t ctx_switch;      /* scheduler work of one switch (not the CR3 load) */
    /* hypervisor */
    uint64_t vm_exit;         /* VM exit + re-entry round trip */
    uint64_t hypercall;       /* PV hypercall round trip (ring transition) */
    uint64_t hc_entry;        /* each entry of a batched hypercall */
    uint64_t pv_validate_entry; /* validate one table entry */
    uint64_t pv_scan;         /* scan a table's 512 entries (validate / devalidate) */
    uint64_t pv_ref;          /* take or drop one page reference */
    uint64_t pv_type_change;  /* switch a frame's type */
    uint64_t pv_emulate;      /* PV: emulate a trapped write or instruction, beyond the trap */
    uint64_t pv_fault_bounce; /* PV: bounce a guest page fault to its kernel, beyond the trap */
    uint64_t pv_syscall_bounce; /* PV: bounce a system call to the guest kernel, beyond the trap */
    uint64_t pv_iret;         /* PV: the iret hypercall's work, beyond the transition */
    /* IOMMU */
    uint64_t iotlb_inv;       /* queued IOTLB invalidation + wait descriptor */
    uint64_t iotlb_inv_reg;   /* register-based invalidation */
    uint64_t iommu_pte;       /* update one I/O page-table entry */
    uint64_t io_walk_ref;     /* each reference of an I/O page walk */
    uint64_t dma_page;        /* device time to move one 4 KiB page */
    /* hardware-virtualized paging modes */
    uint64_t ssp_trap;        /* SSP: trap to the highest-privilege mode and back */
    uint64_t shadow_entry;    /* shadow paging: read a guest entry or write a shadow entry */
    uint64_t shadow_page;     /* shadow paging: build (or drop) one shadow page */
    uint64_t shadow_emulate;  /* TSP: emulate a trapped page-table write, beyond the exit */
    uint64_t ept_fill;        /* HAP: handle an EPT violation (map the frame), beyond the exit */
    /* exit clustering */
    uint64_t bt_translate;    /* inspect and translate the guest code at one site, once */
    double   bt_slowdown;     /* guest code run translated inside a cluster: this many times slower */
};

extern const struct param_group cost_params;

/* Names of the built-in profiles and their descriptions. */
struct cost_profile_def {
    const char *name;
    const char *doc;
    const char *overrides;   /* "name=value,name=value" applied on the defaults */
};
extern const struct cost_profile_def cost_profiles[];
extern const unsigned cost_nprofiles;

/* Index of the built-in profile called `name`, or -1 (no message). */
int cost_profile_find(const char *name);

/* Defaults, then the named profile's overrides. -1 (after mv_error) if the
 * profile is unknown. */
int cost_load_profile(struct cost *c, const char *profile);

static inline double cost_us(const struct cost *c, uint64_t cycles)
{
    return (double)cycles / (c->clock_ghz * 1000.0);
}

#endif

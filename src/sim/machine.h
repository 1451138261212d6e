/* machine.h: one simulated machine running one mode: memory, a vCPU, the
 * hypervisor of the mode (if any) and the guest kernel, wired together the
 * way the layering allows: the hypervisor installs its paging mode's traps
 * on the CPU; the guest kernel gets the paravirt backend the mode's guest
 * ABI calls for (the Xen PV hypercall ABI, or native instructions that the
 * paging mode may intercept). The machine collects what each layer shows
 * (gauges, metrics, controls) without knowing what they are. */
#ifndef MV_SIM_MACHINE_H
#define MV_SIM_MACHINE_H
#include "guest/kernel.h"
#include "hv/hv.h"
#include "hw/cpu.h"
#include "hw/pmem.h"
#include "lib/instr.h"
#include "sim/config.h"

/* A mode: bare metal, or a hypervisor paging mode (hv/paging.h). */
struct mode_def {
    const char *name;
    const char *doc;
    const struct paging_mode *pm;   /* NULL: native */
};

struct machine {
    const struct mode_def *mode;
    const struct sim_config *cfg;
    struct mv_stats st;
    struct pmem mem;
    struct cpu cpu;
    struct kernel k;
    struct kconfig kcfg;           /* the guest's configuration, with what the hypervisor offers */
    const struct pv_mmu_ops *pv;
    void *pv_ctx;
    struct hv *hv;                 /* the hypervisor, or NULL on bare metal */
    struct mv_instruments ins;     /* every layer's gauges, metrics and controls */
    struct dma_queue native_dma[2];/* bare metal's NIC and disk timelines (no IOMMU) */
    int booted;
    int failed;                    /* the run failed: machine_destroy does not check for leaks */
};

unsigned mode_count(void);
const struct mode_def *mode_at(unsigned i);      /* 0 .. mode_count() - 1 */
const struct mode_def *mode_find(const char *name);
/* Does the mode offer control `name`? Its definition, or NULL. */
const struct mv_control_def *mode_control(const struct mode_def *md, const char *name);
/* The i-th control the mode offers (0 ..), or NULL past the last. */
const struct mv_control_def *mode_control_at(const struct mode_def *md, unsigned i);
/* Can cfg run under this mode (memory, controls)? -1 after mv_error. */
int mode_validate(const struct mode_def *md, const struct sim_config *cfg);
/* Does the mode run the guest hardware-virtualized, with VM exits (what
 * exit clustering needs)? */
int mode_has_vmexits(const struct mode_def *md);

int  machine_init(struct machine *m, const struct sim_config *cfg, const struct mode_def *mode);
/* The machine frames a run of mode under cfg has (the guest's RAM for
 * native, the hypervisor's machine otherwise). */
uint64_t machine_frames(const struct sim_config *cfg, const struct mode_def *mode);
/* Shut the guest down and free everything. Under --check, verifies that every
 * guest frame went back to the allocator; -1 (after mv_error) if not. */
int  machine_destroy(struct machine *m);
/* The machine frame behind guest frame gfn, from the hypervisor's p2m (the
 * authoritative map; no side effect, no exit). UINT64_MAX if not the guest's. */
uint64_t machine_p2m(const struct machine *m, uint64_t gfn);
/* Hypervisor invariants: 0, or -1 with a message. */
int  machine_check(struct machine *m, char *msg, unsigned len);
/* A DMA transfer of a workload event: device time in cycles. */
uint64_t machine_dma(struct machine *m, const char *dev, uint64_t bytes, int write);
/* Background device traffic up to simulated time now, and the devices'
 * transfers completed by then. */
void machine_devices(struct machine *m, uint64_t now);
/* A device's queue (0: the NIC, 1: the disk): what it moved and has queued. */
struct dma_queue *machine_dma_queue(struct machine *m, int disk);

#endif

/* machine.h: one simulated machine running one mode: memory, a vCPU, the
 * hypervisor of the mode (if any) and the guest kernel, wired together the
 * way the layering allows: the hypervisor installs its trap table on the
 * CPU; the guest kernel gets the paravirt backend the mode names. */
#ifndef MV_SIM_MACHINE_H
#define MV_SIM_MACHINE_H
#include "guest/kernel.h"
#include "hw/cpu.h"
#include "hw/pmem.h"
#include "sim/config.h"

struct metric {
    char name[48];
    double value;
};

struct machine;

#define NGAUGES 8
extern const char *const gauge_names[NGAUGES];

struct mode_def {
    const char *name;
    const char *doc;
    /* Build the hypervisor (if any) before the guest boots: size machine
     * memory, install trap handlers, choose the paravirt backend. */
    int  (*setup)(struct machine *m);
    void (*teardown)(struct machine *m);
    /* Hypervisor security invariants (DESIGN.md), under --check. */
    int  (*check)(struct machine *m, char *msg, unsigned len);
    /* Mode-specific gauges (may be NULL). */
    void (*gauges)(struct machine *m, double *g);
    /* Mode-specific metrics at the end of a run (may be NULL). */
    void (*metrics)(struct machine *m, struct metric *out, unsigned *n, unsigned max);
    /* After the guest booted (drivers set up devices) (may be NULL). */
    void (*booted)(struct machine *m);
    /* Device activity up to simulated time `now` (may be NULL). */
    void (*devices)(struct machine *m, uint64_t now);
    /* A DMA transfer of a workload event: device time in cycles (may be NULL:
     * no devices in this mode). */
    uint64_t (*dma)(struct machine *m, const char *dev, uint64_t bytes, int write);
    /* Reject a configuration that would make this mode another (may be
     * NULL). -1 after mv_error. */
    int (*validate)(const struct sim_config *cfg);
};

struct machine {
    const struct mode_def *mode;
    const struct sim_config *cfg;
    struct mv_stats st;
    struct pmem mem;
    struct cpu cpu;
    struct kernel k;
    struct kconfig kcfg;           /* the guest's configuration (setup may adjust it) */
    const struct pv_mmu_ops *pv;   /* chosen by setup */
    void *pv_ctx;
    void *hv;                      /* the hypervisor, or NULL on bare metal */
    int booted;
};

extern const struct mode_def *const modes[];
extern const unsigned nmodes;
const struct mode_def *mode_find(const char *name);

int  machine_init(struct machine *m, const struct sim_config *cfg, const struct mode_def *mode);
/* Shut the guest down and free everything. Under --check, verifies that every
 * guest frame went back to the allocator; -1 (after mv_error) if not. */
int  machine_destroy(struct machine *m);
void machine_gauges(struct machine *m, double *g);

#endif

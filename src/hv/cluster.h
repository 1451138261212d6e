/* cluster.h: exit clustering (Agesen, Mattson, Rugina, Sheldon, USENIX ATC
 * 2012; VMware's monitor).
 *
 * When a guest instruction exits, the monitor inspects the guest code that
 * follows it. If another exiting instruction comes soon after, it runs that
 * stretch of code under its binary translator, which handles the exiting
 * instructions in the monitor: several exits cost one transition. The
 * translation is made once per guest code address and cached.
 *
 * memvirt's guest has no machine code to inspect, so the model is dynamic:
 * every operation that can exit carries the id of its code site
 * (cpu->site, guest/sites.h), the monitor's stand-in for the instruction
 * pointer. A VM exit at a clusterable operation (a page-table store, MOV
 * CR3, INVLPG or another flush) opens a cluster at its site, translating
 * the site first if its translation is not cached (cost.bt_translate). The
 * next clusterable VM exit joins the cluster, without a transition, if the
 * guest ran at most clustering.window cycles since the previous operation
 * of the cluster; those cycles ran translated, cost.bt_slowdown times
 * slower. A cluster ends at an exit the monitor cannot take inside the
 * translation (a page fault, an EPT violation, a hypercall), when the
 * guest returned to user mode since the cluster's latest operation (the
 * translator, working from the exiting instruction through the guest
 * kernel's code, stops at the SYSRET or IRET: user code is not in the
 * translation), or when the next exiting operation is too far.
 * Simplifications (docs/selective-clustering.md): distance is measured in
 * guest cycles rather than instructions, and the decision that a static
 * inspection would make is taken from the operation that actually comes
 * next. SSP's traps go to the
 * hardware mode, not to the monitor, and are not clustered. */
#ifndef MV_HV_CLUSTER_H
#define MV_HV_CLUSTER_H
#include "hv/hvconfig.h"
#include "hw/cost.h"
#include "lib/instr.h"
#include "lib/stats.h"
#include <stdint.h>

#define CLUSTER_SITES 64       /* site ids at or above this count as site 0 */

struct cluster_site_stats {
    uint64_t exits;            /* clusterable exits taken at the site (transitions) */
    uint64_t avoided;          /* operations at the site handled in a cluster instead */
    uint64_t clusters;         /* clusters opened at the site that took in another operation */
};

struct hv_cluster {
    const struct clusterconfig *cfg;
    /* Invariant: open => head < CLUSTER_SITES; joined counts the operations
     * the open cluster took in after its first. */
    int      open;
    uint16_t head;             /* the site whose exit opened the cluster */
    uint64_t joined;
    uint64_t last;             /* guest time (cluster_guest_time) of its latest operation */
    uint64_t user_entries;     /* the vCPU's returns to user mode (cpu.user_entries) then */
    /* Cached translations, most recent first; ncache <= cfg->cache_sites
     * and each site appears at most once. */
    uint16_t *cache;
    unsigned ncache;
    struct cluster_site_stats site[CLUSTER_SITES];
    const char *const *site_names;   /* the guest's names for its sites, for reports */
    unsigned nsite_names;
};

void cluster_init(struct hv_cluster *c, const struct clusterconfig *cfg);
void cluster_destroy(struct hv_cluster *c);
/* Forget the open cluster (the run's counters start from zero). */
void cluster_reset(struct hv_cluster *c);

/* The guest's own time: simulated time less what the monitor spent. */
uint64_t cluster_guest_time(const struct mv_stats *st);

/* A clusterable VM exit at `site`, the vCPU having returned to user mode
 * user_entries times: 1 if the open cluster takes it in (no transition), 0
 * if it must exit. */
int  cluster_join(struct hv_cluster *c, struct mv_stats *st, const struct cost *cost, unsigned site,
                  uint64_t user_entries);
/* After a clusterable exit at `site` was taken: open a cluster there. */
void cluster_open(struct hv_cluster *c, struct mv_stats *st, const struct cost *cost, unsigned site,
                  uint64_t user_entries);
/* An exit the translation cannot handle: the open cluster, if any, ends. */
void cluster_close(struct hv_cluster *c);

/* Its metrics by site (clustering_exits_<site>, ...). */
void cluster_instruments(struct hv_cluster *c, struct mv_instruments *in);

/* Consistency of the state (--check): 0, or -1 with a message. */
int  cluster_check(const struct hv_cluster *c, const struct mv_stats *st, char *msg, unsigned len);

#endif

/* cluster.c: exit clustering, the monitor's side (see cluster.h): the open
 * cluster, the cache of translated sites and the statistics by site. */
#include "hv/cluster.h"
#include "lib/err.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cluster_init(struct hv_cluster *c, const struct clusterconfig *cfg)
{
    memset(c, 0, sizeof *c);
    c->cfg = cfg;
    c->cache = mv_calloc(cfg->cache_sites ? cfg->cache_sites : 1, sizeof *c->cache);
}

void cluster_destroy(struct hv_cluster *c)
{
    free(c->cache);
    c->cache = NULL;
}

void cluster_reset(struct hv_cluster *c)
{
    c->open = 0;
    c->joined = 0;
    memset(c->site, 0, sizeof c->site);
}

uint64_t cluster_guest_time(const struct mv_stats *st)
{
    return st->now - st->cyc[CYC_hypervisor] - st->cyc[CYC_exits] - st->cyc[CYC_iommu] - st->cyc[CYC_bt];
}

static unsigned site_id(unsigned site) { return site < CLUSTER_SITES ? site : 0; }

int cluster_join(struct hv_cluster *c, struct mv_stats *st, const struct cost *cost, unsigned site,
                 uint64_t user_entries)
{
    if (!c->open)
        return 0;
    uint64_t now = cluster_guest_time(st), gap = now - c->last;
    if (gap > c->cfg->window || user_entries != c->user_entries) {
        cluster_close(c);
        return 0;
    }
    site = site_id(site);
    if (c->joined++ == 0) {
        c->site[c->head].clusters++;
        st->cnt[CNT_clusters]++;
    }
    c->site[site].avoided++;
    st->cnt[CNT_cluster_exits_avoided]++;
    /* The guest ran the gap translated: only the slowdown is extra. */
    stat_charge(st, CYC_bt, (uint64_t)((double)gap * (cost->bt_slowdown - 1.0) + 0.5));
    c->last = now;
    return 1;
}

/* The site's translation: cached (moved to the front) or made now. */
static void translate(struct hv_cluster *c, struct mv_stats *st, const struct cost *cost, uint16_t site)
{
    unsigned i = 0;
    while (i < c->ncache && c->cache[i] != site)
        i++;
    if (i == c->ncache) {
        st->cnt[CNT_bt_translations]++;
        stat_charge(st, CYC_bt, cost->bt_translate);
        if (c->ncache < c->cfg->cache_sites)
            c->ncache++;
        i = c->ncache - 1;    /* a full cache drops its least recent entry */
    }
    memmove(&c->cache[1], &c->cache[0], i * sizeof *c->cache);
    c->cache[0] = site;
}

void cluster_open(struct hv_cluster *c, struct mv_stats *st, const struct cost *cost, unsigned site,
                  uint64_t user_entries)
{
    c->user_entries = user_entries;
    site = site_id(site);
    c->site[site].exits++;
    translate(c, st, cost, (uint16_t)site);
    c->open = 1;
    c->head = (uint16_t)site;
    c->joined = 0;
    c->last = cluster_guest_time(st);
}

void cluster_close(struct hv_cluster *c)
{
    c->open = 0;
    c->joined = 0;
}

static void cluster_metrics(const void *ctx, struct mv_metrics *out)
{
    const struct hv_cluster *c = ctx;
    static const char *const what[] = { "exits", "avoided", "clusters" };
    for (unsigned k = 0; k < 3; k++)
        for (unsigned s = 0; s < CLUSTER_SITES; s++) {
            const struct cluster_site_stats *p = &c->site[s];
            if (!p->exits && !p->avoided)
                continue;
            char name[MV_NAME_MAX], num[16];
            const char *sn = s < c->nsite_names && c->site_names[s] ? c->site_names[s] : NULL;
            if (!sn) {
                snprintf(num, sizeof num, "site%u", s);
                sn = num;
            }
            snprintf(name, sizeof name, "clustering_%s_%s", what[k], sn);
            mv_metric_put(out, name, (double)(k == 0 ? p->exits : k == 1 ? p->avoided : p->clusters));
        }
}

void cluster_instruments(struct hv_cluster *c, struct mv_instruments *in)
{
    mv_add_metrics(in, cluster_metrics, c);
}

int cluster_check(const struct hv_cluster *c, const struct mv_stats *st, char *msg, unsigned len)
{
    if (c->open && c->head >= CLUSTER_SITES)
        return snprintf(msg, len, "clustering: the open cluster's site %u is out of range", c->head), -1;
    if (c->ncache > c->cfg->cache_sites)
        return snprintf(msg, len, "clustering: %u translations cached, more than clustering.cache_sites=%llu",
                        c->ncache, (unsigned long long)c->cfg->cache_sites), -1;
    for (unsigned i = 0; i < c->ncache; i++) {
        if (c->cache[i] >= CLUSTER_SITES)
            return snprintf(msg, len, "clustering: cached translation %u is of site %u, out of range", i,
                            c->cache[i]), -1;
        for (unsigned k = 0; k < i; k++)
            if (c->cache[k] == c->cache[i])
                return snprintf(msg, len, "clustering: site %u is cached twice", c->cache[i]), -1;
    }
    uint64_t avoided = 0, clusters = 0;
    for (unsigned s = 0; s < CLUSTER_SITES; s++) {
        avoided += c->site[s].avoided;
        clusters += c->site[s].clusters;
    }
    if (avoided != st->cnt[CNT_cluster_exits_avoided] || clusters != st->cnt[CNT_clusters])
        return snprintf(msg, len, "clustering: the sites account for %llu avoided exits and %llu clusters, "
                        "the counters say %llu and %llu", (unsigned long long)avoided,
                        (unsigned long long)clusters, (unsigned long long)st->cnt[CNT_cluster_exits_avoided],
                        (unsigned long long)st->cnt[CNT_clusters]), -1;
    if (clusters > avoided)
        return snprintf(msg, len, "clustering: %llu clusters but only %llu operations joined one",
                        (unsigned long long)clusters, (unsigned long long)avoided), -1;
    return 0;
}

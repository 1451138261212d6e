/* hvconfig.c: hypervisor parameter groups (see hvconfig.h). */
#include "hv/hvconfig.h"
#include "lib/err.h"
#include <stddef.h>
#include <stdio.h>
#include <string.h>

static const struct param_def hv_defs[] = {
    PARAM_U64(struct hvbase, machine_mb, "0", 0, 1 << 24, "machine RAM in MiB (0: twice the guest RAM)"),
    PARAM_CHOICE(struct hvbase, host_page_size, "auto", "auto|4k|2m",
                 "host pages backing guest memory: no shadow or EPT leaf maps more (KVM's "
                 "kvm_mmu_max_mapping_level), so under 4k a shadow maps a guest 2 MiB page as 4 KiB leaves; "
                 "auto: hap.ept_page_size's"),
    PARAM_U64(struct hvbase, nic_mbps, "0", 0, 1e6, "NIC receive traffic alongside the workload, Mbit/s"),
    PARAM_U64(struct hvbase, disk_mbps, "0", 0, 1e6, "disk traffic alongside the workload, Mbit/s"),
    PARAM_U64(struct hvbase, dma_period_us, "1000", 1, 1e9, "device activity interval in microseconds"),
    PARAM_U64(struct hvbase, nic_ring, "256", 1, 4096,
              "NIC receive/transmit ring buffers, 4 KiB each, from guest RAM in every mode (native too)"),
    PARAM_BOOL(struct hvbase, vpid, "true",
               "VPIDs tag the guest's TLB entries, so VM exits and entries keep them (Intel since Nehalem); "
               "false: every VM exit and entry flushes the guest's linear and combined translations and its "
               "paging-structure caches, global ones too, as VMX without VPIDs does; the guest-physical "
               "ones (nested TLB, EPT walk caches) stay (SDM vol. 3, 28.3.3.3). A PV guest's traps are not "
               "VM exits"),
};
const struct param_group hv_params = { "hv", hv_defs, sizeof hv_defs / sizeof hv_defs[0],
                                       "the domain: machine memory and passthrough devices" };

static const struct param_def xen_defs[] = {
    PARAM_CHOICE(struct xenconfig, iommu_profile, "xen-4.2", "xen-4.2|xen-4.17",
                 "IOMMU sync on type changes: xen-4.2 invalidates on map and unmap, the paper's "
                 "account of 4.2.1 (the 4.2.2 source flushes in neither direction without "
                 "caching mode, a stale-IOTLB hole fixed later); xen-4.17 on unmap only "
                 "(map too with iommu.caching_mode)"),
    PARAM_CHOICE(struct xenconfig, iommu_superpages, "auto", "auto|off|2m|1g",
                 "I/O superpages of Xen 4.17's VT-d driver (iommu=superpages, on by default): a full, "
                 "contiguous I/O table becomes one 2 MiB (or 1 GiB) entry with a domain-wide IOTLB "
                 "invalidation, a superpage met by a map or unmap is split back into a table, and an "
                 "unmap frees a table it empties; 2m or 1g: the largest page the unit takes (CAP.SLLPS); "
                 "auto: 1g with xen.iommu_profile=xen-4.17, off with xen-4.2 (whose driver has none of it)"),
    PARAM_BOOL(struct xenconfig, iommu_sync, "true",
               "keep the IOMMU in sync with page types (PV guest with a passthrough device)"),
    PARAM_BOOL(struct xenconfig, linear_pt, "true", "allow linear (same-level) page-table entries (pv-linear-pt)"),
    PARAM_U64(struct xenconfig, preempt_entries, "0", 0, 1e9,
              "preempt L2-L4 validation after this many entries (0: never)"),
    PARAM_BOOL(struct xenconfig, user_pgd, "true", "x86-64 PV: a separate user-mode L4 per address space"),
    PARAM_BOOL(struct xenconfig, l1tf_check, "true",
               "Xen's L1TF check (pv-l1tf, on by default for a domU on an L1TF-vulnerable host): a "
               "not-present entry whose address names cacheable RAM, or with PSE above L1, crashes "
               "the domain (Xen built without shadow paging; with it, Xen shadows the domain instead, "
               "not modelled)"),
    PARAM_CHOICE(struct xenconfig, xpti, "off", "off|on|pcid",
                 "Xen's page-table isolation for PV guests (XPTI, Xen 4.10.1 on; on by default for a domU on "
                 "an Intel host Meltdown affects): every trap switches CR3 to Xen's tables and back to a "
                 "per-CPU copy of the guest's L4, copied again after the guest's user/kernel switch or an "
                 "L4 change, with no global pages; on: without PCIDs, each trap flushes the guest's TLB "
                 "and paging-structure caches; pcid: Xen 4.11's PCIDs for it (pcid=xpti, Xen's default given "
                 "PCID and INVPCID): no flush; off: Xen before XPTI (the paper's 4.2), or a host Meltdown "
                 "does not affect (AMD)"),
};
const struct param_group xen_params = { "xen", xen_defs, sizeof xen_defs / sizeof xen_defs[0],
                                        "Xen PV MMU (modes pv, pv-pibooster)" };

static const struct param_def shadow_defs[] = {
    PARAM_U64(struct shadowconfig, pool_permille, "20", 1, 1000,
              "shadow page pool: pages per 1000 guest frames (KVM's default: 20)"),
    PARAM_U64(struct shadowconfig, max_roots, "64", 0, 1 << 20,
              "shadow roots kept in the cache (0: as many as the pool holds)"),
    PARAM_U64(struct shadowconfig, prefetch, "8", 0, 512,
              "a fault on a guest L1 also fills the other unfilled entries of its aligned group of this "
              "many, up to the first the guest has not used (KVM's pte_prefetch: 8; 0 or 1: off; a power "
              "of two)"),
};
const struct param_group shadow_params = { "shadow", shadow_defs, sizeof shadow_defs / sizeof shadow_defs[0],
                                           "shadow paging (modes tsp, ssp, selective)" };

static const struct param_def tsp_defs[] = {
    PARAM_U64(struct tspconfig, flood_threshold, "3", 1, 1 << 20,
              "counted writes before a shadowed table is unshadowed (KVM's write-flooding count: 3); "
              "what counts is tsp.flood_detector's"),
    PARAM_CHOICE(struct tspconfig, flood_detector, "auto", "auto|vcpu|page",
                 "vcpu: KVM before 3.3, one count per vCPU of consecutive trapped writes to the same "
                 "frame, restarted by a write to another frame or one whose last propagated PTE was "
                 "since used, reset by a page fault injected or not a page-table write; page: KVM 3.3 "
                 "on, a count per shadow page reset only by a fault walking through it; auto: vcpu, "
                 "page with tsp.unsync (today's KVM, whose unsync L1s never count)"),
    PARAM_BOOL(struct tspconfig, unsync, "false",
               "KVM's unsync L1 shadows: the first write unprotects, a guest flush resyncs"),
    PARAM_U64(struct tspconfig, oos_limit, "0", 0, 4096,
              "with tsp.unsync: out-of-sync L1 shadows kept at once, in slots by guest frame as Xen's "
              "oos_hash_add places them (3: Xen's SHADOW_OOS_PAGES, one vCPU's); a page that finds its "
              "slots taken resyncs and write-protects again the one it displaces; flushes then take "
              "Xen's scope (INVLPG drops the entry, other flushes resync every page); 0: no limit, "
              "KVM's scope"),
    PARAM_CHOICE(struct tspconfig, retry, "auto", "auto|true|false",
                 "KVM's retry_instruction: a trapped store by an instruction that writes no page "
                 "table (clear_page's rep stos, copy_page's rep movs) zaps the frame's shadows and is "
                 "retried natively, one exit a page; false: the rep is emulated in the exit it took (until "
                 "flooding unshadows the frame; an exit each 1 KiB while it stays protected); "
                 "auto: true with the page flood detector, as both came with KVM 3.3"),
};
const struct param_group tsp_params = { "tsp", tsp_defs, sizeof tsp_defs / sizeof tsp_defs[0],
                                        "traditional shadow paging (modes tsp, selective)" };

static const struct param_def ssp_defs[] = {
    PARAM_U64(struct sspconfig, rootbuf_entries, "16", 0, 4096,
              "shadow page-table base address buffer entries (0: none; unverified)"),
    PARAM_BOOL(struct sspconfig, fault_trap, "false",
               "page faults (shadow fills, injection) handled in the hardware-mode trap like the "
               "flushes, as a software-refilled TLB allows, instead of by a VM exit (unverified)"),
    PARAM_BOOL(struct sspconfig, flush_fill, "false",
               "an intercepted INVLPG (or INVPCID of one address) also fills the entry the shadow lacks "
               "where the guest's tables map "
               "the page (a guest walk per such flush): with guest.flush_after_fault, a fault's retry "
               "hits instead of exiting to fill"),
};
const struct param_group ssp_params = { "ssp", ssp_defs, sizeof ssp_defs / sizeof ssp_defs[0],
                                        "swift shadow paging (mode ssp)" };

static const struct param_def hap_defs[] = {
    PARAM_CHOICE(struct hapconfig, ept_page_size, "4k", "4k|2m", "EPT leaf size (host pages)"),
    PARAM_CHOICE(struct hapconfig, ept_populate, "fault", "fault|boot",
                 "fault: KVM's TDP MMU, each frame (or 2 MiB extent) mapped on its first EPT violation; "
                 "boot: Xen, the EPT is the p2m and maps all guest RAM when the domain is built (no "
                 "violation, exit or cost.ept_fill for guest RAM)"),
    PARAM_U64(struct hapconfig, ept_pwc_l4, "2", 0, 4096, "EPT paging-structure cache: PML4 entries (unverified)"),
    PARAM_U64(struct hapconfig, ept_pwc_l3, "4", 0, 4096, "EPT paging-structure cache: PDPT entries (unverified)"),
    PARAM_U64(struct hapconfig, ept_pwc_l2, "32", 0, 4096, "EPT paging-structure cache: PD entries (unverified)"),
    PARAM_U64(struct hapconfig, ntlb_entries, "32", 0, 1 << 16,
              "nested TLB (guest-physical -> host-physical) entries (0: none; unverified)"),
    PARAM_U64(struct hapconfig, ntlb_ways, "4", 1, 1 << 16, "nested TLB associativity"),
    PARAM_BOOL(struct hapconfig, guest_pwc, "true",
               "the guest dimension uses the paging-structure caches (combined entries)"),
};
const struct param_group hap_params = { "hap", hap_defs, sizeof hap_defs / sizeof hap_defs[0],
                                        "nested paging (modes hap, selective)" };

#define S(f, d, lo, hi, doc) PARAM_DBL(struct selconfig, f, d, lo, hi, doc)
static const struct param_def sel_defs[] = {
    PARAM_CHOICE(struct selconfig, policy, "dynamic", "dynamic|fixed|alternate",
                 "dynamic: VEE'11's rules; fixed: stay in the start mode; alternate: a forced round trip "
                 "from the start mode to the other every alternate_ms"),
    PARAM_CHOICE(struct selconfig, start, "hap", "hap|shadow",
                 "the mode the guest starts in (and, policy=fixed, stays in)"),
    S(sample_ms, "5000", 0.001, 1e9, "policy=dynamic: sampling period, simulated ms (VEE'11: 5 s)"),
    PARAM_U64(struct selconfig, history, "3", 1, 64, "policy=dynamic: samples kept as history (VEE'11: 3)"),
    S(pf_upper, "5000e-7", 0, 1e9, "policy=dynamic: guest page faults per 1,000 instructions: upper bound (VEE'11)"),
    S(pf_lower, "100e-7", 0, 1e9,
      "policy=dynamic: guest page faults per 1,000 instructions: lower bound (VEE'11; at most pf_upper)"),
    S(tlb_upper, "10", 0, 1e9, "policy=dynamic: TLB misses per 1,000 instructions: upper bound (VEE'11)"),
    S(tlb_lower, "0.1", 0, 1e9,
      "policy=dynamic: TLB misses per 1,000 instructions: lower bound (VEE'11; at most tlb_upper)"),
    S(ratio_upper, "200e-7", 0, 1e9, "policy=dynamic: page faults per TLB miss: upper bound (VEE'11)"),
    S(ratio_lower, "150e-7", 0, 1e9,
      "policy=dynamic: page faults per TLB miss: lower bound (VEE'11; at most ratio_upper)"),
    S(bound_share, "0.8", 0, 1, "policy=dynamic: rules 1-2: one rate high switches only if the other is under "
      "this share of its upper bound (VEE'11: 80%)"),
    S(alternate_ms, "1000", 0.001, 1e9, "policy=alternate: a round trip to the other mode this often"),
    S(dwell_ms, "0", 0, 1e9,
      "policy=alternate: time spent in the other mode (0: straight back; less than alternate_ms)"),
};
#undef S
const struct param_group selective_params = { "selective", sel_defs, sizeof sel_defs / sizeof sel_defs[0],
                                              "selective paging between nested and shadow (mode selective)" };

static const struct param_def cl_defs[] = {
    PARAM_BOOL(struct clusterconfig, enable, "false",
               "exit clustering in hardware-virtualized modes (--clustering sets it)"),
    PARAM_U64(struct clusterconfig, window, "1000", 0, 1e12,
              "an exiting operation this many guest cycles or fewer after the previous one joins its "
              "cluster (unverified)"),
    PARAM_U64(struct clusterconfig, cache_sites, "32", 1, 4096,
              "translated clusters kept, one per guest code site, least recently used evicted"),
};
const struct param_group clustering_params = { "clustering", cl_defs, sizeof cl_defs / sizeof cl_defs[0],
                                               "exit clustering (modes tsp, ssp, hap, selective)" };

const struct param_group *const hv_groups[] = {
    &hv_params, &xen_params, &iommu_params, &shadow_params, &tsp_params, &ssp_params, &hap_params,
    &selective_params, &clustering_params,
};
const unsigned hv_ngroups = sizeof hv_groups / sizeof hv_groups[0];

void *hvconfig_part(struct hvconfig *h, unsigned i)
{
    void *const part[] = { &h->hv, &h->xen, &h->iommu, &h->shadow, &h->tsp, &h->ssp, &h->hap, &h->selective,
                              &h->clustering };
    return i < sizeof part / sizeof part[0] ? part[i] : NULL;
}

/* The least machine memory hv/domain.c builds a domain in: the guest's
 * frames plus 24 extents of 2 MiB (the hypervisor's first 16 MiB and 32 MiB
 * of heap); a mode needing more heap is checked by hv_check_memory. */
#define HV_MIN_EXTRA_MB 48

int hvconfig_validate_memory(const struct hvconfig *h, uint64_t guest_mb)
{
    if (h->hv.machine_mb && h->hv.machine_mb < guest_mb + HV_MIN_EXTRA_MB)
        return mv_error("--param hv.machine_mb=%llu: too small: machine memory must hold the guest's RAM "
                        "(guest.ram_mb=%llu) and %d MiB for the hypervisor (need at least %llu MiB)",
                        (unsigned long long)h->hv.machine_mb, (unsigned long long)guest_mb, HV_MIN_EXTRA_MB,
                        (unsigned long long)(guest_mb + HV_MIN_EXTRA_MB));
    return 0;
}

void hvconfig_heap_setting(const struct hvconfig *h, const char *group, char *setting, size_t slen, char *doc,
                           size_t dlen)
{
    if (!strcmp(group, "shadow")) {
        snprintf(setting, slen, "shadow.pool_permille=%llu", (unsigned long long)h->shadow.pool_permille);
        snprintf(doc, dlen, "the shadow pool of %llu pages per 1000 guest frames (shadow.pool_permille)",
                 (unsigned long long)h->shadow.pool_permille);
    }
}

int hvconfig_validate_iommu(const struct iommu_config *c)
{
    if (!c->iotlb_entries)
        return mv_error("--param iommu.iotlb_entries=0: the IOTLB needs at least one entry");
    if (param_check_sets(&iommu_params, c, "iotlb_entries", c->iotlb_entries, "entries", "iotlb_ways"))
        return -1;
    if (c->qi_entries < 2)
        return mv_error("--param iommu.qi_entries=%llu: the invalidation queue needs at least 2 descriptors "
                        "(an invalidation and its wait)", (unsigned long long)c->qi_entries);
    return 0;
}

int hvconfig_validate_ntlb(const struct hapconfig *c)
{
    return param_check_sets(&hap_params, c, "ntlb_entries", c->ntlb_entries, "entries", "ntlb_ways");
}

int hvconfig_host_2m(const struct hvconfig *h)
{
    return !strcmp(h->hv.host_page_size, "2m") ||
           (!strcmp(h->hv.host_page_size, "auto") && !strcmp(h->hap.ept_page_size, "2m"));
}

int hvconfig_validate(const struct hvconfig *h)
{
    if (hvconfig_validate_iommu(&h->iommu) || hvconfig_validate_ntlb(&h->hap))
        return -1;
    if (!strcmp(h->hap.ept_page_size, "2m") && !hvconfig_host_2m(h))
        return mv_error("--param hap.ept_page_size=2m: larger than the host's pages (hv.host_page_size=%s): no EPT "
                        "leaf maps more than the host page behind it", h->hv.host_page_size);
    if (!strcmp(h->xen.iommu_profile, "xen-4.2") && strcmp(h->xen.iommu_superpages, "auto") &&
        strcmp(h->xen.iommu_superpages, "off"))
        return mv_error("--param xen.iommu_superpages=%s: Xen 4.2's VT-d driver has no I/O superpages "
                        "(xen.iommu_profile=xen-4.2); they came with 4.17's (xen.iommu_profile=xen-4.17)",
                        h->xen.iommu_superpages);
    if (h->shadow.prefetch & (h->shadow.prefetch - 1))
        return mv_error("--param shadow.prefetch=%llu: not a power of two (the group is aligned, as KVM's 8)",
                        (unsigned long long)h->shadow.prefetch);
    char a[PARAM_SHOW_MAX], b[PARAM_SHOW_MAX];
    if (!strcmp(h->selective.policy, "alternate") && h->selective.dwell_ms >= h->selective.alternate_ms)
        return mv_error("--param %s: the time away must be shorter than %s: a round trip starts every alternate_ms",
                        param_show(&selective_params, &h->selective, "dwell_ms", a, sizeof a),
                        param_show(&selective_params, &h->selective, "alternate_ms", b, sizeof b));
    /* each rate's band: a lower bound above its upper one has no reading (a
     * rate both above and below); only the dynamic policy reads them (the
     * others warn of them as unread: cli's config_warn_unused) */
    static const char *const band[][2] = { { "pf_lower", "pf_upper" }, { "tlb_lower", "tlb_upper" },
                                           { "ratio_lower", "ratio_upper" } };
    const double lo[] = { h->selective.pf_lower, h->selective.tlb_lower, h->selective.ratio_lower };
    const double hi[] = { h->selective.pf_upper, h->selective.tlb_upper, h->selective.ratio_upper };
    if (strcmp(h->selective.policy, "dynamic"))
        return 0;
    for (unsigned i = 0; i < 3; i++) {
        if (lo[i] <= hi[i])
            continue;
        const struct selconfig *sc = &h->selective;
        param_show(&selective_params, sc, band[i][0], a, sizeof a);
        param_show(&selective_params, sc, band[i][1], b, sizeof b);
        /* led by the one given, where the other is the default */
        if (param_is_default(param_find(&selective_params, band[i][0]), sc) &&
            !param_is_default(param_find(&selective_params, band[i][1]), sc))
            return mv_error("--param %s: below %s: an upper bound must not be below its lower bound", b, a);
        return mv_error("--param %s: above %s: a lower bound must not be above its upper bound", a, b);
    }
    return 0;
}

const char *selconfig_policy_reading(const char *name)
{
    if (!strcmp(name, "policy") || !strcmp(name, "start"))
        return NULL;   /* every policy */
    if (!strcmp(name, "alternate_ms") || !strcmp(name, "dwell_ms"))
        return "alternate";
    return "dynamic";   /* the sampling and VEE'11's rules */
}

/* stats.h: the event counters and cycle buckets every layer charges into.
 *
 * One struct mv_stats per simulated machine. Counters count events; cycle
 * buckets hold the simulated cycles charged for them, by category, and their sum
 * is the run's simulated time. Names are part of the output schema
 * (docs/output.md): add new ones beside the ones they belong with, never
 * rename or remove one. */
#ifndef MV_LIB_STATS_H
#define MV_LIB_STATS_H
#include <stdint.h>

#define MV_COUNTERS(X)                                                        \
    X(refs)             /* simulated memory references by the guest */        \
    X(tlb_miss)         /* reference attempts that missed every TLB level: one \
                           retried after a page fault or EPT violation misses again */ \
    X(stlb_hit)         /* L1 misses that hit the second-level TLB */         \
    X(walk_refs)        /* memory references made by page walks */            \
    X(pwc_hit)          /* upper-level walk steps served by walk caches */    \
    X(spurious_fault)   /* stale, too-restrictive TLB entries refetched */    \
    X(guest_pf)         /* page faults delivered to the guest kernel */       \
    X(pf_anon)          /* demand-zero faults */                              \
    X(pf_file)          /* faults on file-backed pages */                     \
    X(pf_cow)           /* copy-on-write breaks (copy or reuse) */            \
    X(pf_around)        /* file pages a read fault mapped beside its own (fault-around) */ \
    X(segv)             /* faults the kernel could not resolve */             \
    X(fork)                                                                   \
    X(exec)                                                                   \
    X(exit)                                                                   \
    X(mmap)                                                                   \
    X(munmap)                                                                 \
    X(mprotect)                                                               \
    X(brk)                                                                    \
    X(ctx_switch)       /* address-space switches (CR3 loads) */              \
    X(pt_pages_alloc)   /* page-table pages allocated, all levels */          \
    X(pt_pages_free)                                                          \
    X(pt_alloc_l1) X(pt_alloc_l2) X(pt_alloc_l3) X(pt_alloc_l4)               \
    X(pt_free_l1) X(pt_free_l2) X(pt_free_l3) X(pt_free_l4)                   \
    X(pt_alloc_cycles_l1) X(pt_alloc_cycles_l2)                               \
    X(pt_alloc_cycles_l3) X(pt_alloc_cycles_l4)                               \
    X(pt_free_cycles_l1) X(pt_free_cycles_l2)                                 \
    X(pt_free_cycles_l3) X(pt_free_cycles_l4)                                 \
    X(data_pages_alloc) /* guest frames allocated for data and page cache */  \
    X(data_pages_free)                                                        \
    X(buddy_alloc)      /* buddy allocator calls */                           \
    X(buddy_free)                                                             \
    X(buddy_split)                                                            \
    X(buddy_merge)                                                            \
    X(page_zero)        /* 4 KiB pages zeroed */                              \
    X(page_copy)        /* 4 KiB pages copied */                              \
    X(pte_writes)       /* page-table entry stores by the guest kernel */     \
    X(tlb_flush_page)   /* invlpg (one page, one address space) */            \
    X(tlb_flush_all)    /* full flush including global entries */             \
    X(tlb_flush_nonglobal)                                                    \
    X(tlb_flush_pcid)                                                         \
    X(tlb_flush_remote) /* flush requests sent to other CPUs */               \
    X(vm_exits)                                                               \
    X(hypercalls)                                                             \
    X(hc_iret)          /* Xen PV: iret hypercalls (the return to user mode) */ \
    X(iotlb_inv_psi)                                                          \
    X(iotlb_inv_dsi)                                                          \
    X(iotlb_inv_global)                                                       \
    X(iotlb_miss)                                                             \
    X(iommu_pt_shatters)  /* I/O superpages split into a table (Xen 4.17) */  \
    X(iommu_pt_coalesces) /* I/O tables replaced by a superpage (Xen 4.17) */ \
    X(dma_faults)                                                             \
    X(oracle_checks)    /* translations verified by --check */                \
    X(pt_pin_cycles)    /* Xen PV: cycles pinning address spaces */           \
    X(pt_unpin_cycles)  /* Xen PV: cycles unpinning them */                   \
    X(multicalls)       /* Xen PV: multicall batches issued */                \
    X(dma_pages)        /* pages moved by devices */                          \
    X(dma_bytes)                                                              \
    X(walk_cache_miss)  /* walk references that missed the data cache */    \
    X(io_walk_refs)     /* memory references made by IOMMU page walks */      \
    X(walk_refs_guest)  /* 2D walks: references to guest page tables */       \
    X(walk_refs_host)   /* 2D walks: references to the EPT */                 \
    X(ntlb_hit)         /* 2D walks: EPT walks saved by the nested TLB */     \
    X(ept_pwc_hit)      /* 2D walks: EPT walk steps saved by its caches */    \
    X(vm_exits_pt_write)   /* exits: guest store to a write-protected table */ \
    X(vm_exits_pf)         /* exits: page faults intercepted */               \
    X(vm_exits_cr3)        /* exits: address-space switches (MOV CR3) */      \
    X(vm_exits_invlpg)     /* exits: INVLPG */                                \
    X(vm_exits_flush)      /* exits: other TLB flushes (CR3 reload, CR4.PGE, INVPCID) */ \
    X(vm_exits_ept_violation) /* exits: EPT violations */                    \
    X(vm_exits_hypercall)  /* exits: hypercalls */                            \
    X(vm_exits_syscall)    /* exits: a PV guest's system calls bounced through Xen */ \
    X(ssp_traps)        /* SSP: traps to the hardware mode (not VM exits) */  \
    X(shadow_fill)      /* shadow entries filled on a fault, hidden from the guest */ \
    X(shadow_prefetch)  /* shadow entries filled ahead, beside a fault's (KVM's pte_prefetch) */ \
    X(pf_injected)      /* intercepted faults the hypervisor gave to the guest */ \
    X(shadow_sync)      /* shadow entries compared with the guest's at a flush (SSP) */ \
    X(shadow_pages_alloc) /* shadow page-table pages built */                \
    X(shadow_pages_free)  /* shadow page-table pages dropped */              \
    X(shadow_unprotect) /* guest frames that stopped being write-protected */ \
    X(shadow_retry)     /* trapped string stores retried after zapping the frame's shadows (KVM's retry_instruction) */ \
    X(shadow_oos_evict) /* out-of-sync L1 shadows resynced to make room (tsp.oos_limit: Xen's unsync_evict) */ \
    X(shadow_root_evict)  /* shadow roots evicted from the bounded cache */  \
    X(rootbuf_hit)      /* SSP: context switches served by the shadow-root buffer */ \
    X(rootbuf_miss)     /* SSP: context switches that missed it */          \
    X(hv_tlb_flush)     /* full TLB flushes the hypervisor issued itself (shadows dropped) */ \
    X(oracle_stale)     /* --check: references that used an unflushed, superseded translation */ \
    X(instructions)     /* retired user instructions: references x the workload's instructions per reference */ \
    X(cluster_exits_avoided) /* exit clustering: exiting operations handled inside a cluster, without a transition */ \
    X(clusters)         /* exit clustering: transitions that handled two or more exiting operations */ \
    X(bt_translations)  /* exit clustering: guest code sites inspected and translated */

#define MV_CYCLES(X)                                                          \
    X(user)             /* references that hit the TLB */                     \
    X(walk)             /* page walks after TLB misses */                     \
    X(fault)            /* exception entry/exit and fault handling */         \
    X(kernel)           /* system-call and process-management paths */        \
    X(pgtable)          /* page-table page allocation and freeing paths */    \
    X(buddy)            /* buddy allocator work */                            \
    X(zero_copy)        /* page zeroing and copying */                        \
    X(tlb_flush)        /* TLB invalidation and refill after it */            \
    X(ctx_switch)       /* address-space switch */                            \
    X(hypervisor)       /* hypervisor handler work (transitions: `exits`) */  \
    X(iommu)            /* IOMMU invalidations and I/O page-table updates (CPU side; \
                           I/O walks are device time, not charged here) */               \
    X(idle)             /* time the workload spent waiting */                 \
    X(exits)            /* guest->hypervisor transitions: VM exits, PV traps, SSP traps */ \
    X(compute)          /* the program's instructions besides its references (cost.cpi each) */ \
    X(bt)               /* exit clustering: translating guest code and running it translated */

#define MV_ENUM_COUNTER(n) CNT_##n,
#define MV_ENUM_CYCLES(n) CYC_##n,
enum mv_counter { MV_COUNTERS(MV_ENUM_COUNTER) CNT__N };
enum mv_cycles { MV_CYCLES(MV_ENUM_CYCLES) CYC__N };

struct mv_stats {
    uint64_t cnt[CNT__N];
    uint64_t cyc[CYC__N];
    uint64_t now;               /* sum of cyc[]: simulated time in cycles */
    uint64_t wrapped;           /* non-zero once now passed 2^64 - 1 (every cyc[] is at most now,
                                   so none wrapped before it): the run's times are void */
};

extern const char *const mv_counter_names[CNT__N];
extern const char *const mv_cycle_names[CYC__N];

static inline void stat_inc(struct mv_stats *s, enum mv_counter c) { s->cnt[c]++; }
static inline void stat_add(struct mv_stats *s, enum mv_counter c, uint64_t n) { s->cnt[c] += n; }

static inline void stat_charge(struct mv_stats *s, enum mv_cycles c, uint64_t cycles)
{
    s->cyc[c] += cycles;
    s->wrapped |= __builtin_add_overflow(s->now, cycles, &s->now);
}

#endif

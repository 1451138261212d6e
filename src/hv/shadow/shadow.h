/* shadow.h: shadow page tables, the machinery the shadow paging modes share
 * (KVM: arch/x86/kvm/mmu/mmu.c and paging_tmpl.h; Xen: xen/arch/x86/mm/shadow/).
 *
 * The guest's page tables hold guest-physical frames and the hardware never
 * walks them: it walks shadow tables the hypervisor builds from them, which
 * map guest-virtual addresses straight to machine frames. A shadow page
 * (struct shadow_page) shadows one guest table at one level and is keyed by
 * (guest frame, level), so every parent that points to a guest table shares
 * its shadow (KVM's gfn/role hash). Shadows are filled lazily: a shadow
 * entry is created when a fault walks the guest's tables through it (a
 * hidden fault), and a shadow entry copies the permission bits of its guest
 * entry, so the hardware combines permissions exactly as the guest's walk
 * would. A leaf is writable in the shadow only when the guest entry is
 * writable and dirty (the first write faults and sets the guest's D bit, as
 * KVM does) and, under write protection, its frame is not a shadowed table.
 *
 * How shadows follow the guest differs by mode:
 *  - tsp: every shadowed guest table is write-protected; a guest store to it
 *    exits and is emulated and propagated (shadow_write). A table found to
 *    be written flood_threshold times is unshadowed (KVM's write-flooding
 *    heuristic), which is how freed and reused table pages stop costing
 *    exits; how the writes are counted is tsp.flood_detector's (struct
 *    flood_vcpu below, or struct shadow_page's flood). With tsp.unsync an L1
 *    shadow is left out of sync at its first write instead, and resynced at
 *    the guest's next flush.
 *  - ssp: nothing is write-protected; every shadow may be stale and is
 *    resynced when the guest flushes its TLB (shadow_sync_va, shadow_sync_root).
 *
 * Roots (shadows of guest L4s) are cached, least recently used first out,
 * at most shadow.max_roots of them, in a pool of at most
 * shadow.pool_permille / 1000 of guest memory; before a fault fills shadow
 * pages the pool is made to hold enough free pages (Xen's shadow_prealloc),
 * evicting old roots and, as a last resort, the current root's subtrees.
 * Zapping a shadow page flushes the hardware TLB and paging-structure caches
 * before its frame is reused.
 *
 * No shadow leaf maps more than the host page behind it (hv.host_page_size,
 * KVM's kvm_mmu_max_mapping_level). A guest 2 MiB page over 4 KiB host
 * pages, or one whose extent holds a write-protected table frame (which one
 * writable 2 MiB leaf cannot map), is splintered, as Xen does
 * (sh_page_fault's "splintering a superpage"): the shadow L2 entry points to
 * an fl1 shadow, a shadow L1 of 4 KiB leaves that shadows no guest table
 * (keyed by the 2 MiB page's first frame, flag SP_FL1, never protecting a
 * frame), filled at faults like any L1 shadow, whose leaves are writable
 * except where a frame is protected. Over 2 MiB host pages memvirt
 * splinters only where KVM would map 4 KiB too (kvm_mmu_hugepage_adjust: a
 * write-tracked frame in the extent) and keeps one 2 MiB leaf elsewhere, as
 * KVM; the link to the fl1 carries the guest entry's permissions (writable
 * only once it is dirty, as Xen's l2e_propagate_from_guest for a
 * superpage). A fault on an L1 shadow (an fl1 too) prefetches the rest of
 * its aligned group of shadow.prefetch entries (shadow_fault.c).
 *
 * Simplification: a guest 1 GiB page is not shadowed (its fault is given to
 * the guest with PFEC_RSVD); memvirt's guest kernel never maps one. */
#ifndef MV_HV_SHADOW_SHADOW_H
#define MV_HV_SHADOW_SHADOW_H
#include "hv/hv.h"

#define SHADOW_PREV_ROOTS 3   /* KVM_MMU_NUM_PREV_ROOTS */
#define SP_ROOT    0x1   /* a cached root (shadow of a guest L4 loaded in CR3) */
#define SP_UNSYNC  0x2   /* tsp.unsync: written without write protection, resync at a flush */
#define SP_FL1     0x4   /* an fl1 shadow: the 4 KiB splinters of a guest 2 MiB page (below) */

struct sp_parent {
    uint64_t smfn;       /* the parent shadow page's frame */
    uint16_t idx;        /* the entry in it that points here */
};

struct shadow_page {
    uint64_t gfn;        /* the guest table it shadows */
    uint64_t smfn;       /* machine frame of the shadow table */
    uint8_t  level;
    uint8_t  flags;      /* SP_* */
    uint16_t flood;      /* tsp.flood_detector=page: emulated writes since a fault last walked through it */
    uint32_t sync_gen;   /* last resync pass that visited it */
    uint64_t lru;        /* roots: stamp of the last CR3 load */
    struct sp_parent *parent;
    uint32_t nparent, capparent;
    uint32_t npresent;   /* present entries in the shadow table: sp_set keeps the count (the
                            MMU's A/D updates never change presence); shadow_check verifies it */
    struct shadow_page *hnext;   /* hash chain */
};

/* Per guest frame. */
struct shadow_gfn {
    uint16_t synced;     /* shadow pages of this frame that are in sync (tsp: protected iff > 0) */
    uint16_t unsync;     /* its out-of-sync shadow pages */
    uint32_t wr_maps;    /* writable 4 KiB shadow leaves mapping this frame */
    uint32_t wr_huge;    /* writable 2 MiB shadow leaves mapping the extent this frame begins */
};

struct shadow_stats {
    uint64_t pages, max_pages, roots;
};

/* tsp.flood_detector=vcpu: KVM's write-flooding detector before 3.3, one
 * per vCPU (struct kvm_vcpu_arch's last_pt_write_gfn, last_pt_write_count,
 * last_pte_updated; kvm_mmu_pte_write). Only consecutive trapped writes to
 * the same guest frame count; a write to another frame, or one made after
 * the shadow leaf the previous write to this frame propagated was used (its
 * Accessed bit set by the MMU: last_updated_pte_accessed), starts the count
 * again at 1; a page fault given to the guest, or one that was not a write
 * to a page table, resets it to 0 (FNAME(page_fault)'s "reset fork
 * detector"). memvirt's guest has one vCPU, so the shadow holds one. */
struct flood_vcpu {
    uint64_t gfn;                /* last_pt_write_gfn (UINT64_MAX: none yet) */
    uint64_t count;              /* last_pt_write_count */
    uint64_t pte_smfn;           /* last_pte_updated: shadow frame and entry (UINT64_MAX: none) */
    unsigned pte_idx;
};

struct shadow {
    struct hv *h;
    int protect;                 /* tsp: write-protect shadowed tables */
    int unsync;                  /* tsp.unsync */
    /* tsp.oos_limit: Xen's bound on out-of-sync L1 shadows (its per-vCPU
     * oos[] of SHADOW_OOS_PAGES; memvirt's guest has one vCPU). Slot i
     * holds gfn + 1 of an out-of-sync L1 shadow, 0 if empty; a gfn sits in
     * its home slot gfn % oos_n or, punted by a later page of that home,
     * the next one (shadow_oos_add). oos_n 0: no bound, no slots (KVM). */
    uint64_t *oos;
    uint32_t oos_n;
    int retry;                   /* tsp.retry resolved */
    int host_2m;                 /* hv.host_page_size resolved: guest 2 MiB pages get 2 MiB leaves */
    unsigned prefetch;           /* shadow.prefetch (<= 1: off) */
    uint64_t flood_threshold;
    int flood_per_vcpu;          /* tsp.flood_detector resolved: 1 vcpu, 0 page */
    struct flood_vcpu fv;
    uint64_t pool_max, max_roots;
    /* (gfn, level) -> shadow page */
    struct shadow_page **hash;
    uint64_t hmask, npages;
    sparse_t by_smfn;            /* shadow frame -> struct shadow_page * */
    sparse_t gfns;               /* guest frame -> struct shadow_gfn */
    uint64_t nroots, root_clock;
    struct shadow_page *cur_root;
    /* The guest roots loaded before the current one, most recent first
     * (gfn + 1; 0: none): KVM's prev_roots, which its INVLPG resyncs
     * besides the current root (tsp.unsync). Kept by guest frame, so a
     * root evicted since is simply not found. */
    uint64_t prev_root[SHADOW_PREV_ROOTS];
    uint32_t sync_gen;
    int need_flush;              /* a shadow page went away: flush before re-entry */
    uint64_t max_pages;
    uint64_t io_checked;
};

int  shadow_init(struct shadow *s, struct hv *h);
void shadow_destroy(struct shadow *s);
/* Drop every shadow page, roots included (the next CR3 load or fault
 * builds anew); every frame stops being write-protected. */
void shadow_drop_all(struct shadow *s);
/* Shadow pool pages for a guest of guest_frames frames. */
uint64_t shadow_pool_frames(const struct hvconfig *cfg, uint64_t guest_frames);

/* Shadow pages. */
struct shadow_page *sp_find(const struct shadow *s, uint64_t gfn, unsigned level);
/* A new shadow page of guest table gfn (call shadow_prealloc first). */
struct shadow_page *sp_alloc(struct shadow *s, uint64_t gfn, unsigned level);
/* The fl1 shadow of the guest 2 MiB page that begins at gfn: found, or new
 * (empty; call shadow_prealloc first). */
struct shadow_page *sp_get_fl1(struct shadow *s, uint64_t gfn);
/* Does a 2 MiB page at gfn (aligned) hold a write-protected frame? */
int  shadow_extent_protected(const struct shadow *s, uint64_t gfn);
/* Entry idx of sp points to child, with guest entry g's permissions. */
void sp_link(struct shadow *s, struct shadow_page *sp, unsigned idx, struct shadow_page *child, pte_t g);
/* Clear entry idx of sp; a child left with no parent (not a root) is zapped. */
void sp_unlink(struct shadow *s, struct shadow_page *sp, unsigned idx);
/* tsp.unsync: take sp out of sync (its frame stops being write-protected
 * when no in-sync shadow of it is left) or back in. */
void sp_mark_unsync(struct shadow *s, struct shadow_page *sp, int unsync);
/* tsp.unsync: take L1 shadow sp out of sync at a trapped write; under
 * tsp.oos_limit into a slot as Xen's oos_hash_add, the page it displaces
 * resynced and back in sync (write-protected again). */
void shadow_oos_add(struct shadow *s, struct shadow_page *sp);
/* The out-of-sync shadow slot i holds, or NULL if it is empty. */
struct shadow_page *shadow_oos_slot(const struct shadow *s, uint32_t i);
/* Make room in the pool for n more pages (evicting old roots). */
void shadow_prealloc(struct shadow *s, unsigned n);
struct shadow_page *sp_of_smfn(const struct shadow *s, uint64_t smfn);
/* Drop a shadow page and everything only it reaches. */
void sp_zap(struct shadow *s, struct shadow_page *sp);
/* Zap every shadow page of guest frame gfn (it stops being a table). */
void shadow_unshadow(struct shadow *s, uint64_t gfn);
/* Is guest frame gfn write-protected (tsp: it has an in-sync shadow)? */
int  shadow_protected(const struct shadow *s, uint64_t gfn);
/* Is every shadow of guest frame gfn an L1 (tsp.unsync can take it out of sync)? */
int  shadow_unsyncable(const struct shadow *s, uint64_t gfn);

/* The shadow root for guest root gfn, built if need be (MRU now). NULL if
 * gfn is not guest memory. */
struct shadow_page *shadow_get_root(struct shadow *s, uint64_t gfn);
/* The invalidation an intercepted guest flush asked for, done by the
 * hypervisor on the guest's behalf and charged to it at the native price
 * (cost.tlb_invlpg for one address, else cost.tlb_flush): KVM's shadow MMU
 * answers INVLPG with kvm_mmu_invlpg, whose flush_tlb_gva is an INVVPID of
 * the address, and a CR3 reload or INVPCID with a flush of the vCPU's
 * translations (kvm_vcpu_flush_tlb_current). */
void shadow_do_guest_flush(struct shadow *s, struct cpu *c, enum tlb_flush_kind kind, uint64_t va, uint16_t pcid);
/* Load root for the guest's CR3 write (root gfn) on the CPU. */
void shadow_load_root(struct shadow *s, struct cpu *c, struct shadow_page *root, uint64_t gfn,
                      uint16_t pcid, int noflush);
/* Load root, the shadow of the guest's current CR3, of the hypervisor's own
 * accord (a switch to shadow paging, a root rebuilt after eviction): its
 * MOV CR3 is hypervisor time (cost.cr3_write), not the guest's context
 * switch, and invalidates nothing the guest would count: the caller
 * flushes what must go (KVM: kvm_mmu_reload, then the pending flush). */
void shadow_load_root_hv(struct shadow *s, struct cpu *c, struct shadow_page *root);

/* A page fault the hypervisor intercepted: 1 if it filled the shadow (a
 * hidden fault: the access is retried), 2 if it emulated the access (done,
 * machine frame in *mfn), 0 to give it to the guest. */
int  shadow_page_fault(struct shadow *s, struct cpu *c, uint64_t va, uint32_t pfec, uint64_t *mfn);
/* SSP's sync at an INVLPG for an entry the shadow lacks: if the guest's
 * tables map va by a 4 KiB leaf whose path the guest has used (Accessed
 * set at every level), fill its shadow entry under the current root, as a
 * prefetched entry (Accessed clear), and count a shadow_sync. A guest that
 * flushes after installing an entry (guest.flush_after_fault, as RISC-V
 * Linux does) then retries without a fault. Returns whether it filled. */
int  shadow_fill_va(struct shadow *s, uint64_t va);

/* tsp: a trapped guest store of val to entry idx of guest table gfn:
 * emulate it and bring the shadows along. */
void shadow_write(struct shadow *s, uint64_t gfn, unsigned idx, uint64_t val);
/* tsp.flood_detector=vcpu: a page fault was given to the guest or was not
 * a write to a page table: the count starts again (FNAME(page_fault)). */
void shadow_flood_fault_reset(struct shadow *s);

/* Resync with the guest's tables: the path of va under root, a whole
 * root's tree, every root. */
void shadow_sync_va(struct shadow *s, struct shadow_page *root, uint64_t va);
/* Before an existing shadow page is linked into a tree: resync it (and what
 * it points to) unless write protection kept it in sync (KVM does this in
 * kvm_mmu_get_page for unsync pages). */
void shadow_sync_page(struct shadow *s, struct shadow_page *sp);
void shadow_sync_root(struct shadow *s, struct shadow_page *root);
void shadow_sync_all(struct shadow *s);
/* tsp.unsync, as KVM (kvm_mmu_invalidate_addr, kvm_mmu_sync_roots): at
 * INVLPG, the entry for va of an out-of-sync L1 shadow on va's path under
 * the current root and the previous ones (KVM_MMU_ROOTS_ALL), if present,
 * is resynced and the shadow stays out of sync (its other entries may stay
 * stale, as the guest's TLB may); at a flush of root's address space (a
 * CR3 load, or reload, that flushes), every out-of-sync shadow root
 * reaches is resynced and back in sync; at a flush beyond one address
 * space, every out-of-sync shadow. */
void shadow_sync_unsync_va(struct shadow *s, uint64_t va);
void shadow_sync_unsync_root(struct shadow *s, struct shadow_page *root);
void shadow_sync_unsync(struct shadow *s);
/* tsp.oos_limit, as Xen: INVLPG clears the entry for va of an out-of-sync
 * L1 shadow on va's path under the current root, for the next fault to
 * refill (sh_invlpg), the shadow staying out of sync; a CR3 load or any
 * other flush resyncs every slotted page (shadow_resync_current_vcpu). */
void shadow_oos_invlpg(struct shadow *s, uint64_t va);
void shadow_oos_resync_all(struct shadow *s);

/* Flush the hardware if a shadow page went away since the last call. */
void shadow_flush_hw(struct shadow *s, struct cpu *c);

/* Invariants (shadow_check.c): 0, or -1 with a message. */
int  shadow_check(struct shadow *s, char *msg, unsigned len);
void shadow_instruments(struct shadow *s, struct mv_instruments *in);

/* Entries. */
pte_t shadow_entry_of(struct shadow *s, pte_t g, unsigned lvl);  /* 0: cannot map */
/* Entry for frame gfn in an fl1 shadow (0: cannot map): user, executable
 * and writable unless gfn is protected; the link above narrows it to the
 * guest entry's permissions. */
pte_t shadow_fl1_entry(struct shadow *s, uint64_t gfn);
/* The guest 2 MiB entry g as the link to its fl1 shadow carries it. */
pte_t shadow_fl1_link_perms(pte_t g);
void  sp_set(struct shadow *s, struct shadow_page *sp, unsigned idx, pte_t v);

/* Traditional shadow paging (tsp.c) on a shadow s: the tsp.* configuration,
 * and the trap handlers of a guest store to a protected table, a page
 * fault, MOV CR3 and a TLB flush. Mode tsp runs them on its shadow, mode
 * selective on its own while the guest is shadowed. */
void tsp_shadow_config(struct shadow *s, const struct hvconfig *cfg);
int  tsp_handle_store(struct hv *h, struct shadow *s, struct cpu *c, uint64_t gfn, unsigned idx, uint64_t val);
int  tsp_handle_store_retry(struct hv *h, struct shadow *s, struct cpu *c, uint64_t gfn);
int  tsp_handle_store_cont(struct hv *h, struct shadow *s, struct cpu *c, uint64_t gfn, unsigned idx, uint64_t val);
int  tsp_handle_page_fault(struct hv *h, struct shadow *s, struct cpu *c, uint64_t va, uint32_t pfec, uint64_t *mfn);
int  tsp_handle_write_cr3(struct hv *h, struct shadow *s, struct cpu *c, uint64_t root, uint16_t pcid, int noflush);
int  tsp_handle_tlb_flush(struct hv *h, struct shadow *s, struct cpu *c, enum tlb_flush_kind kind, uint64_t va,
                          uint16_t pcid);

#endif

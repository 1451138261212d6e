/* tlb.h: the CPU's translation lookaside buffers.
 *
 * Models an Intel-style hierarchy: first-level data TLBs per page size (4K,
 * 2M, 1G) backed by a second-level shared TLB (STLB) holding 4K and, if
 * configured, 2M translations. Each structure is set-associative with true
 * LRU replacement inside a set (hw/lru.h: exact, O(1)). Entries are tagged
 * by PCID; global entries (G bit) match every PCID. The flush operations are
 * the architectural ones: INVLPG, INVPCID single-context, all non-global,
 * and all including global.
 *
 * Layout is struct-of-arrays so a lookup scans only the tags of one set; the
 * page size is part of the tag, so 4K and 2M entries sharing the STLB never
 * alias. Probes of a structure holding no entry of the wanted size, and the
 * global-entry match when no global entry is cached, are skipped. Each
 * structure remembers the entry it touched last, which is the most recent
 * of its set: a lookup that hits it again (the next reference to the same
 * page) needs no set scan and no LRU update. The L1 4K probe is inline: it
 * is the hottest path in the simulator. */
#ifndef MV_HW_TLB_H
#define MV_HW_TLB_H
#include "hw/lru.h"
#include "hw/pte.h"
#include "hw/simd.h"
#include <stddef.h>
#include <stdint.h>

/* Entry flag bits: the effective permissions of the translation. */
#define TLB_W  0x01   /* writable at every level */
#define TLB_U  0x02   /* user-accessible at every level */
#define TLB_NX 0x04   /* not executable */
#define TLB_G  0x08   /* global: survives CR3 loads, matches every PCID */
#define TLB_D  0x10   /* the leaf's dirty bit was set when cached */
#define TLB_FRAC 0x20 /* a 4 KiB piece of a 2 MiB guest page (a 2D walk ended at a 4 KiB
                         EPT leaf): INVLPG of any address in the guest page drops it */

#define TLB_VA_MASK ((1ull << VA_BITS) - 1)

/* A tag is (vpn << 15) | (size << 13) | (pcid << 1) | 1, vpn = (va &
 * TLB_VA_MASK) >> pg_shift(size) (at most 36 bits). Replacement state
 * (lru.h): up to 16 ways, a recency order and a bit per valid way per set
 * (valid[]), which alone says which entries are valid, so a whole flush
 * clears valid[] and leaves the tags; wider, tag 0 for an invalid entry
 * and the lists, bitmaps and index of tlb_wide.h. Slot sets * ways holds
 * tag 0 always: mru points there when no entry was touched since a flush. */
struct tlb_array {
    uint64_t *tag;       /* sets * ways; set s at [s * ways] */
    uint64_t *frame;     /* 4 KiB frame number of the page's first frame */
    uint8_t  *flags;     /* TLB_* */
    uint64_t *order;     /* per set (ways <= 16), else NULL */
    uint32_t *valid;     /* per set (ways <= 16): bit w = way w holds an entry */
    /* ways > 16 (tlb_wide.h), else NULL: */
    uint32_t *lprev, *lnext;   /* recency lists: entries, then a sentinel per set */
    uint32_t *nvalid;          /* per set: valid ways */
    uint64_t *empty;           /* per set, ewords words: bit w = way w is empty */
    uint32_t *hidx, *hnext;    /* page index: bucket -> entry + 1, entry -> next + 1 */
    uint32_t ewords, hmask;
    uint32_t sets, ways, set_mask;
    uint32_t full;       /* valid[] of a full set (ways <= 16) */
    uint32_t mru;        /* the entry touched last, the most recent of its set */
    uint32_t nglobal;    /* valid global entries */
    uint32_t nsize[3];   /* valid entries per page size */
    /* The sets that may hold entries: every set holding one is in occ[]
     * once (inocc[s] says it is), and a set emptied by INVLPG may stay
     * listed until the next flush looks at it. Flushes visit these sets
     * only, so a flush costs what the guest used since the last one, not
     * the array's size (a 12M-entry STLB made every CR3 write scan 12M
     * slots). */
    uint32_t *occ;
    uint8_t  *inocc;
    uint32_t nocc;
};

/* Set s is about to hold an entry: list it. */
static inline void tlb_occ_mark(struct tlb_array *a, uint64_t s)
{
    if (!a->inocc[s]) {
        a->inocc[s] = 1;
        a->occ[a->nocc++] = (uint32_t)s;
    }
}

struct tlb_config {
    uint64_t l1_4k_entries, l1_4k_ways;
    uint64_t l1_2m_entries, l1_2m_ways;
    uint64_t l1_1g_entries, l1_1g_ways;
    uint64_t l2_entries, l2_ways;
    int      l2_2m;                   /* STLB also caches 2M translations */
    uint64_t pwc_l4, pwc_l3, pwc_l2;  /* paging-structure cache sizes (see pwc.h) */
};

struct tlb {
    struct tlb_array l1[3];   /* indexed by enum page_size */
    struct tlb_array l2;      /* STLB */
    int l2_2m;
    int frac;                 /* a TLB_FRAC entry may be cached: INVLPG searches the whole 2 MiB */
    int fast4k;               /* neither the L1 4K structure nor the STLB has more than 16 ways
                                 (an absent one has none): a missed 4K entry goes in with no
                                 search (tlb_body.h) */
};

/* A translation as cached: the 4K frame of the looked-up address's page. */
struct tlb_xlate {
    uint64_t frame;   /* frame of the 4 KiB page containing va */
    uint8_t  flags;   /* TLB_* */
    uint8_t  size;    /* enum page_size of the mapping */
};

/* Returns 0 on success, -1 if the geometry is invalid (entries not a multiple
 * of ways, or the set count not a power of two); no message is printed. An
 * entry count of 0 makes a structure absent. */
int  tlb_init(struct tlb *t, const struct tlb_config *c);
void tlb_destroy(struct tlb *t);

/* Is slot i (0 <= i < sets * ways) a valid entry? The tag alone does not
 * say so for sets of up to 16 ways (a whole flush leaves the tags). For
 * checkers that scan every slot. */
static inline int tlb_slot_valid(const struct tlb_array *a, size_t i)
{
    return a->valid ? (a->valid[i / a->ways] >> (i % a->ways)) & 1 : a->tag[i] != 0;
}

static inline uint64_t tlb_vpn(uint64_t va, unsigned size)
{
    return (va & TLB_VA_MASK) >> pg_shift((enum page_size)size);
}

static inline uint64_t tlb_tag(uint64_t vpn, unsigned size, uint16_t pcid)
{
    return (vpn << 15) | ((uint64_t)size << 13) | ((uint64_t)(pcid & 0xfff) << 1) | 1;
}

static inline uint64_t tlb_tag_vpn(uint64_t tag) { return tag >> 15; }
static inline uint16_t tlb_tag_pcid(uint64_t tag) { return (uint16_t)((tag >> 1) & 0xfff); }
static inline unsigned tlb_tag_size(uint64_t tag) { return (tag >> 13) & 3; }

void tlb_array_touch_wide(struct tlb_array *a, uint64_t s, size_t i);

/* Make entry i (way w of set s) the most recent of its set. */
static inline void tlb_array_touch(struct tlb_array *a, uint64_t s, uint32_t w, size_t i)
{
    a->mru = (uint32_t)i;
    if (__builtin_expect(a->order != NULL, 1))
        a->order[s] = lru_order_touch(a->order[s], w);
    else
        tlb_array_touch_wide(a, s, i);
}

long tlb_array_find_set(struct tlb_array *a, uint64_t vpn, uint64_t tag);
/* The occupancy list's invariant (struct tlb_array): every set holding a
 * valid entry listed, each listed set once and marked so. 0, or -1 with
 * *why set. */
int tlb_occ_check(const struct tlb_array *a, const char **why);

/* Index of the entry of set `vpn & set_mask` matching tag (or, if global
 * entries exist, a global entry for the same page), making it the most
 * recent of its set; -1 on a miss. The entry touched last is already the
 * most recent of its set: a hit on it changes nothing. */
static inline long tlb_array_find(struct tlb_array *a, uint64_t vpn, uint64_t tag)
{
    if (a->tag[a->mru] == tag)
        return a->mru;
    if (__builtin_expect(a->ways == 4 && !a->nglobal, 1)) {   /* the common L1 geometry */
        uint64_t s = vpn & a->set_mask;
        const uint64_t *t = &a->tag[s * 4];
        uint32_t v = a->valid[s];
        uint32_t w = (t[0] == tag && (v & 1))   ? 0
                     : (t[1] == tag && (v & 2)) ? 1
                     : (t[2] == tag && (v & 4)) ? 2
                     : (t[3] == tag && (v & 8)) ? 3
                                                : 4;
        if (w == 4)
            return -1;
        tlb_array_touch(a, s, w, s * 4 + w);
        return (long)(s * 4 + w);
    }
    return tlb_array_find_set(a, vpn, tag);
}

/* Look va up: the L1 4K structure, then L1 2M and 1G, then the STLB (an
 * STLB hit is reinstalled in L1). Returns 1 for an L1 hit, 2 for an STLB
 * hit, 0 for a miss. On a hit, fills *x. (The CPU's miss path compiles the
 * same body, tlb_body.h, into itself.) */
int tlb_lookup(struct tlb *t, uint64_t va, uint16_t pcid, struct tlb_xlate *x);

/* Install a translation after a walk: into L1 of its size and into the STLB
 * (4K, and 2M when l2_2m). x->frame is the frame of va's 4 KiB page; the entry
 * stores the page's base frame. Replaces an entry a lookup would hit, else an
 * invalid way, else the least recently used way. */
void tlb_insert(struct tlb *t, uint64_t va, uint16_t pcid, const struct tlb_xlate *x);
/* The same, when the caller knows no entry for (va, pcid) is cached (the
 * lookup just missed, or the page was flushed): skips the search for one to
 * replace. */
void tlb_insert_missed(struct tlb *t, uint64_t va, uint16_t pcid, const struct tlb_xlate *x);

/* INVLPG: drop every entry (any size, any level) translating va for pcid, and
 * every global entry translating va; and, as the SDM requires of a page
 * the TLB holds in pieces (4.10.2.3), every TLB_FRAC piece of the 2 MiB
 * guest page holding va (4.10.4.1). Returns entries dropped. */
unsigned tlb_flush_page(struct tlb *t, uint64_t va, uint16_t pcid);
/* INVPCID single-context: drop the non-global entries of pcid. */
unsigned tlb_flush_pcid(struct tlb *t, uint16_t pcid);
/* All non-global entries, every PCID (MOV CR3 with PCIDs off). */
unsigned tlb_flush_nonglobal(struct tlb *t);
/* Everything, global entries included. */
unsigned tlb_flush_all(struct tlb *t);

/* Number of valid entries (tests, statistics). */
unsigned tlb_count(const struct tlb *t);

#endif

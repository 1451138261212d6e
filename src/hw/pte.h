/* pte.h: the x86-64 4-level paging entry format (Intel SDM vol. 3, ch. 4.5).
 *
 * Levels are numbered as Xen numbers them: L4 = PML4 (Linux pgd), L3 = PDPT
 * (pud), L2 = page directory (pmd), L1 = page table (pte). An entry is 64 bits;
 * bits 12..51 hold a 4 KiB frame number. PS in an L3 entry maps a 1 GiB page,
 * in an L2 entry a 2 MiB page. The same format serves CPU page tables, shadow
 * tables, EPT-as-modelled and VT-d second-level tables (see each user). */
#ifndef MV_HW_PTE_H
#define MV_HW_PTE_H
#include <stdint.h>

typedef uint64_t pte_t;

#define PAGE_SHIFT 12
#define PAGE_SIZE  (1ull << PAGE_SHIFT)
#define PTRS_PER_TABLE 512
#define PT_LEVELS 4

#define _PAGE_PRESENT  (1ull << 0)
#define _PAGE_RW       (1ull << 1)
#define _PAGE_USER     (1ull << 2)
#define _PAGE_PWT      (1ull << 3)
#define _PAGE_PCD      (1ull << 4)
#define _PAGE_ACCESSED (1ull << 5)
#define _PAGE_DIRTY    (1ull << 6)
#define _PAGE_PSE      (1ull << 7)   /* page size, in L2/L3 entries; reserved in an L4 (pte_l4_rsvd) */
#define _PAGE_GLOBAL   (1ull << 8)
#define _PAGE_AVAIL0   (1ull << 9)   /* software bits 9..11 */
#define _PAGE_AVAIL1   (1ull << 10)
#define _PAGE_AVAIL2   (1ull << 11)
#define _PAGE_NX       (1ull << 63)

#define PTE_FRAME_MASK 0x000ffffffffff000ull
#define PTE_FLAGS_MASK (~PTE_FRAME_MASK)

/* Shift of the virtual-address bits that index a table of level `lvl`. */
static inline unsigned level_shift(unsigned lvl) { return PAGE_SHIFT + 9 * (lvl - 1); }
static inline unsigned pt_index(uint64_t va, unsigned lvl) { return (va >> level_shift(lvl)) & 511; }

static inline uint64_t pte_frame(pte_t e) { return (e & PTE_FRAME_MASK) >> PAGE_SHIFT; }
static inline pte_t pte_make(uint64_t frame, uint64_t flags) { return (frame << PAGE_SHIFT) | flags; }
static inline int pte_present(pte_t e) { return (e & _PAGE_PRESENT) != 0; }
static inline int pte_leaf(pte_t e, unsigned lvl) { return lvl == 1 || (lvl <= 3 && (e & _PAGE_PSE)); }
/* A large-page leaf (level 2 or 3) whose frame bits below the page size
 * are set: bits 20:13 of a 2 MiB PDE, 29:13 of a 1 GiB PDPTE (bit 12 is
 * PAT) are reserved, and x86 faults on them with PFEC_RSVD (SDM 4.5,
 * "reserved bits"). Every walk of guest tables (the hardware's, the
 * oracle's, the shadow's) refuses such an entry the same way. */
static inline int pte_large_rsvd(pte_t e, unsigned lvl)
{
    return lvl > 1 && (pte_frame(e) & (((1ull << (9 * (lvl - 1))) - 1) & ~1ull)) != 0;
}
/* PS (bit 7) in a PML4 entry: reserved with 4-level paging (SDM 4.5, the
 * PML4E format: "Reserved (must be 0)"; KVM's rsvd_bits_mask for level 4
 * holds bit 7 whether or not the entry is taken for a leaf). A walk that
 * reads such a present entry faults with PFEC_RSVD (and PFEC_P: reserved
 * bits are checked only in present entries, SDM 4.7) and never follows it.
 * The shadow's software walk and its check use this; the hardware walker
 * (walk_tmpl.h), the oracle and the prefetch peek say it their own way. */
static inline int pte_l4_rsvd(pte_t e, unsigned lvl) { return lvl == 4 && (e & _PAGE_PSE); }
/* Is none of the eight entries t[0..7] present? (scans that pass over
 * empty stretches of a table eight entries at a time) */
static inline int pte_none_present8(const pte_t *t)
{
    return !pte_present(t[0] | t[1] | t[2] | t[3] | t[4] | t[5] | t[6] | t[7]);
}

/* Canonical 48-bit user half and kernel half. */
#define VA_BITS 48
#define USER_VA_END (1ull << 47)
static inline int va_canonical(uint64_t va)
{
    uint64_t top = va >> 47;
    return top == 0 || top == 0x1ffff;
}

/* Page sizes a translation can have. */
enum page_size { PG_4K = 0, PG_2M = 1, PG_1G = 2 };
static inline unsigned pg_shift(enum page_size s) { return PAGE_SHIFT + 9 * (unsigned)s; }

/* Access kinds checked against entry permissions. */
enum access { ACC_READ = 0, ACC_WRITE = 1, ACC_EXEC = 2 };

#endif

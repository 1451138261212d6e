/* sites.h: the guest kernel's code sites that can exit to a hypervisor.
 *
 * Before an operation that may trap (a page-table store, a CR3 write, a
 * TLB flush instruction) the kernel records where in its code it is, on its
 * vCPU (cpu->site), as the instruction pointer would tell a real
 * hypervisor. Exit clustering (hv/cluster.c) keys its translations and its
 * statistics by site; a hypervisor gets the names only to report them, as a
 * VMM with the guest's symbols would. */
#ifndef MV_GUEST_SITES_H
#define MV_GUEST_SITES_H
#include "hw/cpu.h"

enum guest_site {
    SITE_NONE = 0,
    SITE_FORK_WRPROTECT,  /* copy_pte_range: ptep_set_wrprotect of the parent's entry */
    SITE_FORK_COPY_PTE,   /* copy_pte_range: set_pte_at in the child */
    SITE_ZAP_PTE,         /* zap_pte_range: ptep_get_and_clear */
    SITE_FAULT_SET_PTE,   /* do_anonymous_page / do_fault: set_pte_at */
    SITE_WP_PTE,          /* do_wp_page: reuse or break COW */
    SITE_MPROTECT_PTE,    /* change_pte_range */
    SITE_PT_POPULATE,     /* pmd/pud/p4d_populate: link a new table */
    SITE_FREE_PGTABLES,   /* free_pgtables: unlink a table */
    SITE_PGD_CTOR,        /* pgd_alloc: copy the kernel half */
    SITE_THP,             /* huge pmd operations */
    SITE_SWITCH_MM,       /* switch_mm: MOV CR3 */
    SITE_FLUSH_LOCAL,     /* flush_tlb_local: CR3 reload */
    SITE_INVLPG,          /* flush_tlb_mm_range: the INVLPG loop */
    SITE_MREMAP_PTE,      /* move_ptes: clear the old entry, set the new one */
    SITE_MREMAP_PMD,      /* move_normal_pmd/pud: unlink a whole table, link it at the target */
    SITE_CLEAR_PAGE,      /* clear_page / copy_page into a write-protected frame */
    SITE_FAULT_AROUND,    /* filemap_map_pages: set_pte_range of each page mapped around a read fault */
    SITE__N
};

extern const char *const guest_site_names[SITE__N];

static inline void guest_site(struct cpu *c, enum guest_site s) { c->site = (uint16_t)s; }

#endif

/* sites.c: the names of the guest kernel's exit-capable code sites (sites.h). */
#include "guest/sites.h"

const char *const guest_site_names[SITE__N] = {
    [SITE_NONE] = "other",
    [SITE_FORK_WRPROTECT] = "fork_wrprotect",
    [SITE_FORK_COPY_PTE] = "fork_copy_pte",
    [SITE_ZAP_PTE] = "zap_pte",
    [SITE_FAULT_SET_PTE] = "fault_set_pte",
    [SITE_WP_PTE] = "wp_pte",
    [SITE_MPROTECT_PTE] = "mprotect_pte",
    [SITE_PT_POPULATE] = "pt_populate",
    [SITE_FREE_PGTABLES] = "free_pgtables",
    [SITE_PGD_CTOR] = "pgd_ctor",
    [SITE_THP] = "thp",
    [SITE_SWITCH_MM] = "switch_mm",
    [SITE_FLUSH_LOCAL] = "flush_local",
    [SITE_INVLPG] = "invlpg",
    [SITE_MREMAP_PTE] = "mremap_pte",
    [SITE_MREMAP_PMD] = "mremap_pmd",
    [SITE_CLEAR_PAGE] = "clear_page",
    [SITE_FAULT_AROUND] = "fault_around",
};

/* pvops_xen.h: the guest's Xen PV backend (pvops_xen.c). */
#ifndef MV_GUEST_PVOPS_XEN_H
#define MV_GUEST_PVOPS_XEN_H
#include "guest/kernel.h"

struct xen_start_info;
extern const struct pv_mmu_ops pv_xen_ops;
/* Backend state for a guest booted with this start_info. */
void *pv_xen_create(const struct xen_start_info *si, int user_pgd);
void  pv_xen_destroy(void *ctx);

#endif

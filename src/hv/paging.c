/* paging.c: the registry of hypervisor paging modes. Each mode lives in its
 * own files (pv/, shadow/, hap/) and is listed here, once. */
#include "hv/paging.h"
#include <string.h>

const struct paging_mode *const paging_modes[] = {
    &pm_pv, &pm_pv_pibooster, &pm_tsp, &pm_ssp, &pm_hap, &pm_selective,
};
const unsigned npaging_modes = sizeof paging_modes / sizeof paging_modes[0];

const struct paging_mode *paging_mode_find(const char *name)
{
    for (unsigned i = 0; i < npaging_modes; i++)
        if (!strcmp(paging_modes[i]->name, name))
            return paging_modes[i];
    return NULL;
}

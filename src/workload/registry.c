/* registry.c: the workloads: the built-in generators and the replay of a
 * recorded trace (trace.c). */
#include "workload/workload.h"
#include <string.h>

const struct workload_def *const workloads[] = {
    &wl_forkstorm, &wl_lmbench, &wl_memwalk, &wl_netio, &wl_memwalk_gcc, &wl_memwalk_mcf, &wl_memwalk_phases,
    &wl_trace,
};
const unsigned nworkloads = sizeof workloads / sizeof workloads[0];

const struct workload_def *workload_find(const char *name)
{
    for (unsigned i = 0; i < nworkloads; i++)
        if (!strcmp(workloads[i]->name, name))
            return workloads[i];
    return NULL;
}

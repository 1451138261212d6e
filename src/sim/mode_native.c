/* mode_native.c: no hypervisor: the guest kernel runs on bare metal with the
 * native paravirt backend; guest frames are machine frames. The baseline. */
#include "lib/err.h"
#include "sim/machine.h"

static int native_setup(struct machine *m)
{
    m->pv = &pv_native_ops;
    m->cpu.vmm = NULL;
    return 0;
}

/* The page-table cache is PiBooster's: with it this would be another design. */
static int native_validate(const struct sim_config *cfg)
{
    if (cfg->guest.pt_cache)
        return mv_error("--param guest.pt_cache=true: mode native has no page-table cache (only pv-pibooster sets it)");
    return 0;
}

const struct mode_def mode_native = {
    .validate = native_validate,
    .name = "native",
    .doc = "no hypervisor: the baseline",
    .setup = native_setup,
};

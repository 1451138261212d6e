/* mode_native.c: no hypervisor: the guest kernel runs on bare metal with the
 * native paravirt backend; guest frames are machine frames. The baseline. */
#include "sim/machine.h"

static int native_setup(struct machine *m)
{
    m->pv = &pv_native_ops;
    m->cpu.vmm = NULL;
    return 0;
}

const struct mode_def mode_native = {
    .name = "native",
    .doc = "no hypervisor: the baseline",
    .setup = native_setup,
};

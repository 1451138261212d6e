/* modes.c: the registry of memory-virtualization modes. Each mode lives in
 * its own file (mode_*.c) and is listed here. */
#include "sim/machine.h"
#include <string.h>

extern const struct mode_def mode_native, mode_pv, mode_pv_pibooster;

const struct mode_def *const modes[] = { &mode_native, &mode_pv, &mode_pv_pibooster };
const unsigned nmodes = sizeof modes / sizeof modes[0];

const struct mode_def *mode_find(const char *name)
{
    for (unsigned i = 0; i < nmodes; i++)
        if (!strcmp(modes[i]->name, name))
            return modes[i];
    return NULL;
}

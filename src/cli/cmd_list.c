/* cmd_list.c: `memvirt list`: modes, workloads, cost profiles and every
 * parameter with its default. */
#include "cli/cli.h"
#include "lib/err.h"
#include "sim/config.h"
#include "sim/machine.h"
#include <stdio.h>

int cmd_list(int argc, char **argv)
{
    if (argc > 1) {
        mv_error("list: unexpected argument '%s'", argv[1]);
        return EXIT_USAGE;
    }
    printf("modes:\n");
    for (unsigned i = 0; i < nmodes; i++)
        printf("  %-14s %s\n", modes[i]->name, modes[i]->doc);
    printf("\nworkloads:\n");
    for (unsigned i = 0; i < nworkloads; i++)
        printf("  %-14s %s\n", workloads[i]->name, workloads[i]->doc);
    for (unsigned i = 0; i < nworkloads; i++) {
        printf("\n%s parameters (%s.*):\n", workloads[i]->name, workloads[i]->params->prefix);
        param_print_group(stdout, workloads[i]->params);
    }
    printf("\ncost profiles (--profile):\n");
    for (unsigned i = 0; i < cost_nprofiles; i++)
        printf("  %-14s %s%s%s\n", cost_profiles[i].name, cost_profiles[i].doc,
               *cost_profiles[i].overrides ? "; sets " : "", cost_profiles[i].overrides);
    printf("  %-14s %s\n", "FILE", "a profile file, e.g. one `memvirt calibrate` wrote (docs/cost-model.md)");
    config_list_params(stdout);
    return EXIT_OK;
}

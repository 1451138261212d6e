/* cmd_list.c: `memvirt list`: modes, workloads, cost profiles and every
 * parameter with its default and valid values. */
#include "cli/cli.h"
#include "lib/err.h"
#include "sim/config.h"
#include "sim/machine.h"
#include <stdio.h>
#include <string.h>

static void list_usage(FILE *f)
{
    fputs("usage: memvirt list\n"
          "Lists the modes, the workloads, the cost profiles and every parameter (--param prefix.name=V)\n"
          "with its default, its valid values (an inclusive [min, max] range, true|false, or the\n"
          "choices) and what it means. It takes no options but --help.\n\n", f);
    fputs(EXIT_STATUS_HELP, f);
    fputs("\nexample:\n  memvirt list | grep '^  memwalk\\.'\n", f);
}

int cmd_list(int argc, char **argv)
{
    if (argc > 1) {
        if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
            list_usage(stdout);
            return EXIT_OK;
        }
        if (!strncmp(argv[1], "--help=", 7)) {
            mv_error("list: option '--help' takes no value");
            return EXIT_USAGE;
        }
        mv_error("list: unexpected argument '%s' (see 'memvirt list --help')", argv[1]);
        return EXIT_USAGE;
    }
    printf("modes:\n");
    for (unsigned i = 0; i < mode_count(); i++)
        printf("  %-14s %s\n", mode_at(i)->name, mode_at(i)->doc);
    printf("\nworkloads:\n");
    for (unsigned i = 0; i < nworkloads; i++)
        printf("  %-14s %s\n", workloads[i]->name, workloads[i]->doc);
    printf("\nparameters: name, default, valid values, meaning\n");
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

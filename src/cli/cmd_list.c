/* cmd_list.c: `memvirt list`: modes, their controls, workloads, cost
 * profiles and every parameter with its default and valid values. */
#include "cli/cli.h"
#include "lib/err.h"
#include "sim/config.h"
#include "sim/machine.h"
#include <stdio.h>
#include <string.h>

static void list_usage(FILE *f)
{
    fputs("usage: memvirt list\n"
          "Lists the modes and the controls each offers (--at TIME:NAME=VALUE), the workloads, the\n"
          "cost profiles and every parameter (--param prefix.name=V) with its default, its valid\n"
          "values (an inclusive [min, max] range, true|false, or the choices) and what it means.\n"
          "It takes no options but --help.\n\n", f);
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
        int i = 1;   /* the argument at fault: not a --help before it */
        while (i + 1 < argc && (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")))
            i++;
        mv_error("list: unexpected argument '%s' (see 'memvirt list --help')", argv[i]);
        return EXIT_USAGE;
    }
    printf("modes:\n");
    for (unsigned i = 0; i < mode_count(); i++)
        printf("  %-14s %s\n", mode_at(i)->name, mode_at(i)->doc);
    printf("\ncontrols (--at TIME:NAME=VALUE), by the modes that offer them:\n");
    for (unsigned i = 0; i < mode_count(); i++) {
        const struct mv_control_def *d;
        for (unsigned k = 0; (d = mode_control_at(mode_at(i), k)); k++) {
            char form[64];
            if (d->type == CTL_BOOL)
                snprintf(form, sizeof form, "%s=on|off", d->name);
            else if (d->max)
                snprintf(form, sizeof form, "%s=0..%llu", d->name, (unsigned long long)d->max);
            else
                snprintf(form, sizeof form, "%s=N", d->name);
            printf("  %-14s %-28s %s\n", k ? "" : mode_at(i)->name, form, d->doc);
        }
    }
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

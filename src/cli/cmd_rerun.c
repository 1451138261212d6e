/* cmd_rerun.c: `memvirt rerun FILE.json`: repeat a run from its own JSON
 * result. The file carries the whole effective configuration (every
 * parameter, the --at controls, modes, workload, seed, profile, --check:
 * sim/config_file.c), so the same memvirt revision prints the same table and
 * writes byte-identical JSON and CSV. A file that is not a memvirt result, or
 * was altered into an invalid or contradictory configuration, is bad input
 * (exit status 2) with one message naming the file and the key. */
#include "cli/cli.h"
#include "lib/err.h"
#include "sim/config_file.h"
#include "sim/engine.h"
#include <string.h>

static void rerun_usage(FILE *f)
{
    fputs("usage: memvirt rerun FILE.json [--json OUT] [--csv OUT] [--quiet]\n"
          "Repeats the run or comparison that wrote FILE.json (a --json result), from that file alone:\n"
          "the same modes, workload, seed, profile, --check, --at controls and every parameter's value.\n"
          "The same memvirt revision gives the same table and byte-identical outputs; another revision\n"
          "gets a warning. FILE '-' reads standard input.\n\n"
          "  --json OUT, --csv OUT    write the results as run and compare do (OUT '-': standard output,\n"
          "                           and the table goes to standard error); default: none\n"
          "  --quiet                  no progress display\n"
          "  --help                   this text\n\n", f);
    fputs(EXIT_STATUS_HELP, f);
    fputs("\nexample:\n  memvirt run --mode pv --workload lmbench --param lmbench.iterations=20 --json a.json\n"
          "  memvirt rerun a.json --json b.json && cmp a.json b.json\n", f);
}

enum { R_JSON = 256, R_CSV, R_QUIET, R_HELP };

int cmd_rerun(int argc, char **argv)
{
    static const struct option opts[] = {
        { "json", required_argument, 0, R_JSON }, { "csv", required_argument, 0, R_CSV },
        { "quiet", no_argument, 0, R_QUIET },     { "help", no_argument, 0, R_HELP },
        { 0, 0, 0, 0 },
    };
    const char *json = NULL, *csv = NULL, *in = NULL;
    int quiet = 0, c;
    opterr = 0;
    optind = 1;
    /* '-' leading the short options: non-options come back as 1, in order */
    while ((c = getopt_long(argc, argv, "-", opts, NULL)) != -1) {
        switch (c) {
        case 1:
            if (in)
                return mv_error("rerun: unexpected argument '%s' (one result file)", optarg), EXIT_USAGE;
            in = optarg;
            break;
        case R_JSON:
            if (json && strcmp(json, optarg))
                return mv_error("--json given twice with different values ('%s' and '%s')", json, optarg), EXIT_USAGE;
            json = optarg;
            break;
        case R_CSV:
            if (csv && strcmp(csv, optarg))
                return mv_error("--csv given twice with different values ('%s' and '%s')", csv, optarg), EXIT_USAGE;
            csv = optarg;
            break;
        case R_QUIET: quiet = 1; break;
        case R_HELP: rerun_usage(stdout); return EXIT_OK;
        default: cli_bad_option("rerun", opts, argv); return EXIT_USAGE;
        }
    }
    /* after '--' (getopt stops there): the file, whatever its name ('-r.json') */
    for (; optind < argc; optind++) {
        if (in)
            return mv_error("rerun: unexpected argument '%s' (one result file)", argv[optind]), EXIT_USAGE;
        in = argv[optind];
    }
    if (!in)
        return mv_error("rerun: which result? (usage: memvirt rerun FILE.json [--json OUT] [--csv OUT])"), EXIT_USAGE;
    struct sim_config cfg;
    const struct mode_def *sel[CONFIG_MAX_MODES];
    unsigned nsel = 0;
    int rc = EXIT_USAGE;
    if (!config_load_json_file(in, &cfg, sel, &nsel)) {
        cfg.quiet = quiet;
        /* the result being repeated must survive its repetition */
        const char *inputs[] = { "rerun", in, NULL };
        rc = cli_run_modes(&cfg, sel, nsel, json, csv, inputs, engine_default_jobs());
    }
    config_free(&cfg);
    return rc;
}

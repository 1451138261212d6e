/* cmd_run.c: `memvirt run` (one mode) and `memvirt compare` (several modes
 * side by side on the same workload, seed and parameters).
 *
 * Bad input (unknown option, mode, workload, parameter or a malformed value)
 * gets one message naming it and exit status 2; a run that fails (a check, a
 * workload error) exits 1; a guest that runs out of memory exits 3
 * (guest/page_alloc.c); output files are only written when everything
 * succeeded. */
#include "cli/cli.h"
#include "lib/err.h"
#include "sim/config.h"
#include "sim/engine.h"
#include "sim/machine.h"
#include "sim/report.h"
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static void run_usage(FILE *f)
{
    fputs("usage: memvirt run     [--mode M] [--workload W] [options]\n"
          "       memvirt compare [--modes a,b,...] [--workload W] [options]\n"
          "       memvirt list\n"
          "options:\n"
          "  --trace FILE                replay a recorded trace (the workload trace, trace.file=FILE)\n"
          "  --param prefix.name=value   set a parameter (repeatable; see 'memvirt list')\n"
          "  --at TIME:NAME=VALUE        at simulated TIME (ms, s or m) apply a control:\n"
          "                              ptcache=on|off, ptcache_ratio=N, ptcache_total=N\n"
          "  --profile P                 cost profile (default: default)\n"
          "  --seed N                    random seed (default 1)\n"
          "  --check                     verify every translation and the invariants\n"
          "  --json FILE, --csv FILE     write results (schema: docs/output.md)\n"
          "  --quiet                     no progress display\n", f);
}

enum { O_AT = 100, O_MODE = 1, O_MODES, O_WORKLOAD, O_PARAM, O_PROFILE, O_SEED, O_CHECK, O_JSON, O_CSV, O_QUIET, O_HELP,
       O_TRACE };

int cmd_run(int argc, char **argv)
{
    const char *cmd = argv[0];
    int compare = !strcmp(cmd, "compare");

    static const struct option opts[] = {
        { "mode", required_argument, 0, O_MODE },     { "modes", required_argument, 0, O_MODES },
        { "workload", required_argument, 0, O_WORKLOAD }, { "param", required_argument, 0, O_PARAM },
        { "profile", required_argument, 0, O_PROFILE }, { "seed", required_argument, 0, O_SEED },
        { "check", no_argument, 0, O_CHECK },          { "json", required_argument, 0, O_JSON },
        { "csv", required_argument, 0, O_CSV },        { "quiet", no_argument, 0, O_QUIET },
        { "help", no_argument, 0, O_HELP },            { "at", required_argument, 0, O_AT },
        { "trace", required_argument, 0, O_TRACE },
        { 0, 0, 0, 0 },
    };
    const char *mode_arg = NULL, *workload = "forkstorm", *profile = "default", *seed_arg = NULL;
    const char *json = NULL, *csv = NULL, *trace = NULL;
    char *trace_kv = NULL;
    int workload_set = 0;
    const char **params = mv_calloc((size_t)argc, sizeof *params);
    const char **ats = mv_calloc((size_t)argc, sizeof *ats);
    int nats = 0;
    struct sim_config cfg = { 0 };
    struct run_result *res = NULL;
    const struct mode_def *sel[32];
    unsigned nsel = 0;
    int rc = 0;
    int nparams = 0, check = 0, quiet = 0, c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case O_MODE:
            if (compare) { mv_error("compare: use --modes, not --mode"); { rc = EXIT_USAGE; goto out; } }
            mode_arg = optarg; break;
        case O_MODES:
            if (!compare) { mv_error("run: use --mode, not --modes"); { rc = EXIT_USAGE; goto out; } }
            mode_arg = optarg; break;
        case O_WORKLOAD: workload = optarg; workload_set = 1; break;
        case O_TRACE: trace = optarg; break;
        case O_PARAM: params[nparams++] = optarg; break;
        case O_AT: ats[nats++] = optarg; break;
        case O_PROFILE: profile = optarg; break;
        case O_SEED: seed_arg = optarg; break;
        case O_CHECK: check = 1; break;
        case O_JSON: json = optarg; break;
        case O_CSV: csv = optarg; break;
        case O_QUIET: quiet = 1; break;
        case O_HELP: run_usage(stdout); goto out;
        default:
            if (optopt)
                mv_error("%s: option '--%s' needs a value", cmd, argv[optind - 1] + 2);
            else
                mv_error("%s: unknown option '%s'", cmd, argv[optind - 1]);
            { rc = EXIT_USAGE; goto out; }
        }
    }
    if (optind < argc) {
        mv_error("%s: unexpected argument '%s'", cmd, argv[optind]);
        { rc = EXIT_USAGE; goto out; }
    }

    /* --trace FILE: the trace workload with its file parameter */
    if (trace) {
        if (workload_set && strcmp(workload, "trace")) {
            mv_error("%s: --trace replays a trace; it does not go with --workload %s", cmd, workload);
            { rc = EXIT_USAGE; goto out; }
        }
        workload = "trace";
        trace_kv = mv_malloc(strlen(trace) + 16);
        sprintf(trace_kv, "trace.file=%s", trace);
        params[nparams++] = trace_kv;
    }
    if (config_init(&cfg, workload))
        { rc = EXIT_USAGE; goto out; }
    cfg.check = check;
    cfg.quiet = quiet;
    if (seed_arg && param_parse_u64(seed_arg, &cfg.seed)) {
        mv_error("--seed: malformed value '%s' (expected a non-negative integer)", seed_arg);
        { rc = EXIT_USAGE; goto out; }
    }
    if (config_profile(&cfg, profile))
        { rc = EXIT_USAGE; goto out; }
    for (int i = 0; i < nparams; i++)
        if (config_param(&cfg, params[i]))
            { rc = EXIT_USAGE; goto out; }
    for (int i = 0; i < nats; i++)
        if (config_at(&cfg, ats[i]))
            { rc = EXIT_USAGE; goto out; }
    if (config_validate(&cfg))
        { rc = EXIT_USAGE; goto out; }

    /* The modes: one for run (default native), a list for compare (default all). */
    if (!mode_arg) {
        if (compare)
            for (unsigned i = 0; i < nmodes; i++)
                sel[nsel++] = modes[i];
        else
            sel[nsel++] = mode_find("native");
    } else {
        char *list_copy = mv_strdup(mode_arg), *save = NULL;
        for (char *tok = strtok_r(list_copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
            const struct mode_def *md = mode_find(tok);
            if (!md || nsel == 32) {
                if (!md)
                    mv_error("--mode%s: unknown mode '%s' (see 'memvirt list')", compare ? "s" : "", tok);
                else
                    mv_error("--modes: too many modes");
                free(list_copy);
                rc = EXIT_USAGE;
                goto out;
            }
            sel[nsel++] = md;
        }
        free(list_copy);
        if (!nsel || (!compare && nsel > 1)) {
            mv_error("--mode%s: expected %s", compare ? "s" : "", compare ? "a comma-separated list" : "one mode");
            { rc = EXIT_USAGE; goto out; }
        }
    }

    res = mv_calloc(nsel, sizeof *res);
    for (unsigned i = 0; i < nsel && !rc; i++)
        if (engine_run(&cfg, sel[i], &res[i]))
            rc = 1;
    if (!rc) {
        report_table(stdout, &cfg, res, nsel);
        if (json && report_json(json, &cfg, res, nsel))
            rc = 1;
        if (!rc && csv && report_csv(csv, &cfg, res, nsel))
            rc = 1;
    }
    for (unsigned i = 0; res && i < nsel; i++)
        run_result_free(&res[i]);
out:
    free(res);
    free(params);
    free(trace_kv);
    free(ats);
    config_free(&cfg);
    return rc;
}

/* cmd_run.c: `memvirt run` (one mode) and `memvirt compare` (several modes
 * side by side on the same workload, seed and parameters), and the part they
 * share with `memvirt rerun`: run the modes and write the outputs.
 *
 * Bad input (unknown option, mode, workload, parameter, a malformed value, a
 * contradiction such as an option given twice with different values, an
 * output path that cannot be written) gets one message naming it and exit
 * status 2 before anything runs; a run that fails (a check, a workload error,
 * an output that could not be written after all, the domain crashed by the
 * hypervisor) exits 1; a guest that runs out of memory exits 3
 * (guest/page_alloc.c). For those two, compare still prints the table of the
 * modes that completed, the others' columns saying "guest OOM" or "domain
 * crashed" (exit 1 if any crashed). Output files are written only when
 * everything succeeded, all of them or none. */
#include "cli/cli.h"
#include "lib/err.h"
#include "lib/outfile.h"
#include "lib/text.h"
#include "sim/config.h"
#include "sim/config_file.h"
#include "sim/engine.h"
#include "sim/machine.h"
#include "sim/report.h"
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static void run_usage(FILE *f, int compare)
{
    if (compare) {
        fputs("usage: memvirt compare [--modes a,b,...] [--workload W] [options]\n"
              "Runs several modes on the same workload, seed and parameters and prints them side by side.\n\n"
              "  --modes a,b,...          the modes, each once (default: every mode:", f);
        for (unsigned i = 0; i < mode_count(); i++)
            fprintf(f, "%s%s", i ? "," : " ", mode_at(i)->name);
        fputs(")\n", f);
    } else {
        fputs("usage: memvirt run [--mode M] [--workload W] [options]\n"
              "Runs one mode on a workload and prints its counters, cycles and metrics.\n\n"
              "  --mode M                 the mode (default: native; 'memvirt list' shows them)\n", f);
    }
    fprintf(f,
          "  --workload W             the workload (default: forkstorm)\n"
          "  --trace FILE             replay a recorded trace (the workload trace with trace.file=FILE;\n"
          "                           docs/traces.md)\n"
          "  --param prefix.name=V    set a parameter (repeatable; 'memvirt list' shows each default\n"
          "                           and valid range); numbers are decimal, integers may end in K, M, G, T\n"
          "                           (either case: 2k is 2K, 2048)\n"
          "  --at TIME:NAME=VALUE     at simulated TIME (a decimal number with unit ns, us, ms, s or m)\n"
          "                           apply a control the mode offers ('memvirt list' shows them; e.g.\n"
          "                           pv-pibooster: ptcache=on|off, ptcache_ratio=N, ptcache_total=N)\n"
          "                           (repeatable, at most %d times; one that the run ends before gets\n"
          "                           a warning)\n"
          "  --profile P              cost profile: a built-in name ('memvirt list' shows them) or a\n"
          "                           profile file from 'memvirt calibrate' (default: default)\n"
          "  --seed N                 random seed, decimal digits, 0 to %lld (default: 1)\n"
          "  --check                  verify every translation and the invariants (default: off)\n"
          "  --clustering             exit clustering in the hardware-virtualized modes (the same as\n"
          "                           --param clustering.enable=true; compare's default modes become those)\n"
          "  --json FILE, --csv FILE  write every result and the configuration that reproduces it\n"
          "                           (docs/output.md; 'memvirt rerun FILE.json' repeats the run).\n"
          "                           FILE '-' is standard output, and the table goes to standard error\n"
          "  -j N, --jobs N           runs at once, in threads (default: the CPUs online); the output\n"
          "                           does not depend on it\n"
          "  --quiet                  no progress display (it is shown only on a terminal anyway)\n"
          "  --help                   this text\n"
          "An option that takes one value (and a --param name) may be repeated only with the same\n"
          "value; --mode and --modes may be given once.\n\n",
          MAX_SCHED_CTL, (long long)INT64_MAX);
    fputs(EXIT_STATUS_HELP, f);
    if (compare)
        fputs("\nexample:\n  memvirt compare --modes native,pv,pv-pibooster --workload lmbench "
              "--param lmbench.iterations=50 --json lm.json\n", f);
    else
        fputs("\nexample:\n  memvirt run --mode pv --workload memwalk --param memwalk.ws_mb=64 "
              "--param memwalk.refs=1M --json pv.json\n", f);
}

enum {
    O_MODE = 256, O_MODES, O_WORKLOAD, O_PARAM, O_PROFILE, O_SEED, O_CHECK, O_JSON, O_CSV, O_QUIET,
    O_HELP, O_AT, O_JOBS, O_CLUSTERING, O_TRACE,
};

static const struct option run_opts[] = {
    { "mode", required_argument, 0, O_MODE },     { "modes", required_argument, 0, O_MODES },
    { "workload", required_argument, 0, O_WORKLOAD }, { "param", required_argument, 0, O_PARAM },
    { "profile", required_argument, 0, O_PROFILE }, { "seed", required_argument, 0, O_SEED },
    { "check", no_argument, 0, O_CHECK },          { "json", required_argument, 0, O_JSON },
    { "csv", required_argument, 0, O_CSV },        { "quiet", no_argument, 0, O_QUIET },
    { "help", no_argument, 0, O_HELP },            { "at", required_argument, 0, O_AT },
    { "jobs", required_argument, 0, O_JOBS },     { "clustering", no_argument, 0, O_CLUSTERING },
    { "trace", required_argument, 0, O_TRACE },
    { 0, 0, 0, 0 },
};

int cli_bad_option(const char *cmd, const struct option *opts, char **argv)
{
    for (const struct option *o = opts; o->name; o++)
        if (o->val == optopt && optopt) {
            if (o->has_arg == no_argument)
                return mv_error("%s: option '--%s' takes no value", cmd, o->name);
            return mv_error("%s: option '--%s' needs a value", cmd, o->name);
        }
    /* An unknown short option is optopt, and may stand inside a group
     * ('-zq'), where argv[optind - 1] is still the word before it. */
    if (optopt > ' ' && optopt < 127)
        return mv_error("%s: unknown option '-%c' (see 'memvirt %s --help')", cmd, optopt, cmd);
    /* A long option: its name without any '=value'; a prefix of several
     * (getopt takes an unambiguous prefix) is ambiguous, not unknown. */
    const char *word = argv[optind - 1];
    int len = (int)strcspn(word, "=");
    if (!strncmp(word, "--", 2) && len > 2) {
        char which[256] = "";
        int n = 0;
        for (const struct option *o = opts; o->name; o++)
            if (!strncmp(o->name, word + 2, (size_t)len - 2) && strlen(which) + strlen(o->name) + 8 < sizeof which)
                snprintf(which + strlen(which), sizeof which - strlen(which), "%s--%s", n++ ? ", " : "", o->name);
        if (n > 1)
            return mv_error("%s: option '%.*s' is ambiguous: %s", cmd, len, word, which);
    }
    return mv_error("%s: unknown option '%.*s' (see 'memvirt %s --help')", cmd, len, word, cmd);
}

/* Do a and b name one existing file (the same device and inode: 't.mvt'
 * and './t.mvt', a link to it, a hard link too)? */
static int one_file(const char *a, const char *b)
{
    struct stat sa, sb;
    return !stat(a, &sa) && !stat(b, &sb) && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

int cli_set_once(const char *cmd, const char *opt, const char **slot, const char *value)
{
    if (*slot && strcmp(*slot, value))
        return mv_error("%s%s%s given twice with different values ('%s' and '%s')", cmd ? cmd : "", cmd ? ": " : "",
                        opt, *slot, value);
    *slot = value;
    return 0;
}

int cli_parse_jobs(const char *text, unsigned *jobs)
{
    unsigned v = 0;
    size_t n = strspn(text, "0123456789");
    if (!n || text[n] || (text[0] == '0' && n > 1))
        return -1;
    if (n > 4)
        return -2;
    for (size_t i = 0; i < n; i++)
        v = v * 10 + (unsigned)(text[i] - '0');
    if (v < 1 || v > CLI_MAX_JOBS)
        return -2;
    *jobs = v;
    return 0;
}

/* Do a and b, values of a parameter NAME.file (trace.file), name one
 * existing file? (A sweep, which resolves names, takes two names of one
 * file as one value too, but a hard link as another.) */
static int same_file(const char *key, size_t kl, const char *a, const char *b)
{
    return kl > 5 && !strncmp(key + kl - 5, ".file", 5) && one_file(a, b);
}

/* --param k=v given twice for the same k: only with the same value, as
 * memvirt reads it ('true' and '1' agree; two names of one file agree; a
 * value that does not parse is left to config_param to name). */
static int params_agree(const struct sim_config *cfg, const char **params, int n)
{
    for (int i = 0; i < n; i++) {
        const char *eq = strchr(params[i], '=');
        if (!eq)
            continue;
        size_t kl = (size_t)(eq - params[i]);
        for (int k = 0; k < i; k++) {
            if (strncmp(params[k], params[i], kl + 1) || !strcmp(params[k], params[i]))
                continue;
            char a[PARAM_STR_MAX + 4096], b[sizeof a];
            if (config_param_canon(cfg, params[k], a, sizeof a) || config_param_canon(cfg, params[i], b, sizeof b))
                continue;   /* a value that is not one: config_param names it */
            if (!strcmp(a, b) || same_file(params[i], kl, strchr(params[k], '=') + 1, eq + 1))
                continue;
            return mv_error("--param %.*s given twice with different values ('%s' and '%s')", (int)kl,
                            params[i], strchr(params[k], '=') + 1, eq + 1);
        }
    }
    return 0;
}

/* Was --param NAME=... given? */
static int param_given(const char **params, int n, const char *name)
{
    size_t len = strlen(name);
    for (int i = 0; i < n; i++)
        if (!strncmp(params[i], name, len) && params[i][len] == '=')
            return 1;
    return 0;
}

/* --modes a,b,c: every entry a known mode, none empty, none twice. */
static int parse_modes(const char *list, int compare, const struct mode_def **sel, unsigned *nsel)
{
    const char *opt = compare ? "--modes" : "--mode";
    if (!compare && strchr(list, ','))
        return mv_error("--mode '%s': run takes one mode (compare --modes takes a list)", list);
    const char *p = list;
    for (unsigned pos = 1;; pos++) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (len == 0)
            return mv_error("%s '%s': entry %u is empty", opt, list, pos);
        const struct mode_def *md = NULL;
        for (unsigned i = 0; i < mode_count(); i++)
            if (strlen(mode_at(i)->name) == len && !strncmp(mode_at(i)->name, p, len))
                md = mode_at(i);
        if (!md)
            return mv_error("%s: unknown mode '%.*s' (see 'memvirt list')", opt, (int)len, p);
        for (unsigned i = 0; i < *nsel; i++)
            if (sel[i] == md)
                return mv_error("%s '%s': mode '%s' given twice", opt, list, md->name);
        if (*nsel == CONFIG_MAX_MODES)
            return mv_error("%s: at most %d modes", opt, CONFIG_MAX_MODES);
        sel[(*nsel)++] = md;
        if (!comma)
            return 0;
        p = comma + 1;
    }
}

int cli_run_modes(struct sim_config *cfg, const struct mode_def *const *sel, unsigned nsel, const char *json,
                  const char *csv, const char *const *inputs, unsigned jobs)
{
    struct report_files rf;
    for (unsigned i = 0; i < nsel; i++)
        if (mode_validate(sel[i], cfg))
            return EXIT_USAGE;
    int bad = report_files_open(&rf, json, csv);
    for (unsigned i = 0; !bad && inputs && inputs[i]; i += 2)
        bad = outset_input(&rf.set, inputs[i], inputs[i + 1]);
    const char *wl_in = cfg->wl->input_path ? cfg->wl->input_path(cfg->wl_cfg) : NULL;
    if (!bad && wl_in)
        bad = outset_input(&rf.set, "--trace", wl_in);
    if (!bad)   /* the table on standard error (below), not into an output that is it */
        bad = outset_stderr_clash(&rf.set, "the table");
    if (bad) {
        report_files_close(&rf);
        return EXIT_USAGE;
    }
    /* after every refusal above: bad input is one line, with no warning before it */
    config_warn_unused(cfg, sel, nsel);
    struct run_result *res = mv_calloc(nsel, sizeof *res);
    /* failed: no result is kept, but where only guests ran out of memory
     * or domains were crashed the other modes' results are (failure marks
     * the rest). Exit status 3 only if every failure was a guest out of
     * memory; a crashed domain among them is a failed run (1), whatever
     * the modes' order. */
    int erc = engine_run_all(cfg, sel, nsel, res, jobs);
    int kept = erc == ENGINE_GUEST_OOM || erc == ENGINE_DOMAIN_CRASHED;
    unsigned done = 0;
    for (unsigned i = 0; kept && i < nsel; i++)
        done += res[i].failure == RUN_COMPLETED;
    int ran = !erc || done;   /* results to show */
    int rc = !erc ? EXIT_OK : erc == ENGINE_GUEST_OOM ? EXIT_GUEST_OOM : EXIT_FAIL;
    if (ran) {
        /* A control the run ended before never acted: say so, once each. */
        for (unsigned c = 0; c < cfg->nat; c++)
            for (unsigned i = 0; i < nsel; i++)
                if (res[i].failure == RUN_COMPLETED && res[i].at_applied <= c) {
                    mv_warn("--at %s was never applied: the run of %s ended first, at %.3f simulated seconds",
                            cfg->at[c].text, res[i].mode, res[i].sim_seconds);
                    break;
                }
        FILE *table = report_files_use_stdout(&rf) ? stderr : stdout;
        /* a reader gone is EPIPE (main ignores SIGPIPE), said below */
        clearerr(table);                   /* what failed before (a warning) is not the table's */
        report_table(table, cfg, res, nsel);
        errno = 0;
        int lost = fflush(table) || ferror(table);
        int e = errno;
        if (lost) {
            /* the table is lost: no output file either (all or none);
             * also on standard error, where it goes when --json - takes
             * standard output (said there all the same: the exit status
             * is what is left) */
            mv_error("standard %s: cannot write%s: %s", table == stdout ? "output" : "error",
                     table == stdout ? "" : " the table", e ? strerror(e) : "write error");
            rc = EXIT_FAIL;
        } else if (rc == EXIT_OK && report_files_commit(&rf, cfg, res, nsel)) {
            /* a mode without results: the table only, no output file (a
             * result file holds every mode asked for, or is not written) */
            rc = EXIT_FAIL;
        }
    }
    for (unsigned i = 0; ran && i < nsel; i++)   /* also when an output failed */
        run_result_free(&res[i]);
    free(res);
    report_files_close(&rf);
    return rc;
}

int cmd_run(int argc, char **argv)
{
    const char *cmd = argv[0];
    int compare = !strcmp(cmd, "compare");
    const char *mode_arg = NULL, *workload = NULL, *profile = NULL, *seed_arg = NULL;
    const char *json = NULL, *csv = NULL, *jobs_arg = NULL, *trace = NULL;
    char *trace_kv = NULL;
    const char **params = mv_calloc((size_t)argc, sizeof *params);
    const char **ats = mv_calloc((size_t)argc, sizeof *ats);
    int nats = 0, nparams = 0, check = 0, quiet = 0, clustering = 0, c, rc = EXIT_USAGE;
    struct sim_config cfg = { 0 };
    const struct mode_def *sel[CONFIG_MAX_MODES];
    unsigned nsel = 0;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "j:", run_opts, NULL)) != -1) {
        switch (c) {
        case O_MODE:
        case O_MODES:
            if (compare != (c == O_MODES)) {
                mv_error(compare ? "compare: use --modes, not --mode" : "run: use --mode, not --modes");
                goto out;
            }
            if (mode_arg) {
                mv_error("%s given twice (%s)", compare ? "--modes" : "--mode",
                         compare ? "give every mode in one list" : "run takes one mode; compare --modes a list");
                goto out;
            }
            mode_arg = optarg;
            break;
        case O_WORKLOAD: if (cli_set_once(NULL, "--workload", &workload, optarg)) goto out; break;
        case O_PROFILE: if (cli_set_once(NULL, "--profile", &profile, optarg)) goto out; break;
        case O_SEED: {   /* twice: only the same seed (digits only, so written one way) */
            uint64_t a, b;
            if (seed_arg && strcmp(seed_arg, optarg)) {
                /* a malformed one ('01') is said as such, not as a second value */
                if (config_seed(seed_arg, &a) || config_seed(optarg, &b))
                    goto out;
                if (a == b)
                    break;
            }
            if (cli_set_once(NULL, "--seed", &seed_arg, optarg))
                goto out;
            break;
        }
        case O_JSON: if (cli_set_once(NULL, "--json", &json, optarg)) goto out; break;
        case O_CSV: if (cli_set_once(NULL, "--csv", &csv, optarg)) goto out; break;
        case O_PARAM: params[nparams++] = optarg; break;
        case O_AT: ats[nats++] = optarg; break;
        case 'j':   /* -j N, as sweep has it */
        case O_JOBS: if (cli_set_once(NULL, "--jobs", &jobs_arg, optarg)) goto out; break;
        case O_TRACE:   /* two names of one trace are one value */
            if (!(trace && one_file(trace, optarg)) && cli_set_once(NULL, "--trace", &trace, optarg))
                goto out;
            break;
        case O_CHECK: check = 1; break;
        case O_CLUSTERING: clustering = 1; break;
        case O_QUIET: quiet = 1; break;
        case O_HELP: run_usage(stdout, compare); rc = EXIT_OK; goto out;
        default:
            if (optopt == 'j')
                mv_error("%s: option '-j' needs a value", cmd);
            else
                cli_bad_option(cmd, run_opts, argv);
            goto out;
        }
    }
    if (optind < argc) {
        mv_error("%s: unexpected argument '%s'", cmd, argv[optind]);
        goto out;
    }

    unsigned jobs = engine_default_jobs();
    int jrc = jobs_arg ? cli_parse_jobs(jobs_arg, &jobs) : 0;
    if (jrc) {
        mv_error("--jobs: %s value '%s' (expected a decimal integer from 1 to %d)",
                 jrc == -2 ? "out-of-range" : "malformed", jobs_arg, CLI_MAX_JOBS);
        goto out;
    }
    /* --trace FILE: the workload trace, with its file parameter. */
    if (trace) {
        if (workload && strcmp(workload, "trace")) {
            mv_error("%s: --trace replays a trace; it does not go with --workload %s", cmd, workload);
            goto out;
        }
        workload = "trace";
        if (text_utf8_name("--trace", trace))   /* said for what was given, before --param trace.file is */
            goto out;
        trace_kv = mv_malloc(strlen(trace) + 16);
        sprintf(trace_kv, "trace.file=%s", trace);
        params[nparams++] = trace_kv;
    }
    if (config_init(&cfg, workload ? workload : "forkstorm"))
        goto out;
    cfg.check = check;
    cfg.quiet = quiet;
    if (seed_arg && config_seed(seed_arg, &cfg.seed))
        goto out;
    if (config_profile(&cfg, profile ? profile : "default") || params_agree(&cfg, params, nparams))
        goto out;
    for (int i = 0; i < nparams; i++)
        if (config_param(&cfg, params[i]))
            goto out;
    if (clustering) {
        if (!cfg.hv.clustering.enable && param_given(params, nparams, "clustering.enable")) {
            mv_error("--clustering contradicts --param clustering.enable=false");
            goto out;
        }
        cfg.hv.clustering.enable = 1;
        cfg.clustering_opt = 1;
    }
    for (int i = 0; i < nats; i++)
        if (config_at(&cfg, ats[i]))
            goto out;
    if (cfg.wl->input_seal && cfg.wl->input_seal(cfg.wl_cfg, NULL))
        goto out;
    if (config_validate(&cfg))
        goto out;

    /* The modes: one for run (default native), a list for compare (default all). */
    if (mode_arg) {
        if (parse_modes(mode_arg, compare, sel, &nsel))
            goto out;
    } else if (compare) {
        /* Every mode; with clustering, every mode it applies to. */
        for (unsigned i = 0; i < mode_count() && nsel < CONFIG_MAX_MODES; i++)
            if (!cfg.hv.clustering.enable || mode_has_vmexits(mode_at(i)))
                sel[nsel++] = mode_at(i);
    } else {
        sel[nsel++] = mode_find("native");
    }
    /* a profile file is an input (a built-in profile's name is not a file) */
    const char *inputs[] = { "--profile", profile && cost_profile_find(profile) < 0 ? profile : NULL, NULL };
    rc = cli_run_modes(&cfg, sel, nsel, json, csv, inputs[1] ? inputs : NULL, jobs);
out:
    free(params);
    free(trace_kv);
    free(ats);
    config_free(&cfg);
    return rc;
}

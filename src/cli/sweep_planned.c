/* sweep_planned.c: the effective configuration a sweep run's arguments give
 * today, as its result's JSON would record it (config_json_write): what
 * sweep_stale.c compares a finished result with. Apart from sweep_stale.c
 * because memvirt's JSON writer and jansson (the reader) share names. */
#define _GNU_SOURCE
#include "cli/sweep.h"
#include "lib/err.h"
#include "sim/config_file.h"
#include "sim/sweep_same.h"
#include <stdlib.h>
#include <string.h>

/* The configuration the run's arguments give ("--workload W --param k=v
 * ..."), as the JSON of its result would record it (malloc'd text), or
 * NULL with why[] filled. files 0: read no file the arguments name (a
 * profile file is only named, its costs left at the defaults; a trace is
 * not sealed, its digest left empty). */
char *sweep_planned_json(const char *args, int files, char *why, size_t n)
{
    /* pairs FLAG VALUE with a --workload (a manifest's line may be edited) */
    char unusable[200];
    if (sweep_args_check(args, unusable, sizeof unusable)) {
        snprintf(why, n, "the planned run's arguments are unusable: %s", unusable);
        return NULL;
    }
    char *copy = mv_strdup(args), *save = NULL, *w;
    const char *workload = NULL, *mode = NULL;
    for (w = strtok_r(copy, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
        char *v = strtok_r(NULL, " ", &save);
        if (v && !strcmp(w, "--workload"))
            workload = v;
        if (v && !strcmp(w, "--mode"))
            mode = v;
    }
    struct sim_config cfg;
    int quiet = mv_error_quiet(1);
    int rc = config_init(&cfg, workload);
    /* in the order check_run applies them: the profile, then the rest */
    for (int pass = 0; pass < 2 && !rc; pass++) {
        char *c2 = mv_strdup(args), *s2 = NULL;
        for (w = strtok_r(c2, " ", &s2); w && !rc; w = strtok_r(NULL, " ", &s2)) {
            char *v = strtok_r(NULL, " ", &s2);
            if (!v)
                break;
            if (pass == 0 && !strcmp(w, "--profile") && !files && cost_profile_find(v) < 0) {
                if (strlen(v) >= sizeof cfg.profile)
                    rc = mv_error("--profile: name longer than %zu bytes", sizeof cfg.profile - 1);
                else
                    strcpy(cfg.profile, v);
            } else if (pass == 0 && !strcmp(w, "--profile"))
                rc = config_profile(&cfg, v);
            else if (pass == 1 && !strcmp(w, "--param"))
                rc = config_param(&cfg, v);
            else if (pass == 1 && !strcmp(w, "--at"))
                rc = config_at(&cfg, v);
            else if (pass == 1 && !strcmp(w, "--seed"))
                rc = config_seed(v, &cfg.seed);
        }
        free(c2);
    }
    /* as the run itself does (cmd_run.c): a workload's input file sealed
     * into its parameters (the trace's digest) */
    if (!rc && files && cfg.wl->input_seal)
        rc = cfg.wl->input_seal(cfg.wl_cfg, NULL);
    mv_error_quiet(quiet);
    if (rc) {
        snprintf(why, n, "the planned run cannot be configured: %s", mv_last_error());
        config_free(&cfg);
        free(copy);
        return NULL;
    }
    char *text = sweep_same_text(&cfg, mode);
    config_free(&cfg);
    free(copy);   /* workload and mode pointed into it */
    return text;
}

/* sweep_stale.c: is a sweep run's finished result still the result of the
 * run as planned now? A run's id hashes its arguments only: a profile named
 * by path, or memvirt itself, can change under the same id. So a result is
 * re-used only when its JSON's "revision" (the memvirt that wrote it) and
 * "params" (every effective parameter, the cost table a profile file gave
 * included) equal what the planned run would use today, and so does the rest
 * of its configuration (mode, workload, seed, profile, controls: a manifest
 * line edited by hand keeps its id, and a result copied under another
 * run's id is not of its line); otherwise the run is run again. What a
 * build system does with a target's inputs, applied to the inputs that
 * decide a simulation's outcome. The part of the rule that reads no file
 * (sweep_result_of) is also what `sweep merge` asks (sweep_foreign) before
 * it takes a result as its line's. */
#define _GNU_SOURCE
#include "cli/cli.h"
#include "cli/sweep.h"
#include "lib/err.h"
#include "hw/cost.h"
#include "lib/version.h"
#include "workload/workload.h"
#include <errno.h>
#include "lib/outfile.h"
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The planned run's configuration as a JSON document, or NULL (why[]). */
static json_t *planned(const char *args, int files, char *why, size_t n)
{
    char *text = sweep_planned_json(args, files, why, n);
    if (!text)
        return NULL;
    json_error_t err;
    json_t *doc = json_loads(text, 0, &err);
    free(text);
    MV_ASSERT(doc, "sweep: the planned configuration does not read back as JSON: %s", err.text);
    return doc;
}

/* A value as a message shows it: compact JSON, cut short. */
static void shown(const json_t *v, char *buf, size_t n)
{
    char *t = v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    snprintf(buf, n, "%.*s%s", 80, t ? t : "(none)", t && strlen(t) > 80 ? "..." : "");
    free(t);
}

static void differs(char *why, size_t n, const char *key, const json_t *got, const char *whose, const json_t *want)
{
    char a[100], b[100];
    shown(got, a, sizeof a);
    shown(want, b, sizeof b);
    snprintf(why, n, "its '%s' is %s, %s %s", key, a, whose, b);
}

/* Why the result at path did not load (err: jansson's): a directory, a
 * device or a NUL byte where jansson stopped reading named as such
 * (jansson calls each an early end of file), else jansson's own line and
 * message. */
static void unreadable(const char *path, const json_error_t *err, char *why, size_t n)
{
    struct stat st;
    if (!stat(path, &st) && !S_ISREG(st.st_mode)) {
        snprintf(why, n, "it does not read as JSON: it is %s, not a result file",
                 S_ISDIR(st.st_mode) ? "a directory" : "not a regular file");
        return;
    }
    if (err->line < 0) {   /* load_result's own: the file did not open */
        snprintf(why, n, "it cannot be read: %s", err->text);
        return;
    }
    FILE *f = fopen(path, "rb");
    long at = -1, i = 0;
    int c;
    while (f && i <= (long)err->position && (c = getc(f)) != EOF && at < 0) {
        if (!c)
            at = i;
        i++;
    }
    if (f)
        fclose(f);
    if (at >= 0)
        snprintf(why, n, "it does not read as JSON: a NUL byte at byte %ld", at);
    else
        snprintf(why, n, "it does not read as JSON: line %d: %s", err->line, err->text);
}

/* A result file of the sweep directory, read as JSON: NULL, with err
 * set, when it is not one. Opened without blocking and read only if it
 * is a regular file: a FIFO put in its place (no writer) would otherwise
 * hang every command that reads the directory; unreadable() says what it
 * is. */
static json_t *load_result(const char *path, json_error_t *err)
{
    struct stat st;
    int fd = infile_open_nonblock(path, &st);
    if (fd < 0 || !S_ISREG(st.st_mode)) {
        memset(err, 0, sizeof *err);
        err->line = -1;
        snprintf(err->text, sizeof err->text, "%s", fd < 0 ? strerror(errno) : "not a regular file");
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    json_t *j = json_loadfd(fd, JSON_REJECT_DUPLICATES, err);
    close(fd);
    return j;
}

/* Does args set parameter key (--param KEY=...)? */
static int sets_param(const char *args, const char *key)
{
    size_t kl = strlen(key);
    for (const char *p = args; (p = strstr(p, "--param ")); p += 8)
        if (!strncmp(p + 8, key, kl) && p[8 + kl] == '=')
            return 1;
    return 0;
}

int sweep_result_of(json_t *done, const char *args, const char *whose, char *why, size_t n)
{
    why[0] = 0;
    json_t *plan = planned(args, 0, why, n);
    if (!plan)
        return 0;   /* an edited line no run can be made of: why[] says so */
    static const char *const keys[] = { "modes", "workload", "seed", "profile", "at", "check" };
    for (unsigned i = 0; i < sizeof keys / sizeof keys[0] && !why[0]; i++)
        if (!json_equal(json_object_get(done, keys[i]), json_object_get(plan, keys[i])))
            differs(why, n, keys[i], json_object_get(done, keys[i]), whose, json_object_get(plan, keys[i]));
    /* its runs: one per mode of its modes, in that order, as every result
     * holds them (a run's mode edited to another was merged as that mode) */
    json_t *modes = json_object_get(done, "modes"), *runs = json_object_get(done, "runs");
    if (!why[0] && (!json_is_array(runs) || !json_is_array(modes) || json_array_size(runs) != json_array_size(modes)))
        snprintf(why, n, "its 'runs' is not one run per mode of its 'modes'");
    for (size_t i = 0; !why[0] && json_is_array(runs) && i < json_array_size(runs); i++) {
        json_t *r = json_array_get(runs, i), *m = json_is_object(r) ? json_object_get(r, "mode") : NULL;
        if (!json_equal(m, json_array_get(modes, i))) {
            char key[48];
            snprintf(key, sizeof key, "runs[%zu].mode", i);
            differs(why, n, key, m, "its modes entry is", json_array_get(modes, i));
        }
    }
    json_t *rev = json_object_get(done, "revision"), *params = json_object_get(done, "params");
    /* defaults are this memvirt's: another revision's may differ */
    int defaults = json_is_string(rev) && !strcmp(json_string_value(rev), mv_revision());
    const char *profile = json_string_value(json_object_get(plan, "profile"));
    int profile_file = profile && cost_profile_find(profile) < 0;
    const struct workload_def *wl = workload_find(json_string_value(json_object_get(plan, "workload")));
    size_t wll = wl && wl->input_seal ? strlen(wl->params->prefix) : 0;
    const char *key;
    json_t *want;
    json_object_foreach(json_object_get(plan, "params"), key, want) {
        if (why[0])
            break;
        if (!sets_param(args, key)) {
            if (!defaults)
                continue;
            if (profile_file && !strncmp(key, "cost.", 5))
                continue;   /* the profile file's */
            if (wll && !strncmp(key, wl->params->prefix, wll) && key[wll] == '.' && json_is_string(want) &&
                !*json_string_value(want))
                continue;   /* what a run fills in of its input file (trace.digest) */
        }
        json_t *got = json_is_object(params) ? json_object_get(params, key) : NULL;
        if (!got || !json_equal(got, want))
            differs(why, n, key, got, whose, want);
    }
    json_decref(plan);
    return !why[0];
}

int sweep_result_current(const char *dir, const struct sweep_run *r, int say)
{
    const char *path = sweep_result_path(dir, r->id, "json");
    if (access(path, F_OK))
        return 0;
    char why[1200] = "";
    json_error_t err;
    json_t *done = load_result(path, &err), *plan = NULL;
    if (!done) {
        unreadable(path, &err, why, sizeof why);
    } else {
        json_t *rev = json_object_get(done, "revision"), *params = json_object_get(done, "params");
        if (!json_is_string(rev) || strcmp(json_string_value(rev), mv_revision()))
            snprintf(why, sizeof why, "written by memvirt revision %s, this is %s",
                     json_is_string(rev) ? json_string_value(rev) : "(none)", mv_revision());
        /* of this run at all (what `sweep merge` checks too): a manifest
         * line edited by hand keeps its id, and a result copied under
         * another's id is not of its line */
        else if (!sweep_result_of(done, r->args, "the planned run's", why, sizeof why))
            ;   /* why[] says it */
        else if (!(plan = planned(r->args, 1, why, sizeof why)))
            ;   /* why[] says it */
        else if (!json_is_object(params) || !json_equal(params, json_object_get(plan, "params"))) {
            const char *key, *first = NULL;
            json_t *v;
            json_object_foreach(json_object_get(plan, "params"), key, v)
                if (!first && (!json_is_object(params) || !json_equal(v, json_object_get(params, key))))
                    first = key;
            /* what can change under the same arguments: a trace file (its
             * digest), a profile file (cost.*), memvirt's defaults */
            const char *cause = !first ? "a default changed"
                              : !strncmp(first, "trace.", 6) ? "the trace file changed"
                              : !strncmp(first, "cost.", 5) ? "a profile file or a default changed"
                              : "a default changed";
            snprintf(why, sizeof why, "its parameters differ from the planned run's (first: %s; %s)",
                     first ? first : "a parameter it has and the plan has not", cause);
        }
    }
    json_decref(done);
    json_decref(plan);
    if (!why[0])
        return 1;
    if (say)
        fprintf(stderr, "sweep: run %s (%s): the result in %s is stale: %s; running it again\n", r->id, r->args,
                path, why);
    return 0;
}

/* sweep_foreign's visit of each manifest line. */
struct foreign {
    const char *dir;
};

static int foreign_line(void *ctx, unsigned long lineno, unsigned long ix, const char *id, const char *args)
{
    (void)lineno;
    const struct foreign *f = ctx;
    const char *path = sweep_result_path(f->dir, id, "json");
    json_error_t err;
    if (access(path, F_OK))
        return 0;   /* none: merge.py finds it missing */
    json_t *done = load_result(path, &err);
    char why[1200];
    if (!done)   /* stale for sweep_result_current too: run again, so not merged */
        unreadable(path, &err, why, sizeof why);
    if (!done || !sweep_result_of(done, args, "its manifest line's", why, sizeof why)) {
        for (char *c = why; *c; c++)   /* one line, two fields */
            if ((unsigned char)*c < 0x20)
                *c = ' ';
        printf("%lu\t%s\n", ix, why);
    }
    json_decref(done);
    return 0;
}

int sweep_foreign(const char *dir)
{
    char manifest[PATH_MAX + 16];
    snprintf(manifest, sizeof manifest, "%s/sweep.tsv", dir);
    struct foreign f = { dir };
    unsigned long nruns;
    if (sweep_manifest_each(manifest, foreign_line, &f, &nruns))
        return EXIT_USAGE;
    return EXIT_OK;   /* a write to standard output that failed: main says so (exit 1) */
}

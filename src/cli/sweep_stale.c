/* sweep_stale.c: is a sweep run's finished result still the result of the
 * run as planned now? A run's id hashes its arguments only: a profile named
 * by path, or memvirt itself, can change under the same id. So a result is
 * re-used only when its JSON's "revision" (the memvirt that wrote it) and
 * "params" (every effective parameter, the cost table a profile file gave
 * included) equal what the planned run would use today, and so does the rest
 * of its configuration (mode, workload, seed, profile, controls: a manifest
 * line edited by hand keeps its id); otherwise the run is run again. What a build system does with a target's inputs, applied to the
 * inputs that decide a simulation's outcome. */
#define _GNU_SOURCE
#include "cli/sweep.h"
#include "lib/err.h"
#include "lib/version.h"
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The planned run's configuration as a JSON document, or NULL (why[]). */
static json_t *planned(const char *args, char *why, size_t n)
{
    char *text = sweep_planned_json(args, why, n);
    if (!text)
        return NULL;
    json_error_t err;
    json_t *doc = json_loads(text, 0, &err);
    free(text);
    MV_ASSERT(doc, "sweep: the planned configuration does not read back as JSON: %s", err.text);
    return doc;
}

int sweep_result_current(const char *dir, const struct sweep_run *r, int say)
{
    const char *path = sweep_result_path(dir, r->id, "json");
    if (access(path, F_OK))
        return 0;
    char why[1200] = "";
    json_error_t err;
    json_t *done = json_load_file(path, JSON_REJECT_DUPLICATES, &err), *plan = NULL;
    if (!done) {
        snprintf(why, sizeof why, "it does not read as JSON: line %d: %s", err.line, err.text);
    } else if (!(plan = planned(r->args, why, sizeof why))) {
        /* why[] says it */
    } else {
        json_t *rev = json_object_get(done, "revision"), *params = json_object_get(done, "params");
        if (!json_is_string(rev) || strcmp(json_string_value(rev), mv_revision()))
            snprintf(why, sizeof why, "written by memvirt revision %s, this is %s",
                     json_is_string(rev) ? json_string_value(rev) : "(none)", mv_revision());
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
        } else {
            /* the rest of the run's configuration (mode, workload, seed,
             * profile, controls, --check): a manifest line edited by hand
             * keeps its id, and the result under it must be of the line */
            const char *key;
            json_t *v;
            json_object_foreach(plan, key, v)
                if (!why[0] && strcmp(key, "version") && strcmp(key, "revision") && strcmp(key, "params") &&
                    !json_equal(v, json_object_get(done, key)))
                    snprintf(why, sizeof why, "its '%s' differs from the planned run's (the manifest line was "
                             "edited?)", key);
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

/* config_load.c: reading the effective configuration back from a JSON
 * result for `memvirt rerun` (see config_file.h). JSON is parsed by jansson,
 * strictly: duplicate keys, trailing commas and trailing garbage are errors,
 * with the line and column; everything after parsing names the key. */
#include "lib/err.h"
#include "lib/version.h"
#include "sim/config_file.h"
#include <errno.h>
#include <jansson.h>
#include <libgen.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>


#define RESULT_MAX (1024 << 20)   /* bytes rerun reads from a pipe or device, at most */

static const char *const top_keys[] = {
    "memvirt", "version", "revision", "seed", "profile", "check", "clock_ghz",
    "workload", "modes", "at", "params", "runs",
};

/* Report an error a config_* call kept quiet, with the file and key before it. */
/* A version or revision from the file, as a message shows it: at most
 * LABEL_MAX - 1 bytes ("..." ends one cut short), so an edited one of
 * 10,000 characters does not fill the terminal. */
#define LABEL_MAX 68
static const char *cut(const char *s, char buf[LABEL_MAX])
{
    if (strlen(s) < LABEL_MAX)
        return s;
    snprintf(buf, LABEL_MAX, "%.*s...", LABEL_MAX - 4, s);
    return buf;
}

static int rethrow(const char *name, const char *key)
{
    char *msg = mv_strdup(mv_last_error());
    mv_error("rerun: %s: %s: %s", name, key, msg);
    free(msg);
    return -1;
}

static const char *get_str(const char *name, json_t *root, const char *key)
{
    json_t *v = json_object_get(root, key);
    if (!v) {
        mv_error("rerun: %s: no '%s' (not a memvirt result?)", name, key);
        return NULL;
    }
    if (!json_is_string(v)) {
        mv_error("rerun: %s: %s: expected a string", name, key);
        return NULL;
    }
    return json_string_value(v);
}

/* Parameters added after results were first written whose default is what
 * every revision before them did: a result of another revision that lacks
 * one takes its default (with a warning), so that yesterday's results can
 * be rerun today. Only a parameter whose default kept every statistic of
 * the revision before it belongs here (the goldens unchanged when it came:
 * tests/cli/rerun_compat.sh reruns them without these keys, which shows
 * that today's defaults reproduce the goldens, not what an old revision
 * did: that was checked by hand at each parameter's commit). tsp.oos_limit
 * (2026-12-01) would qualify, but every result without it also lacks
 * cost.pv_syscall_bounce and cost.pv_iret, which came after it and
 * changed pv's results. */
static const char *const added_keeping_old[] = {
    "iommu.units", "guest.fault_around_bytes", "cost.fault_around_page", /* 2026-12-02 */
    "guest.flush_after_fault", "ssp.flush_fill", "hv.vpid",              /* 2026-12-03 */
    "xen.xpti",                                                          /* 2026-12-05 */
};

static int added_keeping_old_default(const char *full)
{
    for (size_t i = 0; i < sizeof added_keeping_old / sizeof added_keeping_old[0]; i++)
        if (!strcmp(added_keeping_old[i], full))
            return 1;
    return 0;
}

/* revision: the one that wrote the result; a parameter missing from one of
 * another revision is most likely one that revision did not have. */
static int load_params(const char *name, json_t *params, struct sim_config *c, const char *revision)
{
    char where[1024];
    snprintf(where, sizeof where, "rerun: %s: params", name);
    struct config_group g[CONFIG_MAX_GROUPS];
    unsigned ng = config_groups(c, g);
    const char *key;
    json_t *v;
    json_object_foreach(params, key, v) {
        const char *dot = strchr(key, '.');
        const struct param_def *d = NULL;
        unsigned gi = 0;
        for (; dot && gi < ng; gi++)
            if (strlen(g[gi].g->prefix) == (size_t)(dot - key) && !strncmp(g[gi].g->prefix, key, (size_t)(dot - key))) {
                d = param_find(g[gi].g, dot + 1);
                break;
            }
        if (!d)
            return mv_error("%s: unknown parameter '%s' (for workload %s)", where, key, c->wl->name);
        char text[64];
        switch (d->type) {
        case P_U64:
            if (!json_is_integer(v) || json_integer_value(v) < 0)
                return mv_error("%s: %s: expected a non-negative integer", where, key);
            snprintf(text, sizeof text, "%lld", (long long)json_integer_value(v));
            break;
        case P_DBL:
            if (json_is_integer(v))
                snprintf(text, sizeof text, "%lld", (long long)json_integer_value(v));
            else if (json_is_real(v))
                param_format_dbl(json_real_value(v), text, sizeof text);
            else
                return mv_error("%s: %s: expected a number", where, key);
            break;
        case P_BOOL:
            if (!json_is_boolean(v))
                return mv_error("%s: %s: expected true or false", where, key);
            snprintf(text, sizeof text, "%s", json_is_true(v) ? "true" : "false");
            break;
        case P_CHOICE:
        case P_STR:
            if (!json_is_string(v))
                return mv_error("%s: %s: expected a string", where, key);
            if (param_set(g[gi].g, g[gi].cfg, d->name, json_string_value(v), where))
                return -1;
            continue;
        }
        if (param_set(g[gi].g, g[gi].cfg, d->name, text, where))
            return -1;
    }
    /* Every parameter must be there: a missing one would silently be the
     * default. Except one added since another revision wrote the result,
     * whose default keeps what that revision did (added_keeping_old). */
    char defaulted[512] = "";
    for (unsigned i = 0; i < ng; i++)
        for (size_t k = 0; k < g[i].g->n; k++) {
            char full[96];
            snprintf(full, sizeof full, "%s.%s", g[i].g->prefix, g[i].g->defs[k].name);
            if (!json_object_get(params, full)) {
                if (strcmp(revision, mv_revision()) && added_keeping_old_default(full)) {
                    size_t n = strlen(defaulted);
                    snprintf(defaulted + n, sizeof defaulted - n, "%s%s", n ? ", " : "", full);
                    continue;   /* config_init set its default */
                }
                char r[LABEL_MAX];
                if (strcmp(revision, mv_revision()))
                    return mv_error("%s: no value for '%s': the result was written by memvirt revision %s, "
                                    "this is %s, which has that parameter: rerun it with the revision that "
                                    "wrote it, or run its command again", where, full, cut(revision, r),
                                    mv_revision());
                return mv_error("%s: no value for '%s'", where, full);
            }
        }
    if (defaulted[0])
        mv_warn("%s: no value for %s, which came after memvirt revision %s wrote the result: using %s, "
                "what that revision did", where, defaulted, revision,
                strchr(defaulted, ',') ? "their defaults" : "its default");
    return 0;
}

static int load(const char *name, const char *base, json_t *root, struct sim_config *c, const struct mode_def **sel,
                unsigned *nsel)
{
    if (!json_is_object(root))
        return mv_error("rerun: %s: expected a JSON object (a memvirt result)", name);
    /* `sweep merge`'s JSON holds many runs, each with its own result */
    if (json_is_object(json_object_get(root, "sweep")) && json_object_get(root, "runs"))
        return mv_error("rerun: %s: a merged sweep (memvirt sweep merge), not one run's result: rerun one of its "
                        "runs from DIR/runs/ID.json (the sweep's directory; ID is the run's id in the merge)", name);
    const char *key;
    json_t *v;
    json_object_foreach(root, key, v) {
        unsigned i = 0;
        while (i < sizeof top_keys / sizeof top_keys[0] && strcmp(top_keys[i], key))
            i++;
        if (i == sizeof top_keys / sizeof top_keys[0])
            return mv_error("rerun: %s: unknown key '%s'", name, key);
    }
    const char *schema = get_str(name, root, "memvirt");
    if (!schema)
        return -1;
    if (strcmp(schema, "1"))
        return mv_error("rerun: %s: memvirt: schema '%s' is not one this memvirt reads ('1')", name, schema);
    /* one at a time: the first one missing is the one error reported */
    const char *version, *revision, *workload, *profile;
    if (!(version = get_str(name, root, "version")) || !(revision = get_str(name, root, "revision")) ||
        !(workload = get_str(name, root, "workload")) || !(profile = get_str(name, root, "profile")))
        return -1;

    if (!workload_find(workload))
        return mv_error("rerun: %s: workload: unknown workload '%s'", name, workload);
    config_init(c, workload);
    /* A built-in profile is loaded by name. A profile file is not read: every
     * value it gave is a cost.* parameter, all of which follow and override
     * it, so the result alone reproduces the run (the file may be gone, or
     * relative to another directory); its name stays as the label. */
    int q = mv_error_quiet(1), rc = 0;
    if (cost_profile_find(profile) >= 0)
        rc = config_profile(c, profile);
    else if (strlen(profile) >= sizeof c->profile || !*profile)
        rc = mv_error("'%s': not a profile name or file name memvirt writes", profile);
    else
        strcpy(c->profile, profile);
    mv_error_quiet(q);
    if (rc)
        return rethrow(name, "profile");

    json_t *seed = json_object_get(root, "seed"), *check = json_object_get(root, "check");
    if (!seed || !json_is_integer(seed) || json_integer_value(seed) < 0)
        return mv_error("rerun: %s: seed: expected a non-negative integer", name);
    c->seed = (uint64_t)json_integer_value(seed);
    if (!check || !json_is_boolean(check))
        return mv_error("rerun: %s: check: expected true or false", name);
    c->check = json_is_true(check);

    json_t *params = json_object_get(root, "params");
    if (!params || !json_is_object(params))
        return mv_error("rerun: %s: params: expected an object of every parameter's value", name);
    if (load_params(name, params, c, revision))
        return -1;
    /* clock_ghz repeats cost.clock_ghz as json_dbl writes it (9 digits) */
    json_t *clock = json_object_get(root, "clock_ghz");
    char nine[32];
    snprintf(nine, sizeof nine, "%.9g", c->cost.clock_ghz);
    if (!clock || !json_is_number(clock) || json_number_value(clock) != strtod(nine, NULL))
        return mv_error("rerun: %s: clock_ghz: does not match params cost.clock_ghz", name);

    json_t *at = json_object_get(root, "at"), *x;
    size_t i;
    if (!at || !json_is_array(at))
        return mv_error("rerun: %s: at: expected an array of controls", name);
    json_array_foreach(at, i, x) {
        char where[32];
        snprintf(where, sizeof where, "at[%zu]", i);
        if (!json_is_string(x))
            return mv_error("rerun: %s: %s: expected a string TIME:NAME=VALUE", name, where);
        q = mv_error_quiet(1);
        rc = config_at(c, json_string_value(x));
        mv_error_quiet(q);
        if (rc)
            return rethrow(name, where);
    }

    json_t *ml = json_object_get(root, "modes");
    if (!ml || !json_is_array(ml) || json_array_size(ml) == 0 || json_array_size(ml) > CONFIG_MAX_MODES)
        return mv_error("rerun: %s: modes: expected an array of 1 to %d modes", name, CONFIG_MAX_MODES);
    *nsel = 0;
    json_array_foreach(ml, i, x) {
        const struct mode_def *md = json_is_string(x) ? mode_find(json_string_value(x)) : NULL;
        if (!md)
            return mv_error("rerun: %s: modes[%zu]: not a known mode", name, i);
        for (unsigned k = 0; k < *nsel; k++)
            if (sel[k] == md)
                return mv_error("rerun: %s: modes[%zu]: '%s' given twice", name, i, md->name);
        sel[(*nsel)++] = md;
    }

    q = mv_error_quiet(1);
    rc = c->wl->input_seal ? c->wl->input_seal(c->wl_cfg, base) : 0;
    mv_error_quiet(q);
    if (rc)
        return rethrow(name, "params");
    q = mv_error_quiet(1);
    rc = config_validate(c);
    for (unsigned k = 0; !rc && k < *nsel; k++)
        rc = mode_validate(sel[k], c);
    mv_error_quiet(q);
    if (rc)
        return rethrow(name, "configuration");
    /* the results themselves are not read back (the rerun makes its own),
     * but a result holds one run per mode, in the modes' order: anything
     * else is not a result memvirt wrote */
    json_t *runs = json_object_get(root, "runs");
    if (!runs)
        return mv_error("rerun: %s: no 'runs' (not a memvirt result?)", name);
    if (!json_is_array(runs) || json_array_size(runs) != *nsel)
        return mv_error("rerun: %s: runs: expected an array of %u run%s, one per mode in modes", name, *nsel,
                        *nsel == 1 ? "" : "s");
    json_array_foreach(runs, i, x) {
        json_t *m = json_is_object(x) ? json_object_get(x, "mode") : NULL;
        if (!m || !json_is_string(m) || strcmp(json_string_value(m), sel[i]->name))
            return mv_error("rerun: %s: runs[%zu]: expected the run of mode '%s' (modes[%zu])", name, i,
                            sel[i]->name, i);
    }

    if (strcmp(version, mv_version()) || strcmp(revision, mv_revision()) || !strcmp(revision, "unknown")) {
        char vb[LABEL_MAX], rb[LABEL_MAX];
        mv_warn("rerun: %s was written by memvirt %s (revision %s), this is %s (revision %s): the results "
                "may differ", name, cut(version, vb), cut(revision, rb), mv_version(), mv_revision());
    }
    return 0;
}

/* jansson refuses a number too large for a double but reads one too small
 * (1e-400) as 0, where --param refuses it: the first such number of
 * valid JSON text buf, by line and column (1-based), or 0 if none. A
 * result memvirt wrote has none (it writes each double exactly). */
static int json_underflow(const char *buf, size_t len, unsigned *line, unsigned *col)
{
    unsigned ln = 1;
    size_t bol = 0;
    for (size_t i = 0; i < len; i++) {
        char ch = buf[i];
        if (ch == '\n') {
            ln++;
            bol = i + 1;
        } else if (ch == '"') {   /* a string: skip it, escapes included */
            for (i++; i < len && buf[i] != '"'; i++)
                i += buf[i] == '\\';
        } else if (ch == '-' || (ch >= '0' && ch <= '9')) {
            size_t j = i;
            int nonzero = 0;
            while (j < len && strchr("+-.eE0123456789", buf[j])) {
                if (!nonzero && buf[j] >= '1' && buf[j] <= '9')
                    nonzero = 1;
                if (buf[j] == 'e' || buf[j] == 'E')   /* the exponent's digits say nothing of zero */
                    for (; j + 1 < len && strchr("+-0123456789", buf[j + 1]); j++)
                        ;
                j++;
            }
            if (nonzero) {
                char small[64], *tok = j - i < sizeof small ? small : mv_malloc(j - i + 1);
                memcpy(tok, buf + i, j - i);
                tok[j - i] = 0;
                int zero = strtod(tok, NULL) == 0;
                if (tok != small)
                    free(tok);
                if (zero) {
                    *line = ln;
                    *col = (unsigned)(i - bol + 1);
                    return 1;
                }
            }
            i = j - 1;
        }
    }
    return 0;
}

static int load_buf(const char *name, const char *base, const char *buf, size_t len, struct sim_config *c,
                    const struct mode_def **sel, unsigned *nsel)
{
    memset(c, 0, sizeof *c);
    /* an editor's byte-order mark: jansson's message showed it as itself,
     * invisible ("expected near ''") */
    if (len >= 3 && !memcmp(buf, "\xef\xbb\xbf", 3))
        return mv_error("rerun: %s:1:1: starts with a UTF-8 byte-order mark (EF BB BF), which JSON does not "
                        "allow: save the file without it", name);
    json_error_t err;
    json_t *root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &err);
    if (!root)
        return mv_error("rerun: %s:%d:%d: %s", name, err.line, err.column, err.text);
    unsigned ul, uc;
    if (json_underflow(buf, len, &ul, &uc)) {
        json_decref(root);
        return mv_error("rerun: %s:%u:%u: a non-zero number too small for a double (it would be read as 0)", name,
                        ul, uc);
    }
    int rc = load(name, base, root, c, sel, nsel);
    json_decref(root);
    return rc;
}

int config_load_json(const char *name, const char *buf, size_t len, struct sim_config *c,
                     const struct mode_def **sel, unsigned *nsel)
{
    return load_buf(name, NULL, buf, len, c, sel, nsel);
}

int config_load_json_file(const char *path, struct sim_config *c, const struct mode_def **sel,
                          unsigned *nsel)
{
    memset(c, 0, sizeof *c);
    FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
    if (!f)
        return mv_error("rerun: cannot read '%s': %s", path, strerror(errno));
    /* JSON text holds no NUL byte, and only a regular file is surely finite
     * (a result with a fine time series can pass 1 GiB): an endless or
     * binary input (/dev/zero, /dev/urandom, a pipe) is refused as it is
     * read, not taken into memory until the allocation fails */
    struct stat st;
    size_t max = !fstat(fileno(f), &st) && S_ISREG(st.st_mode) ? SIZE_MAX : RESULT_MAX;
    char *buf = NULL, *nul = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len == cap) {   /* doubling, but past the cap by one byte at most: that byte refuses the input */
            size_t want = cap ? cap * 2 : (size_t)1 << 16;
            if (max != SIZE_MAX && want > max + 1)
                want = max + 1;
            buf = mv_realloc(buf, cap = want);
        }
        size_t n = fread(buf + len, 1, cap - len, f);
        nul = memchr(buf + len, 0, n);
        len += n;
        if (n == 0 || nul || len > max)
            break;
    }
    int bad = ferror(f);
    int e = errno;
    if (!bad && (nul || len > max)) {
        size_t at = nul ? (size_t)(nul - buf) : 0;
        if (f != stdin)
            fclose(f);
        free(buf);
        return nul ? mv_error("rerun: %s: NUL byte at byte %zu: not a JSON result", path, at)
                   : mv_error("rerun: %s: more than %d MiB from a pipe or device: not a memvirt result", path,
                              RESULT_MAX >> 20);
    }
    /* a relative input (a trace) is looked for beside the result too */
    char *copy = f != stdin ? mv_strdup(path) : NULL;
    const char *base = copy ? dirname(copy) : NULL;
    if (f != stdin)
        fclose(f);
    int rc = bad ? mv_error("rerun: cannot read '%s': %s", path, strerror(e))
                 : load_buf(path, base, buf, len, c, sel, nsel);
    free(buf);
    free(copy);
    return rc;
}

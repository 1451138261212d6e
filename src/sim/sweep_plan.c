/* sweep_plan.c: checks a parsed sweep spec against the mode, workload and
 * parameter registries and expands each group into the cartesian product of
 * its axes (see sweep_plan.h, docs/sweeps.md).
 *
 * Values are checked one by one with the same functions `memvirt run` uses
 * (config_param, config_at, config_profile), so a bad one is reported at its
 * line and column; a value an axis already has, as the run would read it
 * ('2K' after '2048', '1000ms:...' after '1s:...'), is refused there too; a
 * file a value names (a profile file, trace.file) is made absolute and
 * resolved. Then every expanded run is checked as a whole (its input file sealed:
 * a trace.digest the trace does not have is refused; config_validate:
 * cross-parameter rules such as TLB geometry), and where an axis gives '-'
 * beside other values, no two runs of a group may be the same run ('-' and
 * the default's own value). */
#include "sim/sweep_plan.h"
#include "lib/err.h"
#include "lib/param.h"
#include "lib/text.h"
#include "sim/config.h"
#include "sim/machine.h"
#include "sim/sweep_same.h"
#include <fnmatch.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

enum key_kind { K_MODE = SWEEP_MODE, K_WORKLOAD = SWEEP_WORKLOAD, K_SEED = SWEEP_SEED, K_PROFILE = SWEEP_PROFILE,
                K_AT = SWEEP_AT, K_PARAM = SWEEP_PARAM };

const char *const sweep_run_flags[SWEEP_NFLAGS] = { "--mode", "--workload", "--seed", "--profile", "--at", "--param" };

/* One axis of one group, resolved: its values (NULL for '-': not set). */
struct axis {
    const struct sweep_axis *src;
    enum key_kind kind;
    const char *wl;       /* K_PARAM of a workload's group: that workload; else NULL */
    const char **vals;    /* point into src tokens or registry names; NULL: not set */
    const struct sweep_tok **toks;   /* the token each value comes from (the key's: none named it) */
    char **owned;         /* range expansions, freed with the axis */
    unsigned nvals, nowned;
    int col;
};

struct ctx {
    const struct sweep_spec *s;
    struct sweep_plan *p;
    const struct sweep_group *g;
    struct sweep_same *same;   /* what each run of the group is (no_same_runs) */
    unsigned nsame;
    int same_wanted;      /* the group has an axis with '-' and another value */
};

static int tok_err(const struct ctx *c, const struct sweep_tok *t, const char *msg)
{
    return mv_error("%s:%u:%u: %s", t->where ? t->where : c->s->file, t->line, t->col, msg);
}

/* The last mv_error text without the option name `memvirt run` puts first. */
static const char *last_msg(void)
{
    const char *m = mv_last_error();
    static const char *const prefixes[] = { "--param: ", "--profile: ", "--workload: " };
    for (unsigned i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++)
        if (!strncmp(m, prefixes[i], strlen(prefixes[i])))
            return m + strlen(prefixes[i]);
    return m;
}

/* Room for element n of an array of n: the array doubles when n is 0 or
 * a power of two, so that appending n elements copies O(n) of them (a
 * realloc per element copied O(n^2) where realloc moves the block: 37 s
 * to plan 20,000 runs under the sanitizers, whose realloc always moves
 * it). The room only grows with n, so an array cut shorter keeps enough. */
static void *grow(void *a, size_t n, size_t size)
{
    return n & (n - 1) ? a : mv_realloc(a, (n ? 2 * n : 1) * size);
}

static void axis_push(struct axis *a, const char *v, const struct sweep_tok *t)
{
    a->vals = grow(a->vals, a->nvals, sizeof *a->vals);
    a->toks = grow(a->toks, a->nvals, sizeof *a->toks);
    a->toks[a->nvals] = t;
    a->vals[a->nvals++] = v;
}

/* Keep v (malloc'd) with the axis, to be freed with it. */
static const char *axis_own(struct axis *a, char *v)
{
    a->owned = mv_realloc(a->owned, (a->nowned + 1) * sizeof *a->owned);
    a->owned[a->nowned++] = v;
    return v;
}

/* A mode or workload name once: overlapping values ("*, pv", "@vmexits,
 * tsp") must not list one run twice in the manifest. */
static void axis_push_name(struct axis *a, const char *v, const struct sweep_tok *t)
{
    for (unsigned i = 0; i < a->nvals; i++)
        if (!strcmp(a->vals[i], v))
            return;
    axis_push(a, v, t);
}

static void axis_free(struct axis *a)
{
    for (unsigned i = 0; i < a->nowned; i++)
        free(a->owned[i]);
    free(a->owned);
    free(a->vals);
    free(a->toks);
}

static int key_kind(const struct ctx *c, const struct sweep_axis *sa, enum key_kind *k, const char **wl)
{
    const char *key = sa->key.text;
    static const char *const names[] = { "mode", "workload", "seed", "profile", "at" };
    *wl = NULL;
    for (unsigned i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!strcmp(key, names[i])) {
            *k = (enum key_kind)i;
            return 0;
        }
    const char *dot = strchr(key, '.');
    if (!dot || dot == key || !dot[1]) {
        char m[200];
        snprintf(m, sizeof m, "unknown key '%.60s' (mode, workload, seed, profile, at, or a parameter "
                 "prefix.name; see 'memvirt list')", key);
        return tok_err(c, &sa->key, m);
    }
    *k = K_PARAM;
    for (unsigned i = 0; i < nworkloads; i++)
        if (strlen(workloads[i]->params->prefix) == (size_t)(dot - key) &&
            !strncmp(workloads[i]->params->prefix, key, (size_t)(dot - key)))
            *wl = workloads[i]->name;
    return 0;
}

static int has_glob(const char *s) { return strpbrk(s, "*?[") != NULL; }

/* Does registry entry i (a mode or a workload) match value text? Globs
 * leave out workloads that replay a file (they run only when named, with
 * their file); "@vmexits" is every mode with hardware VM exits (the modes
 * that take --clustering). */
static int name_matches(const struct axis *a, unsigned i, const char *text)
{
    const char *name = a->kind == K_MODE ? mode_at(i)->name : workloads[i]->name;
    if (a->kind == K_MODE && !strcmp(text, "@vmexits"))
        return mode_has_vmexits(mode_at(i));
    if (has_glob(text) && a->kind != K_MODE && workloads[i]->replays_input)
        return 0;
    return has_glob(text) ? !fnmatch(text, name, 0) : !strcmp(text, name);
}

/* mode or workload values: names, globs over the registry, "@vmexits" (modes),
 * and exclusions "!NAME" or "!GLOB", which take matching names out of what
 * the other values gave (of everything, the glob '*', if there are none). */
static int expand_names(const struct ctx *c, struct axis *a)
{
    const char *what = a->kind == K_MODE ? "mode" : "workload";
    unsigned n = a->kind == K_MODE ? mode_count() : nworkloads, nincl = 0;
    for (unsigned v = 0; v < a->src->nvals; v++) {
        const struct sweep_tok *t = &a->src->vals[v];
        char m[200];
        if (t->text[0] == '@' && (a->kind != K_MODE || strcmp(t->text, "@vmexits"))) {
            snprintf(m, sizeof m, "unknown %s set '%.60s' (%s)", what, t->text,
                     a->kind == K_MODE ? "the one set is @vmexits: every mode with hardware VM exits"
                                       : "sets are for modes only");
            return tok_err(c, t, m);
        }
        if (t->text[0] == '!')
            continue;
        nincl++;
        int found = 0;
        for (unsigned i = 0; i < n; i++)
            if (name_matches(a, i, t->text)) {
                axis_push_name(a, a->kind == K_MODE ? mode_at(i)->name : workloads[i]->name, t);
                found = 1;
            }
        if (!found) {
            snprintf(m, sizeof m, has_glob(t->text) || t->text[0] == '@' ? "no %s matches '%.60s' (see 'memvirt list')"
                                                    : "unknown %s '%.60s' (see 'memvirt list')", what, t->text);
            return tok_err(c, t, m);
        }
    }
    if (!nincl)
        for (unsigned i = 0; i < n; i++)
            if (name_matches(a, i, "*"))
                axis_push(a, a->kind == K_MODE ? mode_at(i)->name : workloads[i]->name, &a->src->key);
    for (unsigned v = 0; v < a->src->nvals; v++) {
        const struct sweep_tok *t = &a->src->vals[v];
        if (t->text[0] != '!')
            continue;
        char m[200];
        const char *x = t->text + 1;
        if (!*x || *x == '!' || *x == '@')
            return tok_err(c, t, "expected a name or a glob after '!'");
        int known = 0;   /* a typo must not silently exclude nothing */
        for (unsigned i = 0; i < n; i++)
            known |= name_matches(a, i, x);
        if (!known) {
            snprintf(m, sizeof m, "'%.60s' excludes no %s (see 'memvirt list')", t->text, what);
            return tok_err(c, t, m);
        }
        unsigned k = 0;
        for (unsigned j = 0; j < a->nvals; j++) {
            unsigned i = 0;
            while (i < n && strcmp(a->kind == K_MODE ? mode_at(i)->name : workloads[i]->name, a->vals[j]))
                i++;
            if (i == n || !name_matches(a, i, x)) {
                a->toks[k] = a->toks[j];
                a->vals[k++] = a->vals[j];
            }
        }
        a->nvals = k;
        if (!k) {
            snprintf(m, sizeof m, "'%.60s' leaves no %s on this axis", t->text, what);
            return tok_err(c, t, m);
        }
    }
    return 0;
}

/* "A..B" with decimal A <= B: push A, A+1, ..., B. 1 if it was a range, -1 on error. */
static int expand_range(const struct ctx *c, struct axis *a, const struct sweep_tok *t)
{
    const char *dots = strstr(t->text, "..");
    size_t ll = dots ? (size_t)(dots - t->text) : 0;
    if (!dots || !ll || !dots[2] || strspn(t->text, "0123456789") != ll ||
        strspn(dots + 2, "0123456789") != strlen(dots + 2))
        return 0;
    char lo_s[32];
    uint64_t lo = 0, hi = 0;
    int big = ll >= sizeof lo_s, bad = big;
    if (!bad) {
        memcpy(lo_s, t->text, ll);
        lo_s[ll] = 0;
        big = param_parse_u64(lo_s, &lo) || param_parse_u64(dots + 2, &hi);
        bad = big || hi < lo || hi - lo >= SWEEP_MAX_VALUES || a->nvals + (hi - lo) >= SWEEP_MAX_VALUES;
    }
    if (bad) {
        char m[200];
        snprintf(m, sizeof m, "bad range '%.60s' (A..B with A <= B and at most %d values%s)", t->text,
                 SWEEP_MAX_VALUES, big ? ", each at most 18446744073709551615" : "");
        return tok_err(c, t, m);
    }
    /* x <= hi alone would never end for B = 2^64-1 (x++ wraps to 0) */
    for (uint64_t x = lo;; x++) {
        char *v = mv_malloc(24);
        snprintf(v, 24, "%llu", (unsigned long long)x);
        axis_push(a, axis_own(a, v), t);
        if (x == hi)
            break;
    }
    return 1;
}

/* Check one value the way `memvirt run` would take it, for workload wl;
 * canon[] gets the value as the run would hold it (a parameter as memvirt
 * writes it: '2K' and '2048' alike; a seed as a number), for finding a
 * value given twice. */
static int check_value(const struct axis *a, const char *wl, const char *v, char *canon, size_t clen)
{
    struct sim_config cfg;
    int rc = 0;
    snprintf(canon, clen, "%s", v);
    if (a->kind == K_SEED) {
        uint64_t x;
        const char *why = config_seed_problem(v, &x);   /* as `memvirt run` takes it */
        if (why)
            return mv_error("seed '%s' %s (expected a decimal integer from 0 to %lld)", v, why,
                            (long long)INT64_MAX);
        snprintf(canon, clen, "%llu", (unsigned long long)x);
        return 0;
    }
    struct stat st;
    if (a->kind == K_PROFILE && cost_profile_find(v) < 0 && !stat(v, &st) && !S_ISREG(st.st_mode))
        /* read when the sweep is planned, and again by every run */
        return mv_error("profile '%s': not a regular file (%s): a sweep reads it once per run, so give a "
                        "profile file", v, S_ISDIR(st.st_mode) ? "a directory" : "a device, FIFO or socket");
    if (config_init(&cfg, wl))
        return -1;
    if (a->kind == K_PROFILE)
        rc = config_profile(&cfg, v);
    else if (a->kind == K_AT) {
        rc = config_at(&cfg, v);
        if (!rc)   /* as the run holds it: '1000ms' is '1s', 'true' 'on', '1K' 1024 */
            config_at_format(&cfg.at[0], canon, clen);
    } else {
        size_t n = strlen(a->src->key.text) + strlen(v) + 2;
        char *kv = mv_malloc(n);
        snprintf(kv, n, "%s=%s", a->src->key.text, v);
        rc = config_param(&cfg, kv);
        if (!rc)
            config_param_canon(&cfg, kv, canon, clen);
        free(kv);
    }
    config_free(&cfg);
    return rc;
}

/* Does value v of axis a name a file: a profile that is not a built-in
 * name, or a parameter NAME.file (trace.file)? */
static int names_file(const struct axis *a, const char *v)
{
    if (a->kind == K_PROFILE)
        return cost_profile_find(v) < 0;
    size_t n = strlen(a->src->key.text);
    return a->kind == K_PARAM && n > 5 && !strcmp(a->src->key.text + n - 5, ".file");
}

/* A file a value names, relative to the directory `memvirt sweep` runs
 * in, made absolute: every run reads it from wherever it is started (a
 * Slurm task in the submitter's home, `sweep one` by hand elsewhere).
 * Absolute ones are resolved the same way ('/x/./t.mvt', a symlink), so
 * that two names of one file are one value. The value itself when it
 * names no file (the check that follows says so). */
static const char *absolute_file(struct axis *a, const char *v)
{
    if (!*v || !names_file(a, v))
        return v;
    char *abs = realpath(v, NULL);
    return abs ? axis_own(a, abs) : v;
}

/* Two values of one axis that come to the same (canon[]): the same runs
 * twice under two ids, or twice in the manifest under one, counted twice
 * by the merge. Said at the later one's token. */
struct seen { const char *canon; unsigned i; };
static int by_canon(const void *x, const void *y)
{
    const struct seen *a = x, *b = y;
    int c = strcmp(a->canon, b->canon);
    return c ? c : (a->i > b->i) - (a->i < b->i);
}

static int no_repeats(const struct ctx *c, const struct axis *a, unsigned base, char **canon, unsigned n)
{
    struct seen *s = mv_calloc(n + 1, sizeof *s);
    for (unsigned i = 0; i < n; i++)
        s[i] = (struct seen){ canon[i], base + i };
    qsort(s, n, sizeof *s, by_canon);
    unsigned later = a->nvals, first = 0;   /* the earliest value that repeats one before it */
    for (unsigned k = 1; k < n; k++)
        if (!strcmp(s[k].canon, s[k - 1].canon) && s[k].i < later) {
            unsigned f = k - 1;
            while (f > 0 && !strcmp(s[f - 1].canon, s[k].canon))
                f--;
            later = s[k].i;
            first = s[f].i;
        }
    free(s);
    if (later == a->nvals)
        return 0;
    const struct sweep_tok *t = a->toks[later], *e = a->toks[first];
    const char *v = a->vals[later] ? a->vals[later] : "-";
    char m[400];
    if (t == e)
        snprintf(m, sizeof m, "'%.60s' gives %s '%.60s' twice: each value once, or its runs are made twice",
                 t->text, a->src->key.text, v);
    else
        snprintf(m, sizeof m, "%s '%.60s' is given twice (as '%.60s' at %u:%u and as '%.60s' here): each value "
                 "once, or its runs are made twice", a->src->key.text, v, e->text, e->line, e->col, t->text);
    return tok_err(c, t, m);
}

static int expand_values(const struct ctx *c, struct axis *a, const struct axis *wlaxis)
{
    if (a->kind == K_MODE || a->kind == K_WORKLOAD)
        return expand_names(c, a);
    /* the workload to check against: the parameter's own, or any the group runs */
    const char *wl = a->wl ? a->wl : wlaxis->vals[0];
    char **canon = NULL;   /* canon[k]: of vals[base + k] */
    unsigned ncanon = 0, base = a->nvals;
    int rc = 0;
    for (unsigned v = 0; v < a->src->nvals && !rc; v++) {
        const struct sweep_tok *t = &a->src->vals[v];
        unsigned first = a->nvals;
        if (!strcmp(t->text, "-")) {
            axis_push(a, NULL, t);
        } else {
            int r = (a->kind == K_SEED || a->kind == K_PARAM) ? expand_range(c, a, t) : 0;
            if (r < 0) {
                rc = -1;
                break;
            }
            if (!r) {
                axis_push(a, absolute_file(a, t->text), t);
                if (strpbrk(a->vals[first], " \t")) {   /* a run's arguments are words split at spaces */
                    char m[600];
                    snprintf(m, sizeof m, "'%.60s' is '%.400s', with a space, which a run's arguments cannot hold",
                             t->text, a->vals[first]);
                    rc = tok_err(c, t, m);
                    break;
                }
                /* a file's name goes into every run's result as it is (its
                 * directory's too, made absolute): UTF-8, as `memvirt run`
                 * takes it (config_validate) */
                if (names_file(a, a->vals[first]) && text_utf8_bad(a->vals[first]) >= 0) {
                    int given = text_utf8_bad(t->text) >= 0;   /* else its directory's name is at fault */
                    char what[160];
                    snprintf(what, sizeof what, given ? "%s" : "%s '%.60s', made absolute", a->src->key.text,
                             t->text);
                    int quiet = mv_error_quiet(1);
                    text_utf8_name(what, given ? t->text : a->vals[first]);
                    mv_error_quiet(quiet);
                    char m[MV_ERROR_MAX];
                    snprintf(m, sizeof m, "%s", mv_last_error());
                    rc = tok_err(c, t, m);
                    break;
                }
            }
        }
        canon = mv_realloc(canon, (a->nvals - base + 1) * sizeof *canon);
        for (unsigned i = first; i < a->nvals && !rc; i++) {
            char buf[PARAM_VALUE_MAX];
            int bad = 0;
            if (a->vals[i]) {
                int quiet = mv_error_quiet(1);
                bad = check_value(a, wl, a->vals[i], buf, sizeof buf);
                mv_error_quiet(quiet);
            } else {
                snprintf(buf, sizeof buf, "\001-");   /* not set: like no value */
            }
            canon[ncanon++] = mv_strdup(buf);
            if (bad) {
                char m[MV_ERROR_MAX];
                snprintf(m, sizeof m, "%s", last_msg());
                /* an unknown parameter is the key's fault, not the value's */
                rc = tok_err(c, strstr(m, "unknown parameter") ? &a->src->key : t, m);
            }
        }
        if (!rc && a->nvals > SWEEP_MAX_VALUES)
            rc = tok_err(c, t, "too many values");
    }
    if (!rc)
        rc = no_repeats(c, a, base, canon, ncanon);
    for (unsigned i = 0; i < ncanon; i++)
        free(canon[i]);
    free(canon);
    return rc;
}

static int col_index(struct sweep_plan *p, const char *key)
{
    for (unsigned i = 0; i < p->ncols; i++)
        if (!strcmp(p->cols[i], key))
            return (int)i;
    p->cols = mv_realloc(p->cols, (p->ncols + 1) * sizeof *p->cols);
    p->cols[p->ncols] = mv_strdup(key);
    return (int)p->ncols++;
}

static void add_run(struct ctx *c, const struct axis *ax, unsigned nax, const char *const *val)
{
    struct sweep_plan *p = c->p;
    p->runs = grow(p->runs, p->nruns, sizeof *p->runs);
    struct sweep_run *r = &p->runs[p->nruns++];
    memset(r, 0, sizeof *r);
    r->vals = mv_calloc(p->ncols, sizeof *r->vals);
    if (c->g->name.text)
        r->vals[0] = mv_strdup(c->g->name.text);
    size_t cap = 256, len = 0;
    char *args = mv_malloc(cap);
    args[0] = 0;
    for (unsigned i = 0; i < nax; i++) {
        if (!val[i])
            continue;
        r->vals[ax[i].col] = mv_strdup(val[i]);
        const char *key = ax[i].kind == K_PARAM ? ax[i].src->key.text : "";
        size_t need = len + strlen(sweep_run_flags[ax[i].kind]) + strlen(key) + strlen(val[i]) + 4;
        if (need > cap) {
            cap = need * 2;
            args = mv_realloc(args, cap);
        }
        len += (size_t)sprintf(args + len, "%s%s %s%s%s", len ? " " : "", sweep_run_flags[ax[i].kind], key,
                               ax[i].kind == K_PARAM ? "=" : "", val[i]);
    }
    r->args = args;
    snprintf(r->id, sizeof r->id, "%016llx", (unsigned long long)sweep_args_hash(args));
}

uint64_t sweep_args_hash(const char *args)
{
    uint64_t h = 0xcbf29ce484222325ull;   /* FNV-1a 64 */
    for (const char *s = args; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
    return h;
}

/* The configuration run val[] (over ax[]) holds, every setting applied in
 * the order `memvirt run` applies them: the profile, then parameters,
 * controls and the seed. 0, or -1 after a quiet mv_error. */
static int run_config(const struct axis *ax, unsigned nax, const char *const *val, struct sim_config *cfg)
{
    int rc = config_init(cfg, val[1]);
    if (rc)
        return rc;
    for (unsigned i = 0; i < nax && !rc; i++)
        if (val[i] && ax[i].kind == K_PROFILE)
            rc = config_profile(cfg, val[i]);
    for (unsigned i = 0; i < nax && !rc; i++) {
        if (!val[i])
            continue;
        if (ax[i].kind == K_PARAM) {
            size_t n = strlen(ax[i].src->key.text) + strlen(val[i]) + 2;
            char *kv = mv_malloc(n);
            snprintf(kv, n, "%s=%s", ax[i].src->key.text, val[i]);
            rc = config_param(cfg, kv);
            free(kv);
        } else if (ax[i].kind == K_AT) {
            rc = config_at(cfg, val[i]);
        } else if (ax[i].kind == K_SEED) {
            rc = config_seed(val[i], &cfg->seed);
        }
    }
    if (rc)
        config_free(cfg);
    return rc;
}

/* "mode=native workload=lmbench ..." of run val[], for messages. */
static void run_desc(const struct axis *ax, unsigned nax, const char *const *val, char *desc, size_t len)
{
    size_t n = 0;
    desc[0] = 0;
    for (unsigned i = 0; i < nax && n < len - 1; i++)
        if (val[i])
            n += (size_t)snprintf(desc + n, len - n, "%s%s=%s", n ? " " : "", ax[i].src->key.text, val[i]);
}

/* Check a whole run as `memvirt run` will (cross-parameter rules, and those
 * of its mode); *same (same not NULL) gets what the run is, as run run. */
static int check_run(const struct ctx *c, const struct axis *ax, unsigned nax, const char *const *val,
                     struct sweep_same *same, unsigned run)
{
    struct sim_config cfg;
    int quiet = mv_error_quiet(1);
    int rc = run_config(ax, nax, val, &cfg);
    if (!rc) {
        /* as the run will (cmd_run.c), before validating: a workload's
         * input file sealed, so that a trace.digest the file does not have
         * is refused here, before anything is made, not by every run (the
         * digest is memoized per file: still one read of the trace) */
        rc = cfg.wl->input_seal ? cfg.wl->input_seal(cfg.wl_cfg, NULL) : 0;
        if (!rc)
            rc = config_validate(&cfg);
        /* and against its mode (axes are ordered mode, workload, ...): a
         * control it does not offer, guest.pt_cache=on, clustering without
         * VM exits */
        const struct mode_def *md = mode_find(val[0]);
        if (!rc && md)
            rc = mode_validate(md, &cfg);
        if (!rc && same)
            *same = sweep_same_of(&cfg, val[0], run);
        config_free(&cfg);
    }
    mv_error_quiet(quiet);
    if (!rc)
        return 0;
    char why[MV_ERROR_MAX];
    snprintf(why, sizeof why, "%s", last_msg());
    char desc[400];
    run_desc(ax, nax, val, desc, sizeof desc);
    if (c->g->name.text)
        return mv_error("%s:%u: group [%s], the run %s: %s", c->s->file, c->g->name.line, c->g->name.text, desc,
                        why);
    /* no group: at the workload value the run was made for */
    const struct sweep_tok *wt = &ax[1].src->key;
    for (unsigned j = 0; j < ax[1].nvals; j++)
        if (!strcmp(ax[1].vals[j], val[1])) {
            wt = ax[1].toks[j];
            break;
        }
    return mv_error("%s:%u:%u: the run %s: %s", wt->where ? wt->where : c->s->file, wt->line, wt->col, desc, why);
}

/* Run r's values over ax[] (what add_run kept of them, by column). */
static void run_vals(const struct ctx *c, const struct axis *ax, unsigned nax, unsigned r, const char **val)
{
    for (unsigned i = 0; i < nax; i++)
        val[i] = c->p->runs[r].vals[ax[i].col];
}

/* Where value v (NULL: '-') of axis a was given. */
static unsigned value_at(const struct axis *a, const char *v)
{
    for (unsigned j = 0; j < a->nvals; j++)
        if (v ? a->vals[j] && !strcmp(a->vals[j], v) : !a->vals[j])
            return j;
    return a->nvals;
}

/* no_same_runs' text of run r (sweep_same_first): what it is. */
struct texts { const struct ctx *c; const struct axis *ax; unsigned nax; };

static char *run_text(void *ctx, unsigned r)
{
    const struct texts *t = ctx;
    const char *val[2 * SWEEP_MAX_AXES + 1];
    run_vals(t->c, t->ax, t->nax, r, val);
    struct sim_config cfg;
    int quiet = mv_error_quiet(1);
    int rc = run_config(t->ax, t->nax, val, &cfg);
    mv_error_quiet(quiet);
    if (rc)
        return NULL;   /* (a profile file removed since it was checked) */
    char *text = sweep_same_text(&cfg, val[0]);
    config_free(&cfg);
    return text;
}

/* No two runs of this group the same run (same[n]): two values of an
 * axis that the per-value check cannot tell apart alone, '-' (the
 * default) and the default's own value ('seed = -, 1'), also where the
 * default depends on another axis (cost.* on the profile). A run
 * repeated in another group has the same arguments, and runs once. */
static int no_same_runs(const struct ctx *c, const struct axis *ax, unsigned nax, struct sweep_same *same, unsigned n)
{
    struct texts tx = { c, ax, nax };
    unsigned earlier, later;
    if (!sweep_same_first(same, n, run_text, &tx, &earlier, &later))
        return 0;
    const char *va[2 * SWEEP_MAX_AXES + 1], *vb[2 * SWEEP_MAX_AXES + 1];
    run_vals(c, ax, nax, earlier, va);
    run_vals(c, ax, nax, later, vb);
    unsigned ndiff = 0, d = 0;
    for (unsigned i = 0; i < nax; i++)
        if (va[i] ? !vb[i] || strcmp(va[i], vb[i]) : !!vb[i]) {
            ndiff++;
            d = i;
        }
    char m[1200];
    if (ndiff == 1) {
        /* one axis: at the later of its two values, as a value given twice */
        const struct axis *a = &ax[d];
        unsigned ja = value_at(a, va[d]), jb = value_at(a, vb[d]);
        MV_ASSERT(ja < a->nvals && jb < a->nvals, "sweep: a run's value is not on its axis");
        unsigned je = ja < jb ? ja : jb, jl = ja < jb ? jb : ja;
        const struct sweep_tok *e = a->toks[je], *t = a->toks[jl];
        const char *ve = a->vals[je], *vl = a->vals[jl];
        char db[400];   /* the run as the value given names it */
        run_desc(ax, nax, vb[d] ? vb : va, db, sizeof db);
        snprintf(m, sizeof m, "%s '%.60s' is given twice (as '%.60s'%s at %u:%u and as '%.60s'%s here; the run "
                 "%s twice): each value once, or its runs are made twice", a->src->key.text, vl ? vl : "-",
                 e->text, ve ? "" : ", the default,", e->line, e->col, t->text, vl ? "" : ", the default,", db);
        return tok_err(c, t, m);
    }
    char da[400], db[400];
    run_desc(ax, nax, va, da, sizeof da);
    run_desc(ax, nax, vb, db, sizeof db);
    snprintf(m, sizeof m, "the run %s is the run %s: each run once, or it is made twice", db, da);
    if (c->g->name.text)
        return mv_error("%s:%u: group [%s], %s", c->s->file, c->g->name.line, c->g->name.text, m);
    const struct sweep_tok *wt = ax[1].toks[value_at(&ax[1], vb[1])];
    return mv_error("%s:%u:%u: %s", wt->where ? wt->where : c->s->file, wt->line, wt->col, m);
}

/* The cartesian product of ax[i..]: a workload's parameter takes its values
 * only in runs of that workload. */
static int product(struct ctx *c, const struct axis *ax, unsigned nax, unsigned i, const char **val)
{
    if (i == nax) {
        struct sweep_same same;
        if (check_run(c, ax, nax, val, c->same_wanted ? &same : NULL, c->p->nruns))
            return -1;
        if (c->p->nruns == SWEEP_MAX_RUNS)
            return mv_error("%s: more than %d runs", c->s->file, SWEEP_MAX_RUNS);
        add_run(c, ax, nax, val);
        if (c->same_wanted) {
            c->same = grow(c->same, c->nsame, sizeof *c->same);
            c->same[c->nsame++] = same;
        }
        return 0;
    }
    if (ax[i].wl && strcmp(ax[i].wl, val[1])) {
        val[i] = NULL;
        return product(c, ax, nax, i + 1, val);
    }
    for (unsigned v = 0; v < ax[i].nvals; v++) {
        val[i] = ax[i].vals[v];
        if (product(c, ax, nax, i + 1, val))
            return -1;
    }
    return 0;
}

/* The axes of group g: the common ones, overridden or extended by g's own,
 * ordered mode, workload, seed, then as they appear. */
static int expand_group(struct ctx *c)
{
    const struct sweep_group *g = c->g;
    const struct sweep_axis *src[2 * SWEEP_MAX_AXES];
    unsigned n = 0;
    for (unsigned i = 0; i < c->s->common.naxes; i++)
        src[n++] = &c->s->common.axes[i];
    for (unsigned i = 0; g != &c->s->common && i < g->naxes; i++) {
        unsigned j = 0;
        while (j < n && strcmp(src[j]->key.text, g->axes[i].key.text))
            j++;
        src[j] = &g->axes[i];
        if (j == n)
            n++;
    }
    struct axis ax[2 * SWEEP_MAX_AXES + 1];
    unsigned nax = 0;
    int rc = 0;
    memset(ax, 0, sizeof ax);
    /* mode, workload, seed first (a seed axis is added when absent: the default) */
    for (int want = K_MODE; want <= K_SEED; want++) {
        for (unsigned i = 0; i < n && !rc; i++) {
            enum key_kind k;
            const char *wl;
            if (key_kind(c, src[i], &k, &wl))
                rc = -1;
            else if ((int)k == want)
                ax[nax++] = (struct axis){ .src = src[i], .kind = k };
        }
        if (rc)
            goto out;
        if ((int)nax == want) {
            if (want == K_SEED) {
                static const struct sweep_axis none = { .key = { .text = (char *)"seed" } };
                ax[nax] = (struct axis){ .src = &none, .kind = K_SEED };
                axis_push(&ax[nax], NULL, &ax[nax].src->key);
                nax++;
                continue;
            }
            const char *what = want == K_MODE ? "mode" : "workload";
            if (g->name.text)
                rc = mv_error("%s:%u: group [%s] has no '%s' line, and the common lines give none", c->s->file,
                              g->name.line, g->name.text, what);
            else
                rc = mv_error("%s: no '%s' line (every spec names its %ss)", c->s->file, what, what);
            goto out;
        }
    }
    for (unsigned i = 0; i < n; i++) {
        enum key_kind k;
        const char *wl;
        key_kind(c, src[i], &k, &wl);
        if (k <= K_SEED)
            continue;
        ax[nax++] = (struct axis){ .src = src[i], .kind = k, .wl = wl };
    }
    for (unsigned i = 0; i < nax && !rc; i++) {
        ax[i].col = col_index(c->p, ax[i].src->key.text);
        rc = expand_values(c, &ax[i], &ax[1]);
    }
    if (rc)
        goto out;
    /* a workload's parameters need that workload in the group (except from --set) */
    for (unsigned i = 3; i < nax; i++) {
        if (!ax[i].wl)
            continue;
        int runs = 0;
        for (unsigned w = 0; w < ax[1].nvals; w++)
            runs |= !strcmp(ax[1].vals[w], ax[i].wl);
        if (runs)
            continue;
        if (ax[i].src->lenient) {
            ax[i].nvals = 0;
            axis_push(&ax[i], NULL, &ax[i].src->key);
            continue;
        }
        char m[200];
        snprintf(m, sizeof m, "'%.60s' is a parameter of workload %s, which %s does not run", ax[i].src->key.text,
                 ax[i].wl, g->name.text ? "this group" : "this sweep");
        rc = tok_err(c, &ax[i].src->key, m);
        goto out;
    }
    const char *val[2 * SWEEP_MAX_AXES + 1];
    /* the number of runs, before making them */
    double total = 0;
    for (unsigned w = 0; w < ax[1].nvals; w++) {
        double runs = 1;
        for (unsigned i = 0; i < nax; i++)
            if (i != 1 && !(ax[i].wl && strcmp(ax[i].wl, ax[1].vals[w])))
                runs *= ax[i].nvals;
        total += runs;
    }
    if (total + c->p->nruns > SWEEP_MAX_RUNS) {
        /* said at the axis with the most values, the one to cut first
         * (every axis has a source: one not given has the key of its
         * default) */
        unsigned big = 0;
        for (unsigned i = 0; i < nax; i++)
            if (ax[i].nvals > ax[big].nvals)
                big = i;
        char m[300];
        snprintf(m, sizeof m, "%.0f runs%s%s%s, more than %d (the most values, %u, are %.60s's here)",
                 total + c->p->nruns, g->name.text ? " with group [" : "", g->name.text ? g->name.text : "",
                 g->name.text ? "]" : "", SWEEP_MAX_RUNS, ax[big].nvals, ax[big].src->key.text);
        rc = tok_err(c, &ax[big].src->key, m);
        goto out;
    }
    /* Two runs of the group can be the same run only where an axis gives
     * '-' and another value: values given are told apart one by one (no
     * later setting overrides one), so the runs' configurations are
     * compared only then */
    c->nsame = 0;
    c->same_wanted = 0;
    for (unsigned i = 0; i < nax; i++)
        if (ax[i].nvals > 1 && value_at(&ax[i], NULL) < ax[i].nvals)
            c->same_wanted = 1;
    rc = product(c, ax, nax, 0, val);
    if (!rc)
        rc = no_same_runs(c, ax, nax, c->same, c->nsame);
out:
    for (unsigned i = 0; i < nax; i++)
        axis_free(&ax[i]);
    return rc;
}

void sweep_plan_free(struct sweep_plan *p)
{
    for (unsigned r = 0; r < p->nruns; r++) {
        for (unsigned i = 0; i < p->ncols; i++)
            free(p->runs[r].vals[i]);
        free(p->runs[r].vals);
        free(p->runs[r].args);
    }
    free(p->runs);
    for (unsigned i = 0; i < p->ncols; i++)
        free(p->cols[i]);
    free(p->cols);
    free(p->spec);
    memset(p, 0, sizeof *p);
}

int sweep_plan_build(const struct sweep_spec *s, struct sweep_plan *p)
{
    memset(p, 0, sizeof *p);
    p->spec = mv_strdup(s->file);
    struct ctx c = { .s = s, .p = p, .g = &s->common };
    if (s->ngroups)
        col_index(p, "group");
    col_index(p, "mode");
    col_index(p, "workload");
    col_index(p, "seed");
    /* every column before any run, so each run's values have a slot for each */
    for (unsigned i = 0; i < s->common.naxes; i++)
        col_index(p, s->common.axes[i].key.text);
    for (unsigned g = 0; g < s->ngroups; g++)
        for (unsigned i = 0; i < s->groups[g].naxes; i++)
            col_index(p, s->groups[g].axes[i].key.text);
    int rc = 0;
    if (!s->ngroups)
        rc = expand_group(&c);
    for (unsigned g = 0; g < s->ngroups && !rc; g++) {
        c.g = &s->groups[g];
        rc = expand_group(&c);
    }
    free(c.same);
    if (rc)
        sweep_plan_free(p);
    return rc;
}

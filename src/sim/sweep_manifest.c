/* sweep_manifest.c: the list of a sweep's runs, DIR/sweep.tsv (see
 * sweep_plan.h, docs/sweeps.md). One tab-separated line per run: index, id,
 * the swept values (empty where not set), and the arguments of `memvirt run`.
 * Each GNU parallel job and Slurm array task reads its own line by index;
 * `memvirt sweep merge` reads the swept values from it. */
#include "lib/text.h"
#include "lib/err.h"
#include "sim/config.h"
#include "sim/machine.h"
#include "sim/sweep_plan.h"
#include <errno.h>
#include "lib/outfile.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <string.h>
#include <unistd.h>

#define MANIFEST_MAGIC "# memvirt sweep manifest"

int sweep_manifest_write(const struct sweep_plan *p, const char *path)
{
    size_t n = strlen(path) + 8;
    char *tmp = mv_malloc(n);
    snprintf(tmp, n, "%s.XXXXXX", path);   /* unique: an existing X.tmp is not ours to destroy */
    int fd = mkstemp(tmp);
    FILE *f = fd < 0 || fchmod(fd, 0644) ? NULL : fdopen(fd, "w");
    if (!f) {
        int e = errno;
        if (fd >= 0) {
            close(fd);
            unlink(tmp);
        }
        free(tmp);
        return mv_error("cannot write '%s': %s", path, strerror(e));
    }
    errno = 0;   /* what a failed write leaves is its reason */
    fprintf(f, "%s of ", MANIFEST_MAGIC);
    text_put_line_safe(f, p->spec);   /* a comment: the spec's name need not be kept exactly */
    fprintf(f, ": %u runs; index, id, swept values, arguments of 'memvirt run'\nindex\tid", p->nruns);
    for (unsigned i = 0; i < p->ncols; i++)
        fprintf(f, "\t%s", p->cols[i]);
    fputs("\targs\n", f);
    for (unsigned r = 0; r < p->nruns; r++) {
        fprintf(f, "%u\t%s", r, p->runs[r].id);
        for (unsigned i = 0; i < p->ncols; i++)
            fprintf(f, "\t%s", p->runs[r].vals[i] ? p->runs[r].vals[i] : "");
        fprintf(f, "\t%s\n", p->runs[r].args);
    }
    /* the reason a write failed is in errno as the failed write left it */
    int e = ferror(f) ? (errno ? errno : EIO) : 0;
    if (fclose(f) && !e)
        e = errno ? errno : EIO;
    if (!e && rename(tmp, path))
        e = errno;
    if (e) {
        unlink(tmp);
        free(tmp);
        return mv_error("cannot write '%s': %s", path, strerror(e));
    }
    free(tmp);
    return 0;
}

int sweep_args_check(const char *args, char *why, size_t n)
{
    unsigned seen[SWEEP_NFLAGS] = { 0 };
    char *copy = mv_strdup(args), *save = NULL, *w, *v;
    why[0] = 0;
    for (w = strtok_r(copy, " ", &save); w && !why[0]; w = strtok_r(NULL, " ", &save)) {
        unsigned f = 0;
        while (f < SWEEP_NFLAGS && strcmp(w, sweep_run_flags[f]))
            f++;
        uint64_t seed;
        int quiet = mv_error_quiet(1);
        if (f == SWEEP_NFLAGS)
            snprintf(why, n, "'%.60s' is not an argument of a sweep's run (--mode, --workload, --seed, "
                     "--profile, --at or --param, each with a value)", w);
        else if (!(v = strtok_r(NULL, " ", &save)))
            snprintf(why, n, "'%s' without a value", w);
        else if (f <= SWEEP_PROFILE && seen[f]++)
            snprintf(why, n, "%s given twice", w);
        else if (f == SWEEP_MODE && !mode_find(v))
            snprintf(why, n, "unknown mode '%.60s' (see 'memvirt list')", v);
        else if (f == SWEEP_WORKLOAD && !workload_find(v))
            snprintf(why, n, "unknown workload '%.60s' (see 'memvirt list')", v);
        else if (f == SWEEP_SEED && config_seed(v, &seed))
            snprintf(why, n, "%s", mv_last_error());
        mv_error_quiet(quiet);
    }
    if (!why[0] && (!seen[SWEEP_MODE] || !seen[SWEEP_WORKLOAD]))
        snprintf(why, n, "no %s (a sweep's run names its mode and workload)", seen[SWEEP_MODE] ? "--workload" : "--mode");
    free(copy);
    return why[0] ? -1 : 0;
}

static int count_fields(const char *s)
{
    int n = 1;
    for (; *s; s++)
        n += *s == '\t';
    return n;
}

/* The run ids seen so far, each with a hash of its line's arguments and
 * the line: an open-addressed table (line 0: an empty slot), at most half
 * full. One id on two lines is a run two groups make (the same arguments,
 * one result); with other arguments, the lines would share one result
 * file (an id edited by hand). */
struct idset {
    uint64_t *id, *args;
    unsigned long *line;
    size_t cap, n;
};

/* Add id with arguments hashed to args (line lineno): 0, or the line that
 * had the id already with other arguments. */
static unsigned long idset_add(struct idset *s, uint64_t id, uint64_t args, unsigned long lineno)
{
    if (2 * (s->n + 1) > s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 1024;
        struct idset g = { mv_calloc(cap, sizeof *g.id), mv_calloc(cap, sizeof *g.args),
                           mv_calloc(cap, sizeof *g.line), cap, 0 };
        for (size_t i = 0; i < s->cap; i++)
            if (s->line[i])
                idset_add(&g, s->id[i], s->args[i], s->line[i]);
        free(s->id);
        free(s->args);
        free(s->line);
        *s = g;
    }
    for (size_t i = (size_t)(id * 0x9e3779b97f4a7c15ull) & (s->cap - 1);; i = (i + 1) & (s->cap - 1)) {
        if (!s->line[i]) {
            s->id[i] = id;
            s->args[i] = args;
            s->line[i] = lineno;
            s->n++;
            return 0;
        }
        if (s->id[i] == id)
            return s->args[i] == args ? 0 : s->line[i];
    }
}

int sweep_manifest_each(const char *path, sweep_manifest_fn *fn, void *ctx, unsigned long *nruns)
{
    struct idset seen = { 0 };
    /* opened without blocking, and read only as a regular file: a FIFO
     * in its place (no writer) would hang the command */
    struct stat st;
    int fd = infile_open_nonblock(path, &st);
    if (fd < 0)
        return mv_error("cannot read '%s': %s (run 'memvirt sweep SPEC' first)", path, strerror(errno));
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return mv_error("cannot read '%s': %s, not a sweep manifest (a sweep writes it as a file)", path,
                        S_ISDIR(st.st_mode) ? "a directory" : "not a regular file");
    }
    FILE *f = fdopen(fd, "r");
    if (!f) {
        close(fd);
        return mv_error("cannot read '%s': %s", path, strerror(errno));
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    unsigned long lineno = 0, runs = 0;
    int fields = 0, rc = 0;
    while ((len = getline(&line, &cap, f)) >= 0) {
        lineno++;
        if (len && line[len - 1] == '\n')
            line[--len] = 0;
        if (len && line[len - 1] == '\r')   /* saved with CRLF line ends (an editor): the same line */
            line[--len] = 0;
        if ((size_t)len != strlen(line)) {
            rc = mv_error("%s:%lu: NUL byte: not a sweep manifest", path, lineno);
            break;
        }
        /* a line ends at '\n' alone (merge.py reads it so too); a CR left
         * inside one is no part of any field a sweep writes */
        char *cr = lineno > 1 ? strchr(line, '\r') : NULL;
        if (cr) {
            *cr = 0;
            rc = mv_error("%s:%lu: a carriage return (CR) inside field %d: a manifest's fields hold none (a line "
                          "ends at a newline)", path, lineno, count_fields(line));
            break;
        }
        if (lineno == 1) {
            if (strncmp(line, MANIFEST_MAGIC, strlen(MANIFEST_MAGIC))) {
                rc = mv_error("%s:1: not a sweep manifest (it starts '%s')", path, MANIFEST_MAGIC);
                break;
            }
            continue;
        }
        if (lineno == 2) {
            fields = count_fields(line);
            if (strncmp(line, "index\tid\t", 9) || fields < 4) {
                rc = mv_error("%s:2: expected the header 'index, id, ..., args'", path);
                break;
            }
            continue;
        }
        if (count_fields(line) != fields) {
            rc = mv_error("%s:%lu: %d fields, the header has %d", path, lineno, count_fields(line), fields);
            break;
        }
        char *tab = strchr(line, '\t');
        *tab = 0;
        /* the index exactly as the writer writes it: strtoul would take
         * "00", "+0" or " 0" too, which merge (src/py/merge.py) refuses */
        char want[24];
        snprintf(want, sizeof want, "%lu", runs);
        if (strcmp(line, want)) {
            rc = mv_error("%s:%lu: index '%s', expected %lu", path, lineno, line, runs);
            break;
        }
        char *idf = tab + 1, *idend = strchr(idf, '\t');
        if (idend - idf != 16 || strspn(idf, "0123456789abcdef") != 16) {
            rc = mv_error("%s:%lu: malformed run id", path, lineno);
            break;
        }
        char id[17];
        memcpy(id, idf, 16);
        id[16] = 0;
        const char *args = strrchr(idend, '\t') + 1;
        unsigned long first = idset_add(&seen, strtoull(id, NULL, 16), sweep_args_hash(args), lineno);
        if (first) {
            rc = mv_error("%s:%lu: run id %s is line %lu's, whose arguments differ: the two would share one "
                          "result file (run 'memvirt sweep SPEC' to write the manifest again)", path, lineno, id,
                          first);
            break;
        }
        if (fn(ctx, lineno, runs, id, strrchr(idend, '\t') + 1)) {
            rc = -1;
            break;
        }
        runs++;
    }
    if (!rc && lineno < 2)
        rc = mv_error("%s: not a sweep manifest (%s)", path, lineno ? "no header" : "empty");
    free(line);
    free(seen.id);
    free(seen.args);
    free(seen.line);
    fclose(f);
    *nruns = runs;
    return rc;
}

/* sweep_manifest_read's visit of each line: the one asked for, its
 * arguments checked. */
struct read_one {
    const char *path;
    unsigned long index;
    char *id;
    char *args;
};

static int read_one(void *ctx, unsigned long lineno, unsigned long ix, const char *id, const char *args)
{
    struct read_one *r = ctx;
    if (ix != r->index)
        return 0;
    if (!*args)
        return mv_error("%s:%lu: no arguments", r->path, lineno);
    char why[200];
    if (sweep_args_check(args, why, sizeof why))
        return mv_error("%s:%lu: run %lu: %s", r->path, lineno, ix, why);
    memcpy(r->id, id, 17);
    r->args = mv_strdup(args);
    return 0;
}

int sweep_manifest_read(const char *path, unsigned long index, char id[17], char **args, unsigned long *nruns)
{
    struct read_one r = { path, index, id, NULL };
    int rc = sweep_manifest_each(path, read_one, &r, nruns);
    if (!rc && !r.args)
        rc = mv_error("%s: no run %lu (it lists %lu)", path, index, *nruns);
    if (rc) {
        free(r.args);
        r.args = NULL;
    }
    *args = r.args;
    return rc;
}

/* sweep_spec.h: the text of a parameter sweep (`memvirt sweep SPEC`), parsed
 * but not yet checked against the registries.
 *
 * The format (docs/sweeps.md): lines `KEY = VALUE, VALUE, ...`, `#`
 * comments, and optional `[group]` headers. Lines before the first header are
 * common to every group. Each key is an axis: mode, workload, seed, profile,
 * at, or a parameter `prefix.name` as `--param` takes it. Every token keeps its
 * line and column so that a bad one is reported where it stands. */
#ifndef MV_SIM_SWEEP_SPEC_H
#define MV_SIM_SWEEP_SPEC_H
#include <stddef.h>

struct sweep_tok {
    char *text;
    unsigned line, col;          /* 1-based; col counts bytes */
    const char *where;           /* what line and col are in: NULL the spec file, else a --set (its axis's) */
};

struct sweep_axis {
    struct sweep_tok key;
    struct sweep_tok *vals;
    unsigned nvals;
    int lenient;                 /* from --set: a workload's parameter may name a workload not run */
    char *where;                 /* from --set: which one ("--set #2"), for messages; else NULL */
};

struct sweep_group {
    struct sweep_tok name;       /* text NULL for the common lines */
    struct sweep_axis *axes;
    unsigned naxes;
};

struct sweep_spec {
    char *file;                  /* the name used in messages */
    struct sweep_group common;
    struct sweep_group *groups;
    unsigned ngroups;
};

#define SWEEP_MAX_VALUES 10000   /* per axis, after range expansion */
#define SWEEP_MAX_AXES 64        /* per group */
#define SWEEP_MAX_GROUPS 1000
#define SWEEP_MAX_RUNS 100000

/* Parse len bytes of text; file names it in messages. 0, or -1 after one
 * mv_error "FILE:LINE:COL: ...". On error s is left empty. */
int  sweep_spec_parse(struct sweep_spec *s, const char *file, const char *text, size_t len);
/* Add one `KEY=VALUE, ...` (from --set) to the common lines, replacing that key
 * in the common lines and every group. where names it in messages. A key an
 * earlier --set gave is an error unless the values are the same (then
 * nothing changes). */
int  sweep_spec_set(struct sweep_spec *s, const char *where, const char *kv);
void sweep_spec_free(struct sweep_spec *s);

#endif

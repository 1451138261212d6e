/* param.h: named, documented, typed parameters (the --param k=v registry).
 *
 * Every tunable in memvirt (cost profile entries, TLB geometry, guest kernel
 * knobs, workload knobs) is a field of some config struct described by a table
 * of param_def. A param_group binds a table to a prefix ("cost", "tlb",
 * "forkstorm", ...), so `--param tlb.l2_entries=2048` finds its field, parses
 * and range-checks the value, and stores it. `memvirt list` prints the tables. */
#ifndef MV_LIB_PARAM_H
#define MV_LIB_PARAM_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define PARAM_STR_MAX 32

enum param_type {
    P_U64,    /* uint64_t; decimal digits, optional K/M/G/T binary suffix (either case) */
    P_DBL,    /* double; decimal as JSON writes it (-1.5, 2e-3) */
    P_BOOL,   /* int; 0/1/true/false/on/off/yes/no */
    P_CHOICE, /* char[PARAM_STR_MAX]; one of the '|'-separated choices */
    P_STR,    /* char[max]: free text such as a file name (max = the buffer's size) */
};

struct param_def {
    const char *name;
    enum param_type type;
    size_t off;            /* offset of the field in the config struct */
    const char *def;       /* default, as text */
    double min, max;       /* inclusive range for P_U64 / P_DBL */
    const char *choices;   /* P_CHOICE: "a|b|c" */
    const char *doc;       /* one line; say where a figure comes from */
};

struct param_group {
    const char *prefix;
    const struct param_def *defs;
    size_t n;
    const char *doc;
};

#define PARAM_U64(st, f, d, lo, hi, doc) { #f, P_U64, offsetof(st, f), d, lo, hi, NULL, doc }
#define PARAM_DBL(st, f, d, lo, hi, doc) { #f, P_DBL, offsetof(st, f), d, lo, hi, NULL, doc }
#define PARAM_BOOL(st, f, d, doc) { #f, P_BOOL, offsetof(st, f), d, 0, 1, NULL, doc }
#define PARAM_CHOICE(st, f, d, ch, doc) { #f, P_CHOICE, offsetof(st, f), d, 0, 0, ch, doc }
/* The longest formatted value (param_format): a P_STR of up to 4095 bytes. */
#define PARAM_VALUE_MAX 4096
#define PARAM_STR(st, f, d, doc) { #f, P_STR, offsetof(st, f), d, 0, sizeof(((st *)0)->f), NULL, doc }

/* Store every default into cfg. Aborts if a default itself does not parse. */
void param_defaults(const struct param_group *g, void *cfg);

/* Find `name` (without prefix) in g and set it from `value`. `where` names the
 * input for error messages (e.g. "--param"). Returns 0, or -1 after mv_error. */
int param_set(const struct param_group *g, void *cfg, const char *name,
              const char *value, const char *where);

const struct param_def *param_find(const struct param_group *g, const char *name);

/* Parse helpers, shared with the CLI. Return 0, -1 if the text is not a
 * number of the form, or PARAM_TOO_BIG if it is one too large for the type
 * (u64: past 2^64 - 1, digits or suffix; dbl: past the largest double), or
 * PARAM_TOO_SMALL (dbl) for one below the smallest denormal (5e-324). No
 * message; *out is untouched unless 0 is returned. */
#define PARAM_TOO_BIG (-2)
/* dbl: a number that is not zero as written but so close to it that it
 * rounds to 0 (1e-400): taking it as 0 would change what was asked for */
#define PARAM_TOO_SMALL (-3)
int param_parse_u64(const char *s, uint64_t *out);
int param_parse_dbl(const char *s, double *out);
int param_parse_bool(const char *s, int *out);
/* What param_parse_bool takes besides the canonical pair (true/false for a
 * parameter, on/off for a control), for messages: any case. */
#define PARAM_BOOL_ALSO "on/off, true/false, yes/no, 1/0, in any case"

/* The value of d in cfg as text that param_set reads back to the same value
 * (shortest exact form for doubles). */
void param_format(const struct param_def *d, const void *cfg, char *buf, size_t len);
void param_format_dbl(double v, char *buf, size_t len);

/* The valid values of d: "[min, max]", "true|false" or the choices. */
void param_range(const struct param_def *d, char *buf, size_t len);

/* Whether d's value in cfg is its default (the table's, as param_defaults
 * sets it): a message about a value the user may never have given says so. */
int param_is_default(const struct param_def *d, const void *cfg);

/* "prefix.name=value" of parameter `name` of g in cfg, as param_format
 * writes the value, with " (the default)" after it where param_is_default:
 * for a message naming a parameter beside the one at fault, which may be
 * one the user never gave. Returns buf. */
#define PARAM_SHOW_MAX 192   /* room for any numeric or choice parameter's */
const char *param_show(const struct param_group *g, const void *cfg, const char *name, char *buf, size_t len);

/* A set-associative structure (TLB, cache) of n entries in sets of `ways`
 * ways, as group g's parameters in cfg give it: entries_name (n itself, or
 * a size n is derived from, as cache.ptw_kb gives lines; `unit` names what
 * n counts) and ways_name, both P_U64. n must be a multiple of ways and n /
 * ways a power of two; n = 0 is an absent structure. 0 if so, else -1
 * after one message naming both parameters, their values and the rule
 * broken. It leads with the one the user gave (of two, the ways; a value
 * left at its default is marked so, as param_show does), e.g.
 * "--param tlb.l1_4k_ways=3 does not divide tlb.l1_4k_entries=64 (the
 * default): ..." or "--param tlb.l1_4k_entries=6 is not a multiple of
 * tlb.l1_4k_ways=4 (the default): ...". */
int param_check_sets(const struct param_group *g, const void *cfg, const char *entries_name, uint64_t n,
                     const char *unit, const char *ways_name);

/* Print "prefix.name  default  valid-values  doc" lines for `memvirt list`. */
void param_print_group(FILE *f, const struct param_group *g);

#endif

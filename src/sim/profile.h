/* profile.h: cost profile files: the text format that `memvirt calibrate`
 * writes and `--profile FILE` reads (docs/cost-model.md, "Profile files").
 *
 * A profile file is line-oriented text:
 *
 *   # comment
 *   memvirt-cost-profile 1                    (first line that is not a comment)
 *   host.cpu = "AMD EPYC (family 25, model 17)"
 *   cost.syscall = 1520 status=measured ns=468.1 spread=455.0..490.2 reps=21 method="..."
 *   measured.vm_exit_user = 52000 unit=cycles method="..."
 *
 * cost.NAME sets one entry of the cost table (the same names as
 * --param cost.NAME); entries the file does not name keep their defaults.
 * host.NAME records where the profile was measured; measured.NAME records a
 * raw figure that is not a cost entry. Attributes document a value; they
 * never change what is loaded, with one exception: a cost.NAME line marked
 * status=default is not a measurement and is not applied (the compiled
 * default is; a warning says so when the line's value differs from it).
 * calibrate writes such entries as '#' comments. Anything malformed is one error naming the
 * file, line and column. */
#ifndef MV_SIM_PROFILE_H
#define MV_SIM_PROFILE_H
#include "hw/cost.h"
#include <stddef.h>
#include <stdio.h>

#define PROFILE_MAGIC "memvirt-cost-profile"
#define PROFILE_VERSION 1
#define PROFILE_KEY_MAX 64
#define PROFILE_VALUE_MAX 512
#define PROFILE_LINE_MAX 16384   /* room for the longest line profile_write can write */
#define PROFILE_MAX_ATTRS 8
/* Entries (non-comment lines after the header) a profile may hold. calibrate
 * writes about a hundred; the bound keeps a hostile file's parse linear in
 * practice (the duplicate-key check is a scan) and its memory near 5 MB. */
#define PROFILE_MAX_ENTRIES 1024

struct profile_attr {
    char name[16];
    char value[PROFILE_VALUE_MAX];   /* unquoted text */
};

struct profile_line {
    char key[PROFILE_KEY_MAX];       /* cost.NAME, host.NAME or measured.NAME */
    char value[PROFILE_VALUE_MAX];   /* unquoted text */
    struct profile_attr attr[PROFILE_MAX_ATTRS];
    unsigned nattr;
};

/* A whole profile: its lines in file order, and the cost table they give
 * (the defaults with every cost.* line applied). */
struct profile {
    struct cost cost;
    struct profile_line *line;
    unsigned n, cap;
};

/* Parse `len` bytes of profile text; `name` (a file name) prefixes every error
 * message as NAME:LINE:COL. 0, or -1 after one mv_error. On error *p is left
 * empty (profile_free still safe). */
int  profile_parse(struct profile *p, const char *name, const char *text, size_t len);
/* Read and parse a file. -1 after one mv_error if it cannot be read or parsed. */
int  profile_load(struct profile *p, const char *path);
void profile_free(struct profile *p);

/* Building a profile to write. `value` and attribute values are plain text;
 * the writer quotes what needs quoting. */
struct profile_line *profile_add(struct profile *p, const char *key, const char *value);
void profile_attr(struct profile_line *l, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
const struct profile_line *profile_find(const struct profile *p, const char *key);
const char *profile_line_attr(const struct profile_line *l, const char *name);

/* Write the profile: `comment` (may be NULL; each of its lines becomes a
 * '#' line, control bytes written as spaces), the header, then every line. */
void profile_write(FILE *f, const struct profile *p, const char *comment);
/* The same into `path`, atomically (a temporary file renamed into place):
 * nothing is left at `path` on failure. -1 after mv_error. */
int  profile_save(const char *path, const struct profile *p, const char *comment);

#endif

/* outfile.h: the output files of one command (--json, --csv), checked before
 * the run and committed together after it, whatever kind of path each is.
 *
 *   "-"                    standard output
 *   an existing device,    written through (opened for writing, not replaced):
 *   FIFO                   /dev/null stays a device, a FIFO's reader gets the data
 *   a symbolic link        followed: what it points to is written (a chain of
 *                          links too, and a dangling link creates its target)
 *   a regular file, or     replaced atomically: written to a uniquely named
 *   a new name             temporary file (mkstemp) in the same directory and
 *                          renamed over it, keeping an existing file's mode
 *
 * outset_add checks a path at once (its directory exists and is writable, a
 * file is writable, it is not a directory or socket) and rejects a path that is
 * the same file as another output (the same name, or the same device and
 * inode through other names, links or standard output). The caller writes each
 * output's content into outset_stream(); outset_commit then writes every
 * temporary file, then the streams, then renames: if anything fails before the
 * renames, no output is changed and no temporary file is left. */
#ifndef MV_LIB_OUTFILE_H
#define MV_LIB_OUTFILE_H
#include <stdio.h>
#include <sys/types.h>

#define OUTSET_MAX 8

enum outfile_kind { OUTFILE_STDOUT, OUTFILE_STREAM, OUTFILE_REPLACE };

struct outfile {
    const char *opt;          /* the option that named it ("--json"), for messages */
    const char *path;         /* as given */
    enum outfile_kind kind;
    char *target;             /* STREAM / REPLACE: the file, links resolved */
    char *ident;              /* REPLACE of a new file: canonical directory + name */
    int exists;
    dev_t dev;
    ino_t ino;
    mode_t mode;              /* REPLACE: mode of the new file */
    FILE *mem;                /* content, written by the caller */
    char *buf;
    size_t len;
    char *tmp;                /* REPLACE: the temporary file during commit */
};

struct outset {
    struct outfile f[OUTSET_MAX];
    unsigned n;
};

/* Check `path` (named by option `opt`) and add it. -1 after mv_error. */
int  outset_add(struct outset *s, const char *opt, const char *path);
/* The stream to write output i's content into. */
FILE *outset_stream(struct outset *s, unsigned i);
/* 1 if an output goes to standard output (the caller keeps stdout for it). */
int  outset_uses_stdout(const struct outset *s);
/* Write every output, all or none. -1 after mv_error. */
int  outset_commit(struct outset *s);
/* Free everything; an uncommitted output is discarded. */
void outset_free(struct outset *s);

#endif

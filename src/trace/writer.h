/* writer.h: writes a memvirt trace (format.h) through zstd, into an output
 * of lib/outfile (a temporary file beside the target that only
 * trace_writer_commit renames into place), so a failed or interrupted
 * recording leaves nothing half-written. */
#ifndef MV_TRACE_WRITER_H
#define MV_TRACE_WRITER_H
#include "trace/format.h"
#include <stddef.h>

struct trace_writer;

struct outset;
/* Open for writing to path ("-" is refused: the format is binary), an output
 * set of its own. The header is given as key/value pairs. NULL after mv_error. */
struct trace_writer *trace_writer_open(const char *path, const char *const *keys,
                                       const char *const *values, unsigned n);
/* The same, into output i of the caller's set (its inputs checked there):
 * trace_writer_commit commits the set; the caller frees it. */
struct trace_writer *trace_writer_open_set(struct outset *set, unsigned i, const char *const *keys,
                                           const char *const *values, unsigned n);
/* The same, into memory (tests and fuzz seeds): trace_writer_commit then
 * hands the bytes over with trace_writer_take. */
struct trace_writer *trace_writer_mem(const char *const *keys, const char *const *values, unsigned n);

/* Append one record. Consecutive TR_REFS of one pid are merged. Times must not
 * decrease (a smaller t is taken as equal to the last). -1 after mv_error. */
int trace_write(struct trace_writer *w, const struct trace_rec *r);
/* One reference (addr | TRR_* kind) of pid at time t. */
int trace_write_ref(struct trace_writer *w, uint64_t t, uint32_t pid, uint64_t ref);

/* Records written so far (header and end excluded). */
uint64_t trace_writer_count(const struct trace_writer *w);
/* 1 once a write of the output failed (a full disk, a file-size limit):
 * the host's failure, not the input's. */
int trace_writer_failed(const struct trace_writer *w);
/* Path of the temporary file (signal handlers unlink it); NULL in memory. */
const char *trace_writer_tmp_path(const struct trace_writer *w);

/* Finish the frame and commit the output (outset_commit). Frees w. -1 after
 * mv_error (no output changed). */
int  trace_writer_commit(struct trace_writer *w);
/* Drop everything written; frees w. */
void trace_writer_abort(struct trace_writer *w);
/* In-memory writer after commit: the bytes (caller frees). */
int  trace_writer_commit_mem(struct trace_writer *w, unsigned char **buf, size_t *len);

#endif

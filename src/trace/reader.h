/* reader.h: reads a memvirt trace (format.h) as a stream: one record at a
 * time through a fixed window, so a trace larger than memory is read in
 * constant memory. Every field is range-checked; a truncated, corrupted
 * (zstd checksum), wrong-version or empty file gives one mv_error naming the
 * file and the position. */
#ifndef MV_TRACE_READER_H
#define MV_TRACE_READER_H
#include "trace/format.h"
#include <stddef.h>

struct trace_reader;

/* Open a file and read its header. NULL after mv_error, also for a header
 * whose mmap_min_addr is not a byte address of at most
 * TRACE_MMAP_MIN_ADDR_MAX (every command refuses such a trace alike). */
struct trace_reader *trace_open(const char *path);
/* A command that reads a trace more than once (run: digest, validate,
 * replay; trace info: the table, then the replay) takes a regular file
 * only: a device or FIFO would be read forever (/dev/zero), be empty the
 * second time (a pipe), or block the open with no writer. -1 after
 * mv_error ("trace 'P': not a regular file (...)"); 0 also when path does
 * not exist (trace_open says so). */
int trace_check_regular(const char *path);
/* The same over bytes in memory (not copied; fuzzing and tests). */
struct trace_reader *trace_open_mem(const void *data, size_t len, const char *name);
void trace_close(struct trace_reader *r);

/* Next record into *rec (pointers valid until the next call): 1, or 0 after
 * the end record (the checksum verified), or -1 after mv_error. */
int trace_next(struct trace_reader *r, struct trace_rec *rec);
/* The record trace_next just returned is within TRACE_SPAN_MAX of the
 * trace's start: 0, or -1 after mv_error naming it. Separate from
 * trace_next so tests can take a longer trace to the engine; every command
 * checks it, with the rest of check.h (trace_check_record). */
int trace_check_span(const struct trace_reader *r, const struct trace_rec *rec);

/* The last record trace_next returned: its number (the header is record 0,
 * as in the reader's errors) and its byte offset in the decompressed
 * stream; and the file's name. For errors found while replaying it. */
uint64_t    trace_record_number(const struct trace_reader *r);
uint64_t    trace_record_offset(const struct trace_reader *r);
const char *trace_name(const struct trace_reader *r);

/* Header entries. */
unsigned    trace_header_count(const struct trace_reader *r);
const char *trace_header_key(const struct trace_reader *r, unsigned i);
const char *trace_header_value(const struct trace_reader *r, unsigned i);
const char *trace_header_get(const struct trace_reader *r, const char *key);  /* NULL if absent */

/* Fraction of the compressed input consumed (0..1). */
double trace_progress(const struct trace_reader *r);

/* Read a whole file through, checking everything (check.h too). 0 or -1
 * after mv_error. */
int trace_verify(const char *path);

#endif

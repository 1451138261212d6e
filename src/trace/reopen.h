/* reopen.h: many input logs read at once through a bounded number of open
 * file descriptors (for the strace importer, whose strace -ff LOG.PID logs,
 * one per process, are merged by time: a make of 5,000 processes must not
 * need 5,000 descriptors, nor `ulimit -n` above that).
 *
 * Each log named here is read through a stdio stream of its own that holds
 * no descriptor (fopencookie): its buffer keeps the bytes read ahead, and
 * when it runs dry the log's descriptor is taken from a small cache, the
 * log reopened by name if it was closed to make room, and read at the
 * offset it stopped at (pread). So a log smaller than the stream's buffer
 * is opened once, and a large one once per buffer at most, however the
 * merge interleaves the logs. A log closed and reopened must be the file it
 * was (same device, inode, size and modification time): a log changed,
 * replaced or removed between its openings is one error naming it, a
 * failure outside the input (import_host_failure(0) then says so: exit 1). */
#ifndef MV_TRACE_REOPEN_H
#define MV_TRACE_REOPEN_H
#include <stdio.h>

struct reopen_set;

/* The logs names[0..n), none opened yet; at most max of them open at once
 * (max >= 1), each read through a buffer of buf bytes (0: REOPEN_BUF; tests
 * and fuzzing make it small, to reopen often). names must outlive the set. */
#define REOPEN_BUF 4096
struct reopen_set *reopen_set_new(const char *const *names, unsigned n, unsigned max, unsigned buf);
/* Log i's stream: read it as any FILE (getc ...). Its first read opens the
 * log: a log no longer there (or not a regular file) then changed while it
 * was imported, as at a reopening (every log was opened once before:
 * import.h); the host's failure is said as import_fopen says it. A
 * failure to open or read says one mv_error and then reads as the log's
 * end: after a read, reopen_failed says whether that end was one. */
FILE *reopen_stream(struct reopen_set *s, unsigned i);
int   reopen_failed(const struct reopen_set *s);
/* Log i is read to its end (or no longer wanted): its descriptor and
 * stream are released. */
void  reopen_done(struct reopen_set *s, unsigned i);
/* Everything released. */
void  reopen_set_free(struct reopen_set *s);

/* For tests: descriptors open now, the most open at once so far, and how
 * many times a log was opened (first openings included). */
unsigned reopen_open_now(const struct reopen_set *s);
unsigned reopen_open_peak(const struct reopen_set *s);
unsigned long long reopen_opens(const struct reopen_set *s);

/* The most logs to keep open at once on this host: the limit on open files
 * (RLIMIT_NOFILE's soft limit) less REOPEN_MARGIN descriptors left for the
 * rest of the process (standard streams, the output and its temporary
 * file, pipes of logs that cannot be reopened are counted by the caller);
 * at least 1. */
#define REOPEN_MARGIN 16
unsigned reopen_max_open(void);

#endif

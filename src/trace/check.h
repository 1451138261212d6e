/* check.h: what every command checks of a trace's records beyond their
 * fields (the reader's range checks, reader.h), before any replay: run's
 * validation (workload/trace.c), trace info and trace_verify. A trace
 * refused here is bad input (exit 2), refused alike by each of them.
 *
 *  - a record's time is within TRACE_SPAN_MAX of the trace's start
 *    (trace_check_span);
 *  - a ptinfo (the page-table figures the recording kernel reported for a
 *    process image) names an image the trace made: a spawn, or a fork of
 *    a process, makes its image 0, its k-th exec image k; a thread makes
 *    none until it execs; a pid reused after an exit keeps the images its
 *    earlier holders made (ptinfo may follow the exit it describes). */
#ifndef MV_TRACE_CHECK_H
#define MV_TRACE_CHECK_H
#include "trace/reader.h"
#include <stdint.h>

/* The images made so far, per pid: an open-addressing table of pids
 * (slot i in use when bit i of used[] is set), at most three quarters
 * full, never shrinking: memory follows the trace's distinct pids, 16 to
 * 33 bytes each, and half as much again while the table doubles (Linux
 * reuses pids under pid_max, 4M by default: a trace of 4M spawns and
 * exits, every pid distinct, peaked at 158 MB in `memvirt run`, 9 MB
 * before this check). For a pid: `cur`, the execs of its present
 * holder; `max2`, the most execs any holder made (times 2), plus 1 if a
 * holder was a process (not a thread) and so made image 0. The images
 * made are then image 0 if that bit is set, and 1..max: each holder made
 * 0 or 1 up to its own count. Counts stop at 2^31 - 1, past which every
 * image is taken (a pid exec'd that often is a trace of over 2^31
 * records). */
struct trace_check {
    struct trace_check_pid { uint32_t pid, cur, max2; } *slot;
    uint64_t *used;
    uint64_t n, cap;
};

/* Note rec and check it: 0, or -1 after mv_error naming the file, the
 * record and its offset. A zeroed struct starts a trace. */
int  trace_check_record(struct trace_check *ck, const struct trace_reader *r, const struct trace_rec *rec);
void trace_check_free(struct trace_check *ck);

#endif

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

/* The images made so far, per pid (open addressing on pid + 1, so pid 0
 * fits; never shrinks: memory follows the trace's distinct pids). For a
 * pid: `cur`, the execs of its present holder; `max`, the most execs any
 * holder made; `has0`, whether a holder was a process (not a thread) and
 * so made image 0. The images made are then image 0 if has0, and 1..max:
 * each holder made 0 or 1 up to its own count. */
struct trace_check {
    struct trace_check_pid { uint64_t key; uint32_t cur, max; uint8_t has0; } *pid;
    uint32_t n, cap;
};

/* Note rec and check it: 0, or -1 after mv_error naming the file, the
 * record and its offset. A zeroed struct starts a trace. */
int  trace_check_record(struct trace_check *ck, const struct trace_reader *r, const struct trace_rec *rec);
void trace_check_free(struct trace_check *ck);

#endif

/* import_strace.h: the two halves of the strace importer (import.h).
 * import_strace_logs.c reads the logs (one `strace -f -o` log, or strace
 * -ff's LOG.PID files merged by time), checks each line's pid and -ttt
 * time, and hands every line to the task half, import_strace.c, which
 * follows the tasks (who forked whom, their unfinished calls, descriptor
 * tables) and turns their calls into builder events. */
#ifndef MV_TRACE_IMPORT_STRACE_H
#define MV_TRACE_IMPORT_STRACE_H
#include "trace/import.h"

struct strace_tasks;

struct strace_tasks *strace_tasks_new(struct build *b, struct import_stats *st);
/* One line of task tid at time t (ns); l->p is past the pid and the time.
 * l->text and l->name need only last the call (a line held for later is
 * copied). 0, or -1 after one mv_error. */
int strace_task_line(struct strace_tasks *c, struct import_line *l, uint32_t tid, uint64_t t);
/* For tests: the forks unfinished and unclaimed, and the tasks followed. */
uint64_t strace_tasks_forks_unfinished(const struct strace_tasks *c);
uint64_t strace_tasks_count(const struct strace_tasks *c);
/* For tests: bound the lines held for tasks waiting for a parent (64 MiB). */
void strace_tasks_hold_max(struct strace_tasks *c, uint64_t bytes);
/* The input ended: count the lines still held (their tasks' parents never
 * showed) in st, free everything. */
void strace_tasks_end(struct strace_tasks *c);

#endif

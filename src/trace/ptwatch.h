/* ptwatch.h: reads what the real kernel says of a recorded process's page
 * tables (VmPTE in /proc/PID/status) at the moments that end a process image:
 * exit_group, and the execve that replaces it. strace holds each traced
 * process for a while at those system calls (its delay injection); the
 * watcher polls /proc, sees the process stopped there (/proc/PID/task/TID/
 * syscall), and reads VmPTE and the image's initial stack pointer
 * (/proc/PID/stat start_stack), which names the image in the trace. */
#ifndef MV_TRACE_PTWATCH_H
#define MV_TRACE_PTWATCH_H
#include <stdint.h>
#include <sys/types.h>

struct ptsnap {
    uint32_t pid;
    uint32_t at;             /* 0: exit_group, 1: execve */
    uint64_t start_stack;
    uint64_t bytes;          /* VmPTE */
};

struct ptwatch;
/* Watch the processes traced by `tracer` (strace's pid). */
struct ptwatch *ptwatch_new(pid_t tracer);
void ptwatch_poll(struct ptwatch *w);
const struct ptsnap *ptwatch_snaps(const struct ptwatch *w, uint64_t *n);
void ptwatch_free(struct ptwatch *w);

#endif

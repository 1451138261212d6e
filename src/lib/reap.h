/* reap.h: waiting for a child we started when we are also a subreaper
 * (prctl PR_SET_CHILD_SUBREAPER, as `trace record` is, so that the recorded
 * program's orphans come to us rather than to init). Orphans must be reaped
 * too, but a wait for "any child" may return the child we wait for: its
 * status must then be kept, not thrown away with the orphans'. */
#ifndef MV_LIB_REAP_H
#define MV_LIB_REAP_H
#include <sys/types.h>

/* Reap, without blocking, every child that has ended. Returns 1 if `pid`
 * has ended (its wait status in *status), 2 if it is no longer our child
 * at all (ECHILD: someone else reaped it; *status is 0), 0 if it runs. */
int reap_children(pid_t pid, int *status);

#endif

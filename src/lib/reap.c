/* reap.c: reaping a subreaper's children without losing the one it waits
 * for (reap.h). */
#include "lib/reap.h"
#include <errno.h>
#include <sys/wait.h>

int reap_children(pid_t pid, int *status)
{
    int st, done = 0;
    pid_t q;
    while ((q = waitpid(-1, &st, WNOHANG)) > 0)
        if (q == pid) {
            *status = st;
            done = 1;
        }
    if (!done && q < 0 && errno == ECHILD) {
        *status = 0;                   /* nothing left to wait for: it is gone */
        return 2;
    }
    return done;
}

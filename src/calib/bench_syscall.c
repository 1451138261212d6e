/* bench_syscall.c: system-call entry and exit (cost.syscall): getppid()
 * through syscall(2) in a loop. getppid does nearly nothing in the kernel
 * and glibc never caches it, so the time is the SYSCALL/SYSRET round trip
 * with the kernel's entry work (register save, speculation mitigations,
 * the return-to-user checks). */
#define _GNU_SOURCE
#include "calib/calib.h"
#include <sys/syscall.h>
#include <unistd.h>

#define CALLS 200   /* per sample: tens of microseconds */

static double one_rep(const struct calib *c, void *arg)
{
    (void)arg;
    uint64_t t0 = calib_tsc();
    for (int i = 0; i < CALLS; i++)
        syscall(SYS_getppid);
    return calib_ns(c, calib_tsc() - t0) / CALLS;
}

void bench_syscall(const struct calib *c, struct calib_stat *out)
{
    calib_repeat(c, one_rep, NULL, out);
}

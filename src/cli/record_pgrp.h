/* record_pgrp.h: the process groups of `trace record` (cmd_trace_record.c).
 *
 * The recorded program runs in a process group of its own, apart from the
 * recorders' (perf and strace): a program that signals its own group
 * (`kill -TERM 0`, as shells and build tools do) reaches only itself, not
 * the recorders (it stopped perf, and the trace ended there while the
 * program ran on). The group is held by a small process of memvirt's, its
 * leader (the "holder"), made before the program starts, so that the
 * program can join it (setpgid needs a group that exists), memvirt knows
 * its id from the start (to give it the terminal, and to kill it when
 * interrupted), and a job-control signal from the terminal is seen: the
 * holder passes a Ctrl-C or Ctrl-\ the terminal sent (si_code SI_KERNEL) on
 * to memvirt, which is then interrupted as a whole, and stops at a Ctrl-Z
 * the terminal sent, for memvirt to stop with it as a shell's job does. The
 * program's own signals to its group (SI_USER) the holder ignores. */
#ifndef MV_CLI_RECORD_PGRP_H
#define MV_CLI_RECORD_PGRP_H
#include <sys/types.h>

/* Start the holder: its pid, the group's id; -1 after mv_error. relay: pass
 * the terminal's Ctrl-C, Ctrl-\ and hangup on to us (we are on the
 * terminal) through a pipe, whose reading end goes to *fd (-1: none). */
pid_t record_pgrp_hold(int relay, int *fd);
/* The terminal's signal the holder passed on since the last call, or 0. */
int   record_pgrp_signal(int fd);
/* End the holder and reap it; close fd. Returns the terminal's signal it
 * passed on (one still pending in it is passed on first), or 0. */
int   record_pgrp_release(pid_t holder, int fd);

/* The program's side: `memvirt trace record --exec-in-group PGID -- CMD
 * ARGS` (run by strace, so that the program is traced from its start):
 * join group PGID, then exec CMD. Returns only on failure (exit status
 * 127, one message). */
int   record_pgrp_exec(int argc, char **argv);

#endif

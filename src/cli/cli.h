/* cli.h: the memvirt command's subcommands. Each lives in its own file
 * (cmd_*.c) and is listed in main.c's table; a subcommand gets argv with
 * argv[0] = its own name and returns the process's exit status. */
#ifndef MV_CLI_CLI_H
#define MV_CLI_CLI_H

/* Exit statuses shared by every subcommand. */
#define EXIT_OK 0
#define EXIT_FAIL 1      /* a run failed (a --check violation, a workload error) */
#define EXIT_USAGE 2     /* bad input: one message naming it */
/* 3: the guest ran out of memory (guest/page_alloc.c exits directly) */

int cmd_run(int argc, char **argv);       /* run and compare */
int cmd_list(int argc, char **argv);
int cmd_trace(int argc, char **argv);          /* trace record|import|info */
int cmd_trace_record(int argc, char **argv);
int cmd_trace_import(int argc, char **argv);
int cmd_trace_info(int argc, char **argv);
/* Until called again: on SIGINT/SIGTERM/SIGHUP unlink tmp_path and kill the
 * process group `group` (0: none), then die of the signal (cmd_trace.c). */
#include <sys/types.h>
void cli_guard_output(const char *tmp_path, pid_t group);
int  cli_interrupted(void);       /* the signal caught while a group was guarded, or 0 */
void cli_die_of_signal(void);

#endif

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
int cmd_calibrate(int argc, char **argv); /* measure this host into a cost profile; --verify one */

#endif

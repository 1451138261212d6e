/* cli.h: the memvirt command's subcommands. Each lives in its own file
 * (cmd_*.c) and is listed in main.c's table; a subcommand gets argv with
 * argv[0] = its own name and returns the process's exit status. */
#ifndef MV_CLI_CLI_H
#define MV_CLI_CLI_H
#include <getopt.h>

/* Exit statuses shared by every subcommand. */
#define EXIT_OK 0
#define EXIT_FAIL 1      /* a run failed (a --check violation, a workload error, the domain crashed by the
                            hypervisor, an output not written, the host out of memory: lib/err.c exits
                            directly) */
#define EXIT_USAGE 2     /* bad input: one message naming it */
#define EXIT_GUEST_OOM 3 /* the guest ran out of memory: every failed run did (engine_run_all); a
                            crashed domain among them is EXIT_FAIL */
#define EXIT_STATUS_HELP                                                                           \
    "exit status:\n"                                                                               \
    "  0  success\n"                                                                               \
    "  1  a run failed: a --check violation, a workload error, the domain crashed by the\n"      \
    "     hypervisor (compare still prints the modes that completed, the crashed ones'\n"      \
    "     columns saying 'domain crashed'), an output that could not be written (standard\n"  \
    "     output too), the host out of memory or of open files\n"                             \
    "  2  bad input: one 'memvirt: ...' line names it; nothing is run and no output is written\n"  \
    "  3  the simulated guest ran out of memory (raise guest.ram_mb); compare still prints the\n"  \
    "     modes that completed, the others' columns saying 'guest OOM' (a crashed domain\n"    \
    "     beside them makes it 1)\n"

int cmd_run(int argc, char **argv);       /* run and compare */
int cmd_rerun(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_report(int argc, char **argv);    /* HTML report of result files */
int cmd_sweep(int argc, char **argv);     /* parameter sweeps, locally or on Slurm */
int cmd_calibrate(int argc, char **argv); /* measure this host into a cost profile; --verify one */
int cmd_trace(int argc, char **argv);          /* trace record|import|info */
int cmd_trace_record(int argc, char **argv);
int cmd_trace_import(int argc, char **argv);
int cmd_trace_info(int argc, char **argv);

struct sim_config;
struct mode_def;
/* Run the modes on cfg (already validated), warn about --at controls that
 * never fired, print the table and write the outputs. inputs: the files the
 * command read, as option/path pairs ending in NULL (the workload's input
 * file is added): no output may be one of them. Returns the exit status. */
int cli_run_modes(struct sim_config *cfg, const struct mode_def *const *sel, unsigned nsel, const char *json,
                  const char *csv, const char *const *inputs, unsigned jobs);
/* After getopt_long returned '?' (opterr 0): one message for the bad option
 * argv[optind - 1]: unknown, missing its value, or given a value it does not
 * take. Returns -1. */
int cli_bad_option(const char *cmd, const struct option *opts, char **argv);
/* An option that takes one value (opt, as the user writes it), given
 * again: taken only with the same value. 0 with *slot = value, or -1 after
 * one message ("CMD: OPT given twice with different values ...", without
 * the prefix when cmd is NULL). */
int cli_set_once(const char *cmd, const char *opt, const char **slot, const char *value);
/* A -j/--jobs value: a decimal integer from 1 to CLI_MAX_JOBS, digits only
 * (no sign, space, leading zero or size suffix). 0 with *jobs set, -1 if
 * it is not such a number, -2 if it is one out of range (no message: each
 * command words its own). */
#define CLI_MAX_JOBS 1024
int cli_parse_jobs(const char *text, unsigned *jobs);
/* Until called again: on one of outfile_stop_sigs (lib/outfile.h; each
 * unless memvirt was started with it ignored) unlink tmp_path and kill
 * the process group `group` (0: none), then die of the signal
 * (cmd_trace.c). */
#include <sys/types.h>
void cli_guard_output(const char *tmp_path, pid_t group);
/* Until called again (0: no more): on those signals also kill this process
 * group (trace record: the program's, apart from the recorders'). */
void cli_guard_group(pid_t group);
/* Until called again (NULL: no more): on those signals also remove dir and
 * the files it holds now. */
void cli_guard_dir(const char *dir);
int  cli_interrupted(void);       /* the signal caught while a group was guarded, or 0 */
/* The group was interrupted from the terminal it had (Ctrl-C went to it, not
 * to us): from now on as if sig had been caught. */
void cli_interrupt(int sig);
void cli_die_of_signal(void);

#endif

/* pyexec.h: the parts of memvirt written in Python (src/py: the HTML report,
 * the sweep merge, the figures), found next to the binary or in the source
 * tree the binary was built from, and run with Debian's python3. */
#ifndef MV_CLI_PYEXEC_H
#define MV_CLI_PYEXEC_H

/* Absolute path of the running memvirt binary (static buffer). */
const char *cli_self(void);
/* Replace the process with `python3 SCRIPT args...` (argv[0] is not passed).
 * Returns only on failure: EXIT_USAGE after one message. */
int cli_exec_python(const char *cmd, const char *script, int argc, char **argv);
/* The file execvp would run for name (searching PATH when it has no '/':
 * a regular file we may execute), malloc'd, or NULL if there is none. */
char *cli_find_program(const char *name);

#endif

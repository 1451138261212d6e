/* outfile.h: the output files of one command (--json, --csv, a trace's or a
 * profile's -o), checked before the work and committed together after it,
 * whatever kind of path each is. The one implementation of output writing:
 * every writer of a file goes through it.
 *
 *   "-"                    standard output
 *   an existing device,    written through (opened by the name given, not
 *   FIFO, pipe             replaced): /dev/null stays a device, a FIFO's reader
 *                          gets the data, /dev/stdout into a pipe works
 *   a symbolic link        followed as the kernel follows it (stat): what it
 *                          points to is written; a dangling link creates its target
 *   a regular file, or     replaced atomically: a temporary file is created
 *   a new name             in the same directory (found with realpath) when
 *                          the output is added, without a name (O_TMPFILE,
 *                          where the kernel, the file system and /proc allow;
 *                          else named at once, mkstemp), written and fsync'd
 *                          at commit, named ".NAME.XXXXXX" (linkat) and
 *                          renamed over it, keeping an existing file's mode.
 *                          A process killed during the work (SIGKILL, the
 *                          OOM killer) leaves nothing behind. The
 *                          environment's MEMVIRT_NAMED_TEMPS=1 names it at
 *                          once (for the tests of the named path's cleanup)
 *
 * outset_add checks a path at once (the temporary file is created then, so an
 * unwritable place is found before the work) and rejects a path that is the
 * same file as another output (the same name, or the same device and inode
 * through other names, links or standard output), or that is the running
 * memvirt binary (/proc/self/exe: renamed over, memvirt was gone after the
 * command). outset_input names an input of the command: an output that is
 * the same file is rejected (an input that does not exist yet: the same
 * name). Either order works.
 *
 * The caller writes each output's content into outset_stream(); outset_commit
 * then opens the streams (a FIFO waits for its reader here), finishes (and
 * names) every temporary file, writes the streams, and renames the temporaries in the
 * order the outputs were added. If anything fails before the first rename,
 * no output is changed and no temporary file is left. A rename itself
 * failing after an earlier one succeeded (the disk removed, the directory
 * made read-only mid-commit) cannot be undone: the message names the
 * outputs already replaced. SIGINT, SIGTERM and SIGHUP remove every
 * temporary file before the process dies of the signal. */
#ifndef MV_LIB_OUTFILE_H
#define MV_LIB_OUTFILE_H
#include <stdio.h>
#include <sys/types.h>

#define OUTSET_MAX 8

enum outfile_kind { OUTFILE_STDOUT, OUTFILE_STREAM, OUTFILE_REPLACE };

struct outfile {
    const char *opt;          /* the option that named it ("--json"), for messages */
    const char *path;         /* as given */
    enum outfile_kind kind;
    char *target;             /* REPLACE: the file, links and directory resolved */
    char *ident;              /* a new file: canonical directory + name */
    int exists;
    dev_t dev;
    ino_t ino;
    mode_t mode;              /* REPLACE: mode of the new file */
    FILE *out;                /* content: the temporary file, or memory */
    char *buf;                /* memory content (STDOUT, STREAM) */
    size_t len;
    char *tmp;                /* REPLACE: the temporary file's name (NULL while it has none) */
    int anon;                 /* REPLACE: the temporary file has no name yet (O_TMPFILE) */
    int fd;                   /* STREAM during commit: the open file */
};

struct outin {
    const char *opt;
    char *path;               /* a copy */
    int exists;
    dev_t dev;
    ino_t ino;
    char *ident;              /* canonical name, when it does not exist */
};

struct outset {
    struct outfile f[OUTSET_MAX];
    unsigned n;
    struct outin *in;         /* grown as inputs are added (an import reads any number of logs) */
    unsigned nin, in_cap;
};

/* Check `path` (named by option `opt`) and add it. -1 after mv_error;
 * out of open files or memory for its temporary file, the message and
 * exit status 1 (the host's limit, not bad input). */
int  outset_add(struct outset *s, const char *opt, const char *path);
/* `path` (option `opt`) is read by the command. -1 after mv_error (an
 * output is the same file). */
int  outset_input(struct outset *s, const char *opt, const char *path);

struct stat;
/* An input opened for reading without blocking on it (a FIFO put where a
 * file should be, with no writer, is not waited on; on a regular file the
 * flag changes nothing), an interrupted open retried, and its fstat in
 * *st, for the caller to refuse what is not a regular file: the
 * descriptor, or -1 with errno. */
int  infile_open_nonblock(const char *path, struct stat *st);
/* Past a file-size limit a write fails with EFBIG, which every writer
 * reports with the file's name, instead of SIGXFSZ ending the process (as
 * Python and coreutils' sort do): outfile_ignore_sigxfsz() ignores SIGXFSZ
 * where it has its default action (a parent's choice to catch it is not
 * changed). */
void outfile_ignore_sigxfsz(void);
/* The signals sent to end a process that end it by default: SIGINT,
 * SIGTERM, SIGHUP, SIGQUIT, a CPU-time limit's SIGXCPU, a timer or user
 * signal nobody handles; not a crash's, nor SIGPIPE's or SIGXFSZ's. The
 * temporaries are removed on these and on those (outfile.c); the CLI's
 * guards stop the programs they started on these (cli.h). */
extern const int outfile_stop_sigs[];
extern const unsigned outfile_nstop_sigs;
/* A reader gone (`memvirt list | true`, `memvirt compare | head -1`) must
 * fail the write with EPIPE, which the writer reports (exit status 1: the
 * end of main checks standard output for every command), not end the
 * process by SIGPIPE (141) with no word, half a listing written:
 * outfile_ignore_sigpipe() ignores SIGPIPE for the whole process, once at
 * start (main), where it has its default action. The one exception is the
 * wait for a FIFO's reader at commit (nothing is written then): there a
 * SIGPIPE removes the temporaries and ends the process, as it would have.
 * A program memvirt starts must find both signals as memvirt did (an
 * ignored signal stays ignored across exec; GNU parallel, Python, strace,
 * perf and the recorded program rely on SIGPIPE's default): a child calls
 * outfile_exec_signals() between fork and exec; outfile_popen is popen
 * with them so (the parent holds them at their defaults while it forks:
 * call it where no other thread runs). */
void outfile_ignore_sigpipe(void);
void outfile_exec_signals(void);
FILE *outfile_popen(const char *command, const char *type);
/* At start: a standard descriptor (0, 1, 2) the process was started
 * without is opened on /dev/null the other way round, so that using it
 * still fails (EBADF) as a closed one does, while no file opened later can
 * take its number and receive what is meant for standard output or error
 * (close-on-exec: programs memvirt starts find it closed). Outputs treat
 * such a standard output as absent. */
void outfile_guard_stdio(void);
/* The stream to write output i's content into. */
FILE *outset_stream(struct outset *s, unsigned i);
/* The error for output i when a write to its stream failed (ferror): one
 * line naming the option, the path and the system's reason, as the failed
 * write left it in errno (a full disk, a file-size limit). Returns -1. */
int  outset_stream_failed(const struct outset *s, unsigned i);
/* Output i's temporary file (NULL if it has none). */
const char *outset_tmp_path(const struct outset *s, unsigned i);
/* 1 if an output goes to standard output (the caller keeps stdout for it). */
int  outset_uses_stdout(const struct outset *s);
/* Where an output takes standard output, the caller sends `what` (run's
 * "the table") to standard error instead: an output that is standard
 * error's file (/dev/stderr, /proc/self/fd/2, the file or pipe 2> goes
 * to), or standard output being that file (--json - 2>&1), would get it
 * mixed into its content. -1 after mv_error (bad input: check it before
 * the work), naming the option and the clash; a terminal or /dev/null as
 * standard error is shared without harm, as outset_uses_stdout shares
 * standard output. */
int  outset_stderr_clash(const struct outset *s, const char *what);
/* The same where `what` goes to standard error whatever takes standard
 * output (trace record's and import's messages, the recorded program's
 * output: a binary trace must not get them): an output that is standard
 * error's file, by any name, /dev/stdout with 2>&1 too. */
int  outset_stderr_shared(const struct outset *s, const char *what);
/* Binary content (`what`: "a trace") is not written to a terminal, as
 * gzip and zstd refuse to: an output that is '-', or standard output's
 * or standard error's file by another name, while that is a terminal. -1
 * after mv_error (bad input), naming the option and the path. A terminal
 * reached by another file (/dev/tty, where standard output is
 * /dev/pts/N) is taken as asked for. */
int  outset_refuse_terminal(const struct outset *s, const char *what);
/* Write every output, all or none. -1 after mv_error. */
int  outset_commit(struct outset *s);
/* Free everything; an uncommitted output is discarded. */
void outset_free(struct outset *s);
/* Unlink every temporary file of every output set (async-signal-safe: for a
 * signal handler of the caller's own). */
void outfile_unlink_temps(void);
/* A temporary file made outside an outset (name must stay valid until
 * untracked): removed like the outsets' on SIGINT, SIGTERM, SIGHUP and at
 * exit, by this process only. track: -1 when the table is full. */
int  outfile_track_temp(char *name);
void outfile_untrack_temp(const char *name);

#endif

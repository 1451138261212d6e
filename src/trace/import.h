/* import.h: the importers: other tools' logs into a trace, through the
 * builder (build.h). Each reads text line by line:
 *   perf    `perf script` output of a recording made as docs/traces.md says
 *           (page faults, the mmap/task records and the memory syscall
 *           tracepoints); a perf.data file is run through `perf script`;
 *   strace  `strace -f -ttt -o LOG` output (with or without -y), or the
 *           LOG.PID files of `strace -ff -ttt -o LOG`, merged by time;
 *   lackey  valgrind --tool=lackey --trace-mem=yes --trace-syscalls=yes logs.
 * A line of a kind the importer does not use is counted (import_report says
 * how many, and shows the first); a line of a kind it uses whose fields do
 * not parse is an error naming the file, line and column. */
#ifndef MV_TRACE_IMPORT_H
#define MV_TRACE_IMPORT_H
#include "trace/build.h"
#include <stdio.h>
#include <string.h>
#include <sys/types.h>

struct import_opts {
    uint64_t delay_ns;      /* perf: strace held each execve and exit_group this long (record) */
    int skip_root;          /* perf: the first process is the recorder's helper, its children the roots */
    int helper_execs;       /* perf, skip_root: execs each of those children makes before its program's
                               (record's own image that joins the program's process group: 1) */
    uint64_t sample;        /* lackey: keep one data reference in `sample` (1: all) */
    uint64_t window_start;  /* lackey: skip this many references per process ... */
    uint64_t window_len;    /* ... then keep at most this many (0: no limit) */
    unsigned open_max;      /* strace: logs read by name, at most this many open at once (0: as the host's
                               limit allows, reopen_max_open in trace/reopen.h) */
    unsigned open_buf;      /* ... each read through a buffer this large (0: 4 KiB; tests make it small) */
    void (*scanned)(void *ctx);   /* lackey, for tests: called between the header scan of the logs read by
                                     name and the reading of their references (to change a log there) */
    void *scanned_ctx;
};

struct import_stats {
    uint64_t lines, unknown, lost;
    uint64_t blank;               /* lines of spaces, tabs and CRs alone (no tool's, and no other's) */
    uint64_t refs, refs_kept;     /* lackey: references read, and kept by --sample/--window */
    uint64_t refs_most;           /* lackey: the most references one process made */
    uint64_t cut;                 /* lines longer than 1 MiB, read as their first 1 MiB */
    uint64_t orphan_tasks, orphan_lines;  /* strace: tasks no fork in the log made (their lines left out) */
    uint64_t held_over;           /* strace: lines of tasks waiting for a parent, past the bound (left out) */
    uint64_t fork_live;           /* strace: forks that returned the pid of a task still alive (left out) */
    uint32_t prog;                /* perf, skip_root: the first process the helper started (0: none) */
    int prog_exited;              /* ... its exit was recorded */
    int prog_code_seen, prog_code;    /* ... its exit_group's status (none: killed by a signal) */
    uint64_t first_unknown_line;
    char first_unknown[420];     /* its first 100 bytes, each not UTF-8 text as \xHH */
    char first_unknown_file[256];
    /* Lines read (blank ones aside) and not understood in each log given
     * (by its index; strace and lackey, where the caller sets them: NULL,
     * not counted), so that one log of the wrong kind among good ones is
     * told. */
    uint64_t *file_lines, *file_unknown;
    unsigned nfiles;
};

int import_perf(struct build *b, FILE *f, const char *name, const struct import_opts *o,
                struct import_stats *st);
int import_strace(struct build *b, FILE *f, const char *name, const struct import_opts *o,
                  struct import_stats *st);
/* Several strace logs: strace -ff's LOG.PID files (lines without a pid)
 * merged by time; otherwise one after the other. f: the logs' streams, kept
 * open throughout (a pipe or FIFO, which cannot be reopened; tests'
 * memory streams); f NULL, or f[i] NULL: log i is a regular file, opened
 * by its name when it is read, at most o->open_max such logs open at once
 * (less the streams given), each closed and reopened at its offset as the
 * others need room (trace/reopen.h): one descriptor per log is not needed. */
int import_strace_files(struct build *b, FILE **f, const char *const *names, unsigned n,
                        const struct import_opts *o, struct import_stats *st);
/* One lackey log per process; files are replayed in the order the processes
 * started (a child runs to its end where its parent forked it). f: the
 * logs' streams, all open (tests, fuzzing); or NULL: each log is opened by
 * its name when it is read and closed after, so that at most one log per
 * level of the process tree is open at once (a `make` of a thousand
 * processes needs no thousand descriptors); each must then be a regular
 * file, the same one on both reads (a header scan, then the replay). */
int import_lackey(struct build *b, FILE **f, const char *const *names, unsigned n,
                  const struct import_opts *o, struct import_stats *st);

/* Open a perf input: a `perf script` text file, or a perf.data file piped
 * through `perf script` with the fields the importer reads (*child: its
 * pid; 0 for a text file). NULL after mv_error; close with import_close. */
FILE *import_open_perf(const char *path, pid_t *child);
/* The checks import_open_perf makes before it reads (the file opens; a
 * perf.data is a regular file), the file closed again: 0, or -1 after
 * mv_error. */
int   import_check_perf(const char *path);
/* import_open_perf of a file import_check_perf passed: one that no longer
 * opens changed while it was imported (below). */
FILE *import_reopen_perf(const char *path, pid_t *child);
/* Close f (any input: child 0 for a plain file) and reap its perf script
 * child. report: the input was read to its end, so the child's exit status
 * is its verdict: 0, or -1 after one mv_error naming path. !report (an
 * error came first, the input was left unread): the child is stopped and
 * reaped, and nothing is said. */
int   import_close(FILE *f, pid_t child, const char *path, int report);

void import_report(const struct import_stats *st, FILE *out, const char *who);
/* A --window (its text: window) that kept no reference of the st->refs
 * read: one warning (mv_warn) from who; the trace is still written, its
 * process events are meaningful. Nothing when one was kept, or none read. */
void import_warn_window(const struct import_stats *st, const struct import_opts *o, const char *window,
                        const char *who);

/* Open an input: NULL after one mv_error naming path ("cannot open
 * 'PATH': reason"). A failure that is the host's (out of file descriptors,
 * EMFILE/ENFILE, or memory) is remembered: import_host_failure(0) then
 * returns 1, and the command exits 1 (a resource failure), not 2 (bad
 * input). import_host_failure(err) remembers err if it is one of those. */
FILE *import_fopen(const char *path, const char *mode);
int   import_host_failure(int err);
/* A failure outside the input, remembered the same way: a log that changed
 * or vanished while it was imported (trace/reopen.h), a read error. */
void  import_fail_outside(void);
/* For tests: forget a remembered failure. */
void  import_failure_reset(void);

/* Logs opened again by name. Every log was opened once before the import
 * (cmd_trace_import's check; record's logs are its own), so a log opened
 * later that is no longer there, or no longer the file it was when last
 * looked at (the same device, inode, size and modification time), changed
 * while it was imported: one line, "log 'NAME' changed while it was
 * imported: REASON", a failure outside the input (exit 1), the same in
 * every importer. */
struct import_log_id {
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
};
struct stat;
void import_log_remember(struct import_log_id *id, const struct stat *sb);
/* What differs between the file id was and sb (why holds the sentence if
 * it needs one), or NULL: the same file. */
const char *import_log_changed(const struct import_log_id *id, const struct stat *sb, char *why, size_t n);
/* The log at path did not open (errno err): the host's failure (out of
 * descriptors or memory) said as import_fopen says it, anything else as a
 * change, with suffix after the reason. -1. */
int import_log_gone(const char *path, int err, const char *suffix);

/* Helpers shared by the importers (import_util.c). */
struct import_line {
    const char *name;        /* file */
    uint64_t lineno;
    const char *text, *p;    /* the line and the cursor */
    unsigned file;           /* its index among the logs given */
    int cut;                 /* the line ran past 1 MiB: text is its first 1 MiB (import_getline's 2) */
};
/* Is text a blank line (spaces, tabs and CRs alone)? It says nothing of
 * what a log is (perf script puts them between samples; an editor leaves
 * one at the end): no tool's line, and no other's. */
static inline int import_blank(const char *text)
{
    return !text[strspn(text, " \t\r")];
}

/* Line text read from log `file`: counted, and as blank or in the log's
 * own count. */
static inline void import_count_line(struct import_stats *st, unsigned file, const char *text)
{
    st->lines++;
    if (import_blank(text))
        st->blank++;
    else if (st->file_lines && file < st->nfiles)
        st->file_lines[file]++;
}
/* The next line (without its newline) into *buf: 1, or 0 at the end. A
 * line over 1 MiB keeps its first 1 MiB, is counted in st->cut (st may be
 * NULL) and returns 2 (import_line's cut: a malformed one says so). -1 if
 * the read failed (errno says why) or the line ran past 64 MiB without a
 * newline (errno EFBIG): import_read_failed says it. */
int  import_getline(FILE *f, char **buf, size_t *cap, size_t *len, struct import_stats *st);
/* "NAME:LINENO: ..." for import_getline's -1 with errno err. -1. */
int  import_read_failed(const char *name, uint64_t lineno, int err);
void import_unknown(struct import_stats *st, const struct import_line *l);
int  import_malformed(const struct import_line *l, const char *expected);
void import_skip_space(struct import_line *l);
int  import_hex(struct import_line *l, uint64_t *v);           /* [0x]hex */
int  import_dec(struct import_line *l, uint64_t *v);
int  import_lit(struct import_line *l, const char *s);         /* consume s if it is there */
/* Find "key" followed by a value (after '=' or ': '); parse it as hex or
 * decimal (0x prefix), a leading '-' giving the 64-bit two's complement
 * (as a kernel's negative long prints: -9223372036854775808 is
 * 0x8000000000000000); 1 found, 0 absent, -1 malformed. */
int  import_field(const char *from, const char *key, uint64_t *v);

#endif

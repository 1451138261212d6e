/* cmd_trace_import.c: `memvirt trace import --from strace|perf|lackey FILE...
 * [-o FILE] [--sample N] [--window START:LEN] [--mmap-min-addr N]`: logs recorded elsewhere into a
 * memvirt trace. Lines the importer does not use are counted and reported on
 * stderr; a malformed line, or logs that give no event at all, are bad input
 * (exit 2, file:line:column); the output appears only when the import
 * succeeded. Every input is checked to open before the output is made, then
 * read: perf's one at a time, lackey's one per level of the process tree,
 * strace's together (LOG.PID logs of strace -ff are merged by time, -f logs
 * read one after the other) but through a bounded cache of descriptors
 * (trace/reopen.h): at most the host's limit on open files less a margin
 * are open at once, the others closed and reopened at their offsets, so
 * 5,000 logs import under `ulimit -n 64`. A pipe or FIFO cannot be reopened:
 * it stays open and counts against that cap, and more of them than the cap
 * are refused before any is opened (exit 2). The host running out of
 * descriptors (or memory) on the way, or a log that changed or vanished
 * between its openings (the check here is one: a log removed after it is
 * no bad input), is exit 1, naming the file, in every importer. */
#include "cli/cli.h"
#include "cli/pyexec.h"
#include "lib/err.h"
#include "lib/outfile.h"
#include "lib/param.h"
#include "trace/format.h"
#include "trace/import.h"
#include "trace/reopen.h"
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

int cli_parse_window(const char *s, struct import_opts *o)
{
    const char *colon = strchr(s, ':');
    char a[32];
    if (!colon || (size_t)(colon - s) >= sizeof a)
        return mv_error("--window '%s': expected START:LEN (references, e.g. 1M:100k)", s);
    memcpy(a, s, (size_t)(colon - s));
    a[colon - s] = 0;
    if (param_parse_u64(a, &o->window_start) || param_parse_u64(colon + 1, &o->window_len) || !o->window_len)
        return mv_error("--window '%s': expected START:LEN with LEN > 0 (e.g. 1M:100k)", s);
    return 0;
}

int cmd_trace_import(int argc, char **argv)
{
    const char *from = NULL, *out = NULL;
    struct outset set = { 0 };
    const char **files = mv_calloc((size_t)argc, sizeof *files);
    unsigned nfiles = 0;
    struct import_opts o = { .sample = 1 };
    const char *sampling = NULL;          /* --sample or --window, given */
    const char *sample_arg = NULL, *window_arg = NULL, *min_addr_arg = NULL;
    uint64_t min_addr = TRACE_MMAP_MIN_ADDR;
    int rc = EXIT_USAGE;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int more = i + 1 < argc;
        /* an option that takes one value, given again: only with the same value */
        const char **once = !more ? NULL : !strcmp(a, "--from") ? &from : !strcmp(a, "--sample") ? &sample_arg
                          : !strcmp(a, "--window") ? &window_arg : !strcmp(a, "--mmap-min-addr") ? &min_addr_arg
                          : NULL;
        if (once && cli_set_once("trace import", a, once, argv[i + 1]))
            goto done;
        if (!strcmp(a, "--from") && more) {
            from = argv[++i];
        } else if (!strcmp(a, "-o") && more) {
            if (out) {
                mv_error("trace import: -o given twice ('%s' and '%s'): one trace per import", out, argv[i + 1]);
                goto done;
            }
            out = argv[++i];
        } else if (!strcmp(a, "--sample") && more) {
            sampling = a;
            if (param_parse_u64(argv[++i], &o.sample) || !o.sample) {
                mv_error("--sample '%s': expected a positive integer", argv[i]);
                goto done;
            }
        } else if (!strcmp(a, "--mmap-min-addr") && more) {
            /* at most what the reader takes in the header: above it no
             * exec's stack could be mapped, and no exec would replay */
            if (param_parse_u64(argv[++i], &min_addr) || min_addr > TRACE_MMAP_MIN_ADDR_MAX) {
                mv_error("--mmap-min-addr '%s': expected the recording kernel's vm.mmap_min_addr, a byte address "
                         "of at most %llu (%#llx: above it not even an exec's default stack could be mapped; "
                         "e.g. 4096, 64K)", argv[i], (unsigned long long)TRACE_MMAP_MIN_ADDR_MAX,
                         (unsigned long long)TRACE_MMAP_MIN_ADDR_MAX);
                goto done;
            }
        } else if (!strcmp(a, "--window") && more) {
            sampling = a;
            if (cli_parse_window(argv[++i], &o))
                goto done;
        } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs("usage: memvirt trace import --from strace|perf|lackey FILE... [-o FILE] [options]\n"
                  "Turns the logs of a tool into a trace (docs/traces.md says how to make each log).\n\n"
                  "  --from T             strace (strace -f -ttt -o LOG, or the LOG.PID files of -ff), perf (perf script\n"
                  "                       of syscall tracepoints and page faults) or lackey (valgrind --tool=lackey)\n"
                  "  -o FILE              the trace to write (default: memvirt.mvt); written only whole\n"
                  "  --sample N           lackey: keep every Nth reference (default: 1, all)\n"
                  "  --window START:LEN   lackey: keep LEN references from the START-th (e.g. 1M:100k)\n"
                  "  --mmap-min-addr N    the recording kernel's vm.mmap_min_addr (default: 65536, Debian's): calls\n"
                  "                       below it are dropped; given, it goes in the trace's header, and a replay\n"
                  "                       needs --param guest.mmap_min_addr=N to keep them\n"
                  "  --help               this text\n\n", stdout);
            fputs(EXIT_STATUS_HELP, stdout);
            fputs("\nexample:\n  memvirt trace import --from strace ls.strace -o ls.mvt\n", stdout);
            rc = EXIT_OK;
            goto done;
        } else if (a[0] == '-' && a[1]) {
            mv_error("trace import: unknown option '%s'%s", a, more ? "" : " (or it needs a value)");
            goto done;
        } else {
            files[nfiles++] = a;
        }
    }
    if (!from || (strcmp(from, "strace") && strcmp(from, "perf") && strcmp(from, "lackey"))) {
        mv_error("trace import: --from strace, perf or lackey is required%s%s", from ? ", not " : "",
                 from ? from : "");
        goto done;
    }
    if (sampling && strcmp(from, "lackey")) {
        mv_error("trace import: %s chooses among every reference: it goes with --from lackey, not --from %s",
                 sampling, from);
        goto done;
    }
    if (!nfiles) {
        mv_error("trace import: no input file");
        goto done;
    }
    /* the output is checked (and its temporary file made) before the work;
     * it may not be one of the logs */
    if (!out)
        out = "memvirt.mvt";
    if (!*out) {
        mv_error("trace import: -o '': an empty file name (give a file name, or /dev/stdout to send the trace "
                 "down a pipe)");
        goto done;
    }
    if (!strcmp(out, "-")) {
        mv_error("trace import: -o '-': a trace is binary: give it a file name (or /dev/stdout for a pipe)");
        goto done;
    }
    for (unsigned i = 0; i < nfiles; i++)
        if (outset_input(&set, "the log", files[i]))
            goto done;
    /* a log given twice, by one name or two (a link): its processes would
     * be imported twice, as two trees (as --modes hap,hap, refused) */
    struct stat *ids = mv_calloc(nfiles, sizeof *ids);
    int twice = 0;
    for (unsigned i = 0; i < nfiles && !twice; i++) {
        if (stat(files[i], &ids[i])) {   /* missing: said when it is opened */
            ids[i].st_ino = 0;
            continue;
        }
        for (unsigned k = 0; k < i && !twice; k++)
            if (ids[k].st_ino && ids[k].st_dev == ids[i].st_dev && ids[k].st_ino == ids[i].st_ino)
                twice = mv_error("trace import: the log '%s' is given twice%s%s%s: its processes would be imported "
                                 "twice", files[k], strcmp(files[k], files[i]) ? " (again as '" : "",
                                 strcmp(files[k], files[i]) ? files[i] : "", strcmp(files[k], files[i]) ? "')" : "");
    }
    free(ids);
    if (twice)
        goto done;
    if (!strcmp(from, "perf")) {   /* perf script reads a perf.data: it is run too */
        char *perf_prog = cli_find_program("perf");
        int clash = perf_prog && outset_input(&set, "the perf program", perf_prog);
        free(perf_prog);
        if (clash)
            goto done;
    }
    if (outset_add(&set, "-o", out) || outset_stderr_shared(&set, "memvirt's messages") ||
        outset_refuse_terminal(&set, "a trace"))
        goto done;
    /* strace's pipes and FIFOs stay open while the logs are read together:
     * more than the cap on open logs are refused before any is opened */
    unsigned held = 0, cap = reopen_max_open();
    const char *first_held = NULL;
    for (unsigned i = 0; i < nfiles && !strcmp(from, "strace"); i++) {
        struct stat sb;
        if (!stat(files[i], &sb) && !S_ISREG(sb.st_mode) && !held++)
            first_held = files[i];
    }
    if (held > cap) {
        mv_error("trace import: %u of the strace logs ('%s' the first) are pipes, FIFOs or devices, which stay "
                 "open while the logs are read: at most %u under this limit on open files (ulimit -n, less %d "
                 "kept for the rest): give regular files, or raise the limit", held, first_held, cap,
                 REOPEN_MARGIN);
        goto done;
    }
    /* every input opens (and a perf.data is a regular file) before the
     * output is made. A regular file is then closed and opened again when
     * its turn comes, so that only one is open at a time (lackey: one per
     * level of the process tree; strace: as many as the cap, below): a
     * thousand logs need no thousand descriptors. A pipe or FIFO cannot be
     * opened twice: it stays open (and a lackey log, read twice, must be a
     * regular file). */
    FILE **fs = mv_calloc(nfiles, sizeof *fs);
    pid_t *child = mv_calloc(nfiles, sizeof *child);   /* a kept perf.data's perf script */
    int lackey = !strcmp(from, "lackey"), perf = !strcmp(from, "perf");
    for (unsigned i = 0; i < nfiles && rc == EXIT_USAGE; i++) {
        struct stat sb;
        int there = !stat(files[i], &sb), reg = there && S_ISREG(sb.st_mode);
        if (there && S_ISDIR(sb.st_mode)) {
            mv_error("trace import: '%s' is a directory, not a %s log", files[i], from);
            rc = -1;
        } else if (lackey && there && !reg) {
            mv_error("lackey log '%s': not a regular file: a log is read twice (its header, then its references), "
                     "so not a FIFO, pipe or device", files[i]);
            rc = -1;
        } else if (!reg && !lackey) {
            if (!(fs[i] = perf ? import_open_perf(files[i], &child[i]) : import_fopen(files[i], "r")))
                rc = -1;
        } else if (perf ? import_check_perf(files[i]) : !(fs[i] = import_fopen(files[i], "r"))) {
            rc = -1;
        } else if (fs[i]) {
            fclose(fs[i]);
            fs[i] = NULL;
        }
    }
    if (rc != EXIT_USAGE) {
        rc = import_host_failure(0) ? EXIT_FAIL : EXIT_USAGE;
        goto close_inputs;
    }
    /* the command, with the options that change what is imported */
    char command[768];
    snprintf(command, sizeof command, "memvirt trace import --from %s%s%s%s%s%s%s %s%s", from,
             sample_arg ? " --sample " : "", sample_arg ? sample_arg : "", window_arg ? " --window " : "",
             window_arg ? window_arg : "", min_addr_arg ? " --mmap-min-addr " : "", min_addr_arg ? min_addr_arg : "",
             files[0], nfiles > 1 ? " ..." : "");
    char min_addr_s[32];
    snprintf(min_addr_s, sizeof min_addr_s, "%llu", (unsigned long long)min_addr);
    const char *keys[] = { "command", "source", "mmap_min_addr" };
    const char *vals[] = { command, from, min_addr_s };
    struct trace_writer *w = trace_writer_open_set(&set, 0, keys, vals, min_addr_arg ? 3 : 2);
    if (!w) {
        rc = EXIT_FAIL;
        goto close_inputs;
    }
    cli_guard_output(trace_writer_tmp_path(w), 0);
    struct build *b = build_new(w);
    build_set_mmap_min_addr(b, min_addr);
    struct import_stats st = { 0 };
    int irc = 0;
    int strace = !strcmp(from, "strace");
    /* each log's lines and those not understood (perf's by difference,
     * one log after the other) */
    uint64_t *flines = mv_calloc(nfiles, sizeof *flines), *funknown = mv_calloc(nfiles, sizeof *funknown);
    if (strace || lackey) {
        st.file_lines = flines;
        st.file_unknown = funknown;
        st.nfiles = nfiles;
    }
    if (lackey)
        irc = import_lackey(b, NULL, files, nfiles, &o, &st);
    /* together (strace -ff's logs are merged by time): the pipes kept open
     * in fs, the regular files (NULL there) opened by name, at most the cap
     * at once */
    if (strace)
        irc = import_strace_files(b, fs, files, nfiles, &o, &st);
    for (unsigned i = 0; i < nfiles && !lackey; i++) {
        if (perf && !irc && !fs[i] && !(fs[i] = import_reopen_perf(files[i], &child[i])))
            irc = -1;
        if (perf && !irc) {
            uint64_t lines0 = st.lines - st.blank, unknown0 = st.unknown;
            irc = import_perf(b, fs[i], files[i], &o, &st);
            flines[i] = st.lines - st.blank - lines0;
            funknown[i] = st.unknown - unknown0;
        }
        /* read to its end unless an error came first: then its perf script's
         * status is the verdict on that file (the first failure is the one said) */
        if (fs[i] && import_close(fs[i], child[i], files[i], !irc))
            irc = -1;
        fs[i] = NULL;
    }
    /* nothing read was a line of that tool's log (an empty file, the wrong
     * --from): bad input, not an empty trace */
    if (!irc && st.unknown == st.lines - st.blank) {
        if (st.unknown)
            mv_error("trace import: none of the %llu lines read is a %s log line (the first, %s:%llu: %s): is "
                     "--from %s right?", (unsigned long long)st.unknown, from, st.first_unknown_file,
                     (unsigned long long)st.first_unknown_line, st.first_unknown, from);
        else
            mv_error("trace import: %s%s: %s: no %s log line to import", files[0], nfiles > 1 ? " ..." : "",
                     st.lines ? "blank lines alone" : "empty", from);
        irc = -1;
    }
    /* nor may one log be of another kind among good ones (a strace log
     * given to --from perf with a perf log): each log given has a line of
     * that tool's log, or none at all */
    for (unsigned i = 0; i < nfiles && !irc && nfiles > 1; i++)
        if (flines[i] && funknown[i] == flines[i])
            irc = mv_error("trace import: none of the %llu lines of '%s' is a %s log line, where another log given "
                           "has them: is it a %s log?", (unsigned long long)flines[i], files[i], from, from);
    free(flines);
    free(funknown);
    if (!irc)
        irc = build_finish(b);
    if (!irc && !trace_writer_count(w))   /* lines, some understood, but not one event: nothing to replay */
        irc = mv_error("trace import: %s%s: no event to import from its %llu lines (%llu not understood): is "
                       "--from %s right?", files[0], nfiles > 1 ? " ..." : "", (unsigned long long)st.lines,
                       (unsigned long long)st.unknown, from);
    if (irc) {
        /* out of descriptors, the output's disk full: not the input's fault */
        rc = import_host_failure(0) || trace_writer_failed(w) ? EXIT_FAIL : EXIT_USAGE;
        cli_guard_output(NULL, 0);        /* before the path it names is freed */
        trace_writer_abort(w);
        build_free(b);
        goto close_inputs;
    }
    import_report(&st, stderr, "memvirt: trace import");
    import_warn_window(&st, &o, window_arg, "trace import");
    build_report(b, stderr, "memvirt: trace import");
    uint64_t n = trace_writer_count(w);
    build_free(b);
    cli_guard_output(NULL, 0);
    rc = trace_writer_commit(w) ? EXIT_FAIL : EXIT_OK;
    if (!rc)
        fprintf(stderr, "memvirt: trace import: %llu records written to %s\n", (unsigned long long)n, out);
close_inputs:
    for (unsigned i = 0; i < nfiles; i++)
        if (fs[i])
            import_close(fs[i], child[i], files[i], 0);
    free(fs);
    free(child);
done:
    outset_free(&set);
    free(files);
    return rc;
}

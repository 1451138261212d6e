/* test_trace_replay.c: replaying traces that are well formed but unusual,
 * through the command as a user runs it ($MEMVIRT) and through the engine:
 *  - processes still running where the trace ends exit there: --check
 *    finds every guest frame given back;
 *  - an error found while replaying names the file, the record and its
 *    byte offset, is said once by compare (not once per mode), and is not
 *    followed by a leak report;
 *  - a trace spanning more than a week of recorded time is refused before
 *    any run, by trace info too, at the same record; a header
 *    mmap_min_addr that is not a user address is refused by all alike; a huge time gap no longer overflows the conversion to cycles
 *    (the engine run directly, past that check: the sanitizer build aborts
 *    on the undefined conversion) nor makes the time series sample for
 *    ever once the clock is at 2^64 cycles;
 *  - file offsets: the last page of the largest file a mapping may reach
 *    replays, one page further is refused by the reader;
 *  - a system call the guest kernel refuses (mprotect over a hole: ENOMEM,
 *    as Linux) is named with its pid, address and length and the error's
 *    text, not as "event of type 7 ... error -12";
 *  - a reference the guest kernel answers with SIGSEGV is named by its
 *    reason: no mapping there, or a mapping whose protection forbids it
 *    (a write to a read-only one, an exec of a non-executable one);
 *  - clean page-cache pages nothing maps are reclaimed before the guest
 *    runs out of memory; when it does run out, the run fails naming the
 *    record and the mode, through compare's deferred messages, exit 3;
 *  - one pid forked and exited a million times replays in linear time: the
 *    table of live pids is rebuilt at the same size when its deleted slots
 *    dominate (it doubled each time, and every probe walked the chain of
 *    deleted slots: 320,000 cycles took 27 s, a million about 4 minutes;
 *    now under a second, the alarm at 12 s generous even for the
 *    sanitizer build). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "sim/config.h"
#include "sim/engine.h"
#include "trace/writer.h"
#include "testutil.h"

static const struct trace_seg SEG[2] = {
    { 0x400000, 0x2000, TRP_READ | TRP_EXEC, TRS_FILE, 0, 1, 2, 0 },
    { 0x7ffffffde000ull, 0x21000, TRP_READ | TRP_WRITE, TRS_STACK, 0, 0, 0, 0 },
};
static uint64_t REF[2] = { 0x400000 | TRR_EXEC, 0x7fffffffe000ull | TRR_WRITE };

static unsigned lines(const char *s)
{
    unsigned n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

static void test_live_at_end(void **state)
{
    (void)state;
    if (!getenv("MEMVIRT"))
        skip();
    char path[64], args[256], err[4096];
    tu_tmpname(path, sizeof path, "live");
    struct trace_rec r[] = {
        { .kind = TR_SPAWN, .pid = 1 },
        { .kind = TR_EXEC, .pid = 1, .path = "/x", .seg = SEG, .nseg = 2 },
        { .kind = TR_REFS, .pid = 1, .ref = REF, .nref = 2 },
        { .kind = TR_FORK, .pid = 1, .child = 0 },                  /* thread id 0 is a pid too */
        { .kind = TR_FORK, .pid = 1, .child = UINT32_MAX },
        { .kind = TR_REFS, .pid = UINT32_MAX, .ref = REF, .nref = 2 },
        { .kind = TR_FORK, .pid = 1, .child = 7, .flags = TRF_VM | TRF_THREAD },
    };
    tu_write_trace(path, r, sizeof r / sizeof r[0]);
    snprintf(args, sizeof args, "compare --trace %s --check --quiet", path);
    int rc = tu_cli(args, err, sizeof err);
    unlink(path);
    if (rc || *err)
        fail_msg("exit %d: %s", rc, err);
}

static void test_error_named_once(void **state)
{
    (void)state;
    if (!getenv("MEMVIRT"))
        skip();
    char path[64], args[256], err[4096], want[160];
    tu_tmpname(path, sizeof path, "err");
    struct trace_rec r[] = {
        { .kind = TR_SPAWN, .pid = 1 },
        { .kind = TR_EXEC, .pid = 1, .path = "/x", .seg = SEG, .nseg = 2 },
        { .kind = TR_REFS, .pid = 1, .ref = REF, .nref = 2 },
        { .kind = TR_FORK, .pid = 1, .child = 2 },
        { .kind = TR_EXIT, .pid = 1 },
        { .kind = TR_REFS, .pid = 1, .ref = REF, .nref = 2 },          /* record 6: pid 1 is gone */
    };
    tu_write_trace(path, r, sizeof r / sizeof r[0]);
    snprintf(args, sizeof args, "compare --trace %s --check --quiet", path);
    int rc = tu_cli(args, err, sizeof err);
    snprintf(args, sizeof args, "compare --trace %s --check --quiet --jobs 1", path);
    char err1[4096];
    int rc1 = tu_cli(args, err1, sizeof err1);
    unlink(path);
    assert_int_equal(rc, 1);
    assert_int_equal(rc1, 1);
    snprintf(want, sizeof want, "memvirt: trace '%s': record 6 at byte ", path);
    if (lines(err) != 1 || strncmp(err, want, strlen(want)) || !strstr(err, "pid 1 does not exist"))
        fail_msg("expected one line '%s...pid 1 does not exist': %s", want, err);
    assert_string_equal(err, err1);
    assert_null(strstr(err, "never given back"));
}

/* memvirt args: exit status, standard error in err, and whether anything
 * reached standard output (*out_bytes). */
static int cli_both(const char *args, char *err, size_t len, long *out_bytes)
{
    char out[64], cmd[1024];
    tu_tmpname(out, sizeof out, "stdout");
    snprintf(cmd, sizeof cmd, "ASAN_OPTIONS=detect_leaks=0 '%s' %.512s 2>&1 >'%s'", getenv("MEMVIRT"), args, out);
    FILE *p = popen(cmd, "r");
    size_t n = fread(err, 1, len - 1, p);
    err[n] = 0;
    int st = pclose(p);
    free(tu_slurp(out, &n));
    unlink(out);
    *out_bytes = (long)n;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

/* Every command that reads a trace refuses the same record the same way:
 * one line naming record 3, exit 2, nothing on standard output (trace info
 * took a span of 2^64 - 1 ns and printed its table; run refused it). */
static void test_span_refused(void **state)
{
    (void)state;
    if (!getenv("MEMVIRT"))
        skip();
    char path[64], args[256], err[4096];
    tu_tmpname(path, sizeof path, "span");
    const uint64_t far[2] = { 10000000000000000ull, UINT64_MAX };   /* 1e16 ns; the longest gap a record holds */
    for (unsigned f = 0; f < 2; f++) {
        struct trace_rec r[] = {
            { .kind = TR_SPAWN, .pid = 1 },
            { .kind = TR_EXEC, .pid = 1, .path = "/x", .seg = SEG, .nseg = 2 },
            { .kind = TR_REFS, .t = far[f], .pid = 1, .ref = REF, .nref = 2 },
            { .kind = TR_EXIT, .t = far[f], .pid = 1 },
        };
        tu_write_trace(path, r, sizeof r / sizeof r[0]);
        const char *const cmds[] = { "compare --trace %s --check --quiet", "run --trace %s --mode hap --quiet",
                                     "trace info %s" };
        for (unsigned c = 0; c < 3; c++) {
            long out;
            snprintf(args, sizeof args, cmds[c], path);
            int rc = cli_both(args, err, sizeof err, &out);
            if (rc != 2 || out || lines(err) != 1 || !strstr(err, "record 3 at byte") || !strstr(err, "longest span"))
                fail_msg("%s: exit %d, %ld bytes on stdout, expected 2, none, one line naming record 3 and the "
                         "span: %s", args, rc, out, err);
        }
    }
    unlink(path);
}

/* A header mmap_min_addr that is not a byte address in the user half is
 * refused by every command alike, before anything is printed (trace info
 * printed its first line first; run and compare took it silently). */
static void test_bad_header_min_addr(void **state)
{
    (void)state;
    if (!getenv("MEMVIRT"))
        skip();
    char path[64], args[256], err[4096];
    tu_tmpname(path, sizeof path, "hdrmin");
    struct trace_rec r[] = {
        { .kind = TR_SPAWN, .pid = 1 },
        { .kind = TR_EXEC, .pid = 1, .path = "/x", .seg = SEG, .nseg = 2 },
        { .kind = TR_REFS, .pid = 1, .ref = REF, .nref = 2 },
        { .kind = TR_EXIT, .pid = 1 },
    };
    const char *const vals[] = { "-5", "99999999999999999999999", "140737488355328", "4K", "0" };
    for (unsigned v = 0; v < 5; v++) {
        const char *const k[] = { "command", "mmap_min_addr" }, *const val[] = { "test", vals[v] };
        struct trace_writer *w = trace_writer_open(path, k, val, 2);
        assert_non_null(w);
        for (unsigned i = 0; i < sizeof r / sizeof r[0]; i++)
            assert_int_equal(trace_write(w, &r[i]), 0);
        assert_int_equal(trace_writer_commit(w), 0);
        const int good = v >= 3;   /* 4K (param syntax, as --mmap-min-addr takes) and 0 */
        const char *const cmds[] = { "compare --trace %s --quiet", "run --trace %s --mode native --quiet",
                                     "trace info %s" };
        for (unsigned c = 0; c < 3; c++) {
            long out;
            snprintf(args, sizeof args, cmds[c], path);
            int rc = cli_both(args, err, sizeof err, &out);
            if (good && (rc || *err))
                fail_msg("mmap_min_addr %s: %s: exit %d: %s", vals[v], args, rc, err);
            if (!good && (rc != 2 || out || lines(err) != 1 || !strstr(err, "header (record 0): mmap_min_addr '") ||
                          !strstr(err, vals[v])))
                fail_msg("mmap_min_addr %s: %s: exit %d, %ld bytes on stdout, expected 2, none, one line: %s",
                         vals[v], args, rc, out, err);
        }
    }
    unlink(path);
}

/* Straight to the engine (no validation): a gap of 2^63 ns at 2+ GHz is
 * past 2^64 cycles; with the time series at its longest interval the idle
 * takes a few steps to the saturated target, 2^64 - 1 cycles, and the
 * references after it would wrap the clock: the run stops, one line. */
static void test_huge_gap_stops_before_the_clock_wraps(void **state)
{
    (void)state;
    char path[64], kv[128];
    tu_tmpname(path, sizeof path, "gap");
    struct trace_rec r[] = {
        { .kind = TR_SPAWN, .pid = 1 },
        { .kind = TR_EXEC, .pid = 1, .path = "/x", .seg = SEG, .nseg = 2 },
        { .kind = TR_REFS, .t = 1ull << 63, .pid = 1, .ref = REF, .nref = 2 },
    };
    tu_write_trace(path, r, sizeof r / sizeof r[0]);
    struct sim_config cfg;
    snprintf(kv, sizeof kv, "trace.file=%s", path);
    assert_int_equal(config_init(&cfg, "trace"), 0);
    assert_int_equal(config_param(&cfg, kv), 0);
    assert_int_equal(config_param(&cfg, "sim.series_ms=1000000000000"), 0);
    cfg.quiet = 1;
    struct run_result res;
    mv_error_quiet(1);
    assert_int_equal(engine_run(&cfg, mode_find("native"), &res), -1);
    mv_error_quiet(0);
    if (!strstr(mv_last_error(), "passed 2^64 cycles"))
        fail_msg("expected the clock's end named: %s", mv_last_error());
    run_result_free(&res);
    config_free(&cfg);
    unlink(path);
}

static void test_file_offsets(void **state)
{
    (void)state;
    if (!getenv("MEMVIRT"))
        skip();
    char path[64], args[256], err[4096];
    tu_tmpname(path, sizeof path, "pgoff");
    const uint64_t A = 0x7f0000000000ull;
    uint64_t ref[2] = { A, A + 0x1000 };
    for (int over = 0; over <= 1; over++) {
        struct trace_rec r[] = {
            { .kind = TR_SPAWN, .pid = 1 },
            { .kind = TR_EXEC, .pid = 1, .path = "/x", .seg = SEG, .nseg = 2 },
            { .kind = TR_MMAP, .pid = 1, .addr = A, .len = 0x2000, .prot = TRP_READ, .dev = 3, .ino = 4,
              .pgoff = (1ull << 32) - 2 + over },
            { .kind = TR_REFS, .pid = 1, .ref = ref, .nref = 2 },
            { .kind = TR_EXIT, .pid = 1 },
        };
        tu_write_trace(path, r, sizeof r / sizeof r[0]);
        snprintf(args, sizeof args, "compare --trace %s --check --quiet", path);
        int rc = tu_cli(args, err, sizeof err);
        if (!over && (rc || *err))
            fail_msg("the last page of the largest file: exit %d: %s", rc, err);
        if (over && (rc != 2 || lines(err) != 1 || !strstr(err, "record 3 at byte") ||
                     !strstr(err, "beyond 2^32 pages")))
            fail_msg("one page further: exit %d: %s", rc, err);
    }
    unlink(path);
}

static void test_syscall_error_named(void **state)
{
    (void)state;
    if (!getenv("MEMVIRT"))
        skip();
    char path[64], args[256], err[4096];
    tu_tmpname(path, sizeof path, "sysfail");
    static const struct {
        struct trace_rec rec;
        const char *want;
    } cases[] = {
        { { .kind = TR_MPROTECT, .pid = 1, .addr = 0x10000000, .len = 0x2000, .prot = TRP_READ },
          "pid 1: mprotect at 0x10000000, length 0x2000, failed: Cannot allocate memory (ENOMEM)" },
        { { .kind = TR_MREMAP, .pid = 1, .addr = 0x20000000, .len = 0x1000, .new_addr = 0x30000000,
            .new_len = 0x2000 },
          "pid 1: mremap at 0x20000000, length 0x1000, to 0x30000000, length 0x2000, failed: " },
    };
    for (unsigned c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        struct trace_rec r[] = {
            { .kind = TR_SPAWN, .pid = 1 },
            { .kind = TR_EXEC, .pid = 1, .path = "/x", .seg = SEG, .nseg = 2 },
            cases[c].rec,
            { .kind = TR_EXIT, .pid = 1 },
        };
        tu_write_trace(path, r, sizeof r / sizeof r[0]);
        snprintf(args, sizeof args, "run --trace %s --quiet", path);
        int rc = tu_cli(args, err, sizeof err);
        if (rc != 1 || lines(err) != 1 || !strstr(err, "record 3 at byte") || !strstr(err, cases[c].want))
            fail_msg("expected exit 1 and one line naming record 3 and '%s': exit %d: %s", cases[c].want, rc, err);
    }
    unlink(path);
}

static void test_segv_reason(void **state)
{
    (void)state;
    if (!getenv("MEMVIRT"))
        skip();
    char path[64], args[256], err[4096];
    tu_tmpname(path, sizeof path, "segv");
    static const struct {
        uint64_t ref;
        const char *want;
    } cases[] = {
        { 0x400000 | TRR_WRITE,
          "pid 1: reference to 0x400000 (write) writes to a read-only mapping (0x400000-0x402000 r-x): "
          "segmentation fault" },
        { 0x7fffffffe000ull | TRR_EXEC,
          "pid 1: reference to 0x7fffffffe000 (exec) executes a non-executable mapping "
          "(0x7ffffffde000-0x7ffffffff000 rw-): segmentation fault" },
        { 0x10000000, "pid 1: reference to 0x10000000 (read) reads a mapping with no access (PROT_NONE) "
                      "(0x10000000-0x10001000 ---): segmentation fault" },
        { 0x20000000 | TRR_WRITE, "pid 1: reference to 0x20000000 (write) is not mapped: segmentation fault" },
    };
    for (unsigned c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        uint64_t ref[1] = { cases[c].ref };
        struct trace_rec r[] = {
            { .kind = TR_SPAWN, .pid = 1 },
            { .kind = TR_EXEC, .pid = 1, .path = "/x", .seg = SEG, .nseg = 2 },
            { .kind = TR_MMAP, .pid = 1, .addr = 0x10000000, .len = 0x1000, .prot = 0, .flags = TRM_ANON },
            { .kind = TR_REFS, .pid = 1, .ref = ref, .nref = 1 },
            { .kind = TR_EXIT, .pid = 1 },
        };
        tu_write_trace(path, r, sizeof r / sizeof r[0]);
        snprintf(args, sizeof args, "run --trace %s --quiet", path);
        int rc = tu_cli(args, err, sizeof err);
        if (rc != 1 || lines(err) != 1 || !strstr(err, "record 4 at byte") || !strstr(err, cases[c].want))
            fail_msg("expected exit 1 and one line naming record 4 and '%s': exit %d: %s", cases[c].want, rc, err);
    }
    unlink(path);
}

/* One process reads n distinct 1 MiB files in turn, each mapped (shared
 * and written if `dirty`, else read-only and read), every page touched,
 * then unmapped; a 64 KiB file stays mapped throughout and is read again
 * at the end. Records: 1 spawn, 2 exec, 3 mmap + 4 read of the kept file,
 * then mmap, refs, munmap per file (the refs of file i: record 7 + 3i). */
static void write_file_reader(const char *path, unsigned n, int dirty)
{
    const uint64_t A = 0x7f0000000000ull, KEEP = 0x7e0000000000ull;
    static uint64_t ref[256], kref[16];
    unsigned nr = 0;
    struct trace_rec *r = calloc(3 * n + 8, sizeof *r);
    for (unsigned p = 0; p < 256; p++)
        ref[p] = (A + p * 0x1000ull) | (dirty ? TRR_WRITE : 0);
    for (unsigned p = 0; p < 16; p++)
        kref[p] = KEEP + p * 0x1000ull;
    r[nr++] = (struct trace_rec){ .kind = TR_SPAWN, .pid = 1 };
    r[nr++] = (struct trace_rec){ .kind = TR_EXEC, .pid = 1, .path = "/x", .seg = SEG, .nseg = 2 };
    r[nr++] = (struct trace_rec){ .kind = TR_MMAP, .pid = 1, .addr = KEEP, .len = 0x10000, .prot = TRP_READ,
                                  .dev = 3, .ino = 99999 };
    r[nr++] = (struct trace_rec){ .kind = TR_REFS, .pid = 1, .ref = kref, .nref = 16 };
    for (unsigned i = 0; i < n; i++) {
        r[nr++] = (struct trace_rec){ .kind = TR_MMAP, .pid = 1, .addr = A, .len = 1 << 20,
                                      .prot = TRP_READ | (dirty ? TRP_WRITE : 0), .flags = dirty ? TRM_SHARED : 0,
                                      .dev = 3, .ino = 100 + i };
        r[nr++] = (struct trace_rec){ .kind = TR_REFS, .pid = 1, .ref = ref, .nref = 256 };
        r[nr++] = (struct trace_rec){ .kind = TR_MUNMAP, .pid = 1, .addr = A, .len = 1 << 20 };
    }
    r[nr++] = (struct trace_rec){ .kind = TR_REFS, .pid = 1, .ref = kref, .nref = 16 };
    r[nr++] = (struct trace_rec){ .kind = TR_EXIT, .pid = 1 };
    tu_write_trace(path, r, nr);
    free(r);
}

/* Clean page-cache pages nothing maps are reclaimed when the guest would
 * otherwise run out of memory: 96 MiB of files read through 64 MiB of
 * guest RAM, 1 MiB mapped at a time, completes under every mode, checked
 * (the kept mapping's pages stay: the oracle and the kernel's check see
 * them). Before, the cache kept every page and the guest ran out. */
static void test_pagecache_reclaimed(void **state)
{
    (void)state;
    if (!getenv("MEMVIRT"))
        skip();
    char path[64], args[256], err[4096];
    tu_tmpname(path, sizeof path, "pcache");
    write_file_reader(path, 96, 0);
    for (int clustering = 0; clustering <= 1; clustering++) {
        snprintf(args, sizeof args, "compare --trace %s --check --quiet --param guest.ram_mb=64%s", path,
                 clustering ? " --clustering" : "");
        int rc = tu_cli(args, err, sizeof err);
        if (rc || *err)
            fail_msg("%s: exit %d: %s", clustering ? "--clustering" : "every mode", rc, err);
    }
    unlink(path);
}

/* The guest out of memory ends the run like any other run error: one line
 * naming where in the workload (the trace's record) and the mode, said the
 * same whatever the number of threads, exit 3, no leak report after it.
 * Dirty page-cache pages (written through a shared mapping; no writeback is
 * modelled) are not reclaimed, so 96 MiB of them run 64 MiB out. Before,
 * page_alloc.c printed a line naming neither and called exit(3). */
static void test_guest_oom_named(void **state)
{
    (void)state;
    if (!getenv("MEMVIRT"))
        skip();
    static const char *modes[] = { "native", "pv", "hap" };
    char path[64], args[256], err[3][4096];
    int rc[3];
    tu_tmpname(path, sizeof path, "oom");
    write_file_reader(path, 96, 1);
    for (int j = 0; j < 3; j++) {
        snprintf(args, sizeof args, "compare --modes native,pv,hap --trace %s --check --quiet "
                 "--param guest.ram_mb=64 --jobs %d", path, j + 1);
        rc[j] = tu_cli(args, err[j], sizeof err[j]);
    }
    snprintf(args, sizeof args, "run --mode pv --trace %s --check --quiet --param guest.ram_mb=64", path);
    char err1[4096];
    int rc1 = tu_cli(args, err1, sizeof err1);
    unlink(path);
    for (int j = 0; j < 3; j++) {
        assert_int_equal(rc[j], 3);
        assert_string_equal(err[j], err[0]);
    }
    if (lines(err[0]) != 3)
        fail_msg("expected one line per mode: %s", err[0]);
    char want[200];
    snprintf(want, sizeof want, "memvirt: trace '%s': record ", path);
    const char *l = err[0];
    for (int m = 0; m < 3; m++) {
        char mode[64];
        snprintf(mode, sizeof mode, " at byte ");
        if (strncmp(l, want, strlen(want)) || !strstr(l, mode))
            fail_msg("line %d does not name the record: %s", m + 1, err[0]);
        snprintf(mode, sizeof mode, ": the guest ran out of memory under %s (guest.ram_mb=64)", modes[m]);
        const char *e = strchr(l, '\n'), *f = strstr(l, mode);
        if (!f || f > e)
            fail_msg("line %d does not name mode %s: %s", m + 1, modes[m], err[0]);
        l = e + 1;
    }
    assert_int_equal(rc1, 3);
    if (lines(err1) != 1 || !strstr(err1, "under pv (guest.ram_mb=64); raise it with --param guest.ram_mb=N"))
        fail_msg("run: expected one line: %s", err1);
}

static void test_repeated_fork_exit(void **state)
{
    (void)state;
    char path[64], kv[128];
    tu_tmpname(path, sizeof path, "forkexit");
    static const char *const k[] = { "command" }, *const v[] = { "test" };
    struct trace_writer *w = trace_writer_open(path, k, v, 1);
    assert_non_null(w);
    struct trace_rec spawn = { .kind = TR_SPAWN, .pid = 100 };
    struct trace_rec exec = { .kind = TR_EXEC, .pid = 100, .path = "/x", .seg = SEG, .nseg = 2 };
    struct trace_rec fork = { .kind = TR_FORK, .pid = 100, .child = 101, .flags = TRF_VM };
    struct trace_rec exit1 = { .kind = TR_EXIT, .pid = 101 };
    assert_int_equal(trace_write(w, &spawn), 0);
    assert_int_equal(trace_write(w, &exec), 0);
    for (unsigned i = 0; i < 1000000; i++) {
        assert_int_equal(trace_write(w, &fork), 0);
        assert_int_equal(trace_write(w, &exit1), 0);
    }
    assert_int_equal(trace_writer_commit(w), 0);
    struct sim_config cfg;
    snprintf(kv, sizeof kv, "trace.file=%s", path);
    assert_int_equal(config_init(&cfg, "trace"), 0);
    assert_int_equal(config_param(&cfg, kv), 0);
    cfg.quiet = 1;
    struct run_result res;
    alarm(12);                      /* the quadratic table: minutes (SIGALRM ends the test) */
    assert_int_equal(engine_run(&cfg, mode_find("native"), &res), 0);
    alarm(0);
    run_result_free(&res);
    config_free(&cfg);
    unlink(path);
}

int main(void)
{
    mv_error_quiet(1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_live_at_end),        cmocka_unit_test(test_error_named_once),
        cmocka_unit_test(test_span_refused),       cmocka_unit_test(test_huge_gap_stops_before_the_clock_wraps),
        cmocka_unit_test(test_file_offsets),       cmocka_unit_test(test_syscall_error_named),
        cmocka_unit_test(test_segv_reason),        cmocka_unit_test(test_pagecache_reclaimed),
        cmocka_unit_test(test_guest_oom_named),    cmocka_unit_test(test_repeated_fork_exit),
        cmocka_unit_test(test_bad_header_min_addr),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

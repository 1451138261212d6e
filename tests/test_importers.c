/* test_importers.c: the importers on small logs written here, read back
 * record by record:
 *  - lackey: a fork is a fork (valgrind prints clone's flags in hex without
 *    0x: read as decimal, 1200011 has CLONE_VM's bit), the child starts with
 *    a copy of its parent's descriptors, and the parent keeps its own after
 *    the child has run (a file it mmaps later is still known by its path);
 *    a thread's clone (flags 3d0f00, hex digits that are not decimal ones)
 *    is read and makes a thread;
 *  - lackey logs read by name: a child's log removed, replaced, written to
 *    (grown, or only its time changed) or made a FIFO between the header
 *    scan and the reading of its references, or removed before the scan
 *    (after cmd_trace_import's check): one line, "log 'NAME' changed while
 *    it was imported: REASON", a failure outside the input (exit 1) as the
 *    strace importer's (test_reopen.c); unchanged, the import succeeds;
 *  - strace: a child that speaks before its parent's clone returns is the
 *    child of the task whose fork is unfinished (the list of those), and a
 *    task whose clone has returned is no longer on it;
 *  - a field's negative value (perf's "lost: N", "error_code=N") is its
 *    64-bit two's complement, INT64_MIN too (was: a signed negation that
 *    overflowed, undefined behaviour the sanitizer build stops at). */
#include <stdarg.h>
#include <stddef.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lib/err.h"
#include "trace/fdtab.h"
#include "trace/import.h"
#include "trace/reader.h"

static const char *K[] = { "source" }, *V[] = { "test" };

/* Import with fn, then read the records back into recs (up to max). */
struct got { struct trace_rec rec[64]; unsigned n; };

static void read_back(struct trace_writer *w, struct got *g)
{
    unsigned char *buf;
    size_t len;
    assert_int_equal(trace_writer_commit_mem(w, &buf, &len), 0);
    struct trace_reader *r = trace_open_mem(buf, len, "test");
    assert_non_null(r);
    struct trace_rec x;
    int rc;
    g->n = 0;
    while ((rc = trace_next(r, &x)) == 1)
        if (g->n < 64) {
            x.path = NULL, x.seg = NULL, x.ref = NULL;     /* the reader's, gone after close */
            g->rec[g->n++] = x;
        }
    assert_int_equal(rc, 0);
    trace_close(r);
    free(buf);
}

static const struct trace_rec *find(const struct got *g, enum trace_kind k, uint32_t pid, unsigned nth)
{
    for (unsigned i = 0; i < g->n; i++)
        if (g->rec[i].kind == k && g->rec[i].pid == pid && !nth--)
            return &g->rec[i];
    return NULL;
}

static const char parent_log[] =
    "==100== Command: /bin/sh -c x\n"
    "==100== Parent PID: 99\n"
    "SYSCALL[100,1](257) sys_openat ( 4294967196, 0x4034bb0(/lib/libx.so), 0 ) --> [async] ... \n"
    "SYSCALL[100,1](257) ... [async] --> Success(0x3) \n"
    "SYSCALL[100,1](56) sys_clone ( 1200011, 0x0, 0x0, 0x4a29a10, 0x0 )   clone(fork): process 100 created child 101\n"
    " --> [pre-success] Success(0x65) \n"
    "SYSCALL[100,1](9) sys_mmap ( 0x0, 8192, 1, 2, 3, 0 ) --> [pre-success] Success(0x4835000) \n"
    "SYSCALL[100,1](231) exit_group( 0 ) --> [pre-success] Success(0x0) \n";
static const char child_log[] =
    "==101== Command: /bin/sh -c x\n"
    "==101== Parent PID: 100\n"
    " --> [pre-success] Success(0x0) \n"
    "SYSCALL[101,1](9) sys_mmap ( 0x0, 4096, 1, 2, 3, 4096 ) --> [pre-success] Success(0x4900000) \n"
    "SYSCALL[101,1](3) sys_close ( 3 )[sync] --> Success(0x0) \n"
    "SYSCALL[101,1](9) sys_mmap ( 0x0, 4096, 1, 2, 3, 0 ) --> [pre-success] Success(0x4a00000) \n"
    "SYSCALL[101,1](231) exit_group( 0 ) --> [pre-success] Success(0x0) \n";

static void test_lackey_fork(void **state)
{
    (void)state;
    FILE *f[2] = { fmemopen((void *)parent_log, sizeof parent_log - 1, "r"),
                   fmemopen((void *)child_log, sizeof child_log - 1, "r") };
    const char *names[2] = { "lackey.100.1", "lackey.101.1" };
    struct trace_writer *w = trace_writer_mem(K, V, 1);
    struct build *b = build_new(w);
    struct import_opts o = { .sample = 1 };
    struct import_stats st = { 0 };
    assert_int_equal(import_lackey(b, f, names, 2, &o, &st), 0);
    assert_int_equal(build_finish(b), 0);
    assert_int_equal(st.unknown, 0);               /* the child's " --> " line is the fork's return */
    build_free(b);
    fclose(f[0]);
    fclose(f[1]);
    struct got g;
    read_back(w, &g);
    const struct trace_rec *fk = find(&g, TR_FORK, 100, 0);
    assert_non_null(fk);
    assert_int_equal(fk->child, 101);
    assert_int_equal(fk->flags, 0);                /* a fork: 0x1200011 has no CLONE_VM */
    uint64_t lib = import_path_hash("/lib/libx.so", strlen("/lib/libx.so"));
    const struct trace_rec *cm = find(&g, TR_MMAP, 101, 0), *cm2 = find(&g, TR_MMAP, 101, 1);
    const struct trace_rec *pm = find(&g, TR_MMAP, 100, 0);
    assert_non_null(cm);
    assert_non_null(cm2);
    assert_non_null(pm);
    assert_int_equal(cm->ino, lib);                /* inherited descriptor */
    assert_int_not_equal(cm2->ino, lib);           /* closed in the child ... */
    assert_int_equal(pm->ino, lib);                /* ... but still the parent's, after the child ran */
    assert_true(pm->t > cm2->t);
}

/* what valgrind 3.19 logs for pthread_create's clone */
static const char thread_log[] =
    "==100== Command: /usr/bin/python3 -c x\n"
    "==100== Parent PID: 99\n"
    "SYSCALL[100,1](56) sys_clone ( 3d0f00, 0x5a5e0b0, 0x5a5e9d0, 0x5a5e9d0, 0x5a5e6c0 ) --> [pre-success] "
    "Success(0x65) \n"
    "SYSCALL[100,1](231) exit_group( 0 ) --> [pre-success] Success(0x0) \n";

static void test_lackey_thread(void **state)
{
    (void)state;
    FILE *f[1] = { fmemopen((void *)thread_log, sizeof thread_log - 1, "r") };
    const char *names[1] = { "lackey.100.1" };
    struct trace_writer *w = trace_writer_mem(K, V, 1);
    struct build *b = build_new(w);
    struct import_opts o = { .sample = 1 };
    struct import_stats st = { 0 };
    assert_int_equal(import_lackey(b, f, names, 1, &o, &st), 0);   /* was: malformed line at "d0f00" */
    assert_int_equal(build_finish(b), 0);
    build_free(b);
    fclose(f[0]);
    struct got g;
    read_back(w, &g);
    const struct trace_rec *fk = find(&g, TR_FORK, 100, 0);
    assert_non_null(fk);
    assert_int_equal(fk->child, 101);
    assert_int_equal(fk->flags, TRF_THREAD | TRF_VM);
}

/* An access of 0 bytes is none lackey writes: refused at its size, as
 * any other malformed reference line is (it was taken as a read). */
static void test_lackey_size_zero(void **state)
{
    (void)state;
    static const char log[] = "==100== Command: /bin/x\n L 04222cac,8\n L 04222cb0,0\n";
    FILE *f[1] = { fmemopen((void *)log, sizeof log - 1, "r") };
    const char *names[1] = { "lackey.100" };
    struct trace_writer *w = trace_writer_mem(K, V, 1);
    struct build *b = build_new(w);
    struct import_opts o = { .sample = 1 };
    struct import_stats st = { 0 };
    assert_int_equal(import_lackey(b, f, names, 1, &o, &st), -1);
    assert_string_equal(mv_last_error(),
                        "lackey.100:3:13: malformed line: expected ADDRESS,SIZE with a SIZE of at least 1, not 0");
    build_free(b);
    trace_writer_abort(w);
    fclose(f[0]);
}

enum lchange { L_NONE, L_REMOVE, L_REPLACE, L_GROW, L_TOUCH, L_FIFO };
struct lk_change {
    const char *path, *other;
    enum lchange how;
};

static void put_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

static void lk_change(void *ctx)
{
    const struct lk_change *c = ctx;
    struct timespec ts[2] = { { 0, UTIME_OMIT }, { 1000000000, 0 } };   /* a time apart from the first */
    switch (c->how) {
    case L_NONE:
        break;
    case L_REMOVE:
        assert_int_equal(unlink(c->path), 0);
        break;
    case L_REPLACE:                   /* the same bytes, another file */
        put_file(c->other, child_log);
        assert_int_equal(rename(c->other, c->path), 0);
        break;
    case L_GROW: {
        FILE *f = fopen(c->path, "a");
        assert_non_null(f);
        fputs("SYSCALL[101,1](12) sys_brk ( 0x0 ) --> [pre-success] Success(0x4c00000) \n", f);
        assert_int_equal(fclose(f), 0);
        break;
    }
    case L_TOUCH:
        assert_int_equal(utimensat(AT_FDCWD, c->path, ts, 0), 0);
        break;
    case L_FIFO:                      /* not waited on: refused */
        assert_int_equal(unlink(c->path), 0);
        assert_int_equal(mkfifo(c->path, 0600), 0);
        break;
    }
}

/* The directory of the test running, removed by lk_teardown: also when an
 * assertion fails half way (cmocka leaves the test by longjmp, past its
 * own clean-up: each failing run of these tests left a
 * /tmp/memvirt-lackey.* directory behind). */
static char lk_dir[64];

static int lk_teardown(void **state)
{
    (void)state;
    if (!lk_dir[0])
        return 0;
    static const char *const leaf[] = { "lackey.100.1", "lackey.101.1", "other" };
    char p[96];
    for (unsigned i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s/%s", lk_dir, leaf[i]);
        unlink(p);
    }
    int rc = rmdir(lk_dir);
    lk_dir[0] = 0;
    return rc;
}

static void lackey_changed(enum lchange how, int before_scan, const char *expect)
{
    char dir[] = "/tmp/memvirt-lackey.XXXXXX", parent[64], child[64], other[64];
    assert_non_null(mkdtemp(dir));
    snprintf(lk_dir, sizeof lk_dir, "%s", dir);
    snprintf(parent, sizeof parent, "%s/lackey.100.1", dir);
    snprintf(child, sizeof child, "%s/lackey.101.1", dir);
    snprintf(other, sizeof other, "%s/other", dir);
    put_file(parent, parent_log);
    put_file(child, child_log);
    const char *names[2] = { parent, child };
    struct lk_change ch = { child, other, how };
    struct trace_writer *w = trace_writer_mem(K, V, 1);
    struct build *b = build_new(w);
    struct import_opts o = { .sample = 1, .scanned = before_scan ? NULL : lk_change, .scanned_ctx = &ch };
    struct import_stats st = { 0 };
    if (before_scan)
        lk_change(&ch);
    import_failure_reset();
    int quiet = mv_error_quiet(0);    /* the lines collected, not printed */
    mv_error_defer(1);
    int rc = import_lackey(b, NULL, names, 2, &o, &st);
    mv_error_defer(0);
    mv_error_quiet(quiet);
    char *said = mv_error_take();
    if (how == L_NONE) {
        assert_int_equal(rc, 0);
        assert_null(said);
        assert_int_equal(build_finish(b), 0);
        assert_int_equal(import_host_failure(0), 0);
    } else {
        char want[256];
        snprintf(want, sizeof want, "memvirt: log '%s' changed while it was imported: %s\n", child, expect);
        assert_int_equal(rc, -1);
        assert_non_null(said);
        assert_string_equal(said, want);                /* one line, naming the log and why */
        assert_int_equal(import_host_failure(0), 1);    /* not the input's fault: exit 1, as strace's */
    }
    free(said);
    build_free(b);
    trace_writer_abort(w);
}

static void test_lackey_unchanged(void **state) { (void)state; lackey_changed(L_NONE, 0, ""); }
static void test_lackey_removed(void **state)   { (void)state; lackey_changed(L_REMOVE, 0, "No such file or directory"); }
static void test_lackey_replaced(void **state)  { (void)state; lackey_changed(L_REPLACE, 0, "another file has its name now"); }
static void test_lackey_grown(void **state)
{
    (void)state;
    char expect[96];
    snprintf(expect, sizeof expect, "its size went from %zu to %zu bytes", sizeof child_log - 1,
             sizeof child_log - 1 + strlen("SYSCALL[101,1](12) sys_brk ( 0x0 ) --> [pre-success] Success(0x4c00000) \n"));
    lackey_changed(L_GROW, 0, expect);
}
static void test_lackey_touched(void **state)
{
    (void)state;
    lackey_changed(L_TOUCH, 0, "it was written to (its modification time changed)");
}
static void test_lackey_fifo(void **state)     { (void)state; lackey_changed(L_FIFO, 0, "it is not a regular file now"); }
/* removed after the check, before its first opening (the header scan) */
static void test_lackey_removed_before_scan(void **state)
{
    (void)state;
    lackey_changed(L_REMOVE, 1, "No such file or directory");
}

static const char strace_log[] =
    "100 1700000000.000001 execve(\"/bin/x\", [\"x\"], 0x7ffd /* 1 var */) = 0\n"
    "200 1700000000.000002 vfork( <unfinished ...>\n"          /* a task never seen starting */
    "100 1700000000.000003 clone(child_stack=NULL, flags=CLONE_CHILD_SETTID|SIGCHLD <unfinished ...>\n"
    "101 1700000000.000004 mmap(NULL, 4096, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f0000000000\n"
    "100 1700000000.000005 <... clone resumed>) = 101\n"
    "102 1700000000.000006 mmap(NULL, 4096, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f0000001000\n";

static void test_strace_early_child(void **state)
{
    (void)state;
    FILE *f = fmemopen((void *)strace_log, sizeof strace_log - 1, "r");
    struct trace_writer *w = trace_writer_mem(K, V, 1);
    struct build *b = build_new(w);
    struct import_opts o = { .sample = 1 };
    struct import_stats st = { 0 };
    assert_int_equal(import_strace(b, f, "t.strace", &o, &st), 0);
    assert_int_equal(build_finish(b), 0);
    fclose(f);
    build_free(b);
    struct got g;
    read_back(w, &g);
    const struct trace_rec *fk = find(&g, TR_FORK, 100, 0);
    assert_non_null(fk);
    assert_int_equal(fk->child, 101);              /* 101 spoke first: 100's unfinished clone made it,
                                                      not 200's older vfork (200 is unknown) */
    assert_int_equal(fk->flags, 0);
    assert_null(find(&g, TR_FORK, 100, 1));        /* the resumed clone does not fork it again */
    assert_null(find(&g, TR_FORK, 200, 0));        /* 200 never started: its vfork is nobody's */
    assert_non_null(find(&g, TR_MMAP, 101, 0));
    assert_null(find(&g, TR_MMAP, 102, 0));        /* 100's clone has returned: 102 is unknown */
}

static void test_field_negative(void **state)
{
    (void)state;
    uint64_t v = 0;
    assert_int_equal(import_field("x lost: -9223372036854775808 y", "lost", &v), 1);
    assert_true(v == 0x8000000000000000ull);
    assert_int_equal(import_field("error_code=-1", "error_code", &v), 1);
    assert_true(v == UINT64_MAX);
    assert_int_equal(import_field("error_code=-0x10", "error_code", &v), 1);
    assert_true(v == (uint64_t)-16);
    assert_int_equal(import_field("error_code=-", "error_code", &v), -1);
    assert_int_equal(import_field("code=1", "error_code", &v), 0);
}

int main(void)
{
    mv_error_quiet(1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lackey_fork),
        cmocka_unit_test(test_lackey_thread),
        cmocka_unit_test(test_lackey_size_zero),
        cmocka_unit_test_teardown(test_lackey_unchanged, lk_teardown),
        cmocka_unit_test_teardown(test_lackey_removed, lk_teardown),
        cmocka_unit_test_teardown(test_lackey_replaced, lk_teardown),
        cmocka_unit_test_teardown(test_lackey_grown, lk_teardown),
        cmocka_unit_test_teardown(test_lackey_touched, lk_teardown),
        cmocka_unit_test_teardown(test_lackey_fifo, lk_teardown),
        cmocka_unit_test_teardown(test_lackey_removed_before_scan, lk_teardown),
        cmocka_unit_test(test_strace_early_child),
        cmocka_unit_test(test_field_negative),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_import_strace.c: the strace importer (src/trace/import_strace*.c) on
 * excerpts of real strace 6.1 logs recorded on this project's machine (the
 * lines kept as strace wrote them, only some lines of other tasks left out),
 * read back record by record. Each excerpt went wrong before the fix it
 * tests:
 *  - xargs -P4: two vforks unfinished, the children speak before either
 *    returns: each child is the child of the vfork that returned its pid
 *    (was: both given to the oldest unfinished vfork);
 *  - clone's flags (were read from its first argument only);
 *  - a clone3(CLONE_THREAD) unfinished, its thread vforks: the thread's
 *    child is the thread's, not the clone3's (was: an unfinished fork
 *    adopted every later unknown task);
 *  - a thread's execve, taken up by the leader ("superseded by execve"):
 *    the exec happens (was: lost, the new image's calls in the old one);
 *  - four threads mmap, mprotect and munmap: a munmap still unfinished in
 *    one thread while another maps the range again unmaps at its entry
 *    (was: at its return, deleting the new mapping and refusing the next
 *    mprotect);
 *  - strace -X raw: numeric protections and flags (was: every mapping
 *    PROT_NONE, anonymous ones file mappings of fd -1);
 *  - -9223372036854775808, a value a call may return (was: a signed
 *    negation that overflowed, undefined behaviour);
 *  - strace -y with a path holding ", " and "(" (was: a malformed line);
 *  - a thread maps a file its process opened: one table for both (was: the
 *    thread had none, and its mapping became another file);
 *  - strace -ff's LOG.PID files: merged by time, each line of its file's
 *    pid (was: one process, pid 0);
 *  - tasks killed during an unfinished clone: their forks leave the list,
 *    and lines of tasks no fork made are held (bounded), counted, not given
 *    to them (was: a list walked by every such line, quadratic). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lib/err.h"
#include "trace/fdtab.h"
#include "trace/import.h"
#include "trace/import_strace.h"
#include "trace/reader.h"

static const char *K[] = { "source" }, *V[] = { "test" };

#define MAXREC 256
struct got {
    struct trace_rec rec[MAXREC];
    unsigned n;
    uint64_t refused;
    struct import_stats st;
};

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
        if (g->n < MAXREC) {
            x.path = NULL, x.seg = NULL, x.ref = NULL;     /* the reader's, gone after close */
            g->rec[g->n++] = x;
        }
    assert_int_equal(rc, 0);
    trace_close(r);
    free(buf);
}

/* Import the logs (n of them, named names) into g; the importer's status. */
static int import(const char *const *logs, const char *const *names, unsigned n, struct got *g)
{
    FILE *f[8];
    for (unsigned i = 0; i < n; i++)
        f[i] = fmemopen((void *)logs[i], strlen(logs[i]), "r");
    struct trace_writer *w = trace_writer_mem(K, V, 1);
    struct build *b = build_new(w);
    struct import_opts o = { .sample = 1 };
    memset(g, 0, sizeof *g);
    int rc = import_strace_files(b, f, names, n, &o, &g->st);
    if (!rc)
        rc = build_finish(b);
    g->refused = build_count(b, BC_CALL_REFUSED);
    for (unsigned i = 0; i < n; i++)
        fclose(f[i]);
    build_free(b);
    if (!rc)
        read_back(w, g);
    else
        trace_writer_abort(w);
    return rc;
}

static int import1(const char *log, struct got *g)
{
    const char *name = "t.strace";
    return import(&log, &name, 1, g);
}

static const struct trace_rec *find(const struct got *g, enum trace_kind k, uint32_t pid, unsigned nth)
{
    for (unsigned i = 0; i < g->n; i++)
        if (g->rec[i].kind == k && g->rec[i].pid == pid && !nth--)
            return &g->rec[i];
    return NULL;
}

static const struct trace_rec *fork_of(const struct got *g, uint32_t child)
{
    for (unsigned i = 0; i < g->n; i++)
        if (g->rec[i].kind == TR_FORK && g->rec[i].child == child)
            return &g->rec[i];
    return NULL;
}

/* strace -f -ttt -o xa3.log sh -c 'seq 60 | xargs -P 4 -n1 sh -c "/bin/true; /bin/true"' */
static const char xargs_log[] =
    "31513 1796066889.508039 execve(\"/usr/bin/sh\", [\"sh\", \"-c\", \"seq 60 | xargs -P 4 -n1 sh -c \\\"/\"...], "
    "0x7ffe98720b90 /* 37 vars */) = 0\n"
    "31513 1796066889.511655 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD "
    "<unfinished ...>\n"
    "31513 1796066889.511800 <... clone resumed>, child_tidptr=0x7f5c6e411a10) = 31515\n"
    "31515 1796066889.512298 execve(\"/usr/bin/xargs\", [\"xargs\", \"-P\", \"4\", \"-n1\", \"sh\", \"-c\", "
    "\"/bin/true; /bin/true\"], 0x558e0ef87dd8 /* 37 vars */ <unfinished ...>\n"
    "31515 1796066889.512556 <... execve resumed>) = 0\n"
    "31515 1796066889.520757 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD "
    "<unfinished ...>\n"
    "31515 1796066889.520980 <... clone resumed>, child_tidptr=0x7f2fb0863a10) = 31516\n"
    "31515 1796066889.523885 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD "
    "<unfinished ...>\n"
    "31515 1796066889.524132 <... clone resumed>, child_tidptr=0x7f2fb0863a10) = 31517\n"
    "31517 1796066889.534297 vfork( <unfinished ...>\n"
    "31516 1796066889.534696 vfork( <unfinished ...>\n"
    "31521 1796066889.534764 rt_sigprocmask(SIG_SETMASK, [],  <unfinished ...>\n"
    "31522 1796066889.534809 rt_sigprocmask(SIG_SETMASK, [],  <unfinished ...>\n"
    "31521 1796066889.534822 <... rt_sigprocmask resumed>~[KILL STOP RTMIN RT_1], 8) = 0\n"
    "31522 1796066889.534844 <... rt_sigprocmask resumed>~[KILL STOP RTMIN RT_1], 8) = 0\n"
    "31521 1796066889.534862 execve(\"/bin/true\", [\"/bin/true\"], 0x55c5bf874b38 /* 37 vars */ <unfinished ...>\n"
    "31522 1796066889.534951 execve(\"/bin/true\", [\"/bin/true\"], 0x55f5f76e7b38 /* 37 vars */ <unfinished ...>\n"
    "31516 1796066889.535057 <... vfork resumed>) = 31522\n"
    "31521 1796066889.535069 <... execve resumed>) = 0\n"
    "31517 1796066889.535099 <... vfork resumed>) = 31521\n"
    "31522 1796066889.535305 <... execve resumed>) = 0\n";

static void test_xargs_parents(void **state)
{
    (void)state;
    struct got g;
    assert_int_equal(import1(xargs_log, &g), 0);
    const struct trace_rec *a = fork_of(&g, 31521), *b = fork_of(&g, 31522);
    assert_non_null(a);
    assert_non_null(b);
    assert_int_equal(a->pid, 31517);
    assert_int_equal(b->pid, 31516);               /* was 31517: the oldest unfinished vfork */
    assert_int_equal(a->flags, TRF_VM | TRF_VFORK);
    assert_int_equal(b->flags, TRF_VM | TRF_VFORK);
    assert_non_null(find(&g, TR_EXEC, 31521, 0));
    assert_non_null(find(&g, TR_EXEC, 31522, 0));  /* its held lines replayed under it */
    assert_int_equal(g.st.orphan_tasks, 0);
}

/* the attack review's syn1.log: a clone3(CLONE_THREAD) unfinished, its
 * thread vforks, the vfork child speaks */
static const char thread_vfork_log[] =
    "100 1.000000 execve(\"/bin/x\", [\"/bin/x\"], 0x7ffd /* 3 vars */) = 0\n"
    "100 1.000100 clone3({flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD, child_tid=0x1}, 88 "
    "<unfinished ...>\n"
    "101 1.000200 vfork( <unfinished ...>\n"
    "102 1.000300 execve(\"/bin/true\", [\"/bin/true\"], 0x7ffd /* 3 vars */) = 0\n"
    "102 1.000400 mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f0000000000\n"
    "102 1.000500 exit_group(0) = ?\n"
    "102 1.000600 +++ exited with 0 +++\n"
    "101 1.000700 <... vfork resumed>) = 102\n"
    "100 1.000800 <... clone3 resumed> => {parent_tid=[101]}, 88) = 101\n"
    "101 1.000900 exit(0) = ?\n"
    "101 1.001000 +++ exited with 0 +++\n";

static void test_thread_vfork(void **state)
{
    (void)state;
    struct got g;
    assert_int_equal(import1(thread_vfork_log, &g), 0);
    const struct trace_rec *t = fork_of(&g, 101), *v = fork_of(&g, 102);
    assert_non_null(t);
    assert_non_null(v);
    assert_int_equal(t->pid, 100);
    assert_int_equal(t->flags, TRF_VM | TRF_THREAD);
    assert_int_equal(v->pid, 101);                 /* was 100: the clone3 adopted it too */
    assert_int_equal(v->flags, TRF_VM | TRF_VFORK);
}

/* clone's flags are its second argument (were read from its first only) */
static void test_clone_flags(void **state)
{
    (void)state;
    static const char log[] =
        "100 1700000000.000001 execve(\"/bin/x\", [\"x\"], 0x7f /* 1 var */) = 0\n"
        "100 1700000000.000002 clone(child_stack=0x7f00, flags=CLONE_VM|CLONE_VFORK|SIGCHLD) = 101\n";
    struct got g;
    assert_int_equal(import1(log, &g), 0);
    const struct trace_rec *f = fork_of(&g, 101);
    assert_non_null(f);
    assert_int_equal(f->flags, TRF_VM | TRF_VFORK);
}

/* python3: a thread calls execve while the main thread waits */
static const char thread_exec_log[] =
    "27072 1796068704.140719 execve(\"/usr/bin/python3\", [\"/usr/bin/python3\", \"te.py\"], 0x7ffc99a4a2c8 "
    "/* 37 vars */) = 0\n"
    "27072 1796068704.244090 clone3({flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM|"
    "CLONE_SETTLS|CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID, child_tid=0x7f7b23ad3990, parent_tid=0x7f7b23ad3990, "
    "exit_signal=0, stack=0x7f7b232d3000, stack_size=0x7fff80, tls=0x7f7b23ad36c0} => {parent_tid=[27073]}, 88) = "
    "27073\n"
    "27073 1796068704.263539 mmap(NULL, 16384, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = "
    "0x7f7b232cf000\n"
    "27072 1796068704.263762 futex(0xa5b8f0, FUTEX_WAIT_BITSET_PRIVATE, 0, {tv_sec=73612, tv_nsec=708896683}, "
    "FUTEX_BITSET_MATCH_ANY <unfinished ...>\n"
    "27073 1796068704.263777 execve(\"/bin/true\", [\"/bin/true\"], 0x7ffc27c94860 /* 37 vars */ <unfinished ...>\n"
    "27072 1796068704.263916 <... futex resumed>) = ?\n"
    "27072 1796068704.264665 +++ superseded by execve in pid 27073 +++\n"
    "27072 1796068704.264686 <... execve resumed>) = 0\n"
    "27072 1796068704.264722 brk(NULL)       = 0x55788fe04000\n"
    "27072 1796068704.265272 mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = "
    "0x7f5aa6b2d000\n";

static void test_thread_exec(void **state)
{
    (void)state;
    struct got g;
    assert_int_equal(import1(thread_exec_log, &g), 0);
    const struct trace_rec *e = find(&g, TR_EXEC, 27072, 1);
    assert_non_null(e);                            /* was: the thread's execve lost */
    assert_non_null(find(&g, TR_EXIT, 27073, 0));  /* the thread took the leader's pid */
    const struct trace_rec *m = find(&g, TR_MMAP, 27072, 0);
    assert_non_null(m);
    assert_true(m > e);                            /* in the new image */
    assert_int_equal(g.refused, 0);
}

/* race.c of the attack review: 4 threads mmap, touch, mprotect, munmap */
static const char munmap_race_log[] =
    "11544 1796067187.641177 execve(\"./race\", [\"./race\"], 0x7ffe5de74100 /* 37 vars */) = 0\n"
    "11544 1796067187.652515 clone3({flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM|"
    "CLONE_SETTLS|CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID, child_tid=0x7f20afd64990, parent_tid=0x7f20afd64990, "
    "exit_signal=0, stack=0x7f20af564000, stack_size=0x7fff80, tls=0x7f20afd646c0} => {parent_tid=[11545]}, 88) "
    "= 11545\n"
    "11544 1796067187.653836 clone3({flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM|"
    "CLONE_SETTLS|CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID, child_tid=0x7f20ae561990, parent_tid=0x7f20ae561990, "
    "exit_signal=0, stack=0x7f20add61000, stack_size=0x7fff80, tls=0x7f20ae5616c0} <unfinished ...>\n"
    "11544 1796067187.653943 <... clone3 resumed> => {parent_tid=[11548]}, 88) = 11548\n"
    "11545 1796067187.655885 mmap(NULL, 16384, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0 "
    "<unfinished ...>\n"
    "11545 1796067187.655937 <... mmap resumed>) = 0x7f20aff51000\n"
    "11545 1796067187.656324 munmap(0x7f20aff51000, 16384 <unfinished ...>\n"
    "11548 1796067187.656333 mmap(NULL, 16384, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0 "
    "<unfinished ...>\n"
    "11548 1796067187.656379 <... mmap resumed>) = 0x7f20aff51000\n"
    "11545 1796067187.656409 <... munmap resumed>) = 0\n"
    "11548 1796067187.656581 mprotect(0x7f20aff51000, 4096, PROT_READ <unfinished ...>\n"
    "11548 1796067187.656646 <... mprotect resumed>) = 0\n";

static void test_munmap_race(void **state)
{
    (void)state;
    struct got g;
    assert_int_equal(import1(munmap_race_log, &g), 0);
    assert_int_equal(g.refused, 0);                /* was 1: the second mprotect */
    const struct trace_rec *m = find(&g, TR_MPROTECT, 11548, 0);
    assert_non_null(m);
    assert_int_equal(m->addr, 0x7f20aff51000ull);
    const struct trace_rec *u = find(&g, TR_MUNMAP, 11545, 0), *mm = find(&g, TR_MMAP, 11548, 0);
    assert_non_null(u);
    assert_non_null(mm);
    assert_true(u < mm);                           /* unmapped before the range was mapped again */
}

/* strace -f -ttt -X raw -o raw.log sh -c /bin/true */
static const char raw_log[] =
    "12637 1796067213.472187 execve(\"/usr/bin/sh\", [\"sh\", \"-c\", \"/bin/true\"], 0x7fff74da74c0 /* 37 vars */) = 0\n"
    "12637 1796067213.472821 mmap(NULL, 8192, 0x3, 0x22, -1, 0) = 0x7fb8530da000\n"
    "12637 1796067213.472907 openat(-100, \"/etc/ld.so.cache\", 0x80000) = 3\n"
    "12637 1796067213.473001 mmap(NULL, 43903, 0x1, 0x2, 3, 0) = 0x7fb8530cf000\n"
    "12637 1796067213.473101 mprotect(0x7fb8530da000, 4096, 0x1) = 0\n";

static void test_raw_numbers(void **state)
{
    (void)state;
    struct got g;
    assert_int_equal(import1(raw_log, &g), 0);
    const struct trace_rec *a = find(&g, TR_MMAP, 12637, 0), *f = find(&g, TR_MMAP, 12637, 1);
    const struct trace_rec *p = find(&g, TR_MPROTECT, 12637, 0);
    assert_non_null(a);
    assert_non_null(f);
    assert_non_null(p);
    assert_int_equal(a->prot, TRP_READ | TRP_WRITE);   /* was PROT_NONE */
    assert_int_equal(a->flags, TRM_ANON);              /* was a file mapping of fd -1 */
    assert_int_equal(f->prot, TRP_READ);
    assert_int_equal(f->flags, 0);
    assert_int_equal(f->ino, import_path_hash("/etc/ld.so.cache", strlen("/etc/ld.so.cache")));
    assert_int_equal(p->prot, TRP_READ);
}

static void test_file_mapping_without_fd(void **state)
{
    (void)state;
    static const char bad[] =
        "100 1700000000.000001 execve(\"/bin/x\", [\"x\"], 0x7ffd /* 1 var */) = 0\n"
        "100 1700000000.000002 mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, -1, 0) = 0x7f0000000000\n";
    static const char badprot[] =
        "100 1700000000.000001 execve(\"/bin/x\", [\"x\"], 0x7ffd /* 1 var */) = 0\n"
        "100 1700000000.000002 mmap(NULL, 4096, READ, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f0000000000\n";
    struct got g;
    assert_int_equal(import1(bad, &g), -1);        /* EBADF in Linux: it cannot have succeeded */
    assert_int_equal(import1(badprot, &g), -1);
}

/* -X raw's clone flags are a number: a thread (0x3d0f00 has CLONE_VM and
 * CLONE_THREAD) was imported as a fork, the names not being there. -X
 * verbose writes the names after the number in a C comment: the number
 * holds (PROT_WRITE's "*" "/" once failed the whole-name check). */
static void test_raw_and_verbose_forms(void **state)
{
    (void)state;
    static const char raw[] =
        "100 1700000000.000001 execve(\"/bin/x\", [\"x\"], 0x7ffd /* 1 var */) = 0\n"
        "100 1700000000.000003 clone(child_stack=NULL, flags=0x1200011, child_tidptr=0x7f40) = 102\n"
        "100 1700000000.000004 clone(child_stack=0x7f00, flags=0x3d0f00, parent_tid=0x7f10, tls=0x7f20) = 103\n";
    static const char verbose[] =
        "100 1700000000.000001 execve(\"/bin/x\", [\"x\"], 0x7ffd /* 1 var */) = 0\n"
        "100 1700000000.000002 mmap(NULL, 8192, 0x3 /* PROT_READ|PROT_WRITE */, 0x22 /* MAP_PRIVATE|MAP_ANONYMOUS */, "
        "-1, 0) = 0x7f0000000000\n"
        "100 1700000000.000003 clone(child_stack=0x7f00, flags=0x3d0f00 /* CLONE_VM|CLONE_FS|CLONE_FILES|"
        "CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM|CLONE_SETTLS|CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID */, "
        "parent_tid=0x7f10, tls=0x7f20, child_tidptr=0x7f10) = 101\n";
    struct got g;
    assert_int_equal(import1(raw, &g), 0);
    const struct trace_rec *f2 = fork_of(&g, 102), *f3 = fork_of(&g, 103);
    assert_non_null(f2);
    assert_non_null(f3);
    assert_int_equal(f2->flags, 0);                       /* fork: SIGCHLD and the tid flags */
    assert_int_equal(f3->flags, TRF_THREAD | TRF_VM);     /* pthread_create */
    assert_int_equal(import1(verbose, &g), 0);
    const struct trace_rec *m = find(&g, TR_MMAP, 100, 0), *t = fork_of(&g, 101);
    assert_non_null(m);
    assert_non_null(t);
    assert_int_equal(m->prot, TRP_READ | TRP_WRITE);
    assert_int_equal(m->flags, TRM_ANON);
    assert_int_equal(t->flags, TRF_THREAD | TRF_VM);
}

/* Flags are names and numbers joined by '|', each name matched whole:
 * "PROT_FOO|PROT_WRITE" was PROT_WRITE (the names were found by substring),
 * and "MAP_ANONYMOUSX" anonymous. Unused MAP_* names and a huge-page
 * size are taken (strace prints dozens); an unknown PROT_* name is not. */
static void test_flag_tokens(void **state)
{
    (void)state;
    static const struct { const char *prot, *flags; uint32_t p, f; } good[] = {
        { "PROT_READ|PROT_WRITE", "MAP_PRIVATE|MAP_ANONYMOUS", TRP_READ | TRP_WRITE, TRM_ANON },
        { "PROT_NONE", "MAP_PRIVATE|MAP_ANONYMOUS|MAP_NORESERVE|MAP_STACK", 0, TRM_ANON },
        { "PROT_READ|PROT_EXEC|0x10", "MAP_SHARED|MAP_ANON", TRP_READ | TRP_EXEC, TRM_ANON | TRM_SHARED },
        { "PROT_READ|PROT_GROWSDOWN", "MAP_PRIVATE|MAP_ANONYMOUS|MAP_HUGETLB|21<<MAP_HUGE_SHIFT", TRP_READ, TRM_ANON },
        { "0x3", "MAP_SHARED_VALIDATE|MAP_ANONYMOUS|MAP_SOMETHING_NEW", TRP_READ | TRP_WRITE, TRM_ANON | TRM_SHARED },
        /* bits mmap ignores (its prot and flags are unsigned longs) */
        { "PROT_READ|0x100000000", "MAP_PRIVATE|MAP_ANONYMOUS|0x8000000000", TRP_READ, TRM_ANON },
        { "0x100000001 /* PROT_READ|0x100000000 */", "0x22 /* MAP_PRIVATE|MAP_ANONYMOUS */", TRP_READ, TRM_ANON },
    };
    static const struct { const char *prot, *flags; } bad[] = {
        { "PROT_FOO|PROT_WRITE", "MAP_PRIVATE|MAP_ANONYMOUS" },
        { "PROT_WRITEX", "MAP_PRIVATE|MAP_ANONYMOUS" },
        { "PROT_READ||PROT_WRITE", "MAP_PRIVATE|MAP_ANONYMOUS" },
        { "PROT_READ|", "MAP_PRIVATE|MAP_ANONYMOUS" },
        { "PROT_", "MAP_PRIVATE|MAP_ANONYMOUS" },
        { "PROT_READ|READ", "MAP_PRIVATE|MAP_ANONYMOUS" },
        { "PROT_READ", "MAP_PRIVATE|MAP_anonymous" },
        { "PROT_READ", "MAP_PRIVATE|ANONYMOUS" },
        { "PROT_READ", "MAP_PRIVATE|x<<MAP_HUGE_SHIFT" },
        { "PROT_READ", "MAP_PRIVATE|<<MAP_HUGE_SHIFT" },
    };
    char log[512];
    struct got g;
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        snprintf(log, sizeof log,
                 "100 1700000000.000001 execve(\"/bin/x\", [\"x\"], 0x7ffd /* 1 var */) = 0\n"
                 "100 1700000000.000002 mmap(NULL, 4096, %s, %s, -1, 0) = 0x7f0000000000\n",
                 good[i].prot, good[i].flags);
        if (import1(log, &g))
            fail_msg("good case %zu refused: %s", i, mv_last_error());
        const struct trace_rec *m = find(&g, TR_MMAP, 100, 0);
        assert_non_null(m);
        assert_int_equal(m->prot, good[i].p);
        assert_int_equal(m->flags, good[i].f);
    }
    mv_error_quiet(1);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(log, sizeof log,
                 "100 1700000000.000001 execve(\"/bin/x\", [\"x\"], 0x7ffd /* 1 var */) = 0\n"
                 "100 1700000000.000002 mmap(NULL, 4096, %s, %s, -1, 0) = 0x7f0000000000\n",
                 bad[i].prot, bad[i].flags);
        if (import1(log, &g) != -1)
            fail_msg("bad case %zu (%s, %s) accepted", i, bad[i].prot, bad[i].flags);
        const char *want = strstr(bad[i].prot, "PROT_READ") == bad[i].prot && !strcmp(bad[i].prot, "PROT_READ")
                               ? "mmap's flags" : "mmap's protection";
        if (!strstr(mv_last_error(), want))
            fail_msg("bad case %zu: '%s' does not name %s", i, mv_last_error(), want);
    }
    /* a thread without its parent's memory: clone(2) says EINVAL */
    static const char thread_novm[] =
        "100 1700000000.000001 execve(\"/bin/x\", [\"x\"], 0x7ffd /* 1 var */) = 0\n"
        "100 1700000000.000002 clone(child_stack=0x7f00, flags=CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM) = 101\n";
    assert_int_equal(import1(thread_novm, &g), -1);
    assert_non_null(strstr(mv_last_error(), "t.strace:2:"));
    assert_non_null(strstr(mv_last_error(), "clone's flags: CLONE_THREAD only with CLONE_VM"));
    mv_error_quiet(0);
}

/* A negative number is read as its 64-bit two's complement, INT64_MIN
 * too: a call that returned it is a call like any other, and a protection
 * of that value has no PROT_* bit (mmap ignores the others). The negation was signed and
 * overflowed for -9223372036854775808 (UBSan: "negation of
 * -9223372036854775808 cannot be represented in type 'long int'"): this
 * test fails under the sanitizer build with the signed negation back. */
static void test_int64_min(void **state)
{
    (void)state;
    static const char ret_min[] =
        "100 1796089100.449585 execve(\"/bin/true\", [\"true\"], 0x7ffc4148a1c0 /* 37 vars */) = 0\n"
        "100 1796089100.450121 getuid() = -9223372036854775808\n"
        "100 1796089100.450200 mmap(NULL, 8192, 0x3, 0x22, -1, 0) = 0x7fb8530da000\n"
        "100 1796089100.460121 +++ exited with 0 +++\n";
    static const char prot_min[] =
        "100 1796089100.449585 execve(\"/bin/true\", [\"true\"], 0x7ffc4148a1c0 /* 37 vars */) = 0\n"
        "100 1796089100.450200 mmap(NULL, 8192, -9223372036854775808, 0x22, -1, 0) = 0x7fb8530da000\n";
    struct got g;
    assert_int_equal(import1(ret_min, &g), 0);
    const struct trace_rec *m = find(&g, TR_MMAP, 100, 0);
    assert_non_null(m);
    assert_int_equal(m->prot, TRP_READ | TRP_WRITE);
    assert_int_equal(import1(prot_min, &g), 0);      /* bit 63 alone: no PROT_* bit, which mmap takes */
    m = find(&g, TR_MMAP, 100, 0);
    assert_non_null(m);
    assert_int_equal(m->prot, 0);
    /* a failed mprotect's protection is not read: the kernel refused it
     * (unknown bits are EINVAL), and strace printed what was passed */
    static const char bad_mprotect[] =
        "100 1796089100.449585 execve(\"/bin/true\", [\"true\"], 0x7ffc4148a1c0 /* 37 vars */) = 0\n"
        "100 1796089100.450100 mprotect(0x7fb8530da000, 4096, PROT_READ|PROT_WRITE|PROT_EXEC|PROT_SEM|PROT_GROWSDOWN|"
        "PROT_GROWSUP|0xfffffffffcfffff0) = -1 EINVAL (Invalid argument)\n"
        "100 1796089100.450200 mprotect(0x7fb8530da000, 4096, 0xffffffffffffffff /* PROT_??? */) = -1 EINVAL "
        "(Invalid argument)\n";
    assert_int_equal(import1(bad_mprotect, &g), 0);
    assert_null(find(&g, TR_MPROTECT, 100, 0));
}

/* (size_t)-1, 18446744073709551615, in a failed call: the last numbers
 * below 2^64 were refused as too large (the bound was 2^64 - 10), and the
 * import stopped at a real strace line; 2^64 itself is still refused. */
static void test_size_max(void **state)
{
    (void)state;
    static const char log[] =
        "100 1700000000.000001 execve(\"/bin/x\", [\"x\"], 0x7ffd /* 1 var */) = 0\n"
        "100 1700000000.000002 munmap(0x7f0000000000, 18446744073709551615) = -1 EINVAL (Invalid argument)\n"
        "100 1700000000.000003 mprotect(0x7f0000000000, 18446744073709551610, PROT_READ) = -1 EINVAL (Invalid argument)\n"
        "100 1700000000.000004 mmap(NULL, 8192, 0x3, 0x22, -1, 0) = 0x7fb8530da000\n";
    static const char past[] =
        "100 1700000000.000001 execve(\"/bin/x\", [\"x\"], 0x7ffd /* 1 var */) = 0\n"
        "100 1700000000.000002 munmap(0x7f0000000000, 18446744073709551616) = -1 EINVAL (Invalid argument)\n";
    struct got g;
    assert_int_equal(import1(log, &g), 0);
    assert_non_null(find(&g, TR_MMAP, 100, 0));
    assert_null(find(&g, TR_MUNMAP, 100, 0));   /* failed calls change nothing */
    assert_int_equal(import1(past, &g), -1);
}

/* A line of the first task after its "+++ exited" is a stranger's (no
 * fork returned its pid again), left out as one: it brought the first task
 * back as a second spawned process (an attack run). */
static void test_first_task_after_exit(void **state)
{
    (void)state;
    static const char log[] =
        "100 1700000000.000001 execve(\"/bin/x\", [\"x\"], 0x7ffd /* 1 var */) = 0\n"
        "100 1700000000.000002 exit_group(0) = ?\n"
        "100 1700000000.000003 +++ exited with 0 +++\n"
        "100 1700000000.000004 mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = "
        "0x7f0000000000\n";
    struct got g;
    assert_int_equal(import1(log, &g), 0);
    assert_non_null(find(&g, TR_SPAWN, 100, 0));
    assert_null(find(&g, TR_SPAWN, 100, 1));
    assert_null(find(&g, TR_MMAP, 100, 0));
    assert_non_null(find(&g, TR_EXIT, 100, 0));
    assert_null(find(&g, TR_EXIT, 100, 1));
}

/* strace -f -ttt -y: a path with ", " and "(" (and '>' escaped as \76) */
static const char ypath_log[] =
    "32427 1796066906.022688 execve(\"/usr/bin/python3\", [\"python3\", \"-c\", \"\\nimport mmap\\nf=open('d, "
    "x(1/tr',\"...], 0x7ffdbc338ba8 /* 37 vars */) = 0\n"
    "32427 1796066906.663749 mmap(NULL, 4096, PROT_READ, MAP_SHARED, 3</tmp/atk-trace-w/d, x(1/tr>, 0) = "
    "0x7f65399bd000\n"
    "32427 1796066906.663800 mmap(NULL, 4096, PROT_READ, MAP_SHARED, 3</tmp/tstrace/a\\76b, c(1>, 0) = "
    "0x7f65399bc000\n";

static void test_y_paths(void **state)
{
    (void)state;
    struct got g;
    assert_int_equal(import1(ypath_log, &g), 0);   /* was: malformed line */
    const struct trace_rec *a = find(&g, TR_MMAP, 32427, 0), *b = find(&g, TR_MMAP, 32427, 1);
    assert_non_null(a);
    assert_non_null(b);
    const char *pa = "/tmp/atk-trace-w/d, x(1/tr", *pb = "/tmp/tstrace/a\\76b, c(1";
    assert_int_equal(a->ino, import_path_hash(pa, strlen(pa)));
    assert_int_equal(b->ino, import_path_hash(pb, strlen(pb)));
    assert_int_equal(a->flags, TRM_SHARED);
}

/* a file opened by a process, mapped by its thread and by itself; a child
 * forked under a dead task's pid does not inherit the dead task's table */
static const char thread_fd_log[] =
    "100 1700000000.000001 execve(\"/bin/x\", [\"x\"], 0x7ffd /* 1 var */) = 0\n"
    "100 1700000000.000002 openat(AT_FDCWD, \"/data/f\", O_RDWR) = 3\n"
    "100 1700000000.000003 clone3({flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD, "
    "child_tid=0x1}, 88) = 101\n"
    "101 1700000000.000004 openat(AT_FDCWD, \"/data/g\", O_RDWR) = 4\n"
    "101 1700000000.000005 mmap(NULL, 4096, PROT_READ|PROT_WRITE, MAP_SHARED, 3, 0) = 0x7f0000000000\n"
    "100 1700000000.000006 mmap(NULL, 4096, PROT_READ|PROT_WRITE, MAP_SHARED, 4, 0) = 0x7f0000001000\n"
    "100 1700000000.000007 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD) = 200\n"
    "200 1700000000.000008 openat(AT_FDCWD, \"/data/h\", O_RDONLY) = 5\n"
    "200 1700000000.000009 +++ exited with 0 +++\n"
    "100 1700000000.000010 close(3) = 0\n"
    "100 1700000000.000011 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD) = 200\n"
    "200 1700000000.000012 mmap(NULL, 4096, PROT_READ, MAP_SHARED, 5, 0) = 0x7f0000002000\n"
    "200 1700000000.000013 mmap(NULL, 4096, PROT_READ, MAP_SHARED, 4, 0) = 0x7f0000003000\n"
    "200 1700000000.000014 mmap(NULL, 4096, PROT_READ, MAP_SHARED, 3, 0) = 0x7f0000004000\n";

static void test_thread_fd_table(void **state)
{
    (void)state;
    struct got g;
    assert_int_equal(import1(thread_fd_log, &g), 0);
    uint64_t f = import_path_hash("/data/f", 7), gg = import_path_hash("/data/g", 7);
    uint64_t h = import_path_hash("/data/h", 7);
    const struct trace_rec *t = find(&g, TR_MMAP, 101, 0), *p = find(&g, TR_MMAP, 100, 0);
    assert_non_null(t);
    assert_non_null(p);
    assert_int_equal(t->ino, f);                   /* was fd:101:3: the thread had no table */
    assert_int_equal(p->ino, gg);                  /* opened by the thread, in the one table */
    const struct trace_rec *c5 = find(&g, TR_MMAP, 200, 0), *c4 = find(&g, TR_MMAP, 200, 1);
    const struct trace_rec *c3 = find(&g, TR_MMAP, 200, 2);
    assert_non_null(c5);
    assert_non_null(c4);
    assert_non_null(c3);
    assert_int_not_equal(c5->ino, h);              /* the dead 200's descriptor */
    assert_int_equal(c4->ino, gg);                 /* inherited */
    assert_int_not_equal(c3->ino, f);              /* closed before the fork */
}

/* strace -ff -ttt -o ff/log sh -c '/bin/true; /bin/echo hi >/dev/null' (the
 * first lines of each file, and the lines of the process tree) */
static const char ff_root[] =
    "1796066895.869971 execve(\"/usr/bin/sh\", [\"sh\", \"-c\", \"/bin/true; /bin/echo hi >/dev/nu\"...], "
    "0x7fff9b1dd900 /* 37 vars */) = 0\n"
    "1796066895.870746 mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f399858a000\n"
    "1796066895.875220 vfork() = 32022\n"
    "1796066895.879601 vfork() = 32023\n"
    "1796066895.883700 exit_group(0) = ?\n"
    "1796066895.883766 +++ exited with 0 +++\n";
static const char ff_a[] =
    "1796066895.875402 rt_sigprocmask(SIG_SETMASK, [], ~[KILL STOP RTMIN RT_1], 8) = 0\n"
    "1796066895.875529 execve(\"/bin/true\", [\"/bin/true\"], 0x5561a9975b38 /* 37 vars */) = 0\n"
    "1796066895.875805 brk(NULL)             = 0x562b3f62b000\n"
    "1796066895.878800 exit_group(0)                 = ?\n"
    "1796066895.879025 +++ exited with 0 +++\n";
static const char ff_b[] =
    "1796066895.879771 rt_sigprocmask(SIG_SETMASK, [], ~[KILL STOP RTMIN RT_1], 8) = 0\n"
    "1796066895.879907 execve(\"/bin/echo\", [\"/bin/echo\", \"hi\"], 0x5561a9975b38 /* 37 vars */) = 0\n"
    "1796066895.880154 brk(NULL)             = 0x55601ca48000\n"
    "1796066895.883000 +++ exited with 0 +++\n";

static void test_ff_logs(void **state)
{
    (void)state;
    struct got g;
    const char *logs[] = { ff_b, ff_root, ff_a };  /* in the order a shell's glob may not give */
    const char *names[] = { "ff/log.32023", "ff/log.32021", "ff/log.32022" };
    assert_int_equal(import(logs, names, 3, &g), 0);
    const struct trace_rec *a = fork_of(&g, 32022), *b = fork_of(&g, 32023);
    assert_non_null(a);
    assert_non_null(b);
    assert_int_equal(a->pid, 32021);
    assert_int_equal(b->pid, 32021);
    assert_non_null(find(&g, TR_EXEC, 32022, 0));
    assert_non_null(find(&g, TR_EXEC, 32023, 0));
    assert_non_null(find(&g, TR_MMAP, 32021, 0));
    assert_null(find(&g, TR_EXEC, 0, 0));          /* was: everything pid 0 */
    /* pid-less logs not named LOG.PID, given together: refused */
    const char *bad[] = { "x.log", "y.log" };
    assert_int_equal(import(logs, bad, 2, &g), -1);
}

/* The forks of killed tasks leave the list; tasks no fork made are held,
 * counted, and given to nobody. Driven line by line through the task half,
 * so that the list is seen after every line. */
static void test_killed_forks(void **state)
{
    (void)state;
    struct trace_writer *w = trace_writer_mem(K, V, 1);
    struct build *b = build_new(w);
    struct import_stats st = { 0 };
    struct strace_tasks *c = strace_tasks_new(b, &st);
    char line[256];
    struct import_line l = { "gen", 0, line, line, 0, 0 };
    uint64_t t = 1700000000ull * 1000000000ull;
#define LINE(tid, ...)                                                                                            \
    do {                                                                                                          \
        snprintf(line, sizeof line, __VA_ARGS__);                                                                 \
        l.lineno++;                                                                                               \
        l.p = line;                                                                                               \
        assert_int_equal(strace_task_line(c, &l, (tid), t += 1000), 0);                                           \
    } while (0)
    LINE(100, "execve(\"/bin/x\", [\"x\"], 0x7ffd /* 1 var */) = 0");
    const unsigned n = 20000;
    for (unsigned i = 0; i < n; i++) {
        uint32_t k = 1000 + i;
        LINE(100, "clone(child_stack=NULL, flags=SIGCHLD) = %u", k);
        LINE(k, "clone(child_stack=NULL, flags=SIGCHLD <unfinished ...>");
        assert_int_equal(strace_tasks_forks_unfinished(c), 1);
        LINE(k, "+++ killed by SIGKILL +++");
        assert_int_equal(strace_tasks_forks_unfinished(c), 0);   /* was: kept for ever */
        LINE(500000 + i, "mmap(NULL, 4096, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f0000000000");
    }
    assert_true(strace_tasks_count(c) <= 1 + n);   /* the killed ones forgotten; the strays held */
    strace_tasks_end(c);
    assert_int_equal(st.orphan_tasks, n);
    assert_int_equal(st.orphan_lines, n);
    assert_int_equal(build_finish(b), 0);
    build_free(b);
    struct got g;
    read_back(w, &g);
    assert_null(fork_of(&g, 500000));
#undef LINE
}

/* Lines held for tasks without a known parent stay under the bound: past
 * it they are counted and left out, and a task with none held is not kept;
 * a task whose lines were held is still replayed when its clone returns. */
static void test_hold_bound(void **state)
{
    (void)state;
    struct trace_writer *w = trace_writer_mem(K, V, 1);
    struct build *b = build_new(w);
    struct import_stats st = { 0 };
    struct strace_tasks *c = strace_tasks_new(b, &st);
    strace_tasks_hold_max(c, 4096);
    char line[256];
    struct import_line l = { "gen", 0, line, line, 0, 0 };
    uint64_t t = 1700000000ull * 1000000000ull;
#define LINE(tid, ...)                                                                                            \
    do {                                                                                                          \
        snprintf(line, sizeof line, __VA_ARGS__);                                                                 \
        l.lineno++;                                                                                               \
        l.p = line;                                                                                               \
        assert_int_equal(strace_task_line(c, &l, (tid), t += 1000), 0);                                           \
    } while (0)
    LINE(100, "execve(\"/bin/x\", [\"x\"], 0x7ffd /* 1 var */) = 0");
    LINE(100, "clone(child_stack=NULL, flags=SIGCHLD) = 101");
    LINE(100, "vfork( <unfinished ...>");
    LINE(101, "vfork( <unfinished ...>");
    LINE(200, "mmap(NULL, 4096, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f0000000000");   /* held */
    for (unsigned i = 0; i < 1000; i++)
        LINE(300 + i, "mmap(NULL, 4096, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f0000000000");
    assert_true(st.held_over > 900);
    assert_true(strace_tasks_count(c) < 100);      /* the tasks with nothing held are not kept */
    LINE(100, "<... vfork resumed>) = 200");
    strace_tasks_end(c);
    assert_int_equal(build_finish(b), 0);
    build_free(b);
    struct got g;
    read_back(w, &g);
    const struct trace_rec *f = fork_of(&g, 200);
    assert_non_null(f);
    assert_int_equal(f->pid, 100);
    assert_non_null(find(&g, TR_MMAP, 200, 0));    /* its held line, replayed */
#undef LINE
}

/* Threads whose tids share their low 12 bits, and in the importer's
 * model of the recorded tasks (trace/build.c) whose pids share a remainder
 * mod 4096: each strace task table chained them into one bucket, 16 s to
 * import 30,000 (now 0.14 s). Each found by its own lines; the ones left
 * running exit lowest tid first. */
static void test_colliding_tids(void **state)
{
    (void)state;
    enum { N = 50 };
    static char log[N * 400 + 512];
    size_t o = (size_t)snprintf(log, sizeof log,
                                "100 1796066889.511655 execve(\"/bin/x\", [\"x\"], 0x7ffd /* 1 vars */) = 0\n");
    for (unsigned i = N; i >= 1; i--)     /* descending, 4096 apart */
        o += (size_t)snprintf(log + o, sizeof log - o,
                              "100 1796066889.511656 clone3({flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|"
                              "CLONE_THREAD|CLONE_SYSVSEM, exit_signal=0, stack=0x7f0000000000, "
                              "stack_size=0x10000}, 88) = %u\n", 100 + 4096 * i);
    for (unsigned i = 1; i <= N; i++)
        o += (size_t)snprintf(log + o, sizeof log - o,
                              "%u 1796066889.511657 mmap(NULL, 8192, PROT_READ|PROT_WRITE, "
                              "MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x%llx\n", 100 + 4096 * i,
                              0x7e0000000000ull + i * 0x10000ull);
    struct got *g = calloc(1, sizeof *g);
    assert_int_equal(import1(log, g), 0);
    assert_true(g->n < MAXREC);
    for (unsigned i = 1; i <= N; i++) {
        uint32_t tid = 100 + 4096 * i;
        const struct trace_rec *f = fork_of(g, tid), *m = find(g, TR_MMAP, tid, 0);
        assert_non_null(f);
        assert_int_equal(f->pid, 100);
        assert_non_null(m);
        assert_int_equal(m->addr, 0x7e0000000000ull + i * 0x10000ull);
        assert_null(find(g, TR_MMAP, tid, 1));
    }
    uint32_t last = 0;
    unsigned exits = 0;
    for (unsigned i = 0; i < g->n; i++)
        if (g->rec[i].kind == TR_EXIT) {
            assert_true(g->rec[i].pid > last);
            last = g->rec[i].pid;
            exits++;
        }
    assert_int_equal(exits, N + 1);
    free(g);
}

/* A fork's copy of a descriptor table shares its paths (reference counts):
 * it holds no path bytes of its own, and each table still sees its own
 * descriptors after the other opens, closes or frees. (Copies duplicated
 * every string: 1,000 open files of 4,000-byte paths and 500 forks, a 4 MB
 * log, took 1.97 GB; now 11.5 MB.) */
static void test_fdtab_copies_share_paths(void **state)
{
    (void)state;
    enum { NFD = 100, LEN = 1000, NCOPY = 50 };
    static char path[LEN + 1];
    memset(path, 'p', LEN);
    struct fdtab *t = fdtab_new(), *c[NCOPY];
    for (unsigned fd = 0; fd < NFD; fd++) {
        path[0] = (char)('A' + fd % 26);
        fdtab_open(t, fd, path, LEN, fd & 1);
    }
    assert_int_equal(fdtab_path_bytes(t), NFD * (LEN + 1));
    for (unsigned i = 0; i < NCOPY; i++) {
        c[i] = fdtab_copy(i ? c[i - 1] : t);
        assert_int_equal(fdtab_path_bytes(c[i]), 0);     /* every path shared */
    }
    assert_int_equal(fdtab_path_bytes(t), 0);
    fdtab_open(c[7], 3, "/other", 6, 0);
    fdtab_close(c[8], 4);
    fdtab_exec(c[9]);
    assert_string_equal(fdtab_path(c[7], 3), "/other");
    assert_null(fdtab_path(c[8], 4));
    assert_null(fdtab_path(c[9], 5));
    assert_int_equal(fdtab_path(t, 3)[0], 'A' + 3);
    assert_int_equal(fdtab_path(c[6], 4)[0], 'A' + 4);
    assert_int_equal(fdtab_path(c[10], 5)[0], 'A' + 5);
    for (unsigned i = 0; i < NCOPY; i++)
        fdtab_free(c[i]);
    assert_int_equal(fdtab_path_bytes(t), NFD * (LEN + 1));
    assert_int_equal(fdtab_path(t, 99)[0], 'A' + 99 % 26);
    fdtab_free(t);
}

int main(void)
{
    mv_error_quiet(1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_xargs_parents),       cmocka_unit_test(test_thread_vfork),
        cmocka_unit_test(test_fdtab_copies_share_paths),
        cmocka_unit_test(test_clone_flags),         cmocka_unit_test(test_thread_exec),
        cmocka_unit_test(test_munmap_race),         cmocka_unit_test(test_raw_numbers),
        cmocka_unit_test(test_flag_tokens),
        cmocka_unit_test(test_raw_and_verbose_forms),
        cmocka_unit_test(test_file_mapping_without_fd), cmocka_unit_test(test_y_paths),
        cmocka_unit_test(test_thread_fd_table),     cmocka_unit_test(test_ff_logs),
        cmocka_unit_test(test_killed_forks),        cmocka_unit_test(test_hold_bound),
        cmocka_unit_test(test_int64_min),
        cmocka_unit_test(test_size_max),
        cmocka_unit_test(test_first_task_after_exit),           cmocka_unit_test(test_colliding_tids),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

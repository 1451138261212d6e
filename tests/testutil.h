/* testutil.h: helpers shared by the cmocka test programs: booting a real
 * machine, reading a whole file, and temporary file names. Include after
 * <cmocka.h>. Everything is static so each test program gets its own copy. */
#ifndef MV_TESTS_TESTUTIL_H
#define MV_TESTS_TESTUTIL_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/err.h"
#include "sim/config.h"
#include "sim/engine.h"
#include "sim/machine.h"
#include "sim/oracle.h"
#include "trace/writer.h"

/* A booted machine with its configuration (heap-allocated: struct machine is
 * large). */
struct tmachine {
    struct sim_config cfg;
    struct machine m;
};

/* Boot `mode` with the defaults of workload `wl`, --check on, then apply the
 * NULL-terminated list of "prefix.name=value" parameters. */
static inline struct tmachine *tm_boot_params(const char *mode, const char *wl, const char *const *params)
{
    struct tmachine *t = calloc(1, sizeof *t);
    assert_non_null(t);
    assert_int_equal(config_init(&t->cfg, wl), 0);
    t->cfg.check = 1;
    t->cfg.quiet = 1;
    for (unsigned i = 0; params && params[i]; i++)
        assert_int_equal(config_param(&t->cfg, params[i]), 0);
    assert_int_equal(config_validate(&t->cfg), 0);
    const struct mode_def *md = mode_find(mode);
    assert_non_null(md);
    assert_int_equal(machine_init(&t->m, &t->cfg, md), 0);
    return t;
}

static inline struct tmachine *tm_boot(const char *mode)
{
    return tm_boot_params(mode, "memwalk", NULL);
}

/* Shut down; returns machine_destroy's result (0: no frame leaked). */
static inline int tm_destroy(struct tmachine *t)
{
    int rc = machine_destroy(&t->m);
    config_free(&t->cfg);
    free(t);
    return rc;
}

/* Whole file into a malloc'd buffer; *len gets its size. NULL if unreadable. */
/* A new process, made current, with npages of anonymous memory mapped at
 * va, its first page written (its tables and the page exist). */
static inline struct task *tm_spawn_touching(struct tmachine *t, uint64_t va, unsigned npages)
{
    struct kernel *k = &t->m.k;
    struct task *p = kernel_spawn(k, 1);
    schedule_to(k, p);
    assert_int_equal(sys_mmap(k, p, va, (uint64_t)npages * PAGE_SIZE, PROT_READ | PROT_WRITE,
                              MAP_PRIVATE | MAP_ANON, 0, 0),
                     (long)va);
    uint64_t mfn;
    assert_int_equal(user_access(k, va, ACC_WRITE, &mfn), 0);
    return p;
}

/* The guest kernel's and the hypervisor's self-checks, failing the test
 * with their message. */
static inline void tm_check_all(struct tmachine *t)
{
    char msg[512] = "";
    if (kernel_check(&t->m.k, msg, sizeof msg))
        fail_msg("kernel_check: %s", msg);
    if (machine_check(&t->m, msg, sizeof msg))
        fail_msg("hypervisor check: %s", msg);
}

/* The end of a test of process p: the hypervisor's self-check, p's exit,
 * and a shutdown that finds no frame leaked. */
static inline void tm_finish(struct tmachine *t, struct task *p)
{
    char msg[512] = "";
    if (machine_check(&t->m, msg, sizeof msg))
        fail_msg("invariants: %s", msg);
    do_exit(&t->m.k, p);
    assert_int_equal(tm_destroy(t), 0);
}

/* A user access by the current task that must succeed and give the
 * oracle's translation; its machine frame. */
static inline uint64_t tm_access_ok(struct tmachine *t, uint64_t va, enum access acc)
{
    uint64_t mfn = UINT64_MAX, ref = UINT64_MAX;
    int rc = user_access(&t->m.k, va, acc, &mfn);
    if (rc)
        fail_msg("access %d to %#llx failed with %d", acc, (unsigned long long)va, rc);
    assert_int_equal(oracle_translate(&t->m, t->m.k.current->mm, va, acc, &ref), 0);
    assert_int_equal(ref, mfn);
    return mfn;
}

/* The i-th VMA of mm in address order (a walk of its tree), NULL past the
 * last. */
static inline struct vma *tm_vma(struct mm *mm, uint32_t i)
{
    struct vma *v = vma_first(mm);
    while (v && i--)
        v = vma_next(v);
    return v;
}

/* Guest frame of the level-lvl table covering va in the current mm. */
static inline uint64_t tm_guest_table(struct tmachine *t, uint64_t va, unsigned lvl)
{
    struct kernel *k = &t->m.k;
    uint64_t table = k->current->mm->pgd;
    for (unsigned l = 4; l > lvl; l--)
        table = k->pv->entry_pfn(k, kread_entry(k, table, pt_index(va, l)));
    return table;
}

/* The hardware's entry at level lvl for va (under hw_root: the guest's own
 * tables, or their shadow), 0 if the walk stops above it; *table_out (if
 * given) the machine frame of the table holding it. */
static inline pte_t tm_hw_entry(struct tmachine *t, uint64_t va, unsigned lvl, uint64_t *table_out)
{
    uint64_t table = t->m.cpu.hw_root;
    for (unsigned l = 4;; l--) {
        pte_t e = pmem_read(&t->m.mem, table, pt_index(va, l));
        if (l == lvl || !pte_present(e) || pte_leaf(e, l)) {
            if (table_out)
                *table_out = table;
            return l == lvl ? e : 0;
        }
        table = pte_frame(e);
    }
}

/* Machine frame of the L1 table the hardware walks for va (under hw_root:
 * the guest's own, or its shadow). */
static inline uint64_t tm_hw_l1(struct tmachine *t, uint64_t va)
{
    uint64_t table = t->m.cpu.hw_root;
    for (unsigned l = 4; l > 1; l--)
        table = pte_frame(pmem_read(&t->m.mem, table, pt_index(va, l)));
    return table;
}

/* Records r[0..n) written as a trace file at path (header: command=test). */
static inline void tu_write_trace(const char *path, const struct trace_rec *r, unsigned n)
{
    static const char *const k[] = { "command" }, *const v[] = { "test" };
    struct trace_writer *w = trace_writer_open(path, k, v, 1);
    assert_non_null(w);
    for (unsigned i = 0; i < n; i++)
        assert_int_equal(trace_write(w, &r[i]), 0);
    assert_int_equal(trace_writer_commit(w), 0);
}

/* The memvirt of $MEMVIRT run with args: its standard error in err, its
 * exit status returned (128: it did not exit). */
static inline int tu_cli(const char *args, char *err, size_t len)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "ASAN_OPTIONS=detect_leaks=0 '%s' %s 2>&1 >/dev/null", getenv("MEMVIRT"), args);
    FILE *p = popen(cmd, "r");
    size_t n = fread(err, 1, len - 1, p);
    err[n] = 0;
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static inline char *tu_slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    size_t got;
    while ((got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap)
            buf = realloc(buf, cap *= 2);
    }
    fclose(f);
    *len = n;
    return buf;
}

/* A run's metric called name (the test fails if it has none). */
static inline double tu_metric(const struct run_result *r, const char *name)
{
    for (unsigned i = 0; i < r->metrics.n; i++)
        if (!strcmp(r->metrics.m[i].name, name))
            return r->metrics.m[i].value;
    fail_msg("no metric %s", name);
    return 0;
}

/* A fresh temporary path (the file exists, empty) in path[len]. */
static inline void tu_tmpname(char *path, size_t len, const char *tag)
{
    snprintf(path, len, "/tmp/memvirt-test-%s-XXXXXX", tag);
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
}

#endif

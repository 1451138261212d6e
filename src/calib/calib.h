/* calib.h: `memvirt calibrate`'s micro-benchmarks of the host and the fits
 * that turn them into a cost profile (docs/cost-model.md, "Calibration").
 *
 * This folder is used only by the memvirt command (src/cli/cmd_calibrate.c),
 * never by the simulator core: it is the one place in memvirt that reads
 * clocks. Each benchmark file measures one kind of host event and reports
 * nanoseconds per event as a median over repetitions with its spread; the
 * profile stores cycles at the measured core clock. */
#ifndef MV_CALIB_CALIB_H
#define MV_CALIB_CALIB_H
#include "sim/config.h"
#include "sim/profile.h"
#include <stdint.h>
#include <stdio.h>

/* One measured quantity: nanoseconds per event. med is the median over the
 * repetitions, lo..hi the 10th..90th percentile of them. */
struct calib_stat {
    double med, lo, hi;
    unsigned reps;
};

struct calib {
    int cpu;                /* the CPU the benchmarks are pinned to, -1: none */
    int ncpus;              /* CPUs this process may use */
    int other_cpu;          /* another of them, -1: none */
    unsigned reps;          /* repetitions of each measurement */
    double tsc_ghz;         /* TSC ticks per nanosecond */
    double core_ghz;        /* the core's clock: cycles per nanosecond */
    struct calib_stat tsc, core;
    const char *hello;      /* the program fork+execve runs: memvirt-hello, or --hello's */
    int hello_given;        /* hello came from --hello, not the default */
    unsigned hello_limit_s; /* how long it may take to exit (calib_init: CALIB_HELLO_LIMIT_S) */
    FILE *log;              /* progress and findings (stderr) */
};

static inline uint64_t calib_tsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("lfence\n\trdtsc\n\tlfence" : "=a"(lo), "=d"(hi) :: "memory");
    return ((uint64_t)hi << 32) | lo;
}

static inline double calib_ns(const struct calib *c, uint64_t ticks) { return (double)ticks / c->tsc_ghz; }
/* This thread's CPU time (user and kernel) in ns. Where a loop sleeps or
 * waits for a child, the wall clock would also count other processes'
 * time on the CPU; benchmarks of kernel paths (faults, fork, mprotect) use
 * this clock instead, so a busy machine slows them less. */
uint64_t calib_cpu_ns(void);
static inline double calib_cycles(const struct calib *c, double ns) { return ns * c->core_ghz; }

/* timing.c: clocks, pinning, statistics. */
int  calib_init(struct calib *c, int cpu, unsigned reps);
/* --cpu TEXT names no CPU this process may run on: one mv_error naming
 * those it may (its affinity, as ranges: "0-1", "0,2-3"). Returns -1. */
int  calib_cpu_out_of_range(const char *text);
void calib_stats(double *v, unsigned n, struct calib_stat *out);
/* Run fn `reps` times after one warm-up run; each run returns ns per event. */
void calib_repeat(const struct calib *c, double (*fn)(const struct calib *, void *), void *arg,
                  struct calib_stat *out);
void calib_log(const struct calib *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* host.c: what the machine is. */
struct calib_host {
    char cpu[160];          /* model name, family/model/stepping */
    char kernel[160];       /* uname */
    int  virtual_cpu;       /* CPUID.1:ECX[31], the hypervisor bit */
    char hypervisor[16];    /* CPUID 0x40000000 signature */
    char kvm[64];           /* the /dev/kvm provider: kvm_intel, kvm_amd, kvm_pvm ... */
    char thp[32];           /* transparent_hugepage/enabled, the selected choice */
    char tlb[160];          /* TLB geometry from CPUID, where the CPU reports it */
};
void calib_host(struct calib_host *h);

/* bench_*.c: one kind of host event each (ns per event). */
void bench_syscall(const struct calib *c, struct calib_stat *out);
struct sched_result { struct calib_stat proc_rt, thread_rt; int ok; };
void bench_sched(const struct calib *c, struct sched_result *out);
struct page_result { struct calib_stat clear_hot, clear_cold, copy_hot, copy_cold; };
void bench_page(const struct calib *c, struct page_result *out);
struct fault_result { struct calib_stat read_zero, write_anon, write_new_pte, cow_zero; };
void bench_fault(const struct calib *c, struct fault_result *out);
/* bench_fault_around: the host's own fault-around. window: the pages one
 * read fault maps of a file whose every page is cached (pages touched over
 * minor faults taken; 1: the host does not fault around, and nothing is
 * timed); full, sparse: ns per read fault, one fault per window, on a file
 * all cached and on one with only the faulting pages cached. */
struct fault_around_result { unsigned window; struct calib_stat full, sparse; int ok; };
void bench_fault_around(const struct calib *c, struct fault_around_result *out);
struct proc_result {
    struct calib_stat fork_only, fork_heap, fork_exit, fork_exec, fork_sh, mmap_munmap;
    uint64_t heap_pages;    /* touched heap pages for fork_heap */
    long vmas, rss_kb;      /* the parent's address space when forking */
    int exec_ok, sh_ok;
    int hung;               /* c->hello did not exit within c->hello_limit_s: killed */
};
/* The program timed must exit at once; one that does not (/usr/bin/yes as
 * --hello) is killed after this long, and calibrate fails saying so. */
#define CALIB_HELLO_LIMIT_S 10
void bench_proc(const struct calib *c, struct proc_result *out, int with_sh);
/* The error for proc_result.hung: one line naming c->hello. Returns -1. */
int  calib_hello_hung(const struct calib *c);
/* What the program fork+execve runs is, for the profile's notes: "the
 * static memvirt-hello", or "--hello 'PATH' (a static ELF executable)",
 * "(a dynamically linked ELF executable)", "(not an ELF executable this
 * can read)". Returns 0 for a static ELF executable, 1 for a dynamically
 * linked one, -1 otherwise. */
int  calib_hello_describe(const struct calib *c, char *buf, size_t n);
/* The page walk. bench_chase: a pointer chase over `ws` bytes, one cache
 * line per 4 KiB page in a random cyclic order, on 4 KiB pages and on
 * 2 MiB pages (THP), alternating repetitions; diff is 4 KiB minus 2 MiB per
 * load: what translation adds. huge_share: the share of the 2 MiB area the
 * kernel really backed with huge pages. bench_load_latency: dependent loads
 * over every line of a compact footprint on huge pages: the latency of the
 * cache level that holds it, with no TLB misses. 0 or -1 (no memory). */
struct chase_result { struct calib_stat small, huge, diff; double huge_share; };
int  bench_chase(const struct calib *c, uint64_t ws, struct chase_result *out);
int  bench_load_latency(const struct calib *c, uint64_t footprint, struct calib_stat *out);
struct flush_result {
    struct calib_stat one, one_absent, many, many_absent, more, more_absent, remote;   /* 1, 64, 128 pages */
    int remote_ok;
};
void bench_tlbflush(const struct calib *c, struct flush_result *out);
struct kvm_result {
    int ok;                      /* a guest ran */
    int native;                  /* guest code runs natively (not emulated) */
    char why[160];               /* when !ok: why not */
    struct calib_stat loop;      /* one iteration of a 2-instruction loop in the guest */
    struct calib_stat cpuid;     /* one CPUID round trip, timed in the guest */
    struct calib_stat pio;       /* port I/O exit to user space and back */
};
void bench_kvm(const struct calib *c, struct kvm_result *out);

/* model.c: memvirt's own `native` model of the same loops, run in-process
 * with a candidate cost table. A quantity is ns per event, as the host's;
 * NaN if a run of the model failed (after mv_error). */
struct model_q {
    const char *name;
    double (*eval)(const struct model_q *q, const struct cost *cost);
    unsigned arg;           /* a working set in MiB, where one matters */
};
static inline double model_eval(const struct model_q *q, const struct cost *cost) { return q->eval(q, cost); }
extern const struct model_q MQ_READ_FAULT, MQ_WRITE_FAULT, MQ_WRITE_FAULT_NEW_PTE, MQ_MMAP_MUNMAP,
    MQ_FORK, MQ_FORK_HEAP_SLOPE, MQ_FORK_EXIT, MQ_FORK_EXEC, MQ_FORK_SH;
/* TLB overhead per reference of memwalk's chase over q->arg MiB: 4 KiB pages
 * minus 2 MiB pages. */
double model_chase_overhead(const struct model_q *q, const struct cost *cost);
/* Busy ns of a memwalk run's walk phase (a run with refs=1 subtracted), with
 * the given "memwalk.x=y" parameters (NULL-terminated). */
double model_memwalk_ns(const char *const *params, const struct cost *cost);
uint64_t model_heap_pages(void);   /* the heap MQ_FORK_HEAP's parent has written, in pages */
#define MODEL_FAULT_PAGES 4096     /* pages the model's fault loops touch (host: 512 per sample) */
#define MODEL_MMAP_ADDR 0x200000000000ull   /* where both mmap/munmap loops map */

/* replay.c: memwalk's events carried out on the host (--verify); ns of the
 * walk phase, the span model_memwalk_ns marks, and the share of the working
 * set the kernel backed with huge pages at the end of the walk (-1: not
 * known). 0 or -1 after mv_error. */
int replay_memwalk(const struct calib *c, const char *const *params, double *walk_ns, double *huge_share);
/* This process's anonymous memory on transparent huge pages, KiB
 * (/proc/self/smaps_rollup), or -1. bench_walk.c. */
long calib_anon_huge_kb(void);

/* fit.c: set one cost entry so that the model reproduces a host figure. */
struct fit_result {
    double value;                       /* the entry, cycles */
    int clamped;                        /* it would have been negative: set to 0 */
    double slope;                       /* model ns per cycle of the entry */
    double model_before, model_after;   /* the model's figure before and after, ns */
};
int fit_entry(const char *entry, const struct model_q *q, double host_ns, struct cost *cost,
              struct fit_result *out);

/* host.c: how busy the machine is: the 1-minute load average
 * (/proc/loadavg) and the CPU time all CPUs spent, with its steal part
 * (/proc/stat's "cpu" line; steal: time a virtual CPU was ready but its
 * hypervisor ran something else). ok: both files were read. */
struct calib_load { int ok; double load1; unsigned long long total, steal; long online; };
void calib_load_read(struct calib_load *l);
/* A header comment describing the load between `a` and `b` into buf. */
void calib_load_note(const struct calib_load *a, const struct calib_load *b, char *buf, size_t size);
/* A warning on stderr when l's load average exceeds the online CPUs
 * (CPU-time timing does not hide that); `when`: "at the start" ... */
void calib_load_warn(const struct calib_load *l, const char *when);

/* One cost entry as calibrate found it. status NULL: not measured, the
 * compiled default applies (note, if set, says why). */
struct calib_entry {
    const char *status;     /* measured, fitted, bound */
    double cycles;          /* the entry's value */
    double lo, hi;          /* its spread (cycles), lo > hi: none */
    double ns;              /* the host figure it comes from */
    unsigned reps;
    char method[PROFILE_VALUE_MAX];
    char note[PROFILE_VALUE_MAX];
};
/* Write the profile at `path` (atomically): `out`'s lines, then a cost.*
 * line for each entry of rec[] (cost_params.n of them, in cost_params'
 * order) that has a status; the others, and `header`, go into the comment
 * block as "cost.NAME = VALUE status=default (not measured; ...)". The
 * text must parse and give `cost` before it is written; `path` must be a
 * regular file or a new name. 0 or -1 after mv_error (nothing written). */
int calib_write_profile(const char *path, struct profile *out, const struct cost *cost,
                        const struct calib_entry *rec, const char *header);

/* verify.c: the native model's figure for each row of --verify under a
 * profile's costs, found before anything is measured: a profile under which
 * the model cannot run (the engine fails) is bad input. -1 after one
 * mv_error naming `path`, the row and the engine's reason. The model runs
 * in a forked child that pipes the figures back, so that this process
 * stays as small as calibrate's when it then times fork. */
struct verify_pred { double fork_exit, fork_exec, fork_sh, fault, tlb, chase; };
int verify_predict(const struct cost *cost, const char *path, struct verify_pred *out);

/* calibrate.c and verify.c: the two commands. */
int calibrate_run(struct calib *c, const char *out_path, const char *cmdline);
int calibrate_verify(struct calib *c, const char *profile_path, const struct verify_pred *pred);

#endif

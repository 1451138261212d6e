/* workload.h: where events come from.
 *
 * A workload is a stream of events for one guest, pulled one at a time by the
 * engine: process events (fork, exec with a layout, exit, mmap, munmap, brk,
 * mprotect), batches of memory accesses, time advances, marks that bracket a
 * measured operation, and control events. Processes are named by the pids the
 * workload chooses. Generators are pure functions of their parameters and
 * seed, so the same workload is replayed identically under every mode. */
#ifndef MV_WORKLOAD_WORKLOAD_H
#define MV_WORKLOAD_WORKLOAD_H
#include "guest/layout.h"
#include "lib/param.h"
#include <stddef.h>
#include <stdint.h>

enum ev_type {
    EV_END = 0,
    EV_SPAWN,       /* pid: a first process (init-like) with an empty mm */
    EV_FORK,        /* pid forks child; flags CLONE_VM: the child shares the mm (thread, vfork) */
    EV_EXEC,        /* pid execs layout */
    EV_EXIT,        /* pid exits */
    EV_MMAP,        /* pid: addr, len, prot, flags (MAP_*), file, off (pages) */
    EV_MUNMAP,      /* pid: addr, len */
    EV_MPROTECT,    /* pid: addr, len, prot */
    EV_BRK,         /* pid: addr = new break */
    EV_ACCESS,      /* pid: n references in batch[] */
    EV_IDLE_UNTIL,  /* nothing to do until simulated time ns */
    EV_MARK_BEGIN,  /* start timing an operation named name */
    EV_MARK_END,    /* end timing the operation named name */
    EV_CTL,         /* control: name = "ptcache", addr = 1 enable / 0 disable */
    EV_DMA,         /* device `name` moves len bytes (flags 1: into memory) */
    EV_MREMAP,      /* pid: [addr, addr + len) becomes [new_addr, new_addr + new_len) */
    EV_ERROR,       /* the workload failed (a bad trace); it has said why with mv_error */
};

/* Encoding of one reference in a batch: virtual address with the access kind
 * in the low bits (references are 8-byte aligned). */
#define REF_WRITE 0x1
#define REF_EXEC  0x2
#define REF_KIND_MASK 0x7

struct event {
    enum ev_type type;
    uint32_t pid;
    uint32_t child;                 /* EV_FORK */
    uint64_t addr, len;
    uint32_t prot, flags, file;
    uint64_t off;
    uint64_t ns;                    /* EV_IDLE_UNTIL */
    const struct layout *layout;    /* EV_EXEC */
    const uint64_t *batch;          /* EV_ACCESS */
    uint32_t n;
    const char *name;               /* marks, EV_CTL */
    uint64_t new_addr, new_len;     /* EV_MREMAP: where the mapping [addr, addr + len) ends up */
};

struct kconfig;

struct workload_def {
    const char *name;
    const char *doc;
    int replays_input;   /* replays a file it must be given (trace): no glob matches it */
    const struct param_group *params;
    size_t cfg_size;
    /* Checks across the workload's parameters and the guest's (percentages
     * that must not sum past 100, sizes that must fit in guest RAM, a trace
     * file that exists and is sound), before any run. -1 after mv_error:
     * bad input (may be NULL). */
    int (*validate)(const void *cfg, const struct kconfig *guest);
    /* New generator state from a filled-in config and the run seed; NULL
     * after mv_error. */
    void *(*create)(const void *cfg, uint64_t seed);
    /* Fill *ev with the next event; EV_END when done. */
    void (*next)(void *state, struct event *ev);
    /* Fraction done, 0..1 (progress display). */
    double (*progress)(void *state);
    /* Where the event last pulled came from, for an error about it (a
     * trace: its file and record); NULL: the engine counts events. */
    void (*where)(void *state, char *buf, size_t len);
    void (*destroy)(void *state);
    /* The controls (EV_CTL names) this configuration will send, i = 0, 1,
     * ... until NULL, so a mode lacking one is refused before the run (may
     * be NULL: none). */
    const char *(*control)(const void *cfg, unsigned i);
    /* Retired instructions one reference of the events just pulled stands
     * for (the reference itself and the work around it; it may change
     * between phases); NULL: 1, every instruction a reference. */
    double (*instr_per_ref)(void *state);
    /* A workload that replays an input file (replays_input); NULL for the
     * others. input_path: the file it reads (outputs must not overwrite it).
     * input_seal, before validate: with base NULL (a run) fill in the file's
     * recorded identity (a digest) if none was given; with base a directory
     * (a rerun: the result's), look a relative path up there when it is not
     * found from the working directory; then a recorded identity the file
     * no longer has is an error. -1 after mv_error: bad input. */
    const char *(*input_path)(const void *cfg);
    int (*input_seal)(void *cfg, const char *base);
    /* The vm.mmap_min_addr of the kernel the input was recorded on, where
     * the input says (a trace's header): 1 and *addr; 0: not known. For the
     * message of a mapping the guest refused below its own (may be NULL). */
    int (*recorded_mmap_min_addr)(void *state, uint64_t *addr);
    /* Simulated seconds the run lasts at least, known from the
     * configuration alone (a fixed duration: forkstorm.minutes,
     * netio.seconds), so that a time series too fine for it is refused
     * before the run; 0 or NULL: not known. */
    double (*span_s)(const void *cfg);
    /* Warnings (mv_warn, one line each) about a valid configuration: a
     * setting the run will never act on (a control timed after the
     * workload ends). Said once before the run, with the parameters no
     * mode reads (config_warn_unused); NULL: none. */
    void (*warn)(const void *cfg);
};

extern const struct workload_def wl_forkstorm, wl_lmbench, wl_memwalk, wl_netio, wl_trace;
extern const struct workload_def wl_memwalk_gcc, wl_memwalk_mcf, wl_memwalk_phases;
extern const struct workload_def *const workloads[];
extern const unsigned nworkloads;
const struct workload_def *workload_find(const char *name);

#endif

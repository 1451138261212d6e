/* build.h: the back end every importer shares. Importers say what the
 * recorded processes did (fork, exec with the mappings the kernel made, mmap,
 * munmap, mprotect, brk, mremap, exit, a page touched); the builder keeps a
 * model of each address space as Linux keeps it (VMAs, the break, threads
 * sharing an mm), keeps only what a kernel would have accepted, and writes
 * trace records. So a trace replays without a reference to an unmapped page
 * or a call the guest kernel would refuse, and what was left out is counted
 * (build_report prints it). */
#ifndef MV_TRACE_BUILD_H
#define MV_TRACE_BUILD_H
#include "trace/writer.h"
#include <stdio.h>

struct build;

/* What the builder counted: name and value pairs for build_report. */
enum build_counter {
    BC_REFS,              /* references written */
    BC_REF_UNMAPPED,      /* references outside every mapping (dropped) */
    BC_REF_PROT,          /* references the mapping's protection forbids (dropped) */
    BC_STACK_GROW,        /* stack expansions below the stack mapping */
    BC_UNKNOWN_PID,       /* events of processes not seen starting (dropped) */
    BC_CALL_REFUSED,      /* mmap/mprotect/mremap (or exec mapping) a kernel would refuse (dropped) */
    BC_BELOW_MIN_ADDR,    /* mmap/brk/mremap (or exec mapping) below vm.mmap_min_addr (dropped) */
    BC_PID_REUSED,        /* a new process under a pid still live: the old one ended */
    BC_LAYOUT_TRIMMED,    /* exec mappings beyond the format's limit, written as mmaps */
    BC_NO_STACK,          /* execs with no stack mapping: a default stack was given */
    BC_IMPLICIT,          /* pages given an implicit mapping (build_implicit) */
    BC_REF_BELOW_MIN_ADDR, /* references below vm.mmap_min_addr, where no implicit mapping can go (dropped) */
    BC_LEFT_RUNNING,      /* processes still alive where the input ends (ended by build_finish) */
    BC_NOOP,              /* mprotect of length 0: Linux returns 0 and changes nothing (dropped) */
    BC_MREMAP_DUP,        /* mremap of old length 0: a second mapping of shared memory (not modelled) */
    BC__N
};

struct build *build_new(struct trace_writer *w);
/* The recording kernel's vm.mmap_min_addr (default TRACE_MMAP_MIN_ADDR,
 * Debian's 65536): calls and exec mappings below it are dropped, as that
 * kernel would have refused them, and counted apart. */
void build_set_mmap_min_addr(struct build *b, uint64_t addr);
/* Where the events that follow come from (an input's name and line; line
 * 0: the input alone; name NULL: not known), for the messages of bad
 * input the builder finds itself (a time past the span a trace may have).
 * name must last until the next build_at or the last event. */
void build_at(struct build *b, const char *name, uint64_t line);
/* Frees b; the writer stays the caller's. */
void build_free(struct build *b);

/* Times are in the importer's clock (ns); the first one seen is time 0 and
 * they never go backwards. One more than TRACE_SPAN_MAX (a week) after the
 * first is bad input: -1 after mv_error naming build_at's position. */
int build_spawn(struct build *b, uint64_t t, uint32_t pid);
int build_fork(struct build *b, uint64_t t, uint32_t parent, uint32_t child, uint32_t flags);
/* segs: the mappings exec made, in the order made (later ones replace what
 * they overlap). start_brk: the heap start, 0 if unknown. An unknown pid is
 * spawned first. */
int build_exec(struct build *b, uint64_t t, uint32_t pid, const char *path,
               const struct trace_seg *segs, uint32_t n, uint64_t start_brk);
int build_exit(struct build *b, uint64_t t, uint32_t pid);
int build_mmap(struct build *b, uint64_t t, uint32_t pid, uint64_t addr, uint64_t len, uint32_t prot,
               uint32_t flags, uint64_t dev, uint64_t ino, uint64_t pgoff);
int build_munmap(struct build *b, uint64_t t, uint32_t pid, uint64_t addr, uint64_t len);
int build_mprotect(struct build *b, uint64_t t, uint32_t pid, uint64_t addr, uint64_t len, uint32_t prot);
int build_brk(struct build *b, uint64_t t, uint32_t pid, uint64_t brk);
int build_mremap(struct build *b, uint64_t t, uint32_t pid, uint64_t addr, uint64_t len,
                 uint64_t new_addr, uint64_t new_len);
/* A touched address; kind TRR_*. */
int build_ref(struct build *b, uint64_t t, uint32_t pid, uint64_t addr, unsigned kind);
/* The real kernel's page-table bytes for the image of pid whose initial
 * stack contained start_stack (at: TR_PTINFO's at). 0, or 1 if no image
 * matched (not written). */
int build_ptinfo(struct build *b, uint32_t pid, uint64_t start_stack, uint32_t at, uint64_t bytes);

/* The end of the input: every process still alive exits (in pid order), so
 * the trace ends with nothing running, as a finished recording does. */
int  build_finish(struct build *b);
int  build_known(const struct build *b, uint32_t pid);
/* From now on a reference outside every mapping maps its page (anonymous,
 * read-write-execute) instead of being dropped: for sources that do not show
 * what exec mapped (valgrind loads the program itself). */
void build_implicit(struct build *b, int on);
uint64_t build_count(const struct build *b, enum build_counter c);
/* Exec records written: 0 if no program image ever ran. */
uint64_t build_execs(const struct build *b);
/* One line per non-zero counter, to f, each prefixed with `who`. */
void build_report(const struct build *b, FILE *f, const char *who);

#endif

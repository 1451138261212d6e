/* format.h: memvirt's binary trace format (docs/trace-format.md): what a
 * recorded program did, as records: the process tree, each exec's layout,
 * the memory system calls and the pages it touched.
 *
 * trace/ is a layer of its own, between lib/ and workload/: the reader and
 * writer of the file format and the importers that turn other tools' logs
 * (perf, strace, valgrind's lackey) into it. It knows nothing of the guest
 * kernel or the simulator; workload/trace.c replays a trace as a workload,
 * so replay runs under every mode without the trace code knowing any.
 *
 * On disk: an 8-byte magic, a 16-bit version, 16 flag bits, then one zstd
 * frame with a content checksum holding the records. Records are a kind
 * byte, the time since the previous record (ns) and the thread id as LEB128
 * varints, then the kind's own fields. */
#ifndef MV_TRACE_FORMAT_H
#define MV_TRACE_FORMAT_H
#include <stdint.h>

#define TRACE_MAGIC "MVTRACE\x1a"
#define TRACE_VERSION 1
#define TRACE_PREAMBLE 12          /* magic, version, flags */

enum trace_kind {
    TR_END = 0,        /* last record: number of records before it */
    TR_HEADER = 1,     /* first record: key/value strings */
    TR_SPAWN,          /* a first process, whose parent is not in the trace */
    TR_FORK,           /* pid creates child (flags: TRF_*) */
    TR_EXEC,           /* pid execs: path, layout, start of the heap */
    TR_EXIT,           /* pid (a thread) exits */
    TR_MMAP,           /* addr, len, prot, flags (TRM_*), dev, ino, pgoff */
    TR_MUNMAP,         /* addr, len */
    TR_MPROTECT,       /* addr, len, prot */
    TR_BRK,            /* addr: the new break */
    TR_MREMAP,         /* addr, len -> new_addr, new_len */
    TR_REFS,           /* n references: address and kind (TRR_*) */
    TR_PTINFO,         /* the real kernel's page-table bytes for pid's image `seq` */
    TR__N
};

/* TR_FORK flags (what clone shared). */
#define TRF_VM     0x1     /* CLONE_VM: the child shares the address space */
#define TRF_VFORK  0x2     /* vfork */
#define TRF_THREAD 0x4     /* CLONE_THREAD: a thread of the same process */

/* TR_MMAP flags. */
#define TRM_SHARED 0x1
#define TRM_ANON   0x2

/* Protection bits, as PROT_*. */
#define TRP_READ  0x1
#define TRP_WRITE 0x2
#define TRP_EXEC  0x4

/* Reference kinds. */
enum { TRR_READ = 0, TRR_WRITE = 1, TRR_EXEC = 2 };

/* Segment kinds of an exec layout. */
enum { TRS_FILE = 0, TRS_ANON = 1, TRS_STACK = 2 };

#define TRACE_USER_END (1ull << 47)        /* x86-64 user half (4-level paging) */
#define TRACE_MMAP_MIN_ADDR 65536ull       /* vm.mmap_min_addr as Debian sets it (the guest's default) */
/* The stack an importer gives an exec whose log shows none (strace's, or one
 * whose stack lay below vm.mmap_min_addr): 132 KiB under the top page of
 * the user half. */
#define TRACE_DEFAULT_STACK_START (TRACE_USER_END - 4096 - (132ull << 10))
/* The highest vm.mmap_min_addr a trace may record (its header's
 * mmap_min_addr; trace import --mmap-min-addr): above it not even that
 * stack could be mapped, and no exec of the trace would replay (the guest
 * refuses it with EPERM, as Linux would). The reader refuses more. */
#define TRACE_MMAP_MIN_ADDR_MAX TRACE_DEFAULT_STACK_START
#define TRACE_MAX_SEGS 512                 /* per exec */
#define TRACE_MAX_REFS 4096                /* per TR_REFS record */
#define TRACE_MAX_STR 4096                 /* strings: paths, header values */
#define TRACE_MAX_HDR 32                   /* header entries */
#define TRACE_FILE_PAGES (1ull << 32)      /* a file mapping ends within 2^32 pages (16 TiB) of its file */
#define TRACE_MAX_PT_BYTES (1ull << 50)    /* a TR_PTINFO's page-table bytes */
/* The longest recorded time a replayed trace may span: a week. Recordings
 * are seconds to hours; a span of months or more is a damaged or hostile
 * file, and replaying it would keep a sample of every counter per
 * time-series interval (by default a simulated minute) for all of it. */
#define TRACE_SPAN_MAX (7ull * 24 * 3600 * 1000000000ull)

struct trace_seg {
    uint64_t start, len;                   /* page aligned */
    uint32_t prot, kind;                   /* TRP_*, TRS_* */
    uint32_t shared;                       /* MAP_SHARED file mapping */
    uint64_t dev, ino, pgoff;              /* TRS_FILE: file identity, offset in pages */
};

struct trace_ptinfo {
    uint32_t seq;                          /* image: 0 = before the first exec seen */
    uint32_t at;                           /* 0: at exit, 1: at the exec that ended it */
    uint64_t bytes;                        /* VmPTE, bytes */
};

/* One record. Pointers belong to the reader (valid until the next record) or
 * to the caller of the writer. */
struct trace_rec {
    enum trace_kind kind;
    uint64_t t;                            /* ns since the start of the recording */
    uint32_t pid;                          /* thread id */
    uint32_t child, flags;                 /* TR_FORK; TR_MMAP flags */
    uint64_t addr, len, new_addr, new_len; /* memory calls; TR_BRK: addr */
    uint32_t prot;
    uint64_t dev, ino, pgoff;              /* TR_MMAP */
    const char *path;                      /* TR_EXEC */
    const struct trace_seg *seg;           /* TR_EXEC */
    uint32_t nseg;
    uint64_t start_brk;                    /* TR_EXEC: 0 if unknown */
    const uint64_t *ref;                   /* TR_REFS: address | kind (low 2 bits) */
    uint32_t nref;
    struct trace_ptinfo pt;                /* TR_PTINFO */
    uint64_t count;                        /* TR_END */
};

#define TRACE_REF_KIND(r) ((unsigned)((r) & 3))
#define TRACE_REF_ADDR(r) ((r) & ~(uint64_t)7)

const char *trace_kind_name(enum trace_kind k);

/* Checks the layout of an exec as the guest kernel needs it: page-aligned,
 * sorted, non-overlapping segments inside the user half, exactly one stack,
 * readable and writable.
 * 0, or -1 with the reason in why. */
int trace_layout_check(const struct trace_seg *s, uint32_t n, const char **why);

#endif

/* bench_fault.c: page faults on anonymous memory (cost.fault_entry,
 * cost.fault_handle, cost.buddy_op, cost.pt_alloc_path), and the host's
 * fault-around on a file (cost.fault_around_page, at the end). A sample is the
 * first touch, in address order, of the 512 pages of one fresh 2 MiB-aligned
 * region (so it includes the one page-table page the region needs, as the
 * model's loop over MODEL_FAULT_PAGES pages includes one per 512):
 *   read_zero      a read: the kernel maps the shared zero page; entry/exit,
 *                  dispatch and handle_mm_fault without allocating or zeroing;
 *   write_anon     a write: do_anonymous_page allocates and zeroes a page;
 *   write_new_pte  a write every 2 MiB, 16 of them: each fault also allocates
 *                  and zeroes a page-table page;
 *   cow_zero       a write to a page read before: copy-on-write of the zero
 *                  page (recorded, not fitted).
 * Transparent huge pages are off for these mappings (MADV_NOHUGEPAGE); the
 * mapping is removed after the timed loop. Timed in thread CPU time. */
#define _GNU_SOURCE
#include "calib/calib.h"
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#define HPAGE (2ull << 20)

enum kind { READ_ZERO, WRITE_ANON, WRITE_NEW_PTE, COW_ZERO };

static double one_rep(const struct calib *c, void *arg)
{
    enum kind k = *(enum kind *)arg;
    size_t stride = k == WRITE_NEW_PTE ? HPAGE : 4096;
    size_t n = k == WRITE_NEW_PTE ? 16 : 512, len = n * stride;
    char *raw = mmap(NULL, len + HPAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (raw == MAP_FAILED)
        return -1;
    volatile char *p = (volatile char *)(((uintptr_t)raw + HPAGE - 1) & ~(uintptr_t)(HPAGE - 1));
    madvise(raw, len + HPAGE, MADV_NOHUGEPAGE);
    if (k == COW_ZERO)
        for (size_t off = 0; off < len; off += stride)
            (void)p[off];
    char sum = 0;
    uint64_t t0 = calib_cpu_ns();
    if (k == READ_ZERO) {
        for (size_t off = 0; off < len; off += stride)
            sum += p[off];
    } else {
        for (size_t off = 0; off < len; off += stride)
            p[off] = 1;
    }
    uint64_t t1 = calib_cpu_ns();
    munmap(raw, len + HPAGE);
    (void)c;
    return (double)(t1 - t0) / (double)n + (double)sum;
}

void bench_fault(const struct calib *c, struct fault_result *out)
{
    enum kind k = READ_ZERO;
    calib_repeat(c, one_rep, &k, &out->read_zero);
    k = WRITE_ANON;
    calib_repeat(c, one_rep, &k, &out->write_anon);
    k = WRITE_NEW_PTE;
    calib_repeat(c, one_rep, &k, &out->write_new_pte);
    k = COW_ZERO;
    calib_repeat(c, one_rep, &k, &out->cow_zero);
}

/* ---- fault-around (cost.fault_around_page) ------------------------------
 * Two memfds (shmem, whose mapping faults around as a file's does) of
 * AROUND_PAGES pages: one with every page written, so cached, and one with
 * only every window-th page. A read of one page per window of a fresh
 * shared mapping of each takes one fault per window: on the first the
 * fault maps the whole window, on the second its own page alone. The
 * difference per extra page is what mapping one more cached page costs,
 * its entry's store included. The window is the host's own, found first
 * by counting the minor faults of a read of every page of the full file. */
#define AROUND_PAGES 4096u          /* 16 MiB a file */

struct around { int fd; unsigned window; };

static long minflt(void)
{
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return u.ru_minflt;
}

static int around_file(unsigned every)
{
    int fd = memfd_create("memvirt-calibrate", MFD_CLOEXEC);
    if (fd < 0)
        return -1;
    static const char page[4096] = { 1 };
    if (ftruncate(fd, (off_t)AROUND_PAGES * 4096) == 0) {
        unsigned i = 0;
        for (; i < AROUND_PAGES; i += every)
            if (pwrite(fd, page, sizeof page, (off_t)i * 4096) != (ssize_t)sizeof page)
                break;
        if (i >= AROUND_PAGES)
            return fd;
    }
    close(fd);
    return -1;
}

/* Read one page in every `step` of a fresh mapping of fd: ns per read
 * (thread CPU time), or -1. *faults: the minor faults taken, if asked. */
static double read_every(int fd, unsigned step, long *faults)
{
    size_t len = (size_t)AROUND_PAGES * 4096;
    volatile char *p = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED)
        return -1;
    long f0 = minflt();
    uint64_t t0 = calib_cpu_ns();
    for (size_t off = 0; off < len; off += (size_t)step * 4096)
        (void)p[off];
    uint64_t t1 = calib_cpu_ns();
    if (faults)
        *faults = minflt() - f0;
    munmap((void *)p, len);
    return (double)(t1 - t0) / (double)(AROUND_PAGES / step);
}

/* Pages of fd in the page cache (mincore), or -1. */
static long cached_pages(int fd)
{
    size_t len = (size_t)AROUND_PAGES * 4096;
    void *p = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED)
        return -1;
    static unsigned char vec[AROUND_PAGES];
    long n = -1;
    if (!mincore(p, len, vec)) {
        n = 0;
        for (unsigned i = 0; i < AROUND_PAGES; i++)
            n += vec[i] & 1;
    }
    munmap(p, len);
    return n;
}

static double around_rep(const struct calib *c, void *arg)
{
    const struct around *a = arg;
    (void)c;
    return read_every(a->fd, a->window, NULL);
}

void bench_fault_around(const struct calib *c, struct fault_around_result *out)
{
    *out = (struct fault_around_result){ .window = 1 };
    struct around full = { around_file(1), 1 };
    if (full.fd < 0)
        return;
    long faults = 0;
    if (read_every(full.fd, 1, &faults) >= 0 && faults > 0) {
        /* pages per fault, to the nearest (a fault or two more than the
         * windows is common), then as Linux keeps it: a power of two, at
         * most a table */
        unsigned long per = (AROUND_PAGES + (unsigned long)faults / 2) / (unsigned long)faults;
        unsigned w = 1;
        while (w * 2 <= per && w * 2 <= 512)
            w *= 2;
        out->window = w;
    }
    if (out->window > 1) {
        struct around sparse = { around_file(out->window), out->window };
        full.window = out->window;
        /* a host whose shmem makes large folios fills the holes: the
         * sparse file is then not sparse, and nothing is timed */
        if (sparse.fd >= 0 && cached_pages(sparse.fd) == AROUND_PAGES / out->window) {
            calib_repeat(c, around_rep, &full, &out->full);
            calib_repeat(c, around_rep, &sparse, &out->sparse);
            out->ok = out->full.reps && out->sparse.reps;
        }
        if (sparse.fd >= 0)
            close(sparse.fd);
    }
    close(full.fd);
}

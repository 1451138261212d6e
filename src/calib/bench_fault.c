/* bench_fault.c: page faults on anonymous memory (cost.fault_entry,
 * cost.fault_handle, cost.buddy_op, cost.pt_alloc_path). A sample is the
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

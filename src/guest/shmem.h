/* shmem.h: shared anonymous memory (Linux mm/shmem.c: shmem_zero_setup,
 * shmem_get_folio, shmem_evict_inode). An mmap of MAP_SHARED|MAP_ANONYMOUS
 * gets its own anonymous object, as Linux gives it an unlinked shmem file:
 * its pages live in a page cache of their own, found by (object, offset), so
 * every process that inherits the mapping by fork faults in the same pages.
 * Each VMA that maps an object holds a reference to it (vma.c takes and drops
 * them); when the last goes, its pages leave the cache and are freed once
 * unmapped. Without swap shmem pages cannot be dropped, so this cache is
 * never offered to reclaim (page_alloc.c shrinks only the file cache).
 *
 * The object's size (its i_size) is the length of the mmap that made it and
 * never changes: the guest has no ftruncate, and mremap growing a mapping
 * grows the VMA, not the object. A fault at an offset at or past it is
 * SIGBUS (shmem_get_folio_gfp refuses it, shmem_fault answers
 * VM_FAULT_SIGBUS). */
#ifndef MV_GUEST_SHMEM_H
#define MV_GUEST_SHMEM_H
#include <stdint.h>

struct kernel;
struct shmem_obj {
    uint32_t refs;          /* VMAs mapping it; UINT32_MAX: free */
    uint32_t next_free;     /* a free object: the next free id (0: none) */
    uint64_t size;          /* i_size in pages: offsets [0, size) can be faulted */
    /* The offsets of its cached pages, in the order they were faulted: a
     * page leaves the cache only with its object (no swap, no truncate),
     * so these are exactly the object's pages, and freeing it costs what
     * it holds, not its highest offset (Linux's shmem_undo_range walks the
     * mapping's xarray, which skips the holes too). */
    uint64_t *pgoff;
    uint64_t npg, cappg;
};

/* A new object of size pages with no reference yet (the caller inserts
 * its VMA). */
uint32_t shmem_zero_setup(struct kernel *k, uint64_t size);
void     shmem_get(struct kernel *k, uint32_t id);
void     shmem_put(struct kernel *k, uint32_t id);
/* The object's page at pgoff, allocated zeroed on first use (shmem_fault);
 * the cache holds one reference to it. The caller checked pgoff against
 * shmem_size (past it the fault is SIGBUS). */
uint64_t shmem_page(struct kernel *k, uint32_t id, uint64_t pgoff);
uint64_t shmem_size(struct kernel *k, uint32_t id);
/* The object's page at pgoff if it has one, else UINT64_MAX; nothing is
 * allocated and the LRU order stays (filemap_map_pages on its mapping). */
uint64_t shmem_peek(struct kernel *k, uint32_t id, uint64_t pgoff);
/* Objects alive and pages cached (for kernel_check and tests). */
uint32_t shmem_refs(struct kernel *k, uint32_t id);
uint64_t shmem_cached(struct kernel *k);
/* Shutdown: drop the cache's references and free the tables. */
void     shmem_destroy(struct kernel *k);

#endif

/* driver.c: the guest's device drivers' side of DMA: ring buffers allocated
 * from the page allocator and handed to the device by bus address (Linux
 * dma_map_page: under Xen PV xen_phys_to_bus gives the machine address, which
 * the IOMMU maps 1:1). */
#include "guest/kernel.h"
#include "lib/err.h"

void kernel_dma_buffers(struct kernel *k, unsigned n, uint64_t *bus)
{
    k->dma_buf = mv_realloc(k->dma_buf, (k->ndma_buf + n) * sizeof *k->dma_buf);
    for (unsigned i = 0; i < n; i++) {
        uint64_t pfn = kalloc_page(k, 0);
        k->dma_buf[k->ndma_buf++] = pfn;
        bus[i] = pte_frame(k->pv->make_entry(k, pfn, _PAGE_PRESENT));
    }
}

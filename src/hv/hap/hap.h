/* hap.h: nested paging's state and operations, for the hap mode (hap.c)
 * and for modes that run the guest under nested paging part of the time
 * (selective). */
#ifndef MV_HV_HAP_HAP_H
#define MV_HV_HAP_HAP_H
#include "hv/hap/ept.h"

struct hap {
    struct ept ept;           /* first: tests read the EPT through the mode's state */
    uint64_t io_checked;
    int prebuilt;             /* hap.ept_populate=boot: guest RAM mapped since the domain was built */
};

/* Build the EPT and turn nested paging on in the vCPU. -1 after mv_error. */
int      hap_state_init(struct hv *h, struct hap *a);
/* A TLB miss under nested paging: the 2D walk, EPT violations handled. */
uint32_t hap_fill(struct hv *h, struct hap *a, struct cpu *c, uint64_t va, enum access acc, int user,
                  struct tlb_xlate *x);
/* The guest kernel's own access to gfn through the EPT (a violation maps
 * it; prebuilt, there is none for guest RAM). */
uint64_t hap_translate(struct hv *h, struct hap *a, uint64_t gfn);
/* The same from inside the hypervisor (no VM exit: it fills the EPT entry
 * itself, charging cost.ept_fill; prebuilt, the entry was there). */
uint64_t hap_translate_hv(struct hv *h, struct hap *a, uint64_t gfn);
int      hap_check_state(struct hv *h, struct hap *a, char *msg, unsigned len);
void     hap_state_instruments(struct hap *a, struct mv_instruments *in);
/* EPT table frames: an L1 per 2 MiB of guest memory (none with 2 MiB
 * leaves), an L2 per GiB, the L3s and the root. */
uint64_t hap_heap_frames(const struct hvconfig *cfg, uint64_t guest_frames);

#endif

/* tlb_wide.c: set-up, reset and self-check of the replacement state of TLB
 * sets wider than 16 ways (tlb_wide.h says what it is). */
#include "hw/tlb_wide.h"
#include <stdlib.h>
#include <string.h>

void tlb_wide_init(struct tlb_array *a)
{
    size_t n = (size_t)a->sets * a->ways;
    uint32_t buckets = 16;
    while (buckets < n)
        buckets <<= 1;
    a->ewords = (a->ways + 63) / 64;
    a->hmask = buckets - 1;
    a->lprev = mv_calloc(n + a->sets, sizeof *a->lprev);
    a->lnext = mv_calloc(n + a->sets, sizeof *a->lnext);
    a->nvalid = mv_calloc(a->sets, sizeof *a->nvalid);
    a->empty = mv_calloc((size_t)a->sets * a->ewords, sizeof *a->empty);
    a->hidx = mv_calloc(buckets, sizeof *a->hidx);
    a->hnext = mv_calloc(n, sizeof *a->hnext);
    tlb_wide_reset(a);
}

void tlb_wide_destroy(struct tlb_array *a)
{
    free(a->lprev);
    free(a->lnext);
    free(a->nvalid);
    free(a->empty);
    free(a->hidx);
    free(a->hnext);
}

void tlb_wide_reset(struct tlb_array *a)
{
    size_t n = (size_t)a->sets * a->ways;
    for (uint32_t s = 0; s < a->sets; s++) {
        a->lprev[n + s] = a->lnext[n + s] = (uint32_t)(n + s);
        a->nvalid[s] = 0;
        uint64_t *e = &a->empty[(size_t)s * a->ewords];
        for (uint32_t k = 0; k < a->ewords; k++)
            e[k] = a->ways - 64 * k >= 64 ? ~0ull : (1ull << (a->ways - 64 * k)) - 1;
    }
    memset(a->hidx, 0, ((size_t)a->hmask + 1) * sizeof *a->hidx);
}

void tlb_array_touch_wide(struct tlb_array *a, uint64_t s, size_t i)
{
    tlb_wide_touch(a, s, i);
}

int tlb_wide_check(const struct tlb_array *a, const char **why)
{
    size_t n = (size_t)a->sets * a->ways;
    size_t indexed = 0;
    for (uint32_t b = 0; b <= a->hmask; b++) {
        size_t steps = 0;
        for (uint32_t e = a->hidx[b]; e; e = a->hnext[e - 1]) {
            if (e > n || ++steps > n) {
                *why = "an index chain leaves the array or loops";
                return -1;
            }
            if (!a->tag[e - 1] || tlb_wide_bucket(a, a->tag[e - 1]) != b) {
                *why = "an index chain holds an invalid entry or one of another bucket";
                return -1;
            }
            indexed++;
        }
    }
    size_t valid = 0;
    for (uint32_t s = 0; s < a->sets; s++) {
        uint32_t count = 0;
        for (uint32_t w = 0; w < a->ways; w++) {
            size_t i = (size_t)s * a->ways + w;
            int empty = (a->empty[(size_t)s * a->ewords + w / 64] >> (w % 64)) & 1;
            if (empty == (a->tag[i] != 0)) {
                *why = "a way's empty bit disagrees with its tag";
                return -1;
            }
            if (a->tag[i] && (a->tag[i] & a->set_mask << 15) >> 15 != s) {
                *why = "an entry sits in another page's set";
                return -1;
            }
            count += a->tag[i] != 0;
        }
        if (count != a->nvalid[s]) {
            *why = "a set's count of valid ways is wrong";
            return -1;
        }
        /* the list: every valid entry of the set once, links consistent */
        size_t head = n + s, steps = 0;
        for (uint32_t i = a->lnext[head]; i != head; i = a->lnext[i]) {
            if (i < (size_t)s * a->ways || i >= (size_t)(s + 1) * a->ways || !a->tag[i] ||
                a->lnext[a->lprev[i]] != i || ++steps > a->ways) {
                *why = "a recency list holds an invalid or foreign entry, or its links disagree";
                return -1;
            }
        }
        if (steps != count) {
            *why = "a recency list misses a valid entry";
            return -1;
        }
        valid += count;
    }
    if (valid != indexed) {
        *why = "the index misses a valid entry";
        return -1;
    }
    return 0;
}

/* refloop.c: the benchmark's reference loop (see refloop.h). */
#include "refloop.h"
#include <stdlib.h>
#include <string.h>

#define L1_SETS 16
#define L1_WAYS 4
#define L2_SETS 128
#define L2_WAYS 12

struct tlbset_l1 { uint64_t tag[L1_WAYS], frame[L1_WAYS], used[L1_WAYS]; };
struct tlbset_l2 { uint64_t tag[L2_WAYS], frame[L2_WAYS], used[L2_WAYS]; };

struct refloop {
    struct tlbset_l1 l1[L1_SETS];
    struct tlbset_l2 l2[L2_SETS];
    uint64_t clock;          /* the LRU stamp */
    uint64_t *root;          /* 512 entries: a pointer to the next table, or a frame + 1 */
    uint64_t next_frame;
    struct refloop_counts n;
};

struct refloop *refloop_new(void)
{
    struct refloop *r = calloc(1, sizeof *r);
    if (!r || !(r->root = calloc(512, sizeof *r->root)))
        abort();
    return r;
}

static void free_table(uint64_t *t, int lvl)
{
    if (lvl > 1)
        for (int i = 0; i < 512; i++)
            if (t[i])
                free_table((uint64_t *)(uintptr_t)t[i], lvl - 1);
    free(t);
}

void refloop_free(struct refloop *r)
{
    free_table(r->root, 4);
    free(r);
}

/* The 4-level walk: one load per level; a missing table or page is made. */
static uint64_t walk(struct refloop *r, uint64_t vpn)
{
    uint64_t *t = r->root;
    for (int lvl = 4; lvl > 1; lvl--) {
        uint64_t *e = &t[(vpn >> (9 * (lvl - 1))) & 511];
        if (!*e) {
            uint64_t *nt = calloc(512, sizeof *nt);
            if (!nt)
                abort();
            *e = (uint64_t)(uintptr_t)nt;
        }
        t = (uint64_t *)(uintptr_t)*e;
    }
    uint64_t *e = &t[vpn & 511];
    if (!*e)
        *e = ++r->next_frame;
    return *e - 1;
}

/* Victim: an invalid way, else the least recently used. */
#define VICTIM(set, ways)                                   \
    ({                                                      \
        unsigned v_ = 0;                                    \
        for (unsigned w_ = 0; w_ < (ways); w_++) {          \
            if (!(set)->tag[w_]) { v_ = w_; break; }        \
            if ((set)->used[w_] < (set)->used[v_]) v_ = w_; \
        }                                                   \
        v_;                                                 \
    })

void refloop_batch(struct refloop *r, const uint64_t *ref, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        uint64_t vpn = (ref[i] & ((1ull << 48) - 1)) >> 12, tag = vpn + 1;
        struct tlbset_l1 *s1 = &r->l1[vpn % L1_SETS];
        unsigned w;
        for (w = 0; w < L1_WAYS; w++)
            if (s1->tag[w] == tag)
                break;
        if (w < L1_WAYS) {
            s1->used[w] = ++r->clock;
            r->n.l1_hits++;
            continue;
        }
        struct tlbset_l2 *s2 = &r->l2[vpn % L2_SETS];
        uint64_t frame;
        for (w = 0; w < L2_WAYS; w++)
            if (s2->tag[w] == tag)
                break;
        if (w < L2_WAYS) {
            s2->used[w] = ++r->clock;
            frame = s2->frame[w];
            r->n.l2_hits++;
        } else {
            frame = walk(r, vpn);
            r->n.walks++;
            w = VICTIM(s2, L2_WAYS);
            s2->tag[w] = tag;
            s2->frame[w] = frame;
            s2->used[w] = ++r->clock;
        }
        w = VICTIM(s1, L1_WAYS);
        s1->tag[w] = tag;
        s1->frame[w] = frame;
        s1->used[w] = ++r->clock;
    }
    r->n.refs += n;
}

struct refloop_counts refloop_counts(const struct refloop *r) { return r->n; }

/* oracle.c: the reference translation and the architectural TLB that
 * bounds staleness (see oracle.h). The reference walks with the guest's
 * view of its tables (entries decoded by the guest's own pte_val, table
 * frames through the hypervisor's p2m), independently of the TLBs, the walk
 * caches and the mode's walker. */
#include "sim/oracle.h"
#include "hw/tlb.h"
#include "lib/err.h"
#include <stdio.h>
#include <stdlib.h>

/* One remembered translation: the page of va at the guest's page size. */
struct atlb_entry {
    uint64_t key;        /* (pcid << 40 | size << 38 | vpn) + 1; 0 empty, 1 deleted */
    uint64_t base;       /* machine frame of the page's first 4 KiB */
    uint32_t pcid_gen, all_gen;
    uint8_t  perms;      /* TLB_W | TLB_U | TLB_NX */
};

#define NPCID 4096
#define TOMB 1

struct oracle {
    struct machine *m;
    struct tlb_observer obs;
    struct atlb_entry *e;
    uint64_t mask, used;   /* slots in use, deleted ones included */
    uint32_t all_gen;
    uint32_t pcid_gen[NPCID];
    int strict;            /* a superseded, unflushed translation is an error too */
};

static uint64_t key_of(uint16_t pcid, unsigned size, uint64_t va)
{
    return (((uint64_t)(pcid & (NPCID - 1)) << 40) | ((uint64_t)size << 38) |
            ((va & ((1ull << VA_BITS) - 1)) >> pg_shift((enum page_size)size))) + 2;
}

static uint64_t slot_of(const struct oracle *o, uint64_t key)
{
    return (key * 0x9e3779b97f4a7c15ull >> 17) & o->mask;
}

static struct atlb_entry *find(struct oracle *o, uint64_t key)
{
    for (uint64_t i = slot_of(o, key);; i = (i + 1) & o->mask) {
        if (o->e[i].key == key)
            return &o->e[i];
        if (!o->e[i].key)
            return NULL;
    }
}

static void rehash(struct oracle *o, uint64_t n)
{
    struct atlb_entry *old = o->e;
    uint64_t oldn = o->mask + 1;
    o->e = mv_calloc(n, sizeof *o->e);
    o->mask = n - 1;
    o->used = 0;
    for (uint64_t i = 0; i < oldn; i++) {
        const struct atlb_entry *x = &old[i];
        if (x->key <= TOMB || x->all_gen != o->all_gen || x->pcid_gen != o->pcid_gen[(x->key - 2) >> 40])
            continue;
        uint64_t j = slot_of(o, x->key);
        while (o->e[j].key)
            j = (j + 1) & o->mask;
        o->e[j] = *x;
        o->used++;
    }
    free(old);
}

static void remember(struct oracle *o, uint16_t pcid, unsigned size, uint64_t va, uint64_t base, uint8_t perms)
{
    uint64_t key = key_of(pcid, size, va);
    struct atlb_entry *x = find(o, key);
    if (!x) {
        if ((o->used + 1) * 2 > o->mask + 1)
            rehash(o, (o->mask + 1) * 2);
        uint64_t j = slot_of(o, key);
        while (o->e[j].key > TOMB)
            j = (j + 1) & o->mask;
        if (!o->e[j].key)
            o->used++;
        x = &o->e[j];
    }
    *x = (struct atlb_entry){ key, base, o->pcid_gen[pcid & (NPCID - 1)], o->all_gen, perms };
}

static const struct atlb_entry *lookup(struct oracle *o, uint16_t pcid, uint64_t va)
{
    for (unsigned size = PG_4K; size <= PG_2M; size++) {
        const struct atlb_entry *x = find(o, key_of(pcid, size, va));
        if (x && x->all_gen == o->all_gen && x->pcid_gen == o->pcid_gen[pcid & (NPCID - 1)])
            return x;
    }
    return NULL;
}

/* The CPU invalidated translations: forget them. */
static void on_flush(void *ctx, enum tlb_flush_kind kind, uint64_t va, uint16_t pcid)
{
    struct oracle *o = ctx;
    switch (kind) {
    case FLUSH_INVLPG:
    case FLUSH_INVPCID_ADDR:
        for (unsigned size = PG_4K; size <= PG_2M; size++) {
            struct atlb_entry *x = find(o, key_of(pcid, size, va));
            if (x)
                x->key = TOMB;
        }
        break;
    case FLUSH_CR3_RELOAD:
    case FLUSH_INVPCID_SINGLE:
        o->pcid_gen[pcid & (NPCID - 1)]++;
        break;
    default:
        o->all_gen++;
        break;
    }
}

struct oracle *oracle_create(struct machine *m)
{
    struct oracle *o = mv_calloc(1, sizeof *o);
    o->m = m;
    o->mask = 1023;
    o->e = mv_calloc(o->mask + 1, sizeof *o->e);
    o->obs = (struct tlb_observer){ on_flush, o };
    m->cpu.obs = &o->obs;
    return o;
}

void oracle_set_strict(struct oracle *o, int strict)
{
    o->strict = strict;
}

void oracle_destroy(struct oracle *o)
{
    if (!o)
        return;
    if (o->m->cpu.obs == &o->obs)
        o->m->cpu.obs = NULL;
    free(o->e);
    free(o);
}

/* The reference walk; also the page size and permissions it found. */
static uint32_t reference(struct machine *m, struct mm *mm, uint64_t va, enum access acc, uint64_t *mfn,
                          unsigned *size, uint8_t *perms)
{
    struct kernel *k = &m->k;
    uint32_t pfec = pfec_of(acc, 1);
    uint64_t table = mm->pgd;
    int w = 1, u = 1, nx = 0;
    for (unsigned lvl = 4; lvl >= 1; lvl--) {
        uint64_t tm = machine_p2m(m, table);
        if (tm == UINT64_MAX)
            return pfec | PFEC_RSVD;
        pte_t e = pmem_read(&m->mem, tm, pt_index(va, lvl));
        if (!pte_present(e))
            return pfec;
        /* PS is reserved in a PML4 entry (SDM 4.5): a present one faults
         * with P and RSVD (SDM 4.7), and is never followed */
        if (lvl == 4 && (e & _PAGE_PSE))
            return pfec | PFEC_P | PFEC_RSVD;
        w &= !!(e & _PAGE_RW);
        u &= !!(e & _PAGE_USER);
        nx |= !!(e & _PAGE_NX);
        if (pte_leaf(e, lvl)) {
            if (pte_large_rsvd(e, lvl))
                return pfec | PFEC_P | PFEC_RSVD;   /* reserved frame bits of a large page */
            if (!u || (acc == ACC_WRITE && !w) || (acc == ACC_EXEC && nx))
                return pfec | PFEC_P;
            unsigned sz = lvl - 1;
            /* the page's first frame: a large page's low frame bit is PAT */
            uint64_t gfn = k->pv->entry_pfn(k, e & ~(((1ull << (9 * sz)) - 1) << PAGE_SHIFT));
            uint64_t off = (va >> PAGE_SHIFT) & ((1ull << (9 * sz)) - 1);
            *mfn = machine_p2m(m, gfn + off);
            *size = sz;
            *perms = (uint8_t)((w ? TLB_W : 0) | (u ? TLB_U : 0) | (nx ? TLB_NX : 0));
            return *mfn == UINT64_MAX ? (pfec | PFEC_RSVD) : 0;
        }
        table = k->pv->entry_pfn(k, e);
    }
    return pfec | PFEC_RSVD;
}

uint32_t oracle_translate(struct machine *m, struct mm *mm, uint64_t va, enum access acc, uint64_t *mfn)
{
    unsigned size;
    uint8_t perms;
    return reference(m, mm, va, acc, mfn, &size, &perms);
}

int oracle_check(struct oracle *o, struct mm *mm, uint64_t va, enum access acc, uint64_t mfn,
                 char *msg, unsigned len)
{
    struct machine *m = o->m;
    uint16_t pcid = m->cpu.pcid;
    uint64_t ref = UINT64_MAX;
    unsigned size = 0;
    uint8_t perms = 0;
    uint32_t pfec = reference(m, mm, va, acc, &ref, &size, &perms);
    if (!pfec && ref == mfn) {
        uint64_t span = (1ull << (9 * size)) - 1;
        remember(o, pcid, size, va, mfn - ((va >> PAGE_SHIFT) & span), perms);
        return 0;
    }
    /* Not the reference: still allowed if the guest may be using a
     * translation it has not flushed yet. */
    const char *what = acc == ACC_WRITE ? "write" : acc == ACC_EXEC ? "exec" : "read";
    const struct atlb_entry *x = lookup(o, pcid, va);
    if (x) {
        unsigned sz = (unsigned)(((x->key - 2) >> 38) & 3);
        uint64_t span = (1ull << (9 * sz)) - 1;
        if (x->base + ((va >> PAGE_SHIFT) & span) == mfn && tlb_perm_ok(x->perms | TLB_D, acc, 1)) {
            m->st.cnt[CNT_oracle_stale]++;
            if (!o->strict)
                return 0;
            char now[64];
            if (pfec)
                snprintf(now, sizeof now, "refuse the access (error code %#x)", pfec);
            else
                snprintf(now, sizeof now, "give frame %#llx", (unsigned long long)ref);
            snprintf(msg, len, "va %#llx (%s): hardware used a stale translation to frame %#llx (the guest's "
                     "tables now %s) that the guest had not flushed before this reference: a flush the guest "
                     "kernel skipped", (unsigned long long)va, what, (unsigned long long)mfn, now);
            return -1;
        }
    }
    if (pfec)
        snprintf(msg, len, "va %#llx (%s): hardware translated to frame %#llx but the guest's tables "
                 "do not allow the access (error code %#x) and no unflushed translation does",
                 (unsigned long long)va, what, (unsigned long long)mfn, pfec);
    else
        snprintf(msg, len, "va %#llx (%s): hardware translated to frame %#llx, reference is %#llx, and no "
                 "unflushed translation gives %#llx", (unsigned long long)va, what, (unsigned long long)mfn,
                 (unsigned long long)ref, (unsigned long long)mfn);
    return -1;
}

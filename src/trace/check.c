/* check.c: the checks of check.h: the trace's span, and ptinfo records
 * against the images the trace's own process tree made. */
#include "trace/check.h"
#include "lib/err.h"
#include <stdlib.h>

#define COUNT_MAX 0x7fffffffu   /* where cur and max stop */

static uint64_t slot_of(uint32_t pid, uint64_t cap) { return (pid * 0x9e3779b97f4a7c15ull >> 20) & (cap - 1); }
static int in_use(const struct trace_check *ck, uint64_t i) { return (ck->used[i >> 6] >> (i & 63)) & 1; }

/* The slot of pid, or where it goes (not in use). */
static uint64_t find(const struct trace_check *ck, uint32_t pid)
{
    uint64_t j = slot_of(pid, ck->cap);
    while (in_use(ck, j) && ck->slot[j].pid != pid)
        j = (j + 1) & (ck->cap - 1);
    return j;
}

/* pid's entry; added (with no image) when add, else NULL if absent. */
static struct trace_check_pid *entry(struct trace_check *ck, uint32_t pid, int add)
{
    uint64_t j;
    if (ck->cap && in_use(ck, j = find(ck, pid)))
        return &ck->slot[j];
    if (!add)
        return NULL;
    if (4 * (ck->n + 1) > 3 * ck->cap) {
        struct trace_check old = *ck;
        ck->cap = old.cap ? old.cap * 2 : 64;
        ck->slot = mv_malloc(ck->cap * sizeof *ck->slot);
        ck->used = mv_calloc(ck->cap / 64, sizeof *ck->used);
        for (uint64_t i = 0; i < old.cap; i++)
            if (in_use(&old, i)) {
                uint64_t k = find(ck, old.slot[i].pid);
                ck->slot[k] = old.slot[i];
                ck->used[k >> 6] |= 1ull << (k & 63);
            }
        free(old.slot);
        free(old.used);
    }
    j = find(ck, pid);
    ck->slot[j] = (struct trace_check_pid){ .pid = pid };
    ck->used[j >> 6] |= 1ull << (j & 63);
    ck->n++;
    return &ck->slot[j];
}

/* A new holder of pid: a process (image 0) or a thread (none yet). */
static void new_holder(struct trace_check *ck, uint32_t pid, int process)
{
    struct trace_check_pid *e = entry(ck, pid, 1);
    e->cur = 0;
    e->max2 |= process != 0;
}

int trace_check_record(struct trace_check *ck, const struct trace_reader *r, const struct trace_rec *rec)
{
    if (trace_check_span(r, rec))
        return -1;
    struct trace_check_pid *e;
    switch (rec->kind) {
    case TR_SPAWN:
        new_holder(ck, rec->pid, 1);
        break;
    case TR_FORK:
        new_holder(ck, rec->child, !(rec->flags & TRF_THREAD));
        break;
    case TR_EXEC:
        e = entry(ck, rec->pid, 1);
        if (e->cur < COUNT_MAX)
            e->cur++;
        if (e->cur > e->max2 >> 1)
            e->max2 = e->cur << 1 | (e->max2 & 1);
        break;
    case TR_PTINFO:
        e = entry(ck, rec->pid, 0);
        if (!e || (rec->pt.seq ? rec->pt.seq > e->max2 >> 1 && e->max2 >> 1 < COUNT_MAX : !(e->max2 & 1)))
            return mv_error("trace '%s': record %llu at byte %llu of the decompressed stream (ptinfo, thread %u): "
                            "page-table figures of image %u of a process the trace never started or exec'd that "
                            "often",
                            trace_name(r), (unsigned long long)trace_record_number(r),
                            (unsigned long long)trace_record_offset(r), rec->pid, rec->pt.seq);
        break;
    default:
        break;
    }
    return 0;
}

void trace_check_free(struct trace_check *ck)
{
    free(ck->slot);
    free(ck->used);
    *ck = (struct trace_check){ 0 };
}

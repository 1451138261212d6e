/* check.c: the checks of check.h: the trace's span, and ptinfo records
 * against the images the trace's own process tree made. */
#include "trace/check.h"
#include "lib/err.h"
#include <stdlib.h>

static uint32_t slot_of(uint64_t key, uint32_t cap) { return (uint32_t)((key * 0x9e3779b97f4a7c15ull) >> 32) & (cap - 1); }

/* pid's entry; added (with no image) when add, else NULL if absent. */
static struct trace_check_pid *entry(struct trace_check *ck, uint32_t pid, int add)
{
    const uint64_t key = (uint64_t)pid + 1;
    if (ck->cap) {
        for (uint32_t j = slot_of(key, ck->cap); ck->pid[j].key; j = (j + 1) & (ck->cap - 1))
            if (ck->pid[j].key == key)
                return &ck->pid[j];
    }
    if (!add)
        return NULL;
    if (2 * (ck->n + 1) > ck->cap) {
        uint32_t ncap = ck->cap ? ck->cap * 2 : 64;
        struct trace_check_pid *np = mv_calloc(ncap, sizeof *np);
        for (uint32_t i = 0; i < ck->cap; i++)
            if (ck->pid[i].key) {
                uint32_t j = slot_of(ck->pid[i].key, ncap);
                while (np[j].key)
                    j = (j + 1) & (ncap - 1);
                np[j] = ck->pid[i];
            }
        free(ck->pid);
        ck->pid = np;
        ck->cap = ncap;
    }
    uint32_t j = slot_of(key, ck->cap);
    while (ck->pid[j].key)
        j = (j + 1) & (ck->cap - 1);
    ck->pid[j] = (struct trace_check_pid){ .key = key };
    ck->n++;
    return &ck->pid[j];
}

/* A new holder of pid: a process (image 0) or a thread (none yet). */
static void new_holder(struct trace_check *ck, uint32_t pid, int process)
{
    struct trace_check_pid *e = entry(ck, pid, 1);
    e->cur = 0;
    e->has0 |= (uint8_t)(process != 0);
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
        if (e->cur < UINT32_MAX)   /* (2^32 execs of one pid: a trace of over 2^32 records) */
            e->cur++;
        if (e->cur > e->max)
            e->max = e->cur;
        break;
    case TR_PTINFO:
        e = entry(ck, rec->pid, 0);
        if (!e || (rec->pt.seq ? rec->pt.seq > e->max : !e->has0))
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
    free(ck->pid);
    *ck = (struct trace_check){ 0 };
}

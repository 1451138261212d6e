/* evq.h: a FIFO of events a generator has decided on but not yet handed out
 * (one decision, such as "start a program", is several events). */
#ifndef MV_WORKLOAD_EVQ_H
#define MV_WORKLOAD_EVQ_H
#include "lib/err.h"
#include "workload/workload.h"
#include <stdlib.h>

struct evq {
    struct event *e;
    uint32_t head, n, cap;
};

static inline void evq_push(struct evq *q, struct event ev)
{
    if (q->n == q->cap) {
        uint32_t ncap = q->cap ? q->cap * 2 : 64;
        struct event *ne = mv_malloc(ncap * sizeof *ne);
        for (uint32_t i = 0; i < q->n; i++)
            ne[i] = q->e[(q->head + i) % q->cap];
        free(q->e);
        q->e = ne;
        q->head = 0;
        q->cap = ncap;
    }
    q->e[(q->head + q->n) % q->cap] = ev;
    q->n++;
}

static inline int evq_pop(struct evq *q, struct event *ev)
{
    if (!q->n)
        return 0;
    *ev = q->e[q->head];
    q->head = (q->head + 1) % q->cap;
    q->n--;
    return 1;
}

static inline void evq_free(struct evq *q)
{
    free(q->e);
    *q = (struct evq){ 0 };
}

#endif

/* instr.c: registries of gauges, metrics and controls (see instr.h). */
#include "lib/instr.h"
#include "lib/err.h"
#include "lib/param.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GROW(arr, n, cap)                                                   \
    do {                                                                    \
        if ((n) == (cap)) {                                                 \
            (cap) = (cap) ? 2 * (cap) : 8;                                  \
            (arr) = mv_realloc((arr), (cap) * sizeof *(arr));               \
        }                                                                   \
    } while (0)

void mv_metric_put(struct mv_metrics *l, const char *name, double value)
{
    GROW(l->m, l->n, l->cap);
    snprintf(l->m[l->n].name, sizeof l->m[0].name, "%s", name);
    l->m[l->n++].value = value;
}

void mv_metrics_free(struct mv_metrics *l)
{
    free(l->m);
    *l = (struct mv_metrics){ 0 };
}

int mv_control_parse(const struct mv_control_def *d, const char *text, uint64_t *value)
{
    if (d->type == CTL_BOOL) {
        int on;
        if (param_parse_bool(text, &on))
            return -1;
        *value = (uint64_t)on;
        return 0;
    }
    return param_parse_u64(text, value) || (d->max && *value > d->max) ? -1 : 0;
}

void mv_add_gauge(struct mv_instruments *in, const char *name, double (*read)(const void *), const void *ctx)
{
    GROW(in->gauge, in->ngauge, in->capgauge);
    in->gauge[in->ngauge++] = (struct mv_gauge){ name, read, ctx };
}

void mv_add_control(struct mv_instruments *in, const struct mv_control_def *def,
                    void (*apply)(void *, uint64_t), void *ctx)
{
    MV_ASSERT(!mv_find_control(in, def->name), "control %s registered twice", def->name);
    GROW(in->control, in->ncontrol, in->capcontrol);
    in->control[in->ncontrol++] = (struct mv_control){ def, apply, ctx };
}

void mv_add_metrics(struct mv_instruments *in, void (*put)(const void *, struct mv_metrics *), const void *ctx)
{
    GROW(in->metrics, in->nmetrics, in->capmetrics);
    in->metrics[in->nmetrics++] = (struct mv_metric_source){ put, ctx };
}

const struct mv_control *mv_find_control(const struct mv_instruments *in, const char *name)
{
    for (unsigned i = 0; i < in->ncontrol; i++)
        if (!strcmp(in->control[i].def->name, name))
            return &in->control[i];
    return NULL;
}

void mv_event_add(struct mv_timeline *tl, double t, const char *what, const char *why)
{
    if (tl->n >= MV_TIMELINE_MAX) {
        tl->dropped++;
        return;
    }
    GROW(tl->e, tl->n, tl->cap);
    struct mv_event *e = &tl->e[tl->n++];
    e->t = t;
    snprintf(e->what, sizeof e->what, "%s", what);
    snprintf(e->why, sizeof e->why, "%s", why);
}

void mv_timeline_free(struct mv_timeline *tl)
{
    free(tl->e);
    *tl = (struct mv_timeline){ 0 };
}

void mv_instruments_free(struct mv_instruments *in)
{
    mv_timeline_free(&in->timeline);
    free(in->gauge);
    free(in->control);
    free(in->metrics);
    *in = (struct mv_instruments){ 0 };
}

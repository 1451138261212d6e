/* fit.c: choose one cost entry so that memvirt's model reproduces what the
 * host measured (see calib.h).
 *
 * Every cost entry adds its cycles each time its event happens, so the
 * model's answer is linear in any one entry: two runs give the line, and
 * the entry is set where the line meets the host's figure. A third run
 * checks it. An entry cannot go below zero: if the other entries already
 * predict more than the host took (or the host figure, a difference of two
 * measurements, is not above zero), the entry is set to 0 and the result
 * says so. A model run that fails (NaN) is no fit: -1, *cost unchanged. */
#include "calib/calib.h"
#include "lib/err.h"
#include <math.h>
#include <string.h>

static uint64_t get_u64(const struct cost *c, const struct param_def *d)
{
    uint64_t v;
    memcpy(&v, (const char *)c + d->off, sizeof v);
    return v;
}

static void set_u64(struct cost *c, const struct param_def *d, uint64_t v)
{
    memcpy((char *)c + d->off, &v, sizeof v);
}

int fit_entry(const char *entry, const struct model_q *q, double host_ns, struct cost *cost,
              struct fit_result *out)
{
    const struct param_def *d = param_find(&cost_params, entry);
    MV_ASSERT(d && d->type == P_U64, "fit: %s is not an integer cost entry", entry);
    memset(out, 0, sizeof *out);
    if (!isfinite(host_ns))
        return -1;
    struct cost c = *cost;
    uint64_t v0 = get_u64(&c, d), v1 = v0 + (v0 > 1000 ? v0 : 1000);
    double m0 = model_eval(q, &c);
    set_u64(&c, d, v1);
    double m1 = model_eval(q, &c);
    double slope = (m1 - m0) / (double)(v1 - v0);
    if (!(slope > 0))
        return -1;
    double v = (double)v0 + (host_ns - m0) / slope;
    out->clamped = v < 0;
    if (v < 0)
        v = 0;
    if (v > d->max)
        v = d->max;
    set_u64(&c, d, (uint64_t)llround(v));
    out->value = (double)get_u64(&c, d);
    out->slope = slope;
    out->model_before = m0;
    out->model_after = model_eval(q, &c);
    if (!isfinite(out->model_after))   /* the model's run failed (model.c) */
        return -1;
    *cost = c;
    return 0;
}

/* instr.h: what a component exposes to be observed and steered: gauges
 * (values sampled into the time series), metrics (values at the end of a
 * run) and controls (settings changed at a simulated time, by --at or by a
 * workload event). Each layer registers its own into the machine's set (the
 * guest kernel its gauges and PiBooster's controls, a hypervisor paging mode
 * its shadow or EPT gauges); the engine and the reports handle them by name
 * only, so nothing in sim/ names a particular design. */
#ifndef MV_LIB_INSTR_H
#define MV_LIB_INSTR_H
#include <stdint.h>

#define MV_NAME_MAX 48

struct mv_metric {
    char name[MV_NAME_MAX];
    double value;
};

/* A growable list of named values, in the order they were put. */
struct mv_metrics {
    struct mv_metric *m;
    unsigned n, cap;
};
void mv_metric_put(struct mv_metrics *l, const char *name, double value);
void mv_metrics_free(struct mv_metrics *l);

/* A control's description (static: what a mode offers can be checked before
 * anything runs). */
enum mv_ctl_type { CTL_BOOL, CTL_U64 };
struct mv_control_def {
    const char *name;
    enum mv_ctl_type type;
    const char *doc;
    uint64_t max;   /* CTL_U64: the largest value (its parameter's range); 0: any */
};
/* Parse a control's value as its type wants ("on"/"off" ..., or a decimal
 * integer up to max). 0, or -1 (no message). */
int mv_control_parse(const struct mv_control_def *d, const char *text, uint64_t *value);

struct mv_gauge {
    const char *name;
    double (*read)(const void *ctx);
    const void *ctx;
};
struct mv_control {
    const struct mv_control_def *def;
    void (*apply)(void *ctx, uint64_t value);
    void *ctx;
};
struct mv_metric_source {
    void (*put)(const void *ctx, struct mv_metrics *out);
    const void *ctx;
};

/* A timeline: what a layer decided, when and why (the selective mode's
 * switches), in the order it happened. It keeps the first MV_TIMELINE_MAX
 * decisions and counts the rest in `dropped`: a policy that switches every
 * millisecond would otherwise grow it by 200 bytes a switch for as long as
 * the run lasts (its counters keep every switch). */
#define MV_TIMELINE_MAX 10000u
struct mv_event {
    double t;                 /* simulated seconds */
    char what[MV_NAME_MAX];
    char why[160];
};
struct mv_timeline {
    struct mv_event *e;
    unsigned n, cap;          /* n <= MV_TIMELINE_MAX */
    uint64_t dropped;         /* decisions made after the first MV_TIMELINE_MAX */
};
void mv_event_add(struct mv_timeline *tl, double t, const char *what, const char *why);
void mv_timeline_free(struct mv_timeline *tl);

struct mv_instruments {
    struct mv_gauge *gauge;
    unsigned ngauge, capgauge;
    struct mv_control *control;
    unsigned ncontrol, capcontrol;
    struct mv_metric_source *metrics;
    unsigned nmetrics, capmetrics;
    struct mv_timeline timeline;
};

void mv_add_gauge(struct mv_instruments *in, const char *name, double (*read)(const void *), const void *ctx);
void mv_add_control(struct mv_instruments *in, const struct mv_control_def *def,
                    void (*apply)(void *, uint64_t), void *ctx);
void mv_add_metrics(struct mv_instruments *in, void (*put)(const void *, struct mv_metrics *), const void *ctx);
/* The control named `name`, or NULL. */
const struct mv_control *mv_find_control(const struct mv_instruments *in, const char *name);
void mv_instruments_free(struct mv_instruments *in);

#endif

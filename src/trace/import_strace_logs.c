/* import_strace_logs.c: reading strace logs for the importer
 * (import_strace.h): each line's pid and time, checked, in the order the
 * calls happened.
 *
 * Accepted: one `strace -f -ttt [-y] -o LOG` log (a pid column on every
 * line), several of them (imported one after the other), or the LOG.PID
 * files of `strace -ff -ttt -o LOG` (no pid column: each file's pid is its
 * suffix), merged by time. Refused, with the line at fault:
 *  - strace's own output on standard error: "[pid N]" on some lines only
 *    (the first process's lines have none), and its "Process N attached"
 *    messages cut into the calls' lines;
 *  - pid-less lines in one of several logs not named LOG.PID;
 *  - times that are not -ttt's seconds since 1970: -t and -tt clock times
 *    (HH:MM:SS), -r's time since the previous line (it starts at 0 and goes
 *    back and forth).
 * Logs given by name are read through trace/reopen.h: however many there
 * are, at most o->open_max (by default what the host's limit on open files
 * allows, less a margin) hold a descriptor at once; the others are reopened
 * at their offsets when their turn comes. */
#include "trace/import_strace.h"
#include "trace/reopen.h"
#include "lib/err.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

enum { PF_NONE, PF_COLUMN, PF_BRACKET, PF_PIDLESS };

struct slog {
    FILE *f;
    struct reopen_set *set;        /* f is read through it (the log given by name), or NULL */
    char *buf;
    size_t cap, len;
    struct import_line l;
    uint32_t tid;                  /* the line read ahead: its task and time */
    uint64_t t;
    int form;                      /* how this log shows pids (PF_*) */
    int64_t suffix;                /* the pid its name ends with (.PID), -1: none */
    uint64_t last_t;
    int timed;                     /* a timed line was seen */
    unsigned idx;
};

static int64_t pid_suffix(const char *name)
{
    const char *dot = strrchr(name, '.');
    if (!dot || strchr(dot, '/') || !dot[1] || strspn(dot + 1, "0123456789") != strlen(dot + 1) ||
        strlen(dot + 1) > 10)
        return -1;
    int64_t v = strtoll(dot + 1, NULL, 10);
    return v > UINT32_MAX ? -1 : v;
}

#define RELATIVE "an absolute -ttt time, SECONDS.MICROSECONDS since 1970 (this looks like strace -r's time " \
                 "since the previous line: record with -ttt)"

/* The pid and time of s's current line. 0: a timed line, l.p past them;
 * 1: a line without them (counted as not understood); -1: an error. */
static int head(struct slog *s, struct import_stats *st, int several)
{
    struct import_line *l = &s->l;
    uint64_t tid = 0, sec, frac;
    import_skip_space(l);
    if (!*l->p)
        return 1;
    const char *msg = strstr(l->p, "strace: Process ");
    if (msg && (strstr(msg, " attached") || strstr(msg, " detached"))) {
        l->p = msg;
        return import_malformed(l, "a call, not strace's own message (strace writes those among the calls on "
                                   "standard error: record with strace -f -ttt -o LOG)");
    }
    int form = PF_COLUMN;
    if (import_lit(l, "[pid")) {
        import_skip_space(l);
        if (import_dec(l, &tid) || !import_lit(l, "]"))
            return import_malformed(l, "[pid N]");
        form = PF_BRACKET;
    } else {
        const char *save = l->p;
        if (import_dec(l, &tid) || *l->p != ' ' || !strchr(l->p, '.')) {
            l->p = save;
            tid = 0;
            form = PF_PIDLESS;
        }
    }
    if (tid > UINT32_MAX)
        return import_malformed(l, "a pid below 2^32");
    import_skip_space(l);
    const char *ts = l->p;
    if (import_dec(l, &sec) || !import_lit(l, ".")) {
        if (l->p != ts && *l->p == ':') {
            l->p = ts;
            return import_malformed(l, "a -ttt time, SECONDS.MICROSECONDS since 1970 (this is a clock time, "
                                       "strace -t or -tt: record with -ttt)");
        }
        l->p = ts;
        size_t w = strspn(l->p, "abcdefghijklmnopqrstuvwxyz0123456789_");
        if (w && l->p[w] == '(')                    /* a call without its time */
            return import_malformed(l, "a timestamp (record with strace -f -ttt)");
        import_unknown(st, l);
        return 1;
    }
    const char *fs = l->p;
    if (import_dec(l, &frac) || l->p - fs > 9 || sec > 1ull << 34) {
        l->p = fs;
        return import_malformed(l, "a -ttt timestamp SECONDS.MICROSECONDS");
    }
    for (long n = l->p - fs; n < 9; n++)
        frac *= 10;
    uint64_t t = sec * 1000000000ull + frac;
    if ((!s->timed && !t) || (s->timed && t < s->last_t && sec < 100000000)) {
        l->p = ts;
        return import_malformed(l, RELATIVE);
    }
    if (s->form == PF_NONE)
        s->form = form;
    if (form != s->form) {
        l->p = l->text;
        return import_malformed(l, "the same form as the log's earlier lines: a pid on every line, or on none "
                                   "(strace's output on standard error has [pid N] on some lines only: record "
                                   "with strace -f -ttt -o LOG)");
    }
    if (form == PF_PIDLESS) {
        if (s->suffix >= 0) {
            tid = (uint64_t)s->suffix;
        } else if (several) {
            l->p = l->text;
            return import_malformed(l, "a pid on the line: this log has none and is one of several (strace -ff "
                                       "names each of its logs LOG.PID: give those, or the one log of strace -f "
                                       "-o LOG)");
        }
    }
    import_skip_space(l);
    s->tid = (uint32_t)tid;
    s->t = t;
    s->last_t = t;
    s->timed = 1;
    return 0;
}

/* Read s up to its next timed line: 1 there, 0 at its end, -1 an error
 * (a log read by name that could not be reopened, or read, ends early:
 * that end is the error, not the log's). */
static int advance(struct slog *s, struct import_stats *st, int several)
{
    for (;;) {
        int got = import_getline(s->f, &s->buf, &s->cap, &s->len, st);
        if (s->set && reopen_failed(s->set))
            return -1;
        if (got < 0)
            return import_read_failed(s->l.name, s->l.lineno + 1, errno);
        if (!got) {
            if (s->set)
                reopen_done(s->set, s->idx);   /* its descriptor and buffer, freed now */
            s->f = NULL;
            return 0;
        }
        s->l.lineno++;
        import_count_line(st, s->l.file, s->buf);
        s->l.text = s->l.p = s->buf;
        s->l.cut = got == 2;
        int rc = head(s, st, several);
        if (rc <= 0)
            return rc ? -1 : 1;
    }
    return 0;
}

/* The heap of logs with a line read ahead: by time when merging -ff's
 * logs, else by their order (one after the other). */
static int before(const struct slog *a, const struct slog *b, int merge)
{
    if (merge && a->t != b->t)
        return a->t < b->t;
    return a->idx < b->idx;
}

static void sift_down(struct slog **h, unsigned n, unsigned i, int merge)
{
    for (;;) {
        unsigned m = i, l = 2 * i + 1, r = l + 1;
        if (l < n && before(h[l], h[m], merge))
            m = l;
        if (r < n && before(h[r], h[m], merge))
            m = r;
        if (m == i)
            return;
        struct slog *x = h[i];
        h[i] = h[m];
        h[m] = x;
        i = m;
    }
}

int import_strace_files(struct build *b, FILE **f, const char *const *names, unsigned n,
                        const struct import_opts *o, struct import_stats *st)
{
    struct slog *s = mv_calloc(n ? n : 1, sizeof *s);
    struct slog **h = mv_calloc(n ? n : 1, sizeof *h);
    unsigned nh = 0, held = 0;
    int rc = 0, several = n > 1, merge = 0;
    for (unsigned i = 0; i < n; i++)
        held += f && f[i];
    /* the streams given stay open: they count against the cap */
    unsigned max = o && o->open_max ? o->open_max : reopen_max_open();
    struct reopen_set *set = held < n ? reopen_set_new(names, n, max > held ? max - held : 1, o ? o->open_buf : 0)
                                      : NULL;
    for (unsigned i = 0; i < n && !rc; i++) {
        s[i].f = f && f[i] ? f[i] : NULL;
        if (!s[i].f) {
            s[i].set = set;
            if (!(s[i].f = reopen_stream(set, i)))
                rc = -1;
        }
        s[i].l.name = names[i];
        s[i].l.file = i;
        s[i].idx = i;
        s[i].suffix = pid_suffix(names[i]);
    }
    /* each log's first timed line says its form: strace -ff's (pid-less)
     * logs are merged by time, others read one after the other */
    for (unsigned i = 0; i < n && !rc; i++) {
        int r = advance(&s[i], st, several);
        if (r < 0)
            rc = -1;
        else if (r)
            h[nh++] = &s[i];
    }
    for (unsigned i = 0; i < nh && !rc && several; i++)
        merge |= h[i]->form == PF_PIDLESS;
    for (unsigned i = 0; i < nh && !rc && merge; i++)
        if (h[i]->form != PF_PIDLESS) {
            h[i]->l.p = h[i]->l.text;
            rc = import_malformed(&h[i]->l, "a line without a pid, as in the other logs (one import takes one "
                                            "strace -f log, or the LOG.PID logs of one strace -ff)");
        }
    for (unsigned i = nh; i-- > 0;)
        sift_down(h, nh, i, merge);
    /* one set of tasks for merged logs; logs read one after the other are
     * separate recordings, each with its first task */
    struct strace_tasks *c = strace_tasks_new(b, st);
    unsigned cur = nh ? h[0]->idx : 0;
    while (!rc && nh) {
        struct slog *x = h[0];
        if (x->idx != cur && !merge) {
            strace_tasks_end(c);
            c = strace_tasks_new(b, st);
            cur = x->idx;
        }
        rc = strace_task_line(c, &x->l, x->tid, x->t);
        int r = rc ? 0 : advance(x, st, several);
        if (r < 0)
            rc = -1;
        else if (!r)
            h[0] = h[--nh];
        sift_down(h, nh, 0, merge);
    }
    strace_tasks_end(c);
    for (unsigned i = 0; i < n; i++)
        free(s[i].buf);
    reopen_set_free(set);
    free(s);
    free(h);
    return rc;
}

int import_strace(struct build *b, FILE *f, const char *name, const struct import_opts *o, struct import_stats *st)
{
    return import_strace_files(b, &f, &name, 1, o, st);
}

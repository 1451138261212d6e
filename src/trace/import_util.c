/* import_util.c: line reading, number parsing and error reporting shared by
 * the importers (import.h). */
#include "trace/import.h"
#include "lib/err.h"
#include "lib/text.h"
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define LINE_MAX_LEN (1u << 20)
/* No log line is this long: a line that has not ended by then is not a
 * log's (a device of zeros would be read for ever). */
#define LINE_LIMIT (64ull << 20)

static int host_failed;

int import_host_failure(int err)
{
    if (err == EMFILE || err == ENFILE || err == ENOMEM)
        host_failed = 1;
    return host_failed;
}

void import_fail_outside(void)
{
    host_failed = 1;
}

void import_failure_reset(void)
{
    host_failed = 0;
}

static void cannot_open(const char *path, int e)
{
    mv_error("cannot open '%s': %s%s", path, strerror(e),
             e == EMFILE || e == ENFILE ? " (the host's limit on open files, not the input's fault)" : "");
}

FILE *import_fopen(const char *path, const char *mode)
{
    FILE *f = fopen(path, mode);
    if (!f) {
        int e = errno;
        import_host_failure(e);
        cannot_open(path, e);
        errno = e;
    }
    return f;
}

void import_log_remember(struct import_log_id *id, const struct stat *sb)
{
    id->dev = sb->st_dev;
    id->ino = sb->st_ino;
    id->size = sb->st_size;
    id->mtime = sb->st_mtim;
}

const char *import_log_changed(const struct import_log_id *id, const struct stat *sb, char *why, size_t n)
{
    if (!S_ISREG(sb->st_mode))
        return "it is not a regular file now";
    if (sb->st_dev != id->dev || sb->st_ino != id->ino)
        return "another file has its name now";
    if (sb->st_size != id->size) {
        snprintf(why, n, "its size went from %lld to %lld bytes", (long long)id->size, (long long)sb->st_size);
        return why;
    }
    if (sb->st_mtim.tv_sec != id->mtime.tv_sec || sb->st_mtim.tv_nsec != id->mtime.tv_nsec)
        return "it was written to (its modification time changed)";
    return NULL;
}

int import_log_gone(const char *path, int err, const char *suffix)
{
    if (err == EMFILE || err == ENFILE || err == ENOMEM) {
        import_host_failure(err);
        cannot_open(path, err);
        return -1;
    }
    import_fail_outside();
    return mv_error("log '%s' changed while it was imported: %s%s", path, strerror(err), suffix);
}

int import_getline(FILE *f, char **buf, size_t *cap, size_t *len, struct import_stats *st)
{
    size_t n = 0;
    uint64_t all = 0;
    int c, cut = 0;
    while ((c = getc(f)) != EOF && c != '\n') {
        if (++all > LINE_LIMIT) {
            errno = EFBIG;
            return -1;
        }
        if (n + 2 > *cap) {
            *cap = *cap ? *cap * 2 : 256;
            *buf = mv_realloc(*buf, *cap);
        }
        if (n < LINE_MAX_LEN)
            (*buf)[n++] = (char)(c ? c : ' ');      /* a NUL byte would end the line early */
        else
            cut = 1;
    }
    if (c == EOF && ferror(f))
        return -1;   /* (errno as the read left it) */
    if (cut && st)
        st->cut++;
    if (c == EOF && n == 0)
        return 0;
    if (!*buf) {
        *cap = 16;
        *buf = mv_malloc(*cap);
    }
    if (n && (*buf)[n - 1] == '\r')
        n--;
    (*buf)[n] = 0;
    *len = n;
    return cut ? 2 : 1;
}

int import_read_failed(const char *name, uint64_t lineno, int err)
{
    if (err == EFBIG)
        return mv_error("%s:%llu: a line of more than %llu MiB without a newline: not a log", name,
                        (unsigned long long)lineno, LINE_LIMIT >> 20);
    import_host_failure(err);
    return mv_error("%s:%llu: cannot read it: %s", name, (unsigned long long)lineno, strerror(err));
}

void import_unknown(struct import_stats *st, const struct import_line *l)
{
    if (import_blank(l->text))
        return;   /* counted as blank (import_count_line) */
    if (st->file_unknown && l->file < st->nfiles)
        st->file_unknown[l->file]++;
    if (!st->unknown++) {
        st->first_unknown_line = l->lineno;
        /* (the first 100 bytes: a line the importer did not understand may be anything) */
        text_escape(st->first_unknown, sizeof st->first_unknown, l->text, 100);
        snprintf(st->first_unknown_file, sizeof st->first_unknown_file, "%s", l->name);
    }
}

int import_malformed(const struct import_line *l, const char *expected)
{
    /* what is missing may be past the cut: say so */
    return mv_error("%s:%llu:%llu: malformed line: expected %s%s", l->name, (unsigned long long)l->lineno,
                    (unsigned long long)(l->p - l->text) + 1, expected,
                    l->cut ? " (the line is longer than 1 MiB, the longest read: only its first 1 MiB was read)"
                           : "");
}

void import_skip_space(struct import_line *l)
{
    while (*l->p == ' ' || *l->p == '\t')
        l->p++;
}

int import_hex(struct import_line *l, uint64_t *v)
{
    const char *p = l->p;
    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
        p += 2;
    uint64_t x = 0;
    unsigned n = 0;
    for (; isxdigit((unsigned char)*p); p++, n++) {
        if (n == 16)
            return -1;
        x = x << 4 | (uint64_t)(isdigit((unsigned char)*p) ? *p - '0' : (tolower((unsigned char)*p) - 'a' + 10));
    }
    if (!n)
        return -1;
    l->p = p;
    *v = x;
    return 0;
}

int import_dec(struct import_line *l, uint64_t *v)
{
    const char *p = l->p;
    uint64_t x = 0;
    unsigned n = 0;
    for (; isdigit((unsigned char)*p); p++, n++) {
        uint64_t d = (uint64_t)(*p - '0');
        if (x > (UINT64_MAX - d) / 10)   /* (2^64-1 itself fits: a failed call's (size_t)-1) */
            return -1;
        x = x * 10 + d;
    }
    if (!n)
        return -1;
    l->p = p;
    *v = x;
    return 0;
}

int import_lit(struct import_line *l, const char *s)
{
    size_t n = strlen(s);
    if (strncmp(l->p, s, n))
        return 0;
    l->p += n;
    return 1;
}

int import_field(const char *from, const char *key, uint64_t *v)
{
    size_t kl = strlen(key);
    for (const char *p = strstr(from, key); p; p = strstr(p + 1, key)) {
        if (p != from && (isalnum((unsigned char)p[-1]) || p[-1] == '_'))
            continue;
        const char *q = p + kl;
        if (*q == '=')
            q++;
        else if (q[0] == ':' && q[1] == ' ')
            q += 2;
        else
            continue;
        while (*q == ' ')
            q++;
        struct import_line l = { "", 0, q, q, 0, 0 };
        int neg = 0;
        if (*l.p == '-') {
            neg = 1;
            l.p++;
        }
        int rc = (l.p[0] == '0' && (l.p[1] == 'x' || l.p[1] == 'X')) ? import_hex(&l, v) : import_dec(&l, v);
        if (rc)
            return -1;
        if (neg)
            *v = 0 - *v;   /* in unsigned arithmetic: INT64_MIN's digits negate without signed overflow */
        return 1;
    }
    return 0;
}

void import_warn_window(const struct import_stats *st, const struct import_opts *o, const char *window,
                        const char *who)
{
    if (window && st->refs && !st->refs_kept)
        mv_warn("%s: --window %s selects no reference: no process made more than %llu (the most: %llu of the "
                "%llu read); the trace has the processes' other events only", who, window,
                (unsigned long long)o->window_start, (unsigned long long)st->refs_most,
                (unsigned long long)st->refs);
}

void import_report(const struct import_stats *st, FILE *out, const char *who)
{
    if (st->unknown)
        fprintf(out, "%s: %llu of %llu lines not understood and skipped (the first, %s:%llu: %s)\n", who,
                (unsigned long long)st->unknown, (unsigned long long)st->lines, st->first_unknown_file,
                (unsigned long long)st->first_unknown_line, st->first_unknown);
    if (st->cut)
        fprintf(out, "%s: %llu lines longer than 1 MiB were read as their first 1 MiB\n", who,
                (unsigned long long)st->cut);
    if (st->orphan_tasks)
        fprintf(out, "%s: %llu lines of %llu tasks left out: no clone, fork or vfork in the log returned their pid\n",
                who, (unsigned long long)st->orphan_lines, (unsigned long long)st->orphan_tasks);
    if (st->fork_live)
        fprintf(out, "%s: %llu clone, fork or vfork calls left out: each returned the pid of a task still alive "
                "(its exit is not in the log, or the pid was reused): that task's lines stay its own\n", who,
                (unsigned long long)st->fork_live);
    if (st->held_over)
        fprintf(out, "%s: %llu lines of tasks waiting for their parent's clone to return left out (over 64 MiB "
                "held)\n", who, (unsigned long long)st->held_over);
    if (st->lost)
        fprintf(out, "%s: perf lost %llu events: the trace misses what they recorded\n", who,
                (unsigned long long)st->lost);
}

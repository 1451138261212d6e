/* ptwatch.c: the /proc poller of `trace record` (ptwatch.h). New pids are
 * looked at once (TracerPid in /proc/PID/status says whether strace traces
 * them); the traced ones are checked on every pass. */
#include "trace/ptwatch.h"
#include "lib/err.h"
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NH 8192

struct wpid { pid_t pid; int traced; long ppid; struct wpid *next; };

struct ptwatch {
    pid_t tracer;
    struct wpid *h[NH];
    struct ptsnap *s;
    uint64_t n, cap;
};

struct ptwatch *ptwatch_new(pid_t tracer)
{
    struct ptwatch *w = mv_calloc(1, sizeof *w);
    w->tracer = tracer;
    return w;
}

void ptwatch_free(struct ptwatch *w)
{
    if (!w)
        return;
    for (unsigned i = 0; i < NH; i++)
        for (struct wpid *p = w->h[i], *n; p; p = n) {
            n = p->next;
            free(p);
        }
    free(w->s);
    free(w);
}

const struct ptsnap *ptwatch_snaps(const struct ptwatch *w, uint64_t *n)
{
    *n = w->n;
    return w->s;
}

static ssize_t slurp(const char *path, char *buf, size_t cap)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, cap - 1);
    close(fd);
    if (n < 0)
        return -1;
    buf[n] = 0;
    return n;
}

static long field_kb(const char *status, const char *key)
{
    const char *p = strstr(status, key);
    return p ? strtol(p + strlen(key), NULL, 10) : -1;
}

/* Field n (1-based) of /proc/PID/stat, after the command in parentheses. */
static uint64_t stat_field(const char *stat, unsigned n)
{
    const char *p = strrchr(stat, ')');
    if (!p)
        return 0;
    p++;
    for (unsigned f = 3; f <= n; f++) {
        while (*p == ' ')
            p++;
        if (f == n)
            return strtoull(p, NULL, 10);
        while (*p && *p != ' ')
            p++;
    }
    return 0;
}

/* Where the process's threads stand: 1 held at execve, 0 at exit_group, -1 elsewhere. */
static int held_at(pid_t pid)
{
    char path[64], buf[256];
    snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
    DIR *d = opendir(path);
    if (!d)
        return -1;
    int at = -1;
    struct dirent *e;
    while (at < 0 && (e = readdir(d))) {
        if (!isdigit((unsigned char)e->d_name[0]))
            continue;
        char sp[320];
        snprintf(sp, sizeof sp, "/proc/%d/task/%s/syscall", (int)pid, e->d_name);
        if (slurp(sp, buf, sizeof buf) <= 0)
            continue;
        char *end;
        long nr = strtol(buf, &end, 10);
        if (end == buf)
            continue;
        unsigned long arg0 = strtoul(end, NULL, 16);
        if (nr == 231)
            at = 0;
        else if (nr == 59 && arg0)       /* at entry (after exec the registers are cleared) */
            at = 1;
    }
    closedir(d);
    return at;
}

static void snap(struct ptwatch *w, pid_t pid, int at)
{
    char path[64], status[4096], stat[1024];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    if (slurp(path, status, sizeof status) <= 0)
        return;
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    if (slurp(path, stat, sizeof stat) <= 0)
        return;
    long kb = field_kb(status, "VmPTE:");
    if (kb < 0)
        return;
    struct ptsnap s = { (uint32_t)pid, (uint32_t)at, stat_field(stat, 28), (uint64_t)kb * 1024 };
    for (uint64_t i = w->n; i-- > 0;)
        if (w->s[i].pid == s.pid && w->s[i].at == s.at && w->s[i].start_stack == s.start_stack) {
            w->s[i].bytes = s.bytes;                /* the latest reading of the same hold */
            return;
        }
    if (w->n == w->cap) {
        w->cap = w->cap ? w->cap * 2 : 64;
        w->s = mv_realloc(w->s, w->cap * sizeof *w->s);
    }
    w->s[w->n++] = s;
}

static struct wpid *lookup(struct ptwatch *w, pid_t pid)
{
    struct wpid **pp = &w->h[(unsigned)pid % NH];
    for (struct wpid *p = *pp; p; p = p->next)
        if (p->pid == pid)
            return p;
    struct wpid *p = mv_calloc(1, sizeof *p);
    p->pid = pid;
    p->traced = -1;
    p->next = *pp;
    *pp = p;
    return p;
}

void ptwatch_poll(struct ptwatch *w)
{
    DIR *d = opendir("/proc");
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!isdigit((unsigned char)e->d_name[0]))
            continue;
        pid_t pid = (pid_t)atoi(e->d_name);
        struct wpid *p = lookup(w, pid);
        /* strace's own child may be seen before strace has attached to it */
        if (p->traced < 0 || (!p->traced && p->ppid == (long)w->tracer)) {
            char path[64], status[4096];
            snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
            if (slurp(path, status, sizeof status) <= 0)
                continue;
            p->traced = field_kb(status, "TracerPid:") == (long)w->tracer;
            p->ppid = field_kb(status, "PPid:");
        }
        if (!p->traced)
            continue;
        int at = held_at(pid);
        if (at >= 0)
            snap(w, pid, at);
    }
    closedir(d);
}

/* fdtab.c: descriptor tables of recorded processes (fdtab.h). */
#include "trace/fdtab.h"
#include "lib/err.h"
#include <stdlib.h>
#include <string.h>

/* A path as opened, shared by the tables a fork copied it into: a copy
 * takes a reference, not the string (1,000 open files of 4,000-byte paths
 * copied at each of 500 forks reached 2 GB; now the memory is the log's). */
struct fdpath {
    unsigned long ref;
    char s[];
};

struct fdtab {
    struct fdpath *path[FDTAB_MAX];
    unsigned char cloexec[FDTAB_MAX];
};

static void put(struct fdpath *p)
{
    if (p && !--p->ref)
        free(p);
}

struct fdtab *fdtab_new(void) { return mv_calloc(1, sizeof(struct fdtab)); }

struct fdtab *fdtab_copy(const struct fdtab *t)
{
    struct fdtab *c = fdtab_new();
    for (unsigned i = 0; t && i < FDTAB_MAX; i++)
        if (t->path[i]) {
            c->path[i] = t->path[i];
            c->path[i]->ref++;
            c->cloexec[i] = t->cloexec[i];
        }
    return c;
}

void fdtab_free(struct fdtab *t)
{
    if (!t)
        return;
    for (unsigned i = 0; i < FDTAB_MAX; i++)
        put(t->path[i]);
    free(t);
}

void fdtab_open(struct fdtab *t, uint64_t fd, const char *path, size_t n, int cloexec)
{
    if (fd >= FDTAB_MAX)
        return;
    struct fdpath *p = mv_malloc(sizeof *p + n + 1);
    p->ref = 1;
    memcpy(p->s, path, n);
    p->s[n] = 0;
    put(t->path[fd]);
    t->path[fd] = p;
    t->cloexec[fd] = cloexec != 0;
}

void fdtab_close(struct fdtab *t, uint64_t fd)
{
    if (fd >= FDTAB_MAX)
        return;
    put(t->path[fd]);
    t->path[fd] = NULL;
    t->cloexec[fd] = 0;
}

/* fdtab.h: the path bytes no other table shares. */
size_t fdtab_path_bytes(const struct fdtab *t)
{
    size_t n = 0;
    for (unsigned i = 0; t && i < FDTAB_MAX; i++)
        if (t->path[i] && t->path[i]->ref == 1)
            n += strlen(t->path[i]->s) + 1;
    return n;
}

void fdtab_exec(struct fdtab *t)
{
    for (unsigned i = 0; i < FDTAB_MAX; i++)
        if (t->cloexec[i])
            fdtab_close(t, i);
}

const char *fdtab_path(const struct fdtab *t, uint64_t fd)
{
    return t && fd < FDTAB_MAX && t->path[fd] ? t->path[fd]->s : NULL;
}

uint64_t import_path_hash(const char *s, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 0x100000001b3ull;
    return h ? h : 1;
}

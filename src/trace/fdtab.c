/* fdtab.c: descriptor tables of recorded processes (fdtab.h). */
#include "trace/fdtab.h"
#include "lib/err.h"
#include <stdlib.h>
#include <string.h>

struct fdtab {
    char *path[FDTAB_MAX];
    unsigned char cloexec[FDTAB_MAX];
};

struct fdtab *fdtab_new(void) { return mv_calloc(1, sizeof(struct fdtab)); }

struct fdtab *fdtab_copy(const struct fdtab *t)
{
    struct fdtab *c = fdtab_new();
    for (unsigned i = 0; t && i < FDTAB_MAX; i++)
        if (t->path[i]) {
            c->path[i] = mv_strdup(t->path[i]);
            c->cloexec[i] = t->cloexec[i];
        }
    return c;
}

void fdtab_free(struct fdtab *t)
{
    if (!t)
        return;
    for (unsigned i = 0; i < FDTAB_MAX; i++)
        free(t->path[i]);
    free(t);
}

void fdtab_open(struct fdtab *t, uint64_t fd, const char *path, size_t n, int cloexec)
{
    if (fd >= FDTAB_MAX)
        return;
    free(t->path[fd]);
    t->path[fd] = mv_malloc(n + 1);
    memcpy(t->path[fd], path, n);
    t->path[fd][n] = 0;
    t->cloexec[fd] = cloexec != 0;
}

void fdtab_close(struct fdtab *t, uint64_t fd)
{
    if (fd >= FDTAB_MAX)
        return;
    free(t->path[fd]);
    t->path[fd] = NULL;
    t->cloexec[fd] = 0;
}

void fdtab_exec(struct fdtab *t)
{
    for (unsigned i = 0; i < FDTAB_MAX; i++)
        if (t->cloexec[i])
            fdtab_close(t, i);
}

const char *fdtab_path(const struct fdtab *t, uint64_t fd)
{
    return t && fd < FDTAB_MAX ? t->path[fd] : NULL;
}

uint64_t import_path_hash(const char *s, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 0x100000001b3ull;
    return h ? h : 1;
}

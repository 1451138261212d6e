/* fdtab.h: a recorded process's file descriptors, as far as an importer that
 * sees only system calls can know them (Linux's struct files_struct: fd ->
 * the file it names). strace and lackey logs name a mapped file by its
 * descriptor; the importer remembers the path each successful open/openat
 * returned, copies the table on fork (the child inherits the descriptors),
 * forgets a closed one, and drops the close-on-exec ones at exec. A copy
 * shares the path strings (reference counts), as the kernel's dup_fd
 * shares the struct files. Without a
 * device and inode, a file is known by a hash of its path (dev 0). */
#ifndef MV_TRACE_FDTAB_H
#define MV_TRACE_FDTAB_H
#include <stddef.h>
#include <stdint.h>

#define FDTAB_MAX 1024              /* descriptors above are not followed */

struct fdtab;

struct fdtab *fdtab_new(void);
struct fdtab *fdtab_copy(const struct fdtab *t);   /* fork: NULL copies as empty */
void fdtab_free(struct fdtab *t);
/* fd now names path[0..n) (an open/openat that returned fd). */
void fdtab_open(struct fdtab *t, uint64_t fd, const char *path, size_t n, int cloexec);
void fdtab_close(struct fdtab *t, uint64_t fd);
void fdtab_exec(struct fdtab *t);                  /* close the O_CLOEXEC ones */
/* The path fd names, or NULL. */
const char *fdtab_path(const struct fdtab *t, uint64_t fd);
/* Bytes of path text held by this table alone (its strings no other table
 * shares): a copy shares every path with its original, so a fork costs the
 * table, not the paths (tests). */
size_t fdtab_path_bytes(const struct fdtab *t);

/* A file's identity when only its path is known: 64-bit FNV-1a, never 0. */
uint64_t import_path_hash(const char *s, size_t n);

#endif

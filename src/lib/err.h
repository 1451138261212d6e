/* err.h: error reporting and internal assertions.
 *
 * Two kinds of failure exist. A bad input (option, parameter, trace line) is
 * the user's: it is reported once with mv_error() naming the input and where it
 * was, and the command exits non-zero. A broken invariant is ours: MV_ASSERT
 * reports file, line and the invariant and aborts, in every build type, because
 * a simulator that silently continues past a broken invariant reports lies. */
#ifndef MV_LIB_ERR_H
#define MV_LIB_ERR_H
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#define MV_ASSERT(cond, ...)                                                  \
    do {                                                                      \
        if (__builtin_expect(!(cond), 0))                                     \
            mv_assert_fail(__FILE__, __LINE__, #cond, __VA_ARGS__);           \
    } while (0)

__attribute__((noreturn, format(printf, 4, 5)))
void mv_assert_fail(const char *file, int line, const char *cond, const char *fmt, ...);

/* The longest message kept, in bytes: room for a path of PATH_MAX (4096)
 * and more besides, so that a long name never cuts off the reason after it. */
#define MV_ERROR_MAX 8192

/* Formats "memvirt: <message>" into the process's error buffer and prints it
 * to stderr. Returns -1 so callers can `return mv_error(...)`. */
__attribute__((format(printf, 1, 2)))
int mv_error(const char *fmt, ...);

/* Prints "memvirt: warning: <message>" to stderr (not when quiet): something
 * the user should know that does not stop the command. */
__attribute__((format(printf, 1, 2)))
void mv_warn(const char *fmt, ...);

/* Last message given to mv_error (for tests). */
const char *mv_last_error(void);

/* When set, mv_error keeps the message but does not print it (tests, and
 * callers that add context before reporting). Returns the previous setting. */
int mv_error_quiet(int quiet);

/* For the calling thread: while on, mv_error collects its lines
 * ("memvirt: ...\n") instead of printing them; mv_error_take hands them over
 * (NULL if none; the caller frees) so that runs of several modes can print
 * an error they share once. */
void  mv_error_defer(int on);
/* Text put before every message this process prints from now on (errors
 * and warnings, every thread), after "memvirt: ": where the work comes from
 * when it is not the command line (a sweep's run names its manifest line).
 * NULL or "" for none. */
void  mv_error_context(const char *ctx);
char *mv_error_take(void);
/* hook(1) before each message printed to stderr and hook(0) after it, from
 * the printing thread (the progress display clears its line; NULL: none). */
void  mv_error_hook(void (*hook)(int before));
/* A message that ends the process comes next (a broken invariant, the host
 * or the guest out of memory): hook(2), from which nothing returns to the
 * display (the progress line is cleared and stays off). */
void  mv_error_fatal(void);

void *mv_calloc(size_t n, size_t size);
void *mv_calloc_lines(size_t n, size_t size);   /* mv_calloc, 64-byte aligned */
void *mv_aligned_alloc(size_t align, size_t size);   /* align: a power of two; not zeroed */
/* The host is out of memory: one line, the temporaries removed, exit 1
 * (size 0: unknown). */
_Noreturn void mv_out_of_memory(size_t size);
void *mv_malloc(size_t size);
void *mv_realloc(void *p, size_t size);
char *mv_strdup(const char *s);

#endif

/* err.c: error reporting, assertion failure and checked allocation. */
#include "lib/err.h"
#include "lib/text.h"
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static _Thread_local char last_error[MV_ERROR_MAX];   /* each run thread keeps its own */
static int error_quiet;
static _Thread_local int deferring;           /* keep this thread's messages for later */
static _Thread_local char *deferred;
static _Thread_local size_t ndeferred;
static char context[512];                      /* mv_error_context: the whole process's */
static void (*_Atomic around)(int before);     /* mv_error_hook */

void mv_error_fatal(void)
{
    void (*hook)(int) = around;
    if (hook)
        hook(2);
}

void mv_assert_fail(const char *file, int line, const char *cond, const char *fmt, ...)
{
    va_list ap;
    mv_error_fatal();
    fprintf(stderr, "memvirt: internal invariant broken at %s:%d: %s: ", file, line, cond);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    abort();
}

/* One message line, "memvirt: KIND" then msg: on stderr, or kept for
 * later in a thread that defers them (a run among parallel ones), so that
 * a run's messages come out together, in the same place whatever -j. */
static void say(const char *kind, const char *msg)
{
    /* one line whatever a name in it holds: control bytes (a newline in a
     * file name, a terminal's escape), C1 controls and bytes that are not
     * UTF-8 shown escaped, as \n, \t, \r or \xHH; UTF-8 text as it is */
    char raw[sizeof context + MV_ERROR_MAX + 32], line[4 * sizeof raw + 16];
    snprintf(raw, sizeof raw, "%s%s%s", context, kind, msg);
    size_t k = text_escape(line, sizeof line, raw, SIZE_MAX);
    if (deferring) {
        deferred = mv_realloc(deferred, ndeferred + k + 12);
        ndeferred += (size_t)sprintf(deferred + ndeferred, "memvirt: %s\n", line);
    } else {
        void (*hook)(int) = around;
        if (hook)
            hook(1);
        fprintf(stderr, "memvirt: %s\n", line);
        if (hook)
            hook(0);
    }
}

void mv_error_context(const char *ctx) { snprintf(context, sizeof context, "%s", ctx ? ctx : ""); }

int mv_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    if (!error_quiet)
        say("", last_error);
    return -1;
}

void mv_error_defer(int on) { deferring = on; }

void mv_error_hook(void (*hook)(int before)) { around = hook; }

char *mv_error_take(void)
{
    char *m = deferred;
    deferred = NULL;
    ndeferred = 0;
    return m;
}

void mv_warn(const char *fmt, ...)
{
    if (error_quiet)
        return;
    char msg[MV_ERROR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    say("warning: ", msg);
}

const char *mv_last_error(void) { return last_error; }
int mv_error_quiet(int quiet)
{
    int old = error_quiet;
    error_quiet = quiet;
    return old;
}

/* The host has no memory left for the simulator: not a bug, so no core
 * dump; exit status 1 (a run failed) at once, from whatever thread, with
 * the output files' temporaries removed (lib/outfile.c's quick-exit
 * handler). */
_Noreturn void mv_out_of_memory(size_t size)
{
    mv_error_fatal();
    if (size)
        fprintf(stderr, "memvirt: out of memory allocating %zu bytes\n", size);
    else
        fprintf(stderr, "memvirt: out of memory\n");
    quick_exit(1);
}

void *mv_calloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        mv_out_of_memory(n * size);
    return p;
}

void *mv_aligned_alloc(size_t align, size_t size)
{
    if (size > SIZE_MAX - align)
        mv_out_of_memory(size);
    size = size ? (size + align - 1) & ~(align - 1) : align;   /* aligned_alloc wants a multiple of the alignment */
    void *p = aligned_alloc(align, size);
    if (!p)
        mv_out_of_memory(size);
    return p;
}

/* Zeroed, its start on a host cache line: an array scanned a set at a
 * time (a TLB's or a cache's tags) then touches no more host lines than
 * its set's size needs, and no vector load of it crosses a line. */
void *mv_calloc_lines(size_t n, size_t size)
{
    size_t bytes;
    if (__builtin_mul_overflow(n ? n : 1, size ? size : 1, &bytes))
        mv_out_of_memory(SIZE_MAX);
    return memset(mv_aligned_alloc(64, bytes), 0, (bytes + 63) & ~(size_t)63);
}

void *mv_malloc(size_t size)
{
    void *p = malloc(size ? size : 1);
    if (!p)
        mv_out_of_memory(size);
    return p;
}

void *mv_realloc(void *p, size_t size)
{
    void *q = realloc(p, size ? size : 1);
    if (!q)
        mv_out_of_memory(size);
    return q;
}

char *mv_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = mv_malloc(n);
    memcpy(p, s, n);
    return p;
}

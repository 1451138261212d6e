/* bench_proc.c: process creation and exit, and mapping (the fits of
 * cost.fork_fixed, cost.exit_fixed, cost.exec_fixed, cost.pte_copy and
 * cost.vma_op), as lmbench's lat_proc times them:
 *   fork_only    the parent's fork() alone (the child exits at once);
 *   fork_heap    the same with MODEL_HEAP pages of written heap, whose page
 *                table entries fork copies;
 *   fork_exit    fork, the child's exit, the parent's wait;
 *   fork_exec    the same with the child exec'ing the tiny static program
 *                (src/calib/hello/hello.c);
 *   fork_sh      the child runs /bin/sh, which execs PROGRAM (for --verify:
 *                lmbench's fork+sh, the shell's start-up and exec timed);
 *   mmap_munmap  mapping and unmapping one untouched anonymous page at a
 *                fixed, isolated address (no merging with neighbours).
 * All tasks stay on the pinned CPU, as memvirt's single vCPU: the child runs
 * when the parent waits. Time is CPU time, the parent thread's and the
 * child's (from wait4), so that other processes sharing the CPU while the
 * parent waits are not counted. The program runs on /dev/null (input and
 * output), dies with calibrate, and is killed if it has not exited after
 * c->hello_limit_s (proc_result.hung: calibrate fails). */
#define _GNU_SOURCE
#include "calib/calib.h"
#include "lib/err.h"
#include "lib/outfile.h"
#include <elf.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

enum op { FORK_ONLY, FORK_EXIT, FORK_EXEC, FORK_SH, MMAP_MUNMAP };

struct job {
    enum op op;
    const char *hello;
    char *sh_hello;          /* hello as the shell's $0: "./" before a relative path */
    int devnull;
    pid_t parent;
    int failed;
    int hung;                /* a child outlived c->hello_limit_s: killed */
};

/* A program that does not exit (/usr/bin/yes as --hello) held calibrate for
 * ever. An alarm, armed and disarmed outside the timed span, kills the
 * child after c->hello_limit_s; the handler kills it itself, so the alarm
 * cannot come between a check and the wait. SA_RESTART: the wait goes on
 * and reaps it. */
static volatile sig_atomic_t limit_pid, limit_hit;

static void on_limit(int sig)
{
    (void)sig;
    limit_hit = 1;
    if (limit_pid > 0)
        kill((pid_t)limit_pid, SIGKILL);
}

/* Wait for the child; *cpu_ns gets the CPU time it (and what it waited
 * for) used. */
static int reap(pid_t pid, uint64_t *cpu_ns)
{
    int st;
    struct rusage ru;
    if (pid < 0 || wait4(pid, &st, 0, &ru) != pid)
        return -1;
    *cpu_ns = ((uint64_t)ru.ru_utime.tv_sec + (uint64_t)ru.ru_stime.tv_sec) * 1000000000u +
              ((uint64_t)ru.ru_utime.tv_usec + (uint64_t)ru.ru_stime.tv_usec) * 1000u;
    return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

static pid_t child(const struct job *j)
{
    pid_t pid = fork();
    if (pid)
        return pid;
    if (j->op == FORK_EXEC || j->op == FORK_SH) {
        /* calibrate killed (TERM) must not leave the program running */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != j->parent)
            _exit(127);
        dup2(j->devnull, 0);   /* not calibrate's input: /bin/cat as --hello waited on it */
        dup2(j->devnull, 1);
        outfile_exec_signals();   /* SIGPIPE and SIGXFSZ as calibrate found them */
        if (j->op == FORK_EXEC)
            execl(j->hello, "hello", (char *)NULL);
        else   /* the path is an argument, never shell text (a space, a ';') */
            execl("/bin/sh", "sh", "-c", "exec \"$0\"", j->sh_hello, (char *)NULL);
        _exit(127);
    }
    _exit(0);
}

static double one_rep(const struct calib *c, void *arg)
{
    struct job *j = arg;
    /* per sample: well under a millisecond or one exec */
    int n = j->op == MMAP_MUNMAP ? 50 : j->op == FORK_EXEC || j->op == FORK_SH ? 1 : 4;
    int limited = j->op == FORK_EXEC || j->op == FORK_SH;
    uint64_t ns = 0, child_ns = 0;
    if (j->hung)
        return -1;   /* once is enough: calibrate fails (proc_result.hung) */
    for (int i = 0; i < n; i++) {
        if (limited) {
            limit_hit = 0;
            alarm(c->hello_limit_s);
        }
        uint64_t t0 = calib_cpu_ns();
        if (j->op == MMAP_MUNMAP) {
            void *p = mmap((void *)MODEL_MMAP_ADDR, 4096, PROT_READ | PROT_WRITE,
                           MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
            if (p != (void *)MODEL_MMAP_ADDR || munmap(p, 4096))
                j->failed = 1;
            ns += calib_cpu_ns() - t0;
            continue;
        }
        pid_t pid = child(j);
        limit_pid = pid;
        if (limit_hit && pid > 0)   /* the alarm came before the pid was known */
            kill(pid, SIGKILL);
        if (j->op == FORK_ONLY) {
            ns += calib_cpu_ns() - t0;
            j->failed |= reap(pid, &child_ns) != 0;
        } else {
            j->failed |= reap(pid, &child_ns) != 0;
            ns += calib_cpu_ns() - t0 + child_ns;
        }
        if (limited) {
            alarm(0);
            limit_pid = 0;
            if (limit_hit) {
                j->failed = j->hung = 1;
                return -1;
            }
        }
    }
    return (double)ns / n;
}

static void address_space(long *vmas, long *rss_kb)
{
    *vmas = 0;
    *rss_kb = 0;
    char line[512];
    FILE *f = fopen("/proc/self/maps", "r");
    if (f) {
        while (fgets(line, sizeof line, f))
            ++*vmas;
        fclose(f);
    }
    f = fopen("/proc/self/status", "r");
    if (f) {
        while (fgets(line, sizeof line, f))
            if (sscanf(line, "VmRSS: %ld", rss_kb) == 1)
                break;
        fclose(f);
    }
}

void bench_proc(const struct calib *c, struct proc_result *out, int with_sh)
{
    memset(out, 0, sizeof *out);
    struct job j = { .hello = c->hello, .devnull = open("/dev/null", O_RDWR | O_CLOEXEC), .parent = getpid() };
    struct sigaction sa = { .sa_handler = on_limit, .sa_flags = SA_RESTART }, old_sa;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGALRM, &sa, &old_sa);
    if (c->hello) {   /* a bare name is a file here, not a command for exec to look up in PATH */
        j.sh_hello = mv_malloc(strlen(c->hello) + 3);
        sprintf(j.sh_hello, "%s%s", c->hello[0] == '/' ? "" : "./", c->hello);
    }
    address_space(&out->vmas, &out->rss_kb);
    j.op = FORK_ONLY;
    calib_repeat(c, one_rep, &j, &out->fork_only);
    j.op = FORK_EXIT;
    calib_repeat(c, one_rep, &j, &out->fork_exit);
    int bad = j.failed;
    j.op = FORK_EXEC;
    j.failed = 0;
    if (c->hello && !access(c->hello, X_OK)) {
        calib_repeat(c, one_rep, &j, &out->fork_exec);
        out->exec_ok = !j.failed;
        if (with_sh && !j.hung) {
            j.op = FORK_SH;
            j.failed = 0;
            calib_repeat(c, one_rep, &j, &out->fork_sh);
            out->sh_ok = !j.failed;
        }
    }
    j.op = MMAP_MUNMAP;
    j.failed = 0;
    calib_repeat(c, one_rep, &j, &out->mmap_munmap);
    if (j.failed)
        out->mmap_munmap = (struct calib_stat){ 0 };
    if (bad)
        out->fork_exit = out->fork_only = (struct calib_stat){ 0 };

    /* fork with a written heap: its entries are what copy_pte_range copies */
    out->heap_pages = model_heap_pages();
    size_t len = out->heap_pages * 4096;
    char *heap = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (heap != MAP_FAILED) {
        madvise(heap, len, MADV_NOHUGEPAGE);
        memset(heap, 1, len);
        j.op = FORK_ONLY;
        calib_repeat(c, one_rep, &j, &out->fork_heap);
        munmap(heap, len);
    }
    close(j.devnull);
    free(j.sh_hello);
    sigaction(SIGALRM, &old_sa, NULL);
    out->hung = j.hung;
}

int calib_hello_hung(const struct calib *c)
{
    return mv_error("calibrate: --hello '%s' did not exit within %u s: the program timed must exit at once "
                    "(it was killed)", c->hello, c->hello_limit_s);
}

/* Whether path is an ELF executable, and whether it names an interpreter
 * (PT_INTERP: the dynamic linker, so it maps ld.so and its libraries).
 * 0: static, 1: dynamic, -1: not a 64-bit ELF file this can read. */
static int elf_dynamic(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC), dyn = -1;
    Elf64_Ehdr eh;
    if (fd < 0)
        return -1;
    if (pread(fd, &eh, sizeof eh, 0) == (ssize_t)sizeof eh && !memcmp(eh.e_ident, ELFMAG, SELFMAG) &&
        eh.e_ident[EI_CLASS] == ELFCLASS64 && eh.e_phentsize == sizeof(Elf64_Phdr) && eh.e_phnum < 4096) {
        dyn = 0;
        for (unsigned i = 0; i < eh.e_phnum; i++) {
            Elf64_Phdr ph;
            if (pread(fd, &ph, sizeof ph, (off_t)(eh.e_phoff + (uint64_t)i * sizeof ph)) != (ssize_t)sizeof ph) {
                dyn = -1;
                break;
            }
            if (ph.p_type == PT_INTERP)
                dyn = 1;
        }
    }
    close(fd);
    return dyn;
}

int calib_hello_describe(const struct calib *c, char *buf, size_t n)
{
    int dyn = c->hello ? elf_dynamic(c->hello) : -1;
    const char *kind = dyn == 0 ? "a static ELF executable"
                     : dyn == 1 ? "a dynamically linked ELF executable"
                                : "not an ELF executable this can read";
    if (!c->hello_given && dyn == 0)
        snprintf(buf, n, "the static memvirt-hello");
    else
        snprintf(buf, n, "%s '%s' (%s)", c->hello_given ? "--hello" : "memvirt-hello",
                 c->hello ? c->hello : "memvirt-hello", kind);
    return dyn;
}

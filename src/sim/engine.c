/* engine.c: the event loop (see engine.h). It pulls events from the
 * workload, makes the guest kernel carry them out on the machine, verifies
 * translations and invariants under --check, and samples the time series. */
#define _GNU_SOURCE   /* strerrorname_np */
#include "sim/engine.h"
#include "guest/shmem.h"
#include "lib/err.h"
#include "sim/oracle.h"
#include "sim/progress.h"
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct mark { const char *name; uint64_t begin; double sum; uint64_t count; int open; };
#define MAX_MARKS 48

struct run {
    struct machine m;
    const struct sim_config *cfg;
    struct run_result *out;
    uint64_t interval;          /* cycles */
    uint64_t next_sample;
    int series_end;             /* next_sample would pass 2^64 cycles, or the series is full */
    int series_full;            /* the series holds series_max samples: the run fails */
    uint32_t series_max;
    struct mv_stats last;
    struct mark marks[MAX_MARKS];
    unsigned nmarks;
    uint64_t events;
    uint64_t dma_busy;          /* device cycles of EV_DMA transfers */
    uint64_t dma_ev_pages;      /* pages those transfers moved */
    unsigned next_at;           /* next --at control to apply */
    struct progress *shown;     /* the progress display this run reports to, or NULL */
    unsigned shown_slot;        /* its place there */
    struct oracle *oracle;      /* under --check */
    void *wl;                   /* the workload's generator */
    double instr, compute;      /* exact running totals (counters and cycles take their integer parts) */
};

static void sample(struct run *r, uint64_t at)
{
    struct series *s = &r->out->series;
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 64;
        s->t = mv_realloc(s->t, s->cap * sizeof *s->t);
        s->cnt = mv_realloc(s->cnt, s->cap * CNT__N * sizeof *s->cnt);
        s->gauge = mv_realloc(s->gauge, s->cap * (s->ngauge ? s->ngauge : 1) * sizeof *s->gauge);
    }
    s->t[s->n] = (double)at / (r->cfg->cost.clock_ghz * 1e9);
    for (unsigned i = 0; i < CNT__N; i++)
        s->cnt[s->n * CNT__N + i] = r->m.st.cnt[i] - r->last.cnt[i];
    const struct mv_instruments *in = &r->m.ins;
    for (unsigned g = 0; g < s->ngauge; g++)
        s->gauge[s->n * s->ngauge + g] = in->gauge[g].read(in->gauge[g].ctx);
    s->n++;
    r->last = r->m.st;
}

/* The most memory a run's time series may take: a sample holds every
 * counter and gauge, so a fine sim.series_ms over a long simulated time
 * (a trace spanning days, at 1 ms) would otherwise grow without bound. */
#define SERIES_MAX_BYTES (128u << 20)

uint32_t engine_series_max(unsigned ngauge)
{
    return (uint32_t)(SERIES_MAX_BYTES / ((1 + CNT__N + (ngauge ? ngauge : 1)) * sizeof(uint64_t)));
}

static void tick(struct run *r)
{
    while (r->m.st.now >= r->next_sample && !r->series_end) {
        if (r->out->series.n >= r->series_max) {
            r->series_full = r->series_end = 1;   /* engine_run fails the run */
            break;
        }
        sample(r, r->next_sample);
        if (r->next_sample > UINT64_MAX - r->interval)
            r->series_end = 1;                 /* the clock is at its end: no later sample */
        r->next_sample += r->interval;
    }
}

/* The series is full and the run goes on: say what sim.series_ms covers and
 * what this run needs. The run's full span is not known yet; the time it
 * reached is a lower bound. A trace's recorded span is one command away. */
static int series_full_error(const struct run *r)
{
    const struct sim_config *cfg = r->cfg;
    double hz = cfg->cost.clock_ghz * 1e9, reached_s = (double)r->m.st.now / hz;
    double covers_s = (double)r->series_max * (double)cfg->sim.series_ms / 1000.0;
    uint64_t need = (uint64_t)(reached_s * 1000.0 / r->series_max) + 1;   /* covers past the time reached */
    char hint[PATH_MAX + 96] = "";
    if (cfg->wl->replays_input && cfg->wl->input_path)
        snprintf(hint, sizeof hint, "; `memvirt trace info %s` gives the trace's span", cfg->wl->input_path(cfg->wl_cfg));
    return mv_error("sim.series_ms=%llu is too fine for this run: the time series holds at most %u samples (%u MiB), "
                    "so it covers at most %.6g simulated seconds, and the run went on past %.6g s; sim.series_ms "
                    "must be at least the run's simulated span in ms / %u (here at least %llu, more the longer "
                    "the run)%s", (unsigned long long)cfg->sim.series_ms, r->series_max, SERIES_MAX_BYTES >> 20,
                    covers_s, reached_s, r->series_max, (unsigned long long)need, hint);
}

/* Cycle counts are 64-bit: a run whose simulated time passes 2^64 - 1
 * cycles (legal costs and lengths can get there) stops rather than report
 * times that wrapped. */
static int wrapped_error(const struct run *r)
{
    const struct sim_config *cfg = r->cfg;
    return mv_error("the run's simulated time passed 2^64 cycles (%.6g s at cost.clock_ghz=%g) at event %llu: "
                    "memvirt's cycle counts would wrap; shorten the run or lower the profile's costs",
                    18446744073709551616.0 / (cfg->cost.clock_ghz * 1e9), cfg->cost.clock_ghz,
                    (unsigned long long)r->events);
}

static void idle_until(struct run *r, uint64_t ns)
{
    /* saturated: a double at or past 2^64 has no uint64_t (undefined) */
    double x = (double)ns * r->cfg->cost.clock_ghz;
    uint64_t target = x >= 18446744073709551616.0 ? UINT64_MAX : (uint64_t)x;
    while (r->m.st.now < target) {
        uint64_t step = target < r->next_sample || r->series_end ? target : r->next_sample;
        stat_charge(&r->m.st, CYC_idle, step - r->m.st.now);
        tick(r);
    }
}

static struct mark *mark_of(struct run *r, const char *name)
{
    for (unsigned i = 0; i < r->nmarks; i++)
        if (!strcmp(r->marks[i].name, name))
            return &r->marks[i];
    MV_ASSERT(r->nmarks < MAX_MARKS, "too many marks");
    r->marks[r->nmarks] = (struct mark){ .name = name };
    return &r->marks[r->nmarks++];
}

static int full_check(struct run *r)
{
    char msg[512];
    if (kernel_check(&r->m.k, msg, sizeof msg))
        return mv_error("--check: guest kernel inconsistent after event %llu: %s",
                        (unsigned long long)r->events, msg);
    if (machine_check(&r->m, msg, sizeof msg))
        return mv_error("--check: hypervisor invariant broken after event %llu: %s",
                        (unsigned long long)r->events, msg);
    return 0;
}

/* Controls from the workload (EV_CTL) or the command line (--at), offered
 * by whichever layer registered them. -1 if the machine has no such control. */
static int apply_ctl(struct run *r, const char *name, uint64_t value)
{
    const struct mv_control *c = mv_find_control(&r->m.ins, name);
    if (!c)
        return -1;
    c->apply(c->ctx, value);
    return 0;
}

/* Apply the --at controls whose time has come (mode_validate checked them). */
static void scheduled(struct run *r)
{
    while (r->next_at < r->cfg->nat &&
           r->m.st.now >= (uint64_t)((double)r->cfg->at[r->next_at].ns * r->cfg->cost.clock_ghz)) {
        const struct sched_ctl *sc = &r->cfg->at[r->next_at++];
        const struct mv_control *c = mv_find_control(&r->m.ins, sc->name);
        MV_ASSERT(c, "--at control %s was validated", sc->name);
        c->apply(c->ctx, sc->value);
    }
}

/* Where the event being handled came from, for an error: the workload's
 * own position (a trace: file and record) or the count of events. */
static const char *where(struct run *r, char *buf, size_t len)
{
    if (r->cfg->wl->where && r->wl)
        r->cfg->wl->where(r->wl, buf, len);
    else
        snprintf(buf, len, "workload %s: event %llu", r->cfg->wl->name, (unsigned long long)r->events);
    return buf;
}

static struct task *task_of(struct run *r, const struct event *ev)
{
    struct task *t = task_find(&r->m.k, ev->pid);
    char w[4200];
    if (!t)
        mv_error("%s: pid %u does not exist", where(r, w, sizeof w), ev->pid);
    return t;
}

/* How many references ahead of the one being simulated the host prefetches
 * the page-table entry a TLB miss on it would read (user_prefetch: a host
 * speed knob with no simulated effect; 8 ran faster than 4 and 16 on
 * random references over 1 GiB). */
#define PREFETCH_AHEAD 8

/* A reference the guest kernel answered with a fatal signal, said as its
 * reason (k->segv_code): SIGSEGV for no mapping, a mapping that forbids the
 * access, or a corrupt page table; SIGBUS for shared memory past its
 * object's size. The process dies: the run ends here. */
static int fault_error(struct run *r, struct task *t, uint64_t va, enum access acc)
{
    char w[4200];
    const char *kind = acc == ACC_WRITE ? "write" : acc == ACC_EXEC ? "exec" : "read";
    if (r->m.k.segv_code == KSIGBUS_ADRERR) {   /* shmem_fault: VM_FAULT_SIGBUS */
        const struct vma *v = find_vma(t->mm, va);
        return mv_error("%s: pid %u: reference to %#llx (%s) lies past the end of the shared memory the mapping "
                        "(%#llx-%#llx) maps: page %llu of an object of %llu pages (the length of the mmap that made "
                        "it; mremap grows the mapping, not the object): bus error",
                        where(r, w, sizeof w), t->pid, (unsigned long long)va, kind, (unsigned long long)v->start,
                        (unsigned long long)v->end,
                        (unsigned long long)(v->pgoff + ((va - v->start) >> PAGE_SHIFT)),
                        (unsigned long long)shmem_size(&r->m.k, v->file));
    }
    const struct vma *v = r->m.k.segv_code == KSEGV_ACCERR ? find_vma(t->mm, va) : NULL;
    if (v) {
        const char *what = acc == ACC_WRITE ? "writes to a read-only mapping"
                         : acc == ACC_EXEC ? "executes a non-executable mapping"
                                           : "reads a mapping with no access (PROT_NONE)";
        return mv_error("%s: pid %u: reference to %#llx (%s) %s (%#llx-%#llx %c%c%c): segmentation fault",
                        where(r, w, sizeof w), t->pid, (unsigned long long)va, kind, what,
                        (unsigned long long)v->start, (unsigned long long)v->end, v->flags & VM_READ ? 'r' : '-',
                        v->flags & VM_WRITE ? 'w' : '-', v->flags & VM_EXEC ? 'x' : '-');
    }
    if (r->m.k.segv_code == KSEGV_PTBAD)   /* Linux: pgtable_bad, "Corrupted page table", an oops */
        return mv_error("%s: mode %s: pid %u: reference to %#llx (%s) met a page-table entry with a reserved "
                        "bit set: corrupted page table, the task killed", where(r, w, sizeof w), r->out->mode,
                        t->pid, (unsigned long long)va, kind);
    return mv_error("%s: pid %u: reference to %#llx (%s) is not mapped: segmentation fault",
                    where(r, w, sizeof w), t->pid, (unsigned long long)va, kind);
}

static int do_access(struct run *r, struct task *t, const struct event *ev)
{
    struct kernel *k = &r->m.k;
    /* the kind of a reference: a write if REF_WRITE, else an exec if REF_EXEC */
    static const enum access acc_of[4] = { ACC_READ, ACC_WRITE, ACC_EXEC, ACC_WRITE };
    const int prefetch = user_prefetching(k);   /* asked once a batch: it is only a hint */
    for (uint32_t i = 0; i < ev->n; i++) {
        uint64_t ref = ev->batch[i];
        if (prefetch && i + PREFETCH_AHEAD < ev->n)
            user_prefetch(k, ev->batch[i + PREFETCH_AHEAD] & ~(uint64_t)REF_KIND_MASK);
        uint64_t va = ref & ~(uint64_t)REF_KIND_MASK;
        enum access acc = acc_of[ref & (REF_WRITE | REF_EXEC)];
        uint64_t mfn;
        if (user_access(k, va, acc, &mfn))
            return fault_error(r, t, va, acc);
        if (r->cfg->check) {
            char msg[512];
            r->m.st.cnt[CNT_oracle_checks]++;
            if (oracle_check(r->oracle, t->mm, va, acc, mfn, msg, sizeof msg))
                return mv_error("--check: translation oracle: mode %s: pid %u: %s", r->out->mode, t->pid, msg);
        }
    }
    /* The program's instructions: each reference and the work it stands
     * for; the work beyond the reference itself costs cost.cpi each. The
     * guest kernel's are not counted (its work is charged in cycles), where
     * a hardware retired-instruction counter would count them: a
     * simplification of selective's rates, measured small enough to keep
     * (docs/selective-clustering.md, "Simplifications"). */
    double ipr = r->cfg->wl->instr_per_ref ? r->cfg->wl->instr_per_ref(r->wl) : 1.0;
    r->instr += (double)ev->n * ipr;
    r->m.st.cnt[CNT_instructions] = (uint64_t)r->instr;
    if (ipr > 1) {
        uint64_t before = (uint64_t)r->compute;
        r->compute += (double)ev->n * (ipr - 1) * r->cfg->cost.cpi;
        stat_charge(&r->m.st, CYC_compute, (uint64_t)r->compute - before);
    }
    return 0;
}

/* An event as an error names it: the system call and the arguments that
 * locate it (address and length). */
static const char *event_desc(const struct event *ev, char *buf, size_t len)
{
    static const char *const names[] = {
        [EV_END] = "end", [EV_SPAWN] = "spawn", [EV_FORK] = "fork", [EV_EXEC] = "exec", [EV_EXIT] = "exit",
        [EV_MMAP] = "mmap", [EV_MUNMAP] = "munmap", [EV_MPROTECT] = "mprotect", [EV_BRK] = "brk",
        [EV_ACCESS] = "access", [EV_IDLE_UNTIL] = "idle", [EV_MARK_BEGIN] = "mark begin",
        [EV_MARK_END] = "mark end", [EV_CTL] = "control", [EV_DMA] = "dma", [EV_MREMAP] = "mremap",
        [EV_ERROR] = "error",
    };
    const char *name = (unsigned)ev->type < sizeof names / sizeof names[0] && names[ev->type] ? names[ev->type]
                                                                                               : "event";
    switch (ev->type) {
    case EV_MMAP:
    case EV_MUNMAP:
    case EV_MPROTECT:
        snprintf(buf, len, "%s at %#llx, length %#llx", name, (unsigned long long)ev->addr,
                 (unsigned long long)ev->len);
        break;
    case EV_MREMAP:
        snprintf(buf, len, "%s at %#llx, length %#llx, to %#llx, length %#llx", name, (unsigned long long)ev->addr,
                 (unsigned long long)ev->len, (unsigned long long)ev->new_addr, (unsigned long long)ev->new_len);
        break;
    case EV_BRK:
        snprintf(buf, len, "%s to %#llx", name, (unsigned long long)ev->addr);
        break;
    default:
        snprintf(buf, len, "%s", name);
        break;
    }
    return buf;
}

/* A guest kernel's -errno as the C library says it: "Cannot allocate
 * memory (ENOMEM)". */
static const char *errno_text(long rc, char *buf, size_t len)
{
    int e = rc < 0 && rc > -4096 ? (int)-rc : 0;
    const char *sym = e ? strerrorname_np(e) : NULL;
    if (sym)
        snprintf(buf, len, "%s (%s)", strerror(e), sym);
    else
        snprintf(buf, len, "error %ld", rc);
    return buf;
}

static int dispatch(struct run *r, const struct event *ev)
{
    struct kernel *k = &r->m.k;
    struct task *t = NULL;
    long rc = 0;
    char w[4200];
    if (ev->type != EV_SPAWN && ev->type != EV_IDLE_UNTIL && ev->type != EV_MARK_BEGIN &&
        ev->type != EV_MARK_END && ev->type != EV_CTL && ev->type != EV_DMA && ev->type != EV_ERROR) {
        if (!(t = task_of(r, ev)))
            return -1;
        schedule_to(k, t);
        /* A task's system call, like its references, is made from user
         * mode: whatever the kernel did before it (another task's exit, a
         * switch), the CPU returned to user mode in between (SYSRET or IRET
         * to CPL 3). Counted here as well as at the call's return, which an
         * exit has not. */
        kernel_exit_to_user(k);
        /* A system call enters the kernel with SYSCALL (a Xen PV guest's
         * through Xen); every event of a task but its references is one
         * (EV_END is never dispatched). */
        if (ev->type != EV_ACCESS)
            kernel_syscall_entry(k);
    }
    switch (ev->type) {
    case EV_SPAWN:
        if (task_find(k, ev->pid))
            return mv_error("%s: spawn of pid %u, which exists", where(r, w, sizeof w), ev->pid);
        schedule_to(k, kernel_spawn(k, ev->pid));
        break;
    case EV_FORK:
        rc = do_clone(k, t, ev->child, ev->flags);
        if (rc < 0)
            return mv_error("%s: fork of pid %u into existing pid %u", where(r, w, sizeof w), ev->pid,
                            ev->child);
        break;
    case EV_EXEC:
        rc = do_execve(k, t, ev->layout);
        break;
    case EV_EXIT:
        do_exit(k, t);
        break;
    case EV_MMAP:
        rc = sys_mmap(k, t, ev->addr, ev->len, ev->prot, ev->flags, ev->file, ev->off);
        break;
    case EV_MUNMAP:
        rc = sys_munmap(k, t, ev->addr, ev->len);
        break;
    case EV_MPROTECT:
        rc = sys_mprotect(k, t, ev->addr, ev->len, ev->prot);
        break;
    case EV_MREMAP:
        rc = sys_mremap(k, t, ev->addr, ev->len, ev->new_addr, ev->new_len);
        break;
    case EV_BRK: {
        /* brk returns the break it leaves: a growth it refused (below
         * vm.mmap_min_addr, too many mappings, the range taken) leaves the
         * old one, which the C library's brk and sbrk report as ENOMEM; a
         * program that used the heap anyway would fault on it. */
        uint64_t before = t->mm->brk;
        if ((uint64_t)sys_brk(k, t, ev->addr) != ev->addr && ev->addr > before)
            rc = ((before + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1)) < k->cfg.mmap_min_addr ? -EPERM : -ENOMEM;
        break;
    }
    case EV_ACCESS:
        return do_access(r, t, ev);
    case EV_IDLE_UNTIL:
        idle_until(r, ev->ns);
        break;
    case EV_MARK_BEGIN: {
        struct mark *mk = mark_of(r, ev->name);
        mk->begin = r->m.st.now - r->m.st.cyc[CYC_idle];
        mk->open = 1;
        break;
    }
    case EV_MARK_END: {
        struct mark *mk = mark_of(r, ev->name);
        if (!mk->open)
            return mv_error("%s: end of '%s' without a beginning", where(r, w, sizeof w), ev->name);
        mk->sum += (double)(r->m.st.now - r->m.st.cyc[CYC_idle] - mk->begin);
        mk->count++;
        mk->open = 0;
        break;
    }
    case EV_CTL:
        if (apply_ctl(r, ev->name, ev->addr))
            return mv_error("%s: mode %s has no control '%s'", where(r, w, sizeof w), r->m.mode->name,
                            ev->name);
        break;
    case EV_DMA: {
        uint64_t pages0 = r->m.st.cnt[CNT_dma_pages];
        uint64_t busy = machine_dma(&r->m, ev->name, ev->len, ev->flags & 1);
        r->dma_busy += busy;
        r->dma_ev_pages += r->m.st.cnt[CNT_dma_pages] - pages0;
        break;
    }
    case EV_END:
    case EV_ERROR:
        break;
    }
    if (t && ev->type != EV_EXIT)
        kernel_exit_to_user(k);            /* the system call returns (SYSRET) */
    if (rc < 0 && ev->type != EV_FORK) {
        char what[160], why[128], hint[320] = "";
        /* below vm.mmap_min_addr: a trace from a kernel with a lower one,
         * named where the workload knows it (the trace's header) */
        uint64_t rec_min;
        unsigned long long g_min = (unsigned long long)k->cfg.mmap_min_addr;
        int below = rc == -EPERM &&
                    (ev->type == EV_MMAP || ev->type == EV_BRK || ev->type == EV_MREMAP || ev->type == EV_EXEC);
        if (!below && rc == -ENOMEM && t && t->mm && (uint64_t)t->mm->nvma + 3 >= k->cfg.max_map_count)
            snprintf(hint, sizeof hint, "; the address space holds %u mappings and the guest's vm.max_map_count "
                     "is %llu: raise it with --param guest.max_map_count=N", t->mm->nvma,
                     (unsigned long long)k->cfg.max_map_count);
        else if (!below)
            ;   /* no hint */
        else if (!r->cfg->wl->recorded_mmap_min_addr || !r->cfg->wl->recorded_mmap_min_addr(r->wl, &rec_min))
            snprintf(hint, sizeof hint, "; the guest's vm.mmap_min_addr is %llu: a trace recorded with a lower one "
                     "(`memvirt trace info` shows it) replays with --param guest.mmap_min_addr=N", g_min);
        else if (rec_min < g_min)
            snprintf(hint, sizeof hint, "; the guest's vm.mmap_min_addr is %llu, the recording kernel's was %llu "
                     "(the trace's header): replay with --param guest.mmap_min_addr=%llu", g_min,
                     (unsigned long long)rec_min, (unsigned long long)rec_min);
        else   /* the recording kernel refused it too: a trace not made by memvirt's importers or recorder */
            snprintf(hint, sizeof hint, "; the guest's vm.mmap_min_addr is %llu and the recording kernel's was %llu "
                     "(the trace's header), above this call too: --param guest.mmap_min_addr=0 replays it anyway",
                     g_min, (unsigned long long)rec_min);
        return mv_error("%s: pid %u: %s, failed: %s%s", where(r, w, sizeof w), ev->pid,
                        event_desc(ev, what, sizeof what), errno_text(rc, why, sizeof why), hint);
    }
    return 0;
}

/* One event, with the guest kernel's out-of-memory path and the
 * hypervisor's domain_crash returning here: the operation under way is
 * abandoned (the kernel is only shut down after it) and the run fails with
 * the mode and the event named, through mv_error like every other run
 * error (so compare defers it as the others), and a status of its own
 * (ENGINE_GUEST_OOM, ENGINE_DOMAIN_CRASHED) so compare keeps the others'
 * results. */
static int step(struct run *r, const struct event *ev)
{
    jmp_buf oom, crash;
    if (setjmp(oom)) {
        char w[4200];
        r->m.k.oom = NULL;
        r->m.cpu.offline_ret = NULL;
        mv_error("%s: the guest ran out of memory under %s (guest.ram_mb=%llu); raise it with "
                 "--param guest.ram_mb=N", where(r, w, sizeof w), r->m.mode->name,
                 (unsigned long long)r->m.k.cfg.ram_mb);
        return ENGINE_GUEST_OOM;
    }
    if (setjmp(crash)) {
        /* The hypervisor crashed the domain (domain_crash): its vCPU never
         * comes back, the operation under way is abandoned, the run fails. */
        char w[4200];
        r->m.k.oom = NULL;
        r->m.cpu.offline_ret = NULL;
        mv_error("%s: the hypervisor crashed the domain under %s: %s", where(r, w, sizeof w), r->m.mode->name,
                 r->m.hv->dom.crashed);
        return ENGINE_DOMAIN_CRASHED;
    }
    r->m.k.oom = &oom;
    r->m.cpu.offline_ret = &crash;
    scheduled(r);
    tick(r);
    if (r->cfg->observe)
        r->cfg->observe(r->cfg->observe_ctx, &r->m.k, ev);
    int rc = dispatch(r, ev);
    if (!rc) {
        machine_devices(&r->m, r->m.st.now);
        tick(r);
    }
    r->m.k.oom = NULL;
    r->m.cpu.offline_ret = NULL;
    return rc;
}

static void report_progress(struct run *r, void *wl)
{
    progress_set(r->shown, r->shown_slot, r->cfg->wl->progress ? r->cfg->wl->progress(wl) : 0,
                 (double)r->m.st.now / (r->cfg->cost.clock_ghz * 1e9), r->m.st.cnt[CNT_refs]);
}

int engine_run(const struct sim_config *cfg, const struct mode_def *mode, struct run_result *out)
{
    return engine_run_shown(cfg, mode, out, NULL, 0);
}

int engine_run_shown(const struct sim_config *cfg, const struct mode_def *mode, struct run_result *out,
                     struct progress *shown, unsigned slot)
{
    memset(out, 0, sizeof *out);
    out->mode = mode->name;
    out->workload = cfg->wl->name;
    struct run *r = mv_calloc(1, sizeof *r);
    r->cfg = cfg;
    r->out = out;
    if (machine_init(&r->m, cfg, mode)) {
        free(r);
        return -1;
    }
    if (cfg->check) {
        /* strict: the guest kernel flushes before the next reference, so a
         * workload run may never use a superseded translation (oracle.h) */
        r->oracle = oracle_create(&r->m);
        oracle_set_strict(r->oracle, 1);
    }

    r->interval = (uint64_t)((double)cfg->sim.series_ms * cfg->cost.clock_ghz * 1e6);
    if (!r->interval)
        r->interval = 1;
    r->next_sample = r->interval;
    out->series.interval_s = (double)cfg->sim.series_ms / 1000.0;
    out->series.ngauge = r->m.ins.ngauge;
    MV_ASSERT(r->m.ins.ngauge >= ENGINE_MIN_GAUGES, "%u gauges, fewer than ENGINE_MIN_GAUGES (config_validate's bound)",
              r->m.ins.ngauge);
    r->series_max = engine_series_max(r->m.ins.ngauge);
    out->series.gauge_name = mv_calloc(r->m.ins.ngauge + 1, sizeof *out->series.gauge_name);
    for (unsigned g = 0; g < r->m.ins.ngauge; g++)
        out->series.gauge_name[g] = r->m.ins.gauge[g].name;
    r->shown = shown;
    r->shown_slot = slot;

    void *wl = cfg->wl->create(cfg->wl_cfg, cfg->seed);
    r->wl = wl;
    int rc = wl ? 0 : -1;
    for (; wl;) {
        struct event ev;
        cfg->wl->next(wl, &ev);
        if (ev.type == EV_END)
            break;
        if (ev.type == EV_ERROR) {
            rc = -1;
            break;
        }
        r->events++;
        if ((rc = step(r, &ev)))
            break;
        if (r->m.st.wrapped) {
            rc = wrapped_error(r);
            break;
        }
        if (r->series_full) {
            rc = series_full_error(r);
            break;
        }
        if (cfg->check && r->events % cfg->sim.check_every == 0 && (rc = full_check(r)))
            break;
        if (r->shown && (r->events & 1023) == 0)
            report_progress(r, wl);
    }
    if (!rc && cfg->check)
        rc = full_check(r);
    if (!rc) {
        if (r->m.st.now > r->last.now || out->series.n == 0)
            sample(r, r->m.st.now);
        out->st = r->m.st;
        out->at_applied = r->next_at;
        out->sim_seconds = (double)r->m.st.now / (cfg->cost.clock_ghz * 1e9);
        for (unsigned i = 0; i < r->nmarks; i++) {
            char name[MV_NAME_MAX];
            snprintf(name, sizeof name, "lat_%s_us", r->marks[i].name);
            mv_metric_put(&out->metrics, name, r->marks[i].count
                          ? cost_us(&cfg->cost, 1) * r->marks[i].sum / (double)r->marks[i].count : 0);
        }
        const uint64_t *c = r->m.st.cnt;
        if (c[CNT_dma_pages]) {
            /* The rate is what the devices completed by the end of the run;
             * what they were given and had not completed stays queued
             * (dma_bytes = completed + queued). */
            uint64_t done = 0, queued = 0, wait = 0;
            for (int d = 0; d < 2; d++) {
                struct dma_queue *q = machine_dma_queue(&r->m, d);
                dma_queue_retire(q, r->m.st.now);
                done += q->done_bytes;
                queued += q->queued_bytes;
                wait = q->max_wait > wait ? q->max_wait : wait;
            }
            mv_metric_put(&out->metrics, "dma_mbps", out->sim_seconds > 0
                          ? (double)done * 8 / 1e6 / out->sim_seconds : 0);
            mv_metric_put(&out->metrics, "dma_queued_bytes", (double)queued);
            mv_metric_put(&out->metrics, "dma_max_wait_us", cost_us(&cfg->cost, wait));
            mv_metric_put(&out->metrics, "iotlb_miss_per_dma_page", (double)c[CNT_iotlb_miss] / (double)c[CNT_dma_pages]);
        }
        if (r->dma_ev_pages)
            mv_metric_put(&out->metrics, "dma_device_us_per_page", cost_us(&cfg->cost, r->dma_busy) / (double)r->dma_ev_pages);
        struct mv_instruments *in = &r->m.ins;
        for (unsigned i = 0; i < in->nmetrics; i++)
            in->metrics[i].put(in->metrics[i].ctx, &out->metrics);
        out->timeline = in->timeline;              /* the result keeps it */
        in->timeline = (struct mv_timeline){ 0 };
        if (out->timeline.dropped)
            mv_warn("%s: the timeline keeps the first %u decisions; %llu more were made after %.6g simulated "
                    "seconds (timeline_dropped in the results; the counters count every one)", mode->name,
                    MV_TIMELINE_MAX, (unsigned long long)out->timeline.dropped,
                    out->timeline.e[MV_TIMELINE_MAX - 1].t);
    }
    if (wl)
        cfg->wl->destroy(wl);
    oracle_destroy(r->oracle);
    r->m.failed = rc != 0;
    if (machine_destroy(&r->m) && !rc)
        rc = -1;
    free(r);
    if (rc)
        run_result_free(out);
    return rc;
}

void run_result_free(struct run_result *r)
{
    free(r->series.t);
    free(r->series.cnt);
    free(r->series.gauge);
    free(r->series.gauge_name);
    memset(&r->series, 0, sizeof r->series);
    mv_metrics_free(&r->metrics);
    mv_timeline_free(&r->timeline);
}

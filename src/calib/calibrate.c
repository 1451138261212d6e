/* calibrate.c: `memvirt calibrate -o PROFILE`: run the benchmarks, derive
 * every cost entry it can, and write the profile (docs/cost-model.md,
 * "Calibration", says what each entry is made of).
 *
 * Entries come in four kinds, written as the entry's status:
 *   measured  a host figure turned into cycles at the measured core clock;
 *   fitted    set so that memvirt's native model of a host loop takes as
 *             long as the loop did (fit.c), the entries before it fixed;
 *   bound     all user space can observe is an upper (or lower) bound;
 *   default   not measurable here: the documented default, with the reason.
 * The order of the fits matters: each uses the entries fitted before it. */
#include "calib/calib.h"
#include "lib/err.h"
#include "lib/outfile.h"
#include <math.h>
#include <string.h>
#include <unistd.h>

struct calrun {
    struct calib *c;
    struct calib_host host;
    struct cost cost;                   /* the profile being built */
    struct calib_entry rec[64];          /* by index in cost_params */
    struct profile out;
};

static struct calib_entry *rec_of(struct calrun *r, const char *entry)
{
    const struct param_def *d = param_find(&cost_params, entry);
    MV_ASSERT(d, "calibrate: no cost entry %s", entry);
    size_t i = (size_t)(d - cost_params.defs);
    MV_ASSERT(i < sizeof r->rec / sizeof r->rec[0], "calibrate: too many cost entries");
    return &r->rec[i];
}

static void set_cost(struct calrun *r, const char *entry, double cycles)
{
    const struct param_def *d = param_find(&cost_params, entry);
    char v[64];
    if (d->type == P_DBL)
        snprintf(v, sizeof v, "%.3f", cycles);
    else
        snprintf(v, sizeof v, "%.0f", cycles < 0 ? 0 : cycles);
    int rc = param_set(&cost_params, &r->cost, entry, v, "calibrate");
    MV_ASSERT(rc == 0, "calibrate: %s=%s", entry, v);
}

/* An entry straight from a host figure in ns (scaled by `scale`). */
static void measured(struct calrun *r, const char *entry, const char *status, const struct calib_stat *s,
                     double scale, const char *method, const char *note)
{
    struct calib_entry *x = rec_of(r, entry);
    double g = r->c->core_ghz * scale;
    *x = (struct calib_entry){ .status = status, .cycles = s->med * g, .lo = s->lo * g, .hi = s->hi * g,
                       .ns = s->med * scale, .reps = s->reps };
    snprintf(x->method, sizeof x->method, "%s", method);
    snprintf(x->note, sizeof x->note, "%s", note ? note : "");
    set_cost(r, entry, x->cycles);
}

/* An entry fitted so that the model reproduces host figure s (ns). */
static void fitted(struct calrun *r, const char *entry, const struct model_q *q, const struct calib_stat *s,
                   const char *method, const char *note)
{
    struct calib_entry *x = rec_of(r, entry);
    struct fit_result f;
    calib_log(r->c, "  fit %-14s to the host's %s (%.1f ns) ...", entry, q->name, s->med);
    if (!s->reps || fit_entry(entry, q, s->med, &r->cost, &f)) {
        calib_log(r->c, " not possible: kept the default\n");
        x->status = NULL;
        if (s->reps)   /* measured: the model's run failed (its error is in the log) */
            snprintf(x->note, sizeof x->note, "the native model could not be run to fit it to the host's %s",
                     q->name);
        else
            snprintf(x->note, sizeof x->note, "the host figure (%s) was not measured", q->name);
        return;
    }
    *x = (struct calib_entry){ .status = "fitted", .cycles = f.value, .ns = s->med, .reps = s->reps };
    x->lo = fmax(0, f.value + (s->lo - s->med) / f.slope);
    x->hi = fmax(0, f.value + (s->hi - s->med) / f.slope);
    snprintf(x->method, sizeof x->method, "%s; the native model gives %.1f ns with it (%.1f before)", method,
             f.model_after, f.model_before);
    if (f.clamped)
        snprintf(x->note, sizeof x->note, "the model already predicts more than the host took without this "
                 "entry: set to 0. %s", note ? note : "");
    else
        snprintf(x->note, sizeof x->note, "%s", note ? note : "");
    calib_log(r->c, " %.0f cycles (model %.1f ns)\n", f.value, f.model_after);
}

static void raw(struct calrun *r, const char *key, double v, const char *unit, const struct calib_stat *s,
                const char *method)
{
    char val[64];
    snprintf(val, sizeof val, "%.6g", v);
    struct profile_line *l = profile_add(&r->out, key, val);
    profile_attr(l, "unit", "%s", unit);
    if (s && s->reps) {
        profile_attr(l, "spread", "%.6g..%.6g", s->lo * (v / (s->med ? s->med : 1)), s->hi * (v / (s->med ? s->med : 1)));
        profile_attr(l, "reps", "%u", s->reps);
    }
    if (method)
        profile_attr(l, "method", "%s", method);
}

/* Why an entry keeps its default when calibrate does not touch it. */
static const char *default_reason(const char *name)
{
    static const struct { const char *prefix, *why; } reasons[] = {
        { "ref", "a reference that hits the TLB; memvirt models translation, not the data access" },
        { "pte_write", "one store; not separable from the kernel paths that make it" },
        { "buddy_step", "a split or merge inside the allocator; not separable from user space" },
        { "pt_free_path", "freeing page-table pages is not separable from munmap and exit from user space" },
        { "hypercall", "a Xen PV hypercall; no Xen here" },
        { "hc_entry", "a Xen PV batched hypercall entry; no Xen here" },
        { "pv_", "Xen PV hypervisor work; no Xen here" },
        { "iotlb", "an IOMMU invalidation; the IOMMU is not visible from user space" },
        { "iommu", "an I/O page-table update; the IOMMU is not visible from user space" },
        { "io_walk", "an IOMMU page walk; not visible from user space" },
        { "dma", "device DMA time; no device here to time" },
        { "vm_exit", "no hardware VM exit to time (see measured.vm_*)" },
        { "cpi", "the work between a program's references depends on the program, not on the host's memory system" },
        { "ssp_trap", "a trap to a RISC-V machine mode; no such hardware here" },
        { "shadow_", "shadow-paging hypervisor work; no shadow-paging hypervisor here" },
        { "ept_fill", "a hypervisor's EPT violation handling; not visible from a guest or from user space" },
        { "bt_", "binary translation of guest code; no binary translator here" },
        { "fault_around_page", "this host maps one page a read fault (no fault-around: measured.fault_around_pages), "
                               "or no memfd could be made, or its shmem filled the sparse file's holes (large folios)" },
    };
    for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++)
        if (!strncmp(name, reasons[i].prefix, strlen(reasons[i].prefix)))
            return reasons[i].why;
    return "not measured by calibrate";
}

/* The cost.* lines of every entry calibrate set (measured, fitted, bound)
 * into `out`; every other entry becomes a comment line in `comment`, which
 * names the value the compiled default has today but is never loaded: a
 * later change of a default reaches runs under this profile. */
static void write_entries(const struct cost *cost, const struct calib_entry *rec, struct profile *out,
                          FILE *comment)
{
    int first = 1;
    for (size_t i = 0; i < cost_params.n; i++) {
        const struct param_def *d = &cost_params.defs[i];
        const struct calib_entry *x = &rec[i];
        char key[PROFILE_KEY_MAX], val[64];
        snprintf(key, sizeof key, "cost.%s", d->name);
        param_format(d, cost, val, sizeof val);
        if (!x->status) {
            if (first)
                fputs("\nEntries not measured here: the compiled default of the memvirt that loads this\n"
                      "profile applies to each (shown as a comment, never loaded):", comment);
            first = 0;
            fprintf(comment, "\n%s = %s status=default (not measured; the compiled default applies): %s", key, val,
                    x->note[0] ? x->note : default_reason(d->name));
            continue;
        }
        if (d->type == P_DBL) {
            double v;
            memcpy(&v, (const char *)cost + d->off, sizeof v);
            snprintf(val, sizeof val, "%.3f", v);
        }
        struct profile_line *l = profile_add(out, key, val);
        profile_attr(l, "status", "%s", x->status);
        if (x->ns > 0)
            profile_attr(l, "ns", "%.1f", x->ns);
        if (x->reps && x->lo <= x->hi) {
            if (d->type == P_DBL)
                profile_attr(l, "spread", "%.3f..%.3f", x->lo, x->hi);
            else
                profile_attr(l, "spread", "%.0f..%.0f", x->lo, x->hi);
            profile_attr(l, "reps", "%u", x->reps);
        }
        profile_attr(l, "method", "%s", x->method);
        if (x->note[0])
            profile_attr(l, "note", "%s", x->note);
    }
}

/* `text` into `path`, atomically. Only a regular file (or a new name): a
 * device or FIFO is not a profile anyone can load (and /dev/stdout into a
 * pipe would take the progress log's place). */
static int save_text(const char *path, const char *text, size_t len)
{
    struct outset set = { 0 };
    int rc = outset_add(&set, "-o", path);
    if (!rc && set.f[0].kind != OUTFILE_REPLACE)
        rc = mv_error("calibrate: -o '%s': not a regular file: calibrate writes the profile into a file", path);
    if (!rc) {
        FILE *f = outset_stream(&set, 0);
        fwrite(text, 1, len, f);
        rc = ferror(f) ? outset_stream_failed(&set, 0) : outset_commit(&set);
    }
    outset_free(&set);
    return rc;
}

int calib_write_profile(const char *path, struct profile *out, const struct cost *cost,
                        const struct calib_entry *rec, const char *header)
{
    char *comment = NULL, *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&comment, &len);
    MV_ASSERT(f, "calibrate: open_memstream");
    fputs(header, f);
    write_entries(cost, rec, out, f);
    fclose(f);
    f = open_memstream(&text, &len);
    MV_ASSERT(f, "calibrate: open_memstream");
    profile_write(f, out, comment);
    fclose(f);
    free(comment);
    /* What is written must load, and give these costs: the text is checked
     * before the file is touched, so a failed check leaves nothing (reading
     * the file back left it, and hung on a FIFO). */
    struct profile back;
    int rc = profile_parse(&back, path, text, len);
    if (!rc) {
        if (memcmp(&back.cost, cost, sizeof back.cost))
            rc = mv_error("calibrate: %s would not load back to the costs calibrate chose", path);
        profile_free(&back);
    }
    if (!rc)
        rc = save_text(path, text, len);
    free(text);
    return rc;
}

static void diff_stat(const struct calib_stat *a, const struct calib_stat *b, double div, struct calib_stat *out)
{
    /* a - b per `div`; the spread combines both ends conservatively */
    *out = (struct calib_stat){ (a->med - b->med) / div, (a->lo - b->hi) / div, (a->hi - b->lo) / div,
                                a->reps < b->reps ? a->reps : b->reps };
}

int calibrate_run(struct calib *c, const char *out_path, const char *cmdline)
{
    struct calrun *r = mv_calloc(1, sizeof *r);
    r->c = c;
    param_defaults(&cost_params, &r->cost);
    struct calib_load load0, load1;
    calib_load_read(&load0);
    calib_load_warn(&load0, "at the start");
    calib_host(&r->host);
    const struct calib_host *h = &r->host;
    calib_log(c, "host: %s; %s\n", h->cpu, h->kernel);
    calib_log(c, "%s%s%s%s; /dev/kvm: %s; THP: %s\n", h->virtual_cpu ? "virtual CPU, hypervisor '" : "bare metal",
              h->hypervisor, h->virtual_cpu ? "'" : "", "", h->kvm, h->thp);
    calib_log(c, "pinned to CPU %d; %u repetitions each; TSC %.4f GHz; core clock %.3f GHz (%.3f..%.3f)\n",
              c->cpu, c->reps, c->tsc_ghz, c->core_ghz, c->core.lo, c->core.hi);

    profile_add(&r->out, "host.cpu", h->cpu);
    profile_add(&r->out, "host.kernel", h->kernel);
    char buf[PROFILE_VALUE_MAX];
    snprintf(buf, sizeof buf, "%s", h->virtual_cpu ? h->hypervisor : "no");
    profile_add(&r->out, "host.hypervisor", buf);
    profile_add(&r->out, "host.kvm", h->kvm);
    profile_add(&r->out, "host.thp", h->thp);
    profile_add(&r->out, "host.tlb", h->tlb);
    snprintf(buf, sizeof buf, "CPU %d of %d, %u repetitions per figure", c->cpu, c->ncpus, c->reps);
    profile_add(&r->out, "host.pinned", buf);

    /* the clock */
    struct calib_stat clk = c->core;
    clk.med = c->core_ghz;
    measured(r, "clock_ghz", "measured", &clk, 1.0 / c->core_ghz,
             "dependent register adds (one per cycle) timed by the TSC, 90th percentile of half-millisecond samples "
             "(an interrupted sample only looks slower); the core clock, not the TSC rate",
             h->virtual_cpu ? "a virtual CPU: the host may move it between cores and clock speeds" : NULL);
    rec_of(r, "clock_ghz")->ns = 0;
    raw(r, "measured.tsc_ghz", c->tsc_ghz, "GHz", &c->tsc, "TSC ticks against CLOCK_MONOTONIC_RAW over 10 ms");

    calib_log(c, "system calls ...\n");
    struct calib_stat sc;
    bench_syscall(c, &sc);
    measured(r, "syscall", "measured", &sc, 1, "getppid() through syscall(2), 200 calls per sample", NULL);

    calib_log(c, "fork, exec, exit, mmap ...\n");
    struct proc_result pr;
    bench_proc(c, &pr, 0);
    if (pr.hung) {   /* no profile: its exec entry would be missing for a reason the user must fix */
        profile_free(&r->out);
        free(r);
        return calib_hello_hung(c);
    }
    raw(r, "measured.fork_ns", pr.fork_only.med, "ns", &pr.fork_only, "the parent's fork(), the child exits at once");
    raw(r, "measured.fork_exit_ns", pr.fork_exit.med, "ns", &pr.fork_exit, "fork, child _exit(0), waitpid");
    char hello_is[PROFILE_VALUE_MAX / 2], what[PROFILE_VALUE_MAX];
    int hello_dyn = calib_hello_describe(c, hello_is, sizeof hello_is);
    if (pr.exec_ok) {
        snprintf(what, sizeof what, "fork, execve of %s, its exit, waitpid", hello_is);
        raw(r, "measured.fork_execve_ns", pr.fork_exec.med, "ns", &pr.fork_exec, what);
    } else if (c->hello && !access(c->hello, X_OK)) {   /* else cmd_calibrate said it is not runnable */
        calib_log(c, "note: %s could not be executed or did not exit with status 0: fork+execve is not "
                  "measured, and cost.exec_fixed keeps its default\n", hello_is);
    }
    raw(r, "measured.mmap_munmap_ns", pr.mmap_munmap.med, "ns", &pr.mmap_munmap,
        "mmap and munmap of one untouched anonymous page at a fixed, isolated address");
    raw(r, "measured.fork_heap_ns", pr.fork_heap.med, "ns", &pr.fork_heap, "the parent's fork() with 64 MiB of written heap");
    raw(r, "measured.parent_vmas", (double)pr.vmas, "count", NULL, "mappings of the forking process (/proc/self/maps)");
    raw(r, "measured.parent_rss_kb", (double)pr.rss_kb, "KiB", NULL, "its resident memory");

    calib_log(c, "context switches ...\n");
    struct sched_result sw;
    bench_sched(c, &sw);
    if (sw.ok) {
        struct calib_stat half, d, two = { 4 * sc.med, 4 * sc.lo, 4 * sc.hi, sc.reps };
        diff_stat(&sw.thread_rt, &two, 2, &half);
        measured(r, "ctx_switch", "bound", &half, 1,
                 "half a pipe round trip between two threads on one CPU (lat_ctx) less two system calls: "
                 "upper bound, includes the pipe's work and the wake-up", NULL);
        diff_stat(&sw.proc_rt, &sw.thread_rt, 2, &d);
        measured(r, "cr3_write", "bound", &d, 1,
                 "half the extra of a process round trip over a thread round trip: upper bound, includes switch_mm and TLB refills", NULL);
        raw(r, "measured.pipe_rt_process_ns", sw.proc_rt.med, "ns", &sw.proc_rt, "pipe round trip, two processes, one CPU");
        raw(r, "measured.pipe_rt_thread_ns", sw.thread_rt.med, "ns", &sw.thread_rt, "pipe round trip, two threads, one CPU");
    }

    calib_log(c, "page clear and copy ...\n");
    struct page_result pg;
    bench_page(c, &pg);
    measured(r, "page_zero", "measured", &pg.clear_cold, 1,
             "rep stosb over 4 KiB (clear_page_erms), cache-cold: 1 MiB of a 256 MiB area per sample, the next 1 MiB each time", NULL);
    measured(r, "page_copy", "measured", &pg.copy_cold, 1,
             "rep movsb of 4 KiB, cache-cold: 1 MiB per sample, through 128 MiB", NULL);
    raw(r, "measured.page_zero_hot", pg.clear_hot.med * c->core_ghz, "cycles", &pg.clear_hot, "the same page again and again");
    raw(r, "measured.page_copy_hot", pg.copy_hot.med * c->core_ghz, "cycles", &pg.copy_hot, "the same page again and again");

    calib_log(c, "page faults ...\n");
    struct fault_result fl;
    bench_fault(c, &fl);
    raw(r, "measured.fault_read_zero_ns", fl.read_zero.med, "ns", &fl.read_zero, "first read of an anonymous page: the zero page");
    raw(r, "measured.fault_write_ns", fl.write_anon.med, "ns", &fl.write_anon, "first write of an anonymous page");
    raw(r, "measured.fault_write_new_pte_ns", fl.write_new_pte.med, "ns", &fl.write_new_pte,
        "first write, one page per 2 MiB: each also allocates a page-table page");
    raw(r, "measured.fault_cow_zero_ns", fl.cow_zero.med, "ns", &fl.cow_zero, "write after read: copy-on-write of the zero page");
    struct fault_around_result fa;
    bench_fault_around(c, &fa);
    raw(r, "measured.fault_around_pages", fa.window, "pages", NULL,
        "pages one read fault maps of a shmem file all cached: the host's fault_around_bytes / 4096");
    if (fa.ok) {
        struct calib_stat d;
        diff_stat(&fa.full, &fa.sparse, fa.window - 1, &d);
        snprintf(buf, sizeof buf, "one read fault per %u-page window of a shared mapping of a memfd, every page cached "
                 "(%.0f ns) less only the faulting page cached (%.0f ns), per extra page", fa.window, fa.full.med,
                 fa.sparse.med);
        measured(r, "fault_around_page", "bound", &d, 1, buf, "upper bound: includes the entry's store, which the "
                 "model charges apart (cost.pte_write natively, more on a virtual host, whose store may trap)");
    }

    calib_log(c, "TLB flushes ...\n");
    struct flush_result tf;
    bench_tlbflush(c, &tf);
    /* per mprotect: present minus untouched, at 1, 64 and 128 pages; the
     * step from 64 to 128 pages (both full flushes) is the rewriting per page */
    struct calib_stat d1, d64, d128, d;
    diff_stat(&tf.one, &tf.one_absent, 2, &d1);
    diff_stat(&tf.many, &tf.many_absent, 2, &d64);
    diff_stat(&tf.more, &tf.more_absent, 2, &d128);
    double per_page = fmax(0, (d128.med - d64.med) / 64);
    d = (struct calib_stat){ d1.med - per_page, d1.lo - per_page, d1.hi - per_page, d1.reps };
    snprintf(buf, sizeof buf, "mprotect read-only and back on a present page minus the same on an untouched one, "
             "per flush, less the rewriting of one entry (%.1f ns, from 64 and 128 pages): upper bound", per_page);
    measured(r, "tlb_invlpg", "bound", &d, 1, buf, NULL);
    d = (struct calib_stat){ d64.med - 64 * per_page, d64.lo - 64 * per_page, d64.hi - 64 * per_page, d64.reps };
    measured(r, "tlb_flush", "bound", &d, 1,
             "the same over 64 pages (beyond Linux's 33-page ceiling: a full flush), less rewriting 64 entries: "
             "upper bound, includes the fixed work of a range with present pages", NULL);
    raw(r, "measured.mprotect_entry_rewrite_ns", per_page, "ns", NULL,
        "per page and mprotect: the 128-page minus the 64-page figure over 64");
    raw(r, "measured.mprotect_pair_present_ns", tf.one.med, "ns", &tf.one, "mprotect RO then RW, one present page");
    raw(r, "measured.mprotect_pair_present64_ns", tf.many.med, "ns", &tf.many, "the same, 64 present pages");
    raw(r, "measured.mprotect_pair_present128_ns", tf.more.med, "ns", &tf.more, "the same, 128 present pages");
    raw(r, "measured.mprotect_pair_absent_ns", tf.one_absent.med, "ns", &tf.one_absent, "the same, page never touched");
    if (tf.remote_ok) {
        diff_stat(&tf.remote, &tf.one, 2, &d);
        raw(r, "measured.tlb_shootdown_ns", d.med, "ns", &d,
            "extra per flush when a second thread of the process runs on another CPU (an IPI and its wait)");
    }

    calib_log(c, "page walks ...\n");
    uint64_t ptw_kb = 256;
    const struct param_def *pd = param_find(&dcache_params, "ptw_kb");
    if (pd)
        param_parse_u64(pd->def, &ptw_kb);
    struct calib_stat near, far;
    if (!bench_load_latency(c, ptw_kb << 10, &near)) {
        snprintf(buf, sizeof buf, "dependent loads over every line of %llu KiB (cache.ptw_kb) on huge pages: "
                 "a walk reference that hits the cache page walks see", (unsigned long long)ptw_kb);
        measured(r, "walk_ref", "measured", &near, 1, buf, NULL);
    }
    struct calib_stat mid;
    if (!bench_load_latency(c, 16ull << 20, &mid))
        raw(r, "measured.load_latency_16mb_ns", mid.med, "ns", &mid,
            "dependent loads over every line of 16 MiB on huge pages: within a 32 MiB last-level cache");
    if (!bench_load_latency(c, 512ull << 20, &far))
        raw(r, "measured.load_latency_512mb_ns", far.med, "ns", &far,
            "dependent loads over every line of 512 MiB on huge pages: a load that misses every cache");
    struct chase_result ch_stlb = { 0 }, ch_walk = { 0 }, ch_miss = { 0 };
    for (unsigned mb = 1; mb <= 1024; mb *= 2) {
        struct chase_result ch;
        if (bench_chase(c, (uint64_t)mb << 20, &ch))
            continue;
        calib_log(c, "  chase %5u MiB: 4K %7.1f ns, 2M %7.1f ns, translation %6.1f ns (%.0f%% huge)\n", mb,
                  ch.small.med, ch.huge.med, ch.diff.med, ch.huge_share * 100);
        char key[64], m[200];
        snprintf(key, sizeof key, "measured.tlb_overhead_%umb_ns", mb);
        snprintf(m, sizeof m, "pointer chase, one line per page: 4 KiB pages %.1f ns, 2 MiB pages %.1f ns per load "
                 "(%.0f%% of the area on huge pages)", ch.small.med, ch.huge.med, ch.huge_share * 100);
        raw(r, key, ch.diff.med, "ns", &ch.diff, m);
        if (mb == 4)
            ch_stlb = ch;
        if (mb == 64)
            ch_walk = ch;
        if (mb == 256)
            ch_miss = ch;
    }
    /* Three working sets, one entry each: within the STLB's reach; beyond
     * it with the page tables in the model's walk cache; and with them
     * mostly outside it. walk_start and walk_ref_miss both matter at 64
     * and 256 MiB, so those two fits are repeated until they settle. */
    struct model_q q4 = { "chase_4mb_overhead", model_chase_overhead, 4 };
    struct model_q q64 = { "chase_64mb_overhead", model_chase_overhead, 64 };
    struct model_q q256 = { "chase_256mb_overhead", model_chase_overhead, 256 };
    fitted(r, "stlb_hit", &q4, &ch_stlb.diff,
           "the model's TLB overhead of memwalk's chase over 4 MiB (within STLB reach) equals the host's (4 KiB minus 2 MiB pages)",
           NULL);
    for (int pass = 0; pass < 2; pass++) {   /* the second pass's "before" is the first pass's result */
        fitted(r, "walk_start", &q64, &ch_walk.diff,
               "the model's TLB overhead of memwalk's chase over 64 MiB (beyond STLB reach, page tables in the walk cache) "
               "equals the host's",
               h->virtual_cpu ? "a virtual machine's TLB miss walks two levels of tables (guest and host): "
                                "the fixed part absorbs the host's" : NULL);
        fitted(r, "walk_ref_miss", &q256, &ch_miss.diff,
               "the model's TLB overhead of memwalk's chase over 256 MiB (page tables mostly beyond the walk cache) "
               "equals the host's",
               "what a walk reference that leaves the walk cache costs on average (the host's larger caches often hold it)");
    }

    calib_log(c, "faults in the model ...\n");
    measured(r, "fault_entry", "bound", &sc, 1,
             "the system-call round trip: a lower bound for exception entry and exit (IRET is slower than SYSRET); "
             "user space cannot separate it from the fault handler", NULL);
    fitted(r, "fault_handle", &MQ_READ_FAULT, &fl.read_zero,
           "the model's loop of first reads (zero page) over 4096 pages equals the host's", NULL);
    fitted(r, "buddy_op", &MQ_WRITE_FAULT, &fl.write_anon,
           "the model's loop of first writes over 4096 pages equals the host's: page allocation with its memcg and LRU work",
           NULL);
    fitted(r, "pt_alloc_path", &MQ_WRITE_FAULT_NEW_PTE, &fl.write_new_pte,
           "the model's loop of first writes one per 2 MiB (each allocating a page table) equals the host's", NULL);
    fitted(r, "vma_op", &MQ_MMAP_MUNMAP, &pr.mmap_munmap,
           "the model's mmap+munmap of one page at a fixed address equals the host's", NULL);
    struct calib_stat slope;
    diff_stat(&pr.fork_heap, &pr.fork_only, (double)pr.heap_pages, &slope);
    fitted(r, "pte_copy", &MQ_FORK_HEAP_SLOPE, &slope,
           "the model's extra fork time per written heap page (64 MiB heap against lmbench's 128 KiB) equals the host's",
           "includes the page reference and rmap work fork does per entry");
    snprintf(buf, sizeof buf, "the host's parent is the memvirt process (%ld mappings, %ld KiB resident), "
             "the model's is lmbench's lat_proc: the difference is absorbed here", pr.vmas, pr.rss_kb);
    fitted(r, "fork_fixed", &MQ_FORK, &pr.fork_only,
           "the model's fork in lmbench (the parent's side) equals the host's fork()", buf);
    fitted(r, "exit_fixed", &MQ_FORK_EXIT, &pr.fork_exit,
           "the model's lmbench fork+exit equals the host's fork, _exit, waitpid loop", NULL);
    if (pr.exec_ok) {
        snprintf(what, sizeof what, "the model's lmbench fork+execve equals the host's fork, execve of %s, exit, "
                 "waitpid", hello_is);
        fitted(r, "exec_fixed", &MQ_FORK_EXEC, &pr.fork_exec, what,
               hello_dyn == 0 ? "the host program is static; the model's hello maps libc, libm and ld.so: the "
                                "difference is absorbed here"
               : hello_dyn == 1 ? "the host program is dynamically linked, as the model's hello (libc, libm, "
                                  "ld.so); what it loads and does besides is absorbed here"
                                : "the host program is not an ELF executable (a script?): its interpreter's "
                                  "start-up is absorbed here");
    } else {
        snprintf(rec_of(r, "exec_fixed")->note, PROFILE_VALUE_MAX,
                 "%s could not be run, or did not exit with status 0", hello_is);
    }

    calib_log(c, "VM exits through /dev/kvm ...\n");
    struct kvm_result kv;
    bench_kvm(c, &kv);
    if (!kv.ok) {
        calib_log(c, "  no guest: %s\n", kv.why);
        snprintf(rec_of(r, "vm_exit")->note, PROFILE_VALUE_MAX, "no VM could be run through /dev/kvm: %s", kv.why);
    } else {
        calib_log(c, "  guest loop %.1f ns/iteration (%s), CPUID exit %.1f ns, port I/O exit to user space %.1f ns\n",
                  kv.loop.med, kv.native ? "native" : "emulated", kv.cpuid.med, kv.pio.med);
        raw(r, "measured.vm_guest_loop_ns", kv.loop.med, "ns", &kv.loop,
            "one iteration of dec/jnz in the guest, timed by RDTSC inside it (native: about a cycle)");
        raw(r, "measured.vm_exit_kernel_ns", kv.cpuid.med, "ns", &kv.cpuid,
            "CPUID in the guest, timed inside it, minus the loop: an exit the kernel handles, and re-entry");
        raw(r, "measured.vm_exit_user_ns", kv.pio.med, "ns", &kv.pio,
            "OUT to a port: exit to user space (KVM_EXIT_IO) and KVM_RUN back, timed by the VMM");
        if (kv.native) {
            measured(r, "vm_exit", "measured", &kv.cpuid, 1,
                     "a CPUID loop in a minimal long-mode guest, timed inside it: exit, KVM's handling, re-entry",
                     h->virtual_cpu ? "this machine is itself virtual: each exit of the guest is a nested exit, "
                                      "handled in part by the outer hypervisor (compare profile 'nested')" : NULL);
        } else {
            snprintf(rec_of(r, "vm_exit")->note, PROFILE_VALUE_MAX,
                     "/dev/kvm here (%s) does not run guest code natively: a 2-instruction loop takes %.0f ns per "
                     "iteration, so the guest is emulated and there is no hardware VM exit to time; "
                     "measured.vm_exit_* are emulator figures", h->kvm, kv.loop.med);
        }
    }

    calib_load_read(&load1);
    calib_load_warn(&load1, "at the end");
    char load_note[512], header[2048];
    calib_load_note(&load0, &load1, load_note, sizeof load_note);
    snprintf(header, sizeof header,
             "memvirt cost profile of this host, measured by:\n  %s\n"
             "Format and the meaning of each entry: docs/cost-model.md. Values are cycles at cost.clock_ghz;\n"
             "ns= is the host figure an entry comes from (median), spread= its 10th..90th percentile\n"
             "over reps= repetitions, in the entry's unit.\n%s", cmdline, load_note);
    int rc = calib_write_profile(out_path, &r->out, &r->cost, r->rec, header);
    if (!rc)
        calib_log(c, "wrote %s\n", out_path);
    profile_free(&r->out);
    free(r);
    return rc;
}

/* report.c: table, JSON and CSV output (see report.h, docs/output.md). */
#include "sim/report.h"
#include "lib/err.h"
#include "lib/json.h"
#include "lib/text.h"
#include "sim/config_file.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Rows of the table, in order; a row shows when any run has it non-zero. */
static const enum mv_counter table_counters[] = {
    CNT_refs, CNT_instructions, CNT_tlb_miss, CNT_walk_refs, CNT_walk_refs_guest, CNT_walk_refs_host, CNT_guest_pf,
    CNT_pf_around,
    CNT_fork, CNT_exec, CNT_exit, CNT_pt_pages_alloc, CNT_pt_pages_free, CNT_ctx_switch,
    CNT_tlb_flush_page, CNT_tlb_flush_all, CNT_tlb_flush_nonglobal, CNT_tlb_flush_pcid,
    CNT_vm_exits, CNT_vm_exits_pt_write, CNT_vm_exits_pf, CNT_vm_exits_cr3, CNT_vm_exits_invlpg,
    CNT_vm_exits_flush, CNT_vm_exits_ept_violation, CNT_vm_exits_hypercall, CNT_vm_exits_syscall,
    CNT_cluster_exits_avoided,
    CNT_clusters, CNT_ssp_traps,
    CNT_hypercalls, CNT_hc_iret, CNT_shadow_fill, CNT_pf_injected, CNT_iotlb_inv_psi, CNT_iotlb_inv_dsi,
    CNT_iotlb_inv_global, CNT_iommu_pt_shatters, CNT_iommu_pt_coalesces, CNT_iotlb_miss, CNT_dma_faults,
};

/* A run that failed beside others that completed (engine_run_all: its
 * guest ran out of memory, or the hypervisor crashed its domain) has a
 * column that says so in its first row and has '-' in every other. */
static const char *failure_text(const struct run_result *r)
{
    switch (r->failure) {
    case RUN_GUEST_OOM:
        return "guest OOM";
    case RUN_DOMAIN_CRASHED:
        return "domain crashed";
    case RUN_COMPLETED:
        break;
    }
    return NULL;
}

static void cell_u64(FILE *f, const struct run_result *r, unsigned long long v)
{
    if (r->failure != RUN_COMPLETED)
        fprintf(f, " %16s", "-");
    else
        fprintf(f, " %16llu", v);
}

static void cell_dbl(FILE *f, const struct run_result *r, double v)
{
    if (r->failure != RUN_COMPLETED)
        fprintf(f, " %16s", "-");
    else
        fprintf(f, " %16.3f", v);
}

void report_table(FILE *f, const struct sim_config *cfg, const struct run_result *r, unsigned n)
{
    /* The profile is a file's name (or a rerun result's label): its
     * control characters would break the table or drive the terminal. */
    fprintf(f, "workload %s, seed %llu, profile ", cfg->wl->name, (unsigned long long)cfg->seed);
    text_put_line_safe(f, cfg->profile);
    fprintf(f, "%s\n\n", cfg->check ? ", checked" : "");
    fprintf(f, "%-28s", "");
    for (unsigned i = 0; i < n; i++)
        fprintf(f, " %16s", r[i].mode);
    fputc('\n', f);

    fprintf(f, "%-28s", "simulated time (ms)");
    for (unsigned i = 0; i < n; i++) {
        if (failure_text(&r[i]))
            fprintf(f, " %16s", failure_text(&r[i]));
        else
            fprintf(f, " %16.3f", r[i].sim_seconds * 1e3);
    }
    fputc('\n', f);
    fprintf(f, "%-28s", "busy time (ms)");
    for (unsigned i = 0; i < n; i++)
        cell_dbl(f, &r[i], cost_us(&cfg->cost, r[i].st.now - r[i].st.cyc[CYC_idle]) / 1e3);
    fputc('\n', f);

    for (unsigned c = 0; c < sizeof table_counters / sizeof table_counters[0]; c++) {
        enum mv_counter id = table_counters[c];
        int any = 0;
        for (unsigned i = 0; i < n; i++)
            any |= r[i].st.cnt[id] != 0;
        if (!any)
            continue;
        fprintf(f, "%-28s", mv_counter_names[id]);
        for (unsigned i = 0; i < n; i++)
            cell_u64(f, &r[i], (unsigned long long)r[i].st.cnt[id]);
        fputc('\n', f);
    }
    fprintf(f, "\ncycles by category (Mcycles)\n");
    for (unsigned c = 0; c < CYC__N; c++) {
        int any = 0;
        for (unsigned i = 0; i < n; i++)
            any |= r[i].st.cyc[c] != 0;
        if (!any || c == CYC_idle)
            continue;
        fprintf(f, "  %-26s", mv_cycle_names[c]);
        for (unsigned i = 0; i < n; i++)
            cell_dbl(f, &r[i], (double)r[i].st.cyc[c] / 1e6);
        fputc('\n', f);
    }
    /* metrics: the union of names, in first-seen order */
    unsigned total = 0;
    for (unsigned i = 0; i < n; i++)
        total += r[i].metrics.n;
    const char **names = mv_calloc(total + 1, sizeof *names);
    unsigned nn = 0;
    for (unsigned i = 0; i < n; i++)
        for (unsigned m = 0; m < r[i].metrics.n; m++) {
            unsigned j = 0;
            while (j < nn && strcmp(names[j], r[i].metrics.m[m].name))
                j++;
            if (j == nn)
                names[nn++] = r[i].metrics.m[m].name;
        }
    if (nn)
        fprintf(f, "\nmetrics\n");
    for (unsigned j = 0; j < nn; j++) {
        fprintf(f, "  %-26s", names[j]);
        for (unsigned i = 0; i < n; i++) {
            const struct mv_metric *mt = NULL;
            for (unsigned m = 0; m < r[i].metrics.n; m++)
                if (!strcmp(r[i].metrics.m[m].name, names[j]))
                    mt = &r[i].metrics.m[m];
            if (mt)
                fprintf(f, " %16.3f", mt->value);
            else
                fprintf(f, " %16s", "-");
        }
        fputc('\n', f);
    }
    free(names);
}

static void json_run(struct json *j, const struct run_result *r)
{
    json_obj_begin(j);
    json_key(j, "mode"); json_str(j, r->mode);
    json_key(j, "workload"); json_str(j, r->workload);
    json_key(j, "sim_seconds"); json_dbl(j, r->sim_seconds);
    json_key(j, "counters");
    json_obj_begin(j);
    for (unsigned c = 0; c < CNT__N; c++) {
        json_key(j, mv_counter_names[c]);
        json_u64(j, r->st.cnt[c]);
    }
    json_obj_end(j);
    json_key(j, "cycles");
    json_obj_begin(j);
    for (unsigned c = 0; c < CYC__N; c++) {
        json_key(j, mv_cycle_names[c]);
        json_u64(j, r->st.cyc[c]);
    }
    json_key(j, "total"); json_u64(j, r->st.now);
    json_obj_end(j);
    json_key(j, "metrics");
    json_obj_begin(j);
    for (unsigned m = 0; m < r->metrics.n; m++) {
        json_key(j, r->metrics.m[m].name);
        json_dbl(j, r->metrics.m[m].value);
    }
    json_obj_end(j);
    json_key(j, "timeline");
    json_arr_begin(j);
    for (unsigned e = 0; e < r->timeline.n; e++) {
        json_obj_begin(j);
        json_key(j, "t"); json_dbl(j, r->timeline.e[e].t);
        json_key(j, "what"); json_str(j, r->timeline.e[e].what);
        json_key(j, "why"); json_str(j, r->timeline.e[e].why);
        json_obj_end(j);
    }
    json_arr_end(j);
    if (r->timeline.dropped) {   /* only then: results without it stay as they were */
        json_key(j, "timeline_dropped");
        json_u64(j, r->timeline.dropped);
    }
    const struct series *s = &r->series;
    json_key(j, "series");
    json_obj_begin(j);
    json_key(j, "interval_s"); json_dbl(j, s->interval_s);
    json_key(j, "time_s");
    json_arr_begin(j);
    for (uint32_t i = 0; i < s->n; i++)
        json_dbl(j, s->t[i]);
    json_arr_end(j);
    json_key(j, "counters");
    json_obj_begin(j);
    for (unsigned c = 0; c < CNT__N; c++) {
        int any = 0;
        for (uint32_t i = 0; i < s->n; i++)
            any |= s->cnt[i * CNT__N + c] != 0;
        if (!any)
            continue;
        json_key(j, mv_counter_names[c]);
        json_arr_begin(j);
        for (uint32_t i = 0; i < s->n; i++)
            json_u64(j, s->cnt[i * CNT__N + c]);
        json_arr_end(j);
    }
    json_obj_end(j);
    json_key(j, "gauges");
    json_obj_begin(j);
    for (unsigned g = 0; g < s->ngauge; g++) {
        json_key(j, s->gauge_name[g]);
        json_arr_begin(j);
        for (uint32_t i = 0; i < s->n; i++)
            json_dbl(j, s->gauge[i * s->ngauge + g]);
        json_arr_end(j);
    }
    json_obj_end(j);
    json_obj_end(j);
    json_obj_end(j);
}

/* The modes of the runs, in order. */
static unsigned run_modes(const struct run_result *r, unsigned n, const char **names)
{
    for (unsigned i = 0; i < n; i++)
        names[i] = r[i].mode;
    return n;
}

int report_json(FILE *f, const struct sim_config *cfg, const struct run_result *r, unsigned n)
{
    const char **names = mv_calloc(n, sizeof *names);
    struct json j;
    json_init(&j, f);
    json_obj_begin(&j);
    json_key(&j, "memvirt"); json_str(&j, "1");
    config_json_write(&j, cfg, names, run_modes(r, n, names));
    json_key(&j, "runs");
    json_arr_begin(&j);
    for (unsigned i = 0; i < n; i++)
        json_run(&j, &r[i]);
    json_arr_end(&j);
    json_obj_end(&j);
    free(names);
    return json_finish(&j);
}

int report_csv(FILE *f, const struct sim_config *cfg, const struct run_result *r, unsigned n)
{
    const char **names = mv_calloc(n, sizeof *names);
    fprintf(f, "mode,workload,kind,name,time_s,value\n");
    config_csv_write(f, cfg, names, run_modes(r, n, names));
    free(names);
    for (unsigned i = 0; i < n; i++) {
        const struct run_result *x = &r[i];
        fprintf(f, "%s,%s,run,sim_seconds,,%.9g\n", x->mode, x->workload, x->sim_seconds);
        if (x->timeline.dropped)
            fprintf(f, "%s,%s,run,timeline_dropped,,%llu\n", x->mode, x->workload,
                    (unsigned long long)x->timeline.dropped);
        for (unsigned c = 0; c < CNT__N; c++)
            fprintf(f, "%s,%s,counter,%s,,%llu\n", x->mode, x->workload, mv_counter_names[c],
                    (unsigned long long)x->st.cnt[c]);
        for (unsigned c = 0; c < CYC__N; c++)
            fprintf(f, "%s,%s,cycles,%s,,%llu\n", x->mode, x->workload, mv_cycle_names[c],
                    (unsigned long long)x->st.cyc[c]);
        fprintf(f, "%s,%s,cycles,total,,%llu\n", x->mode, x->workload, (unsigned long long)x->st.now);
        for (unsigned m = 0; m < x->metrics.n; m++)
            fprintf(f, "%s,%s,metric,%s,,%.9g\n", x->mode, x->workload, x->metrics.m[m].name,
                    x->metrics.m[m].value);
        for (unsigned e = 0; e < x->timeline.n; e++) {
            fprintf(f, "%s,%s,event,%s,%.9g,\"", x->mode, x->workload, x->timeline.e[e].what,
                    x->timeline.e[e].t);
            for (const char *p = x->timeline.e[e].why; *p; p++)
                fputs(*p == '"' ? "\"\"" : (char[2]){ *p, 0 }, f);
            fputs("\"\n", f);
        }
        for (uint32_t s = 0; s < x->series.n; s++) {
            for (unsigned c = 0; c < CNT__N; c++)
                if (x->series.cnt[s * CNT__N + c])
                    fprintf(f, "%s,%s,series,%s,%.9g,%llu\n", x->mode, x->workload, mv_counter_names[c],
                            x->series.t[s], (unsigned long long)x->series.cnt[s * CNT__N + c]);
            for (unsigned g = 0; g < x->series.ngauge; g++)
                fprintf(f, "%s,%s,gauge,%s,%.9g,%.9g\n", x->mode, x->workload, x->series.gauge_name[g],
                        x->series.t[s], x->series.gauge[s * x->series.ngauge + g]);
        }
    }
    return ferror(f) ? -1 : 0;
}

int report_files_open(struct report_files *rf, const char *json, const char *csv)
{
    memset(rf, 0, sizeof *rf);
    rf->json = rf->csv = -1;
    if (json) {
        if (outset_add(&rf->set, "--json", json))
            return -1;
        rf->json = (int)rf->set.n - 1;
    }
    if (csv) {
        if (outset_add(&rf->set, "--csv", csv))
            return -1;
        rf->csv = (int)rf->set.n - 1;
    }
    return 0;
}

int report_files_use_stdout(const struct report_files *rf)
{
    return outset_uses_stdout(&rf->set);
}

int report_files_commit(struct report_files *rf, const struct sim_config *cfg, const struct run_result *r,
                        unsigned n)
{
    /* a stream in error is a write that failed (a full disk): its reason,
     * not a formatting error */
    if (rf->json >= 0 && report_json(outset_stream(&rf->set, (unsigned)rf->json), cfg, r, n))
        return ferror(outset_stream(&rf->set, (unsigned)rf->json))
                   ? outset_stream_failed(&rf->set, (unsigned)rf->json)
                   : mv_error("--json: internal error formatting the document");
    if (rf->csv >= 0 && report_csv(outset_stream(&rf->set, (unsigned)rf->csv), cfg, r, n))
        return ferror(outset_stream(&rf->set, (unsigned)rf->csv)) ? outset_stream_failed(&rf->set, (unsigned)rf->csv)
                                                                  : mv_error("--csv: internal error formatting the rows");
    return outset_commit(&rf->set);
}

void report_files_close(struct report_files *rf)
{
    outset_free(&rf->set);
}

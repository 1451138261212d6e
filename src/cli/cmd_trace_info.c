/* cmd_trace_info.c: `memvirt trace info FILE`: what a trace holds (header,
 * records by kind, processes, threads, time span, pages touched) and, for
 * each process image, the page-table pages its real kernel used (VmPTE,
 * captured by `trace record`) next to what memvirt's guest kernel allocates
 * for it when the trace is replayed (native mode, counted at the same
 * points: the exit, or the exec that replaced the image).
 *
 * VmPTE is mm->pgtables_bytes: PTE, PMD and PUD pages, not the PGD; the
 * guest's count is taken the same way (its pt_pages less the pgd). */
#include "cli/cli.h"
#include "guest/kernel.h"
#include "lib/err.h"
#include "lib/text.h"
#include "sim/config.h"
#include "sim/engine.h"
#include "sim/machine.h"
#include "trace/check.h"
#include "trace/reader.h"
#include <stdlib.h>
#include <string.h>

/* A u64 -> u64 map (open addressing). Every 64-bit key is usable: a slot's
 * use is kept apart from its key (a marker bit in the key would clobber the
 * key's own top bit, and the image key holds a full 32-bit pid there). */
struct map { uint64_t *k, *v; unsigned char *used; uint64_t n, cap; };

static uint64_t *map_slot(struct map *m, uint64_t key, int add)
{
    if (add && 2 * (m->n + 1) > m->cap) {
        struct map o = *m;
        m->cap = o.cap ? o.cap * 2 : 1024;
        m->k = mv_calloc(m->cap, sizeof *m->k);
        m->v = mv_calloc(m->cap, sizeof *m->v);
        m->used = mv_calloc(m->cap, sizeof *m->used);
        m->n = 0;
        for (uint64_t i = 0; i < o.cap; i++)
            if (o.used[i])
                *map_slot(m, o.k[i], 1) = o.v[i];
        free(o.k);
        free(o.v);
        free(o.used);
    }
    if (!m->cap)
        return NULL;
    uint64_t h = (key * 0x9e3779b97f4a7c15ull) >> 17;
    for (uint64_t i = h & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        if (m->used[i] && m->k[i] == key)
            return &m->v[i];
        if (!m->used[i]) {
            if (!add)
                return NULL;
            m->k[i] = key;
            m->used[i] = 1;
            m->n++;
            return &m->v[i];
        }
    }
}

static void map_free(struct map *m)
{
    free(m->k);
    free(m->v);
    free(m->used);
}

/* Pages touched, counted per process: a sparse bitmap of (pid, page), one
 * bit per page, kept as 64-bit words in a map keyed by (pid, page / 64), so
 * a run of touched pages costs a few bits each (a 16-byte entry, at most
 * half the map full, per 64 pages), and a lone page no more than the exact
 * set's entry did. The key keeps every bit of both: pid (32 bits) above
 * page / 64 (29 bits: pages lie below 2^35). */
#define PAGESET_WORD_SHIFT 29
_Static_assert(TRACE_USER_END >> 12 >> 6 <= 1ull << PAGESET_WORD_SHIFT, "page / 64 fits its field");
_Static_assert(32 + PAGESET_WORD_SHIFT <= 64, "pid and page / 64 fit the key");
/* The set's memory is bounded: at most PAGESET_MAX_WORDS words (the map
 * then holds 2^22 slots, 68 MB). A trace's references are compressed: 11 KB
 * of them touching one page in 64 each across a 2^45-byte mapping made 12
 * million words, 800 MB, and 42 KB made 3.2 GB. Past the bound the count
 * stops, and `trace info` says it is a lower bound, naming the record
 * where it stopped. A simplification: an exact count of distinct pages
 * needs memory proportional to them, and this is only a summary line. */
#define PAGESET_MAX_WORDS (1ull << 21)
struct pageset { struct map words; uint64_t n; uint64_t full_at; };

/* 0, or -1 when the page is not counted: the set is full. */
static int pageset_add(struct pageset *s, uint32_t pid, uint64_t addr)
{
    uint64_t page = addr >> 12, bit = 1ull << (page & 63);
    uint64_t key = (uint64_t)pid << PAGESET_WORD_SHIFT | page >> 6;
    uint64_t *w = map_slot(&s->words, key, s->words.n < PAGESET_MAX_WORDS);
    if (!w)
        return -1;
    if (!(*w & bit)) {
        *w |= bit;
        s->n++;
    }
    return 0;
}

/* One process image: what the trace and the replay say of it. */
struct image {
    uint32_t pid, seq;
    char *path;
    int64_t real[2], guest[2];          /* [at]: pages, -1 unknown */
};

struct info {
    struct image *im;
    uint64_t nim, capim;
    struct map idx;                     /* pid<<32|seq -> image index + 1 */
    struct map seq;                     /* pid -> current image (trace side / replay side) */
};

static struct image *image(struct info *in, uint32_t pid, uint32_t seq, int add)
{
    uint64_t *s = map_slot(&in->idx, (uint64_t)pid << 32 | seq, add);
    if (!s)
        return NULL;
    if (!*s) {
        if (in->nim == in->capim) {
            in->capim = in->capim ? in->capim * 2 : 64;
            in->im = mv_realloc(in->im, in->capim * sizeof *in->im);
        }
        in->im[in->nim] = (struct image){ pid, seq, NULL, { -1, -1 }, { -1, -1 } };
        *s = ++in->nim;
    }
    return &in->im[*s - 1];
}

struct observer { struct info *in; struct map seq; };

static void observe(void *ctx, struct kernel *k, const struct event *ev)
{
    struct observer *o = ctx;
    struct task *t = task_find(k, ev->pid);
    uint64_t *s;
    switch (ev->type) {
    case EV_SPAWN:
        *map_slot(&o->seq, ev->pid, 1) = 0;
        break;
    case EV_FORK:
        *map_slot(&o->seq, ev->child, 1) = 0;
        break;
    case EV_EXEC:
    case EV_EXIT:
        if (!t || !t->mm)
            break;
        s = map_slot(&o->seq, ev->pid, 1);
        struct image *im = image(o->in, ev->pid, (uint32_t)*s, 0);
        if (im) {
            int at = ev->type == EV_EXEC;
            int64_t pages = (int64_t)(t->mm->pt_pages - 1 - (t->mm->user_pgd ? 1 : 0));
            if (pages > im->guest[at])
                im->guest[at] = pages;
        }
        if (ev->type == EV_EXEC)
            ++*s;
        break;
    default:
        break;
    }
}

/* The replay's guest takes the recording kernel's vm.mmap_min_addr where
 * the trace's header gives it (min_addr, NULL: the guest's default). */
static int replay(const char *path, const char *min_addr, struct info *in)
{
    struct sim_config cfg;
    char kv[4200];
    if (config_init(&cfg, "trace"))
        return -1;
    snprintf(kv, sizeof kv, "trace.file=%s", path);
    struct observer o = { in, { 0 } };
    int rc = config_param(&cfg, kv) || config_param(&cfg, "trace.idle=false");
    if (!rc && min_addr) {
        snprintf(kv, sizeof kv, "guest.mmap_min_addr=%.64s", min_addr);
        rc = config_param(&cfg, kv);
    }
    cfg.quiet = 1;
    cfg.observe = observe;
    cfg.observe_ctx = &o;
    struct run_result res;
    if (!rc)
        rc = engine_run(&cfg, mode_find("native"), &res);
    if (!rc)
        run_result_free(&res);
    config_free(&cfg);
    map_free(&o.seq);
    return rc;
}

static void show_pages(int64_t v)
{
    if (v < 0)
        printf(" %9s", "-");
    else
        printf(" %9lld", (long long)v);
}

int cmd_trace_info(int argc, char **argv)
{
    if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
        fputs("usage: memvirt trace info [--] FILE\n"
              "Shows a trace's header, its events by kind, processes and threads, time span, pages\n"
              "touched, and for each process image the page-table pages the real kernel reported\n"
              "(VmPTE) beside memvirt's count on replay (docs/traces.md).\n\n", stdout);
        fputs(EXIT_STATUS_HELP, stdout);
        fputs("\nexample:\n  memvirt trace info ls.mvt\n", stdout);
        return EXIT_OK;
    }
    if (argc >= 2 && !strcmp(argv[1], "--")) {   /* the end of the options: a file may start with '-' */
        argv++;
        argc--;
    } else if (argc == 2 && argv[1][0] == '-' && argv[1][1]) {   /* ./-name or -- -name for a file named so */
        mv_error("trace info: unknown option '%s' (see 'memvirt trace info --help')", argv[1]);
        return EXIT_USAGE;
    }
    if (argc != 2) {
        mv_error("trace info: expected one trace file");
        return EXIT_USAGE;
    }
    const char *path = argv[1];
    /* read twice (the table, then the replay): a pipe was empty the second
     * time, after half the output; a FIFO with no writer blocked the open */
    if (trace_check_regular(path))
        return EXIT_USAGE;
    struct trace_reader *r = trace_open(path);
    if (!r)
        return EXIT_USAGE;
    /* The header's mmap_min_addr (trace_open refused one that is not a
     * byte address) sets the replay's guest; the reader is closed by then */
    const char *hdr_min = trace_header_get(r, "mmap_min_addr");
    char *min_addr = hdr_min ? mv_strdup(hdr_min) : NULL;
    uint64_t kinds[TR__N] = { 0 }, refs[3] = { 0 }, nrec = 0, last_t = 0, procs = 0, threads = 0;
    struct pageset pages = { { 0 }, 0, 0 };
    struct info in = { 0 };
    struct trace_check ck = { 0 };
    struct trace_rec rec;
    int rc;
    while ((rc = trace_next(r, &rec)) == 1) {
        nrec++;
        kinds[rec.kind]++;
        last_t = rec.t;
        uint64_t *s;
        switch (rec.kind) {
        case TR_SPAWN:
            procs++;
            *map_slot(&in.seq, rec.pid, 1) = 0;
            image(&in, rec.pid, 0, 1);
            break;
        case TR_FORK:
            if (rec.flags & TRF_THREAD)
                threads++;
            else
                procs++;
            *map_slot(&in.seq, rec.child, 1) = 0;
            if (!(rec.flags & TRF_THREAD))
                image(&in, rec.child, 0, 1);
            break;
        case TR_EXEC: {
            s = map_slot(&in.seq, rec.pid, 1);
            struct image *im = image(&in, rec.pid, (uint32_t)++*s, 1);
            free(im->path);
            im->path = mv_strdup(rec.path);
            break;
        }
        case TR_REFS:
            for (uint32_t i = 0; i < rec.nref; i++) {
                refs[TRACE_REF_KIND(rec.ref[i])]++;
                if (!pages.full_at && pageset_add(&pages, rec.pid, TRACE_REF_ADDR(rec.ref[i])))
                    pages.full_at = trace_record_number(r);
            }
            break;
        case TR_PTINFO: {
            /* an image the trace made: trace_check_record refused others */
            struct image *im = image(&in, rec.pid, rec.pt.seq, 0);
            if (im)
                im->real[rec.pt.at] = (int64_t)(rec.pt.bytes / 4096);
            break;
        }
        default:
            break;
        }
        if (trace_check_record(&ck, r, &rec)) {
            rc = -1;
            break;
        }
    }
    /* Nothing is printed until the whole trace has been read: a trace
     * refused at any record says so on standard error alone. The trace's
     * name, its header's values (the import's command line names the logs)
     * and the exec paths come from outside: their control characters are
     * shown as '?', never sent to the terminal. */
    if (rc >= 0) {
        fputs("trace ", stdout);
        text_put_line_safe(stdout, path);
        printf(" (format version %d)\n", TRACE_VERSION);
        for (unsigned i = 0; i < trace_header_count(r); i++) {
            const char *key = trace_header_key(r, i);
            const size_t len = strlen(key);
            fputs("  ", stdout);
            text_put_line_safe(stdout, key);
            printf("%*s ", len < 13 ? (int)(13 - len) : 0, "");   /* as "%-13s " */
            text_put_line_safe(stdout, trace_header_value(r, i));
            putchar('\n');
        }
    }
    trace_close(r);
    trace_check_free(&ck);
    int ret = EXIT_OK;
    if (rc < 0) {
        map_free(&pages.words);
        free(min_addr);
        ret = EXIT_USAGE;
        goto out;
    }
    printf("\nrecords    %llu over %.3f s (recorded time)\n", (unsigned long long)nrec, (double)last_t / 1e9);
    printf("by kind   ");
    for (unsigned k = TR_SPAWN; k < TR__N; k++)
        if (kinds[k])
            printf(" %s %llu", trace_kind_name((enum trace_kind)k), (unsigned long long)kinds[k]);
    printf("\nprocesses  %llu (and %llu threads)\n", (unsigned long long)procs, (unsigned long long)threads);
    printf("references %llu (read %llu, write %llu, fetch %llu)\n",
           (unsigned long long)(refs[0] + refs[1] + refs[2]), (unsigned long long)refs[0],
           (unsigned long long)refs[1], (unsigned long long)refs[2]);
    if (pages.full_at)
        printf("pages touched at least %llu (4 KiB pages, counted per process; the count stopped at record %llu, "
               "past %llu distinct 64-page words, the bound on its memory)\n",
               (unsigned long long)pages.n, (unsigned long long)pages.full_at,
               (unsigned long long)PAGESET_MAX_WORDS);
    else
        printf("pages touched %llu (4 KiB pages, counted per process)\n", (unsigned long long)pages.n);
    map_free(&pages.words);

    rc = replay(path, min_addr, &in);
    free(min_addr);
    if (rc)
        ret = rc == ENGINE_GUEST_OOM ? EXIT_GUEST_OOM : EXIT_FAIL;
    printf("\npage-table pages per process image (PTE+PMD+PUD; VmPTE / 4 KiB on the real kernel)\n");
    printf("%9s %4s %9s %9s %6s  %s\n", "pid", "img", "real", "memvirt", "diff", "program (at exit, or * at the exec that ended it)");
    uint64_t compared = 0, within = 0;
    for (uint64_t i = 0; i < in.nim; i++) {
        struct image *im = &in.im[i];
        int at = im->real[0] >= 0 || im->guest[0] >= 0 ? 0 : 1;
        if (im->real[at] < 0 && im->guest[at] < 0)
            continue;
        printf("%9u %4u", im->pid, im->seq);
        show_pages(im->real[at]);
        show_pages(rc ? -1 : im->guest[at]);
        if (im->real[at] >= 0 && im->guest[at] >= 0 && !rc) {
            int64_t d = im->guest[at] - im->real[at];
            printf(" %+6lld", (long long)d);
            compared++;
            within += d >= -1 && d <= 1;
        } else {
            printf(" %6s", "");
        }
        printf("  %s", at ? "*" : "");
        text_put_line_safe(stdout, im->path ? im->path : "(forked, no exec)");
        putchar('\n');
    }
    if (compared)
        printf("within one page: %llu of %llu images\n", (unsigned long long)within, (unsigned long long)compared);
out:
    for (uint64_t i = 0; i < in.nim; i++)
        free(in.im[i].path);
    free(in.im);
    map_free(&in.idx);
    map_free(&in.seq);
    return ret;
}

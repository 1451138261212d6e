/* test_pv_transitions.c: the kernel entries and returns a 64-bit Xen PV
 * guest pays for, run through the engine on small traces. A system call
 * from user mode enters Xen, which bounces it to the guest kernel
 * (xen/arch/x86/x86_64/entry.S: switch_to_kernel, create_bounce_frame):
 * one PV trap, counted in vm_exits_syscall. Every return to user mode, after
 * a system call or a fault, is the iret hypercall (Linux's xen_iret, Xen's
 * do_iret): one hypercall, counted in hc_iret. Bare metal and the
 * hardware-virtualized modes pay neither: SYSCALL, SYSRET and IRET run
 * without an exit. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>
#include <unistd.h>

#include "sim/engine.h"
#include "trace/writer.h"
#include "testutil.h"

#define DATA 0x10000000ull

static const struct trace_seg seg[2] = {
    { 0x400000, 0x2000, TRP_READ | TRP_EXEC, TRS_FILE, 0, 1, 2, 0 },
    { 0x7ffffffde000ull, 0x21000, TRP_READ | TRP_WRITE, TRS_STACK, 0, 0, 0, 0 },
};
static const uint64_t page0 = DATA | TRR_WRITE;
static const uint64_t page0_again[2] = { DATA | TRR_WRITE, DATA | TRR_READ };
static const uint64_t page1 = (DATA + PAGE_SIZE) | TRR_WRITE;

/* The base trace: spawn, exec, mmap, one write (a fault), exit. */
#define REC_SPAWN { .kind = TR_SPAWN, .pid = 1 }
#define REC_EXEC { .kind = TR_EXEC, .pid = 1, .path = "/x", .seg = seg, .nseg = 2 }
#define REC_MMAP { .kind = TR_MMAP, .pid = 1, .addr = DATA, .len = 4 * PAGE_SIZE, \
                   .prot = TRP_READ | TRP_WRITE, .flags = TRM_ANON }
#define REC_REF0 { .kind = TR_REFS, .pid = 1, .ref = &page0, .nref = 1 }
#define REC_EXIT { .kind = TR_EXIT, .pid = 1 }

/* The run of trace r[0..n) under mode. */
static struct run_result run_trace(const char *mode, const struct trace_rec *r, unsigned n)
{
    static const char *K[] = { "command" }, *V[] = { "test" };
    char path[64], kv[96];
    tu_tmpname(path, sizeof path, "pvtrans");
    struct trace_writer *w = trace_writer_open(path, K, V, 1);
    assert_non_null(w);
    for (unsigned i = 0; i < n; i++)
        assert_int_equal(trace_write(w, &r[i]), 0);
    assert_int_equal(trace_writer_commit(w), 0);
    struct sim_config cfg;
    assert_int_equal(config_init(&cfg, "trace"), 0);
    cfg.check = 1;
    cfg.quiet = 1;
    snprintf(kv, sizeof kv, "trace.file=%s", path);
    assert_int_equal(config_param(&cfg, kv), 0);
    assert_int_equal(config_param(&cfg, "guest.ram_mb=256"), 0);
    assert_int_equal(config_validate(&cfg), 0);
    const struct mode_def *md = mode_find(mode);
    assert_non_null(md);
    assert_int_equal(mode_validate(md, &cfg), 0);
    struct run_result res;
    if (engine_run(&cfg, md, &res))
        fail_msg("%s: %s", mode, mv_last_error());
    unlink(path);
    config_free(&cfg);
    return res;
}

/* The default profile's costs (the runs' own). */
static struct cost dflt(void)
{
    struct cost c;
    assert_int_equal(cost_load_profile(&c, "default"), 0);
    return c;
}

#define RUN(mode, recs) run_trace(mode, recs, sizeof recs / sizeof recs[0])
#define C(res, name) ((res).st.cnt[CNT_##name])

/* Under pv the base trace pays exactly: a bounce for each of its three
 * system calls (exec, mmap, exit), and an iret for each return to user:
 * the first task's first (after its spawn), exec's, mmap's and the
 * fault's; exit does not return. */
static void test_pv_base_trace(void **state)
{
    (void)state;
    const struct trace_rec base[] = { REC_SPAWN, REC_EXEC, REC_MMAP, REC_REF0, REC_EXIT };
    for (unsigned i = 0; i < 2; i++) {
        struct run_result a = RUN(i ? "pv-pibooster" : "pv", base);
        assert_int_equal(C(a, vm_exits_syscall), 3);
        assert_int_equal(C(a, hc_iret), 4);
        assert_int_equal(C(a, vm_exits_pf), 1);
        run_result_free(&a);
    }
}

/* One system call more (brk(0), which changes nothing): one bounce and one
 * iret more under pv, each a transition charged cost.hypercall; under
 * native and hap the call costs cost.syscall alone. */
static void test_one_syscall(void **state)
{
    (void)state;
    const struct trace_rec base[] = { REC_SPAWN, REC_EXEC, REC_MMAP, REC_REF0, REC_EXIT };
    const struct trace_rec more[] = { REC_SPAWN, REC_EXEC, REC_MMAP, REC_REF0,
                                      { .kind = TR_BRK, .pid = 1, .addr = 0 }, REC_EXIT };
    struct run_result a = RUN("pv", base), b = RUN("pv", more);
    assert_int_equal(C(b, vm_exits_syscall) - C(a, vm_exits_syscall), 1);
    assert_int_equal(C(b, hc_iret) - C(a, hc_iret), 1);
    assert_int_equal(C(b, hypercalls) - C(a, hypercalls), 1);          /* the iret */
    assert_int_equal(C(b, vm_exits_hypercall) - C(a, vm_exits_hypercall), 1);
    assert_int_equal(C(b, vm_exits) - C(a, vm_exits), 2);              /* the bounce and the iret */
    assert_int_equal(b.st.cyc[CYC_exits] - a.st.cyc[CYC_exits], 2 * dflt().hypercall);
    run_result_free(&a);
    run_result_free(&b);
    const char *const others[] = { "native", "hap" };
    for (unsigned i = 0; i < 2; i++) {
        a = RUN(others[i], base);
        b = RUN(others[i], more);
        assert_int_equal(C(b, hc_iret) + C(b, vm_exits_syscall) + C(b, vm_exits_hypercall), 0);
        assert_int_equal(C(b, vm_exits), C(a, vm_exits));              /* none under native; hap's EPT fills */
        assert_int_equal(b.st.now - a.st.now, dflt().syscall);
        run_result_free(&a);
        run_result_free(&b);
    }
}

/* One fault more (a write to a page not yet mapped): the trap into Xen
 * that bounces it, as before, and now the iret back to user mode; native
 * and hap return with a plain IRET. */
static void test_one_fault(void **state)
{
    (void)state;
    const struct trace_rec base[] = { REC_SPAWN, REC_EXEC, REC_MMAP, REC_REF0, REC_EXIT };
    const struct trace_rec more[] = { REC_SPAWN, REC_EXEC, REC_MMAP, REC_REF0,
                                      { .kind = TR_REFS, .pid = 1, .ref = &page1, .nref = 1 }, REC_EXIT };
    struct run_result a = RUN("pv", base), b = RUN("pv", more);
    assert_int_equal(C(b, guest_pf) - C(a, guest_pf), 1);
    assert_int_equal(C(b, vm_exits_pf) - C(a, vm_exits_pf), 1);
    assert_int_equal(C(b, hc_iret) - C(a, hc_iret), 1);
    assert_int_equal(C(b, vm_exits_syscall), C(a, vm_exits_syscall));
    run_result_free(&a);
    run_result_free(&b);
    const char *const others[] = { "native", "hap" };
    for (unsigned i = 0; i < 2; i++) {
        a = RUN(others[i], base);
        b = RUN(others[i], more);
        assert_int_equal(C(b, guest_pf) - C(a, guest_pf), 1);
        assert_int_equal(C(b, hc_iret) + C(b, vm_exits_syscall) + C(b, vm_exits_hypercall), 0);
        assert_int_equal(C(b, vm_exits_pf), 0);
        run_result_free(&a);
        run_result_free(&b);
    }
}

/* References that do not fault enter no kernel and return from none: no
 * iret, though the simulator returns to user before each event. */
static void test_no_fault_no_iret(void **state)
{
    (void)state;
    const struct trace_rec base[] = { REC_SPAWN, REC_EXEC, REC_MMAP, REC_REF0, REC_EXIT };
    const struct trace_rec more[] = { REC_SPAWN, REC_EXEC, REC_MMAP, REC_REF0,
                                      { .kind = TR_REFS, .pid = 1, .ref = page0_again, .nref = 2 }, REC_EXIT };
    struct run_result a = RUN("pv", base), b = RUN("pv", more);
    assert_int_equal(C(b, guest_pf), C(a, guest_pf));
    assert_int_equal(C(b, hc_iret), C(a, hc_iret));
    assert_int_equal(C(b, hypercalls), C(a, hypercalls));
    run_result_free(&a);
    run_result_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pv_base_trace),
        cmocka_unit_test(test_one_syscall),
        cmocka_unit_test(test_one_fault),
        cmocka_unit_test(test_no_fault_no_iret),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

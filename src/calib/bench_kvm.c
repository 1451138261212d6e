/* bench_kvm.c: the VM exit round trip (cost.vm_exit), through /dev/kvm.
 *
 * A minimal guest is set up with the KVM API: 2 MiB of memory, an identity
 * map with one 2 MiB page, 64-bit long mode at CPL 0. Its code (below):
 *   1. a loop of `dec; jnz`, timed with RDTSC inside the guest: if it costs
 *      far more than a cycle or two per iteration, the guest is not running
 *      natively (an emulator or a software hypervisor runs it), and no
 *      figure from it is a hardware VM exit;
 *   2. a loop of CPUID, which always exits and which the kernel handles
 *      without going to user space: timed inside the guest, minus the
 *      loop's own cost, one exit and re-entry;
 *   3. HLT, which (with no in-kernel interrupt controller) returns to us;
 *   4. `out` to a port, forever: each one is an exit to user space and a
 *      KVM_RUN back, timed from user space.
 * On a machine that is itself a virtual machine, every exit of this guest
 * is an exit of a nested guest, handled (at least partly) by the outer
 * hypervisor: the figures are nested figures. */
#define _GNU_SOURCE
#include "calib/calib.h"
#include "lib/err.h"
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

__asm__(".pushsection .rodata\n"
        ".globl calib_guest_start, calib_guest_end\n"
        "calib_guest_start:\n"
        ".code64\n"
        "  mov $0x500, %edi\n"
        "  mov (%rdi), %esi\n"
        "  rdtsc\n  mov %eax, 8(%rdi)\n  mov %edx, 12(%rdi)\n"
        "1: dec %esi\n  jnz 1b\n"
        "  rdtsc\n  mov %eax, 16(%rdi)\n  mov %edx, 20(%rdi)\n"
        "  mov 4(%rdi), %esi\n"
        "  rdtsc\n  mov %eax, 24(%rdi)\n  mov %edx, 28(%rdi)\n"
        "2: xor %eax, %eax\n  cpuid\n  dec %esi\n  jnz 2b\n"
        "  rdtsc\n  mov %eax, 32(%rdi)\n  mov %edx, 36(%rdi)\n"
        "  hlt\n"
        "3: out %al, $0x10\n  jmp 3b\n"
        "calib_guest_end:\n"
        ".popsection\n");
extern const unsigned char calib_guest_start[], calib_guest_end[];

#define MEM (2u << 20)
#define CODE 0x1000
#define DATA 0x500
#define PML4 0x10000
#define PIO_TRIPS 100   /* per sample */

struct vm {
    int kvm, fd, vcpu;
    uint8_t *mem;
    struct kvm_run *run;
    size_t run_size;
};

static void vm_close(struct vm *v)
{
    if (v->run && v->run != MAP_FAILED)
        munmap(v->run, v->run_size);
    if (v->mem && v->mem != MAP_FAILED)
        munmap(v->mem, MEM);
    if (v->vcpu >= 0) close(v->vcpu);
    if (v->fd >= 0) close(v->fd);
    if (v->kvm >= 0) close(v->kvm);
}

static int fail(struct kvm_result *out, const char *what)
{
    snprintf(out->why, sizeof out->why, "%s: %s", what, strerror(errno));
    return -1;
}

static int vm_open(struct vm *v, struct kvm_result *out)
{
    *v = (struct vm){ .kvm = -1, .fd = -1, .vcpu = -1 };
    if ((v->kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC)) < 0)
        return fail(out, "/dev/kvm");
    if ((v->fd = ioctl(v->kvm, KVM_CREATE_VM, 0)) < 0)
        return fail(out, "KVM_CREATE_VM");
    v->mem = mmap(NULL, MEM, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (v->mem == MAP_FAILED)
        return fail(out, "guest memory");
    memcpy(v->mem + CODE, calib_guest_start, (size_t)(calib_guest_end - calib_guest_start));
    uint64_t *pml4 = (uint64_t *)(v->mem + PML4), *pdpt = pml4 + 512, *pd = pdpt + 512;
    pml4[0] = (PML4 + 0x1000) | 3;
    pdpt[0] = (PML4 + 0x2000) | 3;
    pd[0] = 0x83;   /* present, writable, 2 MiB page at 0 */
    struct kvm_userspace_memory_region r = { .slot = 0, .guest_phys_addr = 0, .memory_size = MEM,
                                             .userspace_addr = (uintptr_t)v->mem };
    if (ioctl(v->fd, KVM_SET_USER_MEMORY_REGION, &r))
        return fail(out, "KVM_SET_USER_MEMORY_REGION");
    if ((v->vcpu = ioctl(v->fd, KVM_CREATE_VCPU, 0)) < 0)
        return fail(out, "KVM_CREATE_VCPU");
    int sz = ioctl(v->kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
    if (sz <= 0)
        return fail(out, "KVM_GET_VCPU_MMAP_SIZE");
    v->run_size = (size_t)sz;
    v->run = mmap(NULL, v->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->vcpu, 0);
    if (v->run == MAP_FAILED)
        return fail(out, "mmap kvm_run");
    return 0;
}

/* Start the guest at its entry in 64-bit mode. */
static int vm_reset(struct vm *v, struct kvm_result *out)
{
    struct kvm_sregs sr;
    if (ioctl(v->vcpu, KVM_GET_SREGS, &sr))
        return fail(out, "KVM_GET_SREGS");
    struct kvm_segment cs = { .base = 0, .limit = 0xffffffff, .selector = 0x10, .type = 11, .present = 1,
                              .s = 1, .l = 1, .g = 1 };
    struct kvm_segment ds = { .base = 0, .limit = 0xffffffff, .selector = 0x18, .type = 3, .present = 1,
                              .s = 1, .db = 1, .g = 1 };
    sr.cs = cs;
    sr.ds = sr.es = sr.fs = sr.gs = sr.ss = ds;
    sr.cr3 = PML4;
    sr.cr4 = 1u << 5;                       /* PAE */
    sr.cr0 = 0x80050033;                    /* PG, AM, WP, NE, ET, MP, PE */
    sr.efer = (1u << 8) | (1u << 10);       /* LME, LMA */
    if (ioctl(v->vcpu, KVM_SET_SREGS, &sr))
        return fail(out, "KVM_SET_SREGS");
    struct kvm_regs rg = { .rip = CODE, .rflags = 2, .rsp = 0x8000 };
    if (ioctl(v->vcpu, KVM_SET_REGS, &rg))
        return fail(out, "KVM_SET_REGS");
    return 0;
}

/* Run the two timed loops and stop at HLT. Guest TSC ticks per iteration. */
static int vm_loops(struct vm *v, uint32_t n_loop, uint32_t n_cpuid, double *loop, double *cpuid,
                    struct kvm_result *out)
{
    uint32_t *d = (uint32_t *)(v->mem + DATA);
    d[0] = n_loop;
    d[1] = n_cpuid;
    if (vm_reset(v, out))
        return -1;
    if (ioctl(v->vcpu, KVM_RUN, 0))
        return fail(out, "KVM_RUN");
    if (v->run->exit_reason != KVM_EXIT_HLT) {
        snprintf(out->why, sizeof out->why, "the guest stopped with exit reason %u, not HLT", v->run->exit_reason);
        return -1;
    }
    uint64_t *t = (uint64_t *)(v->mem + DATA + 8);
    *loop = (double)(t[1] - t[0]) / n_loop;
    *cpuid = (double)(t[3] - t[2]) / n_cpuid;
    return 0;
}

void bench_kvm(const struct calib *c, struct kvm_result *out)
{
    memset(out, 0, sizeof *out);
    struct vm v;
    if (vm_open(&v, out)) {
        vm_close(&v);
        return;
    }
    /* A short probe decides the loop lengths: an emulated guest is slow. */
    double loop, cpuid;
    if (vm_loops(&v, 1000, 100, &loop, &cpuid, out)) {
        vm_close(&v);
        return;
    }
    out->ok = 1;
    out->native = loop < 20;
    /* samples of about a millisecond */
    uint32_t n_loop = out->native ? 2000000 : 500, n_cpuid = 500;
    unsigned reps = c->reps;
    double *a = mv_calloc(3 * reps, sizeof *a), *b = a + reps, *p = b + reps;
    for (unsigned i = 0; i < reps; i++) {
        if (vm_loops(&v, n_loop, n_cpuid, &loop, &cpuid, out)) {
            out->ok = 0;
            break;
        }
        a[i] = loop / c->tsc_ghz;
        b[i] = (cpuid - loop) / c->tsc_ghz;   /* minus the loop's own dec/jnz */
        /* now at the `out` loop: time exits to user space and back */
        uint64_t t0 = calib_tsc();
        for (int k = 0; k < PIO_TRIPS; k++) {
            if (ioctl(v.vcpu, KVM_RUN, 0) || v.run->exit_reason != KVM_EXIT_IO) {
                snprintf(out->why, sizeof out->why, "port I/O loop: exit reason %u", v.run->exit_reason);
                out->ok = 0;
                break;
            }
        }
        p[i] = calib_ns(c, calib_tsc() - t0) / PIO_TRIPS;
        if (!out->ok)
            break;
    }
    if (out->ok) {
        calib_stats(a, reps, &out->loop);
        calib_stats(b, reps, &out->cpuid);
        calib_stats(p, reps, &out->pio);
    }
    free(a);
    vm_close(&v);
}

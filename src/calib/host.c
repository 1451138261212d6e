/* host.c: what the calibrated machine is: CPU model, kernel, whether the
 * CPU is itself virtual (CPUID.1:ECX bit 31 and the hypervisor's signature
 * in leaf 0x40000000), which module provides /dev/kvm, the transparent huge
 * page setting, and the TLB geometry the CPU reports. A profile records
 * them so that a reader knows what its figures stand for. */
#define _GNU_SOURCE
#include "calib/calib.h"
#include "lib/err.h"
#include <cpuid.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

static void read_line(const char *path, char *buf, size_t size)
{
    buf[0] = 0;
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    if (fgets(buf, (int)size, f))
        buf[strcspn(buf, "\n")] = 0;
    fclose(f);
}

static void model_name(char *buf, size_t size)
{
    snprintf(buf, size, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f)
        return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "model name", 10))
            continue;
        const char *v = strchr(line, ':');
        if (v) {
            v++;
            while (*v == ' ' || *v == '\t')
                v++;
            snprintf(buf, size, "%.*s", (int)strcspn(v, "\n"), v);
        }
        break;
    }
    fclose(f);
}

/* AMD's L2 TLB associativity code (CPUID Fn8000_0006). */
static unsigned amd_l2_ways(unsigned code, unsigned entries)
{
    static const unsigned ways[16] = { 0, 1, 2, 3, 4, 6, 8, 0, 16, 0, 32, 48, 64, 96, 128, 0 };
    return code == 0xf ? entries : ways[code & 0xf];
}

static void tlb_geometry(char *buf, size_t size, int amd)
{
    unsigned a, b, cx, d;
    if (!amd || (unsigned)__get_cpuid_max(0x80000000, NULL) < 0x80000006u) {
        snprintf(buf, size, "not decoded (only AMD's CPUID leaves 0x80000005/6 are read)");
        return;
    }
    __cpuid(0x80000005, a, b, cx, d);
    unsigned l1_4k = (b >> 16) & 0xff, l1_4k_ways = b >> 24;
    unsigned l1_2m = (a >> 16) & 0xff, l1_2m_ways = a >> 24;
    __cpuid(0x80000006, a, b, cx, d);
    unsigned l2_4k = (b >> 16) & 0xfff, l2_2m = (a >> 16) & 0xfff;
    snprintf(buf, size, "L1 DTLB 4K %u entries %s, 2M %u entries %s; L2 DTLB 4K %u entries %u-way, 2M %u entries %u-way",
             l1_4k, l1_4k_ways == 0xff ? "fully associative" : "set associative",
             l1_2m, l1_2m_ways == 0xff ? "fully associative" : "set associative",
             l2_4k, amd_l2_ways(b >> 28, l2_4k), l2_2m, amd_l2_ways(a >> 28, l2_2m));
}

void calib_host(struct calib_host *h)
{
    memset(h, 0, sizeof *h);
    unsigned a, b, c, d;
    char vendor[13] = { 0 };
    __cpuid(0, a, b, c, d);
    memcpy(vendor, &b, 4);
    memcpy(vendor + 4, &d, 4);
    memcpy(vendor + 8, &c, 4);
    __cpuid(1, a, b, c, d);
    unsigned family = (a >> 8) & 0xf, model = (a >> 4) & 0xf, stepping = a & 0xf;
    if (family == 0xf)
        family += (a >> 20) & 0xff;
    if (family >= 6)
        model |= ((a >> 16) & 0xf) << 4;
    h->virtual_cpu = (c >> 31) & 1;
    char name[96];
    model_name(name, sizeof name);
    snprintf(h->cpu, sizeof h->cpu, "%s (%s family %u model %u stepping %u)", name, vendor, family, model, stepping);

    if (h->virtual_cpu) {
        __cpuid(0x40000000, a, b, c, d);
        memcpy(h->hypervisor, &b, 4);
        memcpy(h->hypervisor + 4, &c, 4);
        memcpy(h->hypervisor + 8, &d, 4);
        for (char *p = h->hypervisor; *p; p++)
            if (*p < 0x20 || *p > 0x7e)
                *p = '?';
    }
    struct utsname u;
    if (!uname(&u))
        snprintf(h->kernel, sizeof h->kernel, "%.20s %.60s %.60s %.15s", u.sysname, u.release, u.version, u.machine);

    static const char *const mods[] = { "kvm_intel", "kvm_amd", "kvm_pvm" };
    for (unsigned i = 0; i < sizeof mods / sizeof mods[0]; i++) {
        char path[64];
        snprintf(path, sizeof path, "/sys/module/%s", mods[i]);
        if (!access(path, F_OK))
            snprintf(h->kvm + strlen(h->kvm), sizeof h->kvm - strlen(h->kvm), "%s%s", *h->kvm ? "," : "", mods[i]);
    }
    if (!*h->kvm)
        snprintf(h->kvm, sizeof h->kvm, "%s", access("/dev/kvm", F_OK) ? "none (no /dev/kvm)" : "unknown");

    char thp[256];
    read_line("/sys/kernel/mm/transparent_hugepage/enabled", thp, sizeof thp);
    const char *l = strchr(thp, '['), *r = l ? strchr(l, ']') : NULL;
    snprintf(h->thp, sizeof h->thp, "%.*s", l && r ? (int)(r - l - 1) : 7, l && r ? l + 1 : "unknown");

    tlb_geometry(h->tlb, sizeof h->tlb, !strcmp(vendor, "AuthenticAMD") || !strcmp(vendor, "HygonGenuine"));
}

void calib_load_read(struct calib_load *l)
{
    *l = (struct calib_load){ .online = sysconf(_SC_NPROCESSORS_ONLN) };
    char buf[512];
    read_line("/proc/loadavg", buf, sizeof buf);
    int ok = sscanf(buf, "%lf", &l->load1) == 1;
    read_line("/proc/stat", buf, sizeof buf);
    unsigned long long v[8] = { 0 };   /* user nice system idle iowait irq softirq steal */
    ok &= sscanf(buf, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
                 &v[6], &v[7]) == 8;
    for (int i = 0; i < 8; i++)
        l->total += v[i];
    l->steal = v[7];
    l->ok = ok;
}

void calib_load_note(const struct calib_load *a, const struct calib_load *b, char *buf, size_t size)
{
    if (!a->ok || !b->ok) {
        snprintf(buf, size, "Load: /proc/loadavg or /proc/stat could not be read.");
        return;
    }
    unsigned long long dt = b->total - a->total, ds = b->steal - a->steal;
    snprintf(buf, size,
             "Load: 1-minute load average %.2f at the start, %.2f at the end, on %ld online CPUs;\n"
             "steal time (/proc/stat) during calibration: %.1f%% of all CPUs' time.%s",
             a->load1, b->load1, a->online, dt ? 100.0 * (double)ds / (double)dt : 0.0,
             a->load1 > (double)a->online || b->load1 > (double)b->online
                 ? "\nThe load exceeded the CPUs: other work shared them, and kernel-path figures may be inflated." : "");
}

void calib_load_warn(const struct calib_load *l, const char *when)
{
    if (l->ok && l->load1 > (double)l->online)
        mv_warn("calibrate: the 1-minute load average %s (%.2f) exceeds the %ld online CPUs: other work shares "
                "them, and figures of kernel paths (fork, faults, mprotect) can come out several times too high "
                "even with CPU-time timing", when, l->load1, l->online);
}

#!/usr/bin/env python3
"""pibooster_summary.py: print the tables of docs/pibooster.md from the JSON
results experiments/pibooster.sh left in a directory."""
import json
import sys

from script_main import script_main


def run(d, name, mode=None):
    doc = json.load(open(f"{d}/{name}.json"))
    for r in doc["runs"]:
        if mode is None or r["mode"] == mode:
            return r
    raise KeyError(mode)


def pct(new, old):
    return f"{100.0 * (new - old) / old:+.1f}%" if old else "n/a"


def net_row(label, mode, r):
    """A row of table 5: what the device completed (Mbit/s) and what it
    still had queued at the end, with the longest a transfer waited for it."""
    m, c = r["metrics"], r["counters"]
    return (f"| {label} | {mode} | {m.get('dma_mbps', 0):.2f} | {m.get('iotlb_miss_per_dma_page', 0):.4f} | "
            f"{c['iotlb_inv_psi'] + c['iotlb_inv_dsi']} | {m.get('dma_queued_bytes', 0):.0f} | "
            f"{m.get('dma_max_wait_us', 0):.1f} |")


def main():
    d, on_min = sys.argv[1], int(sys.argv[2])
    pv, pb, on, p417 = run(d, "fs_pv"), run(d, "fs_pibooster"), run(d, "fs_on_at"), run(d, "fs_pv417")

    print("## 1. IOTLB invalidations per simulated minute (forkstorm)\n")
    print(f"| minute | cache disabled | enabled at boot | enabled at minute {on_min} | disabled, xen-4.17 |")
    print("|---|---:|---:|---:|---:|")
    def inv(r):
        c = r["series"]["counters"]
        n = len(r["series"]["time_s"])
        return [sum(c.get(k, [0] * n)[i] for k in ("iotlb_inv_psi", "iotlb_inv_dsi", "iotlb_inv_global"))
                for i in range(n)]
    a, b, c, e = inv(pv), inv(pb), inv(on), inv(p417)
    for i in range(len(a)):
        label = f"{i + 1}" if i < len(a) - 1 else "end (all exit)"
        print(f"| {label} | {a[i]} | {b[i]} | {c[i]} | {e[i]} |")
    steady = lambda v: sum(v[on_min + 1:-1]) / max(1, len(v[on_min + 1:-1]))
    print(f"\nMean per minute after minute {on_min + 1} (last partial minute excluded): "
          f"disabled {steady(a):.0f}, at boot {steady(b):.1f}, at minute {on_min} {steady(c):.1f}; "
          f"minutes with zero invalidations at boot: {sum(1 for x in b[:-1] if x == 0)} of {len(b) - 1}.\n")

    print("## 2. CPU time of page-table allocation and freeing (forkstorm)\n")
    print("| | pv | pv-pibooster | change |")
    print("|---|---:|---:|---:|")
    cp, cb = pv["counters"], pb["counters"]
    for l in range(1, 5):
        for kind in ("alloc", "free"):
            x = cp[f"pt_{kind}_cycles_l{l}"] / max(1, cp[f"pt_{kind}_l{l}"])
            y = cb[f"pt_{kind}_cycles_l{l}"] / max(1, cb[f"pt_{kind}_l{l}"])
            print(f"| L{l} {kind} path, cycles/page | {x:.0f} | {y:.0f} | {pct(y, x)} |")
    tot = lambda c, k: sum(c[f"pt_{k}_cycles_l{l}"] for l in range(1, 5))
    for label, f in (("pin (validation, RO remaps, IOMMU unmaps)", lambda c: c["pt_pin_cycles"]),
                     ("unpin (devalidation, RW remaps, IOMMU maps)", lambda c: c["pt_unpin_cycles"]),
                     ("allocation = alloc paths + pin", lambda c: tot(c, "alloc") + c["pt_pin_cycles"]),
                     ("freeing = free paths + unpin", lambda c: tot(c, "free") + c["pt_unpin_cycles"])):
        x, y = f(cp) / 1e6, f(cb) / 1e6
        print(f"| {label}, Mcycles | {x:.1f} | {y:.1f} | {pct(y, x)} |")
    x = (tot(cp, "alloc") + cp["pt_pin_cycles"] + tot(cp, "free") + cp["pt_unpin_cycles"])
    y = (tot(cb, "alloc") + cb["pt_pin_cycles"] + tot(cb, "free") + cb["pt_unpin_cycles"])
    print(f"| all page-table (de)allocation, Mcycles | {x/1e6:.1f} | {y/1e6:.1f} | {pct(y, x)} |\n")

    print("## 3. Pool sizes (pages, per-minute samples)\n")
    for name, label in (("fs_pibooster", "defaults (ratio 200%, total 256)"),
                        ("fs_ratio100", "ratio 100%, total 64"),
                        ("fs_ratio400", "ratio 400%, total 1024")):
        r = run(d, name)
        g = r["series"]["gauges"]
        m = {k: v for k, v in r["metrics"].items() if k.startswith("ptcache_max_pool")}
        n = len(r["series"]["time_s"])
        inv_total = sum(sum(r["series"]["counters"].get(k, [0] * n)) for k in ("iotlb_inv_psi", "iotlb_inv_dsi"))
        mem = sum(g['data_pages'][i] + g['pt_pages'][i] for i in range(n)) / n
        print(f"- {label}: pool at minute ends max {max(g['ptcache_pool']):.0f}, mean "
              f"{sum(g['ptcache_pool']) / n:.0f} ({100 * sum(g['ptcache_pool']) / n / mem:.1f}% of the "
              f"{mem * 4 / 1024:.0f} MiB the guest's processes and page cache use); high-water marks per level "
              f"{', '.join(f'{int(v)}' for v in m.values())} (L1..L4); page tables in use mean "
              f"{sum(g['pt_pages']) / n:.0f}; IOTLB invalidations in the run {inv_total}")
    print()

    print("## 4. lmbench process creation and exit (simulated microseconds)\n")
    print("| test | native | pv | pv-pibooster | pibooster vs pv |")
    print("|---|---:|---:|---:|---:|")
    lat = {m: run(d, "lmbench", m)["metrics"] for m in ("native", "pv", "pv-pibooster")}
    chg = []
    for t in ("fork_exit", "fork_execve", "fork_sh"):
        k = f"lat_{t}_us"
        chg.append((lat["pv-pibooster"][k] - lat["pv"][k]) / lat["pv"][k])
        print(f"| {t} | {lat['native'][k]:.1f} | {lat['pv'][k]:.1f} | {lat['pv-pibooster'][k]:.1f} | "
              f"{pct(lat['pv-pibooster'][k], lat['pv'][k])} |")
    print(f"\nMean change: {100 * sum(chg) / len(chg):+.1f}%.\n")

    print("## 5. Network stream: throughput and IOTLB misses\n")
    print("| setting | mode | Mbit/s | IOTLB misses per DMA page | IOTLB invalidations | queued at end (bytes) | longest wait (µs) |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for name, label in (("netio", "netio alone, 256-buffer ring"), ("netio_ring32", "netio alone, 32-buffer ring")):
        for m in ("native", "pv", "pv-pibooster"):
            print(net_row(label, m, run(d, name, m)))
    for name, label in (("fs_nic", "forkstorm + 88 Mbit/s NIC, 256-buffer ring"),
                        ("fs_nic32", "forkstorm + 88 Mbit/s NIC, 32-buffer ring"),
                        ("fs_nic32dsi", "same, IOMMU without page-selective invalidation")):
        for m in ("pv", "pv-pibooster"):
            print(net_row(label, m, run(d, f"{name}_{m}")))


if __name__ == "__main__":
    script_main(main, "pibooster_summary.py", "DIR MINUTES_WITH_THE_CACHE_ON", (2,))

#!/usr/bin/env python3
"""pibooster_compare.py: the PiBooster experiments' headline figures from two
result directories of experiments/pibooster.sh side by side, typically the
default profile and a calibrated one (docs/pibooster.md, "Under the
calibrated profile"):

    experiments/pibooster_compare.py DIR_A DIR_B [LABEL_A LABEL_B]

Counts come from the mechanisms; cycles and times come from the profile, so
the rows that change between the columns are the ones that depend on the
cost figures."""
import sys

from script_main import script_main

from pibooster_summary import pct, run


def inv_per_min(r):
    c, n = r["series"]["counters"], len(r["series"]["time_s"])
    v = [sum(c.get(k, [0] * n)[i] for k in ("iotlb_inv_psi", "iotlb_inv_dsi", "iotlb_inv_global"))
         for i in range(n)]
    return v[:-1]   # the last entry is the tail in which everything exits


def pt_cycles(c):
    alloc = sum(c[f"pt_alloc_cycles_l{l}"] for l in range(1, 5)) + c["pt_pin_cycles"]
    free = sum(c[f"pt_free_cycles_l{l}"] for l in range(1, 5)) + c["pt_unpin_cycles"]
    return alloc, free


def figures(d):
    pv, pb = run(d, "fs_pv"), run(d, "fs_pibooster")
    a, b = inv_per_min(pv), inv_per_min(pb)
    f = {}
    f["forkstorm: processes created (pv)"] = f"{pv['counters']['fork']}"
    f["forkstorm: IOTLB invalidations per minute (mean of minutes 1-30), cache disabled"] = f"{sum(a) / len(a):.0f}"
    f["forkstorm: IOTLB invalidations in the run, disabled / enabled"] = \
        f"{pv['counters']['iotlb_inv_psi'] + pv['counters']['iotlb_inv_dsi']} / " \
        f"{pb['counters']['iotlb_inv_psi'] + pb['counters']['iotlb_inv_dsi']}"
    f["forkstorm: minutes with no invalidation, cache enabled"] = f"{sum(1 for x in b if x == 0)} of {len(b)}"
    (pa, pf), (ba, bf) = pt_cycles(pv["counters"]), pt_cycles(pb["counters"])
    f["page-table allocation (alloc paths + pin), pibooster vs pv"] = pct(ba, pa)
    f["page-table freeing (free paths + unpin), pibooster vs pv"] = pct(bf, pf)
    f["all page-table (de)allocation, pibooster vs pv"] = pct(ba + bf, pa + pf)
    f["busy time of 30 minutes of forkstorm, pv (s)"] = \
        f"{(pv['cycles']['total'] - pv['cycles'].get('idle', 0)) / (1e9 * clock(d)):.2f}"
    g = pb["series"]["gauges"]["ptcache_pool"]
    f["pool size at minute ends, mean / max (pages)"] = f"{sum(g) / len(g):.0f} / {max(g):.0f}"
    lat = {m: run(d, "lmbench", m)["metrics"] for m in ("native", "pv", "pv-pibooster")}
    chg = []
    for t in ("fork_exit", "fork_execve", "fork_sh"):
        k = f"lat_{t}_us"
        chg.append((lat["pv-pibooster"][k] - lat["pv"][k]) / lat["pv"][k])
        f[f"lmbench {t}: native / pv / pv-pibooster (us)"] = \
            f"{lat['native'][k]:.1f} / {lat['pv'][k]:.1f} / {lat['pv-pibooster'][k]:.1f}"
        f[f"lmbench {t}: pibooster vs pv"] = pct(lat["pv-pibooster"][k], lat["pv"][k])
    f["lmbench: mean change, pibooster vs pv"] = f"{100 * sum(chg) / len(chg):+.1f}%"
    for m in ("pv", "pv-pibooster"):
        r = run(d, f"fs_nic_{m}")
        f[f"forkstorm + 88 Mbit/s NIC, {m}: Mbit/s"] = f"{r['metrics'].get('dma_mbps', 0):.2f}"
    return f


def clock(d):
    import json
    return json.load(open(f"{d}/fs_pv.json"))["clock_ghz"]


def main():
    a, b = sys.argv[1], sys.argv[2]
    la, lb = (sys.argv[3], sys.argv[4]) if len(sys.argv) == 5 else (a, b)
    fa, fb = figures(a), figures(b)
    print(f"| figure | {la} | {lb} |")
    print("|---|---:|---:|")
    for k in fa:
        print(f"| {k} | {fa[k]} | {fb[k]} |")


if __name__ == "__main__":
    script_main(main, "pibooster_compare.py", "DIR_A DIR_B [LABEL_A LABEL_B]", (2, 4))

#!/usr/bin/env python3
"""shadow_nested_summary.py: the tables of docs/shadow-nested.md from the JSON
results experiments/shadow_nested.sh wrote into DIR."""
import json
import os
import sys

from script_main import script_main


def runs(d, name):
    with open(os.path.join(d, name + ".json")) as f:
        doc = json.load(f)
    for r in doc["runs"]:
        r["clock_ghz"] = doc["clock_ghz"]     # the run's own clock (a profile may change it)
    return {r["mode"]: r for r in doc["runs"]}


def busy_ms(r):
    c = r["cycles"]
    return (c["total"] - c["idle"]) / (r["clock_ghz"] * 1e6)


def main():
    d = sys.argv[1]
    print("### 1. The 2D walk: references and walk cycles per TLB miss (random, 256 MiB)\n")
    print("| configuration | refs / miss | guest | host | walk cycles / miss | busy ms | busy vs nothing cached |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    none_busy = {"4k": busy_ms(runs(d, "walk_none")["hap"]), "2m": busy_ms(runs(d, "walk_none_2m")["hap"])}
    rows = [("native (1D)", "walk_all", "native"), ("hap, nothing cached", "walk_none", "hap"),
            ("hap, guest PWC only", "walk_gpwc", "hap"), ("hap, EPT PWC only", "walk_eptpwc", "hap"),
            ("hap, nested TLB only", "walk_ntlb", "hap"), ("hap, all but the guest PWC", "walk_no_gpwc", "hap"),
            ("hap, all but the EPT PWC", "walk_no_eptpwc", "hap"), ("hap, all but the nested TLB", "walk_no_ntlb", "hap"),
            ("hap, all (default)", "walk_all", "hap"),
            ("hap 2M EPT, nothing cached", "walk_none_2m", "hap"), ("hap 2M EPT, all", "walk_all_2m", "hap")]
    for label, f, m in rows:
        c = runs(d, f)[m]
        n = c["counters"]
        miss = max(1, n["tlb_miss"])
        b = busy_ms(c)
        ref = none_busy["2m" if f.endswith("_2m") else "4k"]
        print("| %s | %.2f | %.2f | %.2f | %.1f | %.1f | %s |" % (
            label, n["walk_refs"] / miss, n["walk_refs_guest"] / miss, n["walk_refs_host"] / miss,
            c["cycles"]["walk"] / miss, b, "-" if m == "native" else "%+.1f%%" % (100.0 * (b - ref) / ref)))
    print()
    print("### 2-4. Exits and busy time\n")
    print("| workload | mode | busy ms | x native | VM exits | pt_write | pf | cr3 | invlpg | flush | ept | ssp traps |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for f, label in [("fs", "forkstorm"), ("lm", "lmbench"), ("fault", "memwalk fault-heavy"),
                     ("tlb", "memwalk TLB-bound"), ("tlb_2m", "memwalk TLB-bound, 2M EPT"),
                     ("fs_ft", "forkstorm, ssp.fault_trap"), ("lm_ft", "lmbench, ssp.fault_trap"),
                     ("fault_ft", "memwalk fault-heavy, ssp.fault_trap")]:
        rs = runs(d, f)
        base_f = {"tlb_2m": "tlb", "fs_ft": "fs", "lm_ft": "lm", "fault_ft": "fault"}.get(f, f)
        nat = busy_ms(runs(d, base_f)["native"])
        for m, r in rs.items():
            n = r["counters"]
            b = busy_ms(r)
            print("| %s | %s | %.1f | %.2f | %d | %d | %d | %d | %d | %d | %d | %d |" % (
                label, m, b, b / nat, n["vm_exits"], n["vm_exits_pt_write"], n["vm_exits_pf"], n["vm_exits_cr3"],
                n["vm_exits_invlpg"], n["vm_exits_flush"], n["vm_exits_ept_violation"], n["ssp_traps"]))
    print()
    print("### ssp against tsp: memory-virtualization VM exits\n")
    print("| workload | tsp | ssp | change | ssp with fault_trap | change |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for f, label in [("fs", "forkstorm"), ("lm", "lmbench"), ("fault", "memwalk fault-heavy")]:
        rs = runs(d, f)
        t, s = rs["tsp"]["counters"]["vm_exits"], rs["ssp"]["counters"]["vm_exits"]
        ft = runs(d, f + "_ft")["ssp"]["counters"]["vm_exits"]
        print("| %s | %d | %d | %+.1f%% | %d | %+.1f%% |" % (label, t, s, 100.0 * (s - t) / t, ft, 100.0 * (ft - t) / t))
    print()
    print("### ssp against tsp as modern KVM (L1 shadows unsync, tsp.unsync) and without write flooding\n")
    print("| workload | ssp | tsp, unsync | change | tsp, no flooding | change |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for f, label in [("fs", "forkstorm"), ("lm", "lmbench"), ("fault", "memwalk fault-heavy")]:
        s_ = runs(d, f)["ssp"]["counters"]["vm_exits"]
        u = runs(d, f + "_unsync")["tsp"]["counters"]["vm_exits"]
        n = runs(d, f + "_noflood")["tsp"]["counters"]["vm_exits"]
        print("| %s | %d | %d | %+.1f%% | %d | %+.1f%% |" % (label, s_, u, 100.0 * (s_ - u) / u, n, 100.0 * (s_ - n) / n))
    print()
    print("### TLB-bound steady state: walk cycles per TLB miss\n")
    print("| mode | walk cycles / miss | refs / miss |")
    print("| --- | ---: | ---: |")
    for f, m in [("tlb", "native"), ("tlb", "tsp"), ("tlb", "ssp"), ("tlb", "hap"), ("tlb_2m", "hap")]:
        r = runs(d, f)[m]
        n = r["counters"]
        label = m + (" (2M EPT)" if f == "tlb_2m" else "")
        print("| %s | %.1f | %.2f |" % (label, r["cycles"]["walk"] / n["tlb_miss"], n["walk_refs"] / n["tlb_miss"]))


if __name__ == "__main__":
    script_main(main, "shadow_nested_summary.py", "DIR", (1,))

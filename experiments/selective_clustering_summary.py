#!/usr/bin/env python3
"""selective_clustering_summary.py: the tables of docs/selective-clustering.md
from the JSON results experiments/selective_clustering.sh wrote into DIR."""
import json
import os
import sys

from script_main import script_main


def load(d, name):
    with open(os.path.join(d, name + ".json")) as f:
        doc = json.load(f)
    for r in doc["runs"]:
        r["clock_ghz"] = doc["clock_ghz"]     # the run's own clock (a profile may change it)
    return {r["mode"]: r for r in doc["runs"]}


def busy_ms(r):
    c = r["cycles"]
    return (c["total"] - c["idle"]) / (r["clock_ghz"] * 1e6)


def pct(a, b):
    return 100.0 * (a - b) / b


def gap_table(d):
    print("### 1-2. The HAP/SP gap, and selective (busy simulated ms)\n")
    print("| workload | profile | tsp | hap | selective | slower fixed mode vs faster | selective vs better fixed "
          "| switches to shadow / to nested | time under shadow | TLB misses / 1k instr | faults / 1k instr "
          "| TLB misses / s | faults / s |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for w in ("memwalk-gcc", "memwalk-mcf", "memwalk-phases"):
        for suffix, prof in (("", "default"), ("_host", "this-host")):
            r = load(d, f"sel_{w}{suffix}")
            t, h, s = busy_ms(r["tsp"]), busy_ms(r["hap"]), busy_ms(r["selective"])
            slow = "tsp +%.1f%%" % pct(t, h) if t > h else "hap +%.1f%%" % pct(h, t)
            m = r["selective"]["metrics"]
            c = r["hap"]["counters"]
            kinst = max(1, c["instructions"]) / 1000.0
            secs = r["hap"]["sim_seconds"]
            print("| %s | %s | %.1f | %.1f | %.1f | %s | %+.1f%% | %d / %d | %.0f%% | %.2f | %.3f | %.2g | %.2g |" % (
                w, prof, t, h, s, slow, pct(s, min(t, h)), m.get("selective_to_shadow", 0),
                m.get("selective_to_nested", 0), 100 * m.get("selective_shadow_share", 0),
                c["tlb_miss"] / kinst, c["guest_pf"] / kinst, c["tlb_miss"] / secs, c["guest_pf"] / secs))
    print()


def switch_table(d):
    print("### 3. Forced switching once per simulated second (busy simulated ms)\n")
    print("| workload | stay nested | HAP->SP->HAP | overhead | stay shadow | SP->HAP->SP | overhead | round trips |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for w in ("forkstorm", "lmbench", "memwalk-mcf"):
        v = {k: load(d, f"switch_{w}_{k}")["selective"] for k in ("stay_hap", "alt_hap", "stay_shadow", "alt_shadow")}
        b = {k: busy_ms(r) for k, r in v.items()}
        print("| %s | %.1f | %.1f | %+.2f%% | %.1f | %.1f | %+.2f%% | %d / %d |" % (
            w, b["stay_hap"], b["alt_hap"], pct(b["alt_hap"], b["stay_hap"]), b["stay_shadow"], b["alt_shadow"],
            pct(b["alt_shadow"], b["stay_shadow"]), v["alt_hap"]["metrics"].get("selective_to_shadow", 0),
            v["alt_shadow"]["metrics"].get("selective_to_nested", 0)))
    print()


def cluster_table(d):
    print("### 4. Exit clustering (VM exits taken; busy simulated ms)\n")
    print("| workload | profile | mode | exits off | exits on | avoided | clusters | exits reduced | busy off | busy on "
          "| speed-up |")
    print("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for prof in ("default", "nested"):
        for w in ("forkstorm", "lmbench", "memwalk", "netio", "memwalk-gcc"):
            off, on = load(d, f"cl_{prof}_{w}_off"), load(d, f"cl_{prof}_{w}_on")
            for m in off:
                a, b = off[m], on[m]
                ea, eb = a["counters"]["vm_exits"], b["counters"]["vm_exits"]
                print("| %s | %s | %s | %d | %d | %d | %d | %s | %.1f | %.1f | %.3fx |" % (
                    w, prof, m, ea, eb, b["counters"]["cluster_exits_avoided"], b["counters"]["clusters"],
                    "%.1f%%" % (100.0 * (ea - eb) / ea) if ea else "-", busy_ms(a), busy_ms(b),
                    busy_ms(a) / busy_ms(b)))
    print()
    print("Sites (tsp, lmbench, default profile): exits taken, operations avoided, clusters opened\n")
    r = load(d, "cl_default_lmbench_on")["tsp"]["metrics"]
    sites = sorted({k.split("_", 2)[2] for k in r if k.startswith("clustering_")})
    print("| site | exits | avoided | clusters |")
    print("| --- | ---: | ---: | ---: |")
    for s in sites:
        print("| %s | %d | %d | %d |" % (s, r.get("clustering_exits_" + s, 0), r.get("clustering_avoided_" + s, 0),
                                         r.get("clustering_clusters_" + s, 0)))
    print()
    print("tsp on lmbench against clustering.window (guest cycles)\n")
    print("| window | exits | avoided | clusters | busy ms |")
    print("| ---: | ---: | ---: | ---: | ---: |")
    for win in (0, 250, 500, 1000, 2000, 4000, 8000):
        r = load(d, f"window_{win}")["tsp"]
        c = r["counters"]
        print("| %d | %d | %d | %d | %.1f |" % (win, c["vm_exits"], c["cluster_exits_avoided"], c["clusters"],
                                               busy_ms(r)))
    print()


def main():
    d = sys.argv[1]
    gap_table(d)
    switch_table(d)
    cluster_table(d)


if __name__ == "__main__":
    script_main(main, "selective_clustering_summary.py", "DIR", (1,))

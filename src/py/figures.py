#!/usr/bin/env python3
"""figures.py: `make figures`: runs the experiments of
experiments/figures/*.sweep through `memvirt sweep` (GNU parallel), merges
them, and draws every figure of docs/figures.md with matplotlib into
docs/figures/NAME.svg.

  figures.py --memvirt BIN --runs DIR --out DIR [--quick] [-j N]

An experiment whose spec says `# requires-mode: PATTERN` is run only when a
mode of `memvirt list` matches the pattern, and its figures are skipped (with
a message) otherwise. Figures iterate over whatever modes, workloads,
counters and gauges the results hold. --quick shrinks every run (for the
test); the same results give byte-identical figures."""
import argparse
import fnmatch
import os
import re
import shutil
import signal
import subprocess
import sys

import mvplot
import mvresults
from mvcommon import InputError, Parser, die, run, say, source_dir, write_atomic

CMD = "figures"
QUICK = ["forkstorm.minutes=1", "lmbench.iterations=20", "memwalk.refs=100000", "netio.seconds=1",
         "memwalk-gcc.refs=100000", "memwalk-mcf.refs=100000", "memwalk-phases.refs=200000",
         "memwalk-phases.phase_refs=40000", "memwalk-phases.b_phase_refs=10000"]


MARK = ".memvirt-figures"   # in --runs: figures.py made it, and may empty it


def listed_modes(memvirt):
    r = subprocess.run([memvirt, "list"], capture_output=True, text=True)
    if r.returncode:
        die(CMD, f"{memvirt} list failed: {why(r)}", 1)
    out = r.stdout
    modes, on = [], False
    for line in out.splitlines():
        if line.strip() == "modes:":
            on = True
        elif on and not line.strip():
            break
        elif on:
            modes.append(line.split()[0])
    return modes


def requirement(spec):
    with open(spec, encoding="utf-8") as f:
        m = re.search(r"^#\s*requires-mode:\s*(\S+)", f.read(), re.M)
    return m.group(1) if m else None


def why(r):
    """What a failed memvirt said, or the signal that killed it (it says
    nothing then: a file-size limit, the OOM killer)."""
    if r.returncode < 0:
        try:
            sig = signal.Signals(-r.returncode).name
        except ValueError:
            sig = f"signal {-r.returncode}"
        return f"killed by {sig}" + (f"; {r.stderr.strip()}" if r.stderr.strip() else "")
    return r.stderr.strip() or f"exit status {r.returncode}, no message"


def run_sweep(a, name, spec):
    out = os.path.join(a.runs, name)
    cmd = [a.memvirt, "sweep", spec, "--out", out] + [x for s in (QUICK if a.quick else []) for x in ("--set", s)]
    if a.jobs:
        cmd += ["-j", str(a.jobs)]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode:
        die(CMD, f"sweep {spec} failed: {why(r)}", 1)
    r = subprocess.run([a.memvirt, "sweep", "merge", out], capture_output=True, text=True)
    if r.returncode:
        die(CMD, f"merge of {out} failed: {why(r)}", 1)
    try:
        return mvresults.load(os.path.join(out, "merged.json"))["runs"]
    except InputError as e:
        die(CMD, str(e), 1)


def label(r, keys):
    return ", ".join(str(r["sweep"][k]) for k in keys if r["sweep"].get(k) is not None)


def minutes(r):
    return [t / 60 for t in r["series"]["time_s"]]


def time_axis(r):
    """The series' sample times in the unit its span reads best in: (label,
    values). 5 ms samples over a few tenths of a second are ms, not
    thousandths of a minute."""
    t = r["series"]["time_s"]
    span = (max(t) - min(t)) if t else 0
    for limit, unit, scale in ((120, "minutes", 1 / 60), (2, "seconds", 1), (0, "ms", 1000)):
        if span >= limit:
            return f"simulated {unit}", [x * scale for x in t]


def series(r, name):
    s = r["series"]
    return s["counters"].get(name, s["gauges"].get(name, [0] * len(s["time_s"])))


def modes_of(runs):
    out = []
    for r in runs:
        if r["mode"] not in out:
            out.append(r["mode"])
    return out


def by_workload(runs):
    out = {}
    for r in runs:
        out.setdefault(r["workload"], []).append(r)
    return out


# -- the figures: each takes the merged runs of its experiment and returns
#    [(file name, matplotlib figure)] --

def fig_iotlb_per_minute(runs):
    lines = []
    for r in runs:
        inv = [sum(v) for v in zip(*[series(r, k) for k in r["series"]["counters"] if k.startswith("iotlb_inv_")]
                                   or [[0] * len(r["series"]["time_s"])])]
        lines.append((label(r, ["group"]), minutes(r), inv))
    fig = mvplot.lines("IOTLB invalidations per simulated minute (forkstorm)", "simulated minutes",
                       "invalidations per minute", lines, logy=True, partial_last=True)
    return [("iotlb_per_minute", fig)]


def fig_thresholds(runs):
    ratios = sorted({r["sweep"]["guest.pt_cache_ratio"] for r in runs})
    totals = sorted({r["sweep"]["guest.pt_cache_total"] for r in runs})
    pick = {(r["sweep"]["guest.pt_cache_ratio"], r["sweep"]["guest.pt_cache_total"]): r for r in runs}
    fig, (a, b) = mvplot.grid(2, 2, panel=(3.4, 2.5))
    inv = [(f"total {t}", ratios, [sum(v for k, v in pick[(x, t)]["counters"].items() if k.startswith("iotlb_inv_"))
                                   for x in ratios]) for t in totals]
    mvplot.lines("IOTLB invalidations in the run", "guest.pt_cache_ratio (%)", "invalidations", inv, ax=a,
                 legend=False)
    pool = [(f"guest.pt_cache_total={t}", ratios,
             [sum(pick[(x, t)]["series"]["gauges"]["ptcache_pool"]) / len(pick[(x, t)]["series"]["time_s"])
              for x in ratios]) for t in totals]
    mvplot.lines("Mean pool size (per-minute samples)", "guest.pt_cache_ratio (%)", "pages", pool, ax=b)
    fig.tight_layout()
    over = [(f"ratio {r['sweep']['guest.pt_cache_ratio']}, total {r['sweep']['guest.pt_cache_total']}",
             minutes(r), series(r, "ptcache_pool")) for r in runs]
    fig2 = mvplot.lines("PiBooster pool size over time, every threshold setting", "simulated minutes",
                        "pages in all pools", over, partial_last=True)
    return [("sweep_thresholds", fig), ("pool_sizes", fig2)]


def fig_modes(runs):
    out = []
    wl = by_workload(runs)
    fs = wl.get("forkstorm", [])
    if fs:
        fig, axs = mvplot.grid(2, 2, panel=(3.6, 2.5))
        levels = sorted({int(k[-1]) for r in fs for k in r["counters"] if re.fullmatch(r"pt_alloc_l\d", k)})
        for ax, kind in zip(axs, ("alloc", "free")):
            groups = [(r["mode"], [r["counters"].get(f"pt_{kind}_cycles_l{n}", 0) / max(1, r["counters"].get(
                f"pt_{kind}_l{n}", 0)) for n in levels]) for r in fs]
            mvplot.bars(f"page-table {kind} path, forkstorm", [f"L{n}" for n in levels], groups,
                        "cycles per page", ax=ax, legend=kind == "free")
        fig.tight_layout()
        out.append(("pt_alloc_per_level", fig))
    lm = wl.get("lmbench", [])
    if lm:
        names = [k for k in lm[0]["metrics"] if k.startswith("lat_")]
        fig = mvplot.bars("lmbench process creation and exit", [n[4:-3].replace("_", "+") for n in names],
                          [(r["mode"], [r["metrics"].get(n, 0) for n in names]) for r in lm], "simulated µs")
        out.append(("lmbench_latency", fig))
    wls = list(wl)
    fig, axs = mvplot.grid(len(wls), 2, panel=(3.6, 2.5))
    for ax, w in zip(axs, wls):
        rs = wl[w]
        reasons = [k for k in rs[0]["counters"] if k.startswith("vm_exits_")] or ["vm_exits"]
        mvplot.bars(f"{w}: VM exits{' by reason' if reasons != ['vm_exits'] else ' (no per-reason counters)'}",
                    [r["mode"] for r in rs], [(k, [r["counters"].get(k, 0) for r in rs]) for k in reasons],
                    "VM exits", stacked=True, ax=ax, legend=len(reasons) > 1)
    fig.tight_layout()
    out.append(("exits_by_reason", fig))
    fig, ax = mvplot.grid(1, 1, panel=(6.4, 2.6))
    mvplot.bars("Walk references per TLB miss", wls,
                [(m, [next((r["counters"]["walk_refs"] / r["counters"]["tlb_miss"] for r in wl[w]
                            if r["mode"] == m and r["counters"].get("tlb_miss")), 0) for w in wls])
                 for m in modes_of(runs)], "references per miss", ax=ax[0])
    out.append(("walk_refs_per_miss", fig))
    return out


def fig_selective(runs):
    out = []
    for r in runs:
        s = r["series"]
        names = [k for k in ("vm_exits", "tlb_miss", "walk_refs") if k in s["counters"]]
        names += [k for k in s["counters"] if k.startswith("vm_exits_")]
        names += [k for k, v in s["gauges"].items() if len(set(v)) > 1]
        fig, axs = mvplot.grid(len(names), 2, panel=(3.6, 2.2))
        label, t = time_axis(r)
        for ax, n in zip(axs, names):
            mvplot.lines(n, label, "per interval" if n in s["counters"] else "value",
                         [(r["mode"], t, series(r, n))], ax=ax, legend=False, partial_last=True)
        fig.suptitle(f"{r['mode']} on {r['workload']}: timeline")
        # leave the suptitle its own band above the panels' titles
        fig.tight_layout(rect=(0, 0, 1, 1 - 0.4 / fig.get_figheight()))
        out.append((f"selective_timeline_{r['workload']}", fig))
    return out


def fig_clustering(runs):
    """Exit clustering: for each workload and mode, the share of VM exits it
    avoided, and the speed-up (busy time without over busy time with) under
    each cost profile the sweep ran."""
    def on(r):
        return str(r["sweep"].get("clustering.enable")).lower() in ("true", "1", "on", "yes")

    def prof(r):
        return r["sweep"].get("profile") or "default"
    wl = by_workload(runs)
    ws, ms = list(wl), modes_of(runs)
    profiles = []
    for r in runs:
        if prof(r) not in profiles:
            profiles.append(prof(r))

    def pick(w, m, c, p):
        return next((r for r in wl[w] if r["mode"] == m and on(r) == c and prof(r) == p), None)

    def share(w, m):
        r = pick(w, m, True, profiles[0])
        if not r:
            return 0
        c = r["counters"]
        avoided = c.get("cluster_exits_avoided", 0)
        return 100 * avoided / max(1, avoided + c.get("vm_exits", 0))

    def speedup(w, m, p):
        a, b = pick(w, m, False, p), pick(w, m, True, p)
        return mvresults.busy_cycles(a) / max(1, mvresults.busy_cycles(b)) if a and b else 0
    fig, axs = mvplot.grid(1 + len(profiles), 3, panel=(3.8, 2.6))
    mvplot.bars(f"VM exits avoided ({profiles[0]})", ws, [(m, [share(w, m) for w in ws]) for m in ms],
                "% of exits", ax=axs[0], legend=False)
    for i, p in enumerate(profiles):
        mvplot.bars(f"Speed-up, profile {p}", ws, [(m, [speedup(w, m, p) for w in ws]) for m in ms],
                    "busy time off / on", ax=axs[1 + i], legend=i == len(profiles) - 1)
    fig.tight_layout()
    return [("clustering", fig)]


FIGURES = {"pibooster_fig7": fig_iotlb_per_minute, "pibooster_thresholds": fig_thresholds,
           "modes": fig_modes, "selective_timeline": fig_selective, "clustering": fig_clustering}


def jobs(text):
    """-j N as memvirt sweep takes it: a decimal integer from 1 to 1024
    (checked here, before --runs is emptied)."""
    if not re.fullmatch(r"[1-9][0-9]{0,3}", text) or int(text) > 1024:
        raise argparse.ArgumentTypeError(f"'{text}': expected a decimal integer from 1 to 1024")
    return int(text)


def main(argv):
    p = Parser(CMD, description="run the figure experiments and draw docs/figures")
    p.add_argument("--memvirt", required=True)
    p.add_argument("--runs", required=True, help="where the sweeps run: each experiment's NAME/ in it is emptied "
                   "first (a fresh run); a non-empty directory figures.py did not make is refused")
    p.add_argument("--out", required=True)
    p.add_argument("--quick", action="store_true", help="tiny runs, for the test")
    p.add_argument("-j", "--jobs", type=jobs)
    p.add_argument("--keep", action="store_true", help="keep earlier results in --runs")
    p.add_argument("--specs", default=os.path.join(source_dir(), "experiments", "figures"),
                   help="the experiments' sweep specs (default: experiments/figures)")
    a = p.parse_args(argv)
    names, ours = check_args(a)
    try:
        os.makedirs(a.runs, exist_ok=True)
        if not a.keep:   # only what an earlier figures.py made: each experiment's own directory
            for name in names:
                shutil.rmtree(os.path.join(a.runs, name), ignore_errors=True)
        if ours:   # not in a directory of the user's taken with --keep
            with open(os.path.join(a.runs, MARK), "w") as f:
                f.write("made by memvirt's figures.py: it empties this directory's experiments on each run\n")
        os.makedirs(a.out, exist_ok=True)
    except OSError as e:
        die(CMD, f"cannot make '{e.filename}': {e.strerror}", 1)
    try:
        draw(a, names)
    except OSError as e:   # a memvirt that vanished, a write that failed
        die(CMD, str(e) if e.filename is None else f"'{e.filename}': {e.strerror}", 1)


def _inside(path, top):
    """Is path top or under it (as the file system resolves them)?"""
    path, top = os.path.realpath(path), os.path.realpath(top)
    return path == top or path.startswith(top.rstrip("/") + "/")


def check_args(a):
    """Everything that can be known wrong before any work, checked before
    anything in --runs is removed (exit 2, one line); the experiments' names."""
    if not os.path.isdir(a.specs):
        die(CMD, f"--specs '{a.specs}': not a directory of sweep specs", 2)
    if not (os.path.isfile(a.memvirt) and os.access(a.memvirt, os.X_OK)):
        die(CMD, f"--memvirt '{a.memvirt}': not an executable file", 2)
    for opt, path in (("--runs", a.runs), ("--out", a.out)):
        if os.path.exists(path) and not os.path.isdir(path):
            die(CMD, f"{opt} '{path}': not a directory", 2)
    for opt, path in (("--specs", a.specs), ("--out", a.out)):
        if _inside(path, a.runs):
            die(CMD, f"--runs '{a.runs}' holds {opt} '{path}': figures.py empties --runs, give it a directory of its own", 2)
    if _inside(a.runs, a.out):
        die(CMD, f"--runs '{a.runs}' is inside --out '{a.out}': give each a directory of its own", 2)
    try:
        names = sorted(f[:-6] for f in os.listdir(a.specs)   # NAME/ in --runs is emptied: never '' or '.'
                       if f.endswith(".sweep") and not f.startswith(".") and f != ".sweep")
        leftover = os.listdir(a.runs) if os.path.isdir(a.runs) else []
    except OSError as e:
        die(CMD, f"'{e.filename}': {e.strerror}", 2)
    # ours: made by figures.py, marked, or (made before the mark) only experiments' directories
    ours = not leftover or MARK in leftover or set(leftover) <= set(names)
    if not ours and not a.keep:
        die(CMD, f"--runs '{a.runs}': not empty and not made by figures.py (no {MARK} in it): "
                 "give a new or empty directory, or --keep to run in it as it is", 2)
    return names, ours


def draw(a, names):
    specs = a.specs
    modes = listed_modes(a.memvirt)
    for name in names:
        spec = os.path.join(specs, f"{name}.sweep")
        need = requirement(spec)
        if need and not fnmatch.filter(modes, need):
            say(f"figures: {name}: skipped, no mode matches '{need}' in 'memvirt list'")
            continue
        if name not in FIGURES:
            die(CMD, f"{spec}: no figure is drawn from this experiment (add it to figures.py)", 1)
        runs = run_sweep(a, name, spec)
        for fname, fig in FIGURES[name](runs):
            path = os.path.join(a.out, f"{fname}.svg")
            write_atomic(path, mvplot.svg(fig))   # whole or not at all: a full disk keeps the old figure
            say(f"figures: {path}")


if __name__ == "__main__":
    run(main, sys.argv[1:])

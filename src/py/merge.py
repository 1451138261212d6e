#!/usr/bin/env python3
"""merge.py: `memvirt sweep merge DIR [--csv FILE] [--json FILE]
[--partial]`: every result of a sweep (DIR/sweep.tsv lists the runs,
DIR/runs/ID.json holds each result) in one JSON file and one CSV file, with
the swept values as columns (docs/sweeps.md).

The JSON keeps the result schema (docs/output.md), so `memvirt report`
reads it: each run gains "index", "id", "sweep" (the swept values) and
"header" (its result file's top-level keys). The CSV has one row per run:
index, id, the swept values, status ('ok', or 'no result' for a run a --partial
merge has no result of: its result cells empty), sim_seconds, then
counter.NAME, cycles.NAME and metric.NAME for every name any run has; the
JSON lists those runs under sweep.missing. Swept parameters are typed as
--param reads them ('2K' is 2048). A result that is not of its manifest
line (another run's, copied under its id; a line edited since), or that does not read as JSON
(stale to `sweep --list`), is left out with a warning, as a run without a
result. Output depends only on the
results, so a sweep run locally and one run on Slurm merge to identical
files."""
import argparse
import csv
import io
import json
import os
import re
import stat
import subprocess
import sys

import mvresults
from mvcommon import (EXIT_FAIL, EXIT_USAGE, HOST_LIMITS, InputError, Parser, check_outputs, die, run, say,
                      write_all_atomic)

CMD = "sweep merge"
MAGIC = "# memvirt sweep manifest"
NOT_JSON = "it does not read as JSON"   # what `sweep _foreign` says of such a result (sweep_stale.c)


SUFFIX = {"": 0, "k": 10, "m": 20, "g": 30, "t": 40}
BOOL = {"1": True, "true": True, "on": True, "yes": True, "0": False, "false": False, "off": False, "no": False}


def typed(text, kind=None):
    """A swept value as JSON, '' as null. kind: the type of the parameter
    (int, float, bool: what its value is in a result's params), read as
    --param reads it (src/lib/param.c): an integer with an optional binary
    suffix K, M, G or T ('2K' is 2048), a decimal as JSON writes one ('2e-3'),
    a boolean as 0/1/true/false/on/off/yes/no. Without a kind (not a
    parameter, or no result says): plain integers and decimals as numbers."""
    if text == "":
        return None
    if kind is int:
        m = re.fullmatch(r"(0|[1-9][0-9]*)([kKmMgGtT]?)", text)
        if m:
            return int(m.group(1)) << SUFFIX[m.group(2).lower()]
        kind = float   # a decimal parameter whose results all held whole numbers
    if kind is float:
        if re.fullmatch(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?", text):
            return float(text) + 0.0   # -0 is 0, as the run took it (param_parse_dbl)
    elif kind is bool:
        if text.lower() in BOOL:
            return BOOL[text.lower()]
    elif kind is None:
        if re.fullmatch(r"-?(0|[1-9][0-9]{0,17})", text):
            return int(text)
        if re.fullmatch(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?", text):
            return float(text) + 0.0
    return text


def param_kinds(cols, docs):
    """{column: int, float or bool} for the swept parameters whose value the
    results' "params" hold as numbers or booleans (the seed: int). A
    decimal parameter's whole values are written as integers (1.0 as 1):
    one non-integer among the results makes the column float."""
    kinds = {"seed": int}
    for c in cols:
        if "." not in c:
            continue
        seen = set()
        for doc in docs:
            v = doc["params"].get(c) if isinstance(doc.get("params"), dict) else None
            seen.add(bool if isinstance(v, bool) else int if isinstance(v, int)
                     else float if isinstance(v, float) else None)
        seen.discard(None)
        if seen == {bool}:
            kinds[c] = bool
        elif seen and seen <= {int, float}:
            kinds[c] = float if float in seen else int
    return kinds


def read_manifest(path):
    """(spec, columns, [(index, id, {col: value text})])"""
    try:   # a spec name or swept value that is not UTF-8 (the sweep writes it as given, or '?') is shown as U+FFFD
        # newline='': a line ends at '\n' alone, as `sweep one` reads it (sweep_manifest.c), not at a CR
        # opened without blocking and read only as a regular file: a FIFO in
        # its place (no writer) would hang the merge
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            os.close(fd)
            raise InputError(f"cannot read '{path}': {'a directory' if stat.S_ISDIR(mode) else 'not a regular file'}, "
                             "not a sweep manifest (a sweep writes it as a file)")
        with open(fd, encoding="utf-8", errors="replace", newline="") as f:
            lines = f.read().split("\n")
        lines = [x[:-1] if x.endswith("\r") else x for x in lines]   # saved with CRLF line ends (an editor)
    except OSError as e:
        raise InputError(f"{path}: cannot read: {e.strerror} (run 'memvirt sweep SPEC' first)") from None
    if not lines[0].startswith(MAGIC):
        raise InputError(f"{path}:1: not a sweep manifest (it starts '{MAGIC}')")
    m = re.match(re.escape(MAGIC) + r" of (.*): \d+ runs;", lines[0])
    spec = m.group(1) if m else ""
    for n, line in enumerate(lines[1:], start=2):
        if "\r" in line:
            raise InputError(f"{path}:{n}: a carriage return (CR) inside field {line[:line.index(chr(13))].count(chr(9)) + 1}: "
                             "a manifest's fields hold none (a line ends at a newline)")
    if len(lines) < 2 or not lines[1].startswith("index\tid\t") or not lines[1].endswith("\targs"):
        raise InputError(f"{path}:2: expected the header 'index, id, ..., args'")
    cols = lines[1].split("\t")[2:-1]
    runs, first = [], {}
    for n, line in enumerate(lines[2:], start=3):
        if line == "" and n == len(lines):
            break
        f = line.split("\t")
        if len(f) != len(cols) + 3:
            raise InputError(f"{path}:{n}: {len(f)} fields, the header has {len(cols) + 3}")
        if f[0] != str(len(runs)):
            raise InputError(f"{path}:{n}: index '{f[0]}', expected {len(runs)}")
        if not re.fullmatch(r"[0-9a-f]{16}", f[1]):
            raise InputError(f"{path}:{n}: malformed run id")
        # one id on two lines: a run two groups make (the same arguments, one
        # result), else lines that would share one result file (sweep_manifest.c)
        if f[1] in first and first[f[1]][1] != f[-1]:
            raise InputError(f"{path}:{n}: run id {f[1]} is line {first[f[1]][0]}'s, whose arguments differ: the "
                             "two would share one result file (run 'memvirt sweep SPEC' to write the manifest again)")
        first.setdefault(f[1], (n, f[-1]))
        runs.append((len(runs), f[1], dict(zip(cols, f[2:-1]))))
    return os.path.basename(spec), cols, runs


def cell(v):
    if v is None:
        return ""
    if isinstance(v, float):
        return repr(v)
    return str(v)


def this_revision():
    """The revision of the memvirt that runs this merge (MEMVIRT_BIN, which
    `memvirt sweep merge` sets), or None."""
    mv = os.environ.get("MEMVIRT_BIN")
    if not mv:
        return None
    try:
        out = subprocess.run([mv, "--version"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    m = re.search(r"\(revision ([^)]*)\)", out)
    return m.group(1) if m else None


def not_of_their_lines(d):
    """{index: why} for every manifest line whose result is not of it: its
    mode, workload, seed, profile, controls or parameters (as its JSON
    records them) are not the line's. The test is `memvirt sweep --list`'s
    stale rule without what needs files or another revision (sweep_stale.c),
    asked of the memvirt that runs this merge."""
    mv = os.environ.get("MEMVIRT_BIN")
    if not mv:
        raise InputError("MEMVIRT_BIN is not set: run this as 'memvirt sweep merge'")
    try:
        r = subprocess.run([mv, "sweep", "_foreign", d], capture_output=True)
    except OSError as e:
        if e.errno in HOST_LIMITS:   # status 1, not bad input
            die(CMD, f"cannot run '{mv}': {e.strerror}", EXIT_FAIL)
        raise InputError(f"cannot run '{mv}': {e.strerror}") from None
    if r.returncode:
        err = r.stderr.decode("utf-8", "surrogateescape").strip()
        die(CMD, err.removeprefix("memvirt: ") or f"'{mv} sweep _foreign' failed (exit status {r.returncode})",
            r.returncode if r.returncode in (EXIT_FAIL, EXIT_USAGE) else EXIT_FAIL)
    out = {}
    for line in r.stdout.decode("utf-8", "surrogateescape").splitlines():
        index, why = line.split("\t", 1)
        out[int(index)] = why
    return out


def warn_stale(merged):
    """Results written by another memvirt would be run again by a sweep
    (sweep_stale.c); merging them is allowed, but said."""
    now = this_revision()
    revs = [r["header"].get("revision") for r in merged]
    if now is not None:
        other = [v for v in revs if v != now]
        if other:
            say(f"memvirt: warning: sweep merge: {len(other)} of {len(merged)} results were written by another "
                f"memvirt (revision {other[0]}; this is {now}): 'memvirt sweep' would run them again")
    elif len(set(revs)) > 1:
        say(f"memvirt: warning: sweep merge: the results come from {len(set(revs))} memvirt revisions")


EPILOG = """exit status:
  0  success: both files are written
  1  a run has no result (without --partial), or a file could not be written
  2  bad input: one 'memvirt: ...' line names it (no manifest, an altered result, an output path
     that cannot be written or that is one of the inputs); nothing is written
  130  interrupted (Ctrl-C): nothing is written

example:
  memvirt sweep /dev/null --set mode=native,pv --set workload=lmbench --set lmbench.iterations=2 --out study.runs
  memvirt sweep merge study.runs --csv study.csv
"""


def main(argv):
    p = Parser(CMD, description="one CSV and one JSON file of every result of a sweep",
               formatter_class=argparse.RawDescriptionHelpFormatter, epilog=EPILOG)
    p.add_argument("dir", metavar="DIR")
    p.add_argument("--csv", metavar="FILE", help="default: DIR/merged.csv")
    p.add_argument("--json", metavar="FILE", help="default: DIR/merged.json")
    p.add_argument("--partial", action="store_true", help="merge the runs that have a result, skip the rest")
    a = p.parse_args(argv)
    # the defaults only where the option is not given ('' is a name, refused)
    json_path = os.path.join(a.dir, "merged.json") if a.json is None else a.json
    csv_path = os.path.join(a.dir, "merged.csv") if a.csv is None else a.csv
    try:
        manifest = os.path.join(a.dir, "sweep.tsv")
        spec, cols, runs = read_manifest(manifest)
        check_outputs([("--json", json_path), ("--csv", csv_path)],
                      [manifest] + [os.path.join(a.dir, "runs", f"{rid}.json") for _, rid, _ in runs])
        missing = [(i, rid) for i, rid, _ in runs
                   if not os.path.exists(os.path.join(a.dir, "runs", f"{rid}.json"))]
        # a result that is not of its line (copied under another run's id,
        # or a line edited since): left out, said, and counted as missing
        foreign = not_of_their_lines(a.dir)
        # and one that is not JSON (`sweep --list` calls it stale, `sweep` runs it again): the same
        notjson = {i for i, why in foreign.items() if why.startswith(NOT_JSON)}
        for i, rid, _ in runs:
            if i in foreign:
                what = "is stale" if i in notjson else f"is not the result of run {i}"
                say(f"memvirt: warning: sweep merge: {os.path.join(a.dir, 'runs', rid + '.json')} {what}: "
                    f"{foreign[i]}; left out, as a run without a result ('memvirt sweep' runs it again)")
                missing.append((i, rid))
        missing.sort()
        if missing and not a.partial:
            kinds = "not theirs or not JSON" if notjson else "not theirs"
            why = f" ({len(foreign)} of them a result {kinds}, said above)" if foreign else " yet"
            die(CMD, f"{a.dir}: {len(missing)} of {len(runs)} runs have no result{why} (first: index "
                     f"{missing[0][0]}, id {missing[0][1]}): run the sweep again, or merge with --partial", EXIT_FAIL)
        skip = set(missing)   # once: built per run, 70,000 runs took minutes
        done = [r for r in runs if (r[0], r[1]) not in skip]
        if not done:
            die(CMD, f"{a.dir}: none of the {len(runs)} runs has a result yet", EXIT_FAIL)
        docs = []
        for index, rid, values in done:
            path = os.path.join(a.dir, "runs", f"{rid}.json")
            doc = mvresults.load(path)
            if len(doc["runs"]) != 1:
                raise InputError(f"{path}: {len(doc['runs'])} runs, a sweep's result has one")
            docs.append(doc)
    except InputError as e:
        die(CMD, str(e))
    kinds = param_kinds(cols, docs)

    def values_of(text):
        return {c: typed(v, kinds.get(c)) for c, v in text.items()}
    merged = []
    for (index, rid, values), doc in zip(done, docs):
        run = dict(doc["runs"][0])
        run["index"], run["id"], run["sweep"] = index, rid, values_of(values)
        run["header"] = {k: v for k, v in doc.items() if k != "runs"}
        merged.append(run)
    warn_stale(merged)
    # the runs without a result (--partial): listed, so that no one reads the
    # merge as the whole sweep
    absent = [{"index": i, "id": rid, "sweep": values_of(v)} for i, rid, v in runs if (i, rid) in skip]

    doc = {"memvirt": "1", "sweep": {"spec": spec, "columns": cols, "runs": len(runs), "merged": len(merged),
                                     "missing": absent},
           "runs": merged}
    names = {part: [] for part in ("counters", "cycles", "metrics")}
    for run in merged:
        for part, lst in names.items():
            for k in run[part]:
                if k not in lst:
                    lst.append(k)
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["index", "id"] + cols + ["status", "sim_seconds"] + [f"counter.{k}" for k in names["counters"]]
               + [f"cycles.{k}" for k in names["cycles"]] + [f"metric.{k}" for k in names["metrics"]])
    width = sum(len(v) for v in names.values()) + 1
    rows = [(run["index"], [run["id"]] + [cell(run["sweep"].get(c)) for c in cols] + ["ok", cell(run["sim_seconds"])]
             + [cell(run[part].get(k)) for part in ("counters", "cycles", "metrics") for k in names[part]])
            for run in merged]
    rows += [(m["index"], [m["id"]] + [cell(m["sweep"].get(c)) for c in cols] + ["no result"] + [""] * width)
             for m in absent]
    for index, row in sorted(rows, key=lambda r: r[0]):   # in the manifest's order, the missing in their place
        w.writerow([index] + row)
    try:
        write_all_atomic([(json_path, json.dumps(doc, indent=1, ensure_ascii=False) + "\n"),
                          (csv_path, out.getvalue())])
    except OSError as e:
        die(CMD, str(e), EXIT_FAIL)
    say(f"sweep merge: {len(merged)} of {len(runs)} runs: {json_path}, {csv_path}"
        + (f" ({len(absent)} without a result, listed in both: status 'no result')" if absent else ""))


if __name__ == "__main__":
    run(main, sys.argv[1:])

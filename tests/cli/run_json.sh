#!/usr/bin/env bash
# run_json.sh: `memvirt run ... --check --json F` succeeds and writes a valid
# JSON document with the documented shape and counter names; two identical
# runs give byte-identical files; --csv writes the documented header and
# the same run totals.
#
# usage: bash run_json.sh /path/to/memvirt
set -u
MV=${1:?usage: run_json.sh /path/to/memvirt}
[ -x "$MV" ] || { echo "run_json.sh: '$MV' is not an executable" >&2; exit 1; }
command -v python3 >/dev/null || { echo "run_json.sh: python3 is needed to validate JSON" >&2; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/memvirt-cli.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
die() { echo "FAIL: $*" >&2; exit 1; }

ARGS=(run --mode native --workload forkstorm --param forkstorm.minutes=1 --check --quiet)

"$MV" "${ARGS[@]}" --json "$tmp/a.json" >"$tmp/a.out" 2>"$tmp/a.err"
rc=$?
[ "$rc" -eq 0 ] || die "run exited $rc: $(head -c 500 "$tmp/a.err")"
[ -s "$tmp/a.json" ] || die "no JSON written"
[ -e "$tmp/a.json.tmp" ] && die "temporary file a.json.tmp left behind"
python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$tmp/a.json" \
    || die "the JSON file does not parse"

python3 - "$tmp/a.json" <<'PY' || die "JSON content checks failed"
import json, sys
d = json.load(open(sys.argv[1]))
errors = []
def check(cond, msg):
    if not cond:
        errors.append(msg)
check(d.get("seed") == 1, "seed is %r, expected 1" % d.get("seed"))
check(d.get("check") is True, "check is %r, expected true" % d.get("check"))
runs = d.get("runs")
check(isinstance(runs, list) and len(runs) == 1, "runs is not a one-element list")
if isinstance(runs, list) and runs:
    r = runs[0]
    check(r.get("mode") == "native", "runs[0].mode is %r" % r.get("mode"))
    check(r.get("workload") == "forkstorm", "runs[0].workload is %r" % r.get("workload"))
    c = r.get("counters", {})
    names = ("fork exec exit pt_pages_alloc pt_pages_free guest_pf tlb_miss walk_refs "
             "vm_exits hypercalls iotlb_inv_psi iotlb_inv_dsi iotlb_inv_global iotlb_miss "
             "dma_faults refs").split()
    for n in names:
        check(n in c, "counter %s missing" % n)
        check(isinstance(c.get(n), int) and c.get(n, -1) >= 0, "counter %s is not a count" % n)
    for n in ("fork", "exec", "exit"):
        check(c.get(n, 0) > 0, "counter %s is %r, expected > 0" % (n, c.get(n)))
    check(c.get("pt_pages_alloc") == c.get("pt_pages_free"),
          "pt_pages_alloc %r != pt_pages_free %r" % (c.get("pt_pages_alloc"), c.get("pt_pages_free")))
    check(c.get("pt_pages_alloc", 0) > 0, "no page-table pages allocated")
    check(c.get("exit") == c.get("fork", 0) + 1, "exit != fork + 1 (the launcher)")
    check(0 < c.get("oracle_checks", 0) == c.get("refs", 0), "oracle_checks != refs (every reference checked)")
    cyc = r.get("cycles", {})
    check("total" in cyc and cyc["total"] == sum(v for k, v in cyc.items() if k != "total"),
          "cycles.total is not the sum of the buckets")
    check(isinstance(r.get("sim_seconds"), (int, float)) and r["sim_seconds"] >= 60,
          "sim_seconds %r, expected >= 60 for one simulated minute" % r.get("sim_seconds"))
    s = r.get("series", {})
    check(isinstance(s.get("time_s"), list) and len(s["time_s"]) >= 1, "series.time_s empty")
for e in errors:
    print("  " + e, file=sys.stderr)
sys.exit(1 if errors else 0)
PY

# The same run again (with --csv too): byte-identical JSON.
"$MV" "${ARGS[@]}" --json "$tmp/b.json" --csv "$tmp/b.csv" >"$tmp/b.out" 2>"$tmp/b.err"
rc=$?
[ "$rc" -eq 0 ] || die "second run exited $rc: $(head -c 500 "$tmp/b.err")"
cmp -s "$tmp/a.json" "$tmp/b.json" || die "two identical runs gave different JSON: $(cmp "$tmp/a.json" "$tmp/b.json")"
cmp -s "$tmp/a.out" "$tmp/b.out" || die "two identical runs printed different tables"

[ -s "$tmp/b.csv" ] || die "no CSV written"
header=$(head -n 1 "$tmp/b.csv")
[ "$header" = "mode,workload,kind,name,time_s,value" ] || die "CSV header is '$header'"
awk -F, 'NR > 1 && NF != 6 { bad = 1; print "line " NR ": " $0 > "/dev/stderr" } END { exit bad }' "$tmp/b.csv" \
    || die "CSV rows without 6 fields"
# the CSV holds every run total of the JSON, with the same values: each
# counter, each cycle bucket and their total, each metric, and sim_seconds
python3 - "$tmp/b.json" "$tmp/b.csv" <<'PY' || die "the CSV's run totals do not match the JSON's"
import csv, json, sys
r = json.load(open(sys.argv[1]))["runs"][0]
rows = {}
for row in csv.DictReader(open(sys.argv[2])):
    if row["mode"] == "native" and row["kind"] in ("run", "counter", "cycles", "metric"):
        rows[(row["kind"], row["name"])] = row["value"]
want = {("run", "sim_seconds"): r["sim_seconds"]}
want.update({("counter", k): v for k, v in r["counters"].items()})
want.update({("cycles", k): v for k, v in r["cycles"].items()})
want.update({("metric", k): v for k, v in r["metrics"].items()})
bad = [f"{k}: CSV {rows.get(k)!r}, JSON {v!r}" for k, v in want.items()
       if k not in rows or float(rows[k]) != float(v)]
bad += [f"{k}: in the CSV only" for k in rows if k not in want]
if ("cycles", "total") not in want:
    bad.append("the JSON has no cycles total")
for b in bad[:10]:
    print(b, file=sys.stderr)
sys.exit(1 if bad else 0)
PY

# The document records the seed and the workload; a different seed gives
# different results (forkstorm's arrivals are random).
"$MV" run --mode native --workload forkstorm --param forkstorm.minutes=0.3 --quiet --seed 5 --json "$tmp/c.json" >/dev/null 2>&1 \
    || die "forkstorm run with --seed 5 failed"
"$MV" run --mode native --workload forkstorm --param forkstorm.minutes=0.3 --quiet --seed 6 --json "$tmp/d.json" >/dev/null 2>&1 \
    || die "forkstorm run with --seed 6 failed"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if d["seed"] == 5 and d["runs"][0]["workload"] == "forkstorm" else 1)' "$tmp/c.json" \
    || die "seed/workload not recorded in the JSON"
python3 -c 'import json,sys; a,b=(json.load(open(f))["runs"][0]["counters"] for f in sys.argv[1:]); sys.exit(0 if a != b else 1)' "$tmp/c.json" "$tmp/d.json" \
    || die "seeds 5 and 6 gave identical counters"

echo "run_json.sh: all checks passed"

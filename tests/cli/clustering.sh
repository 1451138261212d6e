#!/usr/bin/env bash
# clustering.sh: --clustering from the command line. It applies to the
# hardware-virtualized modes only: under native or a PV mode it is bad input
# (exit 2, one message, no output); compare without --modes runs the modes
# it applies to; it contradicts --param clustering.enable=false; it is in
# the JSON's parameters, so rerun repeats it; the per-site metrics are there.
set -u
MV=${1:?usage: clustering.sh /path/to/memvirt}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "clustering.sh: $*" >&2; exit 1; }
lm=(--quiet --workload lmbench --param lmbench.iterations=5)

bad() {   # bad "what" "needle" args...
    local what=$1 needle=$2; shift 2
    "$MV" "$@" --json "$tmp/out.json" >/dev/null 2>"$tmp/err"; local rc=$?
    [ "$rc" -eq 2 ] || fail "$what: exit status $rc, expected 2"
    [ "$(wc -l <"$tmp/err")" -eq 1 ] || fail "$what: expected one line, got: $(cat "$tmp/err")"
    grep -q -- "$needle" "$tmp/err" || fail "$what: message does not say '$needle': $(cat "$tmp/err")"
    [ ! -e "$tmp/out.json" ] || fail "$what: an output file was written"
}
bad "under native"       "^memvirt: --clustering: mode native has no hardware VM exits" run --mode native "${lm[@]}" --clustering
bad "under pv"           "mode pv has no hardware VM exits"     run --mode pv "${lm[@]}" --clustering
bad "in a compare with pv-pibooster" "pv-pibooster"             compare --modes tsp,pv-pibooster "${lm[@]}" --clustering
# the message names what was given: the parameter, not --clustering (which it blamed)
bad "param under pv"     "^memvirt: --param clustering.enable=true: mode pv has no hardware VM exits" \
    run --mode pv "${lm[@]}" --param clustering.enable=true
bad "param in a compare" "^memvirt: --param clustering.enable=true: mode native has" \
    compare --modes native,hap "${lm[@]}" --param clustering.enable=on
bad "both under native"  "^memvirt: --clustering: mode native" \
    run --mode native "${lm[@]}" --param clustering.enable=true --clustering
bad "contradiction"      "contradicts"                          run --mode tsp "${lm[@]}" --clustering --param clustering.enable=false
bad "takes no value"     "takes no value"                       run --mode tsp "${lm[@]}" --clustering=yes

# compare with no --modes: the modes with VM exits, all of them
"$MV" compare "${lm[@]}" --clustering --check --json "$tmp/c.json" >/dev/null || fail "compare --clustering failed"
python3 - "$tmp/c.json" <<'PY' || fail "compare --clustering: wrong modes or results"
import json, sys
d = json.load(open(sys.argv[1]))
modes = [r["mode"] for r in d["runs"]]
assert "native" not in modes and "pv" not in modes and "pv-pibooster" not in modes, modes
assert "tsp" in modes and "hap" in modes, modes
tsp = next(r for r in d["runs"] if r["mode"] == "tsp")
assert tsp["counters"]["cluster_exits_avoided"] > 0
m = tsp["metrics"]
assert sum(v for k, v in m.items() if k.startswith("clustering_avoided_")) == tsp["counters"]["cluster_exits_avoided"]
assert sum(v for k, v in m.items() if k.startswith("clustering_clusters_")) == tsp["counters"]["clusters"]
PY

# rerun repeats it byte for byte (the parameter is in the file)
"$MV" run --mode tsp "${lm[@]}" --clustering --json "$tmp/a.json" >/dev/null || fail "run --clustering failed"
"$MV" rerun "$tmp/a.json" --json "$tmp/b.json" >/dev/null 2>&1 || fail "rerun failed"
python3 - "$tmp/a.json" "$tmp/b.json" <<'PY' || fail "rerun differs"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
for d in (a, b):
    d.pop("revision", None)
    d.get("config", {}).pop("revision", None)
assert a["runs"] == b["runs"], "runs differ"
assert a["runs"][0]["counters"]["cluster_exits_avoided"] > 0
PY
echo "clustering.sh: all checks passed"

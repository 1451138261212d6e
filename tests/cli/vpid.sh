#!/usr/bin/env bash
# vpid.sh: hv.vpid=false, VMX without VPIDs: every VM exit and entry flushes
# the guest's linear and combined translations and its paging-structure
# caches (hv/exit.c), not its guest-physical ones.
#
#  - every mode passes --check with it (forkstorm, short);
#  - native, pv and pv-pibooster are unchanged, counter for counter (no VM
#    exits: a PV guest's traps and hypercalls are not VMX transitions);
#  - tsp, ssp and hap walk more (each exit empties the walk caches) and miss
#    the TLB at least as often; their exits are the same in number;
#  - on a memwalk whose pages the TLB holds between exits, tsp misses far
#    more often.
# About 2 s of CPU.
#
# usage: bash vpid.sh /path/to/memvirt
set -u
MV=${1:?usage: vpid.sh /path/to/memvirt}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/memvirt-vpid.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/lib/expect.sh"

for v in true false; do
    "$MV" compare --quiet --check --jobs 1 --workload forkstorm --param forkstorm.minutes=0.1 \
        --param hv.vpid=$v --json "$tmp/$v.json" >/dev/null 2>"$tmp/$v.err" ||
        fail "hv.vpid=$v: memvirt compare --check (exit $?): $(tail -1 "$tmp/$v.err")"
done
# a working set the TLB holds between faults: each exit's flush costs misses
for v in true false; do
    "$MV" run --quiet --mode tsp --workload memwalk --param memwalk.ws_mb=4 --param memwalk.refs=200000 \
        --param memwalk.remap_every=2000 --param hv.vpid=$v --json "$tmp/mw_$v.json" >/dev/null 2>"$tmp/err" ||
        fail "memwalk, hv.vpid=$v: $(tail -1 "$tmp/err")"
done
[ "$failures" -eq 0 ] || finish vpid.sh

/usr/bin/python3 - "$tmp" <<'PY' || fail "hv.vpid=false (above)"
import json, os, sys
d = sys.argv[1]
def runs(v):
    return {r["mode"]: r["counters"] for r in json.load(open(os.path.join(d, v + ".json")))["runs"]}
on, off = runs("true"), runs("false")
bad = []
def want(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    bad.extend([] if ok else [what])
for m in ("native", "pv", "pv-pibooster"):
    want(on[m] == off[m], "%s: the same counters without VPIDs" % m)
for m in ("tsp", "ssp", "hap"):
    a, b = on[m], off[m]
    want(a["vm_exits"] == b["vm_exits"] and a["vm_exits"] > 0, "%s: %d VM exits both ways" % (m, a["vm_exits"]))
    want(b["walk_refs"] > 1.1 * a["walk_refs"], "%s: walk references %d -> %d" % (m, a["walk_refs"], b["walk_refs"]))
    want(b["tlb_miss"] >= a["tlb_miss"], "%s: TLB misses %d -> %d" % (m, a["tlb_miss"], b["tlb_miss"]))
a = json.load(open(os.path.join(d, "mw_true.json")))["runs"][0]["counters"]
b = json.load(open(os.path.join(d, "mw_false.json")))["runs"][0]["counters"]
want(b["tlb_miss"] > 1.5 * a["tlb_miss"] and a["vm_exits"] == b["vm_exits"],
     "tsp, memwalk reusing its pages: TLB misses %d -> %d over %d exits" % (a["tlb_miss"], b["tlb_miss"], a["vm_exits"]))
sys.exit(1 if bad else 0)
PY
finish vpid.sh

#!/usr/bin/env bash
# paper_ssp.sh: the direction of SSP's result on memvirt (Sha et al.,
# VEE'21: memory-virtualization VM exits -23% to -56% against traditional
# shadow paging; REFERENCE.md §1; docs/shadow-nested.md, claim 2, tables 3
# and 3b), on the doc's workloads, forkstorm shortened (0.5 simulated
# minutes, the doc 5). VM exits are the run's vm_exits (ssp's flush traps
# are ssp_traps, not VM exits, as in the doc).
#
# Against tsp as it is by default (KVM's per-vCPU flood detector), the doc
# finds the paper's range only on the remapping memwalk; process churn saves
# little, for the reason the doc gives (a fault costs both designs two exits):
#   fault-heavy memwalk  at least 30% fewer (the paper's 23% and a margin;
#                        measured tsp 635,118, ssp 415,157: -34.6%)
#   lmbench (100)        at least 5% fewer  (measured 124,373 / 112,806: -9.3%)
#   forkstorm (0.5 min)  at least 2% fewer  (measured 738,480 / 707,890: -4.1%)
# Against a tsp that never unshadows (tsp.flood_threshold=1048576), the doc's
# claim is the paper's range on every workload: at least 23% fewer on each
# (measured 1,080,359 / 707,890: -34.5%; 193,949 / 112,806: -41.8%;
# 694,734 / 415,157: -40.2%).
# About 2 s of CPU. Normal build only (CMakeLists.txt).
#
# usage: bash paper_ssp.sh /path/to/memvirt
set -u
MV=${1:?usage: paper_ssp.sh /path/to/memvirt}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/memvirt-ssp.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/lib/expect.sh"

cmp() {   # cmp NAME ARGS...: memvirt compare into $tmp/NAME.json
    local name=$1; shift
    "$MV" compare --quiet --jobs 1 --json "$tmp/$name.json" "$@" >/dev/null 2>"$tmp/$name.err" ||
        fail "$name: memvirt compare $*: $(tail -1 "$tmp/$name.err")"
}
fs=(--workload forkstorm --param forkstorm.minutes=0.5)
lm=(--workload lmbench --param lmbench.iterations=100)
fh=(--workload memwalk --param memwalk.ws_mb=64 --param memwalk.remap_every=2000 --param memwalk.remap_kb=512
    --param memwalk.refs=2000000)
noflood=(--param tsp.flood_threshold=1048576)
for w in fs lm fh; do
    case $w in fs) args=("${fs[@]}") ;; lm) args=("${lm[@]}") ;; fh) args=("${fh[@]}") ;; esac
    cmp "$w"         --modes tsp,ssp "${args[@]}"
    cmp "${w}_noflood" --modes tsp "${args[@]}" "${noflood[@]}"
done
[ "$failures" -eq 0 ] || finish paper_ssp.sh

/usr/bin/python3 - "$tmp" <<'PY' || fail "SSP does not cut the VM exits as the paper says (above)"
import json, os, sys
d = sys.argv[1]
def exits(name):
    return {r["mode"]: r["counters"]["vm_exits"] for r in json.load(open(os.path.join(d, name + ".json")))["runs"]}
bad = []
for w, what, least in (("fh", "fault-heavy memwalk", 0.30), ("lm", "lmbench", 0.05), ("fs", "forkstorm", 0.02)):
    e = exits(w)
    nf = exits(w + "_noflood")["tsp"]
    for base, tsp, bound in (("tsp", e["tsp"], least), ("tsp never unshadowing", nf, 0.23)):
        cut = 1 - e["ssp"] / tsp
        ok = cut >= bound
        print("%s %s: ssp %d VM exits against %s %d: %.1f%% fewer, at least %.0f%%"
              % ("ok  " if ok else "FAIL", what, e["ssp"], base, tsp, 100 * cut, 100 * bound))
        bad += [] if ok else [w]
sys.exit(1 if bad else 0)
PY
finish paper_ssp.sh

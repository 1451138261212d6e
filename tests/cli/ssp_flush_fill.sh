#!/usr/bin/env bash
# ssp_flush_fill.sh: SSP with a guest that flushes after every fault
# (guest.flush_after_fault, RISC-V Linux's eager flush in update_mmu_cache)
# and a hypervisor that fills the entry the flush announces (ssp.flush_fill).
#
#  1. Under --check, every mode passes the oracle and the invariants with the
#     guest's extra flushes, ssp with the fill too (lmbench, short).
#  2. The guest flushes once per fault it handles: tsp takes an INVLPG exit
#     for each (vm_exits_invlpg grows by guest_pf), ssp a trap.
#  3. The exits per guest fault under ssp: about two without the fill (the
#     fault given to the guest, the retry that fills the shadow), about one
#     with it (the retry hits the entry the flush filled); shadow_sync counts
#     the fills.
#  4. Off (the default), the fill changes nothing: the flag alone, without
#     the guest's flushes, gives the same counters.
#  5. With fault-around (guest.fault_around_bytes=65536) the guest flushes
#     every page a fault maps, as update_mmu_cache_range does: tsp's INVLPG
#     exits grow by guest_pf + pf_around, and ssp with the fill still takes
#     about one exit per fault (the pages mapped around it filled at their
#     flush, so none of them faults into the hypervisor later).
# About 4 s of CPU.
#
# usage: bash ssp_flush_fill.sh /path/to/memvirt
set -u
MV=${1:?usage: ssp_flush_fill.sh /path/to/memvirt}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/memvirt-sspff.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/lib/expect.sh"

lm=(--workload lmbench --param lmbench.iterations=40)
ff=(--param guest.flush_after_fault=true)
fill=(--param ssp.flush_fill=true)
cmp() {   # cmp NAME ARGS...: memvirt compare into $tmp/NAME.json
    local name=$1; shift
    "$MV" compare --quiet --jobs 1 --json "$tmp/$name.json" "$@" >/dev/null 2>"$tmp/$name.err" ||
        fail "$name: memvirt compare $* (exit $?): $(tail -1 "$tmp/$name.err")"
}
cmp checked --check "${lm[@]}" "${ff[@]}" "${fill[@]}"
cmp base --modes tsp,ssp "${lm[@]}"
cmp flush --modes tsp,ssp "${lm[@]}" "${ff[@]}"
cmp both --modes tsp,ssp "${lm[@]}" "${ff[@]}" "${fill[@]}"
cmp fillonly --modes ssp "${lm[@]}" "${fill[@]}"
fa=(--param guest.fault_around_bytes=65536)
cmp fa_base --modes tsp "${lm[@]}" "${fa[@]}"
cmp fa_both --check --modes tsp,ssp "${lm[@]}" "${fa[@]}" "${ff[@]}" "${fill[@]}"
[ "$failures" -eq 0 ] || finish ssp_flush_fill.sh

/usr/bin/python3 - "$tmp" <<'PY' || fail "SSP's fill at the guest's flush (above)"
import json, os, sys
d = sys.argv[1]
def runs(name):
    return {r["mode"]: r["counters"] for r in json.load(open(os.path.join(d, name + ".json")))["runs"]}
bad = []
def want(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        bad.append(what)
checked = runs("checked")
want(len(checked) >= 7, "every mode ran under --check (%d)" % len(checked))
base, flush, both, fillonly = runs("base"), runs("flush"), runs("both"), runs("fillonly")
pf = base["tsp"]["guest_pf"]
want(pf > 1000 and all(r[m]["guest_pf"] == pf for r in (flush, both) for m in ("tsp", "ssp")),
     "the same %d guest faults in every run" % pf)
extra = flush["tsp"]["vm_exits_invlpg"] - base["tsp"]["vm_exits_invlpg"]
want(extra == pf, "tsp: one INVLPG exit more per guest fault (%d more, %d faults)" % (extra, pf))
for name, r, lo, hi in (("without the fill", flush, 1.8, 2.2), ("with the fill", both, 0.9, 1.2)):
    per = r["ssp"]["vm_exits_pf"] / pf
    want(lo <= per <= hi, "ssp %s: %.3f fault exits per guest fault, expected %.1f to %.1f" % (name, per, lo, hi))
fills = both["ssp"]["shadow_sync"] - flush["ssp"]["shadow_sync"]
want(fills >= 0.8 * pf, "ssp fills at the flush: %d more shadow_sync (%d faults)" % (fills, pf))
want(fillonly["ssp"] == base["ssp"], "ssp.flush_fill alone, the guest not flushing: the same counters")
fa_base, fa_both = runs("fa_base"), runs("fa_both")
fpf, around = fa_both["tsp"]["guest_pf"], fa_both["tsp"]["pf_around"]
want(around > fpf, "fault-around maps pages (%d around %d faults)" % (around, fpf))
extra = fa_both["tsp"]["vm_exits_invlpg"] - fa_base["tsp"]["vm_exits_invlpg"]
want(extra == fpf + around,
     "tsp, fault-around: one INVLPG exit per page mapped (%d more, %d faults + %d around)" % (extra, fpf, around))
per = fa_both["ssp"]["vm_exits_pf"] / fpf
want(0.9 <= per <= 1.2, "ssp, fault-around, both: %.3f fault exits per guest fault, expected 0.9 to 1.2" % per)
cut = 1 - both["ssp"]["vm_exits"] / base["tsp"]["vm_exits"]
want(cut >= 0.23, "ssp with both against the default tsp: %.1f%% fewer VM exits (paper: 23-56%%)" % (100 * cut))
sys.exit(1 if bad else 0)
PY
finish ssp_flush_fill.sh

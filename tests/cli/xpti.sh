#!/usr/bin/env bash
# xpti.sh: xen.xpti from the command line. Under pv and pv-pibooster with
# --check (the translation oracle and the PV invariants at every step):
# `on` flushes once per trap (tlb_flush_all and xen_xpti_flushes equal
# vm_exits), `pcid` never, and both copy the L4 at least once per fault,
# system call and iret and at most once per trap; off has no XPTI metric;
# the hypervisor's time grows by exactly the CR3 writes and the copies;
# rerun repeats an XPTI run byte for byte; a bad value is refused.
set -u
MV=${1:?usage: xpti.sh /path/to/memvirt}
case "$MV" in /*) ;; *) MV="$PWD/$MV" ;; esac
tmp=$(mktemp -d "${TMPDIR:-/tmp}/memvirt-xpti.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
out="$tmp/out"
. "$(dirname "$0")/lib/expect.sh"
fs=(--workload forkstorm --param forkstorm.minutes=0.05 --check --quiet)

for m in pv pv-pibooster; do
    for x in off on pcid; do
        "$MV" run --mode "$m" "${fs[@]}" --param xen.xpti=$x --json "$tmp/$m.$x.json" >/dev/null 2>"$tmp/err" \
            || fail "$m xen.xpti=$x: exit status $?: $(head -c 300 "$tmp/err")"
    done
    /usr/bin/python3 - "$tmp" "$m" <<'PY' || fail "$m: the XPTI figures (above)"
import json, sys
tmp, m = sys.argv[1], sys.argv[2]
run = {x: json.load(open(f"{tmp}/{m}.{x}.json")) for x in ("off", "on", "pcid")}
r = {x: run[x]["runs"][0] for x in run}
bad = []
def want(ok, what):
    if not ok:
        bad.append(what)
c = {x: r[x]["counters"] for x in r}
mt = {x: r[x]["metrics"] for x in r}
p = run["on"]["params"]
want(not any("xpti" in k for k in mt["off"]), "off has an XPTI metric")
want(c["on"]["vm_exits"] == c["off"]["vm_exits"] == c["pcid"]["vm_exits"], "XPTI changed the traps")
want(mt["on"]["xen_xpti_flushes"] == c["on"]["vm_exits"] == c["on"]["tlb_flush_all"] - c["off"]["tlb_flush_all"],
     "on: not one flush per trap")
want(mt["pcid"]["xen_xpti_flushes"] == 0 and c["pcid"]["tlb_flush_all"] == c["off"]["tlb_flush_all"], "pcid flushed")
want(c["pcid"]["tlb_miss"] == c["off"]["tlb_miss"] and c["pcid"]["walk_refs"] == c["off"]["walk_refs"],
     "pcid changed the translations")
want(c["on"]["walk_refs"] > c["off"]["walk_refs"], "on: the flushes cost no walk")
toggles = c["on"]["vm_exits_pf"] + c["on"]["vm_exits_syscall"] + c["on"]["hc_iret"]
for x in ("on", "pcid"):
    n = mt[x]["xen_xpti_l4_copies"]
    want(toggles <= n <= c[x]["vm_exits"], f"{x}: {n} L4 copies for {toggles} mode switches and {c[x]['vm_exits']} traps")
    extra = r[x]["cycles"]["hypervisor"] - r["off"]["cycles"]["hypervisor"]
    exact = c[x]["vm_exits"] * 2 * p["cost.cr3_write"] + n * p["cost.pv_scan"]
    want(extra == exact, f"{x}: hypervisor cycles grew by {extra}, the CR3 writes and copies are {exact}")
if bad:
    print(f"{m}: " + "; ".join(bad), file=sys.stderr)
    sys.exit(1)
PY
done

# rerun repeats an XPTI run byte for byte (xen.xpti is in its parameters)
"$MV" rerun "$tmp/pv.on.json" --quiet --json "$tmp/again.json" >/dev/null 2>"$tmp/err" \
    || fail "rerun of an XPTI run: $(head -c 300 "$tmp/err")"
cmp -s <(grep -v '"revision"' "$tmp/pv.on.json") <(grep -v '"revision"' "$tmp/again.json") \
    || fail "rerun of an XPTI run differs"

expect_bad "a bad value" "xen.xpti;'maybe';off|on|pcid" run --mode pv "${fs[@]}" --param xen.xpti=maybe
finish xpti.sh

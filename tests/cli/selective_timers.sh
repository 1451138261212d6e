#!/usr/bin/env bash
# selective_timers.sh: selective's periodic decisions over long stretches
# (hv/selective/selective.c, sel_tick).
#   dynamic     an idle gap of many sampling periods is crossed at once:
#               forkstorm at one process a minute, sampled every microsecond
#   alternate   a period shorter than a round trip's cost fires once per
#               tick, as a forwarded hrtimer: the run ends (it used to owe
#               more round trips at each tick, without end)
# Both under a time limit that the old per-period loops overran many times.
#
# usage: bash selective_timers.sh /path/to/memvirt
set -u
MV=${1:?usage: selective_timers.sh /path/to/memvirt}
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/memvirt-sel.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/lib/expect.sh"

timeout 20 "$MV" run --mode selective --workload forkstorm --param forkstorm.minutes=100 \
    --param forkstorm.rate_per_min=1 --param selective.sample_ms=0.001 --quiet >"$tmp/dyn.txt" 2>&1
rc=$?
[ "$rc" -eq 0 ] || fail "dynamic policy over idle gaps: exit $rc (124: over the time limit): $(tail -1 "$tmp/dyn.txt")"

timeout 20 "$MV" run --mode selective --workload memwalk --param memwalk.ws_mb=16 --param memwalk.refs=10000 \
    --param selective.policy=alternate --param selective.alternate_ms=0.001 --param cost.clock_ghz=0.1 \
    --quiet --json "$tmp/alt.json" >/dev/null 2>"$tmp/alt.err"
rc=$?
[ "$rc" -eq 0 ] || fail "alternate policy, periods shorter than a round trip: exit $rc (124: over the time limit)"
# one round trip per period at most: no more trips than periods in the run
if [ "$rc" -eq 0 ]; then
    /usr/bin/python3 - "$tmp/alt.json" <<'PY' || fail "alternate policy: more round trips than periods"
import json, sys
r = json.load(open(sys.argv[1]))["runs"][0]
trips = r["metrics"]["selective_to_shadow"]
periods = r["sim_seconds"] / 1e-6
sys.exit(0 if trips <= periods + 1 else 1)
PY
fi

finish selective_timers.sh

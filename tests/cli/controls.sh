#!/usr/bin/env bash
# controls.sh: each mode offers its own run-time controls. A control the
# mode does not offer, from --at or from a workload parameter, is bad input
# (exit 2, one message naming it) before anything runs; in a compare, one
# mode lacking it is enough. The controls the mode offers work.
set -u
MV=${1:?usage: controls.sh /path/to/memvirt}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "controls.sh: $*" >&2; exit 1; }
fs=(--quiet --workload forkstorm --param forkstorm.minutes=0.2)

bad() {   # bad "what" "needle" args...
    local what=$1 needle=$2; shift 2
    "$MV" "$@" --json "$tmp/out.json" >/dev/null 2>"$tmp/err"; local rc=$?
    [ "$rc" -eq 2 ] || fail "$what: exit status $rc, expected 2"
    [ "$(wc -l <"$tmp/err")" -eq 1 ] || fail "$what: expected one line, got: $(cat "$tmp/err")"
    grep -q -- "$needle" "$tmp/err" || fail "$what: message does not say '$needle': $(cat "$tmp/err")"
    [ ! -e "$tmp/out.json" ] || fail "$what: an output file was written"
}
bad "--at ptcache under pv"           "no control 'ptcache'"  run --mode pv "${fs[@]}" --at 5s:ptcache=on
bad "--at ptcache under native"       "no control 'ptcache'"  run --mode native "${fs[@]}" --at 5s:ptcache=on
bad "--at in a compare with pv"       "mode pv has no control" compare --modes pv-pibooster,pv "${fs[@]}" --at 5s:ptcache=on
bad "--at ptcache under tsp"          "no control 'ptcache'"  run --mode tsp "${fs[@]}" --at 5s:ptcache=on
bad "workload control under pv"       "does not offer"         run --mode pv "${fs[@]}" --param forkstorm.ptcache_on_min=0.1
bad "unknown control"                 "unknown control 'bogus'"     run --mode pv-pibooster "${fs[@]}" --at 5s:bogus=1
# the message names every form an on/off control takes, as a boolean
# parameter does (it said "on or off" and took true, yes, 1 silently)
bad "bad control value" "ptcache takes on or off (any of on/off, true/false, yes/no, 1/0, in any case), not 'maybe'" \
    run --mode pv-pibooster "${fs[@]}" --at 5s:ptcache=maybe
bad "bad boolean parameter" "guest.pcid: malformed value 'maybe' (expected true or false; any of on/off, true/false" \
    run --mode pv-pibooster "${fs[@]}" --param guest.pcid=maybe
"$MV" run --mode pv-pibooster "${fs[@]}" --at 1s:ptcache=TRUE --at 2s:ptcache=no --at 3s:ptcache=1 \
    --json "$tmp/at.json" >/dev/null 2>"$tmp/err" || fail "ptcache=TRUE, no, 1: $(cat "$tmp/err")"
tr -d ' \n' <"$tmp/at.json" | grep -q '"at":\["1s:ptcache=on","2s:ptcache=off","3s:ptcache=on"\]' ||
    fail "ptcache=TRUE, no, 1 not read as on, off, on: $(grep -A4 '"at"' "$tmp/at.json")"
rm -f "$tmp/at.json"
# a message about an --at echoes the user's own text (it echoed a reformatted
# one: 0ns:shadow=on as 0m:shadow=on)
bad "--at a control the mode lacks"   "^memvirt: --at '0ns:shadow=on': mode pv-pibooster has no control 'shadow'\$" \
    run --mode pv-pibooster "${fs[@]}" --at 0ns:shadow=on
bad "--at contradicting another"      "^memvirt: --at '1000ms:ptcache=off': contradicts --at '1s:ptcache=on' at the same time\$" \
    run --mode pv-pibooster "${fs[@]}" --at 1s:ptcache=on --at 1000ms:ptcache=off
"$MV" run --mode pv-pibooster "${fs[@]}" --at 3600000ms:ptcache=off >/dev/null 2>"$tmp/err" || fail "a late --at: $(cat "$tmp/err")"
grep -q "^memvirt: warning: --at 3600000ms:ptcache=off was never applied" "$tmp/err" \
    || fail "a late --at: the warning does not echo it: $(cat "$tmp/err")"
# at most 32 scheduled controls: said in --help, and the 33rd is one clear error
ats=(); for i in $(seq 1 33); do ats+=(--at "${i}ms:ptcache_ratio=$i"); done
"$MV" run --mode pv-pibooster "${fs[@]}" "${ats[@]:0:64}" >/dev/null 2>"$tmp/err" || fail "32 --at: $(cat "$tmp/err")"
bad "33 --at"                         "^memvirt: --at '33ms:ptcache_ratio=33': more than 32 --at controls (a run takes at most 32)\$" \
    run --mode pv-pibooster "${fs[@]}" "${ats[@]}"
for c in run compare; do
    "$MV" $c --help | grep -A4 -- '--at TIME' | grep -q 'at most 32' || fail "$c --help does not say --at's limit of 32"
done

# `memvirt list`, where the messages and --help send the reader, shows each
# mode's controls (it showed none)
"$MV" list >"$tmp/list" || fail "list failed"
sed -n '/^controls/,/^$/p' "$tmp/list" >"$tmp/controls"
grep -Eq '^  pv-pibooster +ptcache=on\|off ' "$tmp/controls" || fail "list does not show pv-pibooster's ptcache"
grep -Eq '^ +ptcache_ratio=0\.\.1000000 ' "$tmp/controls" || fail "list does not show ptcache_ratio and its range"
grep -Eq '^  selective +shadow=on\|off ' "$tmp/controls" || fail "list does not show selective's shadow"
# the controls pv-pibooster offers: off at boot, on at 6 s, the pool grows after
"$MV" run --mode pv-pibooster "${fs[@]}" --param guest.pt_cache=off --param sim.series_ms=6000 \
    --at 6s:ptcache=on --json "$tmp/on.json" >/dev/null || fail "pv-pibooster with --at ptcache=on failed"
python3 - "$tmp/on.json" <<'PY' || fail "the cache did not come on at 6 s"
import json, sys
g = json.load(open(sys.argv[1]))["runs"][0]["series"]["gauges"]["ptcache_pool"]
sys.exit(0 if g[0] == 0 and max(g[1:]) > 0 else 1)
PY
echo "controls.sh: all checks passed"

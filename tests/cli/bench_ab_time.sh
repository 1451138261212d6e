#!/usr/bin/env bash
# bench_ab_time.sh: bench/ab_time.sh, the A/B timing script the speed
# notes in docs/performance.md cite: on one binary against itself it
# prints both times and their ratio; a bad N, or a run that fails, stops
# it with one line on stderr and a non-zero exit.
#
# usage: bash bench_ab_time.sh /path/to/memvirt
set -u
MV=${1:?usage: bench_ab_time.sh MEMVIRT}
here=$(cd "$(dirname "$0")/../.." && pwd)
[ -x /usr/bin/time ] || { echo "bench_ab_time.sh: no /usr/bin/time (scripts/setup installs it): skipped"; exit 77; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/memvirt-ab.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

bash "$here/bench/ab_time.sh" "$MV" "$MV" 2 --mode native --workload memwalk --param memwalk.refs=1000 \
    >"$tmp/out" 2>"$tmp/err" || fail "a good run exited $?: $(cat "$tmp/err")"
grep -Eq '^old [0-9]+\.[0-9]{2} s, new [0-9]+\.[0-9]{2} s \(user, fastest of each\): new/old ([0-9]+\.[0-9]{3}|n/a \(too short to time: give more references\))$' "$tmp/out" ||
    fail "unexpected output: $(cat "$tmp/out")"

for n in x 2a ""; do
    bash "$here/bench/ab_time.sh" "$MV" "$MV" "$n" --mode native >"$tmp/out" 2>"$tmp/err"
    rc=$?
    { [ "$rc" -ne 0 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] && [ ! -s "$tmp/out" ]; } ||
        fail "N='$n': exit $rc, stdout '$(cat "$tmp/out")', stderr '$(cat "$tmp/err")'"
done

bash "$here/bench/ab_time.sh" "$MV" "$MV" 1 --mode no-such-mode >"$tmp/out" 2>"$tmp/err"
rc=$?
{ [ "$rc" -ne 0 ] && grep -q "ab_time.sh: .* run --mode no-such-mode failed" "$tmp/err" && [ ! -s "$tmp/out" ]; } ||
    fail "a failing run: exit $rc, stdout '$(cat "$tmp/out")', stderr '$(cat "$tmp/err")'"

[ "$failures" -eq 0 ] && echo "bench_ab_time.sh: all checks passed"
[ "$failures" -eq 0 ]

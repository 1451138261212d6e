#!/usr/bin/env bash
# bench_ab_time.sh: bench/ab_time.sh, the A/B timing script the speed
# notes in docs/performance.md cite. It runs memvirt; on stand-ins of
# known CPU time it prints their ratio, or no ratio when a run took under
# a second; a bad N, or a run that fails, stops it with one line on
# stderr and a non-zero exit.
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

# memvirt itself (a sanitizer build may take a second or more)
ratio_or_na='new/old ([0-9]+\.[0-9]{3}|n/a \(under a second: give more references\))$'
bash "$here/bench/ab_time.sh" "$MV" "$MV" 2 --mode native --workload memwalk --param memwalk.refs=1000 \
    >"$tmp/out" 2>"$tmp/err" || fail "a memvirt run exited $?: $(cat "$tmp/err")"
grep -Eq "^old [0-9]+\.[0-9]{2} s, new [0-9]+\.[0-9]{2} s \(user, fastest of each\): $ratio_or_na" "$tmp/out" ||
    fail "a memvirt run: unexpected output: $(cat "$tmp/out")"

# stand-ins that burn 0, 1.0 and 1.5 s of user time whatever their
# arguments (a memvirt run that long would slow the suite more)
for b in 0 1.0 1.5; do
    printf '#!/usr/bin/env python3\nimport os\nwhile os.times().user < %s:\n    sum(range(100000))\n' "$b" >"$tmp/burn$b"
    chmod +x "$tmp/burn$b"
done
bash "$here/bench/ab_time.sh" "$tmp/burn1.0" "$tmp/burn1.5" 1 --mode native >"$tmp/out" 2>"$tmp/err" ||
    fail "a timed pair exited $?: $(cat "$tmp/err")"
ratio=$(sed -En 's/^old 1\.[0-9]{2} s, new 1\.[0-9]{2} s \(user, fastest of each\): new\/old ([0-9]+\.[0-9]{3})$/\1/p' "$tmp/out")
awk -v r="$ratio" 'BEGIN { exit !(r != "" && r >= 1.3 && r <= 1.7) }' ||
    fail "a timed pair (1.0 s, 1.5 s): want a ratio near 1.5, got: $(cat "$tmp/out")"

# a run under a second: the times, no ratio
bash "$here/bench/ab_time.sh" "$tmp/burn0" "$tmp/burn1.0" 1 >"$tmp/out" 2>"$tmp/err" ||
    fail "a short pair exited $?: $(cat "$tmp/err")"
grep -Eq '^old 0\.[0-9]{2} s, new 1\.[0-9]{2} s \(user, fastest of each\): new/old n/a \(under a second: give more references\)$' "$tmp/out" ||
    fail "a short pair (0 s, 1.0 s): unexpected output: $(cat "$tmp/out")"

for n in x 2a "" 0 00; do
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

#!/usr/bin/env bash
# compare_jobs.sh: compare runs its modes in parallel threads (--jobs) and
# the output is byte-identical whatever the number of threads; a failing
# run fails the whole compare with no output file; --jobs checks its value.
set -u
MV=${1:?usage: compare_jobs.sh /path/to/memvirt}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "compare_jobs.sh: $*" >&2; exit 1; }
args=(compare --quiet --modes native,pv,tsp,ssp,hap --workload lmbench --param lmbench.iterations=3 --check)
"$MV" "${args[@]}" --jobs 1 --json "$tmp/1.json" --csv "$tmp/1.csv" >"$tmp/1.txt" || fail "--jobs 1 failed"
"$MV" "${args[@]}" --jobs 4 --json "$tmp/4.json" --csv "$tmp/4.csv" >"$tmp/4.txt" || fail "--jobs 4 failed"
cmp -s "$tmp/1.json" "$tmp/4.json" || fail "JSON differs between --jobs 1 and --jobs 4"
cmp -s "$tmp/1.csv" "$tmp/4.csv" || fail "CSV differs between --jobs 1 and --jobs 4"
cmp -s "$tmp/1.txt" "$tmp/4.txt" || fail "table differs between --jobs 1 and --jobs 4"
for bad in 0 -1 x 2000; do
    "$MV" "${args[@]}" --jobs "$bad" >/dev/null 2>"$tmp/err"; rc=$?
    [ "$rc" -eq 2 ] || fail "--jobs $bad: exit status $rc, expected 2"
    grep -q -- "--jobs" "$tmp/err" || fail "--jobs $bad: message does not name the option: $(cat "$tmp/err")"
done
echo "compare_jobs.sh: all checks passed"

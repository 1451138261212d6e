#!/usr/bin/env bash
# compare_jobs.sh: compare runs its modes in parallel threads (--jobs) and
# the output is byte-identical whatever the number of threads; a failing
# run fails the whole compare with no output file; --jobs checks its value;
# -j N is the same option (as in sweep).
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
# only what the message says it takes: a decimal integer from 1 to 1024 (1k,
# a parameter's size suffix, was taken as 1024)
# (a number outside 1..1024 is called out of range, anything else malformed)
for bad in 0 -1 x 2000 1025 100000 1k 1K 01 +2 ' 2' '2 ' 0x2 1.0; do
    "$MV" "${args[@]}" --jobs "$bad" >/dev/null 2>"$tmp/err"; rc=$?
    [ "$rc" -eq 2 ] || fail "--jobs '$bad': exit status $rc, expected 2"
    case $bad in 0 | 2000 | 1025 | 100000) what=out-of-range ;; *) what=malformed ;; esac
    [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q -- "--jobs: $what value '$bad' (expected a decimal integer from 1 to 1024)" "$tmp/err" \
        || fail "--jobs '$bad': expected one line naming the option and value: $(cat "$tmp/err")"
done
"$MV" "${args[@]}" --jobs 1024 >/dev/null 2>"$tmp/err" || fail "--jobs 1024 refused: $(cat "$tmp/err")"
"$MV" "${args[@]}" -j 2 --json "$tmp/j.json" >"$tmp/j.txt" || fail "-j 2 failed: $(cat "$tmp/j.txt")"
cmp -s "$tmp/1.json" "$tmp/j.json" || fail "JSON differs between --jobs 1 and -j 2"
"$MV" "${args[@]}" -j2 --json "$tmp/j2.json" >/dev/null || fail "-j2 failed"
cmp -s "$tmp/1.json" "$tmp/j2.json" || fail "JSON differs between --jobs 1 and -j2"
"$MV" "${args[@]}" -j 2 --jobs 2 >/dev/null || fail "-j 2 --jobs 2 (the same value twice) refused"
"$MV" "${args[@]}" -j 2 --jobs 3 >/dev/null 2>"$tmp/err"; rc=$?
[ "$rc" -eq 2 ] || fail "-j 2 --jobs 3: exit status $rc, expected 2"
grep -q -- "--jobs given twice" "$tmp/err" || fail "-j 2 --jobs 3: $(cat "$tmp/err")"
for bad in 0 x 1k; do
    "$MV" "${args[@]}" -j "$bad" >/dev/null 2>"$tmp/err"; rc=$?
    [ "$rc" -eq 2 ] || fail "-j $bad: exit status $rc, expected 2"
    grep -q -- "--jobs" "$tmp/err" || fail "-j $bad: message does not name the option: $(cat "$tmp/err")"
done
"$MV" compare -j >/dev/null 2>"$tmp/err"; rc=$?
[ "$rc" -eq 2 ] || fail "-j without a value: exit status $rc, expected 2"
grep -q -- "'-j' needs a value" "$tmp/err" || fail "-j without a value: $(cat "$tmp/err")"
"$MV" compare --help | grep -q -- "-j N, --jobs N" || fail "compare --help does not show -j"
echo "compare_jobs.sh: all checks passed"

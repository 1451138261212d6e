#!/usr/bin/env bash
# compare_oom.sh: a compare where one mode's guest runs out of memory still
# prints the table of the modes that completed; that mode's column says
# "guest OOM" (its other cells '-'), stderr has one line naming the mode, the
# exit status is 3 and no output file is written (a result file holds every
# mode asked for, or is not written). Serial and -j N give the same bytes.
#
# The workload tips pv-pibooster only: a program maps 4096 pages 2 MiB apart
# (4096 L1 tables, 16 MiB), unmaps them, then writes 36 MiB. Every mode frees
# the L1 tables at the munmap; PiBooster keeps them in its pool, and with
# guest.pt_cache_total=1G the pool never shrinks, so a 64 MiB guest (about
# 45 MiB free after the kernel's own) needs 16 + 36 MiB there, and at most
# 36 MiB (plus tables) in the other modes.
#
# usage: bash compare_oom.sh /path/to/memvirt
set -u
MV=${1:?usage: compare_oom.sh /path/to/memvirt}
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/memvirt-compare-oom.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

. "$(dirname "$0")/lib/oom_log.sh"
{
    lackey_header
    table_churn
} >"$tmp/tables.log"
"$MV" trace import --from lackey "$tmp/tables.log" -o "$tmp/t.mvt" 2>"$tmp/err" || fail "import: $(cat "$tmp/err")"

base=(compare --quiet --trace "$tmp/t.mvt" --param guest.ram_mb=64)
# with the pool's default thresholds every mode fits
"$MV" "${base[@]}" >"$tmp/ok" 2>"$tmp/err" || fail "default pool: exit $?: $(cat "$tmp/err")"

# the pool kept: pv-pibooster alone runs out of memory
for j in 1 4; do
    "$MV" "${base[@]}" --param guest.pt_cache_total=1G -j $j --json "$tmp/r.json" --csv "$tmp/r.csv" \
        >"$tmp/out$j" 2>"$tmp/err$j"
    rc=$?
    [ "$rc" -eq 3 ] || fail "-j $j: exit status $rc, expected 3: $(cat "$tmp/err$j")"
    [ -e "$tmp/r.json" ] || [ -e "$tmp/r.csv" ] || ls -a "$tmp" | grep -q '^\.r\.' &&
        fail "-j $j: an output file (or its temporary) was written"
done
cmp -s "$tmp/out1" "$tmp/out4" || fail "the table differs between -j 1 and -j 4"
cmp -s "$tmp/err1" "$tmp/err4" || fail "stderr differs between -j 1 and -j 4"
[ "$(wc -l <"$tmp/err1")" -eq 1 ] &&
    grep -q '^memvirt: trace .*: the guest ran out of memory under pv-pibooster (guest.ram_mb=64)' "$tmp/err1" ||
    fail "stderr is not one line naming pv-pibooster's guest OOM: $(cat "$tmp/err1")"
grep -q '^workload trace, seed 1' "$tmp/out1" || fail "no table title: $(head -3 "$tmp/out1")"
# the columns, in --modes order; the failed one says so and has no numbers
awk '
    /^ +native +pv +pv-pibooster +tsp +ssp +hap +selective *$/ { hdr = 1 }
    $1 == "simulated" { sim = ($4 ~ /^[0-9.]+$/ && $5 ~ /^[0-9.]+$/ && $6 == "guest" && $7 == "OOM" && $8 ~ /^[0-9.]+$/) }
    $1 == "pt_pages_alloc" { pt = ($2 > 0 && $3 > 0 && $4 == "-" && $5 > 0) }
    $1 == "exits" { ex = ($4 == "-") }
    $1 == "iommu_table_pages" { mt = ($3 ~ /^[0-9.]+$/ && $4 == "-" && $5 ~ /^[0-9.]+$/) }
    END { exit !(hdr && sim && pt && ex && mt) }' "$tmp/out1" ||
    fail "the table does not show pv-pibooster as guest OOM beside the others: $(head -8 "$tmp/out1")"
# the completed modes' columns are those of a compare without pv-pibooster
"$MV" "${base[@]}" --param guest.pt_cache_total=1G --modes native,pv >"$tmp/two" 2>"$tmp/err" ||
    fail "native,pv: $(cat "$tmp/err")"
awk 'NR == FNR { if ($1 == "walk_refs" || $1 == "hypercalls") v[$1] = $2 " " $3; next }
     ($1 in v) { n++; if ($2 " " $3 != v[$1]) bad = 1 } END { exit !(n == 2 && !bad) }' "$tmp/two" "$tmp/out1" ||
    fail "native's and pv's columns differ beside a guest OOM"

# nothing completed: no table (run, and compare of the failing mode alone)
for args in "run --mode pv-pibooster" "compare --modes pv-pibooster"; do
    # shellcheck disable=SC2086
    "$MV" $args --quiet --trace "$tmp/t.mvt" --param guest.ram_mb=64 --param guest.pt_cache_total=1G \
        >"$tmp/out" 2>"$tmp/err"
    rc=$?
    [ "$rc" -eq 3 ] && [ ! -s "$tmp/out" ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] ||
        fail "$args: exit $rc (expected 3), no table and one line: $(head -c 300 "$tmp/out") $(cat "$tmp/err")"
done

[ "$failures" -eq 0 ] || { echo "compare_oom.sh: $failures failure(s)" >&2; exit 1; }
echo "compare_oom.sh: all checks passed"

#!/usr/bin/env bash
# compare.sh: `memvirt compare` runs the listed modes and prints the
# side-by-side table with the workload's metrics.
#
# usage: bash compare.sh /path/to/memvirt
set -u
MV=${1:?usage: compare.sh /path/to/memvirt}
[ -x "$MV" ] || { echo "compare.sh: '$MV' is not an executable" >&2; exit 1; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/memvirt-cli.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
die() { echo "FAIL: $*" >&2; exit 1; }

"$MV" compare --modes native --workload lmbench --param lmbench.iterations=5 --quiet \
    >"$tmp/out" 2>"$tmp/err"
rc=$?
[ "$rc" -eq 0 ] || die "compare exited $rc: $(head -c 500 "$tmp/err")"
grep -q '^workload lmbench, seed 1' "$tmp/out" || die "no title line naming the workload and seed"
grep -Eq '^ +native *$' "$tmp/out" || die "no column header for mode native"
for row in lat_fork_exit_us lat_fork_execve_us lat_fork_sh_us fork exec exit pt_pages_alloc; do
    grep -Eq "^ *$row +[0-9]" "$tmp/out" || die "table has no numeric '$row' row"
done
# the latencies are ordered: fork+exit < fork+execve < fork+sh
awk '$1 == "lat_fork_exit_us" { a = $2 } $1 == "lat_fork_execve_us" { b = $2 }
     $1 == "lat_fork_sh_us" { c = $2 }
     END { exit !(a > 0 && a < b && b < c) }' "$tmp/out" || die "latencies not ordered: $(grep lat_ "$tmp/out")"

# a mode's column does not depend on the modes beside it
"$MV" compare --modes native,pv --workload lmbench --param lmbench.iterations=2 --quiet \
    >"$tmp/out2" 2>"$tmp/err2" || die "compare of native,pv failed: $(head -c 500 "$tmp/err2")"
"$MV" compare --modes pv --workload lmbench --param lmbench.iterations=2 --quiet \
    >"$tmp/out3" 2>"$tmp/err3" || die "compare of pv failed: $(head -c 500 "$tmp/err3")"
awk 'NR == FNR { if ($1 == "fork" || $1 == "lat_fork_sh_us" || $1 == "hypercalls") v[$1] = $3; next }
     ($1 in v) { n++; if ($2 != v[$1]) bad = 1 } END { exit !(n == 3 && !bad) }' \
    "$tmp/out2" "$tmp/out3" || die "pv's column differs beside native or rows missing"

echo "compare.sh: all checks passed"

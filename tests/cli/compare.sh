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

# the same mode twice gives two identical columns
"$MV" compare --modes native,native --workload lmbench --param lmbench.iterations=2 --quiet \
    >"$tmp/out2" 2>"$tmp/err2" || die "compare of native,native failed: $(head -c 500 "$tmp/err2")"
awk '$1 == "fork" || $1 == "lat_fork_sh_us" { n++; if ($2 != $3) bad = 1 } END { exit !(n == 2 && !bad) }' \
    "$tmp/out2" || die "native,native columns differ or rows missing"

echo "compare.sh: all checks passed"

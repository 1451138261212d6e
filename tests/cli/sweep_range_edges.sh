#!/usr/bin/env bash
# sweep_range_edges.sh: a sweep range A..B whose B is 2^64-1 ended never
# (the counter wrapped to 0 and went on, memory growing without limit); it
# is now expanded like any other and its values checked as a run takes
# them: a seed above 2^63-1 is refused with exit 2 naming the line and
# column, as 2^64-2..2^64-2 always was, in a spec and in --set alike.
#
# usage: bash sweep_range_edges.sh /path/to/memvirt
set -u
MV=${1:?usage: sweep_range_edges.sh /path/to/memvirt}
[ -x "$MV" ] || { echo "sweep_range_edges.sh: '$MV' is not an executable" >&2; exit 1; }
MV=$(cd "$(dirname "$MV")" && pwd)/$(basename "$MV")
tmp=$(mktemp -d "${TMPDIR:-/tmp}/memvirt-sweep-range.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
die() { echo "FAIL: $*" >&2; exit 1; }
cd "$tmp" || exit 1
MAX=18446744073709551615

for hi in 18446744073709551614 $MAX; do
    printf 'mode=native\nworkload=lmbench\nseed=%s..%s\n' "$hi" "$hi" > u.sweep
    timeout 20 "$MV" sweep u.sweep --list --out u.runs >out 2>err; rc=$?
    [ "$rc" -eq 2 ] || die "seed=$hi..$hi: exit $rc, expected 2: $(head -c 300 err)"
    grep -qx "memvirt: u.sweep:3:6: seed '$hi' out of range (expected a decimal integer from 0 to 9223372036854775807)" err \
        || die "seed=$hi..$hi: $(head -c 300 err)"
done
timeout 20 "$MV" sweep /dev/null --set mode=native --set workload=lmbench --set seed=$MAX..$MAX \
    --list --out u.runs >out 2>err; rc=$?
[ "$rc" -eq 2 ] && grep -qx "memvirt: --set #3:1:6: seed '$MAX' out of range .*" err \
    || die "--set seed=$MAX..$MAX: exit $rc: $(head -c 300 err)"
timeout 20 "$MV" sweep /dev/null --set mode=native --set workload=lmbench \
    --set lmbench.iterations=18446744073709551614..$MAX --list --out u.runs >out 2>err; rc=$?
[ "$rc" -eq 2 ] && grep -qx "memvirt: --set #3:1:20: lmbench.iterations: value 18446744073709551614 out of range .*" err \
    || die "--set lmbench.iterations=..$MAX: exit $rc: $(head -c 300 err)"
# a bound past 2^64-1: refused as a bad range, at its line and column, saying so
printf 'mode=native\nworkload=lmbench\nseed=1..18446744073709551616\n' > u.sweep
"$MV" sweep u.sweep --list --out u.runs >out 2>err; rc=$?
[ "$rc" -eq 2 ] && grep -qx "memvirt: u.sweep:3:6: bad range '1..18446744073709551616' (A..B with A <= B and at most 10000 values, each at most 18446744073709551615)" err \
    || die "seed=1..2^64: exit $rc: $(cat err)"
# the top of the seeds a run takes: expanded, both ends
"$MV" sweep /dev/null --set mode=native --set workload=lmbench --set seed=9223372036854775806..9223372036854775807 \
    --list --out u.runs >out 2>err || die "seed=2^63-2..2^63-1: $(cat err)"
[ "$(cut -f4 out | sed 's/.*--seed //')" = "$(printf '9223372036854775806\n9223372036854775807')" ] \
    || die "seed=2^63-2..2^63-1 listed: $(cat out)"
echo "sweep_range_edges: ok"

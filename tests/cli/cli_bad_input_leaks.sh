#!/usr/bin/env bash
# cli_bad_input_leaks.sh: the bad-input contract (exit status 2, one
# "memvirt:" line on stderr) holds in the sanitizer build with leak checking
# on: main() frees everything on its error paths. Regression: it once
# returned early without freeing, and LeakSanitizer turned status 2 into 1.
# Only meaningful when memvirt is built with -DMEMVIRT_SANITIZE=ON.
#
# usage: bash cli_bad_input_leaks.sh /path/to/memvirt
set -u
MV=${1:?usage: cli_bad_input_leaks.sh /path/to/memvirt}
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=1"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/memvirt-cli.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
failures=0

check() {
    "$MV" "$@" >/dev/null 2>"$tmp/err"
    local rc=$? lines
    lines=$(wc -l <"$tmp/err")
    if [ "$rc" -ne 2 ] || [ "$lines" -ne 1 ]; then
        echo "FAIL: memvirt $*: exit $rc (want 2), $lines stderr lines (want 1)" >&2
        head -n 12 "$tmp/err" >&2
        failures=$((failures + 1))
    fi
}

check run --bogus
check run --mode nosuch
check run --workload nosuch
check run --param nosuch.x=1
check run --param tlb.l2_ways=abc
check run --seed -3
check run --param tlb.l2_entries=100
check run --profile nosuch
check run --param
check compare --modes native,,pv
check run --seed 1 --seed 2
check run --check=yes
check run --workload memwalk --param memwalk.ws_mb=4096
check run --json "$tmp/nosuchdir/x.json"
check run --json "$tmp/x.json" --csv "$tmp/x.json"
echo '{"memvirt": "1", "seed": tru' >"$tmp/bad.json"
check rerun "$tmp/bad.json"
"$MV" run --quiet --workload lmbench --param lmbench.iterations=1 --json "$tmp/good.json" >/dev/null 2>&1
sed 's/"tlb.l2_ways": 12/"tlb.l2_ways": 0/' "$tmp/good.json" >"$tmp/range.json"
check rerun "$tmp/range.json"
sed 's/"profile": "default"/"profile": ""/' "$tmp/good.json" >"$tmp/profile.json"
check rerun "$tmp/profile.json"
sed 's/"lmbench.heap_kb": 128/"lmbench.heap_kb": 99999999/' "$tmp/good.json" >"$tmp/heap.json"
check rerun "$tmp/heap.json"

[ "$failures" -eq 0 ] || { echo "cli_bad_input_leaks.sh: $failures failed" >&2; exit 1; }
echo "cli_bad_input_leaks.sh: all checks passed"

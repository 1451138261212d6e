#!/usr/bin/env bash
# experiment_scripts.sh: the experiments' summary scripts given no arguments
# or a directory without their results: one line on stderr and exit 2, no
# Python traceback (an attack run found IndexError and FileNotFoundError).
# Their normal output is checked by tests/system (the experiments run).
#
# usage: bash experiment_scripts.sh /path/to/memvirt (unused: the scripts read results only)
set -u
here=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/memvirt-exp.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
failures=0
for s in pibooster_summary selective_clustering_summary shadow_nested_summary pibooster_compare; do
    for args in "" "$tmp" "$tmp $tmp" "$tmp 3"; do
        # shellcheck disable=SC2086
        python3 "$here/experiments/$s.py" $args >"$tmp/out" 2>"$tmp/err"
        rc=$?
        if [ "$rc" -ne 2 ] || [ "$(wc -l <"$tmp/err")" -ne 1 ] || grep -q Traceback "$tmp/err" || [ -s "$tmp/out" ]; then
            echo "FAIL: $s.py $args: exit $rc, stderr: $(cat "$tmp/err")" >&2
            failures=$((failures + 1))
        fi
    done
done
[ "$failures" -eq 0 ] && echo "experiment_scripts.sh: all checks passed"
[ "$failures" -eq 0 ]

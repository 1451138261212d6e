#!/usr/bin/env bash
# experiments.sh: the experiment scripts behind docs/shadow-nested.md and
# docs/selective-clustering.md still run, in their --quick form, and print
# every table (a parameter or option they use that changed would break the
# documented commands without any other test noticing).
#
# usage: bash experiments.sh /path/to/memvirt
set -u
MV=${1:?usage: experiments.sh /path/to/memvirt}
case "$MV" in /*) ;; *) MV="$PWD/$MV" ;; esac
SRC=$(cd "$(dirname "$0")/../.." && pwd)
die() { echo "FAIL: $*" >&2; exit 1; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/memvirt-experiments.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

MEMVIRT=$MV bash "$SRC/experiments/shadow_nested.sh" --quick --out "$tmp/sn" >"$tmp/sn.md" 2>"$tmp/err" \
    || die "shadow_nested.sh: $(tail -3 "$tmp/err")"
for h in "### 1." "### 2-4."; do grep -qF "$h" "$tmp/sn.md" || die "shadow_nested.sh printed no '$h' table"; done

MEMVIRT=$MV bash "$SRC/experiments/selective_clustering.sh" --quick --out "$tmp/sc" >"$tmp/sc.md" 2>"$tmp/err" \
    || die "selective_clustering.sh: $(tail -3 "$tmp/err")"
for h in "### 1-2." "### 3." "### 4." "against clustering.window"; do
    grep -qF "$h" "$tmp/sc.md" || die "selective_clustering.sh printed no '$h' table"
done
# the clustering table has a tsp row with exits avoided on every workload
for w in forkstorm lmbench memwalk netio memwalk-gcc; do
    grep -Eq "^\| $w \| default \| tsp \| [0-9]+ \| [0-9]+ \| [1-9]" "$tmp/sc.md" \
        || die "selective_clustering.sh: no exits avoided under tsp on $w: $(grep "| $w | default | tsp" "$tmp/sc.md")"
done
echo "experiments.sh: all checks passed"

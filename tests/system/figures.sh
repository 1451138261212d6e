#!/usr/bin/env bash
# figures.sh: `make figures` in small (figures.py --quick): every figure of
# the experiments whose modes exist is drawn as SVG, twice to the same bytes;
# experiments that need a mode memvirt does not have are skipped with a
# message; and one appears as soon as a mode matches (shown with a spec that
# asks for an existing mode).
#
# usage: bash figures.sh /path/to/memvirt
set -u
MV=${1:?usage: figures.sh /path/to/memvirt}
SRC=$(cd "$(dirname "$0")/../.." && pwd)
die() { echo "FAIL: $*" >&2; exit 1; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/memvirt-figures.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
fig() { /usr/bin/python3 "$SRC/src/py/figures.py" --memvirt "$MV" --quick -j 2 "$@"; }

fig --runs "$tmp/runs" --out "$tmp/a" 2>"$tmp/err" || die "figures failed: $(cat "$tmp/err")"
for f in iotlb_per_minute sweep_thresholds pool_sizes pt_alloc_per_level lmbench_latency exits_by_reason \
         walk_refs_per_miss; do
    [ -s "$tmp/a/$f.svg" ] || die "no $f.svg"
    head -c 200 "$tmp/a/$f.svg" | grep -q '<svg\|<?xml' || die "$f.svg is not SVG"
done
modes=$("$MV" list | awk '/^modes:/ { on = 1; next } on && NF == 0 { exit } on { print $1 }')
for need in selective '*cluster*'; do
    # shellcheck disable=SC2254
    if ! printf '%s\n' $modes | grep -qx "$(printf '%s' "$need" | sed 's/\*/.*/g')"; then
        grep -qF "skipped, no mode matches '$need'" "$tmp/err" || die "no skip message for '$need': $(cat "$tmp/err")"
    fi
done
# deterministic: the same runs draw the same bytes
fig --runs "$tmp/runs" --keep --out "$tmp/b" 2>/dev/null || die "second drawing failed"
for f in "$tmp"/a/*.svg; do cmp "$f" "$tmp/b/$(basename "$f")" || die "$(basename "$f") differs between drawings"; done

# a figure appears once its mode exists: the timeline spec pointed at pv
mkdir "$tmp/specs"
sed 's/^# requires-mode: selective/# requires-mode: pv/; s/^mode = selective/mode = pv/' \
    "$SRC/experiments/figures/selective_timeline.sweep" > "$tmp/specs/selective_timeline.sweep"
fig --specs "$tmp/specs" --runs "$tmp/runs2" --out "$tmp/c" 2>"$tmp/err" || die "timeline failed: $(cat "$tmp/err")"
[ -s "$tmp/c/selective_timeline_forkstorm.svg" ] && [ -s "$tmp/c/selective_timeline_memwalk.svg" ] \
    || die "no timeline figures once the mode exists: $(ls "$tmp/c")"
echo "figures.sh: all checks passed"

#!/usr/bin/env bash
# figures.sh: `make figures` in small (figures.py --quick): every figure of
# the experiments is drawn as SVG, twice to the same bytes; an experiment
# that needs a mode memvirt does not have is skipped with a message, and it
# is drawn as soon as a mode matches (shown with specs that ask for a
# missing mode and for an existing one). A memvirt killed by a signal is
# named as such.
#
# usage: bash figures.sh /path/to/memvirt
set -u
MV=${1:?usage: figures.sh /path/to/memvirt}
SRC=$(cd "$(dirname "$0")/../.." && pwd)
die() { echo "FAIL: $*" >&2; exit 1; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/memvirt-figures.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
fig() { /usr/bin/python3 "$SRC/src/py/figures.py" --memvirt "$MV" --quick -j 2 "$@"; }

# -j takes what memvirt sweep takes, checked before --runs is emptied (0 was
# ignored, a sign or a space passed on)
mkdir "$tmp/nospecs"
for j in 0 1k ' 2' +2 1_0 1025; do
    /usr/bin/python3 "$SRC/src/py/figures.py" --memvirt "$MV" --specs "$tmp/nospecs" --runs "$tmp/jr" --out "$tmp/jo" \
        -j "$j" 2>"$tmp/err"; rc=$?
    [ "$rc" -eq 2 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] \
        && grep -q -- "-j/--jobs: '$j': expected a decimal integer from 1 to 1024" "$tmp/err" \
        || die "figures -j '$j': exit $rc, expected 2 and one line: $(cat "$tmp/err")"
    [ ! -e "$tmp/jr" ] || die "figures -j '$j' made --runs"
done

# a --specs that is not a directory: one line, exit 2, --runs left alone
mkdir "$tmp/keepme"
/usr/bin/python3 "$SRC/src/py/figures.py" --memvirt "$MV" --specs "$tmp/none" --runs "$tmp/keepme" --out "$tmp/jo" \
    2>"$tmp/err"; rc=$?
[ "$rc" -eq 2 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q -- "--specs '$tmp/none': not a directory" "$tmp/err" \
    || die "figures --specs missing: exit $rc, expected 2 and one line: $(cat "$tmp/err")"
[ -d "$tmp/keepme" ] || die "figures with a missing --specs emptied --runs"

# --runs is never removed whole: one that holds --specs or --out, or is not a
# directory, or a --memvirt or --out that cannot be, is one line, exit 2,
# before any work (--runs danger --specs danger/specs deleted both; the
# others were tracebacks); a non-empty --runs figures.py did not make is
# refused unless --keep, and an option given twice is an error
mkdir -p "$tmp/danger/specs" && echo mine >"$tmp/danger/notes" && cp "$SRC/experiments/figures/clustering.sweep" "$tmp/danger/specs/"
echo afile >"$tmp/afile"
refused() {   # expected-message args...
    local re=$1; shift
    /usr/bin/python3 "$SRC/src/py/figures.py" "$@" 2>"$tmp/err"; local rc=$?
    [ "$rc" -eq 2 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q -- "^memvirt: figures: $re" "$tmp/err" \
        || die "figures $*: exit $rc, expected 2 and one line '$re': $(cat "$tmp/err")"
    [ -f "$tmp/danger/notes" ] && [ -f "$tmp/danger/specs/clustering.sweep" ] && [ "$(cat "$tmp/afile")" = afile ] \
        || die "figures $*: removed the user's files"
}
refused "--runs '$tmp/danger' holds --specs" --memvirt "$MV" --runs "$tmp/danger" --specs "$tmp/danger/specs" --out "$tmp/o1"
refused "--runs '$tmp/danger/specs' holds --specs" --memvirt "$MV" --runs "$tmp/danger/specs" --specs "$tmp/danger/specs" --out "$tmp/o1"
refused "--runs '$tmp/danger' holds --out" --memvirt "$MV" --runs "$tmp/danger" --specs "$tmp/nospecs" --out "$tmp/danger/o"
refused "--runs '$tmp/danger': not empty and not made by figures.py" --memvirt "$MV" --runs "$tmp/danger" --specs "$tmp/nospecs" --out "$tmp/o1"
refused "--runs '$tmp/afile': not a directory" --memvirt "$MV" --runs "$tmp/afile" --specs "$tmp/nospecs" --out "$tmp/o1"
refused "--out '/proc/version': not a directory" --memvirt "$MV" --runs "$tmp/r1" --specs "$tmp/nospecs" --out /proc/version
refused "--memvirt '/nonexistent': not an executable" --memvirt /nonexistent --runs "$tmp/r1" --specs "$tmp/nospecs" --out "$tmp/o1"
refused "--out given twice with different values" --memvirt "$MV" --runs "$tmp/r1" --specs "$tmp/nospecs" --out "$tmp/o1" --out "$tmp/o2"
[ ! -e "$tmp/r1" ] && [ ! -e "$tmp/o1" ] || die "a refused figures made --runs or --out"

# a memvirt killed by a signal says nothing: the message names the signal
# (it ended "failed: " with no reason)
printf '#!/bin/sh\n[ "$1" = sweep ] && kill -KILL $$\nexec "%s" "$@"\n' "$MV" >"$tmp/killed"
chmod +x "$tmp/killed"
cp "$SRC/experiments/figures/clustering.sweep" "$tmp/nospecs/"
/usr/bin/python3 "$SRC/src/py/figures.py" --memvirt "$tmp/killed" --specs "$tmp/nospecs" --runs "$tmp/kr" \
    --out "$tmp/ko" 2>"$tmp/err"; rc=$?
[ "$rc" -eq 1 ] && grep -q "clustering.sweep failed: killed by SIGKILL$" "$tmp/err" \
    || die "figures with memvirt killed: exit $rc, expected 1 and the signal: $(cat "$tmp/err")"

fig --runs "$tmp/runs" --out "$tmp/a" 2>"$tmp/err" || die "figures failed: $(cat "$tmp/err")"
for f in iotlb_per_minute sweep_thresholds pool_sizes pt_alloc_per_level lmbench_latency exits_by_reason \
         walk_refs_per_miss selective_timeline_memwalk-phases selective_timeline_forkstorm clustering; do
    [ -s "$tmp/a/$f.svg" ] || die "no $f.svg"
    head -c 200 "$tmp/a/$f.svg" | grep -q '<svg\|<?xml' || die "$f.svg is not SVG"
done
# deterministic: the same runs draw the same bytes
fig --runs "$tmp/runs" --keep --out "$tmp/b" 2>/dev/null || die "second drawing failed"
for f in "$tmp"/a/*.svg; do cmp "$f" "$tmp/b/$(basename "$f")" || die "$(basename "$f") differs between drawings"; done
# a figure that cannot be written is one line naming it, exit 1 (it was a
# traceback); a figure is written whole or not at all, so the one before stays
mkdir "$tmp/full" && ln -s /dev/full "$tmp/full/clustering.svg"
fig --runs "$tmp/runs" --keep --out "$tmp/full" 2>"$tmp/err"; rc=$?
[ "$rc" -eq 1 ] && grep -q "^memvirt: figures: cannot write '$tmp/full/clustering.svg': No space left on device$" "$tmp/err" \
    && ! grep -q Traceback "$tmp/err" || die "figures onto /dev/full: exit $rc: $(cat "$tmp/err")"

# a spec that needs a missing mode is skipped with a message; pointed at an
# existing mode, its figures appear
mkdir "$tmp/specs" "$tmp/specs2"
{ echo "# requires-mode: no-such-mode*"; grep -v '^# requires-mode' "$SRC/experiments/figures/selective_timeline.sweep"; } \
    > "$tmp/specs/selective_timeline.sweep"
fig --specs "$tmp/specs" --runs "$tmp/runs2" --out "$tmp/c" 2>"$tmp/err" || die "skipping failed: $(cat "$tmp/err")"
grep -qF "skipped, no mode matches 'no-such-mode*'" "$tmp/err" || die "no skip message: $(cat "$tmp/err")"
[ -z "$(ls "$tmp/c")" ] || die "a skipped experiment drew: $(ls "$tmp/c")"
sed 's/^# requires-mode: no-such-mode\*/# requires-mode: p*/; s/^mode = selective/mode = pv/' \
    "$tmp/specs/selective_timeline.sweep" > "$tmp/specs2/selective_timeline.sweep"
fig --specs "$tmp/specs2" --runs "$tmp/runs3" --out "$tmp/d" 2>"$tmp/err" || die "timeline failed: $(cat "$tmp/err")"
[ -s "$tmp/d/selective_timeline_forkstorm.svg" ] && [ -s "$tmp/d/selective_timeline_memwalk-phases.svg" ] \
    || die "no timeline figures once the mode exists: $(ls "$tmp/d")"
# the timeline's time axis reads in the unit of its span (5 ms samples in ms,
# not thousandths of a minute)
MPLBACKEND=Agg /usr/bin/python3 - "$SRC/src/py" <<'PY' || die "time_axis picks the wrong unit"
import sys
sys.path.insert(0, sys.argv[1])
from figures import time_axis
def ax(ts): return time_axis({"series": {"time_s": ts}})
assert ax([0.005 * i for i in range(1, 100)])[0] == "simulated ms", ax([0.005, 0.01])
assert abs(ax([0.005, 0.010])[1][1] - 10) < 1e-9
assert ax([1.0 * i for i in range(30)])[0] == "simulated seconds"
assert ax([60.0 * i for i in range(30)]) == ("simulated minutes", [float(i) for i in range(30)])
PY
echo "figures.sh: all checks passed"

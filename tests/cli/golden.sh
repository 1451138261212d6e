#!/usr/bin/env bash
# golden.sh: every statistic stays exact. Each golden result in tests/golden/
# (written by scripts/golden regenerate, before the speed work) is rerun and
# must come out byte-identical except for its revision line, and again with
# the scalar set scans (MEMVIRT_SIMD=scalar) and with the host prefetch
# hint on for every run (MEMVIRT_PREFETCH=on). Then the check
# itself is shown to catch a difference: a golden whose model changed (one
# cost parameter) and one with a counter altered must fail it, one whose
# revision alone differs must pass.
set -u
MV=${1:?usage: golden.sh /path/to/memvirt}
src=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "golden.sh: $*" >&2; exit 1; }

"$src/scripts/golden" check "$MV" || fail "a result differs from its golden file (see above)"
# the scalar fallback of the set scans (hw/simd.h) gives the same results
MEMVIRT_SIMD=scalar "$src/scripts/golden" check "$MV" ||
    fail "with MEMVIRT_SIMD=scalar, a result differs from its golden file (see above)"
# and so does the host prefetch hint (cpu_prefetch) wherever it works: on
# every run, not only where the tables outgrow this host's L2 (under the
# sanitizer build too, which checks that its peek reads nothing freed)
MEMVIRT_PREFETCH=on "$src/scripts/golden" check "$MV" ||
    fail "with MEMVIRT_PREFETCH=on, a result differs from its golden file (see above)"

# The checks that break on purpose, on a copy of one small golden file.
mkdir -p "$tmp/g"
cp "$src/tests/golden/lmbench.json" "$tmp/g/base.json"
export GOLDEN_DIR="$tmp/g"
"$src/scripts/golden" check "$MV" base 2>"$tmp/err" || fail "an unchanged copy fails: $(cat "$tmp/err")"

sed 's/^  "revision": ".*"/  "revision": "0000000notme"/' "$tmp/g/base.json" >"$tmp/g/rev.json"
cmp -s "$tmp/g/base.json" "$tmp/g/rev.json" && fail "could not alter the revision"
"$src/scripts/golden" check "$MV" rev 2>"$tmp/err" || fail "a different revision alone fails: $(cat "$tmp/err")"

# the model changes: walk references cost one cycle more, the results move
sed 's/^    "cost.walk_ref": 14,/    "cost.walk_ref": 15,/' "$tmp/g/base.json" >"$tmp/g/model.json"
cmp -s "$tmp/g/base.json" "$tmp/g/model.json" && fail "could not alter cost.walk_ref"
"$src/scripts/golden" check "$MV" model 2>"$tmp/err" && fail "a changed model was not caught"
grep -q "model differs" "$tmp/err" || fail "no message naming the run: $(cat "$tmp/err")"

# one counter off by one (the first "refs" counter of a mode)
awk '!done && /^ *"refs": [0-9]+/ { sub(/[0-9]+/, $2 + 1); done = 1 } { print }' \
    "$tmp/g/base.json" >"$tmp/g/count.json"
cmp -s "$tmp/g/base.json" "$tmp/g/count.json" && fail "could not alter a counter"
"$src/scripts/golden" check "$MV" count 2>"$tmp/err" && fail "a counter off by one was not caught"
echo "golden.sh: all checks passed"

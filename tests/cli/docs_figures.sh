#!/usr/bin/env bash
# docs_figures.sh: the figures the docs show are there and current. Every
# figures/NAME.svg a page of docs/ or the README links to exists in
# docs/figures/, and each figure drawn over every mode (experiments/figures/
# specs with `mode = *`) names every mode `memvirt list` prints: a mode added
# without `make figures` leaves the docs behind the code, and this fails.
# The SVGs keep their text as <text> (figures.py: svg.fonttype none), and
# no label is math-text source.
#
# usage: bash docs_figures.sh /path/to/memvirt
set -u
MV=${1:?usage: docs_figures.sh /path/to/memvirt}
SRC=$(cd "$(dirname "$0")/../.." && pwd)
fail=0
bad() { echo "docs_figures.sh: $*" >&2; fail=1; }

# 1. every linked figure exists
links=$(grep -oh 'figures/[A-Za-z0-9_.-]*\.svg' "$SRC"/docs/*.md "$SRC/README.md" | sort -u)
[ -n "$links" ] || bad "no figure links found in docs/ (the grep itself is broken)"
for l in $links; do
    [ -s "$SRC/docs/$l" ] || bad "docs link to $l, which docs/ does not hold (make figures)"
done

# 2. the all-modes figures name every mode
modes=$("$MV" list | awk '/^modes:/{m=1;next} m&&/^$/{m=0} m{print $1}')
[ -n "$modes" ] || bad "memvirt list printed no modes"
for f in exits_by_reason lmbench_latency pt_alloc_per_level walk_refs_per_miss; do
    svg="$SRC/docs/figures/$f.svg"
    [ -s "$svg" ] || { bad "no docs/figures/$f.svg"; continue; }
    for m in $modes; do
        grep -q ">$m<\|>$m (" "$svg" || bad "docs/figures/$f.svg does not show mode $m (make figures)"
    done
done

# 3. no label drawn as unparsed math text (labels are drawn literally,
# text.parse_math off, so matplotlib's own '$10^{3}$' tick labels would
# show as written: mvplot.py gives log axes plain labels)
for svg in "$SRC"/docs/figures/*.svg; do
    grep -q '>\$[^<]*\$<' "$svg" && bad "$(basename "$svg") has a label drawn as math text source (make figures)"
done
[ $fail -eq 0 ] && echo "docs_figures.sh: all checks passed"
exit $fail

#!/usr/bin/env bash
# sweep_manifest_dup.sh: a manifest line edited to another line's run id
# (its arguments differing: a run two groups make has one id on two lines
# with the same arguments, and runs once, tests/cli/sweep.sh).
# `sweep one` of either line wrote the one result file both share, and the
# merge then counted one run without a result for ever ("run the sweep
# again" could not settle it). Now `sweep one` and `sweep merge` refuse
# the manifest naming both lines, exit 2; `memvirt sweep SPEC`, which
# writes the manifest from the spec, makes a good one again. An index
# written as the writer never writes one ("00") is refused by both as well.
#
# usage: bash sweep_manifest_dup.sh /path/to/memvirt
set -u
MV=${1:?usage: sweep_manifest_dup.sh /path/to/memvirt}
[ -x "$MV" ] || { echo "sweep_manifest_dup.sh: '$MV' is not an executable" >&2; exit 1; }
MV=$(cd "$(dirname "$MV")" && pwd)/$(basename "$MV")
tmp=$(mktemp -d "${TMPDIR:-/tmp}/memvirt-sweep-dup.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
die() { echo "FAIL: $*" >&2; exit 1; }
cd "$tmp" || exit 1

printf 'mode = native\nworkload = lmbench\nlmbench.iterations = 2\nseed = 1, 2\n' > r.sweep
"$MV" sweep r.sweep --out R -j 1 2>err || die "sweep failed: $(cat err)"
id0=$(awk -F'\t' '$1 == 0 { print $2 }' R/sweep.tsv)
id1=$(awk -F'\t' '$1 == 1 { print $2 }' R/sweep.tsv)
rm -f R/merged.* && sed -i "s/^1\t$id1\t/1\t$id0\t/" R/sweep.tsv
want="R/sweep.tsv:4: run id $id0 is line 3's, whose arguments differ: the two would share one result file"
for cmd in "one R 0" "one R 1" "merge R"; do
    # shellcheck disable=SC2086
    "$MV" sweep $cmd >/dev/null 2>err; rc=$?
    prefix="memvirt: sweep ${cmd%% *}:"   # each command names itself
    [ "$rc" -eq 2 ] && [ "$(wc -l <err)" -eq 1 ] && grep -q "^$prefix $want" err \
        || die "sweep $cmd: exit $rc, expected 2 and one line: $(cat err)"
done
[ -e R/merged.json ] && die "the merge wrote a result"
# an index written otherwise than the writer writes it: "00", "+0" and " 0"
# are 0 to strtoul, and `sweep one R 0` once ran such a line that merge
# refused; both refuse it now, with the same words
"$MV" sweep r.sweep --out R -j 1 2>err || die "the sweep again: $(cat err)"
for bad in 00 +0 ' 0'; do
    cp R/sweep.tsv R/good.tsv
    sed -i "s/^0\t/$bad\t/" R/sweep.tsv
    for cmd in "one R 0" "merge R"; do
        # shellcheck disable=SC2086
        "$MV" sweep $cmd >/dev/null 2>err; rc=$?
        [ "$rc" -eq 2 ] && [ "$(wc -l <err)" -eq 1 ] \
            && grep -qF "memvirt: sweep ${cmd%% *}: R/sweep.tsv:3: index '$bad', expected 0" err \
            || die "index '$bad': sweep $cmd: exit $rc, expected 2 and one line: $(cat err)"
    done
    mv R/good.tsv R/sweep.tsv
done
# the sweep writes the manifest again, and all is well
"$MV" sweep r.sweep --out R -j 1 2>err || die "the sweep again: $(cat err)"
"$MV" sweep merge R 2>err || die "merge after the sweep: $(cat err)"
echo "sweep_manifest_dup: ok"

#!/usr/bin/env bash
# sweep_merge_notjson.sh: a result file that does not read as JSON is stale
# to `sweep --list` and run again by `sweep`; `sweep merge` failed on it
# with exit 2 even under --partial. Now the merge treats it as the others
# do a result not of its line ('{}'): left out with one warning naming the
# file, a run without a result (exit 1 naming the run; a 'no result' row
# under --partial).
#
# usage: bash sweep_merge_notjson.sh /path/to/memvirt
set -u
MV=${1:?usage: sweep_merge_notjson.sh /path/to/memvirt}
[ -x "$MV" ] || { echo "sweep_merge_notjson.sh: '$MV' is not an executable" >&2; exit 1; }
MV=$(cd "$(dirname "$MV")" && pwd)/$(basename "$MV")
tmp=$(mktemp -d "${TMPDIR:-/tmp}/memvirt-sweep-notjson.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
die() { echo "FAIL: $*" >&2; exit 1; }
cd "$tmp" || exit 1
id_of() { awk -F'\t' -v i="$2" '$1 == i { print $2 }' "$1/sweep.tsv"; }

printf 'mode = native, pv\nworkload = lmbench\nlmbench.iterations = 2\n' > r.sweep
"$MV" sweep r.sweep --out R -j 2 2>err || die "sweep failed: $(cat err)"
id0=$(id_of R 0)
f=R/runs/$id0.json
for bad in 'garbage' '{"a": 1, "a": 2}' '{"runs": ['; do
    printf '%s\n' "$bad" > "$f"
    rm -f R/merged.*
    "$MV" sweep r.sweep --out R --list > list 2>err || die "--list: $(cat err)"
    grep -q "^0	$id0	stale	" list || die "--list does not call '$bad' stale: $(cat list)"
    "$MV" sweep merge R --partial 2>err; rc=$?
    [ "$rc" -eq 0 ] || die "merge --partial of '$bad': exit $rc, expected 0: $(cat err)"
    grep -qx "memvirt: warning: sweep merge: $f is stale: it does not read as JSON: line [12]: .*; left out, as a run without a result ('memvirt sweep' runs it again)" err \
        || die "merge --partial of '$bad': the warning: $(cat err)"
    grep -q "^0,$id0,native,.*,no result," R/merged.csv || die "no 'no result' row: $(cat R/merged.csv)"
    grep -q "^1,$(id_of R 1),pv,.*,ok," R/merged.csv || die "pv's row: $(cat R/merged.csv)"
    rm -f R/merged.*
    "$MV" sweep merge R 2>err; rc=$?
    [ "$rc" -eq 1 ] || die "merge of '$bad': exit $rc, expected 1: $(cat err)"
    grep -q "warning: sweep merge: $f is stale: it does not read as JSON" err || die "merge of '$bad': $(cat err)"
    grep -qx "memvirt: sweep merge: R: 1 of 2 runs have no result (1 of them a result not theirs or not JSON, said above) (first: index 0, id $id0): .*--partial" err \
        || die "merge of '$bad': the error: $(cat err)"
    [ ! -e R/merged.csv ] || die "merge of '$bad' wrote merged.csv"
done
# a directory in its place, and a file of NUL bytes: named as such (jansson
# called both an early end of file: "'[' or '{' expected near end of file")
rm -f "$f" R/merged.* && mkdir "$f"
"$MV" sweep merge R --partial 2>err || die "merge --partial, a directory: $(cat err)"
grep -q "$f is stale: it does not read as JSON: it is a directory, not a result file; left out" err \
    || die "a directory: $(cat err)"
rmdir "$f" && rm -f R/merged.*
head -c 100 /dev/zero > "$f"
"$MV" sweep merge R --partial 2>err || die "merge --partial, NUL bytes: $(cat err)"
grep -q "$f is stale: it does not read as JSON: a NUL byte at byte 0; left out" err || die "NUL bytes: $(cat err)"
rm -f R/merged.*
# '{}' as before: not its line's result
echo '{}' > "$f"
"$MV" sweep merge R --partial 2>err || die "merge --partial of {}: $(cat err)"
grep -q "warning: sweep merge: $f is not the result of run 0: its 'modes' is (none)" err || die "{}: $(cat err)"
# and the sweep runs it again
"$MV" sweep r.sweep --out R 2>err || die "the sweep again: $(cat err)"
"$MV" sweep merge R 2>err || die "merge after the rerun: $(cat err)"
echo "sweep_merge_notjson: ok"

#!/usr/bin/env bash
# sweep_merge_foreign.sh: `memvirt sweep merge` takes a result only if it is
# of its manifest line. A result copied under another run's id (or left
# under the id of a line edited since) was merged under the line's swept
# values, with exit 0 and no word: a row labelled native, iterations=2
# carried pv's numbers. Now it is left out with one warning naming the file
# and what differs, counted as a run without a result (exit 1, or listed
# under --partial), as `sweep --list` calls it stale; results that are
# their lines' merge as before, also when the files they name (a profile
# file, a trace) are gone or changed (the merge reads none), and so does a
# result of another memvirt revision (merged with the revision warning).
#
# usage: bash sweep_merge_foreign.sh /path/to/memvirt
set -u
MV=${1:?usage: sweep_merge_foreign.sh /path/to/memvirt}
[ -x "$MV" ] || { echo "sweep_merge_foreign.sh: '$MV' is not an executable" >&2; exit 1; }
MV=$(cd "$(dirname "$MV")" && pwd)/$(basename "$MV")
SRCDIR=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/memvirt-sweep-foreign.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
die() { echo "FAIL: $*" >&2; exit 1; }
cd "$tmp" || exit 1
id_of() { awk -F'\t' -v i="$2" '$1 == i { print $2 }' "$1/sweep.tsv"; }

cat > r.sweep <<'EOF'
mode = native, pv
workload = lmbench
lmbench.iterations = 2, 3
EOF
"$MV" sweep r.sweep --out R -j 2 2>err || die "sweep failed: $(cat err)"
"$MV" sweep merge R 2>err && [ "$(wc -l < err)" -eq 1 ] || die "a clean merge: $(cat err)"
cp -r R clean
# pv's iterations=3 result (line 3) under native's iterations=2 id (line 0)
cp "R/runs/$(id_of R 3).json" "R/runs/$(id_of R 0).json"
rm R/merged.*
"$MV" sweep merge R 2>err; rc=$?
[ "$rc" -eq 1 ] || die "merge of a result not its line's: exit $rc, expected 1: $(cat err)"
grep -qx "memvirt: warning: sweep merge: R/runs/$(id_of R 0).json is not the result of run 0: its 'modes' is \[\"pv\"\], its manifest line's \[\"native\"\]; left out, .*" err \
    || die "the warning does not name the file and the mode: $(cat err)"
grep -qx "memvirt: sweep merge: R: 1 of 4 runs have no result (1 of them a result not theirs, said above) (first: index 0, id $(id_of R 0)): .*--partial" err \
    || die "the summary: $(cat err)"
[ "$(wc -l < err)" -eq 2 ] || die "expected two lines: $(cat err)"
[ ! -e R/merged.csv ] && [ ! -e R/merged.json ] || die "a merge that failed wrote its files"
"$MV" sweep merge R --partial 2>err || die "merge --partial: $(cat err)"
grep -q "is not the result of run 0" err && grep -q "3 of 4 runs: .*(1 without a result" err || die "merge --partial: $(cat err)"
grep -q "^0,$(id_of R 0),native,lmbench,,2,no result," R/merged.csv || die "the row of run 0: $(sed -n 2p R/merged.csv | cut -c1-80)"
python3 - R/merged.json "$(id_of R 0)" <<'EOF' || die "merge --partial: the JSON"
import json, sys
d = json.load(open(sys.argv[1]))
assert [m["id"] for m in d["sweep"]["missing"]] == [sys.argv[2]], d["sweep"]["missing"]
assert [(r["index"], r["mode"]) for r in d["runs"]] == [(1, "native"), (2, "pv"), (3, "pv")], d["runs"]
assert all(r["sweep"]["lmbench.iterations"] == r["header"]["params"]["lmbench.iterations"] for r in d["runs"])
EOF
# the same rule as --list's: stale there, left out here
"$MV" sweep r.sweep --out R --list > list || die "--list"
[ "$(cut -f3 list | tr '\n' ' ')" = "stale done done done " ] || die "--list: $(cat list)"
# and 'memvirt sweep' names what differs, and runs it again
"$MV" sweep r.sweep --out R -j 1 2>err || die "the sweep after it: $(cat err)"
grep -q "the result in .*$(id_of R 0).json is stale: its 'modes' is \[\"pv\"\], the planned run's \[\"native\"\]; running it again" err \
    || die "the stale result is not named: $(cat err)"
"$MV" sweep merge R 2>err && cmp -s R/merged.csv clean/merged.csv || die "merge after the run again: $(cat err)"

# a parameter the line sets: the same mode, another iterations
cp -r clean P && cp "P/runs/$(id_of P 1).json" "P/runs/$(id_of P 0).json"
"$MV" sweep merge P 2>err; [ $? -eq 1 ] && grep -q "is not the result of run 0: its 'lmbench.iterations' is 3, its manifest line's 2;" err \
    || die "a result of another iteration count: $(cat err)"
# a parameter the line leaves at its default ('-'), and the seed a line
# without --seed runs with
cat > d.sweep <<'EOF'
mode = native
workload = lmbench
lmbench.iterations = 2
lmbench.warmup = -, 0
seed = -, 2
EOF
"$MV" sweep d.sweep --out D -j 2 2>err || die "sweep d: $(cat err)"
# line 0: seed -, warmup -; line 1: seed -, warmup 0; line 2: seed 2, warmup -
cp -r D D2
cp "D/runs/$(id_of D 1).json" "D/runs/$(id_of D 0).json"
"$MV" sweep merge D 2>err; [ $? -eq 1 ] && grep -q "is not the result of run 0: its 'lmbench.warmup' is 0, its manifest line's 10;" err \
    || die "a result of another warmup under the default's line: $(cat err)"
cp "D2/runs/$(id_of D2 2).json" "D2/runs/$(id_of D2 0).json"
"$MV" sweep merge D2 2>err; [ $? -eq 1 ] && grep -q "is not the result of run 0: its 'seed' is 2, its manifest line's 1;" err \
    || die "a result of seed 2 under the default seed's line: $(cat err)"
# a result of another revision: what its line says is still compared
sed -i 's/"revision": "[^"]*"/"revision": "0000000-other"/' "D2/runs/$(id_of D2 0).json"
"$MV" sweep merge D2 2>err; [ $? -eq 1 ] && grep -q "is not the result of run 0: its 'seed' is 2" err \
    || die "a foreign result of another revision: $(cat err)"
# ... but not the defaults, which another revision may have had otherwise: merged, with the revision warning
cp -r clean V && sed -i 's/"revision": "[^"]*"/"revision": "0000000-other"/; s/"lmbench.warmup": 10,/"lmbench.warmup": 9,/' \
    "V/runs/$(id_of V 0).json"
grep -q '"lmbench.warmup": 9,' "V/runs/$(id_of V 0).json" || die "test broken: no warmup to edit"
"$MV" sweep merge V 2>err && grep -q "warning: sweep merge: 1 of 4 results were written by another memvirt" err \
    && ! grep -q "is not the result" err || die "another revision's default: $(cat err)"
# a result whose run is of another mode than its own 'modes' says (an
# attack run: merged as a pv row under sweep.mode native, exit 0)
cp -r clean M && python3 - "M/runs/$(id_of M 0).json" <<'EOF' || die "test broken: editing runs[0].mode"
import json, sys
r = json.load(open(sys.argv[1]))
r["runs"][0]["mode"] = "pv"
json.dump(r, open(sys.argv[1], "w"), indent=2)
EOF
"$MV" sweep merge M 2>err; [ $? -eq 1 ] && grep -q "is not the result of run 0: its 'runs\[0\].mode' is \"pv\", its modes entry is \"native\";" err \
    || die "a run of another mode than its result's modes: $(cat err)"
# a hand-edited line whose old result stayed under its id
cp -r clean E && sed -i '3s/--mode native/--mode hap/' E/sweep.tsv
"$MV" sweep merge E 2>err; [ $? -eq 1 ] && grep -q "is not the result of run 0: its 'modes' is \[\"native\"\], its manifest line's \[\"hap\"\];" err \
    || die "a line edited to another mode: $(cat err)"

# no false alarm where files decide parameters: a profile file (its costs)
# and a trace (its digest); the merge reads neither, so both may be gone
printf 'memvirt-cost-profile 1\ncost.fork_fixed = 1000 status=fitted\n' > p.profile
cp "$SRCDIR/tests/data/shloop.mvt" t.mvt
"$MV" sweep /dev/null --set mode=native --set workload=lmbench --set lmbench.iterations=2 --set profile=p.profile,default \
    --out F -j 2 2>err || die "sweep with a profile file: $(cat err)"
"$MV" sweep /dev/null --set mode=native --set workload=trace --set trace.file=t.mvt --out T -j 1 2>err \
    || die "sweep of a trace: $(cat err)"
rm p.profile t.mvt
"$MV" sweep merge F 2>err && [ "$(wc -l < err)" -eq 1 ] || die "merge with a profile file gone: $(cat err)"
"$MV" sweep merge T 2>err && [ "$(wc -l < err)" -eq 1 ] || die "merge of a trace sweep, the trace gone: $(cat err)"
# ... while the profile's run under the default's line is refused by its name
cp "F/runs/$(id_of F 0).json" "F/runs/$(id_of F 1).json"
"$MV" sweep merge F 2>err; [ $? -eq 1 ] && grep -q "is not the result of run 1: its 'profile' is \"$(pwd -P)/p.profile\", its manifest line's \"default\";" err \
    || die "a profile file's result under the default profile's line: $(cat err)"
echo "sweep_merge_foreign.sh: all checks passed"

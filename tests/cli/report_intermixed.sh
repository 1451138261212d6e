#!/usr/bin/env bash
# report_intermixed.sh: `memvirt report` takes its result files and its
# options in any order, as the C commands (getopt) do: `-o x.html a.json
# --title T b.json` failed 'unrecognized arguments: b.json' (argparse's
# parse_args stops the positionals at the first option). The page holds
# both files; an option given twice, a missing value and no file at all
# are still refused (exit 2).
#
# usage: bash report_intermixed.sh /path/to/memvirt
set -u
MV=${1:?usage: report_intermixed.sh /path/to/memvirt}
[ -x "$MV" ] || { echo "report_intermixed.sh: '$MV' is not an executable" >&2; exit 1; }
MV=$(cd "$(dirname "$MV")" && pwd)/$(basename "$MV")
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/memvirt-report-args.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
die() { echo "FAIL: $*" >&2; exit 1; }
RUN=(--workload lmbench --param lmbench.iterations=2 --quiet)
"$MV" run --mode native "${RUN[@]}" --json "$tmp/a.json" >/dev/null 2>&1 || die "run native"
"$MV" run --mode pv "${RUN[@]}" --json "$tmp/b.json" >/dev/null 2>&1 || die "run pv"
cd "$tmp" || exit 1

"$MV" report -o x.html a.json --title T b.json 2>err || die "files around an option: $(cat err)"
"$MV" report a.json b.json -o y.html --title T 2>err || die "files first: $(cat err)"
cmp -s x.html y.html || die "the same page two ways: they differ"
grep -q "<title>T" x.html || die "no title T"
grep -q "b\.json" x.html && grep -q "a\.json" x.html || die "the page does not hold both files"
"$MV" report -o z.html a.json --title T b.json --title U 2>err; rc=$?
[ "$rc" -eq 2 ] && grep -qx "memvirt: report: --title given twice with different values ('T' and 'U')" err \
    || die "--title twice: exit $rc: $(cat err)"
"$MV" report -o z.html a.json --title 2>err; rc=$?
[ "$rc" -eq 2 ] || die "--title without a value: exit $rc: $(cat err)"
"$MV" report --title T -o z.html 2>err; rc=$?
[ "$rc" -eq 2 ] && grep -q "required: RESULT.json" err || die "no file: exit $rc: $(cat err)"
[ ! -e z.html ] || die "z.html written"
echo "report_intermixed: ok"

#!/usr/bin/env bash
# sweep_same_run.sh: a sweep spec that would make the same run twice is an
# error at the value that repeats (exit 2, nothing written), however the
# value is spelt: an `at` control compared as the run holds it (1s and
# 1000ms, on and true, 1K and 1024), a file by what it resolves to (an
# absolute path with '.', a symlink: the manifest holds the resolved path),
# and '-' (the default) beside the default's own value, also where the
# default depends on another axis (cost.* on the profile). Each of these
# planned the run twice, under two ids. And one key given by two --sets
# with different values is a contradiction naming both (the later was
# taken silently).
#
# usage: bash sweep_same_run.sh /path/to/memvirt
set -u
MV=${1:?usage: sweep_same_run.sh /path/to/memvirt}
[ -x "$MV" ] || { echo "sweep_same_run.sh: '$MV' is not an executable" >&2; exit 1; }
MV=$(cd "$(dirname "$MV")" && pwd)/$(basename "$MV")
SRCDIR=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/memvirt-sweep-same.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
die() { echo "FAIL: $*" >&2; exit 1; }
cd "$tmp" || exit 1
here=$(pwd -P)

# bad SPEC WHERE MESSAGE: exit 2, one line "memvirt: s.sweep:WHERE: MESSAGE...", nothing written
bad() {
    printf '%b' "$1" > s.sweep
    "$MV" sweep s.sweep --out out >o 2>err
    rc=$?
    [ "$rc" -eq 2 ] && [ "$(wc -l < err)" -eq 1 ] && grep -qF "memvirt: s.sweep:$2: $3" err \
        || die "spec $(printf %q "$1"): exit $rc, expected 2 and 's.sweep:$2: $3': $(cat err)"
    [ ! -e out ] || die "spec $(printf %q "$1"): a refused sweep made its directory"
}
# good SPEC RUNS: planned, RUNS runs
good() {
    printf '%b' "$1" > s.sweep
    "$MV" sweep s.sweep --list >list 2>err || die "spec $(printf %q "$1"): refused: $(cat err)"
    [ "$(wc -l < list)" -eq "$2" ] || die "spec $(printf %q "$1"): $(wc -l < list) runs, expected $2: $(cat list)"
}
ck='mode = pv-pibooster\nworkload = lmbench\n'
# at: compared after parsing
bad "${ck}at = 1s:ptcache=on, 1000ms:ptcache=on\n" 3:21 "at '1000ms:ptcache=on' is given twice (as '1s:ptcache=on' at 3:6 and as '1000ms:ptcache=on' here)"
bad "${ck}at = 60s:ptcache=on, 1m:ptcache=on\n"     3:22 "at '1m:ptcache=on' is given twice (as '60s:ptcache=on' at 3:6"
bad "${ck}at = 1s:ptcache=on, 1s:ptcache=true\n"    3:21 "at '1s:ptcache=true' is given twice (as '1s:ptcache=on' at 3:6"
bad "${ck}at = 1s:ptcache_ratio=1K, 1s:ptcache_ratio=1024\n" 3:27 "at '1s:ptcache_ratio=1024' is given twice"
good "${ck}at = 1s:ptcache=on, 1s:ptcache=off, 1000ms:ptcache_ratio=1024, 2s:ptcache=on\n" 4

# files: two names of one file are one value; the manifest holds the file resolved
mkdir -p d && cp "$SRCDIR/tests/data/shloop.mvt" d/t.mvt && ln -s t.mvt d/link.mvt && ln -s d dl
tr='mode = native\nworkload = trace\n'
bad "${tr}trace.file = $here/d/t.mvt, $here/d/./t.mvt\n" "3:$((14 + ${#here} + 10))" \
    "trace.file '$here/d/t.mvt' is given twice (as '$here/d/t.mvt' at 3:14 and as '$here/d/./t.mvt' here)"
bad "${tr}trace.file = $here/d/t.mvt, $here/d/link.mvt\n" "3:$((14 + ${#here} + 10))" \
    "trace.file '$here/d/t.mvt' is given twice (as '$here/d/t.mvt' at 3:14 and as '$here/d/link.mvt' here)"
bad "${tr}trace.file = d/t.mvt, $here/dl/../d/link.mvt\n" 3:23 "trace.file '$here/d/t.mvt' is given twice (as 'd/t.mvt' at 3:14"
bad "${tr}trace.file = dl/link.mvt, d/t.mvt\n" 3:27 "trace.file '$here/d/t.mvt' is given twice (as 'dl/link.mvt' at 3:14"
printf "${tr}trace.file = $here/dl/link.mvt\n" > s.sweep
"$MV" sweep s.sweep --out tr.runs --slurm --no-submit 2>err || die "an absolute symlinked trace: $(cat err)"
grep -q -- "--param trace.file=$here/d/t.mvt\$" tr.runs/sweep.tsv || die "the manifest's trace: $(tail -1 tr.runs/sweep.tsv)"
printf 'memvirt-cost-profile 1\ncost.fork_fixed = 1000 status=fitted\n' > p.profile && ln -s p.profile q.profile
lm='mode = native\nworkload = lmbench\n'
bad "${lm}profile = $here/p.profile, $here/./p.profile\n" "3:$((11 + ${#here} + 12))" "profile '$here/p.profile' is given twice"
bad "${lm}profile = p.profile, $here/q.profile\n" 3:22 "profile '$here/p.profile' is given twice (as 'p.profile' at 3:11 and as '$here/q.profile' here)"
printf "${lm}profile = $here/q.profile\n" > s.sweep
"$MV" sweep s.sweep --list >list 2>err && grep -q -- "--profile $here/p.profile\$" list || die "the absolute symlinked profile: $(cat list err)"
# a symlink that resolves to a name with a space is refused as such a name is
mkdir 'sp ace' && cp p.profile 'sp ace/x.profile' && ln -s 'sp ace/x.profile' sp.profile
bad "${lm}profile = $here/sp.profile\n" 3:11 "'$here/sp.profile' is '$here/sp ace/x.profile', with a space"

# '-' is the default: beside the default's own value, the same run
# a seed is digits only, as --seed takes it (1K was taken as 1024)
bad "${lm}seed = 1K\n"           3:8 "seed '1K' malformed (expected a decimal integer from 0 to 9223372036854775807)"
bad "${lm}seed = -, 1\n"        3:11 "seed '1' is given twice (as '-', the default, at 3:8 and as '1' here; the run mode=native workload=lmbench seed=1 twice)"
bad "${lm}seed = 1, -\n"        3:11 "seed '-' is given twice (as '1' at 3:8 and as '-', the default, here"
bad "${lm}profile = default, -\n" 3:20 "profile '-' is given twice (as 'default' at 3:11 and as '-', the default, here"
bad "${lm}lmbench.iterations = -, 200\n" 3:25 "lmbench.iterations '200' is given twice (as '-', the default, at 3:22"
bad "${lm}lmbench.iterations = 2, 200, -\n" 3:30 "lmbench.iterations '-' is given twice (as '200' at 3:25"
bad "${lm}seed = 1..3, -\n"     3:14 "seed '-' is given twice (as '1..3' at 3:8 and as '-', the default, here"
# ... where the default is another axis's: nested's vm_exit is 18890
bad "${lm}profile = nested\ncost.vm_exit = -, 18890\n" 4:19 "cost.vm_exit '18890' is given twice (as '-', the default, at 4:16 and as '18890' here; the run mode=native workload=lmbench profile=nested cost.vm_exit=18890 twice)"
bad "${lm}profile = default, nested\ncost.vm_exit = -, 18890\n" 4:19 "cost.vm_exit '18890' is given twice"
good "${lm}profile = default\ncost.vm_exit = -, 18890\n" 2
# ... and in a group, with the axis from the common lines
bad "${lm}seed = -, 1\n[a]\nlmbench.iterations = 2\n" 3:11 "seed '1' is given twice"
"$MV" sweep /dev/null --set mode=native --set workload=lmbench --set seed=-,1 --list 2>err; [ $? -eq 2 ] \
    && grep -qF -- "--set #3:1:8: seed '1' is given twice (as '-', the default, at 1:6" err || die "--set seed=-,1: $(cat err)"
# '-' beside other values is fine, as is the same run in two groups (one id, run once)
good "${lm}seed = -, 2\nlmbench.iterations = -, 3\nprofile = -, nested\n" 8
good "${lm}[a]\nseed = -\n[b]\nseed = -, 2\n" 3
# one key by two --sets: the later was taken silently (--set mode=hap --set
# mode=tsp ran tsp alone); other values are a contradiction naming both,
# the same values one axis (as `memvirt run` takes a --param given twice)
printf "$lm" > ok.sweep
"$MV" sweep ok.sweep --set mode=hap --set mode=tsp --list --out set.runs >o 2>err; rc=$?
[ "$rc" -eq 2 ] && [ "$(wc -l < err)" -eq 1 ] && [ ! -s o ] && grep -qxF "memvirt: --set #2:1:1: mode given twice with different values ('hap' at --set #1 and 'tsp' here): one --set per key" err \
    || die "--set mode twice: exit $rc: $(cat err o)"
"$MV" sweep ok.sweep --set mode=hap --set mode=tsp --out set.runs -j 1 2>err; [ $? -eq 2 ] && [ ! -e set.runs ] \
    || die "--set mode twice made its directory: $(cat err)"
"$MV" sweep ok.sweep --set mode=native --set seed=2 --set 'lmbench.iterations = 2,3' --set mode=native,pv --list 2>err; [ $? -eq 2 ] \
    && grep -qF -- "--set #4:1:1: mode given twice with different values ('native' at --set #1 and 'native, pv' here)" err \
    || die "--set mode twice, apart: $(cat err)"
"$MV" sweep ok.sweep --set lmbench.iterations=2 --set lmbench.iterations=2K --list 2>err; [ $? -eq 2 ] \
    && grep -qF -- "--set #2:1:1: lmbench.iterations given twice with different values ('2' at --set #1 and '2K' here)" err \
    || die "--set lmbench.iterations twice: $(cat err)"
"$MV" sweep ok.sweep --set mode=hap,tsp --set 'mode = hap, tsp' --list >list 2>err && [ ! -s err ] \
    && [ "$(cut -f4 list | tr '\n' ' ')" = "--mode hap --workload lmbench --mode tsp --workload lmbench " ] \
    || die "--set mode twice with the same values: $(cat list err)"
# a --set still replaces the spec's own line of that key
"$MV" sweep ok.sweep --set mode=hap --list >list 2>err && [ "$(cut -f4 list)" = "--mode hap --workload lmbench" ] \
    || die "--set over the spec's mode: $(cat list err)"
echo "sweep_same_run.sh: all checks passed"

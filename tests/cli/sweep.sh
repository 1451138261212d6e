#!/usr/bin/env bash
# sweep.sh: `memvirt sweep`: spec errors are one line naming file, line and
# column (exit 2, nothing written); axes expand into the right runs (groups,
# ranges, globs, exclusions, @vmexits, a workload's parameters only for its runs); GNU parallel runs
# them; finished runs are skipped; the merge has the swept values as columns
# and is deterministic; a stale result (profile edited, another revision)
# runs again; --slurm splits arrays below MaxArraySize (scripts only, no
# Slurm here); sweep one takes digits only, --sbatch one line.
#
# usage: bash sweep.sh /path/to/memvirt
set -u
MV=${1:?usage: sweep.sh /path/to/memvirt}
[ -x "$MV" ] || { echo "sweep.sh: '$MV' is not an executable" >&2; exit 1; }
MV=$(cd "$(dirname "$MV")" && pwd)/$(basename "$MV")
SRCDIR=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/memvirt-sweep.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
die() { echo "FAIL: $*" >&2; exit 1; }
cd "$tmp" || exit 1

# bad spec -> expected "file:line:col" (or "file:" for whole-spec errors) and a word of the message
bad() {
    printf '%b' "$1" > bad.sweep
    "$MV" sweep bad.sweep --out badout >out 2>err
    rc=$?
    [ "$rc" -eq 2 ] || die "spec $(printf %q "$1"): exit $rc, expected 2"
    [ "$(wc -l < err)" -eq 1 ] || die "spec $(printf %q "$1"): expected one error line, got: $(cat err)"
    grep -q "^memvirt: bad.sweep$2: .*$3" err || die "spec $(printf %q "$1"): expected 'bad.sweep$2: ...$3', got: $(cat err)"
    [ ! -e badout ] || die "spec $(printf %q "$1"): a bad spec left $tmp/badout behind"
}
ok='mode = native\nworkload = lmbench\n'
bad 'mode = nope\nworkload = lmbench\n'                  ':1:8' "unknown mode 'nope'"
bad 'mode = zz*\nworkload = lmbench\n'                   ':1:8' "no mode matches"
bad 'mode = native\nworkload = lmbench, x\n'             ':2:21' "unknown workload 'x'"
bad "${ok}lmbench.iterations = 5, abc\n"                 ':3:25' "malformed value 'abc'"
bad "${ok}lmbench.iterationz = 3\n"                      ':3:1' "unknown parameter"
bad "${ok}memwalk.refs = 5\n"                            ':3:1' "parameter of workload memwalk"
bad "${ok}foo = 1\n"                                     ':3:1' "unknown key 'foo'"
bad "${ok}seed = 5..2\n"                                 ':3:8' "bad range"
bad "${ok}seed = x\n"                                    ':3:8' "seed 'x' malformed"
bad "${ok}profile = fast\n"                              ':3:11' "neither a built-in profile"
bad "${ok}at = 5x:ptcache=on\n"                          ':3:6' "malformed time"
bad 'mode native\n'                                      ':1:6' "expected '='"
bad 'mode =\n'                                           ':1:7' "expected a value"
bad 'mode = a b\n'                                       ':1:10' "expected ','"
bad 'mode = a,,b\n'                                      ':1:10' "empty value"
bad 'mode = native\nmode = pv\n'                         ':2:1' "given twice"
bad '[g\n'                                               ':1:3' "expected ']'"
bad '[]\n'                                               ':1:2' "empty group name"
bad '[a]\nmode = native\n[a]\n'                          ':3:2' "group 'a' given twice"
bad '[a\377b]\nmode = native\n'                         ':1:3' "byte 0xff: a group name is UTF-8 text"
bad 'mode = native\n  = 3\n'                             ':2:3' "expected KEY"
bad 'mode = na\001tive\n'                                ':1:10' "control character"
bad 'workload = lmbench\n'                               '' "no 'mode' line"
bad 'workload = lmbench\n[a]\nseed = 1\n'                ':2' "group \\[a\\] has no 'mode'"
bad "${ok}tlb.l2_entries = 1000\n"                       ':2:12' "the run .*tlb.l2_entries=1000 is not a multiple of tlb.l2_ways=12 (the default)"
# a value given twice on one axis (as memvirt reads it: 2K is 2048) made
# its runs twice: two manifest lines with one id, counted twice by the merge
bad "${ok}seed = 1..2, 2\n"                              ':3:14' "seed '2' is given twice (as '1..2' at 3:8 and as '2' here)"
bad "${ok}seed = 1..3, 2..4\n"                           ':3:14' "seed '2' is given twice (as '1..3' at 3:8 and as '2..4' here)"
bad "${ok}seed = 7, 07\n"                                ':3:11' "seed '07'"
bad "${ok}lmbench.iterations = 2, 2\n"                   ':3:25' "lmbench.iterations '2' is given twice (as '2' at 3:22"
bad "${ok}guest.ram_mb = 2048, 2K\n"                     ':3:22' "guest.ram_mb '2K' is given twice (as '2048' at 3:16"
bad "${ok}guest.pcid = on, true\n"                       ':3:18' "guest.pcid 'true' is given twice"
bad "${ok}lmbench.iterations = -, 2, -\n"                ':3:28' "lmbench.iterations '-' is given twice"
bad "${ok}profile = default, default\n"                  ':3:20' "profile 'default' is given twice"
bad "${ok}seed = 1..10000\nlmbench.iterations = 1..30\n"  ':3:1' "300000 runs, more than 100000 (the most values, 10000, are seed's here)"
bad "${ok}[g]\nseed = 1..10000\nlmbench.iterations = 1..30\n" ':4:1' "300000 runs with group \\[g\\], more than 100000"
"$MV" sweep /dev/null --set mode=native --set workload=lmbench --set seed=1,1 --list 2>err; [ $? -eq 2 ] \
    && grep -q -- "--set #3:1:8: seed '1' is given twice" err || die "a repeated --set value: $(cat err)"
# an empty --set found nothing (it said "found 0x00", the string's end)
for empty in '' '  '; do
    "$MV" sweep /dev/null --set "$empty" --list 2>err; [ $? -eq 2 ] \
        && grep -qx -- "memvirt: --set #1:1:$(( ${#empty} + 1 )): expected KEY = VALUE, VALUE, ... or \[group\], found nothing" err \
        || die "--set '$empty': $(cat err)"
done
printf 'mode = native\0\n' > nul.sweep
"$MV" sweep nul.sweep 2>err; [ $? -eq 2 ] && grep -q 'nul.sweep:1:14: NUL byte' err || die "NUL byte: $(cat err)"
"$MV" sweep missing.sweep 2>err; [ $? -eq 2 ] && grep -q "cannot read 'missing.sweep'" err || die "missing spec: $(cat err)"
"$MV" sweep 2>err; [ $? -eq 2 ] || die "no spec: exit status"
printf "$ok" > ok.sweep
"$MV" sweep ok.sweep -j 0 2>err; [ $? -eq 2 ] && grep -q -- "-j '0'" err || die "-j 0: $(cat err)"
"$MV" sweep ok.sweep -j 4294967297 --list 2>err; [ $? -eq 2 ] && grep -q -- "-j '4294967297'" err || die "-j 2^32+1: $(cat err)"
# only what the message says it takes (1k, a parameter's size suffix, was taken as 1024)
for j in 1k 1K 01 +2 ' 2' 1025; do
    "$MV" sweep ok.sweep -j "$j" --list 2>err; [ $? -eq 2 ] && [ "$(wc -l < err)" -eq 1 ] \
        && grep -q -- "sweep: -j '$j': $([ "$j" = 1025 ] && echo 'out of range: ')expected a decimal integer from 1 to 1024" err \
        || die "-j '$j': $(cat err)"
done
"$MV" sweep ok.sweep -j 1 -j 2 --list 2>err; [ $? -eq 2 ] && grep -q -- "-j given twice" err || die "-j twice: $(cat err)"
"$MV" sweep ok.sweep --out a.runs --out b.runs --list 2>err; [ $? -eq 2 ] && grep -q -- "--out given twice" err \
    || die "--out twice: $(cat err)"
# --out '' made the sweep in /runs; a directory that cannot be made is bad input, before any run
"$MV" sweep ok.sweep --out '' --list 2>err; [ $? -eq 2 ] && grep -q -- "--out: empty" err || die "--out '': $(cat err)"
"$MV" sweep ok.sweep --out ok.sweep 2>err; [ $? -eq 2 ] && grep -q "cannot create 'ok.sweep/runs'" err \
    || die "--out onto a file: $(cat err)"
# every run is checked against its mode before anything runs (these ran, and
# failed one by one with exit 1): a control the mode does not offer,
# guest.pt_cache=on without the cache, clustering without VM exits
printf 'workload = memwalk\n[a]\nmode = pv-pibooster\nat = 5m:ptcache=on\n[b]\nmode = pv\nat = 5m:ptcache=on\n' > ctl.sweep
"$MV" sweep ctl.sweep --out ctl.runs 2>err; [ $? -eq 2 ] && grep -q "ctl.sweep:5: group \[b\], the run mode=pv .*mode pv has no control 'ptcache'" err \
    || die "a control the mode lacks: $(cat err)"
[ -e ctl.runs ] && die "a refused sweep made its directory"
"$MV" sweep /dev/null --set mode=native --set workload=memwalk --set guest.pt_cache=on --list 2>err; [ $? -eq 2 ] \
    && grep -q "mode native offers no page-table cache" err || die "guest.pt_cache=on under native: $(cat err)"
"$MV" sweep /dev/null --set mode=native,hap --set workload=memwalk --set clustering.enable=true --list 2>err; [ $? -eq 2 ] \
    && grep -q "mode native has no hardware VM exits" err || die "clustering under native: $(cat err)"
"$MV" sweep ok.sweep --wait 2>err; [ $? -eq 2 ] && grep -q -- "need --slurm" err || die "--wait without --slurm: $(cat err)"
"$MV" sweep ok.sweep --set 'seed = 1 2' 2>err; [ $? -eq 2 ] && grep -q -- "--set #1:1:10" err || die "--set error: $(cat err)"
# a bad value given by --set is reported at that --set, not in the spec file
"$MV" sweep /dev/null --set mode=native --set workload=forkstorm --set 'forkstorm.minutes=1,x' 2>err
[ $? -eq 2 ] && grep -q -- "--set #3:1:21: forkstorm.minutes: malformed value 'x'" err || die "--set value error: $(cat err)"
"$MV" sweep one . x 2>err; [ $? -eq 2 ] || die "sweep one with a bad index"
"$MV" sweep one --help >out 2>err && grep -q '^usage: memvirt sweep one DIR INDEX' out && [ ! -s err ] \
    || die "sweep one --help: $(cat out err)"
# a directory #SBATCH lines cannot name is refused before anything is made
# or written there (it made the directory, its lock and the manifest)
"$MV" sweep ok.sweep --slurm --no-submit --out 'p%q.runs' 2>err; [ $? -eq 2 ] \
    && grep -q "the directory '.*/p%q.runs' has a space or '%'" err || die "--slurm into p%q.runs: $(cat err)"
[ ! -e 'p%q.runs' ] || die "a refused --slurm sweep made its directory: $(ls -A 'p%q.runs')"
mkdir 'p q.runs' && echo keep > 'p q.runs/sweep.tsv'
"$MV" sweep ok.sweep --slurm --no-submit --out 'p q.runs/sub/deeper' 2>err; [ $? -eq 2 ] \
    && grep -q "has a space" err || die "--slurm under 'p q.runs': $(cat err)"
"$MV" sweep ok.sweep --slurm --no-submit --out 'p q.runs' 2>err; [ $? -eq 2 ] || die "--slurm into 'p q.runs'"
[ "$(ls -A 'p q.runs')" = sweep.tsv ] && [ "$(cat 'p q.runs/sweep.tsv')" = keep ] \
    || die "a refused --slurm sweep wrote into an existing directory: $(ls -A 'p q.runs')"
ln -s 'p q.runs' plain.runs   # a name without a space, resolving to one
"$MV" sweep ok.sweep --slurm --no-submit --out plain.runs/new 2>err; [ $? -eq 2 ] \
    && grep -q "has a space" err && [ ! -e 'p q.runs/new' ] || die "--slurm through a symlink: $(cat err)"
"$MV" sweep one . 0 2>err; [ $? -eq 2 ] && grep -q "sweep.tsv" err || die "sweep one without a manifest: $(cat err)"

# expansion: groups, a range, a glob, a workload's parameter only in its runs
cat > g.sweep <<'EOF'
workload = lmbench, netio     # common to both groups
lmbench.iterations = 3
netio.seconds = 1
[bare]
mode = native
seed = 1..2
[xen]
mode = pv*
EOF
"$MV" sweep g.sweep --list >list 2>err || die "--list failed: $(cat err)"
[ "$(wc -l < list)" -eq 8 ] || die "expected 8 runs (2 seeds x 2 workloads + 2 modes x 2 workloads): $(cat list)"
grep -q $'\t--mode native --workload lmbench --seed 2 --param lmbench.iterations=3$' list || die "seeded lmbench run: $(cat list)"
grep -q $'\t--mode pv-pibooster --workload netio --param netio.seconds=1$' list || die "glob pv* or netio run: $(cat list)"
grep -q 'netio --.*lmbench\.\|lmbench --.*netio\.' list && die "a workload's parameter reached another workload's run"
[ ! -e g.runs ] || die "--list wrote files"
# exclusions and the @vmexits set: every mode but the excluded, generically
printf 'mode = *, !pv*\nworkload = lmbench\n' > x.sweep
"$MV" sweep x.sweep --list 2>err | sed 's/.*--mode \([^ ]*\) .*/\1/' > got || die "exclusion: $(cat err)"
"$MV" list | sed -n '/^modes:/,/^$/s/^  \([a-z0-9-]*\) .*/\1/p' | grep -v '^pv' > want
[ -s want ] && cmp -s got want || die "'*, !pv*' gave $(tr '\n' ' ' < got), expected $(tr '\n' ' ' < want)"
printf 'mode = !native\nworkload = lmbench\n' > x.sweep
"$MV" sweep x.sweep --list | sed 's/.*--mode \([^ ]*\) .*/\1/' > got
"$MV" list | sed -n '/^modes:/,/^$/s/^  \([a-z0-9-]*\) .*/\1/p' | grep -vx native > want
cmp -s got want || die "'!native' alone gave $(tr '\n' ' ' < got)"
printf 'mode = @vmexits\nworkload = lmbench\n' > x.sweep
"$MV" sweep x.sweep --list > got 2>err || die "@vmexits: $(cat err)"
grep -q -- '--mode hap ' got && ! grep -q -- '--mode native \|--mode pv ' got || die "@vmexits: $(cat got)"
printf 'mode = @vmexits\nworkload = lmbench\nclustering.enable = true\n' > x.sweep
"$MV" sweep x.sweep --list >/dev/null 2>err || die "@vmexits does not all take --clustering: $(cat err)"
expect_bad() { printf '%b' "$2" > x.sweep; "$MV" sweep x.sweep --list >/dev/null 2>err; [ $? -eq 2 ] && grep -q -- "$3" err \
    && [ "$(wc -l < err)" -eq 1 ] || die "$1: $(cat err)"; }
expect_bad "a typo in an exclusion" 'mode = *, !nativ\nworkload = lmbench\n' "x.sweep:1:11: '!nativ' excludes no mode"
expect_bad "excluding everything" 'mode = pv, !p*\nworkload = lmbench\n' "x.sweep:1:12: '!p\*' leaves no mode"
expect_bad "a bare '!'" 'mode = *, !\nworkload = lmbench\n' "x.sweep:1:11: expected a name or a glob after '!'"
expect_bad "an unknown set" 'mode = @exits\nworkload = lmbench\n' "x.sweep:1:8: unknown mode set '@exits'"
expect_bad "a workload set" 'mode = native\nworkload = @vmexits\n' "x.sweep:2:12: unknown workload set"
# a profile read once per run: a FIFO (here with no writer: it blocked the
# planning for ever) or a directory is refused before it is opened
mkfifo prof.fifo && mkdir -p prof.dir
expect_bad "a FIFO profile" 'mode = native\nworkload = lmbench\nprofile = prof.fifo\n' \
    "x.sweep:3:11: profile '.*prof.fifo': not a regular file (a device, FIFO or socket)"
expect_bad "a directory profile" 'mode = native\nworkload = lmbench\nprofile = prof.dir\n' \
    "x.sweep:3:11: profile '.*prof.dir': not a regular file (a directory)"
rm -rf prof.fifo prof.dir

# --set replaces an axis everywhere, and may name a workload the sweep does not run
"$MV" sweep g.sweep --list --set seed=7 --set memwalk.refs=10 >list2 2>err || die "--set: $(cat err)"
[ "$(wc -l < list2)" -eq 6 ] && [ "$(grep -c -- '--seed 7 ' list2)" -eq 6 ] || die "--set seed=7 did not replace the seed axis everywhere: $(cat list2)"

# a local run through GNU parallel, then skipping and merging
cat > s.sweep <<'EOF'
mode = native, pv
workload = lmbench
lmbench.iterations = 3, 6
EOF
"$MV" sweep s.sweep -j 2 2>err || die "sweep failed: $(cat err)"
grep -q '4 runs: 4 finished now, 0 before' err || die "summary: $(cat err)"
# a manifest that cannot be written (a full disk; here a file-size limit)
# names the reason (it said "write failed") and leaves no temporary file
# (the limit holds for err too: it is 1 KiB, the manifest of 16 runs more)
printf 'mode = native, pv\nworkload = lmbench\nlmbench.iterations = 1..8\n' >limited.sweep
( trap '' XFSZ; ulimit -f 1; exec "$MV" sweep limited.sweep --out limited.runs ) 2>err; rc=$?
[ "$rc" -eq 1 ] && grep -qx "memvirt: cannot write '.*/limited.runs/sweep.tsv': File too large" err \
    || die "manifest over a file-size limit: exit $rc: $(cat err)"
[ -z "$(ls -A limited.runs | grep -v -e '^runs$' -e '^sweep.lock$')" ] || die "manifest over a file-size limit left: $(ls -A limited.runs)"
[ "$(ls s.runs/runs/*.json | wc -l)" -eq 4 ] || die "expected 4 results"
"$MV" sweep s.sweep 2>err || die "second sweep failed"
grep -q 'all 4 runs already finished' err || die "finished runs not skipped: $(cat err)"
first=$(ls s.runs/runs/*.json | head -1)
rm "$first"
"$MV" sweep merge s.runs 2>err; [ $? -eq 1 ] && grep -q '1 of 4 runs have no result' err || die "merge with a missing result: $(cat err)"
[ ! -e s.runs/merged.csv ] || die "a failed merge wrote merged.csv"
"$MV" sweep merge s.runs --partial 2>err || die "merge --partial: $(cat err)"
grep -q "3 of 4 runs: .*(1 without a result, listed in both: status 'no result')" err || die "merge --partial: $(cat err)"
# the run without a result is a row of its own, said so (the CSV lacked it)
[ "$(wc -l < s.runs/merged.csv)" -eq 5 ] && [ "$(grep -c ',ok,' s.runs/merged.csv)" -eq 3 ] \
    && grep -q "^[0-3],$(basename "$first" .json),[a-z]*,lmbench,,[36],no result,*\$" s.runs/merged.csv \
    || die "partial merge CSV: $(cut -c1-80 s.runs/merged.csv)"
python3 - s.runs/merged.json "$(basename "$first" .json)" <<'EOF' || die "partial merge JSON: sweep.missing"
import json, sys
d = json.load(open(sys.argv[1]))
m = d["sweep"]["missing"]
assert len(m) == 1 and m[0]["id"] == sys.argv[2] and m[0]["sweep"]["lmbench.iterations"] in (3, 6), m
assert d["sweep"]["merged"] == 3 and len(d["runs"]) == 3
EOF
"$MV" sweep s.sweep -j 1 2>err || die "resumed sweep failed: $(cat err)"
grep -q '1 finished now, 3 before' err || die "resumed summary: $(cat err)"
"$MV" sweep merge s.runs --csv /nonexistent/m.csv 2>err; [ $? -eq 2 ] && grep -q "cannot write" err || die "unwritable CSV: $(cat err)"
ls s.runs/merged.json s.runs/*.tmp >/dev/null 2>&1 && die "a failed merge left merged.json or a temporary file"
# an output that is one of merge's inputs (the manifest, a result) is refused, not overwritten
cp s.runs/sweep.tsv manifest.keep
"$MV" sweep merge s.runs --csv s.runs/sweep.tsv 2>err; [ $? -eq 2 ] && grep -q "is the input 's.runs/sweep.tsv'" err \
    || die "merge --csv onto the manifest: $(cat err)"
cmp -s manifest.keep s.runs/sweep.tsv || die "merge overwrote its manifest"
"$MV" sweep merge s.runs --json - >> s.runs/sweep.tsv 2>err; [ $? -eq 2 ] \
    && grep -q "^memvirt: sweep merge: --json '-' is the input 's.runs/sweep.tsv'" err \
    || die "merge --json - >> the manifest: $(cat err)"
cmp -s manifest.keep s.runs/sweep.tsv || die "merge appended to its manifest"
# ... and standard output is not another output either: the JSON went to the
# CSV's old file, unlinked when the CSV was renamed over it, without a word
"$MV" sweep merge s.runs >/dev/null 2>err || die "merge: $(cat err)"
cp s.runs/merged.csv merged.keep
"$MV" sweep merge s.runs --json - >> s.runs/merged.csv 2>err; [ $? -eq 2 ] \
    && grep -q "^memvirt: sweep merge: --json '-' and --csv 's.runs/merged.csv' are the same file" err \
    || die "merge --json - >> its CSV: $(cat err)"
cmp -s merged.keep s.runs/merged.csv || die "merge --json - >> its CSV changed the CSV"
# out of open files is the host's limit, status 1 (it was 2, bad input)
(. "$SRCDIR/tests/cli/lib/close_fds.sh"; ulimit -n 6
 exec "$MV" sweep merge s.runs --json fd.json --csv fd.csv) 2>err; rc=$?
[ "$rc" -eq 1 ] && [ "$(wc -l < err)" -eq 1 ] && grep -q "Too many open files" err \
    || die "merge under ulimit -n 6: exit $rc, expected 1 and one line: $(cat err)"
[ ! -e fd.json ] && [ ! -e fd.csv ] || die "merge under ulimit -n 6 wrote an output"
# a swept -0 is 0 in the merge as in the run (it was -0.0 beside the run's 0)
"$MV" sweep /dev/null --set mode=native --set workload=lmbench --set lmbench.iterations=2 --set lmbench.touch=-0 \
    --out nz.runs -j 1 >/dev/null 2>err && "$MV" sweep merge nz.runs >/dev/null 2>>err || die "sweep of -0: $(cat err)"
python3 - nz.runs <<'EOF' || die "a swept -0 merged as a negative zero"
import json, math, sys
d = json.load(open(sys.argv[1] + "/merged.json"))
v = d["runs"][0]["sweep"]["lmbench.touch"]
assert v == 0 and math.copysign(1, v) == 1, v
row = open(sys.argv[1] + "/merged.csv").read().splitlines()[1]
assert ",-0" not in row, row
EOF
"$MV" sweep merge s.runs --json m.json --csv m.json 2>err; [ $? -eq 2 ] && grep -q "are the same file" err \
    || die "merge --json and --csv one file: $(cat err)"
# a device is written through, never replaced; a write that fails is exit 1 and leaves no file
"$MV" sweep merge s.runs --json /dev/full --csv m.csv 2>err; [ $? -eq 1 ] && grep -q "cannot write '/dev/full'" err \
    || die "merge --json /dev/full: $(cat err)"
[ -c /dev/full ] && [ ! -e m.csv ] || die "merge --json /dev/full replaced the device or wrote the CSV"
ls -A s.runs | grep -q '^\.' && die "a failed merge left a temporary file: $(ls -A s.runs)"
# an option given twice with different values is an error (the last was taken)
"$MV" sweep merge s.runs --json a.json --json b.json 2>err; [ $? -eq 2 ] \
    && grep -qx "memvirt: sweep merge: --json given twice with different values ('a.json' and 'b.json')" err \
    && [ ! -e a.json ] && [ ! -e b.json ] || die "merge --json twice: $(cat err)"
"$MV" sweep merge s.runs 2>/dev/null || die "merge failed"
head -1 s.runs/merged.csv | grep -q '^index,id,mode,workload,seed,lmbench.iterations,status,sim_seconds,counter.refs,' \
    || die "CSV header: $(head -1 s.runs/merged.csv | cut -c1-200)"
[ "$(cut -d, -f7 s.runs/merged.csv | sort -u | tr '\n' ' ')" = "ok status " ] || die "CSV status column"
python3 - s.runs/merged.json <<'EOF' || die "merged JSON content"
import json, sys
d = json.load(open(sys.argv[1]))
runs = d["runs"]
assert [(r["sweep"]["mode"], r["sweep"]["lmbench.iterations"]) for r in runs] == \
    [("native", 3), ("native", 6), ("pv", 3), ("pv", 6)], runs
assert all(r["mode"] == r["sweep"]["mode"] for r in runs)
assert all(r["sweep"]["seed"] is None for r in runs)
assert runs[0]["counters"]["fork"] < runs[1]["counters"]["fork"]   # 3 vs 6 iterations
assert d["sweep"]["columns"] == ["mode", "workload", "seed", "lmbench.iterations"]
assert d["sweep"]["missing"] == []
EOF
# swept values as --param reads them: '1K' is 1024 and '15e-1' 1.5 (they
# stayed strings: an axis '512, 1K' mixed types), also for a missing run
cat > ty.sweep <<'EOF'
mode = native
workload = lmbench
lmbench.iterations = 2
guest.ram_mb = 512, 1K
cost.cpi = 1, 15e-1
EOF
"$MV" sweep ty.sweep -j 2 2>err || die "typed sweep: $(cat err)"
rm "ty.runs/runs/$(awk -F'\t' '$1 == "3" { print $2 }' ty.runs/sweep.tsv).json"
"$MV" sweep merge ty.runs --partial 2>err || die "typed merge: $(cat err)"
python3 - ty.runs/merged.json <<'EOF' || die "typed merge: values"
import json, sys
d = json.load(open(sys.argv[1]))
got = [(r["sweep"]["guest.ram_mb"], r["sweep"]["cost.cpi"]) for r in d["runs"]]
got += [(m["sweep"]["guest.ram_mb"], m["sweep"]["cost.cpi"]) for m in d["sweep"]["missing"]]
assert got == [(512, 1.0), (512, 1.5), (1024, 1.0), (1024, 1.5)], got
assert all(type(a) is int and type(b) is float for a, b in got), got
assert all(r["sweep"]["guest.ram_mb"] == r["header"]["params"]["guest.ram_mb"] for r in d["runs"])
EOF
# a merged sweep is not one run's result: rerun says which file to rerun
"$MV" rerun s.runs/merged.json 2>err; [ $? -eq 2 ] && [ "$(wc -l < err)" -eq 1 ] \
    && grep -q "s.runs/merged.json: a merged sweep .*rerun one of its runs from DIR/runs/ID.json" err \
    || die "rerun of a merged sweep: $(cat err)"
# the same sweep elsewhere merges to identical bytes
"$MV" sweep s.sweep --out again 2>/dev/null && "$MV" sweep merge again 2>/dev/null || die "second copy"
cmp s.runs/merged.json again/merged.json && cmp s.runs/merged.csv again/merged.csv || die "merge is not deterministic"
# a manifest whose spec name (or a swept value) is not UTF-8 merges, the
# bytes shown as U+FFFD (it was "not UTF-8 text: not a sweep manifest")
cp -r again e9.runs && rm -f e9.runs/merged.*
python3 - e9.runs/sweep.tsv <<'EOF' || die "could not make the manifest"
import re, sys
b = open(sys.argv[1], "rb").read()
b, n = re.subn(rb"^(# memvirt sweep manifest of [^:]*)s\.sweep:", lambda m: m.group(1) + b"s\xe9.sweep:", b)
assert n == 1, b[:200]
open(sys.argv[1], "wb").write(b)
EOF
"$MV" sweep merge e9.runs 2>err || die "merge of a manifest with a 0xe9 byte: $(cat err)"
grep -q '"spec": "s'$'\xef\xbf\xbd''.sweep"' e9.runs/merged.json || die "merged spec name: $(grep spec e9.runs/merged.json)"
# --partial over many runs is linear (it rebuilt the set of missing runs for
# each run: 70,000 runs took more than a minute)
mkdir -p many.runs/runs
python3 - s.runs/sweep.tsv many.runs/sweep.tsv <<'EOF' || die "could not make the big manifest"
import sys
lines = open(sys.argv[1]).read().split("\n")
first = lines[2].split("\t")
out = lines[:3] + ["\t".join([str(i), f"{i:016x}"] + first[2:]) for i in range(1, 50000)]
open(sys.argv[2], "w").write("\n".join(out) + "\n")
EOF
cp "s.runs/runs/$(sed -n 3p s.runs/sweep.tsv | cut -f2).json" many.runs/runs/
# (its CPU time is bounded, not its wall time: a loaded machine is not a
# quadratic merge; the wall limit only stops a hang)
TIMEFORMAT='%U %S'
{ time timeout 300 "$MV" sweep merge many.runs --partial 2>err; rc=$?; } 2>cpu
unset TIMEFORMAT
[ $rc -eq 0 ] && grep -q "1 of 50000 runs" err || die "merge --partial of 50000 runs: exit $rc: $(cat err)"
awk '{ exit !($1 + $2 < 15) }' cpu || die "merge --partial of 50000 runs took $(cat cpu) s of CPU (user, system)"

# a stale result is not re-used: edit the profile file a sweep names
# between two sweeps (same path, same run ids), and the runs under it run
# again, saying why; a result written by another memvirt revision too
printf 'memvirt-cost-profile 1\ncost.fork_fixed = 1000 status=fitted\n' > p.profile
cat > p.sweep <<'EOF'
mode = native
workload = lmbench
lmbench.iterations = 3
profile = p.profile
EOF
"$MV" sweep p.sweep -j 1 2>err || die "profile sweep failed: $(cat err)"
pres=$(ls p.runs/runs/*.json)
lat() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["runs"][0]["metrics"]["lat_fork_exit_us"])' "$pres"; }
old=$(lat)
"$MV" sweep p.sweep 2>err && grep -q 'all 1 runs already finished' err || die "unchanged profile: not skipped: $(cat err)"
printf 'memvirt-cost-profile 1\ncost.fork_fixed = 2000 status=fitted\n' > p.profile
"$MV" sweep p.sweep --list > list || die "--list failed"
grep -q 'stale' list || die "--list does not call the result stale: $(cat list)"
"$MV" sweep p.sweep -j 1 2>err || die "sweep after the profile changed failed: $(cat err)"
grep -q "is stale: its parameters differ from the planned run's (first: cost.fork_fixed" err \
    || die "the stale result is not named: $(cat err)"
grep -q '1 runs: 1 finished now, 0 before' err || die "the stale run did not run again: $(cat err)"
new=$(lat)
python3 -c "assert abs(($new - $old) - 1000 / 2400) < 1e-6, ($old, $new)" \
    || die "the re-run result does not reflect the new profile: $old -> $new"
sed -i 's/"revision": "[^"]*"/"revision": "0000000-other"/' "$pres"
# a merge of it says so (it merged stale results without a word)
"$MV" sweep merge p.runs 2>err && grep -q "warning: sweep merge: 1 of 1 results were written by another memvirt (revision 0000000-other" err \
    || die "merge of a result of another revision: $(cat err)"
"$MV" sweep one p.runs 0 2>err || die "sweep one of a stale run failed: $(cat err)"
grep -q '"revision": "0000000-other"' "$pres" && die "sweep one re-used a result of another revision"
"$MV" sweep p.sweep 2>err && grep -q 'all 1 runs already finished' err || die "after sweep one: $(cat err)"
sed -i 's/"revision": "[^"]*"/"revision": "0000000-other"/' "$pres"
"$MV" sweep p.sweep 2>err && grep -q "written by memvirt revision 0000000-other" err || die "revision: $(cat err)"

# a spec's relative file names (a profile file, trace.file) are the working
# directory's, written absolute into the manifest: 'sweep one' from
# elsewhere (a Slurm task, by hand) found no 'p.profile' (exit 2)
"$MV" sweep p.sweep --out rel.runs --slurm --no-submit 2>err || die "relative profile: $(cat err)"
grep -q -- "--profile $(pwd -P)/p.profile\$" rel.runs/sweep.tsv || die "the manifest's profile: $(tail -1 rel.runs/sweep.tsv)"
(cd / && "$MV" sweep one "$tmp/rel.runs" 0) 2>err || die "sweep one from / with a relative profile: $(cat err)"

# --slurm without a Slurm: the job arrays it writes. Slurm refuses array
# indices at or above MaxArraySize (default 1001), so 1500 pending runs
# become two arrays (1001 and 499 tasks), each task running line
# OFFSET+TASK of the manifest, and a merge job after both.
cat > big.sweep <<'EOF'
mode = native
workload = lmbench
lmbench.iterations = 1..1500
EOF
# covered RUNS_DIR: every manifest line the arrays' tasks run, sorted
covered() {
    for s in "$1"/sweep-*.sbatch; do
        off=$(sed -n 's/^OFFSET=//p' "$s")
        spec=$(sed -n 's/^#SBATCH --array=//p' "$s")
        grep -q '"$((OFFSET + SLURM_ARRAY_TASK_ID))"$' "$s" || die "$s: the task does not run OFFSET+TASK: $(cat "$s")"
        for r in ${spec//,/ }; do
            a=${r%-*}; b=${r#*-}
            [ "$b" -lt "$2" ] || die "$s: index $b is not below MaxArraySize $2"
            seq $((off + a)) $((off + b))
        done
    done | sort -n
}
PATH_NO_SLURM=$(printf '%s' "$PATH" | tr ':' '\n' | while read -r d; do [ -x "$d/scontrol" ] || printf '%s:' "$d"; done)
PATH="$PATH_NO_SLURM" "$MV" sweep big.sweep --slurm --no-submit 2>err || die "--slurm --no-submit of 1500 runs: $(cat err)"
grep -q 'wrote 2 job array scripts (1500 runs' err || die "1500 runs: $(cat err)"
grep -qx '#SBATCH --array=0-1000' big.runs/sweep-0.sbatch && grep -qx 'OFFSET=0' big.runs/sweep-0.sbatch \
    || die "first array: $(grep -e array -e OFFSET big.runs/sweep-0.sbatch)"
grep -qx '#SBATCH --array=0-498' big.runs/sweep-1.sbatch && grep -qx 'OFFSET=1001' big.runs/sweep-1.sbatch \
    || die "second array: $(grep -e array -e OFFSET big.runs/sweep-1.sbatch)"
[ "$(covered big.runs 1001 | tr '\n' ' ')" = "$(seq 0 1499 | tr '\n' ' ')" ] || die "the arrays do not cover runs 0..1499 once each"
grep -q "sweep merge '$PWD/big.runs'" big.runs/merge.sbatch || die "merge job: $(cat big.runs/merge.sbatch)"
# a cluster with a smaller MaxArraySize (a stand-in scontrol reports it), and
# sparse pending runs: every pending line once, none finished
mkdir -p bin
printf '#!/bin/sh\necho "MaxArraySize            = 3"\n' > bin/scontrol && chmod +x bin/scontrol
cat > small.sweep <<'EOF'
mode = native
workload = lmbench
lmbench.iterations = 1..8
EOF
PATH="$PWD/bin:$PATH" "$MV" sweep small.sweep --slurm --no-submit 2>err || die "small sweep: $(cat err)"
grep -q 'wrote 3 job array scripts (8 runs' err || die "MaxArraySize 3, 8 pending: $(cat err)"
SLURM_ARRAY_TASK_ID=1 sh small.runs/sweep-1.sbatch 2>err || die "running task 1 of array 2 failed: $(cat err)"
id4=$(awk -F'\t' '$1 == "4" { print $2 }' small.runs/sweep.tsv)
[ -s "small.runs/runs/$id4.json" ] || die "task 1 of the array at OFFSET 3 did not run manifest line 4"
PATH="$PWD/bin:$PATH" "$MV" sweep small.sweep --slurm --no-submit 2>err || die "MaxArraySize 3: $(cat err)"
grep -q 'wrote 3 job array scripts (7 runs' err || die "MaxArraySize 3, 7 pending: $(cat err)"
grep -qx '#SBATCH --array=0,2' small.runs/sweep-1.sbatch && grep -qx 'OFFSET=3' small.runs/sweep-1.sbatch \
    || die "the array around the finished run: $(grep -e array -e OFFSET small.runs/sweep-1.sbatch)"
[ "$(covered small.runs 3 | tr '\n' ' ')" = "0 1 2 3 5 6 7 " ] || die "MaxArraySize 3: $(covered small.runs 3 | tr '\n' ' ')"

# overlapping values list each run once: '*, pv' is every mode, once each
nm=$("$MV" list | awk '/^modes:/{m=1;next} m&&/^$/{m=0} m{print $1}' | wc -l)
nl=$("$MV" sweep /dev/null --set 'mode=*,pv' --set workload=lmbench --list | wc -l)
[ "$nl" -eq "$nm" ] || die "mode = *, pv lists $nl runs for $nm modes"
nl=$("$MV" sweep /dev/null --set 'mode=@vmexits,@vmexits' --set workload=lmbench,lmbench --list | wc -l)
nv=$("$MV" sweep /dev/null --set 'mode=@vmexits' --set workload=lmbench --list | wc -l)
[ "$nl" -eq "$nv" ] || die "mode = @vmexits twice lists $nl runs, once $nv"

# a sweep over a trace: its result is current (the planned run seals the
# trace's digest as the run does), so a second sweep skips it
cp "$SRCDIR/tests/data/shloop.mvt" t.mvt
"$MV" sweep /dev/null --set mode=native --set workload=trace --set trace.file=t.mvt --out tr.runs -j 1 2>err \
    || die "trace sweep failed: $(cat err)"
"$MV" sweep /dev/null --set mode=native --set workload=trace --set trace.file=t.mvt --out tr.runs -j 1 2>err &&
    grep -q 'all 1 runs already finished' err || die "a finished trace run is not current: $(cat err)"
grep -q -- "--param trace.file=$(pwd -P)/t.mvt\$" tr.runs/sweep.tsv || die "the manifest's trace: $(tail -1 tr.runs/sweep.tsv)"
# another trace under the same name: the stale result says the trace changed
cp "$SRCDIR/tests/data/make.mvt" t.mvt
"$MV" sweep /dev/null --set mode=native --set workload=trace --set trace.file=t.mvt --out tr.runs --slurm --no-submit \
    2>err && grep -q "is stale: its parameters differ .*(first: trace\.[a-z_]*; the trace file changed)" err \
    || die "a replaced trace: $(cat err)"

# sweep one killed by a TERM to itself alone (kill PID): its run (a child)
# ends too, and no temporary is left beside the results
printf 'mode = native\nworkload = lmbench\nlmbench.iterations = 10000000\n' > long.sweep
"$MV" sweep long.sweep --slurm --no-submit >/dev/null 2>&1 || die "long sweep: --slurm --no-submit failed"
# kill_one SIGNAL WHAT LEFT-PATTERN: start `sweep one` on the long run, kill
# it with SIGNAL once its child run has started, and see the child go too
# and no file matching LEFT-PATTERN left in the sweep's runs
kill_one() {
    local sig=$1 what=$2 pat=$3 one child left
    "$MV" sweep one long.runs 0 2>/dev/null &
    one=$!
    for _ in $(seq 50); do child=$(pgrep -P "$one" | head -1); [ -n "$child" ] && break; sleep 0.1; done
    [ -n "$child" ] || die "sweep one ($what) started no child run"
    kill -"$sig" "$one"
    wait "$one" 2>/dev/null
    for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$child" 2>/dev/null || break; sleep 0.2; done
    kill -0 "$child" 2>/dev/null && { kill -KILL "$child"; die "sweep one's run outlived $what"; }
    left=$(find long.runs/runs -name "$pat" -o -name '.*.json.*' | head -3)
    [ -z "$left" ] || die "sweep one killed ($what): files left: $left"
}
kill_one TERM "a SIGTERM to it" '*.txt.*'

# sweep one killed by SIGKILL (the OOM killer, a batch system's hard
# limit): no handler runs, so only a table kept nameless while the run goes
# leaves nothing (where the file system makes nameless files)
if python3 -c 'import os, sys
os.close(os.open(sys.argv[1], os.O_TMPFILE | os.O_WRONLY, 0o600))' long.runs/runs 2>/dev/null; then
    kill_one KILL "a SIGKILL to it" '*.txt*'
fi

# a run in two groups runs once, under its first index
printf 'mode = native\nworkload = lmbench\n[a]\nlmbench.iterations = 2\n[b]\nlmbench.iterations = 2, 3\n' >dup.sweep
"$MV" sweep dup.sweep -j 1 2>err || die "sweep with a run in two groups: $(cat err)"
[ "$(tr '\n' ' ' <dup.runs/pending.txt)" = "0 2 " ] && [ "$(ls dup.runs/runs/*.json | wc -l)" -eq 2 ] \
    || die "a run in two groups: pending $(cat dup.runs/pending.txt), results $(ls dup.runs/runs)"

# the sweep itself killed by a TERM to it alone: GNU parallel (its child)
# stops too, with every run it started (it ran the rest of the sweep as an
# orphan)
"$MV" sweep long.sweep --set seed=1..4 --out orphan.runs -j 2 2>/dev/null &
sw=$!
# (patterns hold this test's own directory: another sweep.sh may run beside)
orphans="$tmp/orphan.runs"
for _ in $(seq 50); do pgrep -f "sweep one $orphans" >/dev/null && break; sleep 0.1; done
pgrep -f "sweep one $orphans" >/dev/null || die "the sweep started no run (test broken?)"
# a second sweep into the same directory meanwhile is refused (it rewrote
# the manifest and the pending list under the first)
"$MV" sweep long.sweep --set seed=1..4 --out orphan.runs -j 1 2>err; rc=$?
[ "$rc" -eq 2 ] && grep -q "another sweep is running in 'orphan.runs'" err \
    || die "a second sweep into a busy directory: exit $rc: $(cat err)"
kill -TERM "$sw"
wait "$sw" 2>/dev/null
for _ in $(seq 100); do pgrep -f "$orphans" >/dev/null || break; sleep 0.2; done
if pgrep -f "$orphans" >/dev/null; then
    pkill -KILL -f "$orphans"
    die "a TERM to the sweep left parallel or its runs going (orphaned)"
fi

# Ctrl-C (SIGINT to the sweep's process group, as a terminal sends it):
# the sweep says it was interrupted and how far it got, and exits 130 (it
# exited 1, "see the messages above", with none above)
set -m   # the sweep in a process group of its own, SIGINT not ignored
"$MV" sweep long.sweep --set seed=1..4 --out int.runs -j 2 2>int.err &
sw=$!
set +m
ints="$tmp/int.runs"
for _ in $(seq 50); do pgrep -f "sweep one $ints" >/dev/null && break; sleep 0.1; done
pgrep -f "sweep one $ints" >/dev/null || die "the sweep started no run (test broken?)"
kill -INT -- "-$sw"
wait "$sw"; rc=$?
[ "$rc" -eq 130 ] && grep -q "^sweep: interrupted (Interrupt): 4 runs: 0 finished now, 0 before, 4 without a result" int.err \
    && ! grep -q "see the messages above" int.err || die "Ctrl-C: exit $rc: $(cat int.err)"
for _ in $(seq 100); do pgrep -f "$ints" >/dev/null || break; sleep 0.2; done
if pgrep -f "$ints" >/dev/null; then
    pkill -KILL -f "$ints"
    die "Ctrl-C left parallel or its runs going"
fi

# hostile names stay data: a directory holding parallel's replacement
# strings ({}, {= perl =}) is not a template, and a spec named with a
# newline does not break out of the Slurm scripts' comment line
"$MV" sweep /dev/null --set mode=native --set workload=lmbench --set lmbench.iterations=2 \
    --out 'z{=qx(touch PWNED);$_="ok"=}' -j 1 2>err || die "sweep into a '{=...=}' directory: $(cat err)"
[ ! -e PWNED ] && [ ! -e zok ] && ls 'z{=qx(touch PWNED);$_="ok"=}'/runs/*.json >/dev/null 2>&1 ||
    die "a '{=...=}' directory was taken as a template: $(ls)"
# the merge hint is a command a shell takes as it is shown
"$MV" sweep /dev/null --set mode=native --set workload=lmbench --set lmbench.iterations=2 --out -dash -j 1 2>err \
    && grep -q "merge with: memvirt sweep merge -- -dash$" err || die "merge hint for -dash: $(cat err)"
"$MV" sweep /dev/null --set mode=native --set workload=lmbench --set lmbench.iterations=2 --out "it's" -j 1 2>err \
    && grep -q "merge with: memvirt sweep merge 'it'\\\\''s'$" err || die "merge hint for it's: $(cat err)"
cp long.sweep $'nl\ntouch PWNED\n\xe9.sweep'
"$MV" sweep $'nl\ntouch PWNED\n\xe9.sweep' --out nl.runs --slurm --no-submit 2>err || die "newline spec: $(cat err)"
grep -qx 'touch PWNED' nl.runs/*.sbatch && die "a spec's name broke out of a Slurm script's comment"
grep -q '^# memvirt sweep of nl?touch PWNED??.sweep: ' nl.runs/merge.sbatch || die "spec name: $(head -2 nl.runs/merge.sbatch)"
head -1 nl.runs/sweep.tsv | iconv -f UTF-8 -t UTF-8 >/dev/null || die "the manifest's header is not UTF-8"

# sweep one takes digits only; --sbatch takes one line
for bad in +1 ' 1' -0 1x ''; do
    "$MV" sweep one s.runs "$bad" 2>err; [ $? -eq 2 ] && grep -q "INDEX '$bad': expected a non-negative integer" err \
        || die "sweep one '$bad': $(cat err)"
done
for bad in 00 01; do
    "$MV" sweep one s.runs "$bad" 2>err; [ $? -eq 2 ] && grep -q "INDEX '$bad': a leading zero" err \
        || die "sweep one '$bad': $(cat err)"
done
"$MV" sweep s.sweep --slurm --no-submit --sbatch "$(printf -- '--time=5\nhostname')" 2>err; [ $? -eq 2 ] \
    && grep -q -- "--sbatch option #1: a line break in '--time=5...'" err || die "--sbatch with a newline: $(cat err)"
grep -q hostname s.runs/sweep-*.sbatch 2>/dev/null && die "--sbatch with a newline reached a batch script"
# ... and an option: an empty or blank one would be a bare '#SBATCH ' line
for bad in '' ' ' '	 '; do
    rm -rf e.runs
    "$MV" sweep s.sweep --slurm --no-submit --out e.runs --sbatch --time=5 --sbatch "$bad" 2>err; rc=$?
    [ "$rc" -eq 2 ] && grep -qx "memvirt: sweep: --sbatch option #2 is \(empty\|blank\): give an #SBATCH option .*" err \
        && [ ! -e e.runs ] || die "--sbatch '$bad': exit $rc: $(cat err)"
done

# a failing run (the guest runs out of memory): its message is shown, tagged
# with its index, the others finish, and the sweep exits 1
cat > f.sweep <<'EOF'
mode = native
workload = forkstorm
forkstorm.minutes = 0.05
guest.ram_mb = 64, 512
EOF
"$MV" sweep f.sweep -j 2 >out 2>err; rc=$?
[ "$rc" -eq 1 ] || die "a sweep with a failed run exited $rc: $(cat out err)"
grep -q '^0.*ran out of memory' out err || die "the failed run's message is not tagged with its index: $(cat out err)"
grep -q '2 runs: 1 finished now, 0 before, 1 without a result (see the messages above; each run.s exit status is in f.runs/joblog.txt)' err \
    || die "failure summary: $(cat err)"
ls f.runs/runs/*.tmp >/dev/null 2>&1 && die "a failed run left a temporary file"

# a manifest line edited by hand (sweep.tsv is text) into arguments a run
# cannot take is a manifest error naming file and line (no --workload, or
# "--help", crashed 'sweep one' once its run had a result); an edit a run
# can take still runs
cp -r s.runs m.runs && cp m.runs/sweep.tsv m.tsv
edited() { cp m.tsv m.runs/sweep.tsv; sed -i "3s$1" m.runs/sweep.tsv; }
bad_line() {
    edited "$1"
    "$MV" sweep one m.runs 0 >out 2>err; rc=$?
    [ "$rc" -eq 2 ] && [ "$(wc -l < err)" -eq 1 ] && grep -q "^memvirt: sweep one: m.runs/sweep.tsv:3: .*$2" err \
        || die "manifest line 3 edited with s$1: exit $rc, expected 2 and one line naming m.runs/sweep.tsv:3 and '$2': $(cat err)"
}
bad_line '|--workload lmbench ||'                  'no --workload'
bad_line '|\t--mode [^\t]*$|\t--help|'           "'--help' is not"
bad_line '|\t--mode [^\t]*$|\t|'                  'no arguments'
bad_line '|--mode native |--mode native --mode pv |' '--mode given twice'
bad_line '|--mode native|--mode nosuch|'           "unknown mode 'nosuch'"
bad_line '|--workload lmbench|--workload nosuch|'  "unknown workload 'nosuch'"
bad_line '|$| --param|'                            "'--param' without a value"
bad_line '|$| --seed x|'                           "--seed: value 'x' malformed"
bad_line '|$| --seed 9223372036854775808|'         "--seed: value '9223372036854775808' out of range"
bad_line '|$| --json x.json|'                      "'--json' is not"
# a manifest saved with CRLF line ends (an editor) reads as the same lines
# (sweep one said "lmbench.iterations: malformed value '1'", the merge
# "expected the header")
cp -r s.runs crlf.runs && sed -i 's/$/\r/' crlf.runs/sweep.tsv
"$MV" sweep one crlf.runs 0 2>err || die "sweep one with a CRLF manifest: $(cat err)"
"$MV" sweep merge crlf.runs 2>err || die "merge of a CRLF manifest: $(cat err)"
# a value the run itself refuses names the line too (it came without one)
edited '|$| --at zz|'
"$MV" sweep one m.runs 0 2>err; rc=$?
[ "$rc" -eq 2 ] && grep -q "^memvirt: sweep one: m.runs/sweep.tsv:3: run 0: --at 'zz': " err \
    || die "a manifest line edited to a bad --at: exit $rc: $(cat err)"
edited '|$| --seed 7|'
"$MV" sweep one m.runs 0 2>err || die "a manifest line edited to another seed: $(cat err)"
# ... and its result is of the edited line, also when one was there before
# under the same id (it was kept as current: only revision and params were
# compared)
idx0=$(sed -n 3p m.runs/sweep.tsv | cut -f2)
grep -q '"seed": 7,' "m.runs/runs/$idx0.json" || die "the edited line's result is not of seed 7"
cp m.tsv m.runs/sweep.tsv && sed -i "3s/--mode native/--mode pv/" m.runs/sweep.tsv
"$MV" sweep one m.runs 0 2>err || die "a manifest line edited to another mode: $(cat err)"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["modes"]==["pv"] and d["seed"]!=7, d["modes"]' \
    "m.runs/runs/$idx0.json" || die "a line edited to another mode kept the old result: $(cat err)"
# the spec takes the seeds a run takes (a seed above 2^63-1 planned, then every run of it failed)
"$MV" sweep /dev/null --set mode=native --set workload=lmbench --set seed=9223372036854775808 --list 2>err; [ $? -eq 2 ] \
    && grep -q -- "--set #3:1:6: seed '9223372036854775808' out of range" err || die "seed 2^63: $(cat err)"

# parallel's temporary files go beside the results, not to TMPDIR (one that
# could not be written was a Perl error of parallel's and no result at all)
TMPDIR=/nonexistent/tmp "$MV" sweep /dev/null --set mode=native,pv --set workload=lmbench --set lmbench.iterations=2 \
    --out tmpdir.runs -j 2 2>err || die "sweep with TMPDIR unwritable: $(cat err)"
[ "$(ls tmpdir.runs/runs/*.json | wc -l)" -eq 2 ] || die "sweep with TMPDIR unwritable: results: $(ls tmpdir.runs/runs)"

# corrupt manifests are reported by line
printf 'garbage\n' > s.runs/sweep.tsv
"$MV" sweep one s.runs 0 2>err; [ $? -eq 2 ] && grep -q '^memvirt: sweep one: .*sweep.tsv:1: not a sweep manifest' err \
    || die "bad manifest: $(cat err)"
# and a missing one names the command as well
"$MV" sweep one s.nonexistent 0 2>err; [ $? -eq 2 ] \
    && grep -qx "memvirt: sweep one: cannot read 's.nonexistent/sweep.tsv': No such file or directory (run 'memvirt sweep SPEC' first)" err \
    || die "missing manifest: $(cat err)"
"$MV" sweep merge s.runs 2>err; [ $? -eq 2 ] && grep -q 'sweep.tsv:1: not a sweep manifest' err || die "merge of a bad manifest: $(cat err)"
echo "sweep.sh: all checks passed"

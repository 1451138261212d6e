#!/usr/bin/env bash
# trace_replay.sh: the recorded test traces (tests/data/*.mvt) replay under
# every mode `memvirt list` shows, with --check, and byte-identically twice;
# `trace info` finds memvirt's page-table pages within one page of the real
# kernel's for every process image; the importers' sample logs import and
# replay under every mode; bad traces (empty, truncated, corrupted, wrong
# version, wrong magic), a trace that is no regular file (run and trace
# info read it twice) and malformed log lines are refused with one line
# naming the input and exit status 2, leaving no output behind.
#
# usage: bash trace_replay.sh /path/to/memvirt
set -u
MV=${1:?usage: trace_replay.sh /path/to/memvirt}
SRC=$(cd "$(dirname "$0")/../.." && pwd)
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/memvirt-trace.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

modes=$("$MV" list | awk '/^modes:/{m=1; next} /^$/{m=0} m{print $1}')
[ -n "$modes" ] || { echo "FAIL: no modes listed" >&2; exit 1; }

# 1. every test trace, every mode, checked; deterministic
for t in "$SRC"/tests/data/*.mvt; do
    name=$(basename "$t")
    size=$(stat -c %s "$t")
    [ "$size" -lt 1048576 ] || fail "$name is $size bytes (test traces stay well under 1 MB)"
    mlist=$(echo $modes | tr ' ' ',')
    if ! "$MV" compare --modes "$mlist" --trace "$t" --check --quiet --json "$tmp/a.json" >"$tmp/out" 2>"$tmp/err"; then
        fail "$name under $mlist: $(head -c 400 "$tmp/err")"
    fi
    grep -q "^exec " "$tmp/out" || fail "$name: no exec counted"
    if [ "$name" = shloop.mvt ]; then       # deterministic: the same bytes again
        "$MV" compare --modes "$mlist" --trace "$t" --check --quiet --json "$tmp/b.json" >/dev/null 2>&1
        cmp -s "$tmp/a.json" "$tmp/b.json" || fail "$name: two runs differ"
    fi
    "$MV" trace info "$t" >"$tmp/info" 2>"$tmp/err" || fail "trace info $name: exit $?: $(cat "$tmp/err")"
    line=$(grep '^within one page:' "$tmp/info")
    n=$(echo "$line" | awk '{print $4}'); of=$(echo "$line" | awk '{print $6}')
    if [ -z "$line" ] || [ "$n" != "$of" ] || [ "${of:-0}" -lt 1 ]; then
        fail "trace info $name: page-table pages not within one page for every image: ${line:-no comparison}"
        cat "$tmp/info" >&2
    fi
    # "--" ends the options, as elsewhere: the same table
    "$MV" trace info -- "$t" >"$tmp/info2" 2>"$tmp/err" || fail "trace info -- $name: exit $?: $(cat "$tmp/err")"
    cmp -s "$tmp/info" "$tmp/info2" || fail "trace info -- $name: not the table of trace info $name"
done

# 2. the importers' sample logs: import, then replay under every mode
imp() {   # imp SOURCE FILE...
    local src=$1; shift
    if ! "$MV" trace import --from "$src" "$@" -o "$tmp/imp.mvt" 2>"$tmp/err"; then
        fail "import --from $src $*: $(cat "$tmp/err")"
        return
    fi
    "$MV" compare --modes "$(echo $modes | tr ' ' ',')" --trace "$tmp/imp.mvt" --check --quiet >/dev/null 2>"$tmp/err" \
        || fail "imported $src trace: $(head -c 300 "$tmp/err")"
}
for f in "$SRC"/tests/fuzz/corpus/strace/*.txt; do imp strace "$f"; done
imp perf "$SRC/tests/fuzz/corpus/perf/record_head.txt"
imp lackey "$SRC/tests/fuzz/corpus/lackey/sh.log"
imp lackey "$SRC/tests/fuzz/corpus/lackey/fork.log"     # a shell forking twice
grep -q "not understood" "$tmp/err" 2>/dev/null || true
# a --window that selects no reference (each process makes fewer) still
# writes the trace (its process events replay), with one warning naming it;
# it was silent, a trace of 0 references and exit 0
"$MV" trace import --from lackey --window 1G:10 "$SRC/tests/fuzz/corpus/lackey/fork.log" -o "$tmp/w.mvt" 2>"$tmp/err" \
    || fail "import --window 1G:10: $(cat "$tmp/err")"
[ -s "$tmp/w.mvt" ] || fail "import --window 1G:10 wrote no trace"
[ "$(grep -c 'warning' "$tmp/err")" -eq 1 ] \
    && grep -q "^memvirt: warning: trace import: --window 1G:10 selects no reference: no process made more than 1073741824 (the most: [0-9]* of the [0-9]* read)" "$tmp/err" \
    || fail "import --window 1G:10: expected one warning naming the window: $(cat "$tmp/err")"
"$MV" trace import --from lackey --window 2:10 "$SRC/tests/fuzz/corpus/lackey/fork.log" -o "$tmp/w.mvt" 2>"$tmp/err" \
    || fail "import --window 2:10: $(cat "$tmp/err")"
grep -q "warning" "$tmp/err" && fail "import --window 2:10 selects references, yet: $(cat "$tmp/err")"

# 3. bad input: one line naming it, exit 2, nothing written
bad() {   # bad DESC NEEDLE ARGS...
    local desc=$1 needle=$2; shift 2
    "$MV" "$@" >"$tmp/out" 2>"$tmp/err"
    local rc=$?
    [ "$rc" -eq 2 ] || fail "$desc: exit $rc, expected 2: $(cat "$tmp/err")"
    [ "$(wc -l <"$tmp/err")" -eq 1 ] || fail "$desc: expected one line on stderr: $(cat "$tmp/err")"
    grep -q -- "$needle" "$tmp/err" || fail "$desc: message does not say '$needle': $(cat "$tmp/err")"
    [ -s "$tmp/out" ] && fail "$desc: output on stdout"
    [ -e "$tmp/o.json" ] && fail "$desc: --json written"
    return 0
}
good="$SRC/tests/data/shloop.mvt"
: >"$tmp/empty.mvt"
head -c 3000 "$good" >"$tmp/trunc.mvt"
cp "$good" "$tmp/corrupt.mvt"
printf '\x55' | dd of="$tmp/corrupt.mvt" bs=1 seek=$(( $(stat -c %s "$good") - 2 )) conv=notrunc 2>/dev/null
cp "$good" "$tmp/v9.mvt"
printf '\x09' | dd of="$tmp/v9.mvt" bs=1 seek=8 conv=notrunc 2>/dev/null
printf 'hello world, not a trace' >"$tmp/text.mvt"
for cmd in run info; do
    for f in empty trunc corrupt v9 text; do
        case $f in empty) n="empty file";; trunc) n="truncated";; corrupt) n="corrupted";; v9) n="version 9";; text) n="not a memvirt trace";; esac
        if [ $cmd = run ]; then
            bad "run --trace $f" "$n" run --trace "$tmp/$f.mvt" --json "$tmp/o.json"
        else
            bad "trace info $f" "$n" trace info "$tmp/$f.mvt"
        fi
        grep -q "$f.mvt" "$tmp/err" || fail "$cmd $f: the message does not name the file"
    done
done
bad "run --trace missing" "cannot open" run --trace "$tmp/nonexistent.mvt" --json "$tmp/o.json"
# a run reads its trace more than once: a device or FIFO is refused at once
# (/dev/zero was read forever for its digest), a directory is not "empty"
timeout 30 "$MV" run --trace /dev/zero --json "$tmp/o.json" >"$tmp/out" 2>"$tmp/err"
[ $? -eq 2 ] && grep -q "'/dev/zero': not a regular file" "$tmp/err" || fail "run --trace /dev/zero: exit or message: $(cat "$tmp/err")"
mkdir -p "$tmp/dir.mvt"
bad "run --trace DIR" "not a regular file (a directory)" run --trace "$tmp/dir.mvt" --json "$tmp/o.json"
# trace info reads it twice too (the table, then the replay): a pipe printed
# half the table and failed "empty file", a FIFO without a writer blocked
# for ever; refused before anything is printed, as run does
bad "trace info DIR" "dir.mvt': not a regular file (a directory)" trace info "$tmp/dir.mvt"
bad "trace info of a pipe" "not a regular file (a device, FIFO or socket)" trace info <(cat "$good")
mkfifo "$tmp/fifo.mvt"
timeout 30 "$MV" trace info "$tmp/fifo.mvt" >"$tmp/out" 2>"$tmp/err"
rc=$?
[ "$rc" -eq 2 ] && [ ! -s "$tmp/out" ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] &&
    grep -q "trace '$tmp/fifo.mvt': not a regular file (a device, FIFO or socket)" "$tmp/err" ||
    fail "trace info of a FIFO without a writer: exit $rc (124: it blocked): $(cat "$tmp/err")"
bad "trace info /dev/zero" "'/dev/zero': not a regular file" trace info /dev/zero
bad "trace workload without a file" "no trace file" run --workload trace --json "$tmp/o.json"
bad "--trace with another workload" "--trace" run --trace "$good" --workload lmbench --json "$tmp/o.json"

# malformed lines: file, line and column; no output file
printf '100 1700000000.000001 execve("/bin/x", ["x"], 0x7f /* 1 var */) = 0\n100 1700000000.000002 mmap(NULL, zz, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f0000000000\n' >"$tmp/bad.strace"
bad "malformed strace line" "bad.strace:2:" trace import --from strace "$tmp/bad.strace" -o "$tmp/x.mvt"
printf '  100/100  12.000000001: page-faults:     zz\n' >"$tmp/bad.perf"
bad "malformed perf line" "bad.perf:1:" trace import --from perf "$tmp/bad.perf" -o "$tmp/x.mvt"
printf '==1== Command: /bin/x\nI  zz,4\n' >"$tmp/bad.lackey"
bad "malformed lackey line" "bad.lackey:2:" trace import --from lackey "$tmp/bad.lackey" -o "$tmp/x.mvt"
# execveat with one argument: its path was read from an argument slot never
# filled (under ASan, a use after free of the previous line)
printf '100 1700000000.000001 execve("/bin/x", ["x"], 0x7f /* 1 var */) = 0\n100 1700000000.000002 mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f14dedbf000\n100 1700000000.000003 execveat(AT_FDCWD) = 0\n' >"$tmp/execveat.strace"
bad "execveat without its path" "execveat.strace:3:.*execveat(dirfd, path" trace import --from strace "$tmp/execveat.strace" -o "$tmp/x.mvt"
[ -e "$tmp/x.mvt" ] && fail "a failed import left its output"
ls "$tmp" | grep -q 'x.mvt.' && fail "a failed import left a temporary file"
bad "import without --from" "--from" trace import "$tmp/bad.perf" -o "$tmp/x.mvt"
# one log twice, by its name or through a link (device and inode): its
# processes were imported twice, as two trees
printf '100 1700000000.000001 execve("/bin/x", ["x"], 0x7f /* 1 var */) = 0\n' >"$tmp/one.strace"
ln -s one.strace "$tmp/link.strace"
bad "a log given twice" "the log '$tmp/one.strace' is given twice: its processes would be imported twice" \
    trace import --from strace "$tmp/one.strace" "$tmp/one.strace" -o "$tmp/x.mvt"
bad "a log given twice, once through a link" "the log '$tmp/one.strace' is given twice (again as '$tmp/link.strace')" \
    trace import --from strace "$tmp/one.strace" "$tmp/link.strace" -o "$tmp/x.mvt"
bad "a lackey log given twice" "is given twice" trace import --from lackey "$tmp/bad.lackey" "$tmp/bad.lackey" -o "$tmp/x.mvt"
[ -e "$tmp/x.mvt" ] && fail "a log given twice: a trace was written"
cp "$tmp/one.strace" "$tmp/copy.strace"     # another file with the same lines is another log
"$MV" trace import --from strace "$tmp/one.strace" "$tmp/copy.strace" -o "$tmp/two.mvt" 2>"$tmp/err" ||
    fail "two logs with the same lines: $(cat "$tmp/err")"
bad "import --sample from strace" "--from lackey" trace import --from strace --sample 4 "$tmp/odd.strace" -o "$tmp/x.mvt"
bad "import --window from perf" "--from lackey" trace import --from perf --window 1:5 "$tmp/bad.perf" -o "$tmp/x.mvt"
bad "unknown trace action" "frob" trace frob

# lines an importer does not use are counted and reported, not dropped silently
printf '100 1700000000.000001 execve("/bin/x", ["x"], 0x7f /* 1 var */) = 0\nsomething else entirely\n' >"$tmp/odd.strace"
"$MV" trace import --from strace "$tmp/odd.strace" -o "$tmp/odd.mvt" 2>"$tmp/err" || fail "import with an odd line failed"
grep -q "1 of 2 lines not understood" "$tmp/err" || fail "the odd line was not reported: $(cat "$tmp/err")"

# an option that takes one value given twice with different values is refused
# (the last --from won); logs with no line of the tool's (empty, or the wrong
# --from) are bad input, not an empty trace
bad "import --from twice" "--from given twice with different values ('strace' and 'perf')" trace import --from strace --from perf "$tmp/odd.strace" -o "$tmp/x.mvt"
bad "import --sample twice" "--sample given twice" trace import --from lackey --sample 2 --sample 3 "$tmp/bad.lackey" -o "$tmp/x.mvt"
bad "import --window twice" "--window given twice" trace import --from lackey --window 0:5 --window 1:5 "$tmp/bad.lackey" -o "$tmp/x.mvt"
: >"$tmp/empty.log"
bad "import an empty strace log" "empty.log: empty" trace import --from strace "$tmp/empty.log" -o "$tmp/x.mvt"
bad "import an empty lackey log" "empty.log: empty" trace import --from lackey "$tmp/empty.log" -o "$tmp/x.mvt"
bad "import strace as perf" "none of the 2 lines read is a perf log line.*--from perf right" trace import --from perf "$tmp/odd.strace" -o "$tmp/x.mvt"
bad "import strace as lackey" "none of the 2 lines read is a lackey log line" trace import --from lackey "$tmp/odd.strace" -o "$tmp/x.mvt"
printf '\n\nnot a log line\n' >"$tmp/blank.log"   # blank lines are no tool's: the one other line decides
bad "import blank lines and one other" "none of the 1 lines read is a strace log line (the first, .*blank.log:3: not a log line)" trace import --from strace "$tmp/blank.log" -o "$tmp/x.mvt"
printf '1 1700000000.000001 +++ exited with 0 +++\n' >"$tmp/noevent.log"   # a strace line, but no event to replay
bad "import no event" "noevent.log: no event to import from its 1 lines" trace import --from strace "$tmp/noevent.log" -o "$tmp/x.mvt"
bad "import binary as perf" "is --from perf right" trace import --from perf "$tmp/empty.mvt" "$tmp/trunc.mvt" -o "$tmp/x.mvt"
[ -e "$tmp/x.mvt" ] && fail "a refused import left its output"

# a line over 1 MiB is read as its first 1 MiB, and that is reported
{ printf '100 1700000000.000001 execve("/bin/x", ["x"], 0x7f /* 1 var */) = 0\n100 1700000000.000002 getcwd("'
  head -c 2097152 /dev/zero | tr '\0' x; printf '", 4096) = 10\n'; } >"$tmp/long.strace"
"$MV" trace import --from strace "$tmp/long.strace" -o "$tmp/long.mvt" 2>"$tmp/err" || fail "import with a long line failed"
grep -q "1 lines longer than 1 MiB were read as their first 1 MiB" "$tmp/err" \
    || fail "the cut line was not reported: $(cat "$tmp/err")"

# many threads the log never saw starting (300k lines over 30k tids): each
# line of an unknown tid looks only at the unfinished forks, not at every
# task (it took 10 s here, and 0.13 s since; the limit is far from both)
awk 'BEGIN { print "1 1700000000.000001 execve(\"/bin/x\", [\"x\"], 0x7f /* 1 var */) = 0";
             for (i = 0; i < 30000; i++) for (j = 0; j < 10; j++)
                 printf "%d 1700000001.%06d getpid() = %d\n", 1000 + i, (i * 10 + j) % 1000000, 1000 + i }' \
    >"$tmp/tids.strace"
timeout 6 "$MV" trace import --from strace "$tmp/tids.strace" -o "$tmp/tids.mvt" 2>"$tmp/err" \
    || fail "import of 30k unknown tids failed or took over 6 s: $(tail -c 300 "$tmp/err")"

# a trace spanning six days at a 1 ms time series: the series stops at its
# memory cap and the run fails with one line naming sim.series_ms, quickly
# and within bounded memory (it ran out of memory before the cap)
span="$SRC/tests/data/span/six-days.mvt"
/usr/bin/time -f %M -o "$tmp/rss" timeout 30 "$MV" run --trace "$span" --quiet --param sim.series_ms=1 \
    >/dev/null 2>"$tmp/err"
rc=$?
[ "$rc" -eq 1 ] || fail "six-day trace at sim.series_ms=1: exit $rc, expected 1"
# it says what the setting covers and what the run needs (the trace's six
# days: 518400000 ms / N samples, N = 128 MiB over the bytes a sample takes,
# which grows with the counters), and where a trace's span is found
cap=$(sed -n 's/.*the time series holds at most \([0-9]*\) samples (128 MiB).*/\1/p' "$tmp/err")
if [ -z "$cap" ] || [ "$cap" -lt 100000 ] || [ "$cap" -gt 200000 ]; then
    fail "six-day trace at sim.series_ms=1: no series cap of 100,000-200,000 samples said: $(head -c 600 "$tmp/err")"
    cap=0
fi
covers=$(awk -v c="$cap" 'BEGIN { printf "%g", c / 1000 }')
need=$(( (518400000 + cap - 1) / (cap ? cap : 1) ))
[ "$(grep -c . "$tmp/err")" -eq 1 ] \
    && grep -q "^memvirt: sim.series_ms=1 is too fine for this run: the time series holds at most $cap samples (128 MiB), so it covers at most $covers simulated seconds" "$tmp/err" \
    && grep -q "sim.series_ms must be at least the run's simulated span in ms / $cap (here at least $need," "$tmp/err" \
    && grep -q "memvirt trace info $span. gives the trace's span" "$tmp/err" \
    || fail "six-day trace at sim.series_ms=1: $(head -c 600 "$tmp/err")"
# a built-in workload of a fixed duration (forkstorm.minutes, netio.seconds)
# gets the same rule before the run: exit 2 naming the parameter, the
# span and what is needed, no word of traces, no run (well under a second)
for w in "forkstorm.minutes=10 600" "netio.seconds=600 600"; do
    set -- $w
    start=$(date +%s%N)
    "$MV" run --quiet --workload "${1%%.*}" --param "$1" --param sim.series_ms=1 >/dev/null 2>"$tmp/err"
    rc=$? ms=$(( ($(date +%s%N) - start) / 1000000 ))
    [ "$rc" -eq 2 ] && [ "$(grep -c . "$tmp/err")" -eq 1 ] \
        && grep -qx "memvirt: sim.series_ms=1 is too fine for workload ${1%%.*}'s $2 simulated seconds: the time series holds at most [0-9]* samples, so it covers at most [0-9.]* s; sim.series_ms must be at least 4 here" "$tmp/err" \
        && ! grep -q trace "$tmp/err" && [ "$ms" -lt 5000 ] \
        || fail "$1 at sim.series_ms=1: exit $rc after $ms ms: $(head -c 600 "$tmp/err")"
done
"$MV" run --quiet --workload netio --param netio.seconds=600 --param sim.series_ms=4 >/dev/null 2>"$tmp/err" \
    || fail "netio 600 s at sim.series_ms=4: $(head -c 600 "$tmp/err")"
rss=$(tail -n 1 "$tmp/rss" 2>/dev/null)
[ "${rss:-0}" -lt 1000000 ] || fail "six-day trace: max RSS $rss KB"   # it grew past 3 GB before the cap
"$MV" run --trace "$span" --quiet --param sim.series_ms=60000 >/dev/null 2>"$tmp/err" \
    || fail "six-day trace at the default series: $(head -c 300 "$tmp/err")"

if [ "$failures" -ne 0 ]; then
    echo "trace_replay.sh: $failures failure(s)" >&2
    exit 1
fi
echo "trace_replay.sh: all checks passed"

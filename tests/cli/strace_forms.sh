#!/usr/bin/env bash
# strace_forms.sh: `trace import --from strace` on the forms strace writes,
# from real logs of strace 6.1 on this machine (tests/data/strace/,
# docs/traces.md): strace -ff's LOG.PID files import as their three
# processes, in any order given; two -f logs import one after the other; strace's output on standard error (with
# -qq: "[pid N]" on some lines only; without: "Process N attached" cut into
# a call's line), -r's relative times, -t's clock times and pid-less logs
# given together without their .PID names are refused with one line naming
# the file, line and column, exit 2 and no output.
# Found by an attack round:
#  - a clone returning the pid of a task still alive (its exit lost, or the
#    pid reused) was left out silently: now counted, one summary line;
#  - "<... mmap resumed>" after a clone left "<unfinished ...>" by the same
#    task was joined to it (the clone taken to return the mmap's address):
#    now refused, naming both calls;
#  - a line past the 1 MiB read was refused for what its cut-off end lacks
#    ("expected NAME(ARGS) = RESULT"), with no word of the cut: now the
#    message says the line is longer than 1 MiB.
#
# usage: bash strace_forms.sh /path/to/memvirt
set -u
MV=${1:?usage: strace_forms.sh /path/to/memvirt}
SRC=$(cd "$(dirname "$0")/../.." && pwd)
D="$SRC/tests/data/strace"
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/memvirt-strace.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

bad() {   # bad DESC NEEDLE LOG...
    local desc=$1 needle=$2; shift 2
    rm -f "$tmp/x.mvt"
    "$MV" trace import --from strace "$@" -o "$tmp/x.mvt" >"$tmp/out" 2>"$tmp/err"
    local rc=$?
    [ "$rc" -eq 2 ] || fail "$desc: exit $rc, expected 2: $(cat "$tmp/err")"
    [ "$(wc -l <"$tmp/err")" -eq 1 ] || fail "$desc: expected one line on stderr: $(cat "$tmp/err")"
    grep -q -- "$needle" "$tmp/err" || fail "$desc: message does not say '$needle': $(cat "$tmp/err")"
    [ -e "$tmp/x.mvt" ] && fail "$desc: output written"
    return 0
}

# strace -ff -ttt -o ff/log sh -c '/bin/true; /bin/echo hi >/dev/null'
for order in "log.32021 log.32022 log.32023" "log.32023 log.32021 log.32022"; do
    args=()
    for f in $order; do args+=("$D/ff/$f"); done
    "$MV" trace import --from strace "${args[@]}" -o "$tmp/ff.mvt" 2>"$tmp/err" || fail "-ff ($order): $(cat "$tmp/err")"
    "$MV" trace info "$tmp/ff.mvt" >"$tmp/info" 2>&1 || fail "-ff ($order): trace info: $(cat "$tmp/info")"
    grep -q '^processes  3 ' "$tmp/info" || fail "-ff ($order): not 3 processes: $(grep processes "$tmp/info")"
    grep -q 'fork 2 exec 3 exit 3' "$tmp/info" || fail "-ff ($order): $(grep 'by kind' "$tmp/info")"
    for p in 32021 32022 32023; do
        grep -qE "^ +$p +1 " "$tmp/info" || fail "-ff ($order): no image of $p"
    done
    grep -v '^  command' "$tmp/info" >"$tmp/info-$(echo $order | cut -c5-9)"
done
cmp -s "$tmp/info-32021" "$tmp/info-32023" || fail "-ff: the order of the files changed the trace"
cp "$D/ff/log.32021" "$tmp/a.log"
cp "$D/ff/log.32022" "$tmp/b.log"
bad "-ff logs without their .PID names" "a.log:1:1: .*strace -ff names each of its logs LOG.PID" "$tmp/a.log" "$tmp/b.log"
bad "a -ff log with an -f log" "sh.txt:1:1: .*a line without a pid, as in the other logs" \
    "$SRC/tests/fuzz/corpus/strace/sh.txt" "$D/ff/log.32021"

# two strace -f logs: one after the other, each with its own first process
sh="$SRC/tests/fuzz/corpus/strace/sh.txt"
"$MV" trace import --from strace "$sh" -o "$tmp/one.mvt" 2>/dev/null || fail "import sh.txt"
cp "$sh" "$tmp/sh2.txt"   # another log with the same lines (one file given twice is refused)
"$MV" trace import --from strace "$sh" "$tmp/sh2.txt" -o "$tmp/two.mvt" 2>/dev/null || fail "import sh.txt and a copy"
one=$("$MV" trace info "$tmp/one.mvt" | awk '/^processes/{print $2}')
two=$("$MV" trace info "$tmp/two.mvt" | awk '/^processes/{print $2}')
[ -n "$one" ] && [ "$two" = $((2 * one)) ] || fail "sh.txt and a copy: $two processes, expected twice $one"

# strace -f -qq -ttt sh -c '/bin/true & /bin/true; wait; /bin/true' 2>stderr.log
bad "stderr form with -qq" "stderr.log:52:1: .*\[pid N\] on some lines only: record with strace -f -ttt -o LOG" \
    "$D/stderr.log"
# the same without -qq: "strace: Process N attached" inside a call's line
bad "stderr form" "attached.log:49:.*strace's own message.*-o LOG" "$D/attached.log"
# strace -f -r -o relative.log sh -c /bin/true
bad "strace -r" "relative.log:1:12: .*strace -r's time since the previous line: record with -ttt" "$D/relative.log"
# strace -f -t -o clock.log sh -c /bin/true
bad "strace -t" "clock.log:1:7: .*a clock time, strace -t or -tt: record with -ttt" "$D/clock.log"

# a clone that returns the pid of a task still alive: left out, and said
cat >"$tmp/live.strace" <<'LOG'
100 1796068568.000001 execve("/bin/x", ["x"], 0x7ffd2657570 /* 1 var */) = 0
100 1796068568.000002 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f0) = 200
200 1796068568.000003 mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f7c49499000
100 1796068568.000004 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f0) = 200
100 1796068568.000005 exit_group(0)                 = ?
100 1796068568.000006 +++ exited with 0 +++
LOG
"$MV" trace import --from strace "$tmp/live.strace" -o "$tmp/live.mvt" >"$tmp/out" 2>"$tmp/err" ||
    fail "a clone returning a live pid: $(cat "$tmp/err")"
grep -q "^memvirt: trace import: 1 clone, fork or vfork calls left out: each returned the pid of a task still alive" \
    "$tmp/err" || fail "a clone returning a live pid is not counted: $(cat "$tmp/err")"
"$MV" trace info "$tmp/live.mvt" >"$tmp/info" 2>&1 || fail "a clone returning a live pid: trace info: $(cat "$tmp/info")"
grep -q 'fork 1 exec 1 exit 2' "$tmp/info" || fail "a clone returning a live pid: $(grep 'by kind' "$tmp/info")"

# a call resumed under another name than the one left unfinished
cat >"$tmp/resumed.strace" <<'LOG'
100 1796068568.000001 execve("/bin/x", ["x"], 0x7ffd2657570 /* 1 var */) = 0
100 1796068568.000002 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f0 <unfinished ...>
100 1796068568.000004 <... mmap resumed>) = 0x7f7c49499000
100 1796068568.000005 exit_group(0)                 = ?
100 1796068568.000006 +++ exited with 0 +++
LOG
bad "a clone resumed as mmap" \
    "resumed.strace:3:28: malformed line: expected <... clone resumed>, the call this task left unfinished (not mmap)" \
    "$tmp/resumed.strace"
# resumed under its own name, it imports
sed 's/<\.\.\. mmap resumed>) = 0x7f7c49499000/<... clone resumed>) = 200/' "$tmp/resumed.strace" >"$tmp/clone.strace"
"$MV" trace import --from strace "$tmp/clone.strace" -o "$tmp/clone.mvt" >"$tmp/out" 2>"$tmp/err" ||
    fail "a clone resumed as clone: $(cat "$tmp/err")"
# and with no name ('<... resumed>', no name to compare: taken as the
# unfinished call's; the length of the absent name once underflowed)
sed 's/<\.\.\. mmap resumed>) = 0x7f7c49499000/<... resumed>) = 200/' "$tmp/resumed.strace" >"$tmp/noname.strace"
"$MV" trace import --from strace "$tmp/noname.strace" -o "$tmp/noname.mvt" >"$tmp/out" 2>"$tmp/err" ||
    fail "a clone resumed with no name: $(cat "$tmp/err")"

# a call's line past the 1 MiB read: the message says the line was cut
python3 -c "
print('100 1796068568.000001 execve(\"/bin/x\", [\"x\", \"' + 'A' * (1 << 20) + '\"], 0x7ffd2657570 /* 1 var */) = 0')
print('100 1796068568.000005 exit_group(0)                 = ?')" >"$tmp/long.strace"
bad "a line longer than 1 MiB" "long.strace:1:23: malformed line: expected NAME(ARGS) = RESULT (the line is longer than 1 MiB" \
    "$tmp/long.strace"

[ "$failures" -eq 0 ] || { echo "$failures failure(s)" >&2; exit 1; }
echo "strace_forms.sh: all passed"

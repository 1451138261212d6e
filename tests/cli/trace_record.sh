#!/usr/bin/env bash
# trace_record.sh: `memvirt trace record` on real programs: a shell running
# two commands, and a Python program with a thread and a realloc that
# mremaps; each trace replays under every mode with --check, and `trace
# info` finds memvirt's page-table pages within one page of the real
# kernel's VmPTE for every process image. --refs all (valgrind lackey) on a
# small program and on a shell pipeline (a process tree: forks, not
# threads, each child with its exec), and on 15 processes with few
# open files allowed (the logs are read one at a time: every process is in
# the trace). Interrupted (SIGINT, SIGTERM, SIGUSR1) while the program runs
# or while its logs are imported, record removes what it wrote (output and
# logs) and stops the program; -o may not be the program; the program gets the signal dispositions
# record was given (an ignored SIGHUP, SIGXFSZ not ignored); with the trace
# on standard output, the program writes to standard error; on a terminal
# the program can read it and Ctrl-C interrupts the recording. The program
# runs in a process group apart from the recorders': its own group signals
# do not cut the recording short, its exit status or signal is said as it
# was, and a recorder killed under it fails the recording; a recorder not
# on PATH is exit 1, one line. A program that cannot be run (exit 2,
# before any recorder starts) or whose exec fails, an output that
# cannot be written (found before the program runs), sampling options
# without --refs all, an option without its value, -o '' and a program
# starting with '-' are errors; one naming a removed log says how to keep it. Skips (exit 77) only if perf or strace
# truly cannot run here.
#
# usage: bash trace_record.sh /path/to/memvirt
set -u
MV=${1:?usage: trace_record.sh /path/to/memvirt}
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/memvirt-rec.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

if ! perf record -q -e page-faults -c 1 -d -e exceptions:page_fault_user -o "$tmp/probe.data" true >/dev/null 2>"$tmp/probe.err"; then
    echo "SKIP: perf cannot record page faults here: $(head -c 300 "$tmp/probe.err")"
    exit 77
fi
if ! strace -f --seccomp-bpf -o /dev/null true 2>"$tmp/probe.err"; then
    echo "SKIP: strace cannot trace here: $(head -c 300 "$tmp/probe.err")"
    exit 77
fi
modes=$("$MV" list | awk '/^modes:/{m=1; next} /^$/{m=0} m{print $1}')

check_trace() {   # check_trace NAME FILE
    local name=$1 f=$2
    for m in $modes; do
        "$MV" run --mode "$m" --trace "$f" --check --quiet >/dev/null 2>"$tmp/err" \
            || fail "$name under $m: $(head -c 300 "$tmp/err")"
    done
    "$MV" trace info "$f" >"$tmp/info" 2>&1 || fail "trace info $name: $(cat "$tmp/info")"
    local line n of
    line=$(grep '^within one page:' "$tmp/info")
    n=$(echo "$line" | awk '{print $4}'); of=$(echo "$line" | awk '{print $6}')
    if [ -z "$line" ] || [ "$n" != "$of" ] || [ "${of:-0}" -lt 1 ]; then
        fail "$name: page-table pages not within one page for every image: ${line:-none compared}"
        cat "$tmp/info" >&2
    fi
}

# 1. a shell and its children
export TMPDIR="$tmp/t"; mkdir -p "$TMPDIR"
"$MV" trace record -o "$tmp/sh.mvt" -- /bin/sh -c 'ls / >/dev/null; /bin/cat /dev/null' 2>"$tmp/err" \
    || fail "record sh: $(cat "$tmp/err")"
[ -s "$tmp/sh.mvt" ] && check_trace sh "$tmp/sh.mvt"
grep -q "processes  3 " "$tmp/info" || fail "sh: expected 3 processes: $(grep processes "$tmp/info")"
[ -z "$(ls -A "$TMPDIR")" ] || fail "record left files in TMPDIR: $(ls "$TMPDIR")"

# 2. threads (clone with CLONE_VM) and mremap
"$MV" trace record -o "$tmp/py.mvt" -- /usr/bin/python3 -c '
import threading
b = bytearray(1 << 20); b.extend(bytearray(1 << 21))
t = threading.Thread(target=lambda: sum(range(1000))); t.start(); t.join()' 2>"$tmp/err" \
    || fail "record python: $(cat "$tmp/err")"
[ -s "$tmp/py.mvt" ] && check_trace python "$tmp/py.mvt"
grep -q "and [1-9][0-9]* threads" "$tmp/info" || fail "python: no thread in the trace: $(grep processes "$tmp/info")"
grep -q "mremap [1-9]" "$tmp/info" || fail "python: no mremap in the trace: $(grep 'by kind' "$tmp/info")"

# 2b. realloc moving and growing with mremap (glibc: blocks over 128 KiB
# are mmapped): a move across a 2 MiB boundary at another offset (1.5 MiB
# then 3 MiB, something mapped after it), and growth in place followed by
# moves of the grown block (the builder merges the grown pieces as Linux
# does, so no mremap is dropped)
cat >"$tmp/rl1.c" <<'EOC'
#include <stdlib.h>
#include <string.h>
int main(void)
{
    char *p = malloc(1536 << 10);
    memset(p, 1, 1536 << 10);
    char *q = malloc(64 << 10);
    memset(q, 1, 64 << 10);
    p = realloc(p, 3 << 20);
    memset(p, 2, 3 << 20);
    return p[5] != 2 || q[0] != 1;
}
EOC
cat >"$tmp/rl.c" <<'EOC'
#include <stdlib.h>
#include <string.h>
int main(void)
{
    size_t n = 300000;
    char *p = malloc(n);
    memset(p, 1, n);
    for (int i = 0; i < 6; i++) { n = n * 3 / 2; p = realloc(p, n); memset(p, 2, n); }
    return p[n - 1] != 2;
}
EOC
for prog in rl1 rl; do
    if ! cc -O1 -o "$tmp/$prog" "$tmp/$prog.c" 2>"$tmp/err"; then
        fail "cannot compile $prog.c: $(cat "$tmp/err")"; continue
    fi
    "$MV" trace record -o "$tmp/$prog.mvt" -- "$tmp/$prog" 2>"$tmp/err" || fail "record $prog: $(cat "$tmp/err")"
    [ -s "$tmp/$prog.mvt" ] && check_trace "$prog" "$tmp/$prog.mvt"
done
grep -q "mremap 6 " "$tmp/info" || fail "rl: expected its 6 mremaps: $(grep 'by kind' "$tmp/info")"
grep -q "a kernel would refuse dropped" "$tmp/err" && fail "rl: mremaps dropped: $(cat "$tmp/err")"

# 3. every reference, from valgrind's lackey, sampled
if command -v valgrind >/dev/null; then
    "$MV" trace record --refs all --sample 4 -o "$tmp/all.mvt" -- /bin/true 2>"$tmp/err" \
        || fail "record --refs all: $(cat "$tmp/err")"
    for m in $modes; do
        "$MV" run --mode "$m" --trace "$tmp/all.mvt" --check --quiet >/dev/null 2>"$tmp/err" \
            || fail "--refs all trace under $m: $(head -c 300 "$tmp/err")"
    done
    # a window past every process's references: the trace, and one warning naming it
    "$MV" trace record --refs all --window 1T:10 -o "$tmp/win.mvt" -- /bin/true 2>"$tmp/err" \
        || fail "record --refs all --window 1T:10: $(cat "$tmp/err")"
    [ -s "$tmp/win.mvt" ] && [ "$(grep -c warning "$tmp/err")" -eq 1 ] \
        && grep -q '^memvirt: warning: trace record: --window 1T:10 selects no reference' "$tmp/err" \
        || fail "record --window 1T:10: expected a trace and one warning: $(cat "$tmp/err")"
    # a process tree under valgrind: sh forks twice, each child execs
    "$MV" trace record --refs all --sample 16 -o "$tmp/pipe.mvt" -- /bin/sh -c '/bin/echo a | /bin/cat' \
        >"$tmp/out" 2>"$tmp/err" || fail "record --refs all pipeline: $(cat "$tmp/err")"
    grep -qx a "$tmp/out" || fail "the pipeline's output is not the program's: $(cat "$tmp/out")"
    "$MV" trace info "$tmp/pipe.mvt" >"$tmp/info" 2>&1 || fail "trace info pipeline: $(cat "$tmp/info")"
    grep -q "spawn 1 fork 2 exec 3 exit 3 " "$tmp/info" \
        || fail "pipeline: expected one root, two forks, three execs: $(grep 'by kind' "$tmp/info")"
    grep -q "processes  3 (and 0 threads)" "$tmp/info" || fail "pipeline: $(grep processes "$tmp/info")"
    for p in /bin/sh /bin/echo /bin/cat; do
        grep -q " $p\$" "$tmp/info" || fail "pipeline: no image of $p: $(cat "$tmp/info")"
    done
    "$MV" compare --trace "$tmp/pipe.mvt" --check --quiet >/dev/null 2>"$tmp/err" \
        || fail "--refs all pipeline replay: $(head -c 300 "$tmp/err")"
    # one log per process, read one at a time (one open per level of the
    # process tree): 15 processes under a limit of 16 open files, or of 20
    # for record too (it opened every log at once: "cannot open valgrind's
    # log ...: Too many open files"; earlier still, 12 of 15 images were
    # missing); the program keeps the limit it was given
    trues() { echo "for i in $(echo $(seq "$1")); do /bin/true; done"; }
    (ulimit -Sn 16; "$MV" trace record --refs all --sample 1000 -o "$tmp/nf.mvt" -- /bin/sh -c "$(trues 14); ulimit -n" \
        >"$tmp/out" 2>"$tmp/err") || fail "record --refs all with ulimit -Sn 16: $(cat "$tmp/err")"
    [ "$(cat "$tmp/out")" = 16 ] || fail "ulimit -Sn 16: the program's limit is not its own: $(cat "$tmp/out")"
    "$MV" trace info "$tmp/nf.mvt" 2>&1 | grep -q "spawn 1 fork 14 exec 15 exit 15 " \
        || fail "ulimit -Sn 16: expected 15 processes, each with its exec: $("$MV" trace info "$tmp/nf.mvt" 2>&1 | grep 'by kind')"
    (ulimit -n 20; "$MV" trace record --refs all --sample 1000 -o "$tmp/nf2.mvt" -- /bin/sh -c "$(trues 14)" \
        >/dev/null 2>"$tmp/err") || fail "record --refs all with ulimit -n 20: $(tail -3 "$tmp/err")"
    "$MV" trace info "$tmp/nf2.mvt" 2>&1 | grep -q "spawn 1 fork 14 exec 15 exit 15 " \
        || fail "ulimit -n 20: expected 15 processes, each with its exec: $("$MV" trace info "$tmp/nf2.mvt" 2>&1 | grep 'by kind')"
    [ -z "$(ls -A "$TMPDIR")" ] || fail "ulimit -n 20: logs left: $(ls "$TMPDIR")"
else
    fail "valgrind is missing (scripts/setup installs it)"
fi

# 4. interrupted: nothing half-written, the program stopped (a background
# job of a shell without job control starts with SIGINT ignored, which
# record respects: trap - INT gives it the default a terminal's job has)
# (a sleep of a length no other process here has: this test's own).
# interrupted SIG SECONDS NAME [--refs all]: record a sleep, send SIG after
# SECONDS, check what is left. With --refs all (SIGTERM): valgrind's logs
# and its vgdb FIFOs (vgdb-pipe-* in TMPDIR, left by a valgrind killed with
# its gdbserver on) go too; the log directory went only if valgrind was
# gone before it was removed.
interrupted() {
    local sig=$1 after=$2 name=$3 nap=$(($2 + 5)).$$ rec rc
    shift 3
    (trap - INT; exec "$MV" trace record "$@" -o "$tmp/$name.mvt" -- /bin/sleep "$nap") 2>"$tmp/err" &
    rec=$!
    sleep "$after"
    kill -"$sig" "$rec"
    wait "$rec"
    rc=$?
    [ "$rc" -ne 0 ] || fail "an interrupted record $* exited 0"
    [ -e "$tmp/$name.mvt" ] && fail "an interrupted record $* left its output"
    ls -A "$tmp" | grep -q "^\.$name\.mvt\." && fail "an interrupted record $* left a temporary file"
    [ -z "$(ls -A "$TMPDIR")" ] || fail "an interrupted record $* left files in TMPDIR: $(ls "$TMPDIR")"
    rm -rf "${TMPDIR:?}"/* "$TMPDIR"/.[!.]* 2>/dev/null
    sleep 0.5
    pgrep -f "sleep $nap\$" >/dev/null && fail "the program recorded with record $* still runs after the interrupt"
}
interrupted INT 2 int
command -v valgrind >/dev/null && interrupted TERM 4 intv --refs all
# any signal that ends a process by default (a batch system's SIGUSR1, a
# timer's SIGALRM): record died of it with its logs left in TMPDIR and the
# program, perf and strace running on (an attack round)
interrupted USR1 2 usr1

# 4b. interrupted while importing (perf script runs as record's child):
# the output's temporary file and the recorders' logs go too
(trap - INT; exec "$MV" trace record -o "$tmp/int2.mvt" -- /usr/bin/python3 -c "b = b'x' * (48 << 20)") 2>"$tmp/err" &
rec=$!
seen=0
for _ in $(seq 1 1500); do
    if pgrep -P "$rec" -f '^perf script' >/dev/null; then
        seen=1; break
    fi
    kill -0 "$rec" 2>/dev/null || break
    sleep 0.01
done
[ $seen = 1 ] && kill -INT "$rec"
wait "$rec"
rc=$?
if [ $seen = 1 ]; then
    [ "$rc" -ne 0 ] || fail "a record interrupted while importing exited 0"
    [ -e "$tmp/int2.mvt" ] && fail "a record interrupted while importing left its output"
    ls -A "$tmp" | grep -q '^\.int2\.mvt\.' && fail "a record interrupted while importing left a temporary file"
    [ -z "$(ls -A "$TMPDIR")" ] || fail "a record interrupted while importing left its logs: $(ls "$TMPDIR")"
else
    fail "never saw record importing (perf script) to interrupt it (exit $rc): $(cat "$tmp/err")"
fi

# 4c. the program starts with the signal dispositions record was given:
# SIGXFSZ not ignored (memvirt ignores it for itself), SIGHUP ignored where
# record's was (nohup): a hangup then leaves the recording be (it killed it)
(trap '' HUP; exec "$MV" trace record -o "$tmp/sig.mvt" -- /bin/sh -c 'grep ^SigIgn: /proc/self/status; sleep 2') \
    >"$tmp/out" 2>"$tmp/err" &
rec=$!
sleep 1
kill -HUP "$rec"
wait "$rec"
rc=$?
[ $rc -eq 0 ] || fail "record with SIGHUP ignored, sent a SIGHUP: exit $rc, expected 0: $(tail -3 "$tmp/err")"
mask=$(awk '/^SigIgn:/{print $2}' "$tmp/out")
if [ -z "$mask" ]; then
    fail "no SigIgn line from the recorded program: $(cat "$tmp/out")"
else
    (( 0x$mask & 0x1000000 )) && fail "the recorded program inherits an ignored SIGXFSZ (SigIgn $mask)"
    (( 0x$mask & 0x1 )) || fail "the recorded program does not inherit record's ignored SIGHUP (SigIgn $mask)"
fi

# 4d. the trace down a pipe (-o /dev/stdout): the program's output goes to
# standard error, not into the trace (it began with "hello", exit 0)
"$MV" trace record -o /dev/stdout -- /bin/echo hello 2>"$tmp/err" | cat >"$tmp/pipe-out.mvt"
"$MV" trace info "$tmp/pipe-out.mvt" >/dev/null 2>"$tmp/err2" \
    || fail "-o /dev/stdout into a pipe: not a trace: $(head -c 100 "$tmp/pipe-out.mvt" | tr -cd '[:print:]') $(cat "$tmp/err2")"
grep -qx hello "$tmp/err" || fail "-o /dev/stdout: the program's output is not on standard error: $(cat "$tmp/err")"

# 4e. on a terminal (script gives one): the program's group has it while it
# runs (cat reading the terminal was stopped by SIGTTIN: record waited
# forever), and Ctrl-C there interrupts the recording as it would record
if command -v script >/dev/null; then
    printf 'hello\n\004' | timeout 60 script -qec "'$MV' trace record -o '$tmp/tty.mvt' -- cat" /dev/null \
        >"$tmp/out" 2>&1
    rc=$?
    [ $rc -eq 0 ] || fail "record of cat on a terminal: exit $rc (124: it hung): $(tr -d '\r' <"$tmp/out")"
    [ -s "$tmp/tty.mvt" ] || fail "record of cat on a terminal: no trace"
    (sleep 2.5; printf '\003'; sleep 2) | timeout 60 script -qec "'$MV' trace record -o '$tmp/tty2.mvt' -- sleep 6.25" \
        /dev/null >"$tmp/out" 2>&1
    rc=$?
    [ $rc -eq 130 ] || fail "record on a terminal, Ctrl-C: exit $rc, expected 130: $(tr -d '\r' <"$tmp/out")"
    [ -e "$tmp/tty2.mvt" ] && fail "record on a terminal, Ctrl-C: a trace was written"
    ls -A "$tmp" | grep -q '^\.tty2\.mvt\.' && fail "record on a terminal, Ctrl-C: a temporary file was left"
    # Ctrl-Z stops the program's group, which has the terminal: record
    # stops with it (here, where script's session orphans our group, the
    # kernel drops that stop) and continues it; it hung with the terminal
    # held by a stopped group
    (sleep 2.5; printf '\032'; sleep 4) | timeout 40 script -qec "'$MV' trace record -o '$tmp/tty3.mvt' -- sleep 5" \
        /dev/null >"$tmp/out" 2>&1
    rc=$?
    [ $rc -eq 0 ] && [ -s "$tmp/tty3.mvt" ] ||
        fail "record on a terminal, Ctrl-Z: exit $rc (124: it hung): $(tr -d '\r' <"$tmp/out")"
    [ -z "$(ls -A "$TMPDIR")" ] || fail "record on a terminal, Ctrl-C: logs left: $(ls "$TMPDIR")"
else
    echo "trace_record.sh: script (util-linux) is missing: the terminal checks are skipped"
fi

# 4f. the program in a process group of its own, apart from the recorders:
# a program signalling its own group (`kill -TERM 0`, as shells and build
# tools do) no longer stops perf (the trace ended there, the program ran on,
# and record said 0 with the recorder's status as the program's)
"$MV" trace record -o "$tmp/grp.mvt" -- /bin/sh -c \
    'trap "" TERM; /bin/true; kill -TERM 0; /bin/ls / >/dev/null; /bin/echo still-running >&2; /bin/true' \
    2>"$tmp/err"
rc=$?
[ $rc -eq 0 ] || fail "record of a program that signals its group: exit $rc: $(tail -3 "$tmp/err")"
grep -q "still running where the input ends" "$tmp/err" && fail "kill -TERM 0 cut the recording: $(cat "$tmp/err")"
grep -q "written to .*grp.mvt\$" "$tmp/err" || fail "kill -TERM 0: the program (exit 0) said to end otherwise: $(tail -1 "$tmp/err")"
"$MV" trace info "$tmp/grp.mvt" >"$tmp/info" 2>&1
grep -q "processes  5 " "$tmp/info" && grep -q " /usr/bin/ls\$" "$tmp/info" && grep -q " /usr/bin/echo\$" "$tmp/info" \
    || fail "kill -TERM 0: expected 5 processes, ls and echo among them: $(sed -n '/^processes/p;/^ *[0-9]/p' "$tmp/info")"
# the program's own status, said truly: an exit status, a signal
"$MV" trace record -o "$tmp/st.mvt" -- /bin/sh -c 'exit 3' 2>"$tmp/err"
rc=$?
[ $rc -eq 0 ] && grep -q "written to .*st.mvt (the program exited with status 3)\$" "$tmp/err" \
    || fail "a program exiting 3: exit $rc: $(tail -1 "$tmp/err")"
"$MV" trace record -o "$tmp/st.mvt" -- /bin/sh -c 'kill -TERM $$' 2>"$tmp/err"
rc=$?
[ $rc -eq 0 ] && grep -q "written to .*st.mvt (the program was killed by signal 15, " "$tmp/err" \
    || fail "a program killed by SIGTERM: exit $rc: $(tail -1 "$tmp/err")"
# a recorder killed under the program (strace: its parent) cuts the
# recording short: exit 1, one line, nothing written. The program then
# spins in the shell (no system call: without its tracer each one fails)
# long enough for perf to stop first; a program that ends at once can
# race perf's shutdown and be recorded whole (left alone: see traces.md)
rm -f "$tmp/cut.mvt"
"$MV" trace record -o "$tmp/cut.mvt" -- /bin/sh -c \
    'kill -KILL $PPID; i=0; while [ $i -lt 300000 ]; do i=$((i + 1)); done; /bin/true' 2>"$tmp/err"
rc=$?
[ $rc -eq 1 ] && [ "$(grep -c '^memvirt:' "$tmp/err")" -eq 1 ] && grep -q "^memvirt: trace record: .*cut short" "$tmp/err" \
    || fail "strace killed: exit $rc, expected 1 and one line: $(cat "$tmp/err")"
[ -e "$tmp/cut.mvt" ] && fail "strace killed: a trace was written"
[ -z "$(ls -A "$TMPDIR")" ] || fail "strace killed: logs left: $(ls "$TMPDIR")"
# on a terminal: the program's own SIGINT to its group is not a Ctrl-C
# (the recording goes on), and a Ctrl-C still interrupts a recording of a
# program that ignores it
if command -v script >/dev/null; then
    printf '' | timeout 60 script -qec "'$MV' trace record -o '$tmp/tint.mvt' -- /bin/sh -c 'trap \"\" INT; kill -INT 0; /bin/true'" \
        /dev/null >"$tmp/out" 2>&1
    rc=$?
    [ $rc -eq 0 ] && [ -s "$tmp/tint.mvt" ] \
        || fail "record on a terminal of kill -INT 0: exit $rc, expected 0 and a trace: $(tr -d '\r' <"$tmp/out")"
    (sleep 2.5; printf '\003'; sleep 2) | timeout 60 script -qec \
        "'$MV' trace record -o '$tmp/tign.mvt' -- /bin/sh -c 'trap \"\" INT; sleep 6.5'" /dev/null >"$tmp/out" 2>&1
    rc=$?
    [ $rc -eq 130 ] || fail "Ctrl-C, a program that ignores SIGINT: exit $rc, expected 130: $(tr -d '\r' <"$tmp/out")"
    [ -e "$tmp/tign.mvt" ] && fail "Ctrl-C, a program that ignores SIGINT: a trace was written"
    sleep 0.5
    pgrep -f "sleep 6.5\$" >/dev/null && fail "Ctrl-C, a program that ignores SIGINT: it still runs"
fi

# 5. bad input
# a program that cannot be run: one line, exit 2, before any recorder starts
printf 'not run\n' >"$tmp/noexec"
for how in /nonexistent/prog:"No such file" no-such-prog-zz:"no such program in PATH" \
           "$tmp":"is a directory" "$tmp/noexec":"not executable"; do
    "$MV" trace record -o "$tmp/ne.mvt" -- "${how%%:*}" 2>"$tmp/err"
    rc=$?
    [ $rc -eq 2 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q "cannot run '${how%%:*}': .*${how#*:}" "$tmp/err" \
        || fail "record of ${how%%:*}: exit $rc, expected 2 and one line: $(cat "$tmp/err")"
    [ -e "$tmp/ne.mvt" ] && fail "record of ${how%%:*} left a trace"
done
# a recorder not on PATH (perf, strace; valgrind for --refs all): the host's
# failure, exit 1, one line naming it, before the program runs (an attack
# round: two lines, "cannot run perf" from the child and "perf recorded
# nothing ... see its messages above")
mkdir -p "$tmp/perfonly"
ln -sf "$(command -v perf)" "$tmp/perfonly/perf"
for how in /nonexistent:perf:linux-perf "$tmp/perfonly":strace:strace "$tmp/perfonly":valgrind:valgrind; do
    refs=faults
    [ "${how#*:}" = valgrind:valgrind ] && refs=all
    PATH=${how%%:*} "$MV" trace record --refs $refs -o "$tmp/ne.mvt" -- /bin/sh -c "touch '$tmp/ran'" 2>"$tmp/err"
    rc=$?
    how=${how#*:}
    [ $rc -eq 1 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q "^memvirt: trace record: cannot run ${how%%:*}: no \
such program in PATH (scripts/setup installs Debian's ${how#*:})" "$tmp/err" ||
        fail "record without ${how%%:*}: exit $rc, expected 1 and one line: $(cat "$tmp/err")"
    [ -e "$tmp/ran" ] && fail "record without ${how%%:*} ran the program"
    [ -e "$tmp/ne.mvt" ] && fail "record without ${how%%:*} left a trace"
    [ -z "$(ls -A "$TMPDIR")" ] || fail "record without ${how%%:*} left its logs: $(ls "$TMPDIR")"
    rm -f "$tmp/ran"
done
# one whose exec fails all the same (its interpreter is missing): it never
# ran, which the recording says; the helper leaves by _exit(127), so the
# status is a shell's
printf '#!/nonexistent/interpreter\n' >"$tmp/badinterp"
chmod +x "$tmp/badinterp"
"$MV" trace record -o "$tmp/ne.mvt" -- "$tmp/badinterp" 2>"$tmp/err"
rc=$?
[ $rc -ne 0 ] || fail "record of a program whose exec fails exited 0"
grep -q "never ran.*exit status 127" "$tmp/err" || fail "record of a program whose exec fails: $(cat "$tmp/err")"
grep -q "Sanitizer" "$tmp/err" && fail "record of a program whose exec fails: a sanitizer spoke: $(cat "$tmp/err")"
[ -e "$tmp/ne.mvt" ] && fail "record of a program whose exec fails left a trace"
[ -z "$(ls -A "$TMPDIR")" ] || fail "record of a program whose exec fails left its logs: $(ls "$TMPDIR")"
"$MV" trace record -o "$tmp/nodir/x.mvt" -- /bin/sh -c "touch '$tmp/ran'" 2>"$tmp/err"
[ $? -eq 2 ] || fail "record to an unwritable output: not exit 2"
[ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q "nodir/x.mvt" "$tmp/err" || fail "unwritable output: $(cat "$tmp/err")"
[ -e "$tmp/ran" ] && fail "record ran the program although its output cannot be written"
# the output may not be the program recorded (it replaced the binary),
# named by its path or found on PATH; refused before anything runs
cp /bin/true "$tmp/prog"
for how in "$tmp/prog" prog; do
    PATH="$tmp:$PATH" "$MV" trace record -o "$tmp/prog" -- "$how" 2>"$tmp/err"
    rc=$?
    [ $rc -eq 2 ] || fail "record -o PROG -- $how: exit $rc, expected 2"
    [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q "is the program '.*prog'" "$tmp/err" \
        || fail "record -o PROG -- $how: $(cat "$tmp/err")"
    cmp -s /bin/true "$tmp/prog" || { fail "record -o PROG -- $how overwrote the program"; cp /bin/true "$tmp/prog"; }
done
for opt in "--sample 4" "--window 1:10"; do
    "$MV" trace record $opt -o "$tmp/x.mvt" -- /bin/true 2>"$tmp/err"
    [ $? -eq 2 ] || fail "record $opt with --refs faults: not exit 2"
    [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q -- "--refs all" "$tmp/err" || fail "record $opt: $(cat "$tmp/err")"
done
# messages: a log named in an error is gone (say how to keep it); an
# option without its value; -o '' (not suggesting '-', refused too); a
# program that would be taken as the recorders' option
kill_perf='kill -9 $(ps -o ppid= -p $PPID)'     # the program's parent is strace, strace's perf
"$MV" trace record -o "$tmp/k.mvt" -- /bin/sh -c "$kill_perf" 2>"$tmp/err"
rc=$?
[ $rc -eq 1 ] && grep -q "perf script on '.*perf.data' failed.*rerun with MEMVIRT_KEEP_LOGS=1 to keep them" "$tmp/err" \
    || fail "perf killed: exit $rc, expected 1 and an error saying how to keep the logs: $(cat "$tmp/err")"
MEMVIRT_KEEP_LOGS=1 "$MV" trace record -o "$tmp/k.mvt" -- /bin/sh -c "$kill_perf" 2>"$tmp/err"
grep -q "MEMVIRT_KEEP_LOGS=1 to keep" "$tmp/err" && fail "perf killed, logs kept: still says how to keep them: $(cat "$tmp/err")"
grep -q "^memvirt: trace record: logs kept in $TMPDIR/memvirt-record" "$tmp/err" \
    || fail "perf killed, MEMVIRT_KEEP_LOGS=1: $(cat "$tmp/err")"
rm -rf "$TMPDIR"/memvirt-record.*      # (this test's own TMPDIR)
for args in "-o" "-o --" "--refs all --window"; do
    "$MV" trace record $args 2>"$tmp/err"
    rc=$?
    opt=$(echo $args | awk '{print $NF == "--" ? $(NF-1) : $NF}')
    [ $rc -eq 2 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q -- "^memvirt: trace record: $opt needs a value" "$tmp/err" \
        || fail "record $args: exit $rc: $(cat "$tmp/err")"
done
"$MV" trace record -o '' -- /bin/true 2>"$tmp/err"
rc=$?
[ $rc -eq 2 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q "empty file name" "$tmp/err" && ! grep -q "'-'" "$tmp/err" \
    || fail "record -o '': exit $rc: $(cat "$tmp/err")"
"$MV" trace import --from strace /dev/null -o '' 2>"$tmp/err"
rc=$?
[ $rc -eq 2 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q "empty file name" "$tmp/err" && ! grep -q "'-'" "$tmp/err" \
    || fail "import -o '': exit $rc: $(cat "$tmp/err")"
for refs in faults all; do
    "$MV" trace record --refs $refs -o "$tmp/dash.mvt" -- --tool=memcheck /bin/true >/dev/null 2>"$tmp/err"
    rc=$?
    [ $rc -eq 2 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q "the program '--tool=memcheck' starts with '-'" "$tmp/err" \
        || fail "record --refs $refs -- --tool=memcheck: exit $rc: $(cat "$tmp/err")"
    [ -e "$tmp/dash.mvt" ] && fail "record --refs $refs -- --tool=memcheck: wrote a trace"
done
"$MV" trace record -o "$tmp/x.mvt" 2>"$tmp/err"; [ $? -eq 2 ] || fail "record without a program: not exit 2"
"$MV" trace record --refs bogus -- true 2>"$tmp/err"; [ $? -eq 2 ] || fail "--refs bogus: not exit 2"
grep -q "bogus" "$tmp/err" || fail "--refs bogus: message does not name it"

if [ "$failures" -ne 0 ]; then
    echo "trace_record.sh: $failures failure(s)" >&2
    exit 1
fi
echo "trace_record.sh: all checks passed"

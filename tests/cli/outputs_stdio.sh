#!/usr/bin/env bash
# outputs_stdio.sh: outputs and the standard descriptors, and the process's
# end by a signal or a host limit (lib/outfile.c, cli/cmd_run.c,
# sim/parallel.c).
#   closed stderr     a warning cannot land in --json's temporary (which would
#                     take descriptor 2): the document is the reference
#   closed stdout     exit 1, no output written (the table is lost: all or none)
#   stdout /dev/full  exit 1, the old file kept
#   /dev/stdout, /dev/stderr as --json when they are a log file: the document
#                     is appended there, the log not replaced
#   standard error as an output while another takes standard output (the
#                     table then on standard error: --json /dev/stderr --csv -,
#                     /proc/self/fd/2, the file 2> goes to, --json - 2>&1):
#                     exit 2, one line, nothing written (an attack round: the
#                     table and the document were mixed there, exit 0); run,
#                     compare and rerun alike; /dev/null as stderr is no clash
#   a trace's -o that is standard error's file (trace record and import:
#                     their messages, and the recorded program's output, go
#                     there whatever -o is: -o /dev/stderr, /proc/self/fd/2,
#                     the file 2> goes to, /dev/stdout with 2>&1): exit 2,
#                     one line, nothing written (the binary trace had the
#                     messages mixed into it, exit 0); /dev/null is no clash
#   trace record's -o the file the program reads as standard input
#                     (-- cat <FILE): exit 2, the file kept (an attack round:
#                     it was replaced by the trace)
#   SIGXCPU           (a CPU-time limit) ends the run with no temporary left
#   SIGPIPE           while a FIFO's reader is awaited ends the process
#   threads           refused by a process limit: the runs go on in fewer
#                     threads, the same output
#
# usage: bash outputs_stdio.sh /path/to/memvirt
set -u
MV=${1:?usage: outputs_stdio.sh /path/to/memvirt}
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/memvirt-stdio.XXXXXX") || exit 1
chmod 755 "$tmp"
pid=
trap '[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT
. "$(dirname "$0")/lib/expect.sh"
W="$tmp/w"
mkdir -p "$W"

# A run with a warning (its --at control comes after the run's end).
WARN=(run --mode pv-pibooster --workload forkstorm --param forkstorm.minutes=0.05 --at 100m:ptcache=on --quiet)
"$MV" "${WARN[@]}" --json "$W/ref.json" >/dev/null 2>"$W/ref.err" || fail "reference run failed"
grep -q "was never applied" "$W/ref.err" || fail "the reference run gave no warning: $(cat "$W/ref.err")"
same_doc() { cmp -s <(grep -v '"revision"' "$1") <(grep -v '"revision"' "$2"); }

# closed stderr: the warning is lost, the document is not touched by it
echo old >"$W/a.json"
"$MV" "${WARN[@]}" --json "$W/a.json" >/dev/null 2>&-
rc=$?
[ "$rc" -eq 0 ] || fail "closed stderr: exit $rc"
same_doc "$W/a.json" "$W/ref.json" || fail "closed stderr: the document differs: $(head -c 200 "$W/a.json")"

# closed stdout: exit 1, one line, nothing written
CMP=(compare --workload forkstorm --param forkstorm.minutes=0.05 --quiet)
echo old >"$W/a.json"
"$MV" "${CMP[@]}" --json "$W/a.json" >&- 2>"$W/err"
rc=$?
[ "$rc" -eq 1 ] || fail "closed stdout: exit $rc, expected 1"
grep -q "^memvirt: standard output: cannot write: Bad file descriptor$" "$W/err" ||
    fail "closed stdout: message: $(cat "$W/err")"
[ "$(cat "$W/a.json")" = old ] || fail "closed stdout: the old file was replaced: $(head -c 100 "$W/a.json")"
[ -z "$(find "$W" -name '.*' ! -name . | head -1)" ] || fail "closed stdout: temporaries left"

# standard output on a full device: the same
echo old >"$W/a.json"
"$MV" "${CMP[@]}" --json "$W/a.json" >/dev/full 2>"$W/err"
rc=$?
[ "$rc" -eq 1 ] || fail "stdout /dev/full: exit $rc, expected 1"
[ "$(cat "$W/a.json")" = old ] || fail "stdout /dev/full: the old file was replaced"
[ "$(wc -l <"$W/err")" -eq 1 ] || fail "stdout /dev/full: expected one line: $(cat "$W/err")"

# --json /dev/stdout (and /dev/stderr) when that is a log file: appended
echo "previous line" >"$W/log"
"$MV" "${WARN[@]}" --json /dev/stdout >>"$W/log" 2>/dev/null
rc=$?
[ "$rc" -eq 0 ] || fail "/dev/stdout as a log: exit $rc"
[ "$(head -1 "$W/log")" = "previous line" ] || fail "/dev/stdout as a log: the log was replaced"
tail -n +2 "$W/log" >"$W/appended.json"
same_doc "$W/appended.json" "$W/ref.json" || fail "/dev/stdout as a log: the document differs"
echo "previous line" >"$W/log2"
"$MV" "${CMP[@]}" --json /dev/stderr >/dev/null 2>>"$W/log2"
rc=$?
[ "$rc" -eq 0 ] || fail "/dev/stderr as a log: exit $rc"
[ "$(head -1 "$W/log2")" = "previous line" ] || fail "/dev/stderr as a log: the log was replaced"
grep -q '"memvirt": "1"' "$W/log2" || fail "/dev/stderr as a log: no document in it"

# standard error as an output where another takes standard output: the
# table goes to standard error then, and would be mixed into the output
LM=(--workload lmbench --param lmbench.iterations=2 --quiet)
"$MV" run "${LM[@]}" --json "$W/r.json" >/dev/null 2>&1 || fail "lmbench reference run failed"
CLASH="standard error, where the table goes when"
expect_bad "run --json /dev/stderr --csv -" "--json '/dev/stderr' is $CLASH --csv '-' takes standard output" \
    run --mode pv "${LM[@]}" --json /dev/stderr --csv -
expect_bad "run --csv /proc/self/fd/2 --json -" "--csv '/proc/self/fd/2' is $CLASH --json '-'" \
    run "${LM[@]}" --json - --csv /proc/self/fd/2
expect_bad "compare --json (the file 2> goes to) --csv -" "--json '$tmp/stderr' is $CLASH --csv '-'" \
    compare --modes native,hap "${LM[@]}" --csv - --json "$tmp/stderr"
expect_bad "rerun --json /dev/stderr --csv -" "--json '/dev/stderr' is $CLASH --csv '-'" \
    rerun "$W/r.json" --quiet --json /dev/stderr --csv -
# standard output itself standard error's file: a log, a pipe
for how in log pipe; do
    rm -rf "$W/two" && mkdir "$W/two"
    if [ $how = log ]; then
        "$MV" run "${LM[@]}" --json - --csv "$W/two/c.csv" >"$W/both" 2>&1; rc=$?
    else
        "$MV" run "${LM[@]}" --json - --csv "$W/two/c.csv" 2>&1 | cat >"$W/both"; rc=${PIPESTATUS[0]}
    fi
    [ "$rc" -eq 2 ] || fail "--json - 2>&1 ($how): exit $rc, expected 2: $(head -c 200 "$W/both")"
    [ "$(wc -l <"$W/both")" -eq 1 ] &&
        grep -q "^memvirt: --json '-' takes standard output, which is standard error's file too" "$W/both" ||
        fail "--json - 2>&1 ($how): $(head -c 300 "$W/both")"
    [ -z "$(ls -A "$W/two")" ] || fail "--json - 2>&1 ($how): left $(ls -A "$W/two")"
done
# /dev/null as standard error is shared without harm, as a terminal
"$MV" run "${LM[@]}" --json - --csv /dev/stderr >"$W/doc.json" 2>/dev/null ||
    fail "--json - --csv /dev/stderr 2>/dev/null: exit $?"
grep -q '"memvirt"' "$W/doc.json" || fail "--json - --csv /dev/stderr 2>/dev/null: no document"

# a trace's -o on standard error's file: trace record and trace import
# write their messages there, and record the program's output, whatever
# takes standard output (refused before any recorder starts: no perf needed)
printf '%s\n' '100 1700000000.000001 execve("/bin/true", ["/bin/true"], 0x7ffe /* 1 var */) = 0' \
    '100 1700000000.000002 exit_group(0) = ?' '100 1700000000.000003 +++ exited with 0 +++' >"$W/s.log"
"$MV" trace import --from strace "$W/s.log" -o "$W/s.mvt" 2>/dev/null || fail "the strace log does not import"
SHARED="is standard error's file, which gets memvirt's messages"
for how in /dev/stderr /proc/self/fd/2 file; do
    o=$how
    [ $how = file ] && o=$tmp/stderr
    expect_bad "trace record -o $how (standard error's file)" "-o '$o' $SHARED and the program's output" \
        trace record -o "$o" -- /bin/true
    expect_bad "trace import -o $how (standard error's file)" "-o '$o' $SHARED" \
        trace import --from strace "$W/s.log" -o "$o"
done
# the trace on standard output, which is standard error's file (2>&1): a log, a pipe
for cmd in "record -o /dev/stdout -- /bin/echo hello" "import --from strace $W/s.log -o /dev/stdout"; do
    for how in log pipe; do
        if [ $how = log ]; then
            # shellcheck disable=SC2086
            "$MV" trace $cmd >"$W/both" 2>&1; rc=$?
        else
            # shellcheck disable=SC2086
            "$MV" trace $cmd 2>&1 | cat >"$W/both"; rc=${PIPESTATUS[0]}
        fi
        [ "$rc" -eq 2 ] || fail "trace $cmd 2>&1 ($how): exit $rc, expected 2: $(head -c 200 "$W/both")"
        [ "$(wc -l <"$W/both")" -eq 1 ] && grep -q "^memvirt: -o '/dev/stdout' $SHARED" "$W/both" ||
            fail "trace $cmd 2>&1 ($how): $(head -c 300 "$W/both" | tr -cd '[:print:]\n')"
    done
done
# /dev/null as standard error takes nothing from the trace
"$MV" trace import --from strace "$W/s.log" -o /dev/stderr 2>/dev/null ||
    fail "trace import -o /dev/stderr 2>/dev/null: exit $?"
"$MV" trace import --from strace "$W/s.log" -o /dev/stdout 2>/dev/null | cmp -s - "$W/s.mvt" ||
    fail "trace import -o /dev/stdout 2>/dev/null: not the trace"

# the file the recorded program reads as its standard input is an input
cp "$W/s.log" "$out/in.txt"
"$MV" trace record -o "$out/in.txt" -- /bin/cat <"$out/in.txt" >"$tmp/stdout" 2>"$tmp/stderr"
rc=$?
[ "$rc" -eq 2 ] || fail "trace record -o (its standard input): exit $rc, expected 2: $(head -c 300 "$tmp/stderr")"
[ "$(wc -l <"$tmp/stderr")" -eq 1 ] && grep -q "^memvirt: -o '$out/in.txt' is the program's standard input '/dev/stdin', \
an input of this command" "$tmp/stderr" || fail "trace record -o (its standard input): $(cat "$tmp/stderr")"
cmp -s "$out/in.txt" "$W/s.log" || fail "trace record -o (its standard input): the file was replaced"

# a CPU-time limit ends a long run: its temporary goes with it
mkdir -p "$W/x"
( (ulimit -S -t 1 && exec "$MV" run --workload memwalk --param memwalk.refs=1000000000000 --quiet \
    --json "$W/x/a.json") >/dev/null 2>&1; echo $? >"$W/rc") 2>/dev/null   # no job message from bash
rc=$(cat "$W/rc")
[ "$rc" -eq $((128 + 24)) ] || fail "SIGXCPU: exit $rc, expected 152"
[ -z "$(ls -A "$W/x")" ] || fail "SIGXCPU: left $(ls -A "$W/x")"

# SIGPIPE while the run waits for a FIFO's reader ends the process
mkfifo "$W/fifo"
"$MV" run --workload lmbench --param lmbench.iterations=2 --quiet --json "$W/fifo" >/dev/null 2>&1 &
pid=$!
for _ in $(seq 200); do   # until it waits in open() for a reader
    grep -q fifo "/proc/$pid/wchan" 2>/dev/null && break
    sleep 0.05
done
kill -PIPE "$pid" 2>/dev/null
for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$pid" 2>/dev/null; then
    fail "SIGPIPE while a FIFO's reader is awaited: the process is still there"
else
    wait "$pid"
    rc=$?
    [ "$rc" -eq $((128 + 13)) ] || fail "SIGPIPE while a FIFO's reader is awaited: exit $rc, expected 141"
fi
pid=

# threads a process limit refuses (as an unprivileged user: root is not
# limited): the runs go on, with the same output as one thread's
# (a copy of the binary in this test's directory, which that user can
# reach: the checkout may be in a private one)
as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups bash -c "$1" sh "${@:2}"; }
cp "$MV" "$tmp/memvirt" && chmod 755 "$tmp/memvirt"
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null &&
    as_nobody 'exec "$@"' "$tmp/memvirt" --version >/dev/null 2>&1; then
    THR=(compare --modes native,pv,hap --workload forkstorm --param forkstorm.minutes=0.05 --quiet)
    "$MV" "${THR[@]}" -j 1 >"$W/one.txt" 2>&1 || fail "threads: the serial compare failed"
    as_nobody 'ulimit -u 1 && exec "$@"' "$tmp/memvirt" "${THR[@]}" -j 3 >"$W/limited.txt" 2>&1
    rc=$?
    [ "$rc" -eq 0 ] || fail "threads refused: exit $rc: $(tail -2 "$W/limited.txt")"
    cmp -s "$W/one.txt" "$W/limited.txt" || fail "threads refused: the output differs from one thread's"
fi

finish outputs_stdio.sh

#!/usr/bin/env bash
# sweep_stop.sh: a sweep is stopped by a signal to memvirt even when GNU
# parallel does not stop. Under `ulimit -u` a parallel that could not fork
# retried for ever and took no notice of TERM or INT, which memvirt passes
# on to it: the sweep never ended. The first TERM is passed on as before;
# a second one kills parallel, and memvirt says what became of the sweep.
# Here a stand-in for parallel that ignores TERM, INT and HUP, found first
# on PATH, plays the stuck one. And parallel killed by a signal of its own
# is said.
#
# usage: bash sweep_stop.sh /path/to/memvirt
set -u
MV=${1:?usage: sweep_stop.sh /path/to/memvirt}
[ -x "$MV" ] || { echo "sweep_stop.sh: '$MV' is not an executable" >&2; exit 1; }
MV=$(cd "$(dirname "$MV")" && pwd)/$(basename "$MV")
tmp=$(mktemp -d "${TMPDIR:-/tmp}/memvirt-sweep-stop.XXXXXX") || exit 1
# On the way out, whatever a failed check left running goes too: the
# background memvirt, the stand-in parallel, and any process whose command
# line names this directory (the real parallel, its `sweep one`).
pid=
cleanup() {
    [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
    [ -s "$tmp/parallel.pid" ] && kill -KILL "$(cat "$tmp/parallel.pid")" 2>/dev/null
    pkill -KILL -f "$tmp" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
die() { echo "FAIL: $*" >&2; exit 1; }
cd "$tmp" || exit 1

mkdir bin
# (exec keeps the ignored signals: only KILL ends it)
printf '#!/bin/sh\ntrap "" TERM INT HUP\necho $$ > "%s/parallel.pid"\nexec sleep 600\n' "$tmp" > bin/parallel
chmod +x bin/parallel

PATH="$tmp/bin:$PATH" "$MV" sweep /dev/null --set mode=native,pv --set workload=lmbench \
    --set lmbench.iterations=2 --out s.runs -j 2 2>err &
pid=$!
for _ in $(seq 100); do [ -s parallel.pid ] && break; sleep 0.1; done
[ -s parallel.pid ] || die "the stand-in parallel never started: $(cat err)"
ppid_=$(cat parallel.pid)
kill -TERM "$pid"
sleep 1
kill -0 "$pid" 2>/dev/null || die "memvirt ended on one TERM though parallel did not: $(cat err)"
kill -TERM "$pid"
for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$pid" 2>/dev/null && { kill -KILL "$pid"; die "a second TERM did not end the sweep"; }
wait "$pid"
rc=$?
pid=   # (ended: its number may be another process's by the exit)
[ "$rc" -eq 143 ] || die "exit status $rc, expected 143 (128 + TERM): $(cat err)"
grep -q "^sweep: interrupted (Terminated): 2 runs: 0 finished now, 0 before, 2 without a result" err \
    || die "what became of the sweep: $(cat err)"
sleep 0.2
kill -0 "$ppid_" 2>/dev/null && die "the stand-in parallel was left running"
rm parallel.pid   # (its pid may be another process's by the end)

# with the real parallel, a run it started ends with it: two signals at once
# (TERM and HUP) killed parallel and left its `sweep one` running on as an orphan, which
# wrote its result after memvirt had said the sweep was stopped
"$MV" sweep /dev/null --set mode=native --set workload=memwalk --set memwalk.refs=400000000 \
    --out long.runs -j 1 2>err &
pid=$!
for _ in $(seq 200); do pgrep -f "sweep one $tmp/long.runs" >/dev/null && break; sleep 0.1; done
pgrep -f "sweep one $tmp/long.runs" >/dev/null || die "the long run never started: $(cat err)"
kill -TERM "$pid"; kill -HUP "$pid"   # (two TERMs may arrive as one; INT is ignored in a background job)
for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$pid" 2>/dev/null && { kill -KILL "$pid"; die "TERM and HUP did not end the sweep"; }
wait "$pid"
pid=
for _ in $(seq 50); do pgrep -f "sweep one $tmp/long.runs" >/dev/null || break; sleep 0.1; done
pgrep -f "sweep one $tmp/long.runs" >/dev/null && { pkill -KILL -f "sweep one $tmp/long.runs"; \
    die "a run of the stopped sweep was left running"; }

# parallel killed by a signal of its own, a file-size limit's SIGXFSZ: said
# (the summary pointed at "the messages above", and there were none)
(ulimit -f 1; exec "$MV" sweep /dev/null --set mode=native,pv --set workload=lmbench --set lmbench.iterations=2 \
    --out f.runs -j 2) 2>err
rc=$?
[ "$rc" -eq 1 ] && grep -q "^memvirt: warning: sweep: parallel was killed by signal 25 (File size limit exceeded)" err \
    || die "parallel killed by SIGXFSZ: exit $rc: $(cat err)"
echo "sweep_stop.sh: all checks passed"

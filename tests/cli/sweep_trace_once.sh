#!/usr/bin/env bash
# sweep_trace_once.sh: planning a sweep validates every run it plans, and a
# trace's validation reads all its records: with workload=trace each run
# read the whole trace again (a 22 MB trace, seed=1..80: 8.5 s to --list).
# The validation is now memoized per file (identity, modification time and
# digest) within the process: the trace file is read as often for 40 runs
# as for one. Counted with strace (the read calls on the trace file);
# skipped (77) where strace cannot trace.
#
# usage: bash sweep_trace_once.sh /path/to/memvirt
set -u
MV=${1:?usage: sweep_trace_once.sh /path/to/memvirt}
[ -x "$MV" ] || { echo "sweep_trace_once.sh: '$MV' is not an executable" >&2; exit 1; }
MV=$(cd "$(dirname "$MV")" && pwd)/$(basename "$MV")
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"   # LeakSanitizer does not work under ptrace
SRCDIR=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/memvirt-sweep-trace.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
die() { echo "FAIL: $*" >&2; exit 1; }
cd "$tmp" || exit 1
command -v strace >/dev/null && strace -f -o /dev/null true 2>/dev/null || { echo "no strace: skipped"; exit 77; }
cp "$SRCDIR/tests/data/make.mvt" t.mvt

reads() {   # reads of t.mvt planning a sweep of seeds 1..$1
    printf 'mode=native\nworkload=trace\ntrace.file=t.mvt\nseed=1..%s\n' "$1" > s.sweep
    strace -f -y -e trace=read,pread64 -o st "$MV" sweep s.sweep --list --out s.runs >out 2>err \
        || die "sweep of $1 runs: $(cat err)"
    [ "$(wc -l < out)" -eq "$1" ] || die "sweep of $1 runs lists $(wc -l < out)"
    grep -c "t\.mvt>" st
}
one=$(reads 1)
forty=$(reads 40)
[ "$one" -gt 0 ] || die "no read of the trace counted: $(head -5 st)"
[ "$forty" -eq "$one" ] || die "the trace is read $forty times for 40 runs, $one for one"

echo "sweep_trace_once: ok"

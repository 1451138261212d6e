#!/usr/bin/env bash
# outputs_pipe.sh: the table of compare/run written to a reader gone
# (`memvirt compare | head -1`) killed memvirt by SIGPIPE (exit 141); it is
# the documented "a table that could not be written", exit 1 with one line,
# with -j 1 and -j 2 alike (memvirt ignores SIGPIPE: the write fails with
# EPIPE). And with --json - the table goes to standard error: a standard
# error that cannot take it (closed, /dev/full) is exit 1 too, and no
# result is written, where it was exit 0 with the table silently dropped.
# Every other command that writes to standard output the same (an attack
# round: `memvirt list | true`, `memvirt sweep X --list | true` and a large
# `memvirt trace info T | true` died by SIGPIPE, exit 141, no word): exit 1
# and the one line "memvirt: standard output: cannot write: Broken pipe".
# The programs memvirt starts (Python, the recorded program) find SIGPIPE
# at its default, not ignored as memvirt has it.
#
# usage: bash outputs_pipe.sh /path/to/memvirt
set -u
MV=${1:?usage: outputs_pipe.sh /path/to/memvirt}
[ -x "$MV" ] || { echo "outputs_pipe.sh: '$MV' is not an executable" >&2; exit 1; }
MV=$(cd "$(dirname "$MV")" && pwd)/$(basename "$MV")
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/memvirt-pipe.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
die() { echo "FAIL: $*" >&2; exit 1; }
cd "$tmp" || exit 1
RUN=(--workload lmbench --param lmbench.iterations=2)

# standard output a pipe whose reader is gone before memvirt starts (no race)
gone() {
    /usr/bin/python3 - "$@" <<'PY'
import os, subprocess, sys
r, w = os.pipe()
os.close(r)
p = subprocess.run(sys.argv[1:], stdout=w, stderr=subprocess.PIPE)   # SIGPIPE at its default in the child
sys.stderr.buffer.write(p.stderr)
sys.exit(128 - p.returncode if p.returncode < 0 else p.returncode)
PY
}
for j in 1 2; do
    gone "$MV" compare "${RUN[@]}" -j $j 2>err; rc=$?
    [ "$rc" -eq 1 ] || die "compare -j $j to a reader gone: exit $rc, expected 1: $(cat err)"
    [ "$(cat err)" = "memvirt: standard output: cannot write: Broken pipe" ] || die "compare -j $j: $(cat err)"
done
gone "$MV" run --mode pv "${RUN[@]}" --json r.json 2>err; rc=$?
[ "$rc" -eq 1 ] && [ ! -e r.json ] || die "run to a reader gone: exit $rc, r.json $(ls r.json 2>&1): $(cat err)"

# --json -: the table on standard error
"$MV" compare "${RUN[@]}" --json - >out 2>&-; rc=$?
[ "$rc" -eq 1 ] || die "compare --json - 2>&-: exit $rc, expected 1"
[ ! -s out ] || die "compare --json - 2>&-: the result was written without its table"
"$MV" compare "${RUN[@]}" --json - >out 2>/dev/full; rc=$?
[ "$rc" -eq 1 ] && [ ! -s out ] || die "compare --json - 2>/dev/full: exit $rc, $(wc -c < out) bytes out"
"$MV" compare "${RUN[@]}" --json - >out 2>err || die "compare --json -: $(cat err)"
grep -q "^workload lmbench" err && grep -q '"memvirt"' out || die "compare --json -: the table or the result missing"
# a warning that failed before the table is not the table's failure
"$MV" run --mode pv "${RUN[@]}" --json x.json 2>/dev/full >/dev/null || die "a full standard error with the table on stdout"
# every command writing to a reader gone: exit 1, the one line (each writes
# more than a pipe's 4 KiB buffer, so that the write fails before the end)
printf 'mode = pv\nworkload = lmbench\nseed = 0..9999\n' >big.sweep
python3 - >big.log <<'PY'   # one process exec'ing 300 programs: a line each in trace info
for i in range(300):
    print('100 %d.000000 execve("/usr/bin/prog%d", ["prog"], 0x7ffc9f939eb0 /* 37 vars */) = 0' % (1796066919 + i, i))
print("100 1796067919.000000 exit_group(0) = ?")
print("100 1796067919.000001 +++ exited with 0 +++")
PY
"$MV" trace import --from strace big.log -o big.mvt 2>err || die "trace import big.log: $(cat err)"
for c in "list" "sweep big.sweep --list --out big.runs" "trace info big.mvt" "--help"; do
    read -ra args <<<"$c"
    [ "$("$MV" "${args[@]}" 2>err | wc -c)" -gt 4096 ] || [ "$c" = --help ] || die "$c: not above 4 KiB: $(cat err)"
    gone "$MV" "${args[@]}" 2>err; rc=$?
    [ "$rc" -eq 1 ] || die "$c to a reader gone: exit $rc, expected 1: $(cat err)"
    [ "$(cat err)" = "memvirt: standard output: cannot write: Broken pipe" ] || die "$c to a reader gone: $(cat err)"
done
[ ! -e big.runs ] || die "sweep --list made its directory"

# the programs memvirt starts find SIGPIPE at its default (SigIgn's bit 12
# clear), as memvirt found it: Python (MEMVIRT_PYTHON, here a shell script
# that reads nothing)
printf '#!/bin/sh\ngrep ^SigIgn: /proc/self/status\n' >py.sh && chmod +x py.sh
MEMVIRT_PYTHON=$PWD/py.sh "$MV" report any.json -o x.html >out 2>err || die "report through py.sh: $(cat err)"
mask=$(awk '/^SigIgn:/{print $2}' out)
[ -n "$mask" ] || die "no SigIgn line from py.sh: $(cat out err)"
(( 0x$mask & 0x1000 )) && die "the Python memvirt starts inherits an ignored SIGPIPE (SigIgn $mask)"
# and the recorded program (where perf and strace can record here)
if perf record -q -e page-faults -c 1 -d -e exceptions:page_fault_user -o probe.data true >/dev/null 2>&1 &&
    strace -f --seccomp-bpf -o /dev/null true 2>/dev/null; then
    "$MV" trace record -o rec.mvt -- /bin/sh -c 'grep ^SigIgn: /proc/self/status' >out 2>err || die "trace record: $(cat err)"
    mask=$(awk '/^SigIgn:/{print $2}' out)
    [ -n "$mask" ] || die "no SigIgn line from the recorded program: $(cat out err)"
    (( 0x$mask & 0x1000 )) && die "the recorded program inherits an ignored SIGPIPE (SigIgn $mask)"
fi
echo "outputs_pipe: ok"

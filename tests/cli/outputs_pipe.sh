#!/usr/bin/env bash
# outputs_pipe.sh: the table of compare/run written to a reader gone
# (`memvirt compare | head -1`) killed memvirt by SIGPIPE (exit 141); it is
# the documented "a table that could not be written", exit 1 with one line,
# with -j 1 and -j 2 alike (SIGPIPE is ignored while the table is written,
# as while outputs are committed). And with --json - the table goes to
# standard error: a standard error that cannot take it (closed, /dev/full)
# is exit 1 too, and no result is written, where it was exit 0 with the
# table silently dropped.
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
echo "outputs_pipe: ok"

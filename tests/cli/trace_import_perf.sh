#!/usr/bin/env bash
# trace_import_perf.sh: `memvirt trace import --from perf` of perf.data files,
# each read through its own `perf script`: the status of every one is
# checked, however many files (from the 5th on they were ignored, and a
# corrupt 5th file gave a trace and exit 0); the first failure is the one
# error line, naming its file, and nothing is written; a later file that
# cannot be opened is one line too (a perf script left unread added "exit
# status -1"), and does not hang on perf scripts with more to write. A
# perf.data on a FIFO is refused (perf script, reopening it, hung). perf
# missing from PATH is the host's failure, exit 1 (an attack round: it was
# 2, as if the perf.data were bad).
# Skips (exit 77) only if perf truly cannot record here.
#
# usage: bash trace_import_perf.sh /path/to/memvirt
set -u
MV=${1:?usage: trace_import_perf.sh /path/to/memvirt}
[ -x "$MV" ] || { echo "trace_import_perf.sh: '$MV' is not an executable" >&2; exit 1; }
MV=$(cd "$(dirname "$MV")" && pwd)/$(basename "$MV")
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/memvirt-perfimp.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
cd "$tmp" || exit 1

# small recordings of real programs; a larger one (more than a pipe holds)
rec() { perf record -q -e page-faults -c 1 -d -o "$1" "${@:2}" >/dev/null 2>"$tmp/probe.err"; }
if ! rec p1.data true; then
    echo "SKIP: perf cannot record page faults here: $(head -c 300 "$tmp/probe.err")"
    exit 77
fi
for i in 2 3 4 5; do rec p$i.data true || { fail "perf record p$i.data: $(cat probe.err)"; exit 1; }; done
rec big.data dd if=/dev/zero of=/dev/null bs=8M count=1 || { fail "perf record big.data: $(cat probe.err)"; exit 1; }
cp big.data big2.data   # another file (one given twice is refused)
# a perf.data perf script refuses (its magic, then no header it can read)
{ printf 'PERFILE2'; head -c 5000 /dev/zero | tr '\0' 'x'; } > bad.data
perf script -i bad.data >/dev/null 2>&1 && { fail "perf script reads bad.data: the test needs a file it refuses"; exit 1; }

# bad IMPORT-ARGS... : exit 2, one line (grep pattern), no output left
bad() {
    local what=$1 want=$2; shift 2
    rm -f out.mvt
    timeout 120 "$MV" trace import --from perf "$@" -o out.mvt >out 2>err
    local rc=$?
    [ "$rc" -eq 2 ] || { fail "$what: exit $rc, expected 2: $(cat err)"; return; }
    [ "$(wc -l < err)" -eq 1 ] || fail "$what: expected one error line, got: $(cat err)"
    grep -q -- "$want" err || fail "$what: expected '$want', got: $(cat err)"
    [ ! -e out.mvt ] || fail "$what: wrote out.mvt"
    [ -z "$(ls -A | grep -v '^\(p[0-9]\|big2\?\|bad\)\.data$\|^out$\|^err$\|^probe.err$')" ] \
        || fail "$what: left files behind: $(ls -A)"
}
msg="perf script on 'bad.data' failed (exit status [0-9]*): not a perf.data it can read"
bad "a corrupt 5th file"           "$msg" p1.data p2.data p3.data p4.data bad.data
bad "a corrupt 6th file"           "$msg" p1.data p2.data p3.data p4.data p5.data bad.data
bad "a corrupt 1st file"           "$msg" bad.data p1.data p2.data
bad "a corrupt 1st of large files" "$msg" bad.data big.data big2.data
bad "a missing 2nd file"           "cannot open 'missing.data'" p1.data missing.data
bad "a missing 3rd file after large ones" "cannot open 'missing.data'" big.data big2.data missing.data

# a perf.data on a FIFO: perf script would open it again by name (it waited
# forever, and was left behind): refused, one line
mkfifo fifo.data
cat p1.data > fifo.data 2>/dev/null &
writer=$!
timeout 20 "$MV" trace import --from perf "$tmp/fifo.data" -o out.mvt >out 2>err
rc=$?
[ "$rc" -eq 2 ] || fail "a perf.data on a FIFO: exit $rc, expected 2: $(cat err)"
[ "$(wc -l < err)" -eq 1 ] && grep -q "'$tmp/fifo.data': a perf.data must be a regular file" err \
    || fail "a perf.data on a FIFO: $(cat err)"
[ ! -e out.mvt ] || fail "a perf.data on a FIFO: wrote out.mvt"
sleep 0.2
# (the path is this test's own: no other process matches it)
pgrep -f "perf script -i $tmp/fifo.data" >/dev/null \
    && { fail "a perf.data on a FIFO: perf script left behind"; pkill -f "perf script -i $tmp/fifo.data"; }
kill "$writer" 2>/dev/null; wait "$writer" 2>/dev/null
rm -f fifo.data

# perf not on PATH: the host's failure, not the perf.data's: exit 1, one line
PATH=/nonexistent "$MV" trace import --from perf p1.data -o out.mvt >out 2>err
rc=$?
[ "$rc" -eq 1 ] || fail "perf missing: exit $rc, expected 1: $(cat err)"
[ "$(wc -l < err)" -eq 1 ] && grep -q "^memvirt: perf script on 'p1.data' failed: cannot run perf (scripts/setup" err \
    || fail "perf missing: $(cat err)"
[ ! -e out.mvt ] || fail "perf missing: wrote out.mvt"

# five and more good files import whole
"$MV" trace import --from perf p1.data p2.data p3.data p4.data p5.data big.data -o six.mvt 2>err \
    || fail "six good perf.data files: $(cat err)"
[ -s six.mvt ] || fail "six good perf.data files: no trace"

[ "$failures" -eq 0 ] || { echo "trace_import_perf.sh: $failures failures" >&2; exit 1; }
echo "trace_import_perf.sh: all checks passed"

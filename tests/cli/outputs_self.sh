#!/usr/bin/env bash
# outputs_self.sh: no output may be the program that is running. An output
# renamed over the memvirt binary replaced it (`memvirt run --json memvirt`
# exited 0 and left no program; writing in place would fail with ETXTBSY,
# the rename does not). Every writer refuses it before any work, exit 2,
# one line naming the option and the binary, the binary intact:
#   run --json/--csv, compare, rerun, trace import -o, trace record -o,
#   calibrate -o (through lib/outfile, every output set), by its own name,
#   a symbolic link and a hard link; report -o and sweep merge --json
#   (Python's check_outputs: the binary, memvirt's scripts, the interpreter)
# and the programs a command runs are its inputs: trace record's recorders
# (perf and strace, found on the PATH) and trace import's perf.
#
# usage: bash outputs_self.sh /path/to/memvirt
set -u
MV0=${1:?usage: outputs_self.sh /path/to/memvirt}
MV0=$(cd "$(dirname "$MV0")" && pwd)/$(basename "$MV0")
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
src=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/memvirt-self.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
# the binary under test is a copy (MV), the one that must survive; so are
# the scripts it runs (a check that failed would overwrite the source tree's)
MV="$tmp/mvcopy"
cp "$MV0" "$MV" && cp "$MV" "$tmp/orig"
mkdir "$tmp/py" && cp "$src"/src/py/*.py "$tmp/py/"
export MEMVIRT_PYDIR="$tmp/py"
. "$(dirname "$0")/lib/expect.sh"
cd "$tmp" || exit 1

intact() { cmp -s "$MV" "$tmp/orig" || { fail "$1: the binary was changed"; cp "$tmp/orig" "$MV"; }; }
SELF="is the memvirt binary '$MV' that is running"
LM=(--workload lmbench --param lmbench.iterations=2 --quiet)

"$MV" run "${LM[@]}" --json r.json >/dev/null 2>&1 || fail "reference run failed"
printf '100 1796089100.449585 execve("/bin/true", ["true"], 0x7ffc4148a1c0 /* 37 vars */) = 0\n' > t.strace

expect_bad "run --json" "--json '$MV' $SELF" run "${LM[@]}" --json "$MV"; intact "run --json"
expect_bad "run --csv" "--csv '$MV' $SELF" run "${LM[@]}" --csv "$MV"; intact "run --csv"
expect_bad "compare --json" "--json '$MV' $SELF" compare --modes native,hap "${LM[@]}" --json "$MV"
intact "compare --json"
expect_bad "rerun --json" "--json '$MV' $SELF" rerun r.json --quiet --json "$MV"; intact "rerun --json"
expect_bad "trace import -o" "-o '$MV' $SELF" trace import --from strace t.strace -o "$MV"; intact "trace import"
expect_bad "trace record -o" "-o '$MV' $SELF" trace record -o "$MV" -- /bin/true; intact "trace record"
expect_bad "calibrate -o" "-o '$MV' $SELF" calibrate -o "$MV"; intact "calibrate -o"
ln -s "$MV" link
expect_bad "run --json LINK" "--json 'link' $SELF" run "${LM[@]}" --json link; intact "run --json LINK"
ln "$MV" hard
expect_bad "run --json HARDLINK" "--json 'hard' $SELF" run "${LM[@]}" --json hard; intact "run --json HARDLINK"
rm -f hard

# the Python commands (they need python3; report needs matplotlib only later)
if [ -x /usr/bin/python3 ] || command -v python3 >/dev/null; then
    expect_bad "report -o" "report: -o '$MV' $SELF" report r.json -o "$MV"; intact "report -o"
    expect_bad "report -o its script" "report: -o 'py/report.py' is memvirt's script '$tmp/py/report.py'" \
        report r.json -o py/report.py
    cmp -s py/report.py "$src/src/py/report.py" || fail "report -o its script: the script was changed"
    # a sweep's manifest and one result, as `memvirt sweep` leaves them (merge reads the manifest first)
    printf 'mode = native\nworkload = lmbench\nlmbench.iterations = 2\n' > s.sweep
    if command -v parallel >/dev/null && "$MV" sweep s.sweep --out sw -j 1 >/dev/null 2>&1; then
        expect_bad "sweep merge --json" "sweep merge: --json '$MV' $SELF" sweep merge sw --json "$MV"
        intact "sweep merge"
        # an empty name is refused as every other command refuses it (it
        # was taken as 'not given': the default file written, exit 0)
        for opt in --json --csv; do
            expect_bad "sweep merge $opt ''" "sweep merge: $opt: empty file name" sweep merge sw "$opt" ''
            [ -e sw/merged.json ] || [ -e sw/merged.csv ] && fail "sweep merge $opt '': wrote the default file"
        done
    fi
fi

# the programs a command runs are its inputs (stand-ins first on the PATH)
mkdir bin && cp /bin/true bin/strace && cp /bin/true bin/perf && cp /bin/true bin/valgrind
export PATH="$tmp/bin:$PATH"
expect_bad "trace record -o strace" "-o '$tmp/bin/strace' is the recorder '$tmp/bin/strace'" \
    trace record -o "$tmp/bin/strace" -- /bin/true
expect_bad "trace record -o perf" "-o 'bin/perf' is the recorder '$tmp/bin/perf'" trace record -o bin/perf -- /bin/true
expect_bad "trace record --refs all -o valgrind" "is the recorder '$tmp/bin/valgrind'" \
    trace record --refs all -o bin/valgrind -- /bin/true
expect_bad "trace import --from perf -o perf" "-o 'bin/perf' is the perf program '$tmp/bin/perf'" \
    trace import --from perf t.strace -o bin/perf
cmp -s bin/strace /bin/true && cmp -s bin/perf /bin/true && cmp -s bin/valgrind /bin/true ||
    fail "a recorder was changed"

finish outputs_self

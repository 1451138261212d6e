#!/usr/bin/env bash
# progress.sh: the progress display on a terminal (sim/progress.c), run
# under a pseudo-terminal by script(1). The table on standard output is
# the same byte for byte as without a terminal; compare with two jobs
# shows one line for its runs (it showed none) with the time left; the
# line is cleared at the end, so the terminal is left clean; --quiet
# shows nothing; a sweep shows GNU parallel's bar. The line appears after a second, so where a run is
# over sooner (a fast host) only what does not depend on time is checked.
#
# usage: bash progress.sh /path/to/memvirt
set -u
MV=${1:?usage: progress.sh /path/to/memvirt}
[ -x "$MV" ] || { echo "progress.sh: '$MV' is not an executable" >&2; exit 1; }
MV=$(cd "$(dirname "$MV")" && pwd)/$(basename "$MV")
command -v script >/dev/null || { echo "progress.sh: no script(1) here: skipped"; exit 0; }
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/memvirt-progress.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

# on_tty NAME ARGS...: memvirt ARGS with standard error a terminal and
# standard output $tmp/NAME.out; what the terminal got in $tmp/NAME.tty,
# the wall seconds in $tmp/NAME.secs
on_tty() {
    local name=$1
    shift
    local q
    q=$(printf '%q ' "$MV" "$@")
    local t0 t1
    t0=$(date +%s.%N)
    script -qfec "$q >$(printf %q "$tmp/$name.out")" "$tmp/$name.tty" >/dev/null 2>&1 </dev/null
    local rc=$?
    t1=$(date +%s.%N)
    echo "$t0 $t1" | awk '{ printf "%.1f\n", $2 - $1 }' >"$tmp/$name.secs"
    [ "$rc" -eq 0 ] || fail "$name: exit status $rc under a terminal"
}
# the terminal's bytes after script's own first line, if it writes one
tty_bytes() { sed '1{/^Script started/d}; ${/^Script done/d}' "$tmp/$1.tty"; }
long() { awk '{ exit !($1 >= 1.6) }' "$tmp/$1.secs"; }

CMP=(compare --workload forkstorm --param forkstorm.minutes=2 --jobs 2)
on_tty cmp "${CMP[@]}"
"$MV" "${CMP[@]}" >"$tmp/cmp.plain" 2>"$tmp/cmp.err" || fail "compare without a terminal failed"
cmp -s "$tmp/cmp.out" "$tmp/cmp.plain" || fail "compare: the table differs under a terminal"
[ -s "$tmp/cmp.err" ] && fail "compare without a terminal wrote to stderr: $(head -c 300 "$tmp/cmp.err")"
tty_bytes cmp >"$tmp/cmp.bytes"
if [ -n "$(tr -d '\n' <"$tmp/cmp.bytes")" ]; then
    # whatever was drawn ends cleared (script(1) may end the file with a newline)
    tr -d '\n' <"$tmp/cmp.bytes" | tail -c 4 | od -An -c | tr -d ' \n' | grep -qx '\\r033\[K' ||
        fail "compare: the terminal is not left cleared: $(tail -c 80 "$tmp/cmp.bytes" | od -An -c | tr -s ' ')"
fi
if long cmp; then
    grep -aq "forkstorm  [0-9] of 7 done" "$tmp/cmp.bytes" ||
        fail "compare --jobs 2 over $(cat "$tmp/cmp.secs") s showed no progress line: $(head -c 300 "$tmp/cmp.bytes")"
    grep -aEq "(about [0-9][0-9a-z]* left|under a second left)" "$tmp/cmp.bytes" ||
        fail "compare: no estimate of the time left: $(head -c 300 "$tmp/cmp.bytes")"
else
    echo "progress.sh: compare took $(cat "$tmp/cmp.secs") s: its line not checked"
fi

RUN=(run --mode native --workload memwalk --param memwalk.ws_mb=1024 --param memwalk.pattern=random
     --param memwalk.refs=40M)
on_tty run "${RUN[@]}"
"$MV" "${RUN[@]}" >"$tmp/run.plain" 2>/dev/null || fail "run without a terminal failed"
cmp -s "$tmp/run.out" "$tmp/run.plain" || fail "run: the table differs under a terminal"
if long run; then
    grep -aEq "native +memwalk +[0-9. ]+%  sim [0-9.]+s  [0-9]+ refs" "$tmp/run.tty" ||
        fail "run over $(cat "$tmp/run.secs") s showed no progress line: $(head -c 300 "$tmp/run.tty")"
else
    echo "progress.sh: run took $(cat "$tmp/run.secs") s: its line not checked"
fi

on_tty quiet "${RUN[@]}" --quiet
cmp -s "$tmp/quiet.out" "$tmp/run.plain" || fail "run --quiet: the table differs under a terminal"
[ -z "$(tty_bytes quiet | tr -d '\n')" ] || fail "run --quiet wrote to the terminal: $(tty_bytes quiet | head -c 300)"

# a sweep on a terminal: GNU parallel's progress bar (runs done, time
# left); elsewhere none
if command -v parallel >/dev/null; then
    SW=(sweep /dev/null --set mode=native,pv --set workload=lmbench --set lmbench.iterations=2 -j 2)
    on_tty sweep "${SW[@]}" --out "$tmp/a.runs"
    grep -aq "100% 2:0=" "$tmp/sweep.tty" || fail "sweep on a terminal showed no progress bar: $(head -c 300 "$tmp/sweep.tty")"
    grep -aq "sweep: 2 runs: 2 finished now" "$tmp/sweep.tty" || fail "sweep on a terminal: no summary"
    "$MV" "${SW[@]}" --out "$tmp/b.runs" >"$tmp/sweep.out" 2>"$tmp/sweep.err" || fail "sweep without a terminal failed"
    grep -q "%" "$tmp/sweep.err" && fail "sweep without a terminal drew a bar: $(head -c 300 "$tmp/sweep.err")"
fi

[ "$failures" -eq 0 ] || exit 1
echo "progress.sh: ok"

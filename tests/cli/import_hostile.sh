#!/usr/bin/env bash
# import_hostile.sh: inputs a hostile user (or a slip of the hand) gives
# `memvirt trace import`, and text from outside that reaches a message.
# - /dev/zero as a strace or perf log: a line that never ends was read for
#   ever (100% CPU, no message); now a line past 64 MiB without a newline
#   is refused: exit 2, one line naming the file and line.
# - a directory as a log was called "empty": now "is a directory", exit 2.
# - the first line lackey did not understand, and the MEMVIRT_SIMD and
#   MEMVIRT_PREFETCH warnings, echoed their bytes raw (a terminal's escape
#   sequences, bytes that are not UTF-8): now every control byte, C1
#   control and byte that is not UTF-8 is shown as \xHH, and UTF-8 text is
#   kept as it is.
# - a log of another tool beside a good one (a strace log given to --from
#   perf with a perf log): the check that some line is the tool's was made
#   over all logs together (exit 0, its lines counted as skipped); now each
#   log must have one: exit 2, one line naming the log. Two good logs pass.
# - limits the trace reader holds a trace to, which the import did not
#   check, so that it wrote traces `trace info` then refused (exit 2) or
#   could not replay (exit 1): a strace log spanning more than a week
#   (TRACE_SPAN_MAX) is refused at the line of the first event past it;
#   --mmap-min-addr above the address of the stack an exec is given
#   (140737488216064; 2^47 - 1 was taken) is refused; below it, whatever
#   imports has `trace info` succeed.
# - an output the host cannot hold, found while the logs are read (a
#   file-size limit, a full disk, under a trace too large to be held in
#   memory till the end): exit 2 as if the log were bad (an attack round);
#   now exit 1, one line naming the output, nothing left.
#
# usage: bash import_hostile.sh /path/to/memvirt
set -u
MV=${1:?usage: import_hostile.sh /path/to/memvirt}
[ -x "$MV" ] || { echo "import_hostile.sh: '$MV' is not an executable" >&2; exit 1; }
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/memvirt-hostile.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

# raw: does file $1 hold a byte a terminal would act on, or one that is
# not UTF-8? (iconv refuses what is not UTF-8; the C1 controls are U+0080
# to U+009F, encoded c2 80 to c2 9f)
raw() {
    LC_ALL=C grep -q "$(printf '[\001-\010\013-\037\177]')" "$1" && return 0
    LC_ALL=C grep -q "$(printf '\302[\200-\237]')" "$1" && return 0
    ! iconv -f UTF-8 -t UTF-8 "$1" >/dev/null 2>&1
}

# 1. endless input: refused, not read for ever
for from in strace perf; do
    timeout 120 "$MV" trace import --from "$from" /dev/zero -o "$tmp/z.mvt" 2>"$tmp/err"
    rc=$?
    [ $rc -eq 2 ] || fail "--from $from /dev/zero: exit $rc, expected 2: $(head -c 300 "$tmp/err")"
    [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q "^memvirt: /dev/zero:1: a line of more than 64 MiB" "$tmp/err" \
        || fail "--from $from /dev/zero: $(head -c 300 "$tmp/err")"
    [ -e "$tmp/z.mvt" ] && fail "--from $from /dev/zero left an output"
done
# a long line that ends is still read (its first 1 MiB): not refused for its length
{ printf 'x%.0s' $(seq 1 2000000); echo; } >"$tmp/long.log"
"$MV" trace import --from strace "$tmp/long.log" -o "$tmp/l.mvt" 2>"$tmp/err"
grep -q "64 MiB" "$tmp/err" && fail "a 2 MB line was refused as endless: $(head -c 300 "$tmp/err")"
grep -q "none of the 1 lines" "$tmp/err" || fail "a 2 MB line: $(head -c 300 "$tmp/err")"

# 2. a directory
for from in strace perf lackey; do
    "$MV" trace import --from "$from" "$tmp" -o "$tmp/d.mvt" 2>"$tmp/err"
    rc=$?
    [ $rc -eq 2 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q "'$tmp' is a directory, not a $from log" "$tmp/err" \
        || fail "--from $from DIR: exit $rc: $(cat "$tmp/err")"
done

# 3. bytes from outside, escaped in messages
python3 -c '
import random, sys
r = random.Random(7)
sys.stdout.buffer.write(bytes(r.randrange(256) for _ in range(20000)))' >"$tmp/rand.log"
"$MV" trace import --from lackey "$tmp/rand.log" -o "$tmp/r.mvt" >"$tmp/out" 2>"$tmp/err"
[ -s "$tmp/err" ] || fail "lackey, random bytes: nothing said"
raw "$tmp/err" && fail "lackey, random bytes: raw bytes in the message: $(cat -v "$tmp/err")"
grep -q '\\x' "$tmp/err" || fail "lackey, random bytes: no byte shown as \\xHH: $(cat -v "$tmp/err")"
# a line of UTF-8 text and one with a C1 control (CSI, c2 9b) and an escape
printf 'caf\303\251 na\303\257ve\n\302\233\033[31mred\n' >"$tmp/text.log"
"$MV" trace import --from lackey "$tmp/text.log" -o "$tmp/t.mvt" >"$tmp/out" 2>"$tmp/err"
raw "$tmp/err" && fail "lackey, a C1 control: raw bytes in the message: $(cat -v "$tmp/err")"
grep -q "$(printf 'caf\303\251 na\303\257ve')" "$tmp/err" || fail "lackey, UTF-8 text not kept: $(cat -v "$tmp/err")"
for var in MEMVIRT_SIMD MEMVIRT_PREFETCH; do
    env "$var=$(printf '\033[31mjunk\377\302\233')" "$MV" list modes >/dev/null 2>"$tmp/err"
    grep -q "warning: $var='\\\\x1b\[31mjunk\\\\xff\\\\xc2\\\\x9b'" "$tmp/err" \
        || fail "$var with an escape: $(cat -v "$tmp/err")"
    raw "$tmp/err" && fail "$var with an escape: raw bytes in the warning: $(cat -v "$tmp/err")"
done

# 4. one log of the wrong tool among good ones
corpus=$(cd "$(dirname "$0")/../fuzz/corpus" && pwd)
for c in "perf perf/tree.txt strace/sh.txt:strace/sh.txt" "perf strace/sh.txt perf/tree.txt:strace/sh.txt" \
         "strace strace/sh.txt lackey/sh.log:lackey/sh.log" "lackey lackey/sh.log strace/sh.txt:strace/sh.txt" \
         "strace strace/sh.txt strace/threads.txt:" "perf perf/tree.txt perf/record_head.txt:"; do
    args=${c%%:*} bad=${c#*:}
    # shellcheck disable=SC2086
    set -- $args
    from=$1
    shift
    logs=()
    for l in "$@"; do logs+=("$corpus/$l"); done
    rm -f "$tmp/m.mvt"
    "$MV" trace import --from "$from" "${logs[@]}" -o "$tmp/m.mvt" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    if [ -z "$bad" ]; then
        [ $rc -eq 0 ] && [ -s "$tmp/m.mvt" ] || fail "--from $from $*: exit $rc, expected 0: $(cat "$tmp/err")"
        continue
    fi
    [ $rc -eq 2 ] || fail "--from $from $*: exit $rc, expected 2: $(cat "$tmp/err")"
    [ "$(wc -l <"$tmp/err")" -eq 1 ] &&
        grep -q "^memvirt: trace import: none of the [0-9]* lines of '$corpus/$bad' is a $from log line, where another log given has them" "$tmp/err" \
        || fail "--from $from $*: $(cat "$tmp/err")"
    [ -e "$tmp/m.mvt" ] && fail "--from $from $*: a trace was written"
done

# the same with a blank line in the wrong log (a blank line is no tool's:
# it let such a log through), and a log of blank lines alone
{ head -3 "$corpus/lackey/sh.log"; echo; tail -n +4 "$corpus/lackey/sh.log"; } >"$tmp/blank.log"
rm -f "$tmp/m.mvt"
"$MV" trace import --from strace "$corpus/strace/sh.txt" "$tmp/blank.log" -o "$tmp/m.mvt" >"$tmp/out" 2>"$tmp/err"
rc=$?
[ $rc -eq 2 ] && grep -q "none of the [0-9]* lines of '$tmp/blank.log' is a strace log line" "$tmp/err" \
    || fail "a lackey log with a blank line as strace's: exit $rc: $(cat "$tmp/err")"
[ -e "$tmp/m.mvt" ] && fail "a lackey log with a blank line as strace's: a trace was written"
printf '\n  \n\t\n' >"$tmp/blanks"
for from in strace perf lackey; do
    "$MV" trace import --from "$from" "$tmp/blanks" -o "$tmp/m.mvt" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    [ $rc -eq 2 ] && grep -q "blanks: blank lines alone: no $from log line to import" "$tmp/err" \
        || fail "--from $from, blank lines alone: exit $rc: $(cat "$tmp/err")"
done

# 5. what the import writes, the reader takes and the replay runs
cat >"$tmp/span.strace" <<'LOG'
100 1796068568.000001 execve("/bin/x", ["x"], 0x7ffd2657570 /* 1 var */) = 0
100 1796068568.000003 mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f7c49499000
100 1796068568.000004 getpid() = 100
100 1796673368.000001 getpid() = 100
100 1796673368.000002 mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f7c49497000
100 1796673368.000004 exit_group(0)                 = ?
100 1796673368.000005 +++ exited with 0 +++
LOG
rm -f "$tmp/s.mvt"
"$MV" trace import --from strace "$tmp/span.strace" -o "$tmp/s.mvt" >"$tmp/out" 2>"$tmp/err"
rc=$?
[ $rc -eq 2 ] || fail "a log past a week: exit $rc, expected 2: $(cat "$tmp/err")"
[ "$(wc -l <"$tmp/err")" -eq 1 ] &&
    grep -q "^memvirt: $tmp/span.strace:5: an event 604800.000001 s after the first, past the longest span a trace may have (604800 s" "$tmp/err" \
    || fail "a log past a week: $(cat "$tmp/err")"
[ -e "$tmp/s.mvt" ] && fail "a log past a week: a trace was written"
# a week exactly (the last event, line 7's exit, is 604800 s after the first)
sed 's/^100 1796673368\.00000[0-9]/100 1796673368.000001/' "$tmp/span.strace" >"$tmp/week.strace"
"$MV" trace import --from strace "$tmp/week.strace" -o "$tmp/w.mvt" >"$tmp/out" 2>"$tmp/err" ||
    fail "a log of a week exactly: $(cat "$tmp/err")"
"$MV" trace info "$tmp/w.mvt" >"$tmp/out" 2>"$tmp/err" || fail "trace info of a week exactly: $(cat "$tmp/err")"

for v in 140737488355327 140737488216065; do
    rm -f "$tmp/m.mvt"
    "$MV" trace import --from strace "$corpus/strace/sh.txt" --mmap-min-addr $v -o "$tmp/m.mvt" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    [ $rc -eq 2 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] &&
        grep -q -- "^memvirt: --mmap-min-addr '$v': .*at most 140737488216064" "$tmp/err" \
        || fail "--mmap-min-addr $v: exit $rc: $(cat "$tmp/err")"
    [ -e "$tmp/m.mvt" ] && fail "--mmap-min-addr $v: a trace was written"
done
for log in "$corpus"/strace/*; do
    for v in 0 65536 139637976727552 140737488216064; do
        "$MV" trace import --from strace "$log" --mmap-min-addr $v -o "$tmp/m.mvt" >"$tmp/out" 2>"$tmp/err" || continue
        "$MV" trace info "$tmp/m.mvt" >"$tmp/out" 2>"$tmp/err" ||
            fail "$(basename "$log") imported with --mmap-min-addr $v: trace info fails: $(cat "$tmp/err")"
    done
done

# 6. the output past a file-size limit while the log is read: the host's
# limit, not the log's fault. References at scattered addresses (an LCG)
# compress little: the trace passes 64 KiB long before the log's end.
mkdir -p "$tmp/big"
{
    printf '==100== Command: /bin/big\n==100== Parent PID: 1\n==100== \n'
    awk 'BEGIN { x = 1; for (i = 0; i < 200000; i++) { x = (x * 69069 + 1) % 4294967296
        printf " L %x,8\n", 268435456 + (x % 16777216) * 8 } }'
} >"$tmp/big.lackey"
(ulimit -f 64 && exec "$MV" trace import --from lackey "$tmp/big.lackey" -o "$tmp/big/b.mvt") >/dev/null 2>"$tmp/err"
rc=$?
[ $rc -eq 1 ] || fail "an output past ulimit -f: exit $rc, expected 1: $(head -c 300 "$tmp/err")"
[ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q "^memvirt: cannot write '$tmp/big/b.mvt': File too large$" "$tmp/err" ||
    fail "an output past ulimit -f: $(head -c 300 "$tmp/err")"
[ -z "$(ls -A "$tmp/big")" ] || fail "an output past ulimit -f: left $(ls -A "$tmp/big")"
"$MV" trace import --from lackey "$tmp/big.lackey" -o "$tmp/big/b.mvt" >/dev/null 2>"$tmp/err" ||
    fail "the scattered lackey log does not import: $(head -c 300 "$tmp/err")"
[ "$(stat -c %s "$tmp/big/b.mvt")" -gt 131072 ] || fail "the scattered lackey log's trace is too small for the test"

[ $failures -eq 0 ] && echo "import_hostile.sh: all checks passed"
[ $failures -eq 0 ]

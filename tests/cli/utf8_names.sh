#!/usr/bin/env bash
# utf8_names.sh: a file name that goes into a result's JSON as given (a
# trace, a profile) must be valid UTF-8: JSON strings are UTF-8, and memvirt's
# own rerun, report and sweep merge refused a result holding a raw 0xff
# ("unable to decode byte 0xff"); a sweep's run was then "without a result"
# for ever, with no message. Refused before anything runs (exit 2, one line
# naming the option, the byte and its offset, the name shown with \xff):
#   run --trace, run --param trace.file, compare --profile
#   a sweep spec's trace.file and profile, --set, a relative trace.file that
#   becomes a name that is not UTF-8 once made absolute
# while a UTF-8 name that is not ASCII works through run and rerun, and
# trace info (which writes no JSON) still reads a file whatever its name.
#
# usage: bash utf8_names.sh /path/to/memvirt
set -u
MV=${1:?usage: utf8_names.sh /path/to/memvirt}
MV=$(cd "$(dirname "$MV")" && pwd)/$(basename "$MV")
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
src=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/memvirt-utf8.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/lib/expect.sh"
cd "$tmp" || exit 1

FF=$(printf '\xff')
FE=$(printf '\xfe')
E=$(printf '\xc3\xa9')   # é
cp "$src/tests/data/python.mvt" "t$FF.mvt"
cp "$src/tests/data/python.mvt" "t$E.mvt"
cp "$src/profiles/this-host.profile" "p$FE.profile"
RUN=(run --mode native --quiet)
LM=(--workload lmbench --param lmbench.iterations=2 --quiet)
TAIL="not valid UTF-8"

expect_bad "--trace" "--trace: 't\\xff.mvt': $TAIL (byte 0xff at offset 1)" "${RUN[@]}" --trace "t$FF.mvt" --json "$J"
expect_bad "--trace, absolute" "--trace: '$tmp/t\\xff.mvt': $TAIL" "${RUN[@]}" --trace "$tmp/t$FF.mvt" --csv "$C"
expect_bad "--param trace.file" "--param: trace.file: 't\\xff.mvt': $TAIL" \
    "${RUN[@]}" --workload trace --param "trace.file=t$FF.mvt" --json "$J"
expect_bad "compare --profile" "--profile: 'p\\xfe.profile': $TAIL (byte 0xfe at offset 1)" \
    compare --modes native,hap "${LM[@]}" --profile "p$FE.profile" --json "$J"
expect_bad "run --profile, no output" "--profile: 'p\\xfe.profile'" run "${LM[@]}" --profile "p$FE.profile"

# sweeps: at the spec's line and column, nothing planned
printf 'mode = native\nworkload = trace\ntrace.file = t\xff.mvt\n' > a.sweep
expect_bad "sweep trace.file" "a.sweep:3:14: trace.file: 't\\xff.mvt': $TAIL (byte 0xff at offset 1)" \
    sweep a.sweep --out "$out/sw"
printf 'mode = native\nworkload = lmbench\nlmbench.iterations = 2\nprofile = default, p\xfe.profile\n' > b.sweep
expect_bad "sweep profile" "b.sweep:4:20: profile: 'p\\xfe.profile': $TAIL" \
    sweep b.sweep --out "$out/sw"
printf 'mode = native\nworkload = lmbench\nlmbench.iterations = 2\n' > c.sweep
expect_bad "sweep --set profile" "--set #1:1:9: profile: '$tmp/p\\xfe.profile': $TAIL" \
    sweep c.sweep --out "$out/sw" --set "profile=$tmp/p$FE.profile"
# a UTF-8 name, relative, in a directory whose name is not: the absolute name is refused
mkdir "d$FF" && cp "$src/tests/data/python.mvt" "d$FF/t.mvt"
printf 'mode = native\nworkload = trace\ntrace.file = t.mvt\n' > d.sweep
(cd "d$FF" && "$MV" sweep ../d.sweep --out "$out/sw" >/dev/null 2>"$tmp/err")
rc=$?
[ "$rc" -eq 2 ] || fail "sweep in a directory not UTF-8: exit $rc, expected 2"
grep -q "d.sweep:3:14: trace.file 't.mvt', made absolute: '$tmp/d\\\\xff/t.mvt': $TAIL" "$tmp/err" ||
    fail "sweep in a directory not UTF-8: $(cat "$tmp/err")"

# --- a UTF-8 name that is not ASCII: kept as it is, read back by rerun -------
"$MV" "${RUN[@]}" --trace "t$E.mvt" --json "r$E.json" >/dev/null 2>"$tmp/err" || fail "run --trace t$E.mvt: $(cat "$tmp/err")"
grep -q "\"trace.file\": \"t$E.mvt\"" "r$E.json" || fail "trace.file not kept as given in r$E.json"
"$MV" rerun "r$E.json" --json again.json >/dev/null 2>"$tmp/err" || fail "rerun r$E.json: $(cat "$tmp/err")"
cmp -s <(grep -v '"revision"' "r$E.json") <(grep -v '"revision"' again.json) || fail "rerun r$E.json differs"
"$MV" run "${LM[@]}" --profile "$src/profiles/this-host.profile" --json "$out/p.json" >/dev/null 2>&1 ||
    fail "a UTF-8 profile name refused"

# --- trace info writes no JSON: any name ------------------------------------
# It reads the file whatever its name, and shows the name (and the header's
# values, the import's command line naming the logs) with every control
# character and byte that is not UTF-8 as '?': nothing reaches the terminal raw.
"$MV" trace info "t$FF.mvt" >"$tmp/info" 2>"$tmp/err" || fail "trace info t\\xff.mvt: $(cat "$tmp/err")"
grep -qx "trace t?.mvt (format version [0-9]*)" "$tmp/info" || fail "trace info t\\xff.mvt: $(head -1 "$tmp/info" | cat -A)"
ESC=$(printf '\033')
printf '==100== Command: /bin/true\n==100== Parent PID: 99\n==100== \n S 7f0000001000,8\n==100== \n' >"lk$ESC[31m.100.log"
"$MV" trace import --from lackey "lk$ESC[31m.100.log" -o "e$ESC[31m.mvt" 2>"$tmp/err" || fail "import lk\\e.100.log: $(cat "$tmp/err")"
"$MV" trace info "e$ESC[31m.mvt" >"$tmp/info" 2>"$tmp/err" || fail "trace info e\\e.mvt: $(cat "$tmp/err")"
grep -q "$ESC" "$tmp/info" && fail "trace info wrote an escape: $(cat -A "$tmp/info" | grep -F '^[')"
grep -qx "trace e?\\[31m.mvt (format version [0-9]*)" "$tmp/info" || fail "trace info e\\e.mvt: $(head -1 "$tmp/info" | cat -A)"
grep -qx "  command       memvirt trace import --from lackey lk?\\[31m.100.log" "$tmp/info" ||
    fail "trace info e\\e.mvt: the command: $(grep command "$tmp/info" | cat -A)"

finish utf8_names

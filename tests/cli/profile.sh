#!/usr/bin/env bash
# profile.sh: --profile FILE and the calibrate command's input checks.
#  - a profile file loads, changes the results as it says, and is named in
#    the table and the JSON; a status=default line does not change them;
#  - the committed profiles/this-host.profile names every cost entry;
#  - a malformed or unreadable profile is bad input: exit 2, one line naming
#    file, line and column, no output file;
#  - calibrate refuses bad options, an unwritable -o (or one not a regular
#    file, or one of its inputs) and a bad --verify profile before measuring
#    anything (exit 2, nothing written).
# No timing: calibrate itself is never run to completion here.
set -u
MV=${1:?usage: profile.sh /path/to/memvirt}
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/memvirt-profile.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

# expect_bad DESCRIPTION NEEDLE ARGS...: exit 2, one stderr line with NEEDLE, no stdout, no $tmp/out.*
expect_bad() {
    local desc=$1 needle=$2
    shift 2
    rm -f "$tmp"/out.*
    "$MV" "$@" >"$tmp/stdout" 2>"$tmp/stderr"
    local rc=$? err
    err=$(cat "$tmp/stderr")
    [ "$rc" -eq 2 ] || { fail "$desc: exit status $rc, expected 2; stderr: $err"; return; }
    [ "$(wc -l <"$tmp/stderr")" -eq 1 ] || fail "$desc: expected one line on stderr: $err"
    case "$err" in "memvirt: "*"$needle"*) ;; *) fail "$desc: message lacks '$needle': $err" ;; esac
    [ -s "$tmp/stdout" ] && fail "$desc: wrote to stdout"
    ls "$tmp"/out.* >/dev/null 2>&1 && fail "$desc: left an output file: $(ls "$tmp"/out.*)"
}

lm=(--workload lmbench --param lmbench.iterations=10 --param lmbench.warmup=1 --quiet)
P="$tmp/fast.profile"
printf '# test\nmemvirt-cost-profile 1\nhost.cpu = "test"\ncost.fork_fixed = 1000 status=fitted\n' >"$P"

"$MV" run "${lm[@]}" --json "$tmp/default.json" >"$tmp/default.txt" || fail "run with the default profile"
"$MV" run "${lm[@]}" --profile "$P" --json "$tmp/file.json" >"$tmp/file.txt" || fail "run with a profile file"
grep -q "profile $P" "$tmp/file.txt" || fail "the table does not name the profile file"
python3 - "$tmp/default.json" "$tmp/file.json" "$P" <<'PY' || fail "the profile file did not change fork latency as it says"
import json, sys
d, f = (json.load(open(p)) for p in sys.argv[1:3])
assert f["profile"] == sys.argv[3], f["profile"]
m = lambda j: j["runs"][0]["metrics"]["lat_fork_exit_us"]
# fork_fixed 60000 -> 1000 cycles at 2.4 GHz: 24.583 us less per fork+exit
assert abs((m(d) - m(f)) - 59000 / 2400) < 1e-6, (m(d), m(f))
PY

# A status=default line is not a measurement: an old profile that froze a
# default at a value since changed must not change results (the compiled
# default applies), and the loader says so once on stderr.
printf 'memvirt-cost-profile 1\ncost.fork_fixed = 1000 status=default method="old"\n' >"$tmp/stale.profile"
"$MV" run "${lm[@]}" --profile "$tmp/stale.profile" --json "$tmp/stale.json" >/dev/null 2>"$tmp/stale.err" \
    || fail "a profile with a stale status=default line does not load"
grep -q "^memvirt: warning: $tmp/stale.profile:2:19: cost.fork_fixed = 1000 is marked status=default but the compiled default is now 60000" \
    "$tmp/stale.err" || fail "no warning for the stale default line: $(cat "$tmp/stale.err")"
python3 - "$tmp/default.json" "$tmp/stale.json" <<'PY' || fail "a stale status=default line changed the results"
import json, sys
d, s = (json.load(open(p)) for p in sys.argv[1:3])
assert d["runs"][0]["metrics"] == s["runs"][0]["metrics"]
PY

# The profile of this project's machine in the repository loads and runs,
# without warnings (its default entries are comments), and names every entry
# of the cost registry: set, or as a status=default comment.
repo=$(cd "$(dirname "$0")/../.." && pwd)
"$MV" run "${lm[@]}" --profile "$repo/profiles/this-host.profile" >"$tmp/host.txt" 2>"$tmp/host.err" \
    || fail "profiles/this-host.profile does not load"
[ -s "$tmp/host.err" ] && fail "profiles/this-host.profile gives warnings: $(cat "$tmp/host.err")"
"$MV" list | sed -n 's/^ *cost\.\([a-z0-9_]*\) .*/\1/p' >"$tmp/entries"
[ -s "$tmp/entries" ] || fail "memvirt list shows no cost entries"
while read -r e; do
    grep -Eq "^(# )?cost\.$e = " "$repo/profiles/this-host.profile" \
        || fail "profiles/this-host.profile does not name cost.$e"
    grep -Eq "^cost\.$e = .*status=default" "$repo/profiles/this-host.profile" \
        && fail "profiles/this-host.profile sets cost.$e at a frozen default"
done <"$tmp/entries"

printf 'memvirt-cost-profile 1\ncost.syscall = fast\n' >"$tmp/bad.profile"
expect_bad "malformed profile value" "$tmp/bad.profile:2:16: cost.syscall: malformed value 'fast'" \
    run "${lm[@]}" --profile "$tmp/bad.profile" --json "$tmp/out.json"
printf 'memvirt-cost-profile 1\ncost.nosuch = 1\n' >"$tmp/bad2.profile"
expect_bad "unknown cost entry" "$tmp/bad2.profile:2:1: unknown cost entry 'cost.nosuch'" \
    run "${lm[@]}" --profile "$tmp/bad2.profile" --json "$tmp/out.json"
printf 'syscall 12\n' >"$tmp/bad3.profile"
expect_bad "not a profile" "$tmp/bad3.profile:1:1: expected the header 'memvirt-cost-profile 1'" \
    run "${lm[@]}" --profile "$tmp/bad3.profile" --json "$tmp/out.json"
mkdir "$tmp/dir.profile"
expect_bad "a directory" "$tmp/dir.profile: cannot read profile: Is a directory" \
    run "${lm[@]}" --profile "$tmp/dir.profile" --json "$tmp/out.json"
expect_bad "no such profile" "'$tmp/none.profile' is neither a built-in profile" \
    run "${lm[@]}" --profile "$tmp/none.profile" --json "$tmp/out.json"

expect_bad "calibrate: unknown option" "unknown option '--bogus'" calibrate --bogus -o "$tmp/out.profile"
expect_bad "calibrate: stray argument" "unexpected argument 'stray'" calibrate -o "$tmp/out.profile" stray
expect_bad "calibrate: too few reps" "--reps" calibrate --reps 2 -o "$tmp/out.profile"
expect_bad "calibrate: malformed cpu" "--cpu: malformed CPU number 'x'" calibrate --cpu x -o "$tmp/out.profile"
# a CPU number that is well formed is out of range, not malformed, past the
# CPUs there can be too (it said "malformed CPU number '99999'"); the message
# names those allowed, in the kernel's list form (Cpus_allowed_list)
allowed=$(awk '/^Cpus_allowed_list:/ {print $2}' /proc/self/status)
expect_bad "calibrate: a CPU not ours" "--cpu 4000: out of range: this process may run on CPU $allowed (its affinity)" \
    calibrate --cpu 4000 -o "$tmp/out.profile"
expect_bad "calibrate: past any CPU" "--cpu 99999: out of range: this process may run on CPU" \
    calibrate --cpu 99999 -o "$tmp/out.profile"
expect_bad "calibrate: past 2^64" "--cpu 99999999999999999999999: out of range" \
    calibrate --cpu 99999999999999999999999 -o "$tmp/out.profile"
if command -v taskset >/dev/null && taskset -c 1 true 2>/dev/null; then
    taskset -c 1 "$MV" calibrate --cpu 0 -o "$tmp/out.profile" >/dev/null 2>"$tmp/stderr"
    rc=$?
    [ "$rc" -eq 2 ] && grep -qx "memvirt: calibrate: --cpu 0: out of range: this process may run on CPU 1 (its affinity)" \
        "$tmp/stderr" || fail "calibrate --cpu 0 pinned to CPU 1: exit $rc: $(cat "$tmp/stderr")"
fi
expect_bad "calibrate: missing -o value" "needs a value" calibrate -o
expect_bad "calibrate: unwritable -o" "-o '$tmp/no/such/dir.profile': cannot write" \
    calibrate -o "$tmp/no/such/dir.profile"
expect_bad "calibrate: -o and --verify" "give one of them" calibrate -o "$tmp/out.profile" --verify "$P"
expect_bad "calibrate --verify: no file" "$tmp/none.profile: cannot read profile" calibrate --verify "$tmp/none.profile"
expect_bad "calibrate --verify: a built-in profile" "'nested' is a built-in profile, and --verify checks a profile file" \
    calibrate --verify nested
expect_bad "calibrate --verify: malformed" "$tmp/bad.profile:2:16" calibrate --verify "$tmp/bad.profile"
# an option that takes one value given twice with different values is refused
# (the first --verify was silently dropped); a --hello program that cannot be
# run is bad input before any measuring (it was a note, and a profile without
# fork+execve measured)
expect_bad "calibrate: --verify twice" "--verify given twice with different values" \
    calibrate --verify "$tmp/none.profile" --verify "$tmp/bad.profile"
expect_bad "calibrate: --reps twice" "--reps given twice" calibrate --reps 5 --reps 7 --verify "$tmp/bad.profile"
expect_bad "calibrate: --hello not a program" "--hello '$tmp/no-hello': cannot run it" \
    calibrate --hello "$tmp/no-hello" --verify "$tmp/bad.profile"
# a directory passes access(X_OK) but cannot be run either
expect_bad "calibrate: --hello a directory" "--hello '$tmp': cannot run it: Is a directory" \
    calibrate --hello "$tmp" --verify "$tmp/bad.profile"
[ -e "$tmp/no" ] && fail "calibrate created a directory"
# -o must be a file calibrate can write and load back, checked before
# measuring: a FIFO or /dev/stdout into a pipe hung for ever, /dev/null
# failed after the whole measurement. (timeout: a hang fails the test.)
printf '#!/bin/sh\nexec timeout 120 "%s" "$@"\n' "$MV" >"$tmp/mv-timeout"
chmod +x "$tmp/mv-timeout"
mkfifo "$tmp/fifo"
for o in /dev/null "$tmp/fifo"; do
    MV="$tmp/mv-timeout" expect_bad "calibrate: -o $o" "-o '$o': not a regular file" calibrate --reps 3 -o "$o"
done
timeout 120 "$MV" calibrate --reps 3 -o /dev/stdout 2>"$tmp/stderr" | cat >"$tmp/stdout"
rc=${PIPESTATUS[0]}
[ "$rc" -eq 2 ] && grep -q "^memvirt: .*-o '/dev/stdout': not a regular file" "$tmp/stderr" \
    || fail "calibrate -o /dev/stdout into a pipe: exit $rc, $(cat "$tmp/stderr")"
expect_bad "calibrate: -o ''" "calibrate: -o: empty file name" calibrate -o ''
grep -q "use '-'" "$tmp/stderr" && fail "calibrate -o '': suggests '-', which calibrate refuses"
# nor one of its inputs: the running binary, the program fork+execve runs
mkdir "$tmp/bin2"
cp "$MV" "$(dirname "$MV")/memvirt-hello" "$tmp/bin2/"
for o in memvirt memvirt-hello; do
    MV="$tmp/bin2/memvirt" expect_bad "calibrate: -o its own $o" "it would be overwritten" \
        calibrate --reps 3 -o "$tmp/bin2/$o"
    cmp -s "$tmp/bin2/$o" "$(dirname "$MV")/$o" || fail "calibrate -o overwrote $o"
done
expect_bad "calibrate: -o the --hello program" "is --hello '$tmp/bin2/memvirt-hello', an input" \
    calibrate --reps 3 --hello "$tmp/bin2/memvirt-hello" -o "$tmp/bin2/memvirt-hello"
# A profile file's name with a newline and an escape: the JSON keeps it
# (escaped), the table's header line shows '?' for each control character,
# in a run and in a rerun of its result.
odd="$tmp/$(printf 'a\nb\033[31m.profile')"
cp "$(dirname "$0")/../../profiles/this-host.profile" "$odd" || fail "copying the profile"
for cmd in run rerun; do
    if [ $cmd = run ]; then
        "$MV" run --profile "$odd" --workload lmbench --param lmbench.iterations=1 --json "$tmp/odd.json" \
            >"$tmp/table" 2>"$tmp/err" || fail "run with an odd profile name: $(cat "$tmp/err")"
    else
        "$MV" rerun "$tmp/odd.json" >"$tmp/table" 2>/dev/null || fail "rerun with an odd profile name"
    fi
    head -1 "$tmp/table" | grep -qx "workload lmbench, seed 1, profile $tmp/a?b?\[31m.profile" ||
        fail "$cmd: the table's header is not one line with '?' for the control characters: $(head -2 "$tmp/table" | cat -A)"
done
grep -qF '"profile": "'"$tmp"'/a\nb\u001b[31m.profile"' "$tmp/odd.json" ||
    fail "the JSON does not keep the profile's name: $(grep '"profile"' "$tmp/odd.json")"

"$MV" calibrate --help >"$tmp/help" 2>&1 || fail "calibrate --help failed"
grep -q -- "--verify PROFILE" "$tmp/help" || fail "calibrate --help does not describe --verify"
"$MV" --help | grep -q calibrate || fail "memvirt --help does not list calibrate"

[ "$failures" -eq 0 ] || { echo "profile.sh: $failures check(s) failed" >&2; exit 1; }
echo "profile.sh: all checks passed"

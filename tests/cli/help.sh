#!/usr/bin/env bash
# help.sh: every subcommand (as `memvirt --help` lists them) has --help on
# stdout with exit status 0, naming its defaults, the exit statuses and an
# example, and the example runs; --version names the version and revision;
# --version and --help take no argument (exit 2, as `list extra`);
# `memvirt list` gives every parameter's valid values.
#
# usage: bash help.sh /path/to/memvirt
set -u
MV=${1:?usage: help.sh /path/to/memvirt}
case "$MV" in /*) ;; *) MV="$PWD/$MV" ;; esac
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/memvirt-cli.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/lib/expect.sh"

"$MV" --help >"$tmp/top" 2>"$tmp/err" || fail "memvirt --help: exit status $?"
cmds=$(awk '/^commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 } on && /^$/ { on = 0 }' "$tmp/top")
[ -n "$cmds" ] || fail "memvirt --help lists no commands"
for need in "exit status" "example" "--version"; do
    grep -q -- "$need" "$tmp/top" || fail "memvirt --help does not mention '$need'"
done

# run_examples FILE: run the lines after "example:" in a scratch directory
run_examples() {
    local file=$1 what=$2 dir
    dir=$(mktemp -d "$tmp/ex.XXXXXX")
    awk '/^example/ { on = 1; next } on && /^  memvirt / { sub(/^  /, ""); print }' "$file" >"$dir/script"
    [ -s "$dir/script" ] || { fail "$what: no example"; return; }
    (cd "$dir" && memvirt() { "$MV" "$@"; } && set -e && . ./script) >"$dir/out" 2>"$dir/err" \
        || fail "$what: the example fails: $(head -c 300 "$dir/err")"
}
run_examples "$tmp/top" "memvirt --help"

for c in $cmds; do
    "$MV" "$c" --help >"$tmp/h" 2>"$tmp/err"
    rc=$?
    [ "$rc" -eq 0 ] || { fail "$c --help: exit status $rc"; continue; }
    [ -s "$tmp/err" ] && fail "$c --help: wrote to stderr"
    grep -q "^usage: memvirt $c" "$tmp/h" || fail "$c --help: no usage line"
    for code in 0 1 2 3; do
        grep -q "^  $code  " "$tmp/h" || fail "$c --help: exit status $code not explained"
    done
    run_examples "$tmp/h" "$c --help"
done
# the actions of trace and sweep too (sweep merge's help was argparse's
# alone, without exit statuses or an example); their examples run where
# they need no recorder
for c in "trace record" "trace import" "trace info" "sweep one" "sweep merge"; do
    "$MV" $c --help >"$tmp/h" 2>"$tmp/err"
    rc=$?
    [ "$rc" -eq 0 ] || { fail "$c --help: exit status $rc"; continue; }
    [ -s "$tmp/err" ] && fail "$c --help: wrote to stderr"
    grep -q "^usage: memvirt $c" "$tmp/h" || fail "$c --help: no usage line"
    for code in 0 1 2; do
        grep -q "^  $code  " "$tmp/h" || fail "$c --help: exit status $code not explained"
    done
    grep -q '^example' "$tmp/h" || fail "$c --help: no example"
    case $c in sweep*) run_examples "$tmp/h" "$c --help" ;; esac
done
# run and compare state their defaults
for c in run compare; do
    "$MV" $c --help >"$tmp/h"
    for d in "default: forkstorm" "default: 1" "default: default" "default: off"; do
        grep -q "$d" "$tmp/h" || fail "$c --help: no '$d'"
    done
done
"$MV" run --help | grep -q "default: native" || fail "run --help: no default mode"
"$MV" compare --help | grep -q "default: every mode" || fail "compare --help: no default modes"

# --version
v=$("$MV" --version) || fail "--version: exit status $?"
echo "$v" | grep -Eq '^memvirt [0-9]+\.[0-9]+\.[0-9]+ \(revision [A-Za-z0-9._+-]+\)$' || fail "--version: '$v'"
# an argument after --version or --help is refused, as after any command (it
# was ignored, exit 0): exit 2, one line naming it, nothing on stdout
for w in --version version --help -h help; do
    "$MV" $w extra >"$tmp/stdout" 2>"$tmp/err"
    rc=$?
    [ "$rc" -eq 2 ] && [ ! -s "$tmp/stdout" ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] &&
        grep -q "^memvirt: $w: unexpected argument 'extra' (see 'memvirt --help')$" "$tmp/err" ||
        fail "memvirt $w extra: exit $rc: $(cat "$tmp/err")"
done

# the argument at fault is named, not a --help before it
for a in "--help extra" "-h --help extra" "extra --help"; do
    w=${a##* }; [ "$w" = --help ] && w=extra
    # shellcheck disable=SC2086
    "$MV" list $a >/dev/null 2>"$tmp/err"; rc=$?
    [ "$rc" -eq 2 ] && grep -qx "memvirt: list: unexpected argument '$w' (see 'memvirt list --help')" "$tmp/err" \
        || fail "list $a: exit $rc: $(cat "$tmp/err")"
done
# list: every parameter line has a default and valid values
"$MV" list >"$tmp/list" || fail "list: exit status $?"
awk '/^  [a-z]+\.[a-z_0-9]+ / {
        n++
        if ($3 !~ /^\[-?[0-9.e+]+,$/ && $3 !~ /^[a-z0-9.-]+(\|[a-z0-9.-]+)+$/ && $3 != "text") { print "bad: " $0; bad = 1 }
     } END { exit bad || n < 50 }' "$tmp/list" || fail "list: a parameter without its valid values"
grep -Eq '^  tlb\.l2_ways +12 +\[1, 1048576\] ' "$tmp/list" || fail "list: tlb.l2_ways range"
grep -Eq '^  memwalk\.pattern +random +seq\|stride\|random\|chase ' "$tmp/list" || fail "list: memwalk.pattern choices"
grep -Eq '^  guest\.pcid +true +true\|false ' "$tmp/list" || fail "list: guest.pcid values"

finish help.sh

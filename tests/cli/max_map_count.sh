#!/usr/bin/env bash
# max_map_count.sh: a guest.max_map_count too small for a workload's
# processes stops the run (exit 1) with one line naming the call the limit
# refused and the parameter to raise: a brk refused is a failed call, not
# a heap the program then faults on ("reference ... is not mapped").
#
# usage: bash max_map_count.sh /path/to/memvirt
set -u
MV=${1:?usage: max_map_count.sh /path/to/memvirt}
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/memvirt-cli.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/lib/expect.sh"

FS=(run --quiet --check --workload forkstorm --param forkstorm.minutes=0.05)
# expect_limit DESC CALL ARGS...: exit 1, one line naming CALL and the limit
expect_limit() {
    local desc=$1 call=$2
    shift 2
    "$MV" "$@" >/dev/null 2>"$tmp/stderr"
    local rc=$? err
    err=$(cat "$tmp/stderr")
    [ "$rc" -eq 1 ] || fail "$desc: exit status $rc, expected 1 (memvirt $*): $err"
    [ "$(wc -l <"$tmp/stderr")" -eq 1 ] || fail "$desc: expected one line on stderr: $err"
    case "$err" in
        *": $call"*"failed: Cannot allocate memory (ENOMEM)"*"--param guest.max_map_count=N") ;;
        *) fail "$desc: unexpected message: $err" ;;
    esac
}

# sh's image and libraries fit 16 mappings, its heap does not
expect_limit "brk past the limit" "brk to 0x" "${FS[@]}" --mode native --param guest.max_map_count=16
expect_limit "brk past the limit, pv" "brk to 0x" "${FS[@]}" --mode pv --param guest.max_map_count=16
# a helper's image does not fit 20
expect_limit "exec past the limit" "exec," "${FS[@]}" --mode hap --param guest.max_map_count=20
expect_limit "exec, the limit at 1" "exec," "${FS[@]}" --mode tsp --param guest.max_map_count=1
expect_limit "mmap past the limit" "mmap at" run --quiet --check --mode native --workload memwalk \
    --param memwalk.refs=1000 --param memwalk.ws_mb=4 --param guest.max_map_count=15
"$MV" "${FS[@]}" --mode native --param guest.max_map_count=200 >/dev/null 2>"$tmp/stderr" \
    || fail "guest.max_map_count=200: $(cat "$tmp/stderr")"
finish max_map_count.sh

#!/usr/bin/env bash
# cli_bad_input_leaks.sh (was pending: failed on the sanitizer build before the fix).
#
# The bad-input contract (exit status 2, one "memvirt:" line on stderr) must
# hold in the sanitizer build too. It does not: main() returns from its error
# paths without freeing what it allocated, so LeakSanitizer reports the leaks
# (a multi-line report) and changes the exit status from 2 to 1.
#   src/cli/main.c:92   params = mv_calloc(...) never freed on the early returns
#                       (returns at lines 99-169)
#   src/sim/config.c:54 cfg.wl_cfg (config_init) never config_free'd on them
#   src/cli/main.c:153  list_copy leaked when a mode in --mode/--modes is unknown
# Only meaningful when memvirt is built with -DMEMVIRT_SANITIZE=ON.
#
# usage: bash cli_bad_input_leaks.sh /path/to/memvirt
set -u
MV=${1:?usage: cli_bad_input_leaks.sh /path/to/memvirt}
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=1"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/memvirt-cli.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
failures=0

check() {
    "$MV" "$@" >/dev/null 2>"$tmp/err"
    local rc=$? lines
    lines=$(wc -l <"$tmp/err")
    if [ "$rc" -ne 2 ] || [ "$lines" -ne 1 ]; then
        echo "FAIL: memvirt $*: exit $rc (want 2), $lines stderr lines (want 1)" >&2
        head -n 12 "$tmp/err" >&2
        failures=$((failures + 1))
    fi
}

check run --bogus
check run --mode nosuch
check run --workload nosuch
check run --param nosuch.x=1
check run --param tlb.l2_ways=abc
check run --seed -3
check run --param tlb.l2_entries=100
check run --profile nosuch
check run --param

[ "$failures" -eq 0 ] || { echo "cli_bad_input_leaks.sh: $failures failed" >&2; exit 1; }
echo "cli_bad_input_leaks.sh: all checks passed"

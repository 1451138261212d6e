#!/usr/bin/env bash
# calibrate.sh: calibrate runs that measure (profile.sh has the input checks,
# which measure nothing). Kept short: --reps 3, and each run ends early.
#  - a --hello program that does not exit is killed after the limit, and
#    calibrate fails with one line saying so (exit 1, no profile written).
set -u
MV=${1:?usage: calibrate.sh /path/to/memvirt}
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/memvirt-calibrate.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

# /usr/bin/yes as --hello held calibrate for ever (timeout: a hang fails the test)
if [ -x /usr/bin/yes ]; then
    timeout 120 "$MV" calibrate --reps 3 --hello /usr/bin/yes -o "$tmp/out.profile" >"$tmp/stdout" 2>"$tmp/stderr"
    rc=$?
    [ "$rc" -eq 1 ] || fail "--hello /usr/bin/yes: exit $rc, expected 1: $(tail -3 "$tmp/stderr")"
    [ "$(grep -c '^memvirt: calibrate:' "$tmp/stderr")" -eq 1 ] \
        && grep -q "^memvirt: calibrate: --hello '/usr/bin/yes' did not exit within 10 s" "$tmp/stderr" \
        || fail "--hello /usr/bin/yes: no one line saying it did not exit: $(tail -3 "$tmp/stderr")"
    [ -e "$tmp/out.profile" ] && fail "--hello /usr/bin/yes: a profile was written"
    ls -A "$tmp" | grep -q '^\.out' && fail "--hello /usr/bin/yes: a temporary file was left"
fi

[ "$failures" -eq 0 ] || { echo "calibrate.sh: $failures check(s) failed" >&2; exit 1; }
echo "calibrate.sh: all checks passed"

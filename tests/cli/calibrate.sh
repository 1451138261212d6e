#!/usr/bin/env bash
# calibrate.sh: calibrate runs that measure (profile.sh has the input checks,
# which measure nothing). Kept short: --reps 3, and each run ends early.
#  - a --hello program that does not exit is killed after the limit, and
#    calibrate fails with one line saying so (exit 1, no profile written);
#  - --verify warns when the load average exceeds the CPUs, as calibrate does.
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

# --verify warns of a busy machine as calibrate does (it did not): a load
# average above the CPUs, faked by binding a file over /proc/loadavg in a
# user and mount namespace; --hello /usr/bin/yes ends the run early (exit 1)
if [ -x /usr/bin/yes ] && unshare -rm true 2>/dev/null; then
    echo "99.00 98.00 97.00 1/100 4242" >"$tmp/loadavg"
    printf 'memvirt-cost-profile 1\n' >"$tmp/empty.profile"
    timeout 280 unshare -rm sh -c 'mount --bind "$1" /proc/loadavg && exec "$2" calibrate --verify "$3" --reps 3 \
        --hello /usr/bin/yes' sh "$tmp/loadavg" "$MV" "$tmp/empty.profile" >"$tmp/stdout" 2>"$tmp/stderr"
    rc=$?
    [ "$rc" -eq 1 ] || fail "--verify under a faked load: exit $rc, expected 1: $(tail -3 "$tmp/stderr")"
    grep -q "^memvirt: warning: calibrate: the 1-minute load average at the start (99.00) exceeds the" \
        "$tmp/stderr" || fail "--verify under a load of 99: no warning: $(head -3 "$tmp/stderr")"
else
    echo "calibrate.sh: skipped the --verify load check (no unshare into a user namespace)"
fi

[ "$failures" -eq 0 ] || { echo "calibrate.sh: $failures check(s) failed" >&2; exit 1; }
echo "calibrate.sh: all checks passed"

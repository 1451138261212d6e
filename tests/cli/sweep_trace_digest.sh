#!/usr/bin/env bash
# sweep_trace_digest.sh: a sweep whose trace.digest is not its trace's (the
# file was replaced, or the digest mistyped) was planned as valid: the sweep
# made its runs directory and manifest, then every run failed (exit 1 each,
# "not the file the run replayed"), where `memvirt run` with the same
# arguments refuses up front (exit 2). Planning now seals each run's trace as
# the run will: exit 2, one line naming the sweep file's position and the
# trace, and nothing made. A digest that is the file's still plans and runs.
#
# usage: bash sweep_trace_digest.sh /path/to/memvirt
set -u
MV=${1:?usage: sweep_trace_digest.sh /path/to/memvirt}
[ -x "$MV" ] || { echo "sweep_trace_digest.sh: '$MV' is not an executable" >&2; exit 1; }
MV=$(cd "$(dirname "$MV")" && pwd)/$(basename "$MV")
SRCDIR=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/memvirt-sweep-digest.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
die() { echo "FAIL: $*" >&2; exit 1; }
cd "$tmp" || exit 1
cp "$SRCDIR/tests/data/make.mvt" t.mvt
bad=12:fnv1a64:0123456789abcdef

# run refuses it (the reference behaviour)
"$MV" run --trace t.mvt --param trace.digest=$bad >/dev/null 2>err; rc=$?
[ "$rc" -eq 2 ] || die "run with a wrong digest: exit $rc: $(cat err)"

refused() {   # refused NAME ARGS...: exit 2, one line naming position and trace, nothing made
    local name=$1
    shift
    "$MV" sweep s.sweep --out S "$@" >out 2>err; rc=$?
    [ "$rc" -eq 2 ] || die "$name: exit $rc, not 2: $(cat err)"
    [ "$(wc -l < err)" -eq 1 ] || die "$name: not one line: $(cat err)"
    grep -q "^memvirt: s\.sweep:[0-9]*\(:[0-9]*\)\?: .*trace '$tmp/t\.mvt': not the file the run replayed: trace\.digest is $bad" err \
        || die "$name: message: $(cat err)"
    [ ! -e S ] || die "$name: the runs directory was made: $(ls -R S)"
    [ ! -s out ] || die "$name: wrote to stdout: $(cat out)"
}

printf 'mode = native\nworkload = trace\ntrace.file = t.mvt\ntrace.digest = %s\n' $bad > s.sweep
refused "sweep" -j 1
refused "sweep --list" --list

# in a group, among seeds: the first run that is planned names it
printf 'mode = native\nworkload = trace\ntrace.file = t.mvt\nseed = 1..5\n[g]\ntrace.digest = %s\n' $bad > s.sweep
refused "sweep with a group" -j 1

# the file's own digest plans and runs
good=$("$MV" run --trace t.mvt --json - 2>/dev/null | grep -o '"trace.digest": *"[^"]*"' | sed 's/.*: *"//; s/"$//')
[ -n "$good" ] || die "no digest in a run's result"
printf 'mode = native\nworkload = trace\ntrace.file = t.mvt\ntrace.digest = %s\nseed = 1, 2\n' "$good" > s.sweep
"$MV" sweep s.sweep --out S --list >out 2>err || die "--list with the right digest: $(cat err)"
[ "$(wc -l < out)" -eq 2 ] || die "--list lists $(wc -l < out) runs: $(cat out)"
"$MV" sweep s.sweep --out S -j 1 >out 2>err || die "sweep with the right digest: $(cat err)"

echo "sweep_trace_digest: ok"

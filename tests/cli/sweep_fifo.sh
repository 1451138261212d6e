#!/usr/bin/env bash
# sweep_fifo.sh: a FIFO in a sweep's directory hung every command that read
# it (nothing writes to it, so opening it to read, or to write the run's
# result into it, waits for ever). Now:
#  - a FIFO in place of a result is stale to `sweep --list`, left out by
#    `sweep merge` with its warning ("not a regular file"), and replaced by
#    `sweep one` (one warning) and by `sweep`;
#  - a FIFO in place of the manifest, sweep.tsv, is refused by `sweep merge`
#    and `sweep one` with one line naming it (exit 2).
# Every command runs under a timeout: a hang fails the test.
#
# usage: bash sweep_fifo.sh /path/to/memvirt
set -u
MV=${1:?usage: sweep_fifo.sh /path/to/memvirt}
[ -x "$MV" ] || { echo "sweep_fifo.sh: '$MV' is not an executable" >&2; exit 1; }
MV=$(cd "$(dirname "$MV")" && pwd)/$(basename "$MV")
tmp=$(mktemp -d "${TMPDIR:-/tmp}/memvirt-sweep-fifo.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
die() { echo "FAIL: $*" >&2; exit 1; }
cd "$tmp" || exit 1
id_of() { awk -F'\t' -v i="$2" '$1 == i { print $2 }' "$1/sweep.tsv"; }
to=${SWEEP_FIFO_TIMEOUT:-60}
T="timeout $to"
hung() { [ "$1" -eq 124 ] && die "$2: hung (killed after $to s)"; }

printf 'mode = native, pv\nworkload = lmbench\nlmbench.iterations = 2\n' > r.sweep
$T "$MV" sweep r.sweep --out R -j 1 2>err || die "sweep failed: $(cat err)"
id0=$(id_of R 0)
f=R/runs/$id0.json
rm -f "$f" && mkfifo "$f" || die "mkfifo"

$T "$MV" sweep r.sweep --out R --list > list 2>err; rc=$?
hung $rc "sweep --list"
[ "$rc" -eq 0 ] || die "--list: exit $rc: $(cat err)"
grep -q "^0	$id0	stale	" list || die "--list does not call the FIFO stale: $(cat list)"

$T "$MV" sweep merge R --partial 2>err; rc=$?
hung $rc "sweep merge --partial"
[ "$rc" -eq 0 ] || die "merge --partial: exit $rc: $(cat err)"
grep -qx "memvirt: warning: sweep merge: $f is stale: it does not read as JSON: it is not a regular file, not a result file; left out, as a run without a result ('memvirt sweep' runs it again)" err \
    || die "merge --partial: the warning: $(cat err)"
rm -f R/merged.*

$T "$MV" sweep one R 0 2>err; rc=$?
hung $rc "sweep one"
[ "$rc" -eq 0 ] || die "sweep one: exit $rc: $(cat err)"
grep -qx "memvirt: warning: sweep one: '$f' was not a regular file: removed, the run's result goes there" err \
    || die "sweep one: the warning: $(cat err)"
[ -f "$f" ] && grep -q '"runs"' "$f" || die "sweep one wrote no result in place of the FIFO"

# the same through the whole sweep, and a link to /dev/zero the same way
rm -f "$f" && mkfifo "$f"
$T "$MV" sweep r.sweep --out R -j 1 >/dev/null 2>err; rc=$?
hung $rc "sweep"
[ "$rc" -eq 0 ] && [ -f "$f" ] || die "sweep over a FIFO result: exit $rc: $(cat err)"
ln -sf /dev/zero "$f"
$T "$MV" sweep r.sweep --out R -j 1 >/dev/null 2>err; rc=$?
[ "$rc" -eq 0 ] && [ -f "$f" ] && [ ! -L "$f" ] || die "sweep over a link to /dev/zero: exit $rc: $(cat err)"
[ -c /dev/zero ] || die "/dev/zero is gone"
$T "$MV" sweep merge R 2>err || die "merge after the sweep: $(cat err)"

# the manifest a FIFO
cp R/sweep.tsv keep.tsv && rm R/sweep.tsv && mkfifo R/sweep.tsv
for cmd in "merge R" "one R 0"; do
    # shellcheck disable=SC2086
    $T "$MV" sweep $cmd 2>err; rc=$?
    hung $rc "sweep $cmd, sweep.tsv a FIFO"
    [ "$rc" -eq 2 ] || die "sweep $cmd, sweep.tsv a FIFO: exit $rc, expected 2: $(cat err)"
    [ "$(wc -l < err)" -eq 1 ] && grep -q "cannot read 'R/sweep.tsv': not a regular file, not a sweep manifest" err \
        || die "sweep $cmd, sweep.tsv a FIFO: $(cat err)"
done
echo "sweep_fifo.sh: all checks passed"

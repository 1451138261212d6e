#!/usr/bin/env bash
# sweep_manifest_cr.sh: a CR inside a line of DIR/sweep.tsv. The merge read
# the manifest with universal newlines, so a CR split the line ("sweep.tsv:5:
# 1 fields": the wrong line, the wrong reason), while `sweep one` took it as
# part of a field (--seed '2\r'). Both now end a line at '\n' alone (a CR
# just before it, CRLF line ends, is still one line end) and refuse a CR
# inside a field naming the line and the field, exit 2.
#
# usage: bash sweep_manifest_cr.sh /path/to/memvirt
set -u
MV=${1:?usage: sweep_manifest_cr.sh /path/to/memvirt}
[ -x "$MV" ] || { echo "sweep_manifest_cr.sh: '$MV' is not an executable" >&2; exit 1; }
MV=$(cd "$(dirname "$MV")" && pwd)/$(basename "$MV")
tmp=$(mktemp -d "${TMPDIR:-/tmp}/memvirt-sweep-cr.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
die() { echo "FAIL: $*" >&2; exit 1; }
cd "$tmp" || exit 1

printf 'mode = native\nworkload = lmbench\nlmbench.iterations = 2\nseed = 1, 2\n' > r.sweep
"$MV" sweep r.sweep --out R -j 2 2>err || die "sweep failed: $(cat err)"
check() {   # $1: sed expression; $2: line; $3: field
    rm -rf C && cp -r R C && sed -i "$1" C/sweep.tsv
    "$MV" sweep one C 0 >/dev/null 2>err; rc=$?
    [ "$rc" -eq 2 ] && grep -qx "memvirt: sweep one: C/sweep.tsv:$2: a carriage return (CR) inside field $3: .*" err \
        || die "sweep one, '$1': exit $rc: $(cat err)"
    "$MV" sweep merge C 2>err; rc=$?
    [ "$rc" -eq 2 ] && grep -qx "memvirt: sweep merge: C/sweep.tsv:$2: a carriage return (CR) inside field $3: .*" err \
        || die "sweep merge, '$1': exit $rc: $(cat err)"
}
check '3s/--seed 1/--seed 1\r/' 3 7                   # inside the args
check '4s/\t2\t/\t2\r1\t/' 4 5                          # a CR that would split the line
check '2s/\tseed\t/\tse\red\t/' 2 5                     # the header
# CRLF line ends: the same manifest
rm -rf C && cp -r R C && sed -i 's/$/\r/' C/sweep.tsv
"$MV" sweep merge C 2>err || die "CRLF manifest: $(cat err)"
cmp C/merged.csv <("$MV" sweep merge R --csv /dev/stdout --json /dev/null 2>/dev/null) || die "CRLF: another merge"
echo "sweep_manifest_cr: ok"

#!/usr/bin/env bash
# trace_import_changed.sh: a log removed after trace import checked it and
# before the importer's first opening of it changed while it was imported:
# one line, "log 'FILE' changed while it was imported: No such file or
# directory", exit 1 (a failure outside the input, as a log changed between
# later openings is), nothing written; it was exit 2, "cannot open", as if
# the user had named a missing file (which stays exit 2). The same in the
# strace and perf importers here; the lackey importer's logs, which cannot
# be paced from outside (they must be regular files), are tested in
# tests/test_importers.c.
#
# The pacing: the first log given is a FIFO (kept open from the check on),
# the second a regular file opened only after the FIFO's first line (strace:
# each log's first line is read before the calls) or its end (perf: one at a
# time). A write down the FIFO larger than a pipe holds returns only once
# the importer reads it, after every check; the strace FIFO's first line is
# that long, so the importer is still in it when the file is removed.
#
# usage: bash trace_import_changed.sh /path/to/memvirt
set -u
MV=${1:?usage: trace_import_changed.sh /path/to/memvirt}
MV=$(cd "$(dirname "$MV")" && pwd)/$(basename "$MV")
SRC=$(cd "$(dirname "$0")/../.." && pwd)
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/memvirt-changed.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

cat >a.strace <<'LOG'
100 1796068568.000001 execve("/bin/x", ["x"], 0x7ffd2657570 /* 1 var */) = 0
100 1796068568.000003 mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f7c49499000
100 1796068568.000004 exit_group(0)                 = ?
100 1796068568.000005 +++ exited with 0 +++
LOG
sed 's/^100 /200 /' a.strace >b.strace
head -c 100000 /dev/zero | tr '\0' x >long     # a line strace's importer skips (counted), longer than a pipe holds

# paced FROM REMOVE FIRST REST: import --from FROM fifo b.FROM; FIRST goes
# down the FIFO, then b.FROM is removed if REMOVE is rm, then REST
paced() {
    local from=$1 remove=$2 first=$3 rest=$4 pid
    rm -f fifo out.mvt
    mkfifo fifo
    timeout 60 "$MV" trace import --from "$from" fifo "b.$from" -o out.mvt 2>err &
    pid=$!
    exec 3<>fifo                 # read-write: the open does not wait, should memvirt have failed
    timeout 60 cat "$first" >&3
    [ "$remove" = rm ] && rm "b.$from"
    timeout 60 cat "$rest" >&3
    exec 3>&-
    wait $pid
}

# strace: the FIFO's first line is the long one
printf '\n' | cat long - a.strace >rest.strace
: >empty
paced strace keep long rest.strace; rc=$?
[ $rc -eq 0 ] || fail "strace, nothing removed: exit $rc (124: it hung): $(cat err)"
paced strace rm long rest.strace; rc=$?
[ $rc -eq 1 ] && [ "$(wc -l <err)" -eq 1 ] &&
    grep -qx "memvirt: log 'b.strace' changed while it was imported: No such file or directory" err ||
    fail "strace, b.strace removed after the check: exit $rc (124: it hung), expected 1 and one line: $(cat err)"
[ -e out.mvt ] && fail "strace, b.strace removed: a trace was written"
ls -A | grep -q '^\.out\.mvt' && fail "strace, b.strace removed: a temporary file was left"
cp a.strace b.strace

# perf: the FIFO is a whole recording (the text of perf script), then its end
perf_text="$SRC/tests/fuzz/corpus/perf/tree.txt"
cp "$perf_text" b.perf
big=0
while [ "$big" -lt 100000 ]; do cat "$perf_text"; big=$((big + $(wc -c <"$perf_text"))); done >first.perf
"$MV" trace import --from perf first.perf b.perf -o plain.mvt 2>err || fail "perf, plain files: $(cat err)"
paced perf keep first.perf empty; rc=$?
[ $rc -eq 0 ] || fail "perf, nothing removed: exit $rc (124: it hung): $(cat err)"
paced perf rm first.perf empty; rc=$?
[ $rc -eq 1 ] && [ "$(wc -l <err)" -eq 1 ] &&
    grep -qx "memvirt: log 'b.perf' changed while it was imported: No such file or directory" err ||
    fail "perf, b.perf removed after the check: exit $rc (124: it hung), expected 1 and one line: $(cat err)"
[ -e out.mvt ] && fail "perf, b.perf removed: a trace was written"

# a log missing when the command starts is still bad input
for from in strace perf lackey; do
    "$MV" trace import --from "$from" a.strace missing.log -o m.mvt 2>err; rc=$?
    [ $rc -eq 2 ] && [ "$(wc -l <err)" -eq 1 ] && grep -q "cannot open 'missing.log': No such file" err ||
        fail "--from $from with a missing log: exit $rc, expected 2 and one line: $(cat err)"
done

[ "$failures" -eq 0 ] || { echo "trace_import_changed.sh: $failures failure(s)" >&2; exit 1; }
echo "trace_import_changed.sh: all checks passed"

#!/usr/bin/env bash
# trace_import_files.sh: `memvirt trace import` of many input files under a
# small limit on open files. The inputs are checked before the output is
# made, then read: perf's one at a time, lackey's with one open per level
# of the process tree, not one per process; strace's together (the logs of
# `strace -ff` are merged by time), one descriptor each. (All were opened
# first: with `ulimit -n 256`, 1100 strace logs failed at the 233rd, exit
# 2.)
# Running out of descriptors is the host's failure, not bad input: exit 1,
# one line naming the file, and no output left (before the output is made,
# and in the middle of an import). Needs no recorder: the logs are written
# here.
#
# usage: bash trace_import_files.sh /path/to/memvirt
set -u
MV=${1:?usage: trace_import_files.sh /path/to/memvirt}
[ -x "$MV" ] || { echo "trace_import_files.sh: '$MV' is not an executable" >&2; exit 1; }
MV=$(cd "$(dirname "$MV")" && pwd)/$(basename "$MV")
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/memvirt-impfiles.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
cd "$tmp" || exit 1
# descriptors inherited from the test runner would count against the limits
for fd in $(ls /proc/$$/fd); do
    [ "$fd" -gt 2 ] && eval "exec $fd>&-" 2>/dev/null
done

# 1. 1100 strace logs, one process each (as `strace -ff -o s` writes them)
mkdir many
for i in $(seq 1 1100); do
    pid=$((10000 + i))
    printf '%s\n' \
        "$pid 1700000000.$(printf %06d "$i") execve(\"/bin/true\", [\"/bin/true\"], 0x7ffe /* 1 var */) = 0" \
        "$pid 1700000000.$(printf %06d "$i") mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f0000000000" \
        "$pid 1700000000.$(printf %06d "$i") exit_group(0) = ?" \
        "$pid 1700000000.$(printf %06d "$i") +++ exited with 0 +++" >"many/s.$i"
done
# read together, one descriptor each: past the limit, the host's failure
(ulimit -n 256; exec "$MV" trace import --from strace many/s.* -o many.mvt) 2>err
rc=$?
[ $rc -eq 1 ] && [ "$(wc -l <err)" -eq 1 ] && grep -q "^memvirt: cannot open 'many/s\.[0-9]*': Too many open files" err \
    || fail "1100 strace logs with ulimit -n 256: exit $rc, expected 1 and one line: $(tail -2 err)"
[ -e many.mvt ] && fail "1100 strace logs with ulimit -n 256: a trace was written"
(ulimit -n 1200; exec "$MV" trace import --from strace many/s.* -o many.mvt) 2>err
rc=$?
[ $rc -eq 0 ] || fail "1100 strace logs with ulimit -n 1200: exit $rc: $(tail -2 err)"
"$MV" trace info many.mvt >info 2>&1 || fail "trace info of the 1100 logs' trace: $(tail -2 info)"
grep -q "exec 1100 exit 1100 " info || fail "1100 logs: expected 1100 execs and exits: $(grep 'by kind' info)"

# 2. out of descriptors before the output is made: exit 1, the file named
(ulimit -n 4; exec "$MV" trace import --from strace many/s.1 many/s.2 -o few.mvt) 2>err
rc=$?
[ $rc -eq 1 ] || fail "ulimit -n 4: exit $rc, expected 1 (the host's failure, not bad input): $(cat err)"
[ "$(wc -l <err)" -eq 1 ] && grep -q "^memvirt: cannot open 'many/s.1': Too many open files" err \
    || fail "ulimit -n 4: expected one line naming the file: $(cat err)"
[ -e few.mvt ] && fail "ulimit -n 4: a trace was written"
# a file that is not there stays bad input
"$MV" trace import --from strace many/s.1 many/nonexistent -o ne.mvt 2>err
rc=$?
[ $rc -eq 2 ] && grep -q "cannot open 'many/nonexistent': No such file" err \
    || fail "a missing log: exit $rc, expected 2: $(cat err)"

# 3. lackey: a root forking 299 children, one log each, with 64 descriptors
lk() {   # lk PID PPID CHILDREN...: one process's log
    local pid=$1 ppid=$2 c
    shift 2
    echo "==$pid== Command: /bin/sh -c x"
    echo "==$pid== Parent PID: $ppid"
    echo "SYSCALL[$pid,1](9) sys_mmap ( 0x0, 4096, 3, 34, 4294967295, 0 ) --> [pre-success] Success(0x4900000) "
    echo " S 04900000,8"
    for c in "$@"; do
        echo "SYSCALL[$pid,1](56) sys_clone ( 1200011, 0x0, 0x0, 0x4a29a10, 0x0 )   clone(fork): process $pid created child $c"
        echo " --> [pre-success] Success(0x$(printf %x "$c")) "
    done
    echo "SYSCALL[$pid,1](231) exit_group( 0 ) --> [pre-success] Success(0x0) "
}
mkdir lk
lk 100 99 $(seq 101 399) >lk/lackey.100.1
for c in $(seq 101 399); do lk "$c" 100 >"lk/lackey.$c.1"; done
(ulimit -n 64; exec "$MV" trace import --from lackey lk/lackey.* -o lk.mvt) 2>err
rc=$?
[ $rc -eq 0 ] || fail "300 lackey logs with ulimit -n 64: exit $rc: $(tail -2 err)"
"$MV" trace info lk.mvt >info 2>&1 || fail "trace info of the lackey trace: $(tail -2 info)"
grep -q "fork 299 " info || fail "300 lackey logs: expected 299 forks: $(grep 'by kind' info)"

# 4. lackey, a chain 100 -> 101 -> 102: three logs open at once at the
# deepest; with one descriptor too few, the failure comes in the middle of
# the import (the output made already): exit 1, the log named, no output
mkdir chain
lk 100 99 101 >chain/lackey.100.1
lk 101 100 102 >chain/lackey.101.1
lk 102 101 >chain/lackey.102.1
need=""
for n in 5 6 7 8 9 10 11 12; do
    (ulimit -n $n; exec "$MV" trace import --from lackey chain/lackey.* -o chain.mvt) 2>err && { need=$n; break; }
done
if [ -z "$need" ]; then
    fail "a chain of 3 lackey logs: no success with up to 12 descriptors: $(cat err)"
else
    rm -f chain.mvt
    (ulimit -n $((need - 1)); exec "$MV" trace import --from lackey chain/lackey.* -o chain.mvt) 2>err
    rc=$?
    [ $rc -eq 1 ] || fail "chain with ulimit -n $((need - 1)): exit $rc, expected 1: $(cat err)"
    [ "$(wc -l <err)" -eq 1 ] && grep -q "^memvirt: cannot open 'chain/lackey.10[12].1': Too many open files" err \
        || fail "chain with ulimit -n $((need - 1)): expected one line naming a child's log: $(cat err)"
    [ -e chain.mvt ] && fail "chain with ulimit -n $((need - 1)): a trace was written"
    ls -A | grep -q '^\.chain\.mvt' && fail "chain with ulimit -n $((need - 1)): a temporary file was left"
fi

# 5. a lackey log that is not a regular file (read twice): one line, exit 2
mkfifo fifo
(cat chain/lackey.102.1 >fifo &)
timeout 20 "$MV" trace import --from lackey fifo -o fifo.mvt 2>err
rc=$?
[ $rc -eq 2 ] && [ "$(wc -l <err)" -eq 1 ] && grep -q "lackey log 'fifo': not a regular file" err \
    || fail "a lackey log on a FIFO: exit $rc (124: it hung), expected 2: $(cat err)"
exec 3<>fifo; exec 3<&-      # let the writer go if it still waits

if [ "$failures" -ne 0 ]; then
    echo "trace_import_files.sh: $failures failure(s)" >&2
    exit 1
fi
echo "trace_import_files.sh: all checks passed"

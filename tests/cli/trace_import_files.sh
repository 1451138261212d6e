#!/usr/bin/env bash
# trace_import_files.sh: `memvirt trace import` of many input files under a
# small limit on open files. The inputs are checked before the output is
# made, then read: perf's one at a time, lackey's one at a time too (a
# parent's closed while a child replays, reopened at its offset); strace's together (the logs of
# `strace -ff` are merged by time) through a bounded cache of descriptors,
# the host's limit less 16, the others reopened at their offsets. (Every
# strace log was held open: 1100 of them failed under `ulimit -n 256`, exit
# 1; now 1100 -f logs and 5000 -ff logs import under `ulimit -n 64`, into
# the very trace they give with every log open.) Pipes and FIFOs cannot be
# reopened: more of them than the cap are refused (exit 2). A log removed
# or changed between its openings (paced here through a FIFO, no timing):
# exit 1, one line naming it, no output.
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

# 1. 1100 strace -f logs, one process each (a pid column on each line),
# read one after the other
mkdir many
for i in $(seq 1 1100); do
    pid=$((10000 + i))
    printf '%s\n' \
        "$pid 1700000000.$(printf %06d "$i") execve(\"/bin/true\", [\"/bin/true\"], 0x7ffe /* 1 var */) = 0" \
        "$pid 1700000000.$(printf %06d "$i") mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f0000000000" \
        "$pid 1700000000.$(printf %06d "$i") exit_group(0) = ?" \
        "$pid 1700000000.$(printf %06d "$i") +++ exited with 0 +++" >"many/s.$i"
done
hard=$(ulimit -Hn)
high() {   # a limit that holds N logs and the rest, within the hard limit
    if [ "$hard" = unlimited ] || [ "$hard" -gt $(($1 + 100)) ]; then echo $(($1 + 100)); else echo "$hard"; fi
}
same_under() {   # same_under DESC LIMIT OUT LOGS...: imports under LIMIT, exit 0, OUT as with every log open
    local desc=$1 lim=$2 out=$3 rc
    shift 3
    (ulimit -n "$(high $#)"; exec "$MV" trace import --from strace "$@" -o "$out.all") 2>err \
        || { fail "$desc, limit $(high $#): $(tail -2 err)"; return; }
    (ulimit -n "$lim"; exec "$MV" trace import --from strace "$@" -o "$out") 2>err
    rc=$?
    [ $rc -eq 0 ] || { fail "$desc with ulimit -n $lim: exit $rc: $(tail -2 err)"; return; }
    cmp -s "$out" "$out.all" || fail "$desc: the trace under ulimit -n $lim differs from the one with every log open"
}
same_under "1100 strace -f logs" 64 many.mvt many/s.*
"$MV" trace info many.mvt >info 2>&1 || fail "trace info of the 1100 logs' trace: $(tail -2 info)"
grep -q "exec 1100 exit 1100 " info || fail "1100 logs: expected 1100 execs and exits: $(grep 'by kind' info)"

ff_logs() {   # ff_logs DIR CHILDREN CALLS [PAD]: strace -ff's logs: log.1000 clones the
              # children (log.20000 on), which run interleaved, CALLS calls each;
              # PAD getpid lines of the root's before them
    mkdir -p "$1"
    awk -v d="$1" -v n="$2" -v k="$3" -v pad="${4:-0}" '
    function ts(t) { return sprintf("1700000000.%06d", t) }
    BEGIN {
        r = d "/log.1000"; t = 1
        print ts(t++) " execve(\"/bin/sh\", [\"sh\"], 0x7ffe /* 1 var */) = 0" > r
        for (i = 0; i < n; i++)
            print ts(t++) " clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f0000000a10) = " 20000 + i > r
        for (i = 0; i < pad; i++)
            print ts(t++) " getpid()                                  = 1000" > r
        for (i = 0; i < n; i++) {
            c = d "/log." 20000 + i
            print ts(t + i) " execve(\"/bin/true\", [\"/bin/true\"], 0x7ffe /* 1 var */) = 0" > c
            for (j = 0; j < k; j++) {
                a = "0x7f00" sprintf("%08x", int(j / 3) * 16384)
                s = j % 3 == 0 ? "mmap(NULL, 16384, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = " a \
                  : j % 3 == 1 ? "mprotect(" a ", 4096, PROT_READ)           = 0" : "munmap(" a ", 8192)                     = 0"
                print ts(t + n * (j + 1) + i) " " s > c
            }
            print ts(t + n * (k + 1) + i) " exit_group(0)                           = ?" > c
            print ts(t + n * (k + 2) + i) " +++ exited with 0 +++" > c
            close(c)
        }
        t += n * (k + 3)
        print ts(t++) " exit_group(0)                           = ?" > r
        print ts(t++) " +++ exited with 0 +++" > r
    }'
}
# 2. 5000 strace -ff logs (small: each read whole at its first opening),
# merged by time
ff_logs ff5000 4999 8
same_under "5000 strace -ff logs" 64 ff5000.mvt ff5000/log.*
"$MV" trace info ff5000.mvt >info 2>&1 || fail "trace info of the 5000 logs' trace: $(tail -2 info)"
grep -q "fork 4999 exec 5000 exit 5000 " info || fail "5000 -ff logs: $(grep 'by kind' info)"

# 3. 100 large -ff logs (30 KB each, their calls interleaved): each is
# closed and reopened as the others need room, at least 7 times
ff_logs big 100 300 2000
same_under "100 large -ff logs" 64 big.mvt big/log.*
grep -q "fork 100 exec 101 " <("$MV" trace info big.mvt 2>&1) || fail "100 large logs: $("$MV" trace info big.mvt 2>&1 | grep 'by kind')"
# ... and with 40 descriptors inherited: the cap is not what the host
# allows, the cache finds that out and holds fewer
(for i in $(seq 1 40); do exec {fd}</dev/null; done; ulimit -n 64
 exec "$MV" trace import --from strace big/log.* -o inherited.mvt) 2>err
rc=$?
[ $rc -eq 0 ] && cmp -s inherited.mvt big.mvt \
    || fail "100 large logs, 40 descriptors inherited, ulimit -n 64: exit $rc, not the same trace: $(tail -2 err)"

# 4. more pipes or FIFOs than the cap (64 - 16): refused before any is
# opened (an open of a FIFO waits for its writer), exit 2, one line
mkdir fifos
for i in $(seq 1 49); do mkfifo "fifos/log.$((30000 + i))"; done
(ulimit -n 64; exec timeout 20 "$MV" trace import --from strace fifos/log.* -o fifos.mvt) 2>err
rc=$?
[ $rc -eq 2 ] && [ "$(wc -l <err)" -eq 1 ] && grep -q "49 of the strace logs ('fifos/log.30001' the first) are pipes, FIFOs or devices.*at most 48" err \
    || fail "49 FIFOs under ulimit -n 64: exit $rc (124: it hung), expected 2 and one line: $(cat err)"
[ -e fifos.mvt ] && fail "49 FIFOs: a trace was written"

# 5. a log removed, or grown, while it is closed for want of room: the
# root's log comes down a FIFO (kept open, last in the merge's first
# reads), more of it than a pipe holds (64 KiB) before the change, so the
# importer is past every log's first lines (log.20000 among the closed)
paced() {   # paced WHAT: exit status of an import whose root log is paced; WHAT: keep, rm, grow
    rm -rf pace; mkdir pace
    cp big/log.2* pace/
    mkfifo pace/log.1000
    (ulimit -n 64; exec timeout 60 "$MV" trace import --from strace pace/log.2* pace/log.1000 -o pace.mvt) 2>err &
    local pid=$!
    {
        head -n 2101 big/log.1000
        case $1 in
            rm) rm pace/log.20000 ;;
            grow) echo "1700000000.999999 getpid() = 20000" >>pace/log.20000 ;;
        esac
        tail -n +2102 big/log.1000
    } >pace/log.1000
    wait $pid
}
paced keep
rc=$?
rm pace/log.1000; cp big/log.1000 pace/log.1000
(ulimit -n 64; exec "$MV" trace import --from strace pace/log.2* pace/log.1000 -o pace.all) 2>/dev/null
[ $rc -eq 0 ] && cmp -s pace.mvt pace.all || fail "the root's log down a FIFO: exit $rc, or not the trace of the files: $(cat err)"
rm -f pace.mvt
for what in rm grow; do
    paced $what
    rc=$?
    case $what in rm) why="No such file or directory" ;; grow) why="its size went from [0-9]* to [0-9]* bytes" ;; esac
    [ $rc -eq 1 ] && [ "$(wc -l <err)" -eq 1 ] \
        && grep -q "^memvirt: log 'pace/log.20000' changed while it was imported: $why" err \
        || fail "log.20000 ($what) while closed: exit $rc (124: it hung), expected 1 and one line: $(cat err)"
    [ -e pace.mvt ] && fail "log.20000 ($what): a trace was written"
    ls -A | grep -q '^\.pace\.mvt' && fail "log.20000 ($what): a temporary file was left"
done

# 6. out of descriptors before the output is made: exit 1, the file named
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

# 7. lackey: a root forking 299 children, one log each, with 64 descriptors
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

# 8. lackey, a chain 100 -> 101 -> 102: a parent's log is closed while its
# child replays and reopened at its offset after, so the chain imports
# with the descriptors one log needs (it needed one more per level: each
# parent's log stayed open)
mkdir chain one
lk 100 99 101 >chain/lackey.100.1
lk 101 100 102 >chain/lackey.101.1
lk 102 101 >chain/lackey.102.1
lk 102 101 >one/lackey.102.1
least() {   # least DIR: the fewest descriptors its import succeeds with
    local n
    for n in 4 5 6 7 8 9 10 11 12; do
        (ulimit -n $n; exec "$MV" trace import --from lackey "$1"/lackey.* -o "$1.mvt") 2>err && { echo $n; return; }
    done
}
need=$(least chain)
need1=$(least one)
if [ -z "$need" ] || [ -z "$need1" ]; then
    fail "a chain of 3 lackey logs, or one log: no success with up to 12 descriptors: $(cat err)"
else
    [ "$need" -eq "$need1" ] || fail "a chain of 3 lackey logs needs $need descriptors, one log $need1"
    rm -f chain.mvt
    (ulimit -n $((need - 1)); exec "$MV" trace import --from lackey chain/lackey.* -o chain.mvt) 2>err
    rc=$?
    [ $rc -eq 1 ] || fail "chain with ulimit -n $((need - 1)): exit $rc, expected 1: $(cat err)"
    [ "$(wc -l <err)" -eq 1 ] && grep -q "^memvirt: cannot open '[^']*': Too many open files" err \
        || fail "chain with ulimit -n $((need - 1)): expected one line naming the file: $(cat err)"
    [ -e chain.mvt ] && fail "chain with ulimit -n $((need - 1)): a trace was written"
    ls -A | grep -q '^\.chain\.mvt' && fail "chain with ulimit -n $((need - 1)): a temporary file was left"
fi

# 8b. a chain of 1500 processes under a 1 MiB stack: the tree is walked
# with an explicit stack (the recursion of one call chain per level
# overflowed it: SIGSEGV, exit 139), and the trace is the chain's
mkdir deep
for i in $(seq 1000 2499); do
    if [ "$i" -lt 2499 ]; then lk "$i" $((i - 1)) $((i + 1)); else lk "$i" $((i - 1)); fi >"deep/lackey.$i.1"
done
(ulimit -s 1024; exec "$MV" trace import --from lackey deep/lackey.* -o deep.mvt) 2>err
rc=$?
[ $rc -eq 0 ] || fail "a chain of 1500 lackey logs under ulimit -s 1024: exit $rc: $(tail -2 err)"
"$MV" trace info deep.mvt >info 2>&1 || fail "trace info of the deep chain: $(tail -2 info)"
grep -q "fork 1499 " info || fail "a chain of 1500 lackey logs: expected 1499 forks: $(grep 'by kind' info)"

# 8c. 6000 logs, a root forking 5999 children: each process finds its
# images by a binary search among the logs sorted by pid (the search went
# over every log, with an inner loop over every log, once per process:
# 4000 logs took 53 s, 6000 about 3 minutes; now well under a second)
mkdir star
lk 10000 1 $(seq 10001 15999) >star/lackey.10000.1
for c in $(seq 10001 15999); do lk "$c" 10000 >"star/lackey.$c.1"; done
timeout 10 "$MV" trace import --from lackey star/lackey.* -o star.mvt 2>err
rc=$?
[ $rc -eq 0 ] || fail "6000 lackey logs: exit $rc (124: over 10 s, the quadratic search): $(tail -2 err)"

# 9. a lackey log that is not a regular file (read twice): one line, exit 2
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

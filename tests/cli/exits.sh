#!/usr/bin/env bash
# exits.sh: exit statuses other than bad input, and cost profiles.
#  - a guest that runs out of memory: status 3, one message, no output file;
#  - --profile changes what time is charged, not what happens;
#  - a table or listing that cannot be written to standard output (a full
#    disk, a closed descriptor): status 1 and one message (it was 0).
set -u
MV=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "exits.sh: $*" >&2; exit 1; }
# temporaries named from the start (as where O_TMPFILE is not to be had):
# the exits below must remove them; nameless ones would pass unexamined
export MEMVIRT_NAMED_TEMPS=1

# (a working set as large as the guest's RAM passes the configuration check,
# but the kernel's own 16 MiB leave too little for it)
"$MV" run --quiet --workload memwalk --param guest.ram_mb=64 --param memwalk.ws_mb=64 \
    --json "$tmp/oom.json" --csv "$tmp/oom.csv" >/dev/null 2>"$tmp/err"
rc=$?
[ "$rc" -eq 3 ] || fail "guest out of memory: exit status $rc, expected 3"
grep -q "ran out of memory" "$tmp/err" || fail "guest out of memory: message: $(cat "$tmp/err")"
[ ! -e "$tmp/oom.json" ] && [ ! -e "$tmp/oom.json.tmp" ] && [ ! -e "$tmp/oom.csv" ] \
    || fail "guest out of memory left an output file"

# a small stack limit: raised where the hard limit allows, else one line and
# status 1 (at 48 KiB the engine overflowed it: a crash, temporary files left)
(ulimit -s 128; exec "$MV" run --quiet --workload memwalk --param memwalk.refs=2000 --json "$tmp/stk.json") \
    >/dev/null 2>"$tmp/err"
rc=$?
[ "$rc" -eq 1 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] \
    && grep -qx "memvirt: the stack size limit (ulimit -s) is 128 KiB: memvirt needs at least 256 KiB" "$tmp/err" \
    || fail "ulimit -s 128: exit status $rc, expected 1 and one line: $(cat "$tmp/err")"
[ -z "$(ls -A "$tmp" | grep stk)" ] || fail "ulimit -s 128 left a file: $(ls -A "$tmp")"
(ulimit -S -s 48; exec "$MV" run --quiet --workload memwalk --param memwalk.refs=2000 --json "$tmp/stk.json") \
    >/dev/null 2>"$tmp/err" || fail "a soft stack limit of 48 KiB was not raised: $(cat "$tmp/err")"
(ulimit -s 256; exec "$MV" compare --quiet --modes native,hap --workload memwalk --param memwalk.refs=2000) \
    >/dev/null 2>"$tmp/err" || fail "ulimit -s 256: $(cat "$tmp/err")"
# ... the run threads too: glibc sized them by the limit as it was at start
(ulimit -S -s 20; exec "$MV" compare --quiet --modes native,hap --workload memwalk --param memwalk.refs=2000 \
    --jobs 2) >/dev/null 2>"$tmp/err" || fail "a soft stack limit of 20 KiB, --jobs 2: $(cat "$tmp/err")"

# out of open files for an output's temporary file: the host's limit, status 1
# (it was 2, bad input), no file left
# (descriptors inherited from the test's runner closed first, or the loader
# has none left for the libraries; LeakSanitizer's report at exit needs
# descriptors of its own)
(. "$(dirname "$0")/lib/close_fds.sh"; ulimit -n 4
 ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" exec "$MV" run --quiet --workload lmbench \
    --param lmbench.iterations=2 --json "$tmp/fd.json" --csv "$tmp/fd.csv") >/dev/null 2>"$tmp/err"
rc=$?
[ "$rc" -eq 1 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q "Too many open files" "$tmp/err" \
    || fail "ulimit -n 4: exit status $rc, expected 1 and one line: $(cat "$tmp/err")"
[ -z "$(ls -A "$tmp" | grep fd)" ] || fail "ulimit -n 4 left a file: $(ls -A "$tmp")"

# standard output that cannot be written
stdout_fails() {   # stdout_fails WHAT REASON CMD...: CMD with stdout redirected by the caller
    local what=$1 reason=$2 rc
    shift 2
    "$@" 2>"$tmp/err"
    rc=$?
    [ "$rc" -eq 1 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] &&
        grep -qx "memvirt: standard output: cannot write: $reason" "$tmp/err" ||
        fail "$what: exit status $rc, expected 1 and one line: $(cat "$tmp/err")"
}
if [ -c /dev/full ]; then
    stdout_fails "run >/dev/full" "No space left on device" \
        "$MV" run --quiet --workload lmbench --param lmbench.iterations=2 >/dev/full
    stdout_fails "list >/dev/full" "No space left on device" "$MV" list >/dev/full
    stdout_fails "--help >/dev/full" "No space left on device" "$MV" compare --help >/dev/full
fi
stdout_fails "list >&-" "Bad file descriptor" "$MV" list >&-
# a command that failed on standard output already said so: one line
if [ -c /dev/full ]; then
    "$MV" run --quiet --workload lmbench --param lmbench.iterations=2 --csv /dev/stdout >/dev/full 2>"$tmp/err"
    rc=$?
    [ "$rc" -eq 1 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] || fail "--csv /dev/stdout >/dev/full: exit $rc: $(cat "$tmp/err")"
fi
"$MV" run --quiet --workload lmbench --param lmbench.iterations=2 >/dev/null 2>"$tmp/err" && [ ! -s "$tmp/err" ] ||
    fail "run >/dev/null: failed or said something: $(cat "$tmp/err")"

# The nested profiles make each VM exit dearer (tsp: more latency, the same
# exits), and leave a PV guest's ring transitions alone (pv: the same).
lat() {
    "$MV" run --quiet --mode "$1" --workload lmbench --param lmbench.iterations=5 --profile "$2" \
        --json "$tmp/$1-$2.json" >/dev/null || fail "$1 under profile $2 failed"
    python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["runs"][0]; print(r["metrics"]["lat_fork_exit_us"], r["counters"]["vm_exits"])' "$tmp/$1-$2.json"
}
read -r d_lat d_ex < <(lat tsp default)
read -r n_lat n_ex < <(lat tsp nested)
read -r e_lat e_ex < <(lat tsp enlightened)
[ "$d_ex" = "$n_ex" ] && [ "$d_ex" = "$e_ex" ] || fail "profiles changed the exit count ($d_ex $n_ex $e_ex)"
python3 -c 'import sys; d,n,e=map(float,sys.argv[1:]); sys.exit(0 if d < e < n else 1)' "$d_lat" "$n_lat" "$e_lat" \
    || fail "tsp: expected default < enlightened < nested fork+exit latency, got $d_lat $e_lat $n_lat"
read -r pd_lat _ < <(lat pv default)
read -r pn_lat _ < <(lat pv nested)
[ "$pd_lat" = "$pn_lat" ] || fail "pv: the nested profile changed a PV guest's latency ($pd_lat, $pn_lat)"
echo "exits.sh: all checks passed"

#!/usr/bin/env bash
# outputs_inputs.sh: outputs against inputs, and outputs of every writer
# (run, rerun, trace import, calibrate) through lib/outfile:
#   output == input     --profile FILE, --trace FILE, rerun's result, an
#                       import's log: refused before any work (exit 2)
#   a device            a char device 1,3 made with mknod (root) stays a device
#   a symlink           trace import -o LINK writes the link's target
#   /dev/stdout | pipe  the document reaches the pipe (also /proc/self/fd/1)
#   unwritable          --json /proc/version, /sys/kernel/x.json: refused
#                       before a run that would take long (no table, fast)
#   long names          a 250-character file name works (temporary name cut short)
#   -o twice, -o -      refused
#   signals             TERM, SEGV, ABRT during a commit blocked on a
#                       FIFO without a reader: no temporary file left; nor after
#                       a guest out of memory, nor the host's (exit 1)
#   rerun               from the JSON alone: the profile file deleted, another
#                       directory; a changed trace refused, a relative trace
#                       found beside the result
#
# usage: bash outputs_inputs.sh /path/to/memvirt
set -u
MV=${1:?usage: outputs_inputs.sh /path/to/memvirt}
MV=$(cd "$(dirname "$MV")" && pwd)/$(basename "$MV")
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
src=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/memvirt-cli.XXXXXX") || exit 1
bg=
trap '[ -n "$bg" ] && kill "$bg" 2>/dev/null; rm -rf "$tmp"' EXIT
. "$(dirname "$0")/lib/expect.sh"
W="$tmp/w"
mkdir -p "$W"
cd "$W" || exit 1

RUN=(run --workload lmbench --param lmbench.iterations=2 --quiet)
# a run of many seconds: an error found before it is found fast
LONG=(run --workload lmbench --param lmbench.iterations=10000000 --quiet)
no_tmp_left() {   # no temporary file (".NAME.XXXXXX") in directory $1
    local left
    left=$(find "$1" -maxdepth 1 -name '.*' ! -name . | head -3)
    [ -z "$left" ] || fail "$2: temporary files left: $left"
}
strip() { grep -v '^  "revision": ' "$1"; }
same_doc() { cmp -s <(strip "$1") <(strip "$2"); }

"$MV" "${RUN[@]}" --json "$W/ref.json" >/dev/null 2>&1 || fail "reference run failed"

# --- an output that is an input: refused, the input intact ----------------
cp "$src/profiles/this-host.profile" p.profile
cp "$src/tests/data/shloop.mvt" t.mvt
cp p.profile p.orig && cp t.mvt t.orig
expect_bad "--json is --profile" "--json 'p.profile';--profile './p.profile';input" \
    "${RUN[@]}" --profile ./p.profile --json p.profile
cmp -s p.profile p.orig || fail "--json over --profile changed the profile"
expect_bad "--csv is --trace" "--csv '$W/t.mvt';--trace" run --mode pv --trace t.mvt --quiet --csv "$W/t.mvt"
expect_bad "--json is --trace" "--json 't.mvt';--trace" run --mode pv --trace t.mvt --quiet --json t.mvt
cmp -s t.mvt t.orig || fail "--json over --trace changed the trace"
cp ref.json r.json
expect_bad "rerun over its result" "--json 'r.json';rerun 'r.json'" rerun r.json --json r.json
ln -s r.json r_link.json
expect_bad "rerun over its result via a link" "r_link.json;rerun" rerun r.json --csv r_link.json
cmp -s r.json ref.json || fail "rerun over its own result changed it"
if command -v strace >/dev/null; then
    strace -f -ttt -o log.strace /bin/true 2>/dev/null
    cp log.strace log.orig
    expect_bad "import over its log" "-o 'log.strace';the log 'log.strace'" \
        trace import --from strace log.strace -o log.strace
    cmp -s log.strace log.orig || fail "trace import -o LOG changed the log"
    expect_bad "import -o twice" "-o given twice" trace import --from strace log.strace -o a.mvt -o b.mvt
    expect_bad "import -o -" "-o '-';binary" trace import --from strace log.strace -o -
    # a symlink: its target gets the trace, the link stays
    mkdir -p sub && ln -s sub/imp.mvt imp_link.mvt
    "$MV" trace import --from strace log.strace -o imp_link.mvt 2>/dev/null || fail "import -o LINK failed"
    [ -L imp_link.mvt ] && [ -s sub/imp.mvt ] || fail "import -o LINK: the link was replaced or its target not written"
    "$MV" trace info sub/imp.mvt >/dev/null 2>&1 || fail "import -o LINK: the target is not a trace"
    no_tmp_left "$W" "trace import"
else
    echo "outputs_inputs.sh: no strace: trace import cases skipped"
fi
expect_bad "record -o twice" "-o given twice" trace record -o a.mvt -o b.mvt -- /bin/true
expect_bad "calibrate -o twice" "-o given twice" calibrate -o a.profile -o b.profile

# --- a character device (1,3: null) stays a device ------------------------
if [ "$(id -u)" -eq 0 ] && mknod "$W/null" c 1 3 2>/dev/null; then
    "$MV" "${RUN[@]}" --json "$W/null" >/dev/null 2>&1 || fail "--json DEVICE: run failed"
    [ -c "$W/null" ] || fail "--json DEVICE: no longer a character device"
    if [ -s log.strace ]; then
        "$MV" trace import --from strace log.strace -o "$W/null" 2>/dev/null || fail "import -o DEVICE failed"
        [ -c "$W/null" ] || fail "import -o DEVICE: no longer a character device"
    fi
else
    echo "outputs_inputs.sh: not root (or mknod refused): the device case is skipped"
fi

# --- /dev/stdout and /proc/self/fd/1 into a pipe ----------------------------
for p in /dev/stdout /proc/self/fd/1; do
    [ -e "$p" ] || continue
    "$MV" "${RUN[@]}" --json "$p" 2>"$W/err" | cat >"$W/piped.json"
    cmp -s "$W/piped.json" "$W/ref.json" || fail "--json $p into a pipe: $(head -c 200 "$W/err")"
done

# --- unwritable: found before a long run ------------------------------------
for p in /proc/version /sys/kernel/x.json; do
    [ -e "$(dirname "$p")" ] || continue
    start=$(date +%s%N)
    expect_bad "--json $p" "--json '$p';cannot write" "${LONG[@]}" --json "$p"
    ms=$(( ($(date +%s%N) - start) / 1000000 ))
    [ "$ms" -lt 3000 ] || fail "--json $p: refused after $ms ms: not before the run"
done

# --- a 250-character name ---------------------------------------------------
long=$(printf 'n%.0s' $(seq 245)).json
"$MV" "${RUN[@]}" --json "$W/$long" >/dev/null 2>"$W/err" || fail "250-character name: $(cat "$W/err")"
cmp -s "$W/$long" ref.json || fail "250-character name: not the document"
no_tmp_left "$W" "long name"

# --- a signal while the commit waits for a FIFO's reader ---------------------
# TERM, and the others that end a process by default (a crash, an abort:
# those left temporaries behind): the process dies of the signal, its
# temporaries gone. (SIGPIPE ends it there too: outputs_stdio.sh.) (SIGXFSZ memvirt ignores: past a file-size
# limit a write fails with EFBIG, and outputs.sh sees it reported.)
# (AddressSanitizer keeps SIGSEGV for itself, and an address-space limit
# starves its shadow memory: those two cases are for the normal build)
asan=; ldd "$MV" | grep -q libasan && asan=1
sigs="TERM SEGV ABRT"; [ -n "$asan" ] && sigs="TERM ABRT"
# (MEMVIRT_NAMED_TEMPS=1: the temporary named from the start, as where
# O_TMPFILE is not to be had; nameless, it is not there to remove, below)
for sig in $sigs; do
    rm -rf "$W/sig" && mkdir -p "$W/sig" && mkfifo "$W/sig/fifo"
    MEMVIRT_NAMED_TEMPS=1 "$MV" "${RUN[@]}" --csv "$W/sig/out.csv" --json "$W/sig/fifo" >/dev/null 2>&1 &
    bg=$!
    for _ in $(seq 50); do   # the temporary exists from the start; the run ends in well under 1 s
        [ -n "$(find "$W/sig" -name '.out.csv.*')" ] && break
        sleep 0.1
    done
    [ -n "$(find "$W/sig" -name '.out.csv.*')" ] || fail "SIG$sig: no temporary file while running (test broken?)"
    sleep 1
    kill -"$sig" "$bg"
    wait "$bg"
    rc=$?
    bg=
    [ "$rc" -eq $((128 + $(kill -l "SIG$sig"))) ] || fail "SIG$sig: exit status $rc, expected to die of SIG$sig"
    no_tmp_left "$W/sig" "SIG$sig during a FIFO commit"
    [ -e "$W/sig/out.csv" ] && fail "SIG$sig: out.csv was written"
done
# nameless (O_TMPFILE), the temporary is not named while the FIFO's reader
# is awaited: a KILL there leaves nothing either
rm -rf "$W/sig" && mkdir -p "$W/sig" && mkfifo "$W/sig/fifo"
"$MV" "${RUN[@]}" --csv "$W/sig/out.csv" --json "$W/sig/fifo" >/dev/null 2>&1 &
bg=$!
sleep 1.5
kill_running "$bg" "KILL in a FIFO commit"
bg=
# (where the file system has no O_TMPFILE the named temporary is left, as
# docs/output.md says)
if tmpfile_ok "$W/sig"; then
    no_tmp_left "$W/sig" "KILL during a FIFO commit"
fi

# --- the host out of memory (an address-space limit): exit 1, one line, no
# temporaries (it aborted and left them) -------------------------------------
if [ -z "$asan" ]; then
    mkdir -p "$W/hostoom"
    # (a 16M-entry STLB asks for 128 MiB at once, which the host refuses)
    ( ulimit -v 150000; MEMVIRT_NAMED_TEMPS=1 exec "$MV" "${RUN[@]}" --param tlb.l2_entries=16777216 --param tlb.l2_ways=16 \
        --json "$W/hostoom/a.json" --csv "$W/hostoom/a.csv" ) >/dev/null 2>"$W/err"
    rc=$?
    [ "$rc" -eq 1 ] && grep -q "^memvirt: out of memory allocating [0-9]* bytes$" "$W/err" ||
        fail "host out of memory: exit status $rc, expected 1: $(cat "$W/err")"
    [ -z "$(ls -A "$W/hostoom")" ] || fail "host out of memory: files left: $(ls -A "$W/hostoom")"
fi

# --- a run that exits from deep inside (the guest out of memory, exit 3) ----
mkdir -p "$W/oom"
MEMVIRT_NAMED_TEMPS=1 "$MV" run --workload memwalk --param guest.ram_mb=64 --param memwalk.ws_mb=60 --quiet \
    --json "$W/oom/a.json" --csv "$W/oom/a.csv" >/dev/null 2>&1
rc=$?
[ "$rc" -eq 3 ] || fail "out of memory: exit status $rc, expected 3"
[ -z "$(ls -A "$W/oom")" ] || fail "out of memory: files left: $(ls -A "$W/oom")"

# --- rerun from the JSON alone ----------------------------------------------
# a profile file: deleted, and from another directory
sed 's/^cost.syscall = [0-9]*/cost.syscall = 12345/' p.orig >q.profile
grep -q '^cost.syscall = 12345' q.profile || fail "test setup: q.profile has no cost.syscall to change"
"$MV" run --mode pv --workload lmbench --param lmbench.iterations=2 --quiet --profile q.profile \
    --json prof.json >/dev/null 2>&1 || fail "run --profile q.profile failed"
grep -q '"cost.syscall": 12345' prof.json || fail "the profile's value is not in params"
rm q.profile
"$MV" rerun prof.json --quiet --json re1.json >/dev/null 2>&1 || fail "rerun with the profile deleted failed"
same_doc prof.json re1.json || fail "rerun with the profile deleted: a different document"
mkdir -p "$W/else" && (cd "$W/else" && "$MV" rerun ../prof.json --quiet --json re2.json >/dev/null 2>&1) ||
    fail "rerun from another directory failed"
same_doc prof.json "$W/else/re2.json" || fail "rerun from another directory: a different document"

# a trace: found beside the result, a changed one refused
mkdir -p "$W/tr" && cp t.orig "$W/tr/t.mvt"
(cd "$W/tr" && "$MV" run --mode pv --trace t.mvt --quiet --json tr.json >/dev/null 2>&1) || fail "trace run failed"
grep -q '"trace.digest": "[0-9]*:fnv1a64:[0-9a-f]\{16\}"' "$W/tr/tr.json" || fail "no trace.digest in the result"
cd "$W/else" || exit 1   # no t.mvt here: the one beside tr.json is used
"$MV" rerun ../tr/tr.json --quiet --json "$W/tr_re.json" >/dev/null 2>"$W/err" ||
    fail "rerun of a relative trace from another directory: $(cat "$W/err")"
same_doc "$W/tr/tr.json" "$W/tr_re.json" || fail "rerun of a trace: a different document"
cp "$src/tests/data/make.mvt" "$W/tr/t.mvt"
expect_bad "rerun, the trace replaced" "tr.json;tr/t.mvt;not the file the run replayed" rerun ../tr/tr.json --json "$J"
cp "$W/t.orig" "$W/tr/t.mvt" && printf 'x' >>"$W/tr/t.mvt"
expect_bad "rerun, the trace grown" "not the file the run replayed" rerun ../tr/tr.json --json "$J"
expect_bad "run, a given digest" "not the file the run replayed" \
    run --trace "$W/tr/t.mvt" --param trace.digest=1:fnv1a64:0000000000000000 --json "$J"
# a digest that is not one, or none where a result always has one: altered
expect_bad "run, a malformed digest" "trace.digest 'xyz': malformed" \
    run --trace "$W/tr/t.mvt" --param trace.digest=xyz --json "$J"
expect_bad "run, digest of 15 hex digits" "trace.digest '1:fnv1a64:000000000000000': malformed" \
    run --trace "$W/tr/t.mvt" --param trace.digest=1:fnv1a64:000000000000000 --json "$J"
sed 's/"trace.digest": "[^"]*"/"trace.digest": ""/' "$W/tr/tr.json" >"$W/tr/nodigest.json"
grep -q '"trace.digest": ""' "$W/tr/nodigest.json" || fail "test setup: no trace.digest emptied"
expect_bad "rerun, the digest emptied" "nodigest.json;trace.digest is empty" rerun ../tr/nodigest.json --json "$J"
sed 's/"trace.digest": "[^"]*"/"trace.digest": "xyz"/' "$W/tr/tr.json" >"$W/tr/baddigest.json"
expect_bad "rerun, a malformed digest" "baddigest.json;malformed" rerun ../tr/baddigest.json --json "$J"
# another file of the trace's name in the working directory: the one beside
# the result, whose digest matches, is replayed
cp "$W/t.orig" "$W/tr/t.mvt"
cp "$src/tests/data/make.mvt" "$W/else/t.mvt"
"$MV" rerun ../tr/tr.json --quiet --json "$W/tr_re2.json" >/dev/null 2>"$W/err" ||
    fail "rerun with another t.mvt in the working directory: $(cat "$W/err")"
same_doc "$W/tr/tr.json" "$W/tr_re2.json" || fail "rerun beside the result: a different document"
cd "$W" || exit 1

# --- any number of inputs: an import of twelve logs -------------------------
logs=()
for i in $(seq 1 12); do cp "$src/tests/fuzz/corpus/strace/sh.txt" "$W/l$i.txt"; logs+=("$W/l$i.txt"); done
"$MV" trace import --from strace "${logs[@]}" -o "$W/many.mvt" >/dev/null 2>"$W/err"
rc=$?
[ $rc -le 2 ] || fail "trace import of twelve logs: exit $rc ($(head -1 "$W/err"))"
grep -q "internal invariant" "$W/err" && fail "trace import of twelve logs: $(head -1 "$W/err")"
expect_bad "import over its 12th log" "the log" trace import --from strace "${logs[@]}" -o "$W/l12.txt"

# --- another user's file in a sticky directory: refused before the run ------
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
    mkdir -p "$W/sticky" && chmod 1777 "$W/sticky" && chmod 755 "$W" "$tmp"
    echo old >"$W/sticky/r.json" && chmod 666 "$W/sticky/r.json"
    t0=$(date +%s)
    setpriv --reuid=65534 --regid=65534 --clear-groups "$MV" "${LONG[@]}" --json "$W/sticky/r.json" \
        >/dev/null 2>"$W/err"
    rc=$?
    [ $rc -eq 2 ] || fail "sticky directory, another user's file: exit $rc, want 2 ($(head -1 "$W/err"))"
    grep -q "sticky" "$W/err" || fail "sticky directory: the message does not say why: $(head -1 "$W/err")"
    [ $(( $(date +%s) - t0 )) -le 5 ] || fail "sticky directory: refused only after the run"
    [ "$(cat "$W/sticky/r.json")" = old ] || fail "sticky directory: the file changed"
else
    echo "outputs_inputs.sh: not root or no setpriv: the sticky-directory case is skipped"
fi

finish outputs_inputs.sh

#!/usr/bin/env bash
# mmap_min_addr.sh: the recording kernel's vm.mmap_min_addr through import
# and replay (docs/traces.md). A log whose program mapped page 1 (allowed on
# a kernel with vm.mmap_min_addr 4096, refused on Debian's 65536):
#  - imported as is, the call is dropped and counted apart;
#  - imported with --mmap-min-addr 4096, it is kept and the header says so;
#    the replay then fails at it with exit 1 and a line naming
#    guest.mmap_min_addr and the header's 4096, and replays whole with that
#    parameter at 4096;
#  - a lackey reference below it gets no implicit mapping: dropped, counted;
#  - a bad --mmap-min-addr is exit 2, one line, no output.
#
# usage: bash mmap_min_addr.sh /path/to/memvirt
set -u
MV=${1:?usage: mmap_min_addr.sh /path/to/memvirt}
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/memvirt-minaddr.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

cat >"$tmp/low.strace" <<'LOG'
100 1796068568.000001 execve("/bin/x", ["x"], 0x7ffd2657570 /* 1 var */) = 0
100 1796068568.000002 mmap(0x1000, 16384, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_FIXED|MAP_ANONYMOUS, -1, 0) = 0x1000
100 1796068568.000003 mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f7c49499000
100 1796068568.000004 exit_group(0)                 = ?
100 1796068568.000005 +++ exited with 0 +++
LOG

"$MV" trace import --from strace "$tmp/low.strace" -o "$tmp/dflt.mvt" 2>"$tmp/err" || fail "import: $(cat "$tmp/err")"
grep -q '^memvirt: trace import: 1 .*below vm.mmap_min_addr dropped' "$tmp/err" ||
    fail "the low call is not counted as below vm.mmap_min_addr: $(cat "$tmp/err")"
"$MV" trace info "$tmp/dflt.mvt" >"$tmp/info" 2>&1 || fail "trace info: $(cat "$tmp/info")"
grep -q 'mmap 1$' "$tmp/info" || fail "default import: not one mmap: $(grep 'by kind' "$tmp/info")"
grep -q mmap_min_addr "$tmp/info" && fail "default import: the header names mmap_min_addr"

"$MV" trace import --from strace "$tmp/low.strace" --mmap-min-addr 4K -o "$tmp/low.mvt" 2>"$tmp/err" ||
    fail "import --mmap-min-addr: $(cat "$tmp/err")"
grep -q 'below vm.mmap_min_addr' "$tmp/err" && fail "--mmap-min-addr 4K still drops: $(cat "$tmp/err")"
"$MV" trace info "$tmp/low.mvt" >"$tmp/info" 2>&1 || fail "trace info: $(cat "$tmp/info")"
grep -q 'mmap 2$' "$tmp/info" || fail "--mmap-min-addr 4K: not two mmaps: $(grep 'by kind' "$tmp/info")"
grep -q '^  mmap_min_addr 4096$' "$tmp/info" || fail "the header does not give mmap_min_addr 4096: $(cat "$tmp/info")"

"$MV" run --quiet --trace "$tmp/low.mvt" >/dev/null 2>"$tmp/err"
rc=$?
[ "$rc" -eq 1 ] || fail "replay at Debian's 65536: exit $rc, expected 1"
[ "$(wc -l <"$tmp/err")" -eq 1 ] || fail "replay at 65536: not one line: $(cat "$tmp/err")"
grep -q "mmap at 0x1000.*EPERM); the guest's vm.mmap_min_addr is 65536, the recording kernel's was 4096 (the trace's header): replay with --param guest.mmap_min_addr=4096\$" "$tmp/err" ||
    fail "replay at 65536: the line does not name the call, the trace's value and the parameter: $(cat "$tmp/err")"
"$MV" run --quiet --trace "$tmp/low.mvt" --param guest.mmap_min_addr=4096 --check >/dev/null 2>"$tmp/err" ||
    fail "replay at 4096: $(cat "$tmp/err")"

# A lackey log's references outside every mapping get an implicit mapping,
# but not below vm.mmap_min_addr, where the replay's mmap would fail: there
# they are dropped and counted. Page 0 is below both limits, page 0x1000
# only below the default one.
printf '==100== Command: /bin/true\n==100== Parent PID: 99\n==100== \nI  0000001a,5\n L 00001008,8\n S 7f0000001000,8\n==100== \n' \
    >"$tmp/lk.100.log"
for lim in default 4K; do
    opt=() par=()
    [ "$lim" = 4K ] && opt=(--mmap-min-addr 4K) par=(--param guest.mmap_min_addr=4096)
    want=2 maps=1
    [ "$lim" = 4K ] && want=1 maps=2
    "$MV" trace import --from lackey "$tmp/lk.100.log" "${opt[@]}" -o "$tmp/lk.mvt" 2>"$tmp/err" ||
        fail "lackey import ($lim): $(cat "$tmp/err")"
    grep -q "^memvirt: trace import: $want references outside every mapping below vm.mmap_min_addr dropped" "$tmp/err" ||
        fail "lackey import ($lim): not $want low references dropped: $(cat "$tmp/err")"
    grep -q "^memvirt: trace import: $maps pages outside every traced mapping given an implicit mapping" "$tmp/err" ||
        fail "lackey import ($lim): not $maps implicit mappings: $(cat "$tmp/err")"
    "$MV" run --quiet --check --trace "$tmp/lk.mvt" "${par[@]}" >/dev/null 2>"$tmp/err" ||
        fail "lackey replay ($lim): $(cat "$tmp/err")"
done

for v in x -1 1e20 140737488355328; do
    rm -f "$tmp/x.mvt"
    "$MV" trace import --from strace "$tmp/low.strace" --mmap-min-addr "$v" -o "$tmp/x.mvt" >/dev/null 2>"$tmp/err"
    rc=$?
    [ "$rc" -eq 2 ] || fail "--mmap-min-addr $v: exit $rc, expected 2"
    [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q -- "--mmap-min-addr '$v'" "$tmp/err" ||
        fail "--mmap-min-addr $v: not one line naming it: $(cat "$tmp/err")"
    [ -e "$tmp/x.mvt" ] && fail "--mmap-min-addr $v: output written"
done
"$MV" trace import --from strace "$tmp/low.strace" --mmap-min-addr 4096 --mmap-min-addr 0 -o "$tmp/x.mvt" \
    >/dev/null 2>&1
[ $? -eq 2 ] || fail "--mmap-min-addr given twice with two values: accepted"

# A built-in workload's programs are mapped from 0x555555554000 (a PIE), memwalk's working set
# at memwalk.base_gb: a guest.mmap_min_addr above either is a bad parameter, refused before the
# run (exit 2, naming it and why), not exit 1 with advice about traces.
for w in lmbench forkstorm netio; do
    "$MV" run --quiet --mode native --workload $w --param guest.mmap_min_addr=140737488355327 >/dev/null 2>"$tmp/err"
    rc=$?
    [ "$rc" -eq 2 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] &&
        grep -q "^memvirt: --param guest.mmap_min_addr=140737488355327: above the address workload $w's programs are mapped from (93824992231424, 0x555555554000: their PIE image), so every exec would fail with EPERM" "$tmp/err" ||
        fail "$w at mmap_min_addr 2^47-1: exit $rc: $(cat "$tmp/err")"
done
"$MV" run --quiet --mode native --workload lmbench --param lmbench.iterations=2 \
    --param guest.mmap_min_addr=93824992231424 >/dev/null 2>"$tmp/err" || fail "lmbench at the PIE's address: $(cat "$tmp/err")"
"$MV" run --quiet --mode native --workload memwalk --param guest.mmap_min_addr=17592186044417 >/dev/null 2>"$tmp/err"
rc=$?
[ "$rc" -eq 2 ] && grep -qx "memvirt: --param guest.mmap_min_addr=17592186044417: above 0x100000000000, where memwalk.base_gb=16384 (the default) maps the working set: the mmap would fail with EPERM, as on Linux" "$tmp/err" ||
    fail "memwalk above its base: exit $rc: $(cat "$tmp/err")"
"$MV" run --quiet --mode native --workload memwalk --param memwalk.refs=1000 \
    --param guest.mmap_min_addr=17592186044416 >/dev/null 2>"$tmp/err" || fail "memwalk at its base: $(cat "$tmp/err")"

[ "$failures" -eq 0 ] || { echo "mmap_min_addr.sh: $failures failure(s)" >&2; exit 1; }
echo "mmap_min_addr.sh: ok"

#!/usr/bin/env bash
# bad_input.sh: every kind of bad command-line input is refused the same way:
# exit status 2, exactly one line on stderr that starts with "memvirt:" and
# names the bad input, nothing on stdout, and nothing written to the --json
# path given. Also: `memvirt list` succeeds and lists the modes, workloads
# and parameters.
#
# usage: bash bad_input.sh /path/to/memvirt
#
# Leak detection is off here, so this script checks the contract alone;
# cli_bad_input_leaks.sh checks the same contract with leak checking on.
set -u
MV=${1:?usage: bad_input.sh /path/to/memvirt}
[ -x "$MV" ] || { echo "bad_input.sh: '$MV' is not an executable" >&2; exit 1; }
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/memvirt-cli.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/lib/expect.sh"

expect_bad "unknown command"        "bogus"                bogus --json "$J"
expect_bad "unknown option"         "--bogus"              run --bogus --json "$J"
expect_bad "unknown option (compare)" "--frobnicate"       compare --frobnicate --json "$J"
expect_bad "unknown option, a value" "unknown option '--bogus'" run --bogus=3 --json "$J"
expect_bad "ambiguous prefix"       "'--mo' is ambiguous;--mode, --modes" run --mo native --json "$J"
expect_bad "ambiguous prefix, value" "'--mod' is ambiguous" run --mod=native --json "$J"
expect_bad "unknown mode"           "nosuch;mode"          run --mode nosuch --json "$J"
expect_bad "unknown mode in list"   "nosuch"               compare --modes native,nosuch --json "$J"
# a name with control bytes in it is shown escaped: the message stays one line
expect_bad "newline in a name"      "'no\\nsuch\\x01'"      run --profile $'no\nsuch\x01' --json "$J"
expect_bad "newline in a mode"      "n\\no"                   run --mode $'n\no' --json "$J"
expect_bad "two modes for run"      "--mode;one mode"      run --mode native,pv --json "$J"
expect_bad "--mode with compare"    "--mode"               compare --mode native --json "$J"
expect_bad "unknown workload"       "nosuch;workload"      run --workload nosuch --json "$J"
expect_bad "unknown param group"    "nosuch"               run --param nosuch.x=1 --json "$J"
expect_bad "unknown parameter"      "tlb.nosuch"           run --param tlb.nosuch=1 --json "$J"
expect_bad "--at without time"      "--at;TIME"            run --at ptcache=on --json "$J"
expect_bad "--at bad time unit"     "--at;5x"              run --at 5x:ptcache=on --json "$J"
expect_bad "--at unknown control"   "--at;frobnicate"      run --at 5m:frobnicate=1 --json "$J"
expect_bad "--at bad on/off"        "--at;maybe"           run --at 5m:ptcache=maybe --json "$J"
expect_bad "--at bad number"        "--at;ptcache_ratio"   run --at 5m:ptcache_ratio=-4 --json "$J"
# a control's value keeps to its parameter's range (in_use * ratio wrapped past 2^64)
expect_bad "--at number past range" "--at;ptcache_ratio;0 to 1000000" run --at 5m:ptcache_ratio=99999999999999999 --json "$J"
expect_bad "--at total past range"  "--at;ptcache_total;1073741825" run --at 5m:ptcache_total=1073741825 --json "$J"
expect_bad "malformed integer"      "tlb.l2_ways;abc"      run --param tlb.l2_ways=abc --json "$J"
expect_bad "out-of-range integer"   "tlb.l2_ways"          run --param tlb.l2_ways=0 --json "$J"
# a well-formed number too large for its type is out of range, not malformed
expect_bad "integer past 2^64"      "memwalk.refs;value 18446744073709551616 out of range [1, 1000000000000]" \
    run --workload memwalk --param memwalk.refs=18446744073709551616 --json "$J"
expect_bad "suffix past 2^64"       "memwalk.refs;value 16777216T out of range [1, 1000000000000]" \
    run --workload memwalk --param memwalk.refs=16777216T --json "$J"
expect_bad "number past a double"   "forkstorm.minutes;value 1e309 out of range [0.01, 10000]" \
    run --param forkstorm.minutes=1e309 --json "$J"
# a decimal range is written as a value is, not as %g's 1e+06
expect_bad "decimal range as written" "forkstorm.rate_per_min;value 2e6 out of range [0.1, 1000000]" \
    run --workload forkstorm --param forkstorm.rate_per_min=2e6 --json "$J"
"$MV" list 2>&1 | grep -q 'e+0' && fail "memvirt list writes a range with an exponent: $("$MV" list | grep 'e+0' | head -2)"
expect_bad "malformed, not big"     "memwalk.refs;malformed value '18446744073709551616x'" \
    run --workload memwalk --param memwalk.refs=18446744073709551616x --json "$J"
expect_bad "malformed boolean"      "guest.pcid;maybe"     run --param guest.pcid=maybe --json "$J"
expect_bad "no '=' in --param"      "tlb.l2_ways"          run --param tlb.l2_ways --json "$J"
expect_bad "bad choice"             "memwalk.pattern;zigzag" run --workload memwalk --param memwalk.pattern=zigzag --json "$J"
expect_bad "bad EPT population"     "hap.ept_populate;lazy;fault|boot" run --mode hap --param hap.ept_populate=lazy --json "$J"
expect_bad "other workload's param" "lmbench.iterations"   run --workload forkstorm --param lmbench.iterations=5 --json "$J"
expect_bad "memwalk param, default workload" "memwalk.pattern" run --param memwalk.pattern=zigzag --json "$J"
expect_bad "negative seed"          "--seed;-3"            run --seed -3 --json "$J"
expect_bad "malformed seed"         "--seed;12abc"         run --seed 12abc --json "$J"
# an unknown short option names itself, also inside a group (it named the
# word before it: 'unknown option run'; sweep said "option '--' needs a value")
expect_bad "unknown short option"   "unknown option '-z'"  run -zq --json "$J"
expect_bad "rerun: two files after --" "unexpected argument 'b.json'" rerun -- a.json b.json
expect_bad "unknown short, compare" "unknown option '-z'"  compare -zz --json "$J"
expect_bad "unknown short, sweep"   "sweep: unknown option '-x'" sweep /dev/null -x --out "$out/sw"
expect_bad "unknown short, sweep 2" "sweep: unknown option '-z'" sweep /dev/null -zq --out "$out/sw"
expect_bad "seed out of range"      "--seed;'9223372036854775808' out of range" run --seed 9223372036854775808 --json "$J"
expect_bad "seed past 2^64"         "--seed;'18446744073709551616' out of range" run --seed 18446744073709551616 --json "$J"
# a bad geometry names the parameters at fault, their values and the rule
expect_bad "invalid TLB geometry"   "--param tlb.l2_entries=100 is not a multiple of tlb.l2_ways=12 (the default);multiple of the ways" \
    run --param tlb.l2_entries=100 --json "$J"
expect_bad "TLB ways past entries"  "--param tlb.l1_4k_ways=128 is more than tlb.l1_4k_entries=64 (the default)" \
    run --param tlb.l1_4k_ways=128 --json "$J"
expect_bad "TLB sets not 2^n"       "--param tlb.l1_2m_entries=24 with tlb.l1_2m_ways=4 (the default) gives 6 sets, not a power of two;tlb.l1_2m_entries=16 or 32" \
    run --param tlb.l1_2m_entries=24 --json "$J"
expect_bad "cache ways"             "--param cache.ptw_ways=3 does not divide cache.ptw_kb=256 (the default: 4096 64-byte lines)" \
    run --param cache.ptw_ways=3 --json "$J"
expect_bad "cache sets not 2^n"     "--param cache.ptw_kb=48 (768 64-byte lines) with cache.ptw_ways=16 (the default) gives 48 sets, not a power of two" \
    run --param cache.ptw_kb=48 --json "$J"
expect_bad "cache tags too narrow"  "cache.ptw_kb=1, cache.ptw_ways=16 (the default): too few sets (1) to tag the lines of mode pv's 1048576 MiB machine;it needs at least 8" \
    run --mode pv --param cache.ptw_kb=1 --param hv.machine_mb=1048576 --json "$J"
expect_bad "IOTLB ways"             "--param iommu.iotlb_ways=3 does not divide iommu.iotlb_entries=64 (the default)" \
    run --mode pv --param iommu.iotlb_ways=3 --json "$J"
expect_bad "IOTLB sets not 2^n"     "--param iommu.iotlb_entries=96 with iommu.iotlb_ways=4 (the default) gives 24 sets, not a power of two" \
    run --mode pv --param iommu.iotlb_entries=96 --json "$J"
expect_bad "nested TLB ways"        "--param hap.ntlb_ways=3 does not divide hap.ntlb_entries=32 (the default)" \
    run --mode hap --param hap.ntlb_ways=3 --json "$J"
expect_bad "nested TLB sets"        "--param hap.ntlb_entries=48 with hap.ntlb_ways=4 (the default) gives 12 sets, not a power of two" \
    run --mode hap --param hap.ntlb_entries=48 --json "$J"
expect_bad "EPT leaf above the host page" "hap.ept_page_size=2m: larger than the host's pages (hv.host_page_size=4k)" \
    run --mode hap --param hap.ept_page_size=2m --param hv.host_page_size=4k --json "$J"
expect_bad "I/O superpages on 4.2"   "xen.iommu_superpages=2m: Xen 4.2's VT-d driver has no I/O superpages" \
    run --mode pv --param xen.iommu_superpages=2m --json "$J"
expect_bad "1G I/O pages on 4.2"     "xen.iommu_superpages=1g: Xen 4.2's VT-d driver has no I/O superpages" \
    run --mode pv --param xen.iommu_profile=xen-4.2 --param xen.iommu_superpages=1g --json "$J"
expect_bad "shadow prefetch group"  "shadow.prefetch=3: not a power of two" \
    run --mode tsp --param shadow.prefetch=3 --json "$J"
expect_bad "unknown profile"        "nosuch;profile"       run --profile nosuch --json "$J"
expect_bad "missing --param value"  "--param"              run --json "$J" --param
expect_bad "missing --mode value"   "--mode"               run --json "$J" --mode
expect_bad "stray argument"         "stray"                run --json "$J" stray
expect_bad "list with an argument"  "extra"                list extra
expect_bad "trace without action"   "trace;which action"   trace
expect_bad "trace info option"      "trace info;--bogus"   trace info --bogus
expect_bad "trace info -- alone"    "trace info;one trace file" trace info --
expect_bad "trace info -- A B"     "trace info;one trace file" trace info -- a b
expect_bad "record --refs twice"    "--refs given twice"   trace record --refs all --refs faults -o "$J" -- /bin/true
expect_bad "--param twice, other values" "clustering.enable given twice" run --mode tsp --param clustering.enable=true \
    --param clustering.enable=0 --json "$J"
expect_bad "--seed twice, other values" "--seed given twice" run --seed 1 --seed 2 --json "$J"
# a malformed second (or first) seed is said to be malformed, not a second value
expect_bad "--seed 1 --seed 01" "--seed: value '01' malformed" run --seed 1 --seed 01 --json "$J"
expect_bad "--seed 01 --seed 1" "--seed: value '01' malformed" run --seed 01 --seed 1 --json "$J"
expect_bad "--seed 1 --seed 2^63" "--seed: value '9223372036854775808' out of range" \
    run --seed 1 --seed 9223372036854775808 --json "$J"
# the same value written two ways is the same value
TWICE=(run --mode tsp --workload lmbench --param lmbench.iterations=2 --quiet)
"$MV" "${TWICE[@]}" --param clustering.enable=true --param clustering.enable=1 >/dev/null 2>"$tmp/err" ||
    fail "--param true and 1 refused: $(cat "$tmp/err")"
"$MV" "${TWICE[@]}" --param guest.ram_mb=4K --param guest.ram_mb=4096 >/dev/null 2>"$tmp/err" ||
    fail "--param 4K and 4096 refused: $(cat "$tmp/err")"
"$MV" "${TWICE[@]}" --seed 1024 --seed 1024 >/dev/null 2>"$tmp/err" || fail "--seed 1024 twice refused: $(cat "$tmp/err")"
# a seed is digits only, as its message says (attack round: 1K was taken as 1024)
expect_bad "--seed 1K --seed 1024" "--seed: value '1K' malformed (expected a decimal integer" "${TWICE[@]}" --seed 1K --seed 1024 --json "$J"
expect_bad "record --hold-ms twice" "--hold-ms given twice" trace record --hold-ms 5 --hold-ms 6 -o "$J" -- /bin/true

# list: succeeds, quietly, and names what exists
"$MV" list >"$tmp/list" 2>"$tmp/list.err"
rc=$?
if [ "$rc" -ne 0 ]; then
    fail "list: exit status $rc"
else
    [ -s "$tmp/list.err" ] && fail "list: wrote to stderr: $(head -c 200 "$tmp/list.err")"
    for w in native forkstorm lmbench memwalk; do
        grep -qw -- "$w" "$tmp/list" || fail "list: '$w' not listed"
    done
    grep -q '^ *cost\.[a-z_0-9]' "$tmp/list" || fail "list: no cost.* parameter listed"
    for p in tlb.l2_entries guest.pcid memwalk.pattern lmbench.iterations forkstorm.minutes; do
        grep -q "^ *$p " "$tmp/list" || fail "list: parameter $p not listed"
    done
fi

finish bad_input.sh

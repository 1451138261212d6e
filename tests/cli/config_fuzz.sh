#!/usr/bin/env bash
# config_fuzz.sh: a fixed, seeded sample of the configuration space, run
# under --check. Each run is a mode and a small workload with one to six
# parameters at the edges of their ranges (min, max, 0, 1, powers of two,
# fully associative geometry, a mapping limit a process does not fit). A
# run must succeed (exit 0), or refuse its input (exit 2, one 'memvirt:'
# line, nothing on stdout), or stop with one line that names the parameter
# to raise (exit 1 or 3); never a signal, a sanitizer report, a --check
# report or a hang. Every fourth run, if it succeeded, is made twice more:
# its --json is byte-identical. The same seed gives the same runs: a
# failure prints the command, and CONFIG_FUZZ_SHOW=1 prints each with its
# exit status. (A config attack round found the heap of a guest with
# guest.max_map_count=16 used after its brk was refused; seed 162's sample
# holds guest.max_map_count=1, 16 and 20.)
#
# usage: bash config_fuzz.sh /path/to/memvirt
set -u
MV=${1:?usage: config_fuzz.sh /path/to/memvirt}
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/memvirt-cli.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/lib/expect.sh"

RUNS=40
seed=162
# rnd N: a number in [0, N) into $r (Park and Miller's minimal standard
# generator: bash's $RANDOM sequence changed between versions)
rnd() {
    seed=$((seed * 48271 % 2147483647))
    r=$((seed % $1))
}
pick() {   # pick WORD...: one of the words into $v
    rnd $#
    shift "$r"
    v=$1
}

modes=(native pv pv-pibooster tsp ssp hap selective)
declare -A small=(
    [forkstorm]="forkstorm.minutes=0.05"
    [lmbench]="lmbench.iterations=3 lmbench.warmup=1"
    [memwalk]="memwalk.refs=20000 memwalk.ws_mb=8"
    [netio]="netio.seconds=0.01"
    [memwalk-gcc]="memwalk-gcc.refs=20000 memwalk-gcc.ws_mb=8"
    [memwalk-mcf]="memwalk-mcf.refs=20000 memwalk-mcf.ws_mb=8"
    [memwalk-phases]="memwalk-phases.refs=20000 memwalk-phases.ws_mb=8 memwalk-phases.phase_refs=5000 memwalk-phases.b_phase_refs=5000 memwalk-phases.b_ws_mb=8"
)
workloads=(forkstorm lmbench memwalk netio memwalk-gcc memwalk-mcf memwalk-phases)
# parameter=value choices, ';' between the alternatives: a bare value is
# one for the first alternative's parameter; a geometry's entries and ways
# come as one alternative
choices=(
    "guest.max_map_count=1;16;20;64;65530"
    "guest.ram_mb=64;65;4096"
    "guest.kernel_pgd_slots=0;4"
    "guest.pcid=false"
    "guest.flush_ceiling=0;1;1048576"
    "guest.zero_page=false"
    "guest.fault_around_bytes=0;65536;2097152"
    "guest.flush_after_fault=true"
    "guest.pt_cache_total=0;1" "guest.pt_cache_ratio=0;1000000"
    "guest.mmap_min_addr=0;4096"
    "tlb.l1_4k_entries=0" "tlb.l2_entries=0" "tlb.l2_2m=false"
    "tlb.l1_4k_entries=1 tlb.l1_4k_ways=1;tlb.l1_4k_entries=64 tlb.l1_4k_ways=64"
    "tlb.l2_entries=12 tlb.l2_ways=12;tlb.l2_entries=1 tlb.l2_ways=1"
    "tlb.pwc_l4=0 tlb.pwc_l3=0 tlb.pwc_l2=0;tlb.pwc_l2=4096"
    "cache.ptw_kb=0;cache.ptw_kb=1 cache.ptw_ways=16;cache.ptw_kb=1024 cache.ptw_ways=64"
    "hv.machine_mb=0" "hv.host_page_size=4k;2m"
    "hv.nic_mbps=1000 hv.disk_mbps=1000;hv.nic_mbps=100 hv.dma_period_us=1"
    "hv.nic_ring=1;4096" "hv.vpid=false"
    "xen.iommu_profile=xen-4.17" "xen.iommu_superpages=off;2m;1g" "xen.iommu_sync=false"
    "xen.linear_pt=false" "xen.preempt_entries=1" "xen.user_pgd=false" "xen.xpti=on;pcid"
    "iommu.iotlb_entries=1 iommu.iotlb_ways=1;iommu.iotlb_entries=64 iommu.iotlb_ways=64"
    "iommu.psi=false" "iommu.mamv=0;63" "iommu.caching_mode=true" "iommu.queued=false"
    "iommu.qi_entries=2" "iommu.units=2"
    "shadow.pool_permille=1;1000" "shadow.max_roots=0;1" "shadow.prefetch=0;1;512"
    "tsp.flood_threshold=1;1048576" "tsp.flood_detector=vcpu;page" "tsp.unsync=true"
    "tsp.unsync=true tsp.oos_limit=1;tsp.unsync=true tsp.oos_limit=4096" "tsp.retry=true;false"
    "ssp.rootbuf_entries=0;1;4096" "ssp.fault_trap=true" "ssp.flush_fill=true"
    "hap.ept_page_size=2m" "hap.ept_populate=boot"
    "hap.ntlb_entries=0;hap.ntlb_entries=1 hap.ntlb_ways=1;hap.ntlb_entries=64 hap.ntlb_ways=64"
    "hap.guest_pwc=false" "hap.ept_pwc_l4=0 hap.ept_pwc_l3=0 hap.ept_pwc_l2=0"
    "selective.policy=fixed;alternate" "selective.start=shadow"
    "selective.policy=alternate selective.alternate_ms=0.001;selective.sample_ms=0.001"
    "selective.history=1;64"
    "clustering.enable=true" "clustering.window=0;1000000000000" "clustering.cache_sites=1"
    "sim.check_every=1" "sim.series_ms=1"
    "cost.vm_exit=0" "cost.walk_ref=0 cost.walk_ref_miss=0" "cost.clock_ghz=0.1;10"
)

# judge DESC: $rc, $tmp/stdout and $tmp/stderr of the run DESC
judge() {
    local desc=$1 lines last
    lines=$(wc -l <"$tmp/stderr")
    last=$(tail -n 1 "$tmp/stderr")
    if grep -qE 'runtime error|Sanitizer|MV_ASSERT|assert' "$tmp/stderr"; then
        fail "$desc: $(head -c 400 "$tmp/stderr")"
        return 1
    fi
    case $rc in
        0) return 0 ;;
        2)
            [ "$lines" -eq 1 ] && [ "${last#memvirt:}" != "$last" ] && [ ! -s "$tmp/stdout" ] \
                || fail "$desc: bad input, not one 'memvirt:' line alone: $(head -c 400 "$tmp/stderr")" ;;
        1 | 3)
            case $last in
                memvirt:*"raise it with --param "*) ;;
                *) fail "$desc: exit $rc: $(head -c 400 "$tmp/stderr")" ;;
            esac ;;
        *) fail "$desc: exit $rc (124: a hang): $(head -c 400 "$tmp/stderr")" ;;
    esac
    return 1
}

for ((i = 0; i < RUNS; i++)); do
    rnd ${#modes[@]}; mode=${modes[r]}
    rnd ${#workloads[@]}; wl=${workloads[r]}
    args=(run --quiet --check --mode "$mode" --workload "$wl")
    for p in ${small[$wl]}; do args+=(--param "$p"); done
    rnd 6
    for ((n = 0; n <= r; n++)); do
        rnd ${#choices[@]}
        IFS=';' read -r -a vals <<<"${choices[r]}"
        pick "${vals[@]}"
        [ "${v#*=}" = "$v" ] && v="${vals[0]%%=*}=$v"
        for p in $v; do args+=(--param "$p"); done
    done
    desc="run $i: memvirt ${args[*]}"
    timeout 60 "$MV" "${args[@]}" >"$tmp/stdout" 2>"$tmp/stderr"
    rc=$?
    [ -n "${CONFIG_FUZZ_SHOW:-}" ] && echo "rc=$rc $desc" >&2
    judge "$desc" || continue
    if [ $((i % 4)) -eq 0 ]; then
        timeout 60 "$MV" "${args[@]}" --json "$tmp/a.json" >/dev/null 2>&1
        timeout 60 "$MV" "${args[@]}" --json "$tmp/b.json" >/dev/null 2>&1
        cmp -s "$tmp/a.json" "$tmp/b.json" || fail "$desc: two runs, two different --json"
    fi
done
finish config_fuzz.sh

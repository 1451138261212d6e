#!/usr/bin/env bash
# pibooster.sh: the PiBooster paper's five experiments on memvirt
# (docs/pibooster.md explains them and records one run's results).
#
#   experiments/pibooster.sh [--quick] [--out DIR] [--profile P]
#
# Runs the simulator (build it first: make), keeps every JSON result in DIR
# (default: experiments/out), and prints the summary tables (markdown).
# --quick: 6 simulated minutes instead of 30 and fewer lmbench iterations.
# --profile P: every run with cost profile P (a built-in name or a file,
# e.g. profiles/this-host.profile); experiments/pibooster_compare.py puts
# two such result directories side by side.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
mv="${MEMVIRT:-$root/build/memvirt}"
out="$here/out"
minutes=30
lm_iter=500
profile=default
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) minutes=6; lm_iter=100 ;;
        --out) out="$2"; shift ;;
        --profile) profile="$2"; shift ;;
        *) echo "usage: $0 [--quick] [--out DIR] [--profile P]" >&2; exit 2 ;;
    esac
    shift
done
[ -x "$mv" ] || { echo "build memvirt first: make" >&2; exit 1; }
mkdir -p "$out"
on_min=5
[ "$minutes" -lt 10 ] && on_min=2
run() { local name=$1; shift; "$mv" run --quiet --profile "$profile" --json "$out/$name.json" "$@" > "$out/$name.txt"; }

fs=(--workload forkstorm --param forkstorm.minutes=$minutes)
# 1-3: forkstorm with the cache disabled, enabled at boot, enabled at run time
run fs_pv            --mode pv "${fs[@]}"
run fs_pibooster     --mode pv-pibooster "${fs[@]}"
run fs_on_at         --mode pv-pibooster "${fs[@]}" --param guest.pt_cache=off --param forkstorm.ptcache_on_min=$on_min
run fs_pv417         --mode pv "${fs[@]}" --param xen.iommu_profile=xen-4.17
# 3: the shrink thresholds' effect on pool size and flushes
run fs_ratio100      --mode pv-pibooster "${fs[@]}" --param guest.pt_cache_ratio=100 --param guest.pt_cache_total=64
run fs_ratio400      --mode pv-pibooster "${fs[@]}" --param guest.pt_cache_ratio=400 --param guest.pt_cache_total=1024
# 4: lmbench
"$mv" compare --quiet --profile "$profile" --modes native,pv,pv-pibooster --workload lmbench \
    --param lmbench.iterations=$lm_iter --json "$out/lmbench.json" > "$out/lmbench.txt"
# 5: the NIC alone, and alongside the process churn
"$mv" compare --quiet --profile "$profile" --modes native,pv,pv-pibooster --workload netio --param netio.seconds=20 \
    --json "$out/netio.json" > "$out/netio.txt"
"$mv" compare --quiet --profile "$profile" --modes native,pv,pv-pibooster --workload netio --param netio.seconds=20 \
    --param hv.nic_ring=32 --json "$out/netio_ring32.json" > "$out/netio_ring32.txt"
for m in pv pv-pibooster; do
    run fs_nic_$m      --mode $m "${fs[@]}" --param hv.nic_mbps=88
    run fs_nic32_$m    --mode $m "${fs[@]}" --param hv.nic_mbps=88 --param hv.nic_ring=32
    run fs_nic32dsi_$m --mode $m "${fs[@]}" --param hv.nic_mbps=88 --param hv.nic_ring=32 --param iommu.psi=false
done

python3 "$here/pibooster_summary.py" "$out" "$on_min"

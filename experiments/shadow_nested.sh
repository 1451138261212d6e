#!/usr/bin/env bash
# shadow_nested.sh: the shadow and nested paging claims on memvirt
# (docs/shadow-nested.md explains them and records one run's results).
#
#   experiments/shadow_nested.sh [--quick] [--out DIR] [--profile P]
#
# Runs the simulator (build it first: make), keeps every JSON result in DIR
# (default: experiments/out-sn), and prints the summary tables (markdown).
# --quick: shorter runs (for a smoke test), not the documented figures.
# --profile P: every run under cost profile P (a name or a file, as
# `memvirt compare --profile`; docs/shadow-nested.md's calibrated column used
# profiles/this-host.profile).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
mv="${MEMVIRT:-$root/build/memvirt}"
out="$here/out-sn"
fs_min=5
lm_iter=100
tlb_refs=30000000
prof=()
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) fs_min=0.5; lm_iter=10; tlb_refs=2000000 ;;
        --out) out="$2"; shift ;;
        --profile) prof=(--profile "$2"); shift ;;
        *) echo "usage: $0 [--quick] [--out DIR] [--profile P]" >&2; exit 2 ;;
    esac
    shift
done
[ -x "$mv" ] || { echo "build memvirt first: make" >&2; exit 1; }
mkdir -p "$out"
cmp() { local name=$1; shift; "$mv" compare --quiet --json "$out/$name.json" "${prof[@]}" "$@" > "$out/$name.txt"; }

# 1. the 2D walk: what each nested-walk structure saves (random references
#    over 256 MiB, then a TLB-miss-bound pointer chase over 1 GiB)
gpwc_off=(--param tlb.pwc_l4=0 --param tlb.pwc_l3=0 --param tlb.pwc_l2=0 --param hap.guest_pwc=false)
eptpwc_off=(--param hap.ept_pwc_l4=0 --param hap.ept_pwc_l3=0 --param hap.ept_pwc_l2=0)
ntlb_off=(--param hap.ntlb_entries=0)
none=("${gpwc_off[@]}" "${eptpwc_off[@]}" "${ntlb_off[@]}")
rnd=(--workload memwalk --param memwalk.ws_mb=256 --param memwalk.refs=5000000)
cmp walk_all      --modes native,hap "${rnd[@]}"
cmp walk_none     --modes hap "${rnd[@]}" "${none[@]}"
cmp walk_gpwc     --modes hap "${rnd[@]}" "${eptpwc_off[@]}" "${ntlb_off[@]}"
cmp walk_eptpwc   --modes hap "${rnd[@]}" "${gpwc_off[@]}" "${ntlb_off[@]}"
cmp walk_ntlb     --modes hap "${rnd[@]}" "${gpwc_off[@]}" "${eptpwc_off[@]}"
# each structure's own share: everything on but it
cmp walk_no_gpwc   --modes hap "${rnd[@]}" "${gpwc_off[@]}"
cmp walk_no_eptpwc --modes hap "${rnd[@]}" "${eptpwc_off[@]}"
cmp walk_no_ntlb   --modes hap "${rnd[@]}" "${ntlb_off[@]}"
cmp walk_all_2m   --modes hap "${rnd[@]}" --param hap.ept_page_size=2m
cmp walk_none_2m  --modes hap "${rnd[@]}" "${none[@]}" --param hap.ept_page_size=2m

# 2-4. the modes on process churn, lmbench, a fault-heavy and a TLB-miss-bound memwalk
modes=native,tsp,ssp,hap
cmp fs     --modes $modes --workload forkstorm --param forkstorm.minutes=$fs_min
cmp lm     --modes $modes --workload lmbench --param lmbench.iterations=$lm_iter
cmp fault  --modes $modes --workload memwalk --param memwalk.ws_mb=64 --param memwalk.remap_every=2000 \
           --param memwalk.remap_kb=512 --param memwalk.refs=2000000
cmp tlb    --modes $modes --workload memwalk --param memwalk.ws_mb=1024 --param memwalk.pattern=chase \
           --param memwalk.refs=$tlb_refs
cmp tlb_2m --modes hap --workload memwalk --param memwalk.ws_mb=1024 --param memwalk.pattern=chase \
           --param memwalk.refs=$tlb_refs --param hap.ept_page_size=2m
# tsp as modern KVM (L1 shadows unsync instead of flooding), and without flooding
for v in "unsync:tsp.unsync=true" "noflood:tsp.flood_threshold=1048576"; do
    cmp "fs_${v%%:*}"    --modes tsp --workload forkstorm --param forkstorm.minutes=$fs_min --param "${v#*:}"
    cmp "lm_${v%%:*}"    --modes tsp --workload lmbench --param lmbench.iterations=$lm_iter --param "${v#*:}"
    cmp "fault_${v%%:*}" --modes tsp --workload memwalk --param memwalk.ws_mb=64 --param memwalk.remap_every=2000 \
                         --param memwalk.remap_kb=512 --param memwalk.refs=2000000 --param "${v#*:}"
done
# ssp with its faults in the hardware-mode trap too
cmp fs_ft  --modes ssp --workload forkstorm --param forkstorm.minutes=$fs_min --param ssp.fault_trap=true
cmp lm_ft  --modes ssp --workload lmbench --param lmbench.iterations=$lm_iter --param ssp.fault_trap=true
cmp fault_ft --modes ssp --workload memwalk --param memwalk.ws_mb=64 --param memwalk.remap_every=2000 \
           --param memwalk.remap_kb=512 --param memwalk.refs=2000000 --param ssp.fault_trap=true

python3 "$here/shadow_nested_summary.py" "$out"

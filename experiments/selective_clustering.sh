#!/usr/bin/env bash
# selective_clustering.sh: the claims of VEE'11 (selective switching between
# nested and shadow paging) and of Agesen et al., ATC'12 (exit clustering),
# on memvirt; docs/selective-clustering.md explains them and records one
# run's results.
#
#   experiments/selective_clustering.sh [--quick] [--out DIR]
#
# Runs the simulator (build it first: make), keeps every JSON result in DIR
# (default: experiments/out-sc), and prints the summary tables (markdown).
# --quick: shorter runs (a smoke test), not the documented figures.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
mv="${MEMVIRT:-$root/build/memvirt}"
out="$here/out-sc"
quick=0
fs_min=2
lm_iter=200
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) quick=1; fs_min=0.2; lm_iter=20 ;;
        --out) out="$2"; shift ;;
        *) echo "usage: $0 [--quick] [--out DIR]" >&2; exit 2 ;;
    esac
    shift
done
[ -x "$mv" ] || { echo "build memvirt first: make" >&2; exit 1; }
mkdir -p "$out"
# --quick: smaller presets (a preset's parameters go only with it).
q() {
    [ $quick -eq 1 ] || return 0
    case "$1" in
        memwalk-gcc) echo "--param memwalk-gcc.refs=2000000" ;;
        memwalk-mcf) echo "--param memwalk-mcf.refs=1000000 --param memwalk-mcf.ws_mb=32" ;;
        memwalk-phases) echo "--param memwalk-phases.refs=4000000 --param memwalk-phases.phase_refs=1000000" \
                             "--param memwalk-phases.b_phase_refs=200000" ;;
    esac
}
# Runs are independent: two at a time on this 2-core machine.
cmp() { local name=$1; shift; "$mv" compare --quiet --jobs 1 --json "$out/$name.json" "$@" > "$out/$name.txt"; }
pending=0
reap() { wait -n || { echo "selective_clustering.sh: a run failed (see $out/*.txt)" >&2; exit 1; }; pending=$((pending - 1)); }
bg() { cmp "$@" & pending=$((pending + 1)); if [ $pending -ge 2 ]; then reap; fi; }

# 1-2. The HAP/SP gap on the gcc-like and mcf-like presets, and selective on
# them and on the phase-changing one. VEE'11 samples every 5 s of a 403 s
# run (about 80 samples); these runs last 0.05 to 2 simulated seconds, so
# the period is scaled to 1 ms (docs/selective-clustering.md). VEE'11 ran on
# Xen, whose EPT maps all guest RAM when the domain is built: 1-3 use
# hap.ept_populate=boot (docs/selective-clustering.md, "the knobs").
xen=(--param hap.ept_populate=boot)
sel=(--param selective.sample_ms=1 "${xen[@]}")
for w in memwalk-gcc memwalk-mcf memwalk-phases; do
    # shellcheck disable=SC2046
    bg "sel_$w" --modes tsp,hap,selective --workload "$w" "${sel[@]}" $(q "$w")
    # shellcheck disable=SC2046
    bg "sel_${w}_host" --modes tsp,hap,selective --workload "$w" "${sel[@]}" $(q "$w") \
        --profile "$root/profiles/this-host.profile"
done

# 3. Forced switching once per simulated second: a round trip to the other
# mode and straight back (policy alternate), against staying.
for w in "forkstorm --param forkstorm.minutes=$fs_min" "lmbench --param lmbench.iterations=$((lm_iter * 10))" \
         "memwalk-mcf"; do
    n=${w%% *}
    # shellcheck disable=SC2086,SC2046
    for k in "stay_hap:selective.policy=fixed" "alt_hap:selective.policy=alternate --param selective.start=hap" \
             "stay_shadow:selective.policy=fixed --param selective.start=shadow" "alt_shadow:selective.policy=alternate --param selective.start=shadow"; do
        bg "switch_${n}_${k%%:*}" --modes selective --workload $w --param ${k#*:} "${xen[@]}" $(q "$n")
    done
done

# 4. Exit clustering in every mode with VM exits, off and on, under the
# default and the nested profile; and tsp's exits against the window.
hvm=tsp,ssp,hap,selective
for prof in default nested; do
    for w in "forkstorm --param forkstorm.minutes=$fs_min" "lmbench --param lmbench.iterations=$lm_iter" \
             "memwalk --param memwalk.ws_mb=64 --param memwalk.remap_every=2000 --param memwalk.remap_kb=512 --param memwalk.refs=2000000" \
             "netio --param netio.seconds=2" "memwalk-gcc"; do
        n=${w%% *}
        # shellcheck disable=SC2086,SC2046
        bg "cl_${prof}_${n}_off" --modes $hvm --profile $prof --workload $w $(q "$n")
        # shellcheck disable=SC2086,SC2046
        bg "cl_${prof}_${n}_on" --modes $hvm --profile $prof --workload $w --clustering $(q "$n")
    done
done
for win in 0 250 500 1000 2000 4000 8000; do
    bg "window_$win" --modes tsp --workload lmbench --param lmbench.iterations=$lm_iter --clustering \
        --param clustering.window=$win
done
while [ $pending -gt 0 ]; do reap; done

python3 "$here/selective_clustering_summary.py" "$out"

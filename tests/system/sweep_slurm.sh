#!/usr/bin/env bash
# sweep_slurm.sh: `memvirt sweep --slurm` against a real one-node Slurm
# (Debian's slurmctld and slurmd on the loopback address, a configuration
# written here, AuthType=auth/none). The merged result of the job array must
# be byte-identical to the same sweep run locally through GNU parallel, a
# resubmission must submit nothing, and after one result is deleted it must
# submit exactly that run.
#
# usage: bash sweep_slurm.sh /path/to/memvirt
# Needs root (slurmd runs jobs as their owner); skipped, loudly, otherwise.
set -u
MV=${1:?usage: sweep_slurm.sh /path/to/memvirt}
die() { echo "FAIL: $*" >&2; exit 1; }
if [ "$(id -u)" -ne 0 ]; then
    echo "SKIPPED: sweep_slurm.sh starts slurmctld and slurmd, which needs root; run 'make test' as root" >&2
    echo "SKIPPED: sweep_slurm.sh needs root" 
    exit 77
fi
for p in slurmctld slurmd sbatch sinfo parallel; do
    command -v $p >/dev/null || die "$p is not installed (scripts/setup installs it)"
done
tmp=$(mktemp -d "${TMPDIR:-/tmp}/memvirt-slurm.XXXXXX") || exit 1
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
    rm -rf "$tmp"
}
trap cleanup EXIT

# two free ports on the loopback address
read -r ctld_port d_port < <(python3 -c '
import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(*[x.getsockname()[1] for x in s])')
mkdir -p "$tmp/state" "$tmp/spool" "$tmp/log"
cat > "$tmp/slurm.conf" <<EOF
ClusterName=memvirt-test
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$d_port
AuthType=auth/none
CredType=cred/none
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$tmp/state
SlurmdSpoolDir=$tmp/spool
SlurmctldPidFile=$tmp/slurmctld.pid
SlurmdPidFile=$tmp/slurmd.pid
SlurmctldLogFile=$tmp/log/slurmctld.log
SlurmdLogFile=$tmp/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
SwitchType=switch/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerParameters=sched_interval=1
ReturnToService=2
MailProg=/bin/true
NodeName=mvnode NodeAddr=127.0.0.1 CPUs=$(nproc) State=UNKNOWN
PartitionName=test Nodes=mvnode Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF="$tmp/slurm.conf"
slurmctld -D -f "$SLURM_CONF" >"$tmp/log/ctld.out" 2>&1 & pids+=($!)
slurmd -D -f "$SLURM_CONF" -N mvnode >"$tmp/log/d.out" 2>&1 & pids+=($!)
for i in $(seq 1 60); do
    [ "$(sinfo -h -o %T 2>/dev/null)" = idle ] && break
    sleep 0.5
done
[ "$(sinfo -h -o %T 2>/dev/null)" = idle ] || die "Slurm did not come up: $(tail -5 "$tmp"/log/*)"

cat > "$tmp/s.sweep" <<'EOF'
# two groups, a seed range and a workload parameter: 6 runs
workload = lmbench
lmbench.iterations = 4
seed = 1..2
[native]
mode = native
[pv, two sizes]
mode = pv
lmbench.heap_kb = 64, 128
EOF
cd "$tmp" || exit 1
"$MV" sweep s.sweep -j 2 --out local 2>local.err || die "local sweep failed: $(cat local.err)"
"$MV" sweep merge local 2>/dev/null || die "local merge failed"

"$MV" sweep s.sweep --slurm --wait --out slurm >sb.out 2>sb.err || die "slurm sweep failed: $(cat sb.out sb.err)"
grep -q '^Submitted batch job' sb.out || die "no job submitted: $(cat sb.out sb.err)"
grep -q '^#SBATCH --array=0-5$' slurm/sweep-0.sbatch || die "array is not 0-5: $(grep array slurm/sweep-0.sbatch)"
[ "$(ls slurm/slurm/[0-9]*_*.out | wc -l)" -eq 6 ] || die "expected 6 array task logs, found: $(ls slurm/slurm)"
[ "$(ls slurm/slurm/merge_*.out | wc -l)" -eq 1 ] || die "expected the merge job's log, found: $(ls slurm/slurm)"
cmp local/merged.json slurm/merged.json || die "the merge job's JSON differs from GNU parallel's"
"$MV" sweep merge slurm 2>/dev/null || die "slurm merge failed"
cmp local/merged.json slurm/merged.json || die "merged JSON differs between Slurm and GNU parallel"
cmp local/merged.csv slurm/merged.csv || die "merged CSV differs between Slurm and GNU parallel"
[ "$(wc -l < slurm/merged.csv)" -eq 7 ] || die "merged CSV should have a header and 6 rows"

# resubmitted: nothing to do, nothing submitted
"$MV" sweep s.sweep --slurm --wait --out slurm >sb2.out 2>sb2.err || die "resubmission failed: $(cat sb2.err)"
grep -q 'all 6 runs already finished' sb2.err || die "resubmission did not skip: $(cat sb2.out sb2.err)"
grep -q Submitted sb2.out && die "a finished sweep was submitted again"

# one result lost: only its index is submitted, and the merge is whole again
id=$(awk -F'\t' '$1 == "4" { print $2 }' slurm/sweep.tsv)
[ -n "$id" ] || die "no run 4 in the manifest"
rm "slurm/runs/$id.json"
"$MV" sweep s.sweep --slurm --wait --out slurm >sb3.out 2>sb3.err || die "partial resubmission failed: $(cat sb3.err)"
grep -q '^#SBATCH --array=0$' slurm/sweep-0.sbatch && grep -q '^OFFSET=4$' slurm/sweep-0.sbatch \
    || die "resubmitted array is not just 4: $(grep -e array -e OFFSET slurm/sweep-0.sbatch)"
grep -q '1 finished now, 5 before' sb3.err || die "summary: $(cat sb3.err)"
"$MV" sweep merge slurm 2>/dev/null || die "merge after resubmission failed"
cmp local/merged.json slurm/merged.json || die "merged JSON differs after resubmission"

echo "sweep_slurm.sh: all checks passed"

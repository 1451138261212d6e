#!/usr/bin/env bash
# config_edges.sh: configurations that once crashed the simulator.
#  - a PV guest whose RAM is not a multiple of 2 MiB (read past the p2m);
#  - pv-pibooster without IOMMU sync (Xen did not flag, the guest released);
#  - machine memory too small for Xen's I/O page tables (abort, not an error).
set -u
MV=$1
fail() { echo "config_edges.sh: $*" >&2; exit 1; }
"$MV" run --quiet --mode pv --workload lmbench --param lmbench.iterations=3 --param guest.ram_mb=65 --check \
    >/dev/null || fail "pv with guest.ram_mb=65 failed"
"$MV" run --quiet --mode pv-pibooster --workload forkstorm --param forkstorm.minutes=0.3 \
    --param xen.iommu_sync=false --param guest.pt_cache_total=0 --check >/dev/null \
    || fail "pv-pibooster without IOMMU sync failed"
err=$("$MV" run --quiet --mode pv --workload lmbench --param guest.ram_mb=20480 --param hv.machine_mb=20528 2>&1 >/dev/null)
rc=$?
[ "$rc" -eq 2 ] || fail "tight hv.machine_mb: exit status $rc, expected 2 ($err)"
case "$err" in
    "memvirt: --param hv.machine_mb=20528: too small: the machine needs at least 20538 MiB: 20480 MiB for the guest"*"41 MiB for I/O page tables") ;;
    *) fail "tight hv.machine_mb: unexpected message: $err" ;;
esac
echo "config_edges.sh: all checks passed"

#!/usr/bin/env bash
# config_edges.sh: configurations that once crashed the simulator.
#  - a PV guest whose RAM is not a multiple of 2 MiB (read past the p2m);
#  - pv-pibooster without IOMMU sync (Xen did not flag, the guest released);
#  - machine memory too small for Xen's I/O page tables (abort, not an error);
#  - a netio slice of many references (its buffer was sized for the whole
#    slice: 384 MB for a tenth of a second at 1 Tbit/s, an abort for 8 s);
#  - a memwalk stride that is not a multiple of 8 (it reached the reference's
#    kind bits: a read became an exec, "not mapped").
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
# the same number of references per 4 KiB received (16) and bounded memory,
# however large a slice: 1.25e10 bytes, 3051758 pages, one slice (as long
# as the run: a longer one is cut at the run's end)
if [ -x /usr/bin/time ]; then
    tmp=$(mktemp -d "${TMPDIR:-/tmp}/memvirt-cli.XXXXXX") || exit 1
    trap 'rm -rf "$tmp"' EXIT
    for slice in 1000 100000; do
        /usr/bin/time -f %M -o "$tmp/rss.$slice" "$MV" run --quiet --mode native --workload netio \
            --param netio.seconds="$((slice / 1000))e-3" --param netio.link_mbps=1000000 \
            --param netio.slice_us=$slice \
            >"$tmp/out.$slice" || fail "netio.slice_us=$slice failed"
    done
    small=$(tail -n 1 "$tmp/rss.1000") large=$(tail -n 1 "$tmp/rss.100000")
    grep -qE '^refs +48828128$' "$tmp/out.100000" \
        || fail "netio.slice_us=100000: $(grep '^refs ' "$tmp/out.100000"), expected 48828128"
    [ "$large" -le $((small + 65536)) ] || fail "netio.slice_us=100000: max RSS $large KB ($small KB at slice_us=1000)"
fi
"$MV" run --quiet --mode native --workload memwalk --param memwalk.ws_mb=4 --param memwalk.refs=1000 \
    --param memwalk.pattern=stride --param memwalk.stride=9 >/dev/null || fail "memwalk.stride=9 failed"
echo "config_edges.sh: all checks passed"

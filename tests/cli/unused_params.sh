#!/usr/bin/env bash
# unused_params.sh: a parameter that no mode of the run reads is said so
# (sim/config_unused.c): one warning line per parameter, naming it and the
# modes that would read it, and the run itself unchanged; no warning when a
# mode of the run reads it, when the value is the default, or for groups
# every mode reads.
#
# usage: bash unused_params.sh /path/to/memvirt
set -u
MV=${1:?usage: unused_params.sh /path/to/memvirt}
MV=$(cd "$(dirname "$MV")" && pwd)/$(basename "$MV")
tmp=$(mktemp -d "${TMPDIR:-/tmp}/memvirt-cli.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/lib/expect.sh"
cd "$tmp" || exit 1
R=(--workload lmbench --param lmbench.iterations=2 --quiet)

"$MV" run --mode hap "${R[@]}" --param tsp.unsync=true --json a.json >/dev/null 2>err || fail "run failed: $(cat err)"
grep -qx "memvirt: warning: --param tsp.unsync=true: no mode of this run reads it (read by tsp, selective)" err ||
    fail "no warning for tsp.unsync under hap: $(cat err)"
[ "$(grep -c warning err)" -eq 1 ] || fail "more than one warning: $(cat err)"
"$MV" run --mode hap "${R[@]}" --json b.json >/dev/null 2>/dev/null || fail "plain run failed"
diff <(grep -v '"tsp.unsync"\|"revision"' a.json) <(grep -v '"tsp.unsync"\|"revision"' b.json) >/dev/null ||
    fail "the parameter no mode reads changed the result"

"$MV" run --mode native "${R[@]}" --param clustering.window=5 --param xen.user_pgd=false >/dev/null 2>err
grep -q "clustering.window=5: no mode of this run reads it (it is read only with --clustering)" err ||
    fail "no warning for clustering.window without --clustering: $(cat err)"
grep -q "xen.user_pgd=false: no mode of this run reads it (read by pv, pv-pibooster)" err ||
    fail "no warning for xen.* under native: $(cat err)"

# tsp.oos_limit bounds out-of-sync shadows: without tsp.unsync there are none
"$MV" run --mode tsp "${R[@]}" --param tsp.oos_limit=3 >/dev/null 2>err || fail "oos_limit run failed: $(cat err)"
grep -qx "memvirt: warning: --param tsp.oos_limit=3: read only with tsp.unsync=true (out-of-sync shadows are what it bounds)" err ||
    fail "no warning for tsp.oos_limit without tsp.unsync: $(cat err)"
"$MV" run --mode hap "${R[@]}" --param tsp.oos_limit=3 >/dev/null 2>err || fail "oos_limit under hap failed: $(cat err)"
[ "$(grep -c warning err)" -eq 1 ] || fail "tsp.oos_limit under hap: not one warning: $(cat err)"

# read by a mode of the run, or the default value, or a group every mode
# reads: nothing said
quiet() { "$MV" "$@" >/dev/null 2>err || fail "$*: failed: $(cat err)"; ! grep -q warning err || fail "$*: $(cat err)"; }
quiet compare --modes native,selective "${R[@]}" --param tsp.unsync=true --param hap.ept_page_size=2m
quiet run --mode hap "${R[@]}" --param tsp.unsync=false
quiet run --mode native "${R[@]}" --param tlb.l1_4k_entries=32 --param hv.nic_ring=128
quiet run --mode tsp "${R[@]}" --clustering --param clustering.window=5 --param shadow.max_roots=8
quiet run --mode tsp "${R[@]}" --param tsp.unsync=true --param tsp.oos_limit=3
finish unused_params.sh

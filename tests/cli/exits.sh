#!/usr/bin/env bash
# exits.sh: exit statuses other than bad input, and cost profiles.
#  - a guest that runs out of memory: status 3, one message, no output file;
#  - --profile changes what time is charged, not what happens.
set -u
MV=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "exits.sh: $*" >&2; exit 1; }

# (a working set as large as the guest's RAM passes the configuration check,
# but the kernel's own 16 MiB leave too little for it)
"$MV" run --quiet --workload memwalk --param guest.ram_mb=64 --param memwalk.ws_mb=64 \
    --json "$tmp/oom.json" --csv "$tmp/oom.csv" >/dev/null 2>"$tmp/err"
rc=$?
[ "$rc" -eq 3 ] || fail "guest out of memory: exit status $rc, expected 3"
grep -q "ran out of memory" "$tmp/err" || fail "guest out of memory: message: $(cat "$tmp/err")"
[ ! -e "$tmp/oom.json" ] && [ ! -e "$tmp/oom.json.tmp" ] && [ ! -e "$tmp/oom.csv" ] \
    || fail "guest out of memory left an output file"

lat() {
    "$MV" run --quiet --mode pv --workload lmbench --param lmbench.iterations=5 --profile "$1" \
        --json "$tmp/$1.json" >/dev/null || fail "profile $1 failed"
    python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["runs"][0]; print(r["metrics"]["lat_fork_exit_us"], r["counters"]["hypercalls"])' "$tmp/$1.json"
}
read -r d_lat d_hc < <(lat default)
read -r n_lat n_hc < <(lat nested)
read -r e_lat e_hc < <(lat enlightened)
[ "$d_hc" = "$n_hc" ] && [ "$d_hc" = "$e_hc" ] || fail "profiles changed the hypercall count ($d_hc $n_hc $e_hc)"
python3 -c 'import sys; d,n,e=map(float,sys.argv[1:]); sys.exit(0 if d < e < n else 1)' "$d_lat" "$n_lat" "$e_lat" \
    || fail "expected default < enlightened < nested fork+exit latency, got $d_lat $e_lat $n_lat"
echo "exits.sh: all checks passed"

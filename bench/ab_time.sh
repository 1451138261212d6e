#!/usr/bin/env bash
# ab_time.sh: which of two memvirt binaries runs one command faster, on a
# shared host. Runs `OLD run --quiet ARGS` and `NEW run --quiet ARGS`
# alternately, N times each, and prints the fastest user CPU time of each
# and their ratio new/old (below 1: NEW is faster), the ratio only when
# both took at least a second (times are to 0.01 s). The fastest of several
# runs is the one the host disturbed least; alternating spreads a slow
# spell over both. Set-up (mapping and prefaulting) is in both times, so
# give enough references that it is small beside them.
#
#   bench/ab_time.sh OLD NEW N ARGS...
# e.g. bench/ab_time.sh /tmp/old/build/memvirt build/memvirt 5 --mode native \
#        --workload memwalk --param memwalk.refs=30000000 \
#        --param memwalk.ws_mb=1024 --param memwalk.pattern=random
set -eu
OLD=${1:?usage: ab_time.sh OLD NEW N ARGS...}
NEW=${2:?new binary}
N=${3:?repetitions}
shift 3
case $N in '' | *[!0-9]*) echo "ab_time.sh: N='$N' is not a number" >&2; exit 2 ;; esac
N=$((10#$N))
[ "$N" -ge 1 ] || { echo "ab_time.sh: N must be at least 1" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "ab_time.sh: needs /usr/bin/time (scripts/setup installs it)" >&2; exit 2; }
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
# user seconds of one run; its output discarded, a failure stops the script
user_time() {
    /usr/bin/time -f %U -o "$tmp" "$1" run --quiet "${@:2}" > /dev/null ||
        { echo "ab_time.sh: $1 run ${*:2} failed" >&2; exit 1; }
    cat "$tmp"
}
best_old="" best_new=""
for ((i = 0; i < N; i++)); do
    t=$(user_time "$OLD" "$@")
    best_old=$(awk -v t="$t" -v b="$best_old" 'BEGIN { print (b == "" || t < b) ? t : b }')
    t=$(user_time "$NEW" "$@")
    best_new=$(awk -v t="$t" -v b="$best_new" 'BEGIN { print (b == "" || t < b) ? t : b }')
done
awk -v o="$best_old" -v n="$best_new" 'BEGIN {
    printf "old %.2f s, new %.2f s (user, fastest of each): new/old ", o, n
    if (o >= 1 && n >= 1) printf "%.3f\n", n / o; else print "n/a (under a second: give more references)" }'

#!/usr/bin/env bash
# instr_per_ref.sh: host instructions per simulated reference, counted by
# callgrind (repeatable to the instruction, unlike wall-clock time on a
# shared machine). Runs memwalk twice under valgrind, with N references and
# with 1, and prints (Ir(N) - Ir(1)) / (N - 1): the set-up and the prefault
# cancel out. Valgrind tells the program its L2 cache is 256 KiB, so
# MEMVIRT_PREFETCH=auto prefetches under it where a real run on a host
# with a bigger L2 would not: pass MEMVIRT_PREFETCH=off (or on) in the
# environment to count what a real run does.
#
#   bench/instr_per_ref.sh MEMVIRT MODE N [--param k=v ...]
# e.g. bench/instr_per_ref.sh build/memvirt native 300000 --param memwalk.ws_mb=64
set -eu
MV=${1:?usage: instr_per_ref.sh MEMVIRT MODE N [--param k=v ...]}
MODE=${2:?mode}
N=${3:?references}
shift 3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ir() {
    valgrind --tool=callgrind --callgrind-out-file="$tmp/cg.out" "$MV" run --quiet --mode "$MODE" \
        --workload memwalk --param memwalk.refs="$1" "${@:2}" >/dev/null 2>"$tmp/log" ||
        { cat "$tmp/log" >&2; exit 1; }
    sed -n 's/^summary: //p' "$tmp/cg.out"
}
a=$(ir "$N" "$@")
b=$(ir 1 "$@")
echo "$MODE $* : $(( (a - b) / (N - 1) )) instructions per reference (Ir $a - $b over $((N - 1)))"

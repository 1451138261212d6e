#!/usr/bin/env bash
# many_vmas.sh: one address space of N one-page VMAs, mapped in ascending or
# descending order, through the strace importer and a replay: the pattern
# that made a sorted array of VMAs (guest kernel and importers' builder)
# quadratic (docs/performance.md, "Address spaces of many VMAs"). Prints
# the user time and peak RSS of the import and of the replay.
#
#   bench/many_vmas.sh MEMVIRT N desc|asc
# e.g. bench/many_vmas.sh build/memvirt 262000 desc
set -eu
MV=${1:?usage: many_vmas.sh MEMVIRT N desc|asc}
N=${2:?N}
ORDER=${3:-desc}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# MAP_FIXED mmaps a page apart (never merged), from 0x7f0000000000 down or
# from 0x10000000 up, after an exec.
/usr/bin/python3 - "$N" "$ORDER" > "$tmp/log" <<'PY'
import sys
n, order = int(sys.argv[1]), sys.argv[2]
t = 1700000000.0
w = sys.stdout.write
w('%.6f execve("/bin/true", ["true"], 0x7ffd /* 1 vars */) = 0\n' % t)
for i in range(n):
    t += 0.000001
    a = 0x7f0000000000 - 2 * i * 4096 if order == 'desc' else 0x10000000 + 2 * i * 4096
    w('%.6f mmap(0x%x, 4096, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_FIXED|MAP_ANONYMOUS, -1, 0) = 0x%x\n'
      % (t, a, a))
w('%.6f exit_group(0) = ?\n%.6f +++ exited with 0 +++\n' % (t + 0.001, t + 0.001))
PY
/usr/bin/time -f "import $ORDER $N: %U s user, %M KB" "$MV" trace import --from strace "$tmp/log" \
    -o "$tmp/t.mvt" 2>&1 | grep '^import'
/usr/bin/time -f "replay $ORDER $N: %U s user, %M KB" "$MV" run --trace "$tmp/t.mvt" --quiet \
    --param guest.max_map_count=$((N + 100)) 2>&1 >/dev/null | grep '^replay'

#!/usr/bin/env bash
# compare_crash.sh: a compare where the hypervisor crashes one mode's domain
# still prints the table of the modes that completed; that mode's column
# says "domain crashed" (its other cells '-'), stderr has one line per
# crashed mode naming the event, the mode and Xen's reason, the exit status
# is 1 (as before) and no output file is written (a result file holds every
# mode asked for, or is not written). Serial and -j N give the same bytes.
#  - a crash beside a guest out of memory: both columns say so, exit 1 (the
#    run failed; 3 only when every failure is a guest out of memory),
#    whatever the modes' order;
#  - a crash beside any other failure (a call the guest refuses in every
#    mode), or with nothing completed: no table, as before.
#
# The crash: a kernel before Linux 4.19 (guest.l1tf_invert=false) makes a
# written page PROT_NONE; under pv and pv-pibooster the not-present entry
# names guest RAM and Xen's L1TF check (xen.l1tf_check) crashes the domain.
# The hardware-paging modes and native run it to the end.
#
# usage: bash compare_crash.sh /path/to/memvirt
set -u
MV=${1:?usage: compare_crash.sh /path/to/memvirt}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/memvirt-compare-crash.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

. "$(dirname "$0")/lib/oom_log.sh"
header() { lackey_header; }
protnone() {   # protnone ADDR: map 4 pages at ADDR, write two, make them PROT_NONE
    printf 'SYSCALL[100,1](9) sys_mmap ( 0x0, 16384, 3, 34, 4294967295, 0 ) --> [pre-success] Success(%#x)\n' "$1"
    printf ' S %x,8\n S %x,8\n' "$1" $(($1 + 4096))
    printf 'SYSCALL[100,1](10) sys_mprotect ( %#x, 16384, 0 ) --> [pre-success] Success(0x0)\n' "$1"
}
# the PROT_NONE, then eight one-page mmaps (alternating protections, so
# that none merges: each is a VMA of its own, for guest.max_map_count)
{
    header
    protnone $((0x10000000000))
    for i in 1 2 3 4 5 6 7 8; do
        printf 'SYSCALL[100,1](9) sys_mmap ( 0x0, 4096, %d, 34, 4294967295, 0 ) --> [pre-success] Success(%#x)\n' \
            $((i % 2 + 1)) $((0x30000000000 + i * 0x10000000))
    done
} >"$tmp/protnone.log"
"$MV" trace import --from lackey "$tmp/protnone.log" -o "$tmp/p.mvt" 2>"$tmp/err" || fail "import: $(cat "$tmp/err")"

base=(compare --quiet --trace "$tmp/p.mvt")
# a kernel that inverts PROTNONE entries: every mode runs it
"$MV" "${base[@]}" >"$tmp/ok" 2>"$tmp/err" || fail "guest.l1tf_invert=true: exit $?: $(cat "$tmp/err")"

# an old kernel: pv and pv-pibooster crashed, the others completed
old=(--param guest.l1tf_invert=false)
for j in 1 4; do
    "$MV" "${base[@]}" "${old[@]}" -j $j --json "$tmp/r.json" --csv "$tmp/r.csv" >"$tmp/out$j" 2>"$tmp/err$j"
    rc=$?
    [ "$rc" -eq 1 ] || fail "-j $j: exit status $rc, expected 1: $(cat "$tmp/err$j")"
    [ -e "$tmp/r.json" ] || [ -e "$tmp/r.csv" ] || compgen -G "$tmp/.r.*" >/dev/null &&
        fail "-j $j: an output file (or its temporary) was written"
done
cmp -s "$tmp/out1" "$tmp/out4" || fail "the table differs between -j 1 and -j 4"
cmp -s "$tmp/err1" "$tmp/err4" || fail "stderr differs between -j 1 and -j 4"
# one line per crashed mode, in mode order: the record, the mode, Xen's reason
crash_line() {   # crash_line MODE: the pattern of MODE's line
    echo "^memvirt: trace '[^']*p\.mvt': record 5 at byte [0-9]* of the decompressed stream: the hypervisor crashed the domain under $1: d1 L1TF-vulnerable L1e [0-9a-f]* - Crashing (xen\.l1tf_check"
}
[ "$(wc -l <"$tmp/err1")" -eq 2 ] && sed -n 1p "$tmp/err1" | grep -q "$(crash_line pv)" &&
    sed -n 2p "$tmp/err1" | grep -q "$(crash_line pv-pibooster)" ||
    fail "stderr is not pv's and pv-pibooster's crash, one line each: $(cat "$tmp/err1")"
grep -q '^workload trace, seed 1' "$tmp/out1" || fail "no table title: $(head -3 "$tmp/out1")"
# the columns, in --modes order; the crashed ones say so and have no numbers
# ("domain crashed" is two fields)
awk '
    /^ +native +pv +pv-pibooster +tsp +ssp +hap +selective *$/ { hdr = 1 }
    $1 == "simulated" { sim = ($4 ~ /^[0-9.]+$/ && $5 " " $6 == "domain crashed" && $7 " " $8 == "domain crashed" &&
                               $9 ~ /^[0-9.]+$/ && $12 ~ /^[0-9.]+$/ && NF == 12) }
    $1 == "busy" { busy = ($5 == "-" && $6 == "-" && $7 ~ /^[0-9.]+$/) }
    $1 == "pt_pages_alloc" { pt = ($2 > 0 && $3 == "-" && $4 == "-" && $5 > 0 && $8 > 0) }
    $1 == "vm_exits" { ex = ($3 == "-" && $4 == "-" && $5 > 0) }
    $1 == "hypervisor" { hv = ($3 == "-" && $4 == "-") }
    END { exit !(hdr && sim && busy && pt && ex && hv) }' "$tmp/out1" ||
    fail "the table does not show pv and pv-pibooster as crashed beside the others: $(head -8 "$tmp/out1")"
# the completed modes' columns are those of a compare without the pv modes
"$MV" "${base[@]}" "${old[@]}" --modes native,tsp,ssp,hap,selective >"$tmp/five" 2>"$tmp/err" ||
    fail "the hardware modes: $(cat "$tmp/err")"
awk 'NR == FNR { if ($1 == "walk_refs" || $1 == "vm_exits" || $1 == "guest_pf") v[$1] = $2 " " $3 " " $4 " " $5 " " $6; next }
     ($1 in v) { n++; if ($2 " " $5 " " $6 " " $7 " " $8 != v[$1]) bad = 1 } END { exit !(n == 3 && !bad) }' \
    "$tmp/five" "$tmp/out1" || fail "the completed modes' columns differ beside a crashed domain"
# one crashed mode among others: one line
"$MV" "${base[@]}" "${old[@]}" --modes native,pv,hap >"$tmp/out" 2>"$tmp/err"
rc=$?
[ "$rc" -eq 1 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q "$(crash_line pv)" "$tmp/err" &&
    awk '$1 == "simulated" { ok = ($4 ~ /^[0-9.]+$/ && $5 " " $6 == "domain crashed" && $7 ~ /^[0-9.]+$/) }
         END { exit !ok }' "$tmp/out" ||
    fail "native,pv,hap: exit $rc (expected 1), pv's column crashed, one line: $(head -4 "$tmp/out") $(cat "$tmp/err")"

# nothing completed: no table (run, and compare of the crashing modes alone:
# a line per mode)
for args in "1 run --mode pv" "2 compare --modes pv,pv-pibooster"; do
    want=${args%% *} args=${args#* }
    # shellcheck disable=SC2086
    "$MV" $args --quiet --trace "$tmp/p.mvt" "${old[@]}" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    [ "$rc" -eq 1 ] && [ ! -s "$tmp/out" ] && [ "$(wc -l <"$tmp/err")" -eq "$want" ] &&
        grep -q "$(crash_line pv)" "$tmp/err" ||
        fail "$args: exit $rc (expected 1), no table and $want line(s): $(head -c 300 "$tmp/out") $(cat "$tmp/err")"
done

# a crash beside another failure: every mode's guest refuses the ninth VMA
# (guest.max_map_count=8, after pv's crash): no result, no table
for j in 1 4; do
    "$MV" "${base[@]}" "${old[@]}" --param guest.max_map_count=8 -j $j >"$tmp/out" 2>"$tmp/err$j"
    rc=$?
    [ "$rc" -eq 1 ] && [ ! -s "$tmp/out" ] && grep -q 'failed: Cannot allocate memory (ENOMEM)' "$tmp/err$j" &&
        grep -q "$(crash_line pv)" "$tmp/err$j" ||
        fail "-j $j: crash and ENOMEM: exit $rc (expected 1), no table: $(head -c 300 "$tmp/out") $(cat "$tmp/err$j")"
done
cmp -s "$tmp/err1" "$tmp/err4" || fail "crash and ENOMEM: stderr differs between -j 1 and -j 4"

# a crash beside a guest out of memory (compare_oom.sh's workload: 4096 L1
# tables unmapped, then 36 MiB written, which pv-pibooster's kept pool does
# not fit in a 64 MiB guest), then the PROT_NONE, which crashes pv
{
    header
    table_churn
    protnone $((0x40000000000))
} >"$tmp/mixed.log"
"$MV" trace import --from lackey "$tmp/mixed.log" -o "$tmp/m.mvt" 2>"$tmp/err" || fail "import: $(cat "$tmp/err")"
mixed=(compare --quiet --trace "$tmp/m.mvt" --param guest.ram_mb=64 --param guest.pt_cache_total=1G "${old[@]}")
for modes in native,pv,pv-pibooster native,pv-pibooster,pv; do
    for j in 1 3; do
        "$MV" "${mixed[@]}" --modes $modes -j $j --json "$tmp/r.json" >"$tmp/out$j" 2>"$tmp/err$j"
        rc=$?
        [ "$rc" -eq 1 ] || fail "$modes -j $j: exit status $rc, expected 1: $(cat "$tmp/err$j")"
        [ -e "$tmp/r.json" ] && fail "$modes -j $j: an output file was written"
    done
    cmp -s "$tmp/out1" "$tmp/out3" && cmp -s "$tmp/err1" "$tmp/err3" ||
        fail "$modes: the output differs between -j 1 and -j 3"
    [ "$(wc -l <"$tmp/err1")" -eq 2 ] && grep -q "the hypervisor crashed the domain under pv: " "$tmp/err1" &&
        grep -q "the guest ran out of memory under pv-pibooster" "$tmp/err1" ||
        fail "$modes: stderr is not pv's crash and pv-pibooster's OOM: $(cat "$tmp/err1")"
    awk -v modes="$modes" '
        BEGIN { n = split(modes, m, ",") }
        $1 == "native" { for (i = 1; i <= n; i++) hdr += ($i == m[i]); hdr = hdr == n && NF == n }
        $1 == "simulated" {
            c = ""
            for (i = 5; i <= NF; i++) c = c " " $i
            sim = ($4 ~ /^[0-9.]+$/ && c == (m[2] == "pv" ? " domain crashed guest OOM" : " guest OOM domain crashed"))
        }
        $1 == "refs" { refs = ($2 > 0 && $3 == "-" && $4 == "-") }
        END { exit !(hdr && sim && refs) }' "$tmp/out1" ||
        fail "$modes: the table does not show the crash and the OOM beside native: $(head -5 "$tmp/out1")"
done

[ "$failures" -eq 0 ] || { echo "compare_crash.sh: $failures failure(s)" >&2; exit 1; }
echo "compare_crash.sh: all checks passed"

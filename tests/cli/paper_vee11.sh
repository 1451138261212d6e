#!/usr/bin/env bash
# paper_vee11.sh: the directions of VEE'11's selective-paging results on
# memvirt (Wang et al.; REFERENCE.md §6; docs/selective-clustering.md,
# claims 1a, 1b, 2a, 2b, 3), on short runs, with the settings the doc uses
# (hap.ept_populate=boot: Xen's EPT is the p2m; selective.sample_ms=1).
# Each bound is the direction of the paper's result with a margin, not an
# exact number (tests/golden keeps the numbers): a change that reverses an
# effect, or shrinks it to under half the paper's, fails here.
#
#   1a  memwalk-gcc (the preset as the doc runs it): hap faster than tsp by
#       at least 17%, half the paper's 34% (gcc: SP 534 s, HAP 403 s).
#       Measured: tsp 58.55 ms, hap 40.13 ms, tsp/hap 1.459.
#   1b  memwalk-mcf, 4 KiB EPT leaves: tsp faster than hap by at least 8%,
#       half the paper's 16% (mcf: HAP 383 s, SP 329 s). Shortened to
#       128 MiB and 5 M references (the preset: 256 MiB, 20 M; 7 s of CPU
#       for the three modes): hap's extra walk cost needs a working set
#       beyond what the EPT walk caches cover (at 32 MiB hap wins, tsp/hap
#       1.04), and enough chase after the fault-in (256 MiB at 4 M
#       references: 1.03). Measured: tsp 324.29 ms, hap 413.28 ms,
#       hap/tsp 1.274 (the preset: 1.433).
#   2a  selective within 1% of the better fixed mode on both (the paper's
#       "within 1%"; the doc measures +0.0% on gcc-like, -11.2% on
#       mcf-like). Measured here: 1.000 and 0.776.
#   2b  memwalk-phases, shortened (10 M references: 4 M gcc-like, 1 M
#       mcf-like, twice): selective at least 3% faster than the better fixed
#       mode (the doc: 13.4% on the full preset). Measured: tsp 156.01 ms,
#       hap 125.54 ms, selective 112.54 ms (0.896), 2 switches to shadow,
#       1 back.
#   3   forced round trips (selective.policy=alternate, every 100 ms: 3 or 4
#       in the mcf-like run of 1b): HAP->SP->HAP costs at most the paper's
#       0.95% over staying nested (measured +0.001%); SP->HAP->SP, which
#       rebuilds the shadows by faults, costs more (the direction, with
#       half a point of margin; measured +5.37% over staying in shadow).
#       docs/selective-clustering.md's claim 3 switches once a second on
#       the full preset (+0.78%) and says memvirt does not reach the
#       paper's 7.06%: here the round trips come ten times as often on a
#       shorter run, so each rebuild weighs more; only the order of the
#       two directions is the paper's claim checked.
# About 6 s of CPU in all. Normal build only (CMakeLists.txt): the results
# are the model's, the same in the sanitizer build (golden.sh checks that).
#
# usage: bash paper_vee11.sh /path/to/memvirt
set -u
MV=${1:?usage: paper_vee11.sh /path/to/memvirt}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/memvirt-vee11.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/lib/expect.sh"

xen=(--param hap.ept_populate=boot --param selective.sample_ms=1)
mcf=(--workload memwalk-mcf --param memwalk-mcf.ws_mb=128 --param memwalk-mcf.refs=5000000)
cmp() {   # cmp NAME ARGS...: memvirt compare into $tmp/NAME.json
    local name=$1; shift
    "$MV" compare --quiet --jobs 1 --json "$tmp/$name.json" "$@" >/dev/null 2>"$tmp/$name.err" ||
        fail "$name: memvirt compare $*: $(tail -1 "$tmp/$name.err")"
}
cmp gcc    --modes tsp,hap,selective --workload memwalk-gcc "${xen[@]}"
cmp mcf    --modes tsp,hap,selective "${mcf[@]}" "${xen[@]}"
cmp phases --modes tsp,hap,selective --workload memwalk-phases --param memwalk-phases.refs=10000000 \
    --param memwalk-phases.phase_refs=4000000 --param memwalk-phases.b_phase_refs=1000000 "${xen[@]}"
alt=(--param selective.alternate_ms=100)
cmp stay_hap    --modes selective "${mcf[@]}" "${xen[@]}" "${alt[@]}" --param selective.policy=fixed
cmp alt_hap     --modes selective "${mcf[@]}" "${xen[@]}" "${alt[@]}" --param selective.policy=alternate
cmp stay_shadow --modes selective "${mcf[@]}" "${xen[@]}" "${alt[@]}" --param selective.policy=fixed \
    --param selective.start=shadow
cmp alt_shadow  --modes selective "${mcf[@]}" "${xen[@]}" "${alt[@]}" --param selective.policy=alternate \
    --param selective.start=shadow
[ "$failures" -eq 0 ] || finish paper_vee11.sh

/usr/bin/python3 - "$tmp" <<'PY' || fail "a VEE'11 direction does not hold (above)"
import json, os, sys
d = sys.argv[1]
def load(name):
    j = json.load(open(os.path.join(d, name + ".json")))
    # busy simulated ms, as docs/selective-clustering.md's tables
    return {r["mode"]: (r["cycles"]["total"] - r["cycles"]["idle"]) / (j["clock_ghz"] * 1e6)
            for r in j["runs"]}, {r["mode"]: r for r in j["runs"]}
bad = []
def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        bad.append(what)

g, _ = load("gcc")
check(g["tsp"] >= 1.17 * g["hap"],
      "1a memwalk-gcc: tsp %.2f ms >= 1.17 x hap %.2f ms (tsp/hap %.3f)" % (g["tsp"], g["hap"], g["tsp"] / g["hap"]))
m, _ = load("mcf")
check(m["hap"] >= 1.08 * m["tsp"],
      "1b memwalk-mcf: hap %.2f ms >= 1.08 x tsp %.2f ms (hap/tsp %.3f)" % (m["hap"], m["tsp"], m["hap"] / m["tsp"]))
for name, b in (("memwalk-gcc", g), ("memwalk-mcf", m)):
    best = min(b["tsp"], b["hap"])
    check(b["selective"] <= 1.01 * best,
          "2a %s: selective %.2f ms within 1%% of the better fixed mode %.2f ms (%.3f)"
          % (name, b["selective"], best, b["selective"] / best))
p, pr = load("phases")
best = min(p["tsp"], p["hap"])
met = pr["selective"]["metrics"]
check(p["selective"] <= 0.97 * best and met["selective_to_shadow"] >= 1 and met["selective_to_nested"] >= 1,
      "2b memwalk-phases: selective %.2f ms <= 0.97 x the better fixed mode %.2f ms (%.3f), switching both ways (%d, %d)"
      % (p["selective"], best, p["selective"] / best, met["selective_to_shadow"], met["selective_to_nested"]))
sh, _ = load("stay_hap"); ah, ahr = load("alt_hap")
ss, _ = load("stay_shadow"); as_, asr = load("alt_shadow")
o_hap = ah["selective"] / sh["selective"] - 1
o_sh = as_["selective"] / ss["selective"] - 1
trips = (ahr["selective"]["metrics"]["selective_to_shadow"], asr["selective"]["metrics"]["selective_to_nested"])
check(min(trips) >= 1, "3 round trips happened: HAP->SP->HAP %d, SP->HAP->SP %d" % trips)
check(o_hap <= 0.0095, "3 HAP->SP->HAP: %+.3f%% <= 0.95%%" % (100 * o_hap))
check(o_sh >= o_hap + 0.005, "3 SP->HAP->SP: %+.3f%% > HAP->SP->HAP's %+.3f%% (by half a point)"
      % (100 * o_sh, 100 * o_hap))
sys.exit(1 if bad else 0)
PY
finish paper_vee11.sh

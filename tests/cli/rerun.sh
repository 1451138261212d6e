#!/usr/bin/env bash
# rerun.sh: a JSON result reproduces its run. `memvirt rerun FILE.json`
# prints the same table and writes byte-identical JSON and CSV, for a run and
# a comparison with parameters, controls, a seed, a profile and --check; the
# result names the version and revision (`memvirt --version`). A file that is
# not a memvirt result, or has been altered into an invalid configuration, is
# bad input naming the file and the key (or line and column).
#
# usage: bash rerun.sh /path/to/memvirt
set -u
MV=${1:?usage: rerun.sh /path/to/memvirt}
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/memvirt-cli.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/lib/expect.sh"
R="$tmp/res"
mkdir -p "$R"

# same_run NAME ARGS...: run, rerun from the JSON, compare everything
same_run() {
    local name=$1
    shift
    "$MV" "$@" --quiet --json "$R/$name.json" --csv "$R/$name.csv" >"$R/$name.txt" 2>"$R/$name.err" \
        || { fail "$name: run failed: $(head -c 300 "$R/$name.err")"; return; }
    "$MV" rerun "$R/$name.json" --quiet --json "$R/$name.2.json" --csv "$R/$name.2.csv" >"$R/$name.2.txt" \
        2>"$R/$name.2.err" || { fail "$name: rerun failed: $(head -c 300 "$R/$name.2.err")"; return; }
    cmp -s "$R/$name.json" "$R/$name.2.json" || fail "$name: rerun JSON differs: $(cmp "$R/$name.json" "$R/$name.2.json")"
    cmp -s "$R/$name.csv" "$R/$name.2.csv" || fail "$name: rerun CSV differs"
    cmp -s "$R/$name.txt" "$R/$name.2.txt" || fail "$name: rerun table differs"
    cmp -s "$R/$name.err" "$R/$name.2.err" || fail "$name: rerun stderr differs: $(cat "$R/$name.2.err")"
}

same_run plain run --workload lmbench --param lmbench.iterations=3
# a negative zero is 0 (the result wrote -0, which rerun read back as 0)
same_run negzero run --workload lmbench --param lmbench.iterations=2 --param lmbench.touch=-0
# a result file whose name starts with '-' is given after '--' (it was
# dropped: "which result?")
cp "$R/plain.json" "$R/-dash.json"
mv_abs=$(cd "$(dirname "$MV")" && pwd)/$(basename "$MV")
(cd "$R" && "$mv_abs" rerun --quiet --json plain.3.json -- -dash.json >/dev/null 2>"$R/dash.err") ||
    fail "rerun -- -dash.json: $(cat "$R/dash.err")"
cmp -s "$R/plain.json" "$R/plain.3.json" || fail "rerun -- -dash.json: not the same result"
same_run full compare --modes pv-pibooster --workload forkstorm --seed 42 --profile nested --check \
    --param forkstorm.minutes=0.05 --param forkstorm.rate_per_min=1000.5 \
    --param cost.clock_ghz=2.123456789123 --param guest.pt_cache_ratio=150 --param tlb.l2_ways=6 \
    --param guest.pt_cache=off --at 1.5s:ptcache_ratio=100 --at 300ms:ptcache=off --at 2s:ptcache=true
same_run memwalk run --mode pv --workload memwalk --param memwalk.ws_mb=16 --param memwalk.refs=20000 \
    --param memwalk.pattern=chase --param hv.machine_mb=4096

# The result names what produced it; every parameter of every group is there.
python3 - "$R/full.json" "$MV" <<'PY' || fail "configuration keys"
import json, subprocess, sys
d = json.load(open(sys.argv[1]))
ver = subprocess.run([sys.argv[2], "--version"], capture_output=True, text=True).stdout.split()
errs = []
if ["memvirt", d["version"], "(revision", d["revision"] + ")"] != ver:
    errs.append("version/revision %r %r vs --version %r" % (d["version"], d["revision"], ver))
if d["modes"] != ["pv-pibooster"] or [r["mode"] for r in d["runs"]] != d["modes"]:
    errs.append("modes %r" % d["modes"])
if d["seed"] != 42 or d["profile"] != "nested" or d["check"] is not True or d["workload"] != "forkstorm":
    errs.append("seed/profile/check/workload")
if d["at"] != ["300ms:ptcache=off", "1500ms:ptcache_ratio=100", "2s:ptcache=on"]:
    errs.append("at %r" % d["at"])
p = d["params"]
for k, v in {"forkstorm.minutes": 0.05, "forkstorm.rate_per_min": 1000.5, "cost.clock_ghz": 2.123456789123,
             "cost.vm_exit": 18890, "tlb.l2_ways": 6, "guest.pt_cache": "off", "xen.iommu_profile": "xen-4.2",
             "iommu.psi": True, "sim.series_ms": 60000, "cache.ptw_kb": 256}.items():
    if p.get(k) != v:
        errs.append("params[%s] = %r, expected %r" % (k, p.get(k), v))
if any(k.startswith("lmbench.") for k in p):
    errs.append("another workload's parameters are in the file")
for e in errs:
    print("  " + e, file=sys.stderr)
sys.exit(1 if errs else 0)
PY
# ... and `list` names the same parameters, no more, no fewer
"$MV" list | awk '/^  [a-z]+\.[a-z_0-9]+ / { print $1 }' | grep -v -E '^(lmbench|memwalk|netio|trace)\.' | sort >"$tmp/listed"
python3 -c 'import json,sys; print("\n".join(sorted(json.load(open(sys.argv[1]))["params"])))' "$R/full.json" >"$tmp/recorded"
cmp -s "$tmp/listed" "$tmp/recorded" || fail "params in the JSON differ from 'memvirt list': $(diff "$tmp/listed" "$tmp/recorded" | head -5)"
grep -q '^,forkstorm,config,cost.clock_ghz,,2.123456789123$' "$R/full.csv" || fail "CSV lacks the exact clock"
grep -q '^,forkstorm,config,mode,,pv-pibooster$' "$R/full.csv" || fail "CSV lacks the modes"

# --json - and the table on stderr: the same document
"$MV" rerun "$R/plain.json" --quiet --json - >"$tmp/stdout.json" 2>"$tmp/stderr.txt" || fail "rerun --json - failed"
cmp -s "$tmp/stdout.json" "$R/plain.json" || fail "rerun --json - differs"
cmp -s "$tmp/stderr.txt" "$R/plain.txt" || fail "with --json -, the table is not on stderr"

# altered files: one message naming the file and the key
cp "$R/plain.json" "$tmp/good.json"
alter() {   # alter NAME PYTHON-EXPR-ON-d: write $tmp/NAME.json
    python3 - "$tmp/good.json" "$tmp/$1.json" "$2" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
exec(sys.argv[3])
json.dump(d, open(sys.argv[2], "w"), indent=1)
PY
}
alter unknown_key   'd["speed"] = 1'
alter unknown_param 'd["params"]["tlb.l3_entries"] = 5'
alter other_wl      'd["params"]["memwalk.ws_mb"] = 5'
alter missing_param 'del d["params"]["guest.pcid"]'
alter older_rev   'del d["params"]["guest.pcid"]; d["revision"] = "0123456789ab"'
alter bad_range     'd["params"]["tlb.l2_ways"] = 0'
alter bad_type      'd["params"]["tlb.l2_ways"] = 2.5'
alter bad_bool      'd["params"]["guest.pcid"] = "yes"'
alter bad_choice    'd["params"]["xen.iommu_profile"] = "xen-3"'
alter neg_seed      'd["seed"] = -1'
alter no_modes      'd["modes"] = []'
alter dup_modes     'd["modes"] = ["pv", "pv"]'
alter bad_mode      'd["modes"] = ["hvm"]'
alter bad_wl        'd["workload"] = "spec"'
alter bad_profile   'd["profile"] = ""'   # a profile file is a label: only an empty one is wrong
alter long_profile  'd["profile"] = "p" * 1100'   # the reason comes after it: it was cut at 1,024 bytes
alter bad_at        'd["at"] = ["5x:ptcache=on"]'
alter schema        'd["memvirt"] = "2"'
alter clock         'd["clock_ghz"] = 3'
alter contradiction 'd["params"]["guest.ram_mb"] = 64; d["params"]["lmbench.heap_kb"] = 70000'
alter pt_cache      'd["modes"] = ["pv"]; d["params"]["guest.pt_cache"] = "on"'
alter not_object    'd = [d]'
alter runs_string   'd["runs"] = "x"'
alter runs_gone     'del d["runs"]'
alter runs_empty    'd["runs"] = []'
alter runs_other    'd["runs"][0]["mode"] = "hap" if d["runs"][0]["mode"] != "hap" else "pv"'
printf '{\n  "memvirt": "1",\n  "seed": tru\n}\n' >"$tmp/syntax.json"
printf '{"memvirt": "1", "memvirt": "1"}' >"$tmp/dupkey.json"
printf '' >"$tmp/empty.json"
printf '{"memvirt": "1"}' >"$tmp/schema_only.json"   # four keys missing: one line, for the first
expect_bad "unknown key"          "unknown_key.json;speed"                 rerun "$tmp/unknown_key.json" --json "$J"
expect_bad "runs not an array"    "runs_string.json;runs: expected an array" rerun "$tmp/runs_string.json" --json "$J"
expect_bad "no runs"              "runs_gone.json;no 'runs'"              rerun "$tmp/runs_gone.json" --json "$J"
expect_bad "no run in runs"       "runs_empty.json;runs: expected an array" rerun "$tmp/runs_empty.json" --json "$J"
expect_bad "another mode's run"   "runs_other.json;runs[0]: expected the run of mode" rerun "$tmp/runs_other.json" --json "$J"
expect_bad "unknown parameter"    "unknown_param.json;tlb.l3_entries"  rerun "$tmp/unknown_param.json" --json "$J"
expect_bad "other workload's"     "other_wl.json;memwalk.ws_mb"        rerun "$tmp/other_wl.json" --json "$J"
expect_bad "missing parameter"    "missing_param.json;guest.pcid"      rerun "$tmp/missing_param.json" --json "$J"
expect_bad "one another revision lacked" "older_rev.json;guest.pcid;revision 0123456789ab;the revision that wrote it" \
    rerun "$tmp/older_rev.json" --json "$J"
expect_bad "out of range"         "bad_range.json;tlb.l2_ways;range"   rerun "$tmp/bad_range.json" --json "$J"
expect_bad "wrong type"           "bad_type.json;tlb.l2_ways;integer"  rerun "$tmp/bad_type.json" --json "$J"
expect_bad "bool as string"       "bad_bool.json;guest.pcid"           rerun "$tmp/bad_bool.json" --json "$J"
expect_bad "bad choice"           "bad_choice.json;xen.iommu_profile"  rerun "$tmp/bad_choice.json" --json "$J"
expect_bad "negative seed"        "neg_seed.json;seed"                 rerun "$tmp/neg_seed.json" --json "$J"
expect_bad "no modes"             "no_modes.json;modes"                rerun "$tmp/no_modes.json" --json "$J"
expect_bad "a mode twice"         "dup_modes.json;modes[1];twice"      rerun "$tmp/dup_modes.json" --json "$J"
expect_bad "unknown mode"         "bad_mode.json;modes[0]"             rerun "$tmp/bad_mode.json" --json "$J"
expect_bad "unknown workload"     "bad_wl.json;workload;spec"          rerun "$tmp/bad_wl.json" --json "$J"
expect_bad "empty profile"        "bad_profile.json;profile"           rerun "$tmp/bad_profile.json" --json "$J"
expect_bad "long profile label"   "long_profile.json;profile;not a profile name or file name memvirt writes" \
    rerun "$tmp/long_profile.json" --json "$J"
expect_bad "bad control"          "bad_at.json;at[0];5x"               rerun "$tmp/bad_at.json" --json "$J"
expect_bad "other schema"         "schema.json;memvirt;'2'"            rerun "$tmp/schema.json" --json "$J"
expect_bad "clock disagrees"      "clock.json;clock_ghz"               rerun "$tmp/clock.json" --json "$J"
expect_bad "contradiction"        "contradiction.json;lmbench.heap_kb" rerun "$tmp/contradiction.json" --json "$J"
expect_bad "mode contradiction"   "pt_cache.json;guest.pt_cache;pv"    rerun "$tmp/pt_cache.json" --json "$J"
expect_bad "not an object"        "not_object.json;object"             rerun "$tmp/not_object.json" --json "$J"
expect_bad "syntax error"         "syntax.json:3:"                     rerun "$tmp/syntax.json" --json "$J"
expect_bad "duplicate key"        "dupkey.json:1:;duplicate"           rerun "$tmp/dupkey.json" --json "$J"
expect_bad "empty file"           "empty.json"                         rerun "$tmp/empty.json" --json "$J"
expect_bad "keys missing"         "schema_only.json;'version'"         rerun "$tmp/schema_only.json" --json "$J"
expect_bad "no such file"         "nosuch.json"                        rerun "$tmp/nosuch.json" --json "$J"
# an endless or binary input is refused as it is read (rerun /dev/zero took
# memory until the allocation failed, then aborted); a finite stream of it here
head -c 3000000 /dev/zero >"$tmp/zeros"
expect_bad "binary input"         "-: NUL byte at byte 0"              rerun - --json "$J" <"$tmp/zeros"
printf '{"memvirt": "1"\0}' >"$tmp/nul.json"
expect_bad "a NUL byte"           "nul.json;NUL byte at byte 15"       rerun "$tmp/nul.json" --json "$J"
# a number too small for a double: jansson reads it as 0, which --param
# refuses to take for 1e-400 (and a parameter of valid 0 would have run)
python3 - "$tmp/good.json" "$tmp/tiny.json" <<'PY'
import re, sys
s = open(sys.argv[1]).read()
t = re.sub(r'("cost\.[a-z_0-9]+": )[0-9][0-9.e+-]*', lambda m: m.group(1) + "1e-400", s, count=1)
assert t != s
open(sys.argv[2], "w").write(t)
PY
line=$(grep -n '1e-400' "$tmp/tiny.json" | cut -d: -f1)
expect_bad "a number underflowing" "tiny.json:$line:;too small for a double" rerun "$tmp/tiny.json" --json "$J"
# a byte-order mark an editor added: named, not shown as an invisible character
{ printf '\357\273\277'; cat "$tmp/good.json"; } >"$tmp/bom.json"
expect_bad "a byte-order mark"    "bom.json:1:1:;byte-order mark"      rerun "$tmp/bom.json" --json "$J"
expect_bad "no file"              "rerun"                              rerun --json "$J"
expect_bad "two files"            "rerun;extra.json"                   rerun "$tmp/good.json" extra.json --json "$J"
expect_bad "a CSV given"          "plain.csv"                          rerun "$R/plain.csv" --json "$J"
# the unaltered copy still reruns
"$MV" rerun "$tmp/good.json" --quiet >/dev/null 2>&1 || fail "unaltered copy does not rerun"

# another revision: a warning, and the run goes on
alter oldrev 'd["revision"] = "0000000"'
"$MV" rerun "$tmp/oldrev.json" --quiet >/dev/null 2>"$tmp/stderr" || fail "older revision: rerun failed"
grep -q '^memvirt: warning: rerun: .*oldrev.json was written by memvirt .* (revision 0000000)' "$tmp/stderr" \
    || fail "older revision: no warning: $(cat "$tmp/stderr")"

# an edited revision of 10,000 characters is cut short in the warning
alter longrev 'd["revision"] = "r" * 10000'
"$MV" rerun "$tmp/longrev.json" --quiet >/dev/null 2>"$tmp/stderr" || fail "long revision: rerun failed"
grep -q '(revision rrrr*\.\.\.), this is' "$tmp/stderr" && [ "$(wc -c <"$tmp/stderr")" -lt 400 ] \
    || fail "long revision: not cut short: $(head -c 300 "$tmp/stderr")"

finish rerun.sh

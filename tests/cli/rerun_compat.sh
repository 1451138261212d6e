#!/usr/bin/env bash
# rerun_compat.sh: a result written before a parameter existed can be rerun
# when the parameter's default is what the older revisions did
# (config_load.c, added_keeping_old), and only then.
#
#  1. Every golden result, written back as an older revision would have
#     written it (those parameters left out where they hold their default,
#     another revision), reruns to the golden statistics byte for byte,
#     with one warning naming what took its default.
#  2. Any other missing parameter is still refused, naming it and the
#     revision; so is one of those parameters missing from a result of this
#     very revision (no older revision wrote that file).
# About 10 s of CPU.
#
# usage: bash rerun_compat.sh /path/to/memvirt
set -u
MV=${1:?usage: rerun_compat.sh /path/to/memvirt}
here=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/memvirt-compat.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/lib/expect.sh"
cd "$here"   # golden runs name their inputs relative to the checkout

# older NEW.json FROM.json REVISION [KEY...]: FROM with the listed keys (all
# of the compatible ones when none is given, where they hold their default)
# removed from its params and its revision set to REVISION
older() {
    /usr/bin/python3 - "$@" <<'PY'
import json, sys
out, src, rev, keys = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
defaults = {"iommu.units": 1, "guest.fault_around_bytes": 4096,
            "cost.fault_around_page": 150, "guest.flush_after_fault": False, "ssp.flush_fill": False,
            "hv.vpid": True, "xen.xpti": "off"}
r = json.load(open(src))
p = r["params"]
for k in keys or [k for k in defaults if p[k] == defaults[k]]:
    del p[k]
r["revision"] = rev
json.dump(r, open(out, "w"), indent=2)
PY
}
strip() { grep -v '^  "revision": ' "$1"; }

n=0
for g in tests/golden/*.json; do
    name=$(basename "$g" .json)
    older "$tmp/$name.old.json" "$g" 0000000-older
    if ! "$MV" rerun "$tmp/$name.old.json" --quiet --json "$tmp/$name.json" >/dev/null 2>"$tmp/$name.err"; then
        fail "$name: the older result was refused: $(head -1 "$tmp/$name.err")"
        continue
    fi
    grep -q "warning: rerun: $tmp/$name.old.json: params: no value for .*hv.vpid.*xen.xpti.*, which came after memvirt revision 0000000-older wrote the result: using their defaults, what that revision did" "$tmp/$name.err" ||
        fail "$name: no warning naming the defaulted parameters: $(cat "$tmp/$name.err")"
    cmp -s <(strip "$g") <(strip "$tmp/$name.json") ||
        fail "$name: the rerun of the older result differs from the golden: $(diff <(strip "$g") <(strip "$tmp/$name.json") | head -5)"
    n=$((n + 1))
done
[ "$n" -ge 20 ] || fail "only $n golden results"

# a parameter not on the list: refused, named with the revision
g=tests/golden/lmbench.json
older "$tmp/x.json" "$g" 0000000-older shadow.prefetch
expect_bad "shadow.prefetch missing" "no value for 'shadow.prefetch';written by memvirt revision 0000000-older" \
    rerun "$tmp/x.json" --quiet --json "$J"
# one on the list, missing from a result this revision claims to have written
rev=$(/usr/bin/python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["revision"])' "$tmp/lmbench.json")
older "$tmp/y.json" "$g" "$rev" hv.vpid
expect_bad "hv.vpid missing, this revision" "no value for 'hv.vpid'" rerun "$tmp/y.json" --quiet --json "$J"
finish rerun_compat.sh

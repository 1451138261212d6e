#!/usr/bin/env bash
# report.sh: `memvirt report` off the browser: bad input is one line naming
# the file and the place (exit 2, no output left), the page is the same bytes
# for the same inputs, it has a row for every non-zero counter and a plot for
# every series, a "config" section is shown when a file has one, and every
# name the simulator writes is explained in docs/output.md. The JSON reader
# is fuzzed with mutated result files.
#
# usage: bash report.sh /path/to/memvirt [ARTIFACTS_DIR]
set -u
MV=${1:?usage: report.sh /path/to/memvirt}
SRC=$(cd "$(dirname "$0")/../.." && pwd)
die() { echo "FAIL: $*" >&2; exit 1; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/memvirt-report.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1

"$MV" compare --quiet --modes native,pv,pv-pibooster --workload forkstorm --param forkstorm.minutes=1 \
    --param sim.series_ms=15000 --json fs.json >/dev/null || die "compare failed"
"$MV" compare --quiet --modes native,pv --workload lmbench --param lmbench.iterations=3 --json lm.json \
    >/dev/null || die "lmbench compare failed"

# bad input: one line, exit 2, no page
bad() {   # expected-message-regex args...
    local re=$1; shift
    rm -f out.html
    "$MV" report "$@" >out 2>err
    local rc=$?
    [ "$rc" -eq 2 ] || die "report $*: exit $rc, expected 2 ($(cat err))"
    [ "$(wc -l < err)" -eq 1 ] || die "report $*: expected one error line, got: $(cat err)"
    grep -Eq "^memvirt: report: $re" err || die "report $*: expected '$re', got: $(cat err)"
    [ ! -e out.html ] && [ ! -e out.html.tmp ] || die "report $*: left a page behind"
}
printf '{"runs": [\n  {"mode": "x",,}\n]}\n' > syntax.json
python3 -c "
import json; d = json.load(open('fs.json')); d['runs'][1]['counters']['refs'] = 'many'
json.dump(d, open('type.json', 'w'))
d = json.load(open('fs.json')); d['runs'][0]['series']['gauges']['tasks'].pop()
json.dump(d, open('short.json', 'w'))
d = json.load(open('fs.json')); del d['runs'][2]['cycles']
json.dump(d, open('nocycles.json', 'w'))"
printf '{"runs": [{"mode": "a", "mode": "b"}]}' > dup.json
printf '\xff\xfe' > binary.json
printf '{"runs": [], "x": NaN}' > nan.json
bad "missing.json: cannot read" missing.json -o out.html
# an endless or binary input is refused as it is read, not taken into memory
( ulimit -v 4000000; bad "/dev/zero: NUL byte at byte 0" /dev/zero -o out.html ) || exit 1
bad "syntax.json:2:16: invalid JSON" syntax.json -o out.html
bad "type.json: runs\[1\].counters.refs: expected a number" type.json -o out.html
bad "short.json: runs\[0\].series.gauges.tasks: expected an array of [0-9]+ numbers" short.json -o out.html
bad "nocycles.json: runs\[2\]: no 'cycles'" nocycles.json -o out.html
bad "dup.json: invalid JSON: duplicate key 'mode'" dup.json -o out.html
bad "binary.json: not UTF-8" binary.json -o out.html
bad "nan.json: invalid JSON: 'NaN'" nan.json -o out.html
# a byte-order mark named as such (it was Python's "decode using utf-8-sig")
printf '\xef\xbb\xbf{"runs": []}' > bom.json
bad "bom.json:1:1: invalid JSON: a byte-order mark" bom.json -o out.html
# a lone surrogate escape is not text (it was a traceback drawing the label)
printf '{"runs": [{"mode": "a\\ud800", "workload": "w"}]}' > surrogate.json
bad "surrogate.json: invalid JSON: a string holds a lone surrogate" surrogate.json -o out.html
# control characters and noncharacters in a label or setting are shown as U+FFFD:
# a NUL was written raw into the page (an HTML parse error) and matplotlib warned
# on stderr, as it did for a character its font lacks (U+E000: drawn as a box)
sed 's/"mode": "native"/"mode": "nat\\u0000ive\\ue000"/; s/"profile": "default"/"profile": "def\\u0001ault"/
     s/"workload": "lmbench"/"workload": "lm\\uffffbench\\ue000"/' lm.json > ctl.json
grep -q 'nat\\u0000ive' ctl.json || die "ctl.json: the mode was not altered"
"$MV" report ctl.json -o ctl.html 2>err || die "report of control characters: $(cat err)"
[ ! -s err ] || die "report of control characters wrote to stderr: $(cat err)"
python3 - ctl.html <<'EOF' || die "control characters reached the page"
import base64, re, sys
page = open(sys.argv[1], "rb").read()
svgs = [base64.b64decode(m) for m in re.findall(rb"data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)", page)]
ctl = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
assert not ctl.search(page) and not any(ctl.search(s) for s in svgs)
assert "nat\ufffdive\ue000".encode() in page and "def\ufffdault".encode() in page
assert "\uffff".encode() not in page and "lm\ufffdbench\ue000".encode() in page
EOF
bad "the following arguments are required: -o" fs.json
# an option given twice with different values is an error, not the last taken
bad "-o given twice with different values \\('a.html' and 'out.html'\\)" fs.json -o a.html -o out.html
bad "-o and --output given with different values" fs.json -o out.html --output b.html
[ ! -e a.html ] && [ ! -e b.html ] || die "report -o twice wrote a page"
bad "--baseline 'hap': no run.*\(labels, which may hold commas: [^;]*; [^;]*; " fs.json -o out.html --baseline hap
bad "-o '/nonexistent/dir/r.html': cannot write" fs.json -o /nonexistent/dir/r.html
bad "-o '.': cannot write: it is a directory" fs.json -o .
# the output is never one of the results (it was overwritten with the page), by any name
cp lm.json in.json && ln -s in.json in-link.json
bad "-o 'in.json' is the input 'in.json'" fs.json in.json -o in.json
bad "-o 'in-link.json' is the input 'in.json'" in.json -o in-link.json
# ... nor standard output appended to one (it was: exit 0, the page at the end of the input)
"$MV" report in.json -o - >> in.json 2>err; [ $? -eq 2 ] && grep -q "^memvirt: report: -o '-' is the input 'in.json'" err \
    || die "report -o - >> in.json: exit status or message: $(cat err)"
# the host out of memory (ulimit -v) is one line and status 1, or (where the
# libraries are smaller than here) the page: it was a traceback of MemoryError,
# or "cannot import matplotlib ... run scripts/setup"
for v in 40000 60000 80000 100000; do
    rm -f mem.html
    ( ulimit -v $v; exec "$MV" report lm.json -o mem.html ) 2>err; rc=$?
    if [ "$rc" -eq 0 ]; then
        [ -s mem.html ] && [ ! -s err ] || die "report under ulimit -v $v: exit 0 but: $(cat err)"
        continue
    fi
    [ "$rc" -eq 1 ] && [ "$(wc -l < err)" -eq 1 ] && grep -q "^memvirt: report: out of memory" err \
        || die "report under ulimit -v $v: exit $rc, expected 1 and one line: $(cat err)"
    [ ! -e mem.html ] || die "report under ulimit -v $v left a page"
done
# a terminal or /dev/null is no file to overwrite: read as an input, written as the page
"$MV" report /dev/null -o - >/dev/null 2>err; [ $? -eq 2 ] && grep -q "^memvirt: report: /dev/null:1:1: invalid JSON" err \
    || die "report /dev/null -o - >/dev/null: $(cat err)"
cmp -s lm.json in.json || die "report overwrote its input"
# a device is written through, not replaced by a regular file (as root, /dev/full
# itself became one); a write that fails after the page is made is exit 1
"$MV" report fs.json -o /dev/full 2>err; [ $? -eq 1 ] && grep -q "cannot write '/dev/full'" err \
    || die "report -o /dev/full: exit status or message: $(cat err)"
[ -c /dev/full ] || die "report -o /dev/full replaced the device"
mkfifo fifo && { timeout 120 cat fifo > fifo.out & }
"$MV" report fs.json -o fifo 2>err || die "report -o FIFO: $(cat err)"
wait
[ -p fifo ] && grep -q '</html>' fifo.out || die "report -o FIFO: the FIFO was replaced or the page not written through"
# '-' is standard output, as for the C commands (it was a file named '-')
"$MV" report fs.json -o - >stdout.html 2>err || die "report -o -: $(cat err)"
[ ! -e ./- ] && grep -q '</html>' stdout.html || die "report -o -: the page did not go to standard output"
# another user's file in a sticky directory cannot be replaced: refused before
# the page is made (exit 2), as the C commands refuse it
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
    mkdir -p sticky && chmod 1777 sticky && chmod o+rx . "$tmp" && chmod o+r fs.json
    echo old >sticky/r.html && chmod 666 sticky/r.html
    # the scripts from where that user can read them (the checkout may be private)
    mkdir -p py && cp -r "$SRC/src/py/." py/ && chmod -R o+rX py
    MEMVIRT_PYDIR="$tmp/py" setpriv --reuid=65534 --regid=65534 --clear-groups "$MV" report fs.json \
        -o sticky/r.html 2>err
    rc=$?
    [ $rc -eq 2 ] && grep -q "sticky" err || die "report into a sticky directory: exit $rc: $(cat err)"
    [ "$(cat sticky/r.html)" = old ] || die "report into a sticky directory: the file changed"
fi

# the page: deterministic, complete
"$MV" report fs.json -o a.html --baseline pv 2>err || die "report failed: $(cat err)"
"$MV" report lm.json -o b1.html && "$MV" report lm.json -o b2.html || die "lmbench report failed"
cmp b1.html b2.html || die "the same inputs gave different pages"
# ... whatever a matplotlibrc says (one in the working directory and one named by
# $MATPLOTLIBRC changed the fonts and lines; with axes.formatter.use_locale, a
# German locale's commas)
mkdir rc && printf 'font.family: monospace\nlines.linewidth: 5\naxes.formatter.use_locale: True\n' > rc/matplotlibrc
(cd rc && "$MV" report ../lm.json -o ../b3.html) && MATPLOTLIBRC="$PWD/rc/matplotlibrc" "$MV" report lm.json -o b4.html \
    || die "report beside a matplotlibrc failed"
cmp b1.html b3.html && cmp b1.html b4.html || die "a matplotlibrc changed the page"
python3 - a.html fs.json <<'EOF' || die "page content"
import json, re, sys
page, doc = open(sys.argv[1]).read(), json.load(open(sys.argv[2]))
assert "<h2>Relative to pv</h2>" in page
for r in doc["runs"]:
    assert f"<th>{r['mode']}</th>" in page, r["mode"]
names = set()
for r in doc["runs"]:
    for k, v in r["counters"].items():
        if v:
            assert f'id="g-counter-{k}"' in page, f"no explanation entry for counter {k}"
            assert f">{k}</a></th>" in page, f"no table row for counter {k}"
    names |= {("counter", k) for k in r["series"]["counters"]} | {("gauge", k) for k in r["series"]["gauges"]}
plots = page.count('<img class="plot"')
assert plots == len(names) + 1, (plots, len(names))
assert 'class="undocumented"' not in page, re.findall(r'<dt id="g-([^"]+)"><code>[^<]*</code></dt><dd class="undoc', page)
assert "http://" not in page and "https://" not in page
EOF

# a "config" section (the effective configuration), shown generically
python3 -c "
import json; d = json.load(open('lm.json'))
d['config'] = {'version': '9.9', 'guest': {'pt_cache_ratio': 200, 'pt_cache_total': 256}}
json.dump(d, open('cfg.json', 'w'))
d['config']['guest']['pt_cache_ratio'] = 400
json.dump(d, open('cfg2.json', 'w'))"
"$MV" report cfg.json cfg2.json -o c.html 2>err || die "report with config failed: $(cat err)"
grep -q "each file's effective configuration" c.html || die "config section not announced"
grep -q '<tr class="diff"><th>config.guest.pt_cache_ratio</th><td>200</td>' c.html || die "differing config row missing"
grep -q '<th>config.version</th><td>9.9</td>' c.html || die "common config row missing"

# labels are drawn as written, never as matplotlib math text: '$\frac$' (a
# mode, or a profile in a merged sweep) raised a traceback, '$x$' came out italic
/usr/bin/python3 -c "
import json; d = json.load(open('lm.json'))
d['runs'][0]['mode'] = r'\$\frac\$'; d['runs'][1]['mode'] = '\$x\$'
json.dump(d, open('math.json', 'w'))"
"$MV" report math.json -o math.html 2>err || die "report of math-text labels failed: $(cat err)"
[ ! -s err ] || die "report of math-text labels said: $(cat err)"
/usr/bin/python3 - math.html <<'EOF' || die "math-text labels were not drawn literally"
import base64, re, sys
svgs = [base64.b64decode(s).decode() for s in re.findall(r'base64,([A-Za-z0-9+/=]+)"', open(sys.argv[1]).read())]
assert svgs and any("$x$" in s for s in svgs) and any(r"$\frac$" in s for s in svgs)
EOF

# file names that are not UTF-8: the page is written (the name shown with
# U+FFFD), a message names the file by the bytes given (it was a
# UnicodeEncodeError traceback and an empty temporary left behind)
cp lm.json $'r\xe9.json'
"$MV" report $'r\xe9.json' -o $'r\xe9.html' --title $'t\xe9' 2>err || die "report of r\\xe9.json failed: $(cat err)"
grep -q "<code>r"$'\xef\xbf\xbd'".json</code>" $'r\xe9.html' && grep -q "<h1>t"$'\xef\xbf\xbd'"</h1>" $'r\xe9.html' \
    || die "report of r\\xe9.json: the names are not on the page"
[ -z "$(find . -name '.r*.html.*')" ] || die "report of r\\xe9.json left a temporary: $(find . -name '.r*')"
bad "nox"$'\xe9'".json: cannot read" $'nox\xe9.json' -o out.html

# Ctrl-C: exit status 130, no traceback (held reading its input, a FIFO), and
# the writer leaves no temporary when interrupted
mkfifo held
/usr/bin/python3 - "$MV" <<'EOF' || die "report interrupted"
import os, signal, subprocess, sys, time
p = subprocess.Popen([sys.argv[1], "report", "held", "-o", "int.html"], stderr=subprocess.PIPE)
for _ in range(3000):   # until report opens the FIFO to read it
    try:
        w = os.open("held", os.O_WRONLY | os.O_NONBLOCK)
        break
    except OSError:
        time.sleep(0.01)
time.sleep(0.2)
p.send_signal(signal.SIGINT)
err = p.communicate(timeout=60)[1].decode()
assert p.returncode == 130 and "Traceback" not in err, (p.returncode, err)
assert not os.path.exists("int.html")
EOF
/usr/bin/python3 - "$SRC/src/py" <<'EOF' || die "write_all_atomic interrupted left a temporary"
import os, sys
sys.path.insert(0, sys.argv[1])
import mvcommon
def interrupted(*a):
    raise KeyboardInterrupt
mvcommon.os.replace = interrupted
try:
    mvcommon.write_all_atomic([("w1.txt", "a"), ("w2.txt", b"b")])
except KeyboardInterrupt:
    pass
assert not [f for f in os.listdir(".") if f.startswith((".w1", ".w2", "w1", "w2"))], os.listdir(".")
EOF

# every counter, cycle category, metric and gauge of every mode and workload
# is explained in docs/output.md (run briefly through a sweep, globbing all)
cat > all.sweep <<'EOF'
mode = *
workload = *
forkstorm.minutes = 1
lmbench.iterations = 3
memwalk.refs = 20000
memwalk.ws_mb = 8
memwalk-gcc.refs = 20000
memwalk-mcf.refs = 20000
memwalk-mcf.ws_mb = 8
memwalk-phases.refs = 20000
netio.seconds = 1
EOF
"$MV" sweep all.sweep --out all -j 2 2>err >/dev/null || die "all-modes sweep failed: $(cat err)"
"$MV" sweep merge all 2>/dev/null || die "merge failed"
/usr/bin/python3 - "$SRC/src/py" all/merged.json <<'EOF' || die "names without an explanation in docs/output.md"
import json, sys
sys.path.insert(0, sys.argv[1])
import mvdocs
docs = mvdocs.load()
missing = set()
for r in json.load(open(sys.argv[2]))["runs"]:
    for kind, names in (("counter", r["counters"]), ("cycles", r["cycles"]), ("metric", r["metrics"]),
                        ("gauge", r["series"]["gauges"])):
        missing |= {f"{kind} {n}" for n in names if not mvdocs.explain(docs, kind, n)}
assert not missing, sorted(missing)
# the check catches a row taken out, a range and a <word> pattern work
text = open(mvdocs.os.path.join(mvdocs.source_dir(), "docs", "output.md")).read()
cut = mvdocs.parse(text.replace("| `refs` |", "| `nothing` |"))
assert mvdocs.explain(cut, "counter", "refs") is None
assert mvdocs.explain(docs, "counter", "pt_alloc_cycles_l3")
pat = mvdocs.parse("### Counters\n| name | meaning |\n|---|---|\n| `vm_exits_<reason>` | by reason |\n")
assert mvdocs.explain(pat, "counter", "vm_exits_cr3") == "by reason"
assert mvdocs.explain(pat, "counter", "vm_exits") is None
EOF
"$MV" report all/merged.json -o all.html 2>err || die "report of a merged sweep failed: $(cat err)"
grep -q 'Runs without a result' all.html && die "a whole sweep's report says runs are missing"
# a --partial merge: the page says which runs have no result (it showed
# fewer columns, the count buried among the settings)
cp -r all part && rm -f part/merged.*
gone=$(awk -F'\t' '$1 == "1" { print $2 }' part/sweep.tsv)
rm "part/runs/$gone.json"
"$MV" sweep merge part --partial 2>/dev/null || die "partial merge failed"
"$MV" report part/merged.json -o part.html 2>err || die "report of a partial merge failed: $(cat err)"
n=$(($(wc -l < part/sweep.tsv) - 2))
grep -q "<strong>1 of $n runs of the sweep merged in <code>merged.json</code> have no result</strong>" part.html \
    && grep -q "<li>run 1 (id <code>$gone</code>): mode=[a-z-]*, workload=[a-z-]*" part.html \
    || die "the partial merge's page does not name the missing run"
# a file whose list is not there (an older merge) or malformed: the count alone
python3 -c "
import json; d = json.load(open('part/merged.json')); d['sweep']['missing'] = 'x'
json.dump(d, open('odd.json', 'w'))"
"$MV" report odd.json -o odd.html 2>err && grep -q "1 of $n runs .*have no result</strong>.*does not list them" odd.html \
    || die "a merge without the list: $(cat err)"

# the readers of outside input, fuzzed: mutated result files and manifests
# give InputError (one line) or a document, never another exception
/usr/bin/python3 - "$SRC/src/py" fs.json all/sweep.tsv <<'EOF' || die "fuzzing the JSON reader"
import random, sys
sys.path.insert(0, sys.argv[1])
import merge, mvresults
from mvcommon import InputError
raw = open(sys.argv[2], "rb").read()[:20000]
tsv = open(sys.argv[3], "rb").read()
rng = random.Random(11)
def mutate(b):
    b = bytearray(b)
    for _ in range(rng.randint(1, 8)):
        if not b:
            break
        op, i = rng.randrange(4), rng.randrange(len(b))
        if op == 0: b[i] = rng.randrange(256)
        elif op == 1: del b[i:i + rng.randint(1, 50)]
        elif op == 2: b[i:i] = rng.choice([b"{", b"]", b'"', b"1e999", b"null", b"-", b",", b"\x00"])
        else: b = b[:i]
    return bytes(b)
for n in range(400):
    try:
        mvresults.parse("m.json", mutate(raw))
    except InputError as e:
        assert str(e).startswith("m.json") and "\n" not in str(e), str(e)
for n in range(200):
    open("m.tsv", "wb").write(mutate(tsv))
    try:
        merge.read_manifest("m.tsv")
    except InputError as e:
        assert str(e).startswith("m.tsv") and "\n" not in str(e), str(e)
EOF
echo "report.sh: all checks passed"

#!/usr/bin/env bash
# report_browser.sh: `memvirt report` in a real headless browser (Debian's
# Chromium): the page loads with no console error, asks for nothing outside
# itself, and every plot decodes (the page's own script counts them); a
# screenshot of the top and one of the whole page are kept in ARTIFACTS.
# Each check is also shown to catch a page broken on purpose.
#
# usage: bash report_browser.sh /path/to/memvirt ARTIFACTS_DIR
set -u
MV=${1:?usage: report_browser.sh /path/to/memvirt ARTIFACTS_DIR}
ART=${2:?usage: report_browser.sh /path/to/memvirt ARTIFACTS_DIR}
die() { echo "FAIL: $*" >&2; exit 1; }
command -v chromium >/dev/null || die "chromium is not installed (scripts/setup installs it)"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/memvirt-browser.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$ART" || exit 1
cd "$tmp" || exit 1

# Chromium as root on this machine: no sandbox, no GPU, no network chatter,
# a new empty profile each time.
chrome() {
    rm -rf "$tmp/profile" && mkdir "$tmp/profile"
    timeout 90 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --user-data-dir="$tmp/profile" --virtual-time-budget=10000 "$@"
}
# load PAGE: DOM to dom.html, console messages to console.txt
load() {
    chrome --enable-logging=stderr --v=0 --dump-dom "file://$tmp/$1" >dom.html 2>chrome.err
    grep 'CONSOLE' chrome.err >console.txt
    true
}
attr() { grep -o "$1=\"[0-9]*\"" dom.html | head -1 | grep -o '[0-9]*'; }
# nothing outside the file: every src/href is a data: URI or an anchor
external() { grep -oE '(src|href)="[^"#][^"]{0,40}' "$1" | grep -v '="data:' ; grep -oE '@import|url\(http' "$1"; }

"$MV" compare --quiet --modes native,pv,pv-pibooster --workload forkstorm --param forkstorm.minutes=2 \
    --param sim.series_ms=20000 --json fs.json >/dev/null || die "forkstorm compare failed"
"$MV" compare --quiet --modes native,pv --workload lmbench --param lmbench.iterations=5 --json lm.json \
    >/dev/null || die "lmbench compare failed"
"$MV" report fs.json lm.json -o r.html 2>err || die "report failed: $(cat err)"
# one plot per time series name of each workload's runs (workloads are
# plotted apart), and the busy-time chart
want=$(python3 - fs.json lm.json <<'EOF'
import json, sys
names = set()
for p in sys.argv[1:]:
    for r in json.load(open(p))["runs"]:
        s = r["series"]
        names |= {(r["workload"], "c", k) for k in s["counters"]} | {(r["workload"], "g", k) for k in s["gauges"]}
print(len(names) + 1)
EOF
)
grep -q '<h4>forkstorm</h4>' r.html && grep -q '<h4>lmbench</h4>' r.html || die "no heading per workload"

[ -z "$(external r.html)" ] || die "the page refers to something outside itself: $(external r.html)"
load r.html
[ -s dom.html ] || die "Chromium gave no DOM: $(tail -5 chrome.err)"
[ ! -s console.txt ] || die "console messages: $(cat console.txt)"
[ "$(attr data-plots)" = "$want" ] || die "the page has $(attr data-plots) plots, expected $want"
[ "$(attr data-plots-ok)" = "$want" ] || die "only $(attr data-plots-ok) of $want plots decoded"
height=$(attr data-height)
[ -n "$height" ] && [ "$height" -gt 2000 ] || die "page height '$height'"
grep -q '<h2>Relative to native, forkstorm</h2>' dom.html || die "no ratio section against native"

chrome --window-size=1280,2400 --screenshot="$ART/report-top.png" "file://$tmp/r.html" 2>/dev/null
h=$(( height < 30000 ? height : 30000 ))
chrome --force-device-scale-factor=0.5 --window-size=1280,$h --screenshot="$ART/report-full.png" \
    "file://$tmp/r.html" 2>/dev/null
/usr/bin/python3 - "$ART/report-top.png" "$ART/report-full.png" <<'EOF' || die "screenshots are blank or missing"
import sys
from PIL import Image
for p in sys.argv[1:]:
    im = Image.open(p).convert("L")
    w, h = im.size
    # text, tables and plots: a real share of the pixels is not white
    dark = sum(1 for v in im.resize((w // 4, h // 4)).getdata() if v < 200)
    assert dark > (w // 4) * (h // 4) * 0.01, (p, dark)
EOF

# broken on purpose: each check must catch its fault (on a smaller page)
"$MV" report lm.json -o small.html 2>err || die "report of lm.json failed: $(cat err)"
want=$(grep -o '<img class="plot"' small.html | wc -l)
python3 - small.html <<'EOF'
import re, sys
page = open(sys.argv[1]).read()
# a plot whose data does not decode
i = page.index("data:image/svg+xml;base64,") + len("data:image/svg+xml;base64,")
open("broken-plot.html", "w").write(page[:i] + "AAAA" + page[i + 200:])
open("broken-script.html", "w").write(page.replace("</body>", "<script>nosuchfunction();</script></body>"))
open("broken-external.html", "w").write(page.replace("</body>", '<img src="http://127.0.0.1:9/x.png"></body>'))
EOF
load broken-plot.html
[ "$(attr data-plots-ok)" -lt "$want" ] || die "a plot that does not decode was not noticed"
load broken-script.html
grep -q 'nosuchfunction' console.txt || die "a script error did not show in the console log"
[ -n "$(external broken-external.html)" ] || die "an external image was not noticed"

echo "report_browser.sh: all checks passed (screenshots: $ART/report-top.png, $ART/report-full.png)"

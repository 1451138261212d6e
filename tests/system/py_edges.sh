#!/usr/bin/env bash
# py_edges.sh: memvirt's Python commands (report, sweep merge) at the edges
# the C commands already handle: a reader of standard output that goes away
# part way through is an error (one line, exit 1), not a page cut short and
# exit status 0; a standard output that is full or closed, and a Python
# without matplotlib, are one line and exit 1, never a traceback; a closed
# standard error does not turn bad input (exit 2) into exit 1; SIGTERM and
# SIGHUP leave no temporary behind; an option's value may begin with '-';
# an unwritable HOME is no warning; numbers too large to draw are no
# traceback or warning.
#
# usage: bash py_edges.sh /path/to/memvirt [ARTIFACTS_DIR]
set -u
MV=${1:?usage: py_edges.sh /path/to/memvirt}
SRC=$(cd "$(dirname "$0")/../.." && pwd)
die() { echo "FAIL: $*" >&2; exit 1; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/memvirt-pyedges.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1

"$MV" run --mode native --workload lmbench --param lmbench.iterations=20 --json lm.json >/dev/null \
    || die "run failed"
# a sweep of 24 small runs: its merged JSON is ~200 kB
printf 'mode = native\nworkload = lmbench\nlmbench.iterations = 2\nseed = 1..24\n' > s.sweep
"$MV" sweep s.sweep --out s -j 2 >/dev/null 2>&1 || die "sweep failed"

# one line on stderr matching a pattern, and the exit status expected
one_line() {   # what status regex
    local what=$1 want=$2 re=$3 rc=$4
    [ "$rc" -eq "$want" ] || die "$what: exit $rc, expected $want ($(cat err))"
    [ "$(wc -l < err)" -eq 1 ] || die "$what: expected one line on stderr, got: $(cat err)"
    grep -Eq "$re" err || die "$what: expected '$re', got: $(cat err)"
}

# a file name with a newline in it: the message stays one line, escaped
"$MV" report $'no\nsuch\x01.json' -o r.html 2>err
one_line "report of a name with a newline" 2 '^memvirt: report: no\\nsuch\\x01\.json: cannot read' $?

# a reader that takes part of the page and goes: the page is ~700 kB, the
# pipe holds 64 kB, so the write is cut short (it was exit 0, nothing said)
"$MV" report lm.json -o - 2>err | head -c 70000 >/dev/null
one_line "report -o - | head -c 70000" 1 "^memvirt: report: cannot write '-': Broken pipe$" "${PIPESTATUS[0]}"
"$MV" sweep merge s --json - --csv m.csv 2>err | head -c 10000 >/dev/null
one_line "sweep merge --json - | head -c 10000" 1 "^memvirt: sweep merge: cannot write '-': Broken pipe$" "${PIPESTATUS[0]}"
[ ! -e m.csv ] && [ -z "$(ls -A | grep '^\.m\.csv')" ] || die "sweep merge --json - | head: the CSV was written or its temporary left"

# standard output full or closed: one line, exit 1, as the C commands
# ('memvirt: standard output: cannot write: ...'); the help went to standard
# error with exit 0 when it was closed, and was an OSError traceback when full
for cmd in report "sweep merge"; do
    $MV $cmd --help >/dev/full 2>err
    one_line "$cmd --help >/dev/full" 1 "^memvirt: $cmd: standard output: cannot write: No space left on device$" $?
    $MV $cmd --help >&- 2>err
    one_line "$cmd --help >&-" 1 "^memvirt: $cmd: standard output: cannot write: Bad file descriptor$" $?
done
"$MV" report lm.json -o - >&- 2>err   # it was an AttributeError traceback
one_line "report -o - >&-" 1 "^memvirt: report: cannot write '-': Bad file descriptor$" $?
"$MV" sweep merge s --json - --csv m.csv >&- 2>err
one_line "sweep merge --json - >&-" 1 "^memvirt: sweep merge: cannot write '-': Bad file descriptor$" $?
[ ! -e m.csv ] || die "sweep merge --json - >&-: the CSV was written"
"$MV" report lm.json -o - >/dev/full 2>err
one_line "report -o - >/dev/full" 1 "^memvirt: report: cannot write '-': No space left on device$" $?
# a page to a file, standard output closed: nothing to write there, no error
"$MV" report lm.json -o closed.html >&- 2>err || die "report -o FILE >&-: exit $?: $(cat err)"
[ ! -s err ] && grep -q '</html>' closed.html || die "report -o FILE >&-: $(cat err)"
# bad input with standard error closed or full is still exit 2 (it was 1)
for redir in "2>&-" "2>/dev/full"; do
    eval '"$MV" report missing.json -o x.html' "$redir"
    rc=$?
    [ $rc -eq 2 ] || die "report missing.json $redir: exit $rc, expected 2"
done

# a Python without matplotlib: one line naming the interpreter and the setup
# script, exit 1, no page (it was a 16-line ModuleNotFoundError traceback)
mkdir -p nompl
cat > nompl/python3 <<EOF
#!/bin/sh
exec /usr/bin/python3 -c 'import os, runpy, sys; sys.modules["matplotlib"] = None; sys.argv = sys.argv[1:]
sys.path.insert(0, os.path.dirname(sys.argv[0])); runpy.run_path(sys.argv[0], run_name="__main__")' "\$@"
EOF
chmod +x nompl/python3
MEMVIRT_PYTHON="$tmp/nompl/python3" "$MV" report lm.json -o nompl.html 2>err
one_line "report with a Python without matplotlib" 1 \
    "^memvirt: report: cannot import matplotlib .*/usr/bin/python3.*MEMVIRT_PYTHON=$tmp/nompl/python3.*scripts/setup" $?
[ ! -e nompl.html ] && [ -z "$(ls -A | grep '^\.nompl')" ] || die "report without matplotlib left a page"

# SIGTERM or SIGHUP while an output is written: its temporary is removed and
# the command dies of the signal, as the C commands (lib/outfile.c); the
# temporary was left behind. sweep merge stages the JSON under a temporary
# name, then waits for a reader of the FIFO given as --csv: signalled there.
mkfifo csv.fifo
/usr/bin/python3 - "$MV" <<'EOF' || die "sweep merge signalled"
import os, signal, subprocess, sys, time
for sig in (signal.SIGTERM, signal.SIGHUP):
    p = subprocess.Popen([sys.argv[1], "sweep", "merge", "s", "--json", "sig.json", "--csv", "csv.fifo"],
                         stderr=subprocess.PIPE)
    for _ in range(3000):
        if any(f.startswith(".sig.json.") for f in os.listdir(".")):
            break
        time.sleep(0.01)
    else:
        sys.exit(f"sweep merge made no temporary: {os.listdir('.')}")
    time.sleep(0.2)   # in open() of the FIFO
    p.send_signal(sig)
    err = p.communicate(timeout=60)[1].decode()
    assert p.returncode == -sig, (sig.name, p.returncode, err)
    assert "Traceback" not in err, err
    left = [f for f in os.listdir(".") if f.startswith((".sig.json", "sig.json", ".csv.fifo"))]
    assert not left, (sig.name, left)
EOF
[ -p csv.fifo ] || die "sweep merge signalled: the FIFO was replaced"

# an option's value is the next word whatever it begins with, as the C
# commands take --json -x.json (getopt): -o -r2.html was "expected one argument"
"$MV" report lm.json -o -r2.html 2>err && [ -s ./-r2.html ] || die "report -o -r2.html: $(cat err)"
"$MV" report lm.json --out -r3.html --title -o 2>err && grep -q '<title>-o</title>' ./-r3.html \
    || die "report --out -r3.html --title -o: $(cat err)"
"$MV" report lm.json -o 2>err
one_line "report lm.json -o" 2 "^memvirt: report: argument -o/--output: expected one argument$" $?
"$MV" sweep merge s --json -m.json --csv -m.csv 2>err && [ -s ./-m.json ] && [ -s ./-m.csv ] \
    || die "sweep merge --json -m.json --csv -m.csv: $(cat err)"

# a home where matplotlib cannot keep its configuration and cache: no
# warning (it was matplotlib's "created a temporary config/cache directory"),
# and the private directory used instead is gone at the end
touch notadir && mkdir -p t
env -u MPLCONFIGDIR -u XDG_CONFIG_HOME -u XDG_CACHE_HOME HOME="$tmp/notadir/home" TMPDIR="$tmp/t" \
    "$MV" report lm.json -o home.html 2>err || die "report with an unwritable HOME: $(cat err)"
[ ! -s err ] && [ -s home.html ] || die "report with an unwritable HOME said: $(cat err)"
[ -z "$(ls -A t)" ] || die "report with an unwritable HOME left $(ls -A t) in TMPDIR"

# numbers no memvirt run writes, so large that the report's sums and plots
# overflow: cycles 1e308 was a matplotlib RuntimeWarning (exit 0), a series
# value 1e308 an IndexError traceback, an integer beyond a double an
# OverflowError traceback. Now bad input, as any malformed value.
/usr/bin/python3 - <<'EOF'
import json
def make(name, f):
    d = json.load(open("lm.json"))
    f(d["runs"][0])
    json.dump(d, open(name, "w"))
make("huge_cycles.json", lambda r: r["cycles"].update(user=1e308))
make("huge_series.json", lambda r: r["series"]["counters"]["refs"].__setitem__(0, 1e308))
make("huge_int.json", lambda r: r["cycles"].update(user=10 ** 400))
# within range, but the busy-time bar (cycles / (total / sim_seconds)) is not
make("huge_bar.json", lambda r: r["cycles"].update(user=1e300, total=1e-300))
make("neg_time.json", lambda r: r.update(sim_seconds=-1))
# outside the runs' checked parts: the top-level seed (shown as 'inf') and a run's configuration
make("huge_seed.json", lambda r: None)
text = open("huge_seed.json").read()
assert '"seed": ' in text
open("huge_seed.json", "w").write(text.replace('"seed": ', '"seed": 1e400, "was": ', 1))
make("huge_param.json", lambda r: r.setdefault("config", {}).update(x=-1e301))
# beyond Python's 4,300-digit limit on converting an integer (its ValueError named sys.set_int_max_str_digits)
make("long_int.json", lambda r: r["cycles"].update(user=7))
text = open("long_int.json").read().replace('"user": 7', '"user": 7' + "0" * 5000)
open("long_int.json", "w").write(text)
EOF
"$MV" report neg_time.json -o huge.html 2>err
one_line "report of a negative sim_seconds" 2 "^memvirt: report: neg_time.json: runs\[0\]\.sim_seconds: -1 is negative" $?
"$MV" report long_int.json -o huge.html 2>err
one_line "report of an integer of 5001 digits" 2 "^memvirt: report: long_int.json:1:[0-9]+: an integer of 5001 digits \(70000000000000000000\.\.\.\) is out of range" $?
# one result twice, by its name or through a link: its runs would show twice
ln -s lm.json lm_link.json
"$MV" report lm.json lm.json -o huge.html 2>err
one_line "report of one result twice" 2 "^memvirt: report: the result 'lm.json' is given twice: its runs would be shown twice\$" $?
"$MV" report lm.json --title t lm_link.json -o huge.html 2>err
one_line "report of one result and a link to it" 2 "^memvirt: report: the result 'lm.json' is given twice \(again as 'lm_link.json'\)" $?
"$MV" report huge_cycles.json -o huge.html 2>err
one_line "report of cycles 1e308" 2 "^memvirt: report: huge_cycles.json: runs\[0\]\.cycles\.user: 1e\+308 is out of range" $?
"$MV" report huge_series.json -o huge.html 2>err
one_line "report of a series value 1e308" 2 "^memvirt: report: huge_series.json: runs\[0\]\.series\.counters\.refs\[0\]: 1e\+308 is out of range" $?
"$MV" report huge_int.json -o huge.html 2>err
one_line "report of an integer of 401 digits" 2 "^memvirt: report: huge_int.json: runs\[0\]\.cycles\.user: 1000000000.* is out of range" $?
"$MV" report huge_seed.json -o huge.html 2>err
one_line "report of a seed 1e400" 2 "^memvirt: report: huge_seed.json: seed: inf is out of range" $?
"$MV" report huge_param.json -o huge.html 2>err
one_line "report of a configured -1e301" 2 "^memvirt: report: huge_param.json: runs\[0\]\.config\.x: -1e\+301 is out of range" $?
[ ! -e huge.html ] || die "report of out-of-range numbers wrote a page"
"$MV" report huge_bar.json -o huge.html 2>err && [ ! -s err ] && [ -s huge.html ] \
    || die "report of a bar beyond what a plot can draw: exit or stderr: $(cat err)"
# what matplotlib cannot lay out (IndexError, RuntimeWarnings) is left out of the plot, said in its title
/usr/bin/python3 -W error - "$SRC/src/py" <<'EOF' || die "plots of values beyond what matplotlib can draw"
import sys
sys.path.insert(0, sys.argv[1])
import mvplot
for v in (1.7e308, -1.7e308, 8e307, float("inf"), float("nan")):
    for fig in (mvplot.lines("t", "x", "y", [("a", [0], [v])], partial_last=True),
                mvplot.lines("t", "x", "y", [("a", [0, 1, 2], [-1e307, v, 1]), ("b", [0, 1, 2], [1, 2, 3])]),
                mvplot.lines("t", "x", "y", [("a", [0, v], [1, 2])]),
                mvplot.bars("t", ["a", "b"], [("c", [v, 1]), ("d", [v, 2])], "y", stacked=True),
                mvplot.bars("t", ["a", "b"], [("c", [v, 1]), ("d", [1, 2])], "y", logy=True)):
        title = fig.axes[0].get_title()
        assert "not drawn" in title, (v, title)
        mvplot.svg(fig)
EOF

echo "py_edges.sh: all checks passed"

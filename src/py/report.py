#!/usr/bin/env python3
"""report.py: `memvirt report RESULT.json... -o report.html [--baseline RUN]
[--title TEXT]`: one self-contained HTML page from memvirt result files (run,
compare or a merged sweep): the configuration of each run, the side-by-side
table, ratios to a baseline column, costs per reference and per process, every
time series as a plot, and what each counter means (docs/report.md).

Nothing is fetched when the page is viewed: plots are SVG drawn by
matplotlib and embedded as data: URIs, the style and the script are inline.
Everything is taken generically from the files: a new mode, counter, gauge or
metric shows up without a change here. The same inputs give a byte-identical
page."""
import argparse
import base64
import html
import os
import stat
import sys

import mvdocs
import mvresults
from mvcommon import EXIT_FAIL, InputError, Parser, check_outputs, die, printable, run, shown, write_atomic

CMD = "report"


def esc(x):
    return html.escape(printable(str(x)), quote=True)


def fmt(v):
    if v is None:
        return "—"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return v
    if isinstance(v, int):
        return f"{v:,}"
    if v == 0:
        return "0"
    if abs(v) >= 1000:
        return f"{v:,.1f}"
    if abs(v) >= 1:
        return f"{v:.3f}".rstrip("0").rstrip(".")
    return f"{v:.4g}"


def ratio(v, b):
    if v is None or b is None:
        return None
    if b == 0:
        return "=" if v == 0 else None
    return f"×{v / b:.3f}"


class Run:
    def __init__(self, path, doc, run):
        self.path, self.doc, self.r = path, doc, run
        self.config = {}
        top = {k: v for k, v in doc.items() if k != "runs"}
        if isinstance(top.get("sweep"), dict):   # the runs without a result have a section of their own
            top["sweep"] = {k: v for k, v in top["sweep"].items() if k != "missing"}
        self.config.update(mvresults.flatten(top))
        self.config.update(mvresults.flatten(run.get("header", {})))
        self.config["mode"] = run["mode"]
        self.config["workload"] = run["workload"]
        if "config" in run:
            self.config.update(mvresults.flatten(run["config"], "config"))
        for k, v in run.get("sweep", {}).items():
            self.config[f"sweep.{k}"] = v
        self.cps = mvresults.cycles_per_second(run)
        self.busy = mvresults.busy_cycles(run)
        self.label = run["mode"]

    def counter(self, name):
        return self.r["counters"].get(name)


def label_runs(runs):
    """Each run's label: the parts that tell it from the others."""
    def parts(r):
        p = [("group", r.r.get("sweep", {}).get("group")), ("mode", r.r["mode"]), ("workload", r.r["workload"])]
        for k, v in r.r.get("sweep", {}).items():
            if k not in ("group", "mode", "workload"):
                p.append((k, f"{k.rsplit('.', 1)[-1]}={fmt(v) if isinstance(v, bool) else v}" if v is not None else None))
        p.append(("file", shown(os.path.splitext(os.path.basename(r.path))[0])))
        return p
    allp = [dict(parts(r)) for r in runs]
    keys = [k for k, _ in parts(runs[0])] + [k for d in allp for k in d if k not in dict(parts(runs[0]))]
    seen = []
    for k in keys:
        if k not in seen and k != "file" and len({repr(d.get(k)) for d in allp}) > 1:
            seen.append(k)

    def make(keys_):
        return [", ".join(str(d[k]) for k in keys_ if d.get(k) is not None) or r.r["mode"]
                for r, d in zip(runs, allp)]
    labels = make(seen)
    if len(set(labels)) < len(labels) and len({d["file"] for d in allp}) > 1:
        labels = make(seen + ["file"])   # the file tells them apart
    for r, lab in zip(runs, labels):
        r.label = lab
    count = {}
    for r in runs:
        count[r.label] = count.get(r.label, 0) + 1
    n = {}
    for r in runs:
        if count[r.label] > 1:
            n[r.label] = n.get(r.label, 0) + 1
            r.label = f"{r.label} #{n[r.label]}"


def pick_baseline(runs, sel):
    if sel is None:
        for i, r in enumerate(runs):
            if r.r["mode"] == "native":
                return i
        return 0
    for i, r in enumerate(runs):
        if r.label == shown(sel):
            return i
    for i, r in enumerate(runs):
        if r.r["mode"] == sel:
            return i
    if sel.isdigit() and 1 <= int(sel) <= len(runs):
        return int(sel) - 1
    raise InputError(f"--baseline '{sel}': no run has that label or mode, and it is not a column "
                     f"number 1..{len(runs)} (labels, which may hold commas: {'; '.join(r.label for r in runs)})")


def union(runs, get):
    out = []
    seen = set()
    for r in runs:
        for k in get(r):
            if k not in seen:
                seen.add(k)
                out.append(k)
    return out


def table(head, rows, cls=""):
    """rows: [(name_html, [cell text], row_class)]"""
    h = [f'<div class="scroll"><table class="{cls}"><thead><tr><th></th>']
    h += [f"<th>{esc(x)}</th>" for x in head]
    h.append("</tr></thead><tbody>")
    for name, cells, rc in rows:
        h.append(f'<tr class="{rc}"><th>{name}</th>' + "".join(f"<td>{esc(c)}</td>" for c in cells) + "</tr>")
    h.append("</tbody></table></div>")
    return "".join(h)


def details(summary, inner, open_=False):
    return f"<details{' open' if open_ else ''}><summary>{esc(summary)}</summary>{inner}</details>"


def named(kind, name, docs):
    text = mvdocs.explain(docs, kind, name)
    tip = f' title="{esc(text)}"' if text else ""
    return f'<a href="#g-{kind}-{esc(name)}"{tip}>{esc(name)}</a>'


def img(svg_bytes, alt):
    b64 = base64.b64encode(svg_bytes).decode("ascii")
    return f'<img class="plot" alt="{esc(alt)}" src="data:image/svg+xml;base64,{b64}">'


class Report:
    def __init__(self, runs, base, docs, title, inputs):
        self.runs, self.base, self.docs, self.title, self.inputs = runs, base, docs, title, inputs
        self.used = {"counter": [], "cycles": [], "metric": [], "gauge": []}
        self.plots = 0

    def use(self, kind, name):
        if name not in self.used[kind]:
            self.used[kind].append(name)

    # -- the side-by-side values, as rows (kind, name, label_html, values) --
    def value_rows(self):
        runs = self.runs
        rows = [("time", "sim_seconds", "simulated time (s)", [r.r["sim_seconds"] for r in runs]),
                ("time", "busy_ms", "busy time (ms)",
                 [r.busy / r.cps * 1e3 if r.cps else None for r in runs])]
        for n in union(runs, lambda r: r.r["counters"]):
            vals = [r.r["counters"].get(n) for r in runs]
            if any(vals):
                self.use("counter", n)
                rows.append(("counter", n, named("counter", n, self.docs), vals))
        for n in union(runs, lambda r: r.r["cycles"]):
            vals = [r.r["cycles"].get(n) for r in runs]
            if any(vals):
                self.use("cycles", n)
                rows.append(("cycles", n, named("cycles", n, self.docs) + " (Mcycles)",
                             [v / 1e6 if v is not None else None for v in vals]))
        for n in union(runs, lambda r: r.r["metrics"]):
            self.use("metric", n)
            rows.append(("metric", n, named("metric", n, self.docs), [r.r["metrics"].get(n) for r in runs]))
        return rows

    MISSING_SHOWN = 100

    def section_missing(self):
        """The runs a merged sweep has no result of (sweep merge --partial):
        said first, each with its swept values, since no column shows them."""
        h, seen = [], set()
        for r in self.runs:
            if r.path in seen:
                continue
            seen.add(r.path)
            sw = r.doc.get("sweep")
            if not isinstance(sw, dict):
                continue
            total, merged, missing = sw.get("runs"), sw.get("merged"), sw.get("missing")
            missing = [m for m in missing if isinstance(m, dict)] if isinstance(missing, list) else []
            counted = isinstance(total, int) and isinstance(merged, int) and not isinstance(total, bool)
            n = total - merged if counted else len(missing)
            if n <= 0 and not missing:
                continue
            name = esc(shown(os.path.basename(r.path)))
            h.append(f"<p><strong>{n} of {total if counted else '?'} runs of the sweep merged in <code>{name}</code> "
                     "have no result</strong>: they are in no table or plot of this page")
            if not missing:
                h.append(" (the file does not list them: merge the sweep again with this memvirt to see which)</p>")
                continue
            h.append(":</p><ul>")
            for m in missing[:self.MISSING_SHOWN]:
                vals = m.get("sweep") if isinstance(m.get("sweep"), dict) else {}
                desc = ", ".join(f"{k}={fmt(v)}" for k, v in vals.items() if v is not None)
                h.append(f"<li>run {esc(m.get('index'))} (id <code>{esc(m.get('id'))}</code>): {esc(desc)}</li>")
            if len(missing) > self.MISSING_SHOWN:
                h.append(f"<li>and {len(missing) - self.MISSING_SHOWN} more (the file's sweep.missing)</li>")
            h.append("</ul>")
        if not h:
            return ""
        return ('<section id="missing" class="missing"><h2>Runs without a result</h2>' + "".join(h)
                + "</section>")

    def section_config(self):
        runs = self.runs
        keys = union(runs, lambda r: r.config)
        differ = [k for k in keys if len({repr(r.config.get(k)) for r in runs}) > 1]
        same = [k for k in keys if k not in differ]
        h = ['<section id="config"><h2>Configuration</h2>']
        # the effective configuration, under whichever key the files keep it
        has_config = any(k.startswith(("config.", "params.")) for k in keys)
        h.append("<p>Inputs: " + ", ".join(f"<code>{esc(shown(os.path.basename(p)))}</code> ({n} run{'s' * (n != 1)})"
                                           for p, n in self.inputs) + ". ")
        h.append("Settings from each file's effective configuration (<code>config</code> or <code>params</code>) "
                 "and its other top-level keys, and each run's mode, workload and swept values."
                 if has_config else
                 "The files have no <code>config</code> or <code>params</code> section: shown are their top-level "
                 "keys and each run's mode, workload and swept values.")
        h.append("</p>")
        head = [r.label for r in runs]
        if differ:
            h.append(f"<h3>{len(differ)} setting{'s' * (len(differ) != 1)} that "
                     f"differ{'s' * (len(differ) == 1)} between runs</h3>")
            h.append(table(head, [(esc(k), [fmt(r.config.get(k)) for r in runs], "diff") for k in differ]))
        if same:
            h.append(f"<details{' open' if len(same) <= 12 else ''}><summary>{len(same)} "
                     f"setting{'s' * (len(same) != 1)} the same in every run</summary>")
            h.append(table(["value"], [(esc(k), [fmt(runs[0].config.get(k))], "") for k in same]))
            h.append("</details>")
        h.append("</section>")
        return "".join(h)

    def section_results(self, rows):
        head = [r.label for r in self.runs]
        body = [(lab, [fmt(v) for v in vals], kind) for kind, _, lab, vals in rows]
        return ('<section id="results"><h2>Side by side</h2><p>Every counter that is non-zero in some run, '
                'the cycles charged to each category, and every metric. Hover a name for its meaning.</p>'
                + table(head, body, "num") + "</section>")

    def section_relative(self, rows):
        b = self.base
        head = [r.label for r in self.runs]
        body = [(lab, [ratio(v, vals[b]) or "—" for v in vals], kind) for kind, _, lab, vals in rows]
        return (f'<section id="relative"><h2>Relative to {esc(self.runs[b].label)}</h2>'
                f"<p>Each value divided by the baseline column's (<code>--baseline</code> picks another); "
                f"— where the baseline is zero and the value is not.</p>" + table(head, body, "num") + "</section>")

    def section_per_ref(self):
        runs = self.runs
        head = [r.label for r in runs]
        refs = [r.counter("refs") or 0 for r in runs]
        body = [("busy cycles per reference", [fmt(r.busy / n) if n else "—" for r, n in zip(runs, refs)], "time")]
        for c in union(runs, lambda r: r.r["cycles"]):
            if c in ("idle", "total") or not any(r.r["cycles"].get(c) for r in runs):
                continue
            body.append((named("cycles", c, self.docs) + " cycles per reference",
                         [fmt(r.r["cycles"].get(c, 0) / n) if n else "—" for r, n in zip(runs, refs)], "cycles"))
        if any(r.counter("tlb_miss") for r in runs):
            body.append(("walk references per TLB miss",
                         [fmt(r.counter("walk_refs") / r.counter("tlb_miss"))
                          if r.counter("tlb_miss") and r.counter("walk_refs") is not None else "—" for r in runs],
                         "counter"))
        more = []
        for n in union(runs, lambda r: r.r["counters"]):
            if n == "refs" or not any(r.r["counters"].get(n) for r in runs):
                continue
            more.append((named("counter", n, self.docs) + " per 1000 references",
                         [fmt(1000 * r.r["counters"].get(n, 0) / k) if k else "—" for r, k in zip(runs, refs)],
                         "counter"))
        return ('<section id="per-reference"><h2>Costs per reference</h2><p>Per memory reference the workload '
                'made (counter <code>refs</code>); — where a run made none.</p>'
                + table(head, body, "num") + details(f"every counter per 1000 references ({len(more)})",
                                                     table(head, more, "num")) + "</section>")

    def section_per_process(self):
        runs = self.runs
        head = [r.label for r in runs]
        procs = [r.counter("fork") or 0 for r in runs]

        def us(r, cyc):
            return cyc / r.cps * 1e6 if r.cps else None
        body = [("busy µs per process", [fmt(us(r, r.busy) / n) if n and r.cps else "—"
                                          for r, n in zip(runs, procs)], "time")]
        for c in union(runs, lambda r: r.r["cycles"]):
            if c in ("idle", "total") or not any(r.r["cycles"].get(c) for r in runs):
                continue
            body.append((named("cycles", c, self.docs) + " µs per process",
                         [fmt(us(r, r.r["cycles"].get(c, 0)) / n) if n and r.cps else "—"
                          for r, n in zip(runs, procs)], "cycles"))
        more = []
        for n in union(runs, lambda r: r.r["counters"]):
            if not any(r.r["counters"].get(n) for r in runs):
                continue
            more.append((named("counter", n, self.docs) + " per process",
                         [fmt(r.r["counters"].get(n, 0) / k) if k else "—" for r, k in zip(runs, procs)],
                         "counter"))
        return ('<section id="per-process"><h2>Costs per process</h2><p>Per process created (counter '
                '<code>fork</code>); — where a run created none.</p>' + table(head, body, "num")
                + details(f"every counter per process ({len(more)})", table(head, more, "num")) + "</section>")

    def section_plots(self):
        import mvplot
        runs = self.runs
        h = ['<section id="plots"><h2>Plots</h2>']
        cats = [c for c in union(runs, lambda r: r.r["cycles"])
                if c not in ("idle", "total") and any(r.r["cycles"].get(c) for r in runs)]
        if cats:
            groups = [(c, [r.r["cycles"].get(c, 0) / r.cps * 1e3 if r.cps else 0 for r in runs]) for c in cats]
            fig = mvplot.bars("Busy time by cycle category", [r.label for r in runs], groups, "simulated ms",
                              stacked=True, size=(6.4, 2.8))
            h.append(self.figure(mvplot.svg(fig), "busy time by cycle category",
                                 "Busy time of each run, by the category its cycles were charged to."))
        h.append("<h3>Time series</h3><p>Counters are the change over each interval, gauges the value at its "
                 "end. A cross marks the last sample, the end of the run, whose interval is shorter. Runs "
                 "with equal values overlap: the lines differ in width and dash. Runs of different "
                 "workloads are plotted apart, each on its own time axis.</p>")
        by_wl = {}
        for r in runs:
            by_wl.setdefault(r.r.get("workload", ""), []).append(r)
        for wl, group in by_wl.items():
            if len(by_wl) > 1:
                h.append(f"<h4>{esc(wl)}</h4>")
            h.append('<div class="plots">')
            h.extend(self.series_plots(group, f" ({wl})" if len(by_wl) > 1 else ""))
            h.append("</div>")
        h.append("</section>")
        return "".join(h)

    def series_plots(self, runs, suffix):
        """One plot per time series of these runs (of one workload)."""
        import mvplot
        out = []
        tmax = max((max(r.r.get("series", {}).get("time_s", []) or [0]) for r in runs), default=0)
        scale, unit = (60.0, "simulated minutes") if tmax > 180 else (1.0, "simulated seconds")
        for kind, part in (("counter", "counters"), ("gauge", "gauges")):
            for n in union(runs, lambda r: r.r.get("series", {}).get(part, {})):
                lines = []
                for r in runs:
                    s = r.r.get("series", {})
                    t = s.get("time_s", [])
                    if not t:
                        continue
                    ys = s.get(part, {}).get(n)
                    if ys is None:
                        if kind == "gauge":
                            continue
                        ys = [0] * len(t)   # a counter not listed was zero throughout
                    lines.append((r.label, [x / scale for x in t], ys))
                if not lines:
                    continue
                self.use(kind, n)
                fig = mvplot.lines(n + suffix, unit, "per interval" if kind == "counter" else "value", lines,
                                   partial_last=True)
                text = mvdocs.explain(self.docs, kind, n) or "not documented in docs/output.md"
                out.append(self.figure(mvplot.svg(fig), n, f"{named(kind, n, self.docs)} ({kind}): {esc(text)}",
                                       raw=True))
        return out

    def figure(self, svg_bytes, alt, caption, raw=False):
        self.plots += 1
        return (f'<figure id="plot-{self.plots}">{img(svg_bytes, alt)}'
                f"<figcaption>{caption if raw else esc(caption)}</figcaption></figure>")

    def section_glossary(self):
        h = ['<section id="glossary"><h2>What the names mean</h2><p>From the tables of '
             "<code>docs/output.md</code>.</p>"]
        titles = {"counter": "Counters", "cycles": "Cycle categories", "metric": "Metrics", "gauge": "Gauges"}
        for kind, names in self.used.items():
            if not names:
                continue
            h.append(f"<h3>{titles[kind]}</h3><dl>")
            for n in names:
                text = mvdocs.explain(self.docs, kind, n)
                h.append(f'<dt id="g-{kind}-{esc(n)}"><code>{esc(n)}</code></dt><dd'
                         + (f">{esc(text)}" if text else ' class="undocumented">not documented in docs/output.md')
                         + "</dd>")
            h.append("</dl>")
        h.append("</section>")
        return "".join(h)

    def page(self):
        rows = self.value_rows()
        body = [self.section_missing(), self.section_config(), self.section_results(rows), self.section_relative(rows),
                self.section_per_ref(), self.section_per_process(), self.section_plots(),
                self.section_glossary()]
        nav = " · ".join(f'<a href="#{i}">{t}</a>' for i, t in (
            ("config", "Configuration"), ("results", "Side by side"), ("relative", "Relative"),
            ("per-reference", "Per reference"), ("per-process", "Per process"), ("plots", "Plots"),
            ("glossary", "Names")))
        return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                f"<title>{esc(self.title)}</title><style>{STYLE}</style></head><body>"
                f"<h1>{esc(self.title)}</h1><nav>{nav}</nav>" + "".join(body)
                + f"<script>{SCRIPT}</script></body></html>\n")


STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em auto;max-width:1200px;padding:0 1em;color:#222}
h1{font-size:1.6em;margin:0 0 .3em}h2{border-bottom:1px solid #ccc;margin-top:1.6em}
nav{margin-bottom:1em}code{font-size:.95em}
.scroll{overflow-x:auto}table{border-collapse:collapse;font-size:13px}
th,td{padding:2px 8px;border-bottom:1px solid #eee;white-space:nowrap}
thead th{position:sticky;top:0;background:#f4f4f4;text-align:right}
tbody th{text-align:left;font-weight:normal}td{text-align:right;font-variant-numeric:tabular-nums}
tr.diff th{font-weight:bold}tr.time th{font-weight:bold}a{color:#1a5fb4;text-decoration:none}
figure{margin:1em 0;break-inside:avoid}figcaption{font-size:12px;color:#444;max-width:900px}
img.plot{max-width:100%;height:auto;display:block}
.plots{display:grid;grid-template-columns:repeat(auto-fill,minmax(560px,1fr));gap:0 1.5em}img.broken{outline:3px solid red}
section.missing{border:2px solid #c01c28;padding:0 1em;background:#fff4f4}
dt{margin-top:.4em}dd{margin-left:1.5em;color:#333}dd.undocumented{color:#b00}
"""

# Marks on the page whether every plot decoded (read by the browser test).
SCRIPT = """
window.addEventListener('load', function () {
  var imgs = document.querySelectorAll('img.plot'), ok = 0;
  for (var i = 0; i < imgs.length; i++) {
    if (imgs[i].complete && imgs[i].naturalWidth > 0) ok++; else imgs[i].classList.add('broken');
  }
  document.documentElement.setAttribute('data-plots', String(imgs.length));
  document.documentElement.setAttribute('data-plots-ok', String(ok));
  document.documentElement.setAttribute('data-height', String(document.documentElement.scrollHeight));
});
"""


EPILOG = """exit status:
  0  success: the page is written
  1  the page could not be written (a write that failed after the page was made)
  2  bad input: one 'memvirt: ...' line names it (a missing or malformed result file, an output path
     that cannot be written or that is one of the results); no page is written
  3  (not used by report)
  130  interrupted (Ctrl-C): no page is written

example:
  memvirt compare --quiet --modes native,hap --workload lmbench --param lmbench.iterations=2 --json lm.json
  memvirt report lm.json -o report.html
"""


def refuse_twice(paths):
    """A result given twice, by one name or two (a link), would show its
    runs twice, as `--modes hap,hap` and a log given twice to `trace
    import` are refused. A path that cannot be read is left to load()."""
    seen = {}
    for i, path in enumerate(paths):
        try:
            st = os.stat(path)
        except OSError:
            continue
        if not stat.S_ISREG(st.st_mode):
            continue
        k = seen.setdefault((st.st_dev, st.st_ino), i)
        if k != i:
            first = paths[k]
            again = f" (again as '{path}')" if path != first else ""
            raise InputError(f"the result '{first}' is given twice{again}: its runs would be shown twice")


def main(argv):
    p = Parser(CMD, description="one self-contained HTML page from memvirt result files",
               formatter_class=argparse.RawDescriptionHelpFormatter, epilog=EPILOG)
    p.add_argument("results", nargs="+", metavar="RESULT.json")
    p.add_argument("-o", "--output", required=True, metavar="report.html", help="the page ('-': standard output)")
    p.add_argument("--baseline", metavar="RUN", help="label, mode or column number of the baseline column "
                   "(default: the first native run, else the first run)")
    p.add_argument("--title", default="memvirt report")
    # files and options in any order (a.json --title T b.json), as getopt's C commands take them
    a = p.parse_intermixed_args(argv)
    runs, inputs = [], []
    try:
        check_outputs([("-o", a.output)], a.results)
        refuse_twice(a.results)
        for path in a.results:
            doc = mvresults.load(path)
            inputs.append((path, len(doc["runs"])))
            runs += [Run(path, doc, r) for r in doc["runs"]]
        label_runs(runs)
        base = pick_baseline(runs, a.baseline)
    except InputError as e:
        die(CMD, str(e))
    rep = Report(runs, base, mvdocs.load(), shown(a.title), inputs)
    page = rep.page()
    try:
        write_atomic(a.output, page)
    except OSError as e:
        die(CMD, str(e), EXIT_FAIL)


if __name__ == "__main__":
    run(main, sys.argv[1:])

"""mvplot.py: the few chart shapes memvirt's report and figures use, drawn
by matplotlib (Debian's python3-matplotlib) to SVG. Output is deterministic:
no date in the file and a fixed salt for matplotlib's element ids, so the same
data gives byte-identical figures."""
import io
import os
import shutil
import sys
import tempfile
import warnings

from mvcommon import EXIT_FAIL, at_end, command, die, printable


def _config_dir():
    """Where matplotlib cannot keep its configuration and cache (a HOME that
    is missing or not ours), a private temporary directory as MPLCONFIGDIR,
    removed at the end: matplotlib made one itself, with a five-line warning
    on standard error (matplotlib's _get_config_or_cache_dir, whose checks
    these are)."""
    def usable(d):
        try:
            os.makedirs(d, exist_ok=True)
        except OSError:
            return False
        return os.path.isdir(d) and os.access(d, os.W_OK)
    try:
        dirs = [os.environ["MPLCONFIGDIR"]] if os.environ.get("MPLCONFIGDIR") else [
            os.path.join(os.environ.get(var) or os.path.join(os.path.expanduser("~"), sub), "matplotlib")
            for var, sub in (("XDG_CONFIG_HOME", ".config"), ("XDG_CACHE_HOME", ".cache"))]
    except (KeyError, RuntimeError):
        dirs = []
    if dirs and all(usable(d) for d in dirs):
        return
    tmp = tempfile.mkdtemp(prefix="memvirt-matplotlib.")
    at_end(lambda: shutil.rmtree(tmp, ignore_errors=True))
    os.environ["MPLCONFIGDIR"] = tmp


_config_dir()
try:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.text
except ImportError as e:   # a Python that is not Debian's (MEMVIRT_PYTHON, a venv): one line, not a traceback
    import resource   # ulimit -v (the loader's "failed to map segment"): not a matter of setup
    limited = any(resource.getrlimit(r)[0] != resource.RLIM_INFINITY
                  for r in (resource.RLIMIT_AS, resource.RLIMIT_DATA))
    if "Cannot allocate memory" in str(e) or (limited and "failed to map segment" in str(e)):
        die(command(), f"out of memory (loading matplotlib: {e})", EXIT_FAIL)
    given = os.environ.get("MEMVIRT_PYTHON")
    die(command(), f"cannot import matplotlib ({e}) in {sys.executable or 'python3'}"
        + (f" (MEMVIRT_PYTHON={given})" if given else "")
        + ": run scripts/setup, which installs Debian's python3-matplotlib for /usr/bin/python3"
        + (", and unset MEMVIRT_PYTHON" if given else ""), EXIT_FAIL)

# A character of a result file's label that the font lacks is drawn as a
# box; matplotlib's warning about it was two lines of Python on stderr.
warnings.filterwarnings("ignore", message=r"Glyph \d+ .*missing from", category=UserWarning)

# matplotlib's own defaults, whatever a matplotlibrc (the working
# directory's, $MATPLOTLIBRC, ~/.config/matplotlib) says: a page is the same
# bytes for the same inputs on any host (one with axes.formatter.use_locale
# drew 0,14 for 0.14 under a German locale)
matplotlib.rcdefaults()
plt.rcParams.update({
    "svg.hashsalt": "memvirt",
    "svg.fonttype": "none",      # text stays text: small files, sharp at any zoom
    "font.size": 8,
    "axes.titlesize": 9,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "legend.fontsize": 7,
    "figure.dpi": 100,
    # labels (modes, profiles, swept values) are drawn as written: '$x$' is not
    # math text, and '$\frac$' is not a parse error
    "text.parse_math": False,
})


# Beyond this (or not finite) a value is not drawn: matplotlib cannot lay out
# an axis near the largest double (a RuntimeWarning on standard error, an
# IndexError from its tick locator). Result files hold nothing beyond it
# (mvresults.NUM_MAX), but what is drawn is derived: a value in cycles over
# cycles per second.
DRAW_MAX = 1e300
NOT_DRAWN = " (values beyond ±1e300 not drawn)"


def _drawable(values):
    """values with those that cannot be drawn as NaN (a gap, no bar), and
    whether there were any."""
    out = [v if -DRAW_MAX <= v <= DRAW_MAX else float("nan") for v in values]
    return out, any(v != v for v in out)


def colors(n):
    cmap = plt.get_cmap("tab10" if n <= 10 else "tab20")
    return [cmap(i % cmap.N) for i in range(n)]


def svg(fig):
    """The figure as SVG bytes; closes it."""
    buf = io.BytesIO()
    for t in fig.findobj(matplotlib.text.Text):   # labels from result files may hold control characters
        t.set_text(printable(t.get_text(), plot=True))
    fig.savefig(buf, format="svg", bbox_inches=None if getattr(fig, "_mv_fixed", False) else "tight",
                metadata={"Date": None})
    plt.close(fig)
    return buf.getvalue()


def save(fig, path):
    """The figure to path, whole or not at all (mvcommon.write_atomic)."""
    from mvcommon import write_atomic
    write_atomic(path, svg(fig))


def _legend(ax, n):
    if n > 1:
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0, frameon=False,
                  ncol=1 if n <= 16 else 2)


def fixed_layout(fig, labels, plot_w=3.9, plot_h=1.7, bottom=0.5):
    """Margins set by hand, room on the right for a legend of these labels:
    about twice as fast as bbox_inches='tight', which draws twice."""
    cols = 1 if len(labels) <= 16 else 2
    legend_w = (0.35 + 0.052 * max((len(x) for x in labels), default=0)) * cols if len(labels) > 1 else 0.1
    left, top = 0.75, 0.3
    w, h = left + plot_w + 0.15 + legend_w, bottom + plot_h + top
    fig.set_size_inches(w, h)
    fig.subplots_adjust(left=left / w, right=(left + plot_w) / w, bottom=bottom / h, top=(bottom + plot_h) / h)
    fig._mv_fixed = True


STYLES = ["-", "--", ":", "-."]


def lines(title, xlabel, ylabel, series, size=(5.2, 2.3), logy=False, ax=None, legend=True, partial_last=False):
    """series: [(label, xs, ys)]; one line each, colours in order, and line
    styles and widths that keep equal lines visible on top of each other.
    partial_last: the last point covers a shorter interval (the end of a
    run): drawn as an unconnected marker."""
    fig = None
    if ax is None:
        fig, ax = plt.subplots(figsize=size)
    n = len(series)
    dropped = False
    for i, ((label, xs, ys), c) in enumerate(zip(series, colors(n))):
        (xs, dx), (ys, dy) = _drawable(xs), _drawable(ys)
        dropped = dropped or dx or dy
        cut = len(xs) - 1 if partial_last and len(xs) > 1 else len(xs)
        ax.plot(xs[:cut], ys[:cut], label=label, color=c, linestyle=STYLES[i % len(STYLES)],
                linewidth=max(0.8, 2.2 - 1.4 * i / max(1, n - 1)), marker="." if cut <= 40 and n <= 6 else None,
                markersize=3)
        if cut < len(xs):
            ax.plot(xs[cut:], ys[cut:], color=c, linestyle="none", marker="x", markersize=4)
    if logy:
        _symlog(ax)
    ax.set_title(title + (NOT_DRAWN if dropped else ""))
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if legend:
        _legend(ax, len(series))
    if fig is not None:
        fixed_layout(fig, [label for label, _, _ in series])
    return fig


def _symlog(ax):
    """A log y axis that also takes 0, its ticks labelled as plain numbers:
    matplotlib's own labels are math text ('$10^{3}$'), which text.parse_math
    off would print as written."""
    ax.set_yscale("symlog", linthresh=1)
    ax.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _pos: f"{v:g}"))


def bars(title, categories, groups, ylabel, size=(6.4, 2.6), stacked=False, logy=False, ax=None,
         legend=True):
    """categories along x; groups: [(label, [value per category])], side by
    side (or stacked)."""
    fig = None
    if ax is None:
        fig, ax = plt.subplots(figsize=size)
    n = max(1, len(groups))
    width = 0.8 if stacked else 0.8 / n
    bottom = [0.0] * len(categories)
    dropped = False
    for i, ((label, values), c) in enumerate(zip(groups, colors(len(groups)))):
        xs = [j + (0 if stacked else (i - (n - 1) / 2) * width) for j in range(len(categories))]
        if stacked:   # the top of the stack within range too
            values = [v if -DRAW_MAX <= b + v <= DRAW_MAX else float("inf") for b, v in zip(bottom, values)]
        values, d = _drawable(values)
        dropped = dropped or d
        ax.bar(xs, values, width=width, label=label, color=c, bottom=bottom if stacked else None)
        if stacked:
            bottom = [b + v if v == v else b for b, v in zip(bottom, values)]
    ax.set_xticks(range(len(categories)))
    long_ = max((len(c) for c in categories), default=0) * len(categories) > 48
    ax.set_xticklabels([printable(c, plot=True) for c in categories], rotation=30 if long_ else 0,
                       ha="right" if long_ else "center")
    if logy:
        _symlog(ax)
    ax.set_title(title + (NOT_DRAWN if dropped else ""))
    ax.set_ylabel(ylabel)
    ax.grid(axis="x", visible=False)
    if legend:
        _legend(ax, len(groups))
    return fig


def grid(n, ncols=2, panel=(3.6, 2.4)):
    """A figure of n panels; returns (fig, [axes])."""
    ncols = min(ncols, n) or 1
    nrows = (n + ncols - 1) // ncols
    fig, axs = plt.subplots(nrows, ncols, figsize=(panel[0] * ncols, panel[1] * nrows), squeeze=False)
    flat = [a for row in axs for a in row]
    for a in flat[n:]:
        a.set_visible(False)
    return fig, flat[:n]

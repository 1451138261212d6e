"""mvdocs.py: the short explanation of each counter, cycle category, metric
and gauge, read from the tables of docs/output.md (the schema's own
documentation), so that a name documented there is explained in every
report without a second list to keep.

A table row's first cell holds one or more `names`; `name_l1`..`_l4`
stands for name_l1, name_l2, name_l3, name_l4, and `<word>` inside a name
stands for any lower-case word (e.g. `vm_exits_<reason>`)."""
import os
import re

from mvcommon import source_dir

# heading of a section in docs/output.md -> the kind of name its table explains
KINDS = {"counters": "counter", "cycle categories": "cycles", "metrics": "metric", "gauges": "gauge"}


def _names(cell):
    """Names and patterns in a first cell, e.g. "`a_l1`..`_l4`, `b`"."""
    out = []
    for m in re.finditer(r"`([^`]+)`(?:\s*\.\.\s*`([^`]+)`)?", cell):
        first, last = m.group(1), m.group(2)
        if last:
            a = re.match(r"(.*?)(\d+)$", first)
            b = re.match(r".*?(\d+)$", last)
            if a and b:
                out += [f"{a.group(1)}{k}" for k in range(int(a.group(2)), int(b.group(1)) + 1)]
                continue
        out.append(first)
    return out


def parse(text):
    """{kind: [(name or compiled pattern, explanation)]} from output.md's text."""
    docs = {k: [] for k in KINDS.values()}
    kind, prefix = None, ""
    for line in text.splitlines():
        h = re.match(r"#+\s+(.*)", line)
        if h:
            kind = KINDS.get(h.group(1).strip().lower())
            continue
        if not kind or not line.startswith("|"):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 2 or set(cells[0]) <= set("-: "):
            continue
        if cells[0] == "name":   # the header: the second column says what the text is
            prefix = "present when: " if cells[1].lower() == "when" else ""
            continue
        text_ = prefix + cells[1].replace("`", "")
        for n in _names(cells[0]):
            if "<" in n:
                pat = re.compile("^" + re.sub(r"<[^>]*>", "[a-z0-9_]+", re.escape(n).replace(r"\<", "<")
                                              .replace(r"\>", ">")) + "$")
                docs[kind].append((pat, text_))
            else:
                docs[kind].append((n, text_))
    return docs


def load(path=None):
    path = path or os.path.join(source_dir(), "docs", "output.md")
    try:
        with open(path, encoding="utf-8") as f:
            return parse(f.read())
    except OSError:
        return {k: [] for k in KINDS.values()}


def explain(docs, kind, name):
    """The explanation of name, or None if docs/output.md has none."""
    for key, text in docs.get(kind, []):
        if isinstance(key, str) and key == name:
            return text
    for key, text in docs.get(kind, []):
        if not isinstance(key, str) and key.match(name):
            return text
    return None

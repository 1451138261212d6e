#!/usr/bin/env python3
"""profile_table.py: a cost profile file as the markdown table of
docs/cost-model.md ("Entries"): each entry's default (from `memvirt list`),
the profile's value with its status and spread, and how it was obtained.

    scripts/profile_table.py build/memvirt profiles/this-host.profile

One row per entry of memvirt's cost registry, in its order: an entry the
profile sets, or one it lists as a "# cost.NAME = ... status=default"
comment (not measured: the compiled default applies, and the table shows
today's default, not the value the comment froze).

It reads the file the way memvirt does only loosely (it trusts what memvirt
wrote); memvirt itself checks profiles strictly (--profile)."""
import re
import shlex
import subprocess
import sys


def defaults(memvirt):
    """The cost registry in order: name -> default (text)."""
    out = subprocess.run([memvirt, "list"], check=True, capture_output=True, text=True).stdout
    d = {}
    for line in out.splitlines():
        m = re.match(r"\s+cost\.(\w+)\s+(\S+)\s", line)
        if m:
            d[m.group(1)] = m.group(2)
    return d


DEFAULT_COMMENT = re.compile(r"#\s*cost\.(\w+) = \S+ status=default \(not measured; "
                             r"the compiled default applies\)(?::\s*(.*))?$")


def entries(path):
    """name -> (value, attributes) for every entry the profile names."""
    found = {}
    for line in open(path):
        line = line.strip()
        m = DEFAULT_COMMENT.match(line)
        if m:
            found[m.group(1)] = (None, {"status": "default", "method": m.group(2) or ""})
            continue
        if not line.startswith("cost."):
            continue
        key, rest = line.split("=", 1)
        toks = shlex.split(rest)
        found[key.strip()[5:]] = (toks[0], dict(t.split("=", 1) for t in toks[1:]))
    return found


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: profile_table.py MEMVIRT PROFILE")
    d = defaults(sys.argv[1])
    prof = entries(sys.argv[2])
    print("| entry | default | this machine | status | spread | how |")
    print("|---|---:|---:|---|---:|---|")
    for name, dflt in d.items():
        value, a = prof.get(name, (None, {"status": "default", "method": "not in the profile"}))
        if a.get("status") == "default":
            value = dflt    # what a run under the profile uses
        how = a.get("method", "")
        if a.get("note"):
            how += f" *({a['note'].strip()})*"
        how = how.replace("|", "\\|")
        spread = a.get("spread", "").replace("..", "–")
        print(f"| `{name}` | {dflt} | {value} | {a.get('status', '')} | {spread} | {how} |")


if __name__ == "__main__":
    main()

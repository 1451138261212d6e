#!/usr/bin/env python3
"""profile_table.py: a cost profile file as the markdown table of
docs/cost-model.md ("Entries"): each entry's default (from `memvirt list`),
the profile's value with its status and spread, and how it was obtained.

    scripts/profile_table.py build/memvirt profiles/this-host.profile

It reads the file the way memvirt does only loosely (it trusts what memvirt
wrote); memvirt itself checks profiles strictly (--profile)."""
import re
import shlex
import subprocess
import sys


def defaults(memvirt):
    out = subprocess.run([memvirt, "list"], check=True, capture_output=True, text=True).stdout
    d = {}
    for line in out.splitlines():
        m = re.match(r"\s+cost\.(\w+)\s+(\S+)\s", line)
        if m:
            d[m.group(1)] = m.group(2)
    return d


def entries(path):
    for line in open(path):
        line = line.strip()
        if not line.startswith("cost."):
            continue
        key, rest = line.split("=", 1)
        toks = shlex.split(rest)
        attrs = dict(t.split("=", 1) for t in toks[1:])
        yield key.strip()[5:], toks[0], attrs


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: profile_table.py MEMVIRT PROFILE")
    d = defaults(sys.argv[1])
    print("| entry | default | this machine | status | spread | how |")
    print("|---|---:|---:|---|---:|---|")
    for name, value, a in entries(sys.argv[2]):
        how = a.get("method", "")
        if a.get("note"):
            how += f" *({a['note'].strip()})*"
        how = how.replace("|", "\\|")
        spread = a.get("spread", "").replace("..", "–")
        print(f"| `{name}` | {d.get(name, '?')} | {value} | {a.get('status', '')} | {spread} | {how} |")


if __name__ == "__main__":
    main()

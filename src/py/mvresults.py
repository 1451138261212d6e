"""mvresults.py: reads memvirt result files (the JSON of `memvirt run
--json`, `memvirt compare --json` and `memvirt sweep merge`; schema in
docs/output.md) and checks their shape, generically: whatever counters,
cycle categories, metrics, gauges and modes a run has are taken as they
come. A malformed file raises InputError naming the file and the place:
FILE:LINE:COL for bad JSON, FILE: runs[1].series.counters.fork for a bad
value."""
import json
import os
import re
import stat

from mvcommon import InputError


def _no_constants(name):
    raise ValueError(f"'{name}' is not a JSON number")


def _pairs(pairs):
    d = {}
    for k, v in pairs:
        if k in d:
            raise ValueError(f"duplicate key '{k}'")
        d[k] = v
    return d


# The largest magnitude taken: memvirt writes nothing near it (its counts are
# below 2^64), and the report's sums, ratios and plots of numbers beyond it
# overflow (an integer beyond a double was an OverflowError traceback, 1e308
# matplotlib's RuntimeWarning or IndexError).
NUM_MAX = 1e300


class _LongInt(Exception):
    """An integer literal of over 1,000 digits (far beyond any number in
    range: 1e300 has 301), refused as it is read, with where it is: Python
    converts one of over 4,300 digits only with a ValueError about its own
    limit, and longer ones in quadratic time. A checked value of fewer
    digits beyond the range is refused by _num, naming its place."""


def _int(text):
    if len(text.lstrip("-")) > 1000:
        raise _LongInt(text)
    return int(text)


def _is_num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool) and -NUM_MAX <= v <= NUM_MAX


def _num(v, where):
    if not _is_num(v):
        if isinstance(v, (int, float)) and not isinstance(v, bool) and v == v:   # 1e400 is read as inf
            text = f"{v:g}" if isinstance(v, float) else (str(v)[:20] + f"... ({len(str(v))} digits)"
                                                          if len(str(v)) > 20 else str(v))
            raise InputError(f"{where}: {text} is out of range (beyond ±{NUM_MAX:g}: no memvirt run writes it)")
        raise InputError(f"{where}: expected a number, found {json.dumps(v)[:40]}")
    return v


def _obj(v, where):
    if not isinstance(v, dict):
        raise InputError(f"{where}: expected an object, found {type(v).__name__ if v is not None else 'null'}")
    return v


def _str(v, where):
    if not isinstance(v, str) or not v:
        raise InputError(f"{where}: expected a non-empty string")
    return v


def _all_in_range(v):
    """No number anywhere in v beyond ±NUM_MAX (the fast pass: no paths)."""
    stack = [v]
    while stack:
        v = stack.pop()
        if isinstance(v, dict):
            stack.extend(v.values())
        elif isinstance(v, list):
            stack.extend(v)
        elif isinstance(v, (int, float)) and not isinstance(v, bool) and not _is_num(v):
            return False
    return True


def _check_numbers(doc, path):
    """Every number anywhere in the document within ±NUM_MAX: the report
    shows the top-level settings and each run's configuration as they are
    (a seed of 1e400 was shown as 'inf'; rerun refuses it). Where one is
    not, the first in file order is named."""
    if _all_in_range(doc):
        return
    stack = [(doc, path + ":")]
    while stack:
        v, where = stack.pop()
        if isinstance(v, dict):
            items = [(x, f"{where} {k}" if where.endswith(":") else f"{where}.{k}") for k, x in v.items()]
            stack.extend(reversed(items))   # (the first in the file is named first)
        elif isinstance(v, list):
            stack.extend(reversed([(x, f"{where}[{i}]") for i, x in enumerate(v)]))
        elif isinstance(v, (int, float)) and not isinstance(v, bool):
            _num(v, where)


def _check_run(run, where):
    _obj(run, where)
    for key in ("mode", "workload"):
        if key not in run:
            raise InputError(f"{where}: no '{key}'")
        _str(run[key], f"{where}.{key}")
    if "sim_seconds" not in run:
        raise InputError(f"{where}: no 'sim_seconds'")
    if _num(run["sim_seconds"], f"{where}.sim_seconds") < 0:
        raise InputError(f"{where}.sim_seconds: {run['sim_seconds']} is negative: no memvirt run writes it")
    for part in ("counters", "cycles", "metrics"):
        if part not in run:
            raise InputError(f"{where}: no '{part}'")
        for k, v in _obj(run[part], f"{where}.{part}").items():
            _num(v, f"{where}.{part}.{k}")
            if part == "counters" and (not isinstance(v, int) or v < 0):
                raise InputError(f"{where}.{part}.{k}: expected a non-negative integer")
    s = _obj(run.get("series", {"time_s": []}), f"{where}.series")
    t = s.get("time_s", [])
    if not isinstance(t, list):
        raise InputError(f"{where}.series.time_s: expected an array")
    for i, v in enumerate(t):
        _num(v, f"{where}.series.time_s[{i}]")
    for part in ("counters", "gauges"):
        for k, arr in _obj(s.get(part, {}), f"{where}.series.{part}").items():
            w = f"{where}.series.{part}.{k}"
            if not isinstance(arr, list) or len(arr) != len(t):
                raise InputError(f"{w}: expected an array of {len(t)} numbers (as many as time_s)")
            for i, v in enumerate(arr):
                _num(v, f"{w}[{i}]")
    sw = run.get("sweep", {})
    for k, v in _obj(sw, f"{where}.sweep").items():
        if v is not None and not isinstance(v, (str, int, float)):
            raise InputError(f"{where}.sweep.{k}: expected a string, number or null")
    _obj(run.get("header", {}), f"{where}.header")


def parse(path, raw):
    """The checked document in raw (bytes) read from path."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise InputError(f"{path}: not UTF-8 text (byte 0x{raw[e.start]:02x} at offset {e.start})") from None
    if text.startswith("\ufeff"):   # (Python's own message says to decode with utf-8-sig)
        raise InputError(f"{path}:1:1: invalid JSON: a byte-order mark (EF BB BF) before the document; "
                         "memvirt writes none and JSON allows none (RFC 8259)")
    try:
        doc = json.loads(text, parse_constant=_no_constants, parse_int=_int, object_pairs_hook=_pairs)
    except _LongInt as e:
        lit = e.args[0]
        at = text.find(lit)   # where it is: the first such literal (the decoder does not say)
        line, col = text.count("\n", 0, at) + 1, at - text.rfind("\n", 0, at)
        raise InputError(f"{path}:{line}:{col}: an integer of {len(lit.lstrip('-'))} digits ({lit[:20]}...) is "
                         f"out of range (beyond ±{NUM_MAX:g}: no memvirt run writes it)") from None
    except json.JSONDecodeError as e:
        raise InputError(f"{path}:{e.lineno}:{e.colno}: invalid JSON: {e.msg}") from None
    except ValueError as e:
        raise InputError(f"{path}: invalid JSON: {e}") from None
    except RecursionError:
        raise InputError(f"{path}: invalid JSON: nested too deeply") from None
    if re.search(r"\\u[dD][89a-fA-F]", text):   # a \uD800 escape: only a pair of them is Unicode text
        try:
            json.dumps(doc, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise InputError(f"{path}: invalid JSON: a string holds a lone surrogate (\\uD800-\\uDFFF "
                             "not in a pair): not Unicode text") from None
    _obj(doc, path)
    if "runs" not in doc:
        raise InputError(f"{path}: no 'runs': not a memvirt result file")
    if not isinstance(doc["runs"], list) or not doc["runs"]:
        raise InputError(f"{path}: 'runs' is not a non-empty array")
    for i, run in enumerate(doc["runs"]):
        _check_run(run, f"{path}: runs[{i}]")
    _check_numbers(doc, path)
    return doc


RESULT_MAX = 1 << 30   # bytes read from a pipe or device, at most (as rerun)


def load(path):
    """An endless or binary input (/dev/zero) is refused as it is read: JSON
    text holds no NUL byte, and only a regular file is surely finite."""
    chunks, size = [], 0
    try:
        with open(path, "rb") as f:
            if stat.S_ISREG(os.fstat(f.fileno()).st_mode):   # finite: read it once, hold it once
                raw = f.read()
                nul = raw.find(b"\0")
                if nul >= 0:
                    raise InputError(f"{path}: NUL byte at byte {nul}: not a JSON result")
                return parse(path, raw)
            while chunk := f.read(1 << 20):
                nul = chunk.find(b"\0")
                if nul >= 0:
                    raise InputError(f"{path}: NUL byte at byte {size + nul}: not a JSON result")
                chunks.append(chunk)
                size += len(chunk)
                if size > RESULT_MAX:
                    raise InputError(f"{path}: more than {RESULT_MAX >> 20} MiB from a pipe or device: "
                                     "not a memvirt result")
    except OSError as e:
        raise InputError(f"{path}: cannot read: {e.strerror}") from None
    return parse(path, b"".join(chunks))


def flatten(value, prefix=""):
    """{"a": {"b": 1}} -> {"a.b": 1}; arrays as JSON text."""
    out = {}
    if isinstance(value, dict):
        for k, v in value.items():
            out.update(flatten(v, f"{prefix}.{k}" if prefix else str(k)))
    elif isinstance(value, list):
        out[prefix] = json.dumps(value)
    else:
        out[prefix] = value
    return out


def busy_cycles(run):
    c = run["cycles"]
    total = c.get("total", sum(v for k, v in c.items() if k != "total"))
    return total - c.get("idle", 0)


def cycles_per_second(run):
    """Simulated cycles per simulated second, from the run itself."""
    c = run["cycles"]
    total = c.get("total", sum(v for k, v in c.items() if k != "total"))
    return total / run["sim_seconds"] if run["sim_seconds"] > 0 else None

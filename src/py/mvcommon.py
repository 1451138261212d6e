"""mvcommon.py: what memvirt's Python commands share: one-line errors with
exit status 2 for bad input (as the C commands give), an argument parser
that reports that way, and files written under a temporary name and renamed
into place, so a failed command leaves no half-written output."""
import argparse
import os
import sys

EXIT_FAIL = 1
EXIT_USAGE = 2


class InputError(Exception):
    """Bad input: the message names the input and where in it."""


def die(cmd, msg, status=EXIT_USAGE):
    print(f"memvirt: {cmd}: {msg}", file=sys.stderr)
    sys.exit(status)


class Parser(argparse.ArgumentParser):
    """argparse with memvirt's error style: one line, exit status 2."""

    def __init__(self, cmd, **kw):
        super().__init__(prog=f"memvirt {cmd}", **kw)
        self.cmd = cmd

    def error(self, message):
        die(self.cmd, message)


def write_atomic(path, data):
    """Write bytes or text to path.tmp, then rename it to path."""
    tmp = f"{path}.tmp"
    mode = "wb" if isinstance(data, bytes) else "w"
    try:
        with open(tmp, mode, **({} if mode == "wb" else {"encoding": "utf-8", "newline": ""})) as f:
            f.write(data)
        os.replace(tmp, path)
    except OSError as e:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise OSError(f"cannot write '{path}': {e.strerror}") from e


def write_all_atomic(files):
    """Write every (path, text) to path.tmp, then rename them all: a failure
    leaves none of them changed."""
    done = []
    try:
        for path, data in files:
            with open(f"{path}.tmp", "w", encoding="utf-8", newline="") as f:
                f.write(data)
            done.append(path)
        for path in done:
            os.replace(f"{path}.tmp", path)
    except OSError as e:
        for path in done + [p for p, _ in files[len(done):len(done) + 1]]:
            try:
                os.unlink(f"{path}.tmp")
            except OSError:
                pass
        raise OSError(f"cannot write '{e.filename or files[len(done)][0]}': {e.strerror}") from e


def source_dir():
    """The source tree these scripts live in (src/py/..)."""
    return os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

"""mvcommon.py: what memvirt's Python commands share: one-line errors with
exit status 2 for bad input (as the C commands give), an argument parser
that reports that way, output paths checked before any work, and files
written under a temporary name and renamed into place, so a failed command
leaves no half-written output."""
import argparse
import atexit
import contextlib
import errno
import os
import re
import signal
import stat
import sys
import tempfile

EXIT_FAIL = 1
EXIT_USAGE = 2


class InputError(Exception):
    """Bad input: the message names the input and where in it."""


def raw(text):
    """text as bytes for the terminal or a file: a file name that is not UTF-8
    (its bytes carried as surrogates, as os hands them over) comes out as the
    same bytes the user typed; any other character UTF-8 cannot hold as '?'."""
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace")


def shown(name):
    """A file name (or any text from the command line) as text that UTF-8 can
    hold, for a page or a JSON file: bytes that are not UTF-8 become U+FFFD."""
    return raw(name).decode("utf-8", "replace")


# Unicode's noncharacters: U+FDD0-FDEF and the last two of every plane
_NONCHARS = "\ufdd0-\ufdef" + "".join(chr(p << 16 | 0xfffe) + chr(p << 16 | 0xffff) for p in range(17))
_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f" + _NONCHARS + "]")
_CONTROLS_PLOT = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f" + _NONCHARS + "]")


def printable(text, plot=False):
    """text with the characters a page may not hold (a NUL, another
    control, a noncharacter: HTML parse errors) as U+FFFD. Tab, newline
    and carriage return are kept on a page; in a plot a newline only (a
    line break there; matplotlib has no glyph for a tab or carriage
    return)."""
    return (_CONTROLS_PLOT if plot else _CONTROLS).sub("\ufffd", text)


def say(line):
    """One line on standard error, whatever bytes the names in it hold. A
    closed or full standard error loses the line, not the exit status (as
    the C commands' mv_error)."""
    if sys.stderr is None:
        return
    # control bytes (a newline in a file name) shown escaped, as the C
    # commands do (lib/err.c): the message stays one line
    line = "".join(c if c >= " " and c != "\x7f" else
                   {"\n": "\\n", "\t": "\\t", "\r": "\\r"}.get(c, "\\x%02x" % ord(c)) for c in line)
    try:
        sys.stderr.flush()
        sys.stderr.buffer.write(raw(line) + b"\n")
        sys.stderr.buffer.flush()
    except OSError:
        pass


def die(cmd, msg, status=EXIT_USAGE):
    say(f"memvirt: {cmd}: {msg}")
    sys.exit(status)


_command = None   # the command's name, as its Parser was given it


def command():
    """The running command's name ('report', 'sweep merge'), for messages
    given outside its main."""
    if _command:
        return _command
    name = os.path.splitext(os.path.basename(sys.argv[0] if sys.argv else ""))[0]
    return "sweep merge" if name == "merge" else name or "python"


class StdoutError(Exception):
    """A write to standard output that failed (str: why, as strerror)."""


class Signalled(BaseException):
    """SIGTERM or SIGHUP arrived: raised where the command was, so that every
    finally (write_all_atomic's) cleans up on the way out to run()."""

    def __init__(self, sig):
        super().__init__(signal.Signals(sig).name)
        self.sig = sig


_deferred = 0     # > 0: a signal is noted in _pending, not raised (a cleanup under way)
_pending = []


def _raise_for(sig):
    if sig == signal.SIGINT:
        raise KeyboardInterrupt
    raise Signalled(sig)


def _on_signal(sig, frame):
    if _deferred:
        _pending.append(sig)
    else:
        _raise_for(sig)


def _catch_signals():
    """SIGINT, SIGTERM and SIGHUP raise where the command is, where they
    would have ended it (Python's own SIGINT handler, or the default): one
    ignored from the start (nohup's SIGHUP) stays ignored, as the C side
    (lib/outfile.c's install)."""
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(sig) in (signal.SIG_DFL, signal.default_int_handler):
            signal.signal(sig, _on_signal)


@contextlib.contextmanager
def signals_deferred():
    """A cleanup that a signal must not cut short: one that arrives in it is
    raised once it is done."""
    global _deferred
    _deferred += 1
    try:
        yield
    finally:
        _deferred -= 1
    if not _deferred and _pending:
        _raise_for(_pending.pop(0))


def _die_of(sig):
    """End as the signal would have (the C commands raise it again once
    their temporaries are gone): the parent sees the signal, a shell 128+N."""
    signal.signal(sig, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {sig})
    os.kill(os.getpid(), sig)
    os._exit(128 + sig)


_cleanups = []   # what is removed at the end, whatever the end (at_end)


def at_end(fn):
    """fn() when the command ends: by run() (also before it dies of a
    signal, which skips atexit), else at exit."""
    _cleanups.append(fn)


def _clean_up():
    while _cleanups:
        try:
            _cleanups.pop()()
        except OSError:
            pass


atexit.register(_clean_up)


def run(main, argv):
    """main(argv) as a command: Ctrl-C ends it with exit status 130 (as a shell
    reports SIGINT) and no traceback; SIGTERM and SIGHUP end it as they end
    the C commands, dying of the signal; whatever it was writing is cleaned
    up on the way out (write_all_atomic's finally). Standard output that is
    full or closed (the help written there) is one line and exit status 1,
    as the C commands give it: 'standard output: cannot write: ...'; so is
    any other OSError no one caught, never a traceback."""
    global _deferred
    status, sig = 0, None
    try:
        try:
            _catch_signals()
            main(argv)
        finally:
            _deferred += 1   # from here a signal is noted, not raised
    except SystemExit as e:
        status = e.code
    except KeyboardInterrupt:
        status = 130
    except Signalled as e:
        sig = e.sig
    except StdoutError as e:
        say(f"memvirt: {command()}: standard output: cannot write: {e}")
        status = EXIT_FAIL
    except OSError as e:
        say(f"memvirt: {command()}: " + (f"'{shown(str(e.filename))}': {e.strerror}"
                                         if e.filename and e.strerror else str(e)))
        status = EXIT_FAIL
    except MemoryError:   # the host out of memory (ulimit -v): one line, as the C commands say it
        say(f"memvirt: {command()}: out of memory")
        status = EXIT_FAIL
    except RuntimeError as e:
        if "can't start new thread" not in str(e):   # anything else is a bug: its traceback
            raise
        say(f"memvirt: {command()}: cannot start a thread (the host's limit on processes, ulimit -u, "
            "or out of memory)")
        status = EXIT_FAIL
    _clean_up()
    late = [p for p in _pending if p != signal.SIGINT]
    if sig is None and late:
        sig = late[0]
    if sig is not None:
        _die_of(sig)
    if signal.SIGINT in _pending:
        status = 130
    sys.exit(status)


class _Once(argparse._StoreAction):
    """An option's value, given once: given again with another value it is an
    error (as the C commands: 'given twice with different values'), not the
    last one silently taken (docs/output.md)."""

    def __call__(self, parser, namespace, values, option_string=None):
        given = parser._mv_given
        if self.dest in given and given[self.dest][1] != values:
            first_opt, first = given[self.dest]
            parser.error(f"{option_string} given twice with different values ('{first}' and '{values}')"
                         if first_opt == option_string else
                         f"{first_opt} and {option_string} given with different values ('{first}' and '{values}')")
        given[self.dest] = (option_string, values)
        super().__call__(parser, namespace, values, option_string)


class Parser(argparse.ArgumentParser):
    """argparse with memvirt's error style: one line, exit status 2; an
    option given twice with different values is an error."""

    def __init__(self, cmd, **kw):
        global _command
        super().__init__(prog=f"memvirt {cmd}", **kw)
        self.cmd = _command = cmd
        self._mv_given = {}

    def print_help(self, file=None):
        """--help to standard output through write_stdout: a failed write is
        StdoutError (argparse wrote to sys.stderr when sys.stdout was closed,
        and, newer, drops an OSError silently)."""
        if file is not None:
            return super().print_help(file)
        try:
            write_stdout(raw(self.format_help()))
        except OSError as e:
            raise StdoutError(e.strerror or str(e)) from None

    def add_argument(self, *args, **kw):
        if args and args[0].startswith("-") and kw.get("action", "store") == "store" and kw.get("nargs") is None:
            kw["action"] = _Once
        return super().add_argument(*args, **kw)

    def parse_known_args(self, args=None, namespace=None):
        self._mv_given = {}
        return super().parse_known_args(self._glue_values(sys.argv[1:] if args is None else args), namespace)

    def _glue_values(self, args):
        """getopt's rule, the C commands': an option that takes a value takes
        the next word, whatever it begins with (-o -r2.html, --title -x);
        argparse took a word beginning with '-' for an option. Given as
        OPT=VALUE, argparse takes it so. Nothing after '--' is touched."""
        takes = {o for a in self._actions if isinstance(a, argparse._StoreAction) and a.nargs is None
                 for o in a.option_strings}
        out, i = [], 0
        while i < len(args):
            w = args[i]
            if w == "--":
                out.extend(args[i:])
                break
            opt = w
            if w.startswith("--") and "=" not in w and w not in self._option_string_actions and self.allow_abbrev:
                longs = [o for o in self._option_string_actions if o.startswith(w)]
                opt = longs[0] if len(longs) == 1 else None   # an unknown or ambiguous one: argparse says so
            if opt in takes and i + 1 < len(args):
                out.append(f"{w}={args[i + 1]}")
                i += 2
            else:
                out.append(w)
                i += 1
        return out

    def error(self, message):
        die(self.cmd, message)


def _stat(path):
    try:
        return os.stat(path)
    except FileNotFoundError:
        return None


def _is_stream(st):
    return st is not None and (stat.S_ISFIFO(st.st_mode) or stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode))


def _sticky_denies(target, st):
    """Would replacing target (a regular file) fail for the sticky bit of its
    directory? There only the file's owner, the directory's owner or root
    may replace an entry (as lib/outfile.c's sticky_denies)."""
    me = os.geteuid()
    if me == 0 or st.st_uid == me:
        return False
    try:
        ds = os.stat(os.path.dirname(target) or ".")
    except OSError:
        return False
    return bool(ds.st_mode & stat.S_ISVTX) and ds.st_uid != me


def _programs():
    """(what, path) of every file this command runs as: memvirt's binary (it
    starts the scripts with MEMVIRT_BIN set), memvirt's scripts and the
    interpreter. An output renamed over one of them replaced the program
    under its own feet, as src/lib/outfile.c refuses for the binary."""
    progs = []
    mv = os.environ.get("MEMVIRT_BIN")
    if mv:
        progs.append(("the memvirt binary", mv))
    here = os.path.dirname(os.path.abspath(__file__))
    for m in list(sys.modules.values()):
        f = getattr(m, "__file__", None)
        if f and os.path.dirname(os.path.abspath(f)) == here:
            progs.append(("memvirt's script", os.path.realpath(f)))
    if sys.executable:
        progs.append(("the Python interpreter", sys.executable))
    return progs


# errnos that are the host's limits (open files, memory, processes), not bad input
HOST_LIMITS = (errno.EMFILE, errno.ENFILE, errno.ENOMEM, errno.EAGAIN)


def check_outputs(outputs, inputs=()):
    """Check every (option, path) output before any work, as the C commands
    check theirs (src/lib/outfile.c): a directory, a missing or unwritable
    directory, anything but a regular file, device or FIFO, a file in a
    sticky directory that neither it nor the directory is ours, two outputs
    that are one file, an output that is one of the inputs, or one that is
    the program running (memvirt's binary, its scripts, the interpreter) is
    bad input (InputError naming the option and the path). '-' is standard
    output."""
    seen = []
    progs = []
    for what, prog in _programs():
        try:
            pst = os.stat(prog)
            progs.append((what, prog, (pst.st_dev, pst.st_ino)))
        except OSError:
            pass
    for opt, path in outputs:
        if not path:
            raise InputError(f"{opt}: empty file name (use '-' for standard output)")
        ident = _stdout_ident() if path == "-" else _output_ident(opt, path)
        for other_opt, other_path, other in seen:
            if other == ident or other_path == path == "-":
                raise InputError(f"{other_opt} '{other_path}' and {opt} '{path}' are the same file: "
                                 "give each output its own")
        seen.append((opt, path, ident))
        for what, prog, pid in progs:
            if pid == ident:
                raise InputError(f"{opt} '{path}' is {what} '{prog}' that is running: it would be overwritten "
                                 "(give the output another name)")
        for in_path in inputs:
            try:
                ist = _stat(in_path)
            except OSError:
                ist = None
            if (ist is not None and (ist.st_dev, ist.st_ino) == ident) or os.path.realpath(in_path) == ident:
                raise InputError(f"{opt} '{path}' is the input '{in_path}': it would be overwritten "
                                 "(give the output another name)")


def _stdout_ident():
    """What identifies the file standard output is (> x.csv, >> in.json):
    (device, inode), or '-' for a terminal or /dev/null, which are no file
    to overwrite."""
    try:
        st = os.fstat(1)
    except OSError:
        return "-"
    return "-" if stat.S_ISCHR(st.st_mode) else (st.st_dev, st.st_ino)


def _output_ident(opt, path):
    """check_outputs for one named output: what may not be written there
    (InputError), else what identifies its file, (device, inode), or the
    path a new file will have."""
    if path.endswith("/"):
        raise InputError(f"{opt} '{path}': cannot write: it names a directory")
    try:
        st = _stat(path)
    except OSError as e:
        raise InputError(f"{opt} '{path}': cannot write: {e.strerror}") from None
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise InputError(f"{opt} '{path}': cannot write: it is a directory")
    if st is not None and not stat.S_ISREG(st.st_mode) and not _is_stream(st):
        raise InputError(f"{opt} '{path}': cannot write: not a regular file, device or FIFO")
    if st is not None and not os.access(path, os.W_OK):
        raise InputError(f"{opt} '{path}': cannot write: Permission denied")
    target = os.path.realpath(path)   # a new name through a dangling link: where the link leads
    if st is not None and stat.S_ISREG(st.st_mode) and _sticky_denies(target, st):
        raise InputError(f"{opt} '{path}': cannot replace it: its directory is sticky (as /tmp is) and "
                         "neither the file nor the directory is yours")
    if not _is_stream(st):
        try:   # what the write will do: a temporary file beside the target
            fd, tmp = tempfile.mkstemp(dir=os.path.dirname(target), prefix=".memvirt.")
            os.close(fd)
            os.unlink(tmp)
        except OSError as e:
            if e.errno in HOST_LIMITS:   # the host's, not the path's: exit status 1, naming the output
                raise OSError(e.errno, e.strerror, path) from None
            why = e.strerror
            if e.errno == errno.ENOENT and os.path.isdir(os.path.dirname(target) or "."):
                why = "the directory takes no new files (as those of /proc and /sys)"   # as outfile.c says
            raise InputError(f"{opt} '{path}': cannot write: cannot create a file in its directory: "
                             f"{why}") from None
    return (st.st_dev, st.st_ino) if st is not None else target


def write_stdout(data):
    """data (bytes) to standard output, every byte or an OSError: a loop of
    os.write on fd 1, as lib/outfile.c's write_all. (sys.stdout.buffer.write
    returned a short count, unchecked, when the reader went away part way:
    the page was cut short and the command said nothing.)"""
    if sys.stdout is None:   # closed when Python started: fd 1 may since be another file
        raise OSError(errno.EBADF, os.strerror(errno.EBADF))
    sys.stdout.flush()
    view = memoryview(data)
    while view:
        n = os.write(1, view)
        if n <= 0:
            raise OSError(errno.EIO, "write error (nothing written)")
        view = view[n:]


def write_atomic(path, data):
    """Write bytes or text to path as write_all_atomic does."""
    write_all_atomic([(path, data)])


def write_all_atomic(files):
    """Write every (path, data), bytes or text: a regular file (or a new
    name) to a temporary file beside it, renamed over it once all are
    written; a device or FIFO is written through, never replaced; '-' is
    standard output; symbolic links are followed. A failure (or Ctrl-C,
    SIGTERM, SIGHUP: see run) leaves no regular file changed and no
    temporary behind, and an OSError is raised again naming the path. Text is encoded before any file is
    made: a character UTF-8 cannot hold (a lone surrogate) becomes '?'."""
    files = [(p, d if isinstance(d, bytes) else d.encode("utf-8", "replace")) for p, d in files]
    staged, streams = [], []
    path = files[0][0] if files else ""
    mask = os.umask(0)
    os.umask(mask)
    try:
        for path, data in files:
            st = None if path == "-" else _stat(path)
            if path == "-" or _is_stream(st):
                streams.append((path, data))
                continue
            target = os.path.realpath(path)
            fd, tmp = tempfile.mkstemp(dir=os.path.dirname(target), prefix=f".{os.path.basename(target)[:200]}.")
            staged.append([tmp, target])
            with os.fdopen(fd, "wb") as f:
                os.fchmod(f.fileno(), (st.st_mode & 0o7777) if st is not None else 0o666 & ~mask)
                f.write(data)
        for path, data in streams:
            if path == "-":
                write_stdout(data)
                continue
            with open(path, "wb") as f:
                f.write(data)
        for entry in staged:
            path = entry[1]
            os.replace(entry[0], entry[1])
            entry[0] = None   # renamed: nothing left to remove
    except OSError as e:
        raise OSError(f"cannot write '{path}': {e.strerror}") from e
    finally:
        with signals_deferred():
            for tmp, _ in staged:
                if tmp is not None:
                    try:
                        os.unlink(tmp)
                    except OSError:
                        pass


def source_dir():
    """The source tree these scripts live in (src/py/..)."""
    return os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

#!/usr/bin/env bash
# trace_terminal.sh: a trace is binary, and is not written to a terminal
# (lib/outfile.c outset_refuse_terminal), as gzip and zstd refuse to:
# `trace import` and `trace record` with -o naming standard output or
# standard error by another name (/dev/stdout, /dev/fd/1, /dev/stderr)
# while that is a terminal exit 2 with one line naming the option and the
# path, write no byte of the trace, and (record) run nothing. The same
# names redirected to a file or pipe still carry the trace, and a terminal
# reached by another file (/dev/tty) is taken as asked for. Run under a
# pseudo-terminal by script(1). (Before, the compressed bytes went to the
# terminal.)
#
# usage: bash trace_terminal.sh /path/to/memvirt
set -u
MV=${1:?usage: trace_terminal.sh /path/to/memvirt}
[ -x "$MV" ] || { echo "trace_terminal.sh: '$MV' is not an executable" >&2; exit 1; }
MV=$(cd "$(dirname "$MV")" && pwd)/$(basename "$MV")
SRC=$(cd "$(dirname "$0")/../.." && pwd)
command -v script >/dev/null || { echo "trace_terminal.sh: no script(1) here: skipped"; exit 0; }
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/memvirt-trace-tty.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
LOG="$SRC/tests/fuzz/corpus/strace/ff.txt"

# on_tty NAME SHELL-COMMAND: the command with standard input, output and
# error a terminal (unless it redirects them); what the terminal got in
# $tmp/NAME.tty without script's own lines, the exit status in $tmp/NAME.rc
on_tty() {
    script -qfec "$2" "$tmp/$1.raw" >/dev/null 2>&1 </dev/null
    echo $? >"$tmp/$1.rc"
    sed '1{/^Script started/d}; ${/^Script done/d}' "$tmp/$1.raw" | tr -d '\r' >"$tmp/$1.tty"
}

# refused NAME WHAT OPT-PATH SHELL-COMMAND
refused() {
    local name=$1 what=$2 path=$3
    on_tty "$name" "$4"
    [ "$(cat "$tmp/$name.rc")" = 2 ] || fail "$what -o $path on a terminal: exit $(cat "$tmp/$name.rc"), not 2"
    grep -c . "$tmp/$name.tty" | grep -qx 1 ||
        fail "$what -o $path: not one line on the terminal: $(head -c 300 "$tmp/$name.tty" | od -An -c | head -3)"
    grep -q "^memvirt: -o '$path': a trace is binary, and standard .* is a terminal" "$tmp/$name.tty" ||
        fail "$what -o $path: the line does not say why: $(head -c 200 "$tmp/$name.tty")"
    grep -aq MVTRACE "$tmp/$name.raw" && fail "$what -o $path: the trace's bytes reached the terminal"
}

q=$(printf %q "$MV")
for p in /dev/stdout /dev/fd/1 /dev/stderr; do
    refused "imp${p//\//_}" "trace import" "$p" "$q trace import --from strace $(printf %q "$LOG") -o $p"
    refused "rec${p//\//_}" "trace record" "$p" \
        "$q trace record -o $p -- touch $(printf %q "$tmp/ran")"
done
[ -e "$tmp/ran" ] && fail "trace record ran the program though its -o was refused"

# the same names sent to a file carry the trace, whole
on_tty imp_file "$q trace import --from strace $(printf %q "$LOG") -o /dev/stdout >$(printf %q "$tmp/t1.mvt")"
[ "$(cat "$tmp/imp_file.rc")" = 0 ] || fail "import -o /dev/stdout to a file under a terminal: exit $(cat "$tmp/imp_file.rc")"
"$MV" trace import --from strace "$LOG" -o "$tmp/t2.mvt" 2>/dev/null || fail "import -o FILE failed"
cmp -s "$tmp/t1.mvt" "$tmp/t2.mvt" || fail "import -o /dev/stdout >FILE under a terminal: not the trace -o FILE writes"
# and down a pipe, with standard error the terminal
on_tty imp_pipe "$q trace import --from strace $(printf %q "$LOG") -o /dev/stdout | cat >$(printf %q "$tmp/t3.mvt")"
cmp -s "$tmp/t3.mvt" "$tmp/t2.mvt" || fail "import -o /dev/stdout | cat under a terminal: not the trace"

# a terminal named as itself is taken as asked for
on_tty imp_tty "$q trace import --from strace $(printf %q "$LOG") -o /dev/tty"
[ "$(cat "$tmp/imp_tty.rc")" = 0 ] || fail "import -o /dev/tty: exit $(cat "$tmp/imp_tty.rc"), not 0"
grep -aq MVTRACE "$tmp/imp_tty.raw" || fail "import -o /dev/tty: no trace on the terminal"

if [ "$failures" -gt 0 ]; then
    echo "trace_terminal.sh: $failures failure(s)" >&2
    exit 1
fi
echo "trace_terminal.sh: all passed"

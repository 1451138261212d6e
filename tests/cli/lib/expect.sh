# expect.sh: helpers for the command-line tests (sourced, not run: the test
# runner picks up tests/cli/*.sh only). The caller sets MV (the memvirt
# binary) and tmp (a scratch directory) before sourcing.
#
#   fail MESSAGE                 count a failure
#   expect_bad DESC NEEDLES ARGS...
#       memvirt ARGS must exit 2 with exactly one stderr line starting with
#       "memvirt:" that contains each ';'-separated needle, print nothing on
#       stdout, and leave the output directory $out empty (no file, no
#       temporary). Use "$J" / "$C" (in $out) as --json / --csv paths.
#   finish NAME                  exit 1 if anything failed
#   tmpfile_ok DIR               DIR's file system makes nameless files (O_TMPFILE)
#   kill_running PID WHAT        PID, still running, is killed (SIGKILL) and dies of it
failures=0
out="$tmp/out"
mkdir -p "$out"
J="$out/out.json"
C="$out/out.csv"

fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}

expect_bad() {
    local desc=$1 needles=$2
    shift 2
    rm -rf "$out" && mkdir -p "$out"
    "$MV" "$@" >"$tmp/stdout" 2>"$tmp/stderr"
    local rc=$?
    local err
    err=$(cat "$tmp/stderr")
    if [ "$rc" -ne 2 ]; then
        fail "$desc: exit status $rc, expected 2 (memvirt $*); stderr: $err"
        return
    fi
    local lines
    lines=$(wc -l <"$tmp/stderr")
    if [ "$lines" -ne 1 ] || [ -z "$err" ]; then
        fail "$desc: expected exactly one line on stderr, got $lines: $err"
        return
    fi
    case "$err" in
        memvirt:*) ;;
        *) fail "$desc: stderr does not start with 'memvirt:': $err" ;;
    esac
    local IFS=';'
    local n
    for n in $needles; do
        case "$err" in
            *"$n"*) ;;
            *) fail "$desc: message does not name '$n': $err" ;;
        esac
    done
    unset IFS
    if [ -s "$tmp/stdout" ]; then
        fail "$desc: unexpected output on stdout: $(head -c 200 "$tmp/stdout")"
    fi
    if [ -n "$(ls -A "$out")" ]; then
        fail "$desc: files written: $(ls -A "$out")"
    fi
}

finish() {
    if [ "$failures" -ne 0 ]; then
        echo "$1: $failures check(s) failed" >&2
        exit 1
    fi
    echo "$1: all checks passed"
}

tmpfile_ok() {
    python3 -c 'import os, sys
os.close(os.open(sys.argv[1], os.O_TMPFILE | os.O_WRONLY, 0o600))' "$1" 2>/dev/null
}

kill_running() {
    local pid=$1 what=$2 rc
    kill -0 "$pid" 2>/dev/null || fail "$what: the run had ended (test broken?)"
    kill -KILL "$pid"
    wait "$pid"
    rc=$?
    [ "$rc" -eq 137 ] || fail "$what: exit status $rc, expected 137 (SIGKILL)"
}

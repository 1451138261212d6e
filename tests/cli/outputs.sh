#!/usr/bin/env bash
# outputs.sh: --json and --csv on every kind of path (lib/outfile.c).
#   '-'               standard output, the table then on standard error
#   device            written through: /dev/null stays a device
#   FIFO              its reader gets the document
#   symbolic link     followed (chains too, a dangling one creates its target)
#   regular file      replaced atomically, keeping its mode; a stray X.tmp survives
#   clashes           the same file twice (name, ./name, link, hard link, '-' twice,
#                     /dev/stdout and '-') is rejected before the run
#   unwritable        missing directory, a directory, a socket, a read-only
#                     directory or file (as an unprivileged user): rejected
#                     before the run (exit 2 although the run would fail)
#   all or none       a CSV that cannot be written leaves no JSON behind
#   SIGKILL           during the run: nothing left (the temporary file is nameless)
#   a write that fails a regular file on a full disk (here a file-size limit: EFBIG):
#                     exit 1, the system's reason named, the old file kept
#
# usage: bash outputs.sh /path/to/memvirt
set -u
MV=${1:?usage: outputs.sh /path/to/memvirt}
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/memvirt-cli.XXXXXX") || exit 1
chmod 755 "$tmp"
reader_pid=
trap '[ -n "$reader_pid" ] && kill "$reader_pid" 2>/dev/null; rm -rf "$tmp"' EXIT
. "$(dirname "$0")/lib/expect.sh"
W="$tmp/w"
mkdir -p "$W"

RUN=(run --workload lmbench --param lmbench.iterations=2 --quiet)
# a run that would fail (the guest runs out of memory, exit 3): an output
# error reported instead (exit 2) was found before the run
DOOMED=(run --workload memwalk --param guest.ram_mb=64 --param memwalk.ws_mb=64 --quiet)

# the reference document and table
"$MV" "${RUN[@]}" --json "$W/ref.json" --csv "$W/ref.csv" >"$W/ref.txt" 2>/dev/null || fail "reference run failed"
is_ref() { cmp -s "$1" "$W/ref.json"; }
no_tmp_left() {   # no temporary file beside an output in directory $1
    local left
    left=$(find "$1" -maxdepth 1 -name '.*' ! -name . | head -3)
    [ -z "$left" ] || fail "$2: temporary files left: $left"
}

# '-': the document alone on stdout, the table on stderr
"$MV" "${RUN[@]}" --json - >"$W/stdout" 2>"$W/stderr" || fail "--json -: run failed"
is_ref "$W/stdout" || fail "--json -: stdout is not the document"
cmp -s "$W/stderr" "$W/ref.txt" || fail "--json -: the table is not on stderr"
[ -e ./- ] && fail "--json -: a file named '-' was created"
"$MV" "${RUN[@]}" --csv - >"$W/stdout" 2>/dev/null || fail "--csv -: run failed"
cmp -s "$W/stdout" "$W/ref.csv" || fail "--csv -: stdout is not the CSV"

# a device is written through
if [ -c /dev/null ]; then
    "$MV" "${RUN[@]}" --json /dev/null >/dev/null 2>&1 || fail "--json /dev/null: run failed"
    [ -c /dev/null ] || fail "--json /dev/null: /dev/null is no longer a character device"
fi
if [ -c /dev/full ]; then
    "$MV" "${RUN[@]}" --json "$W/full.json" --csv /dev/full >/dev/null 2>"$W/stderr"
    rc=$?
    [ "$rc" -eq 1 ] || fail "--csv /dev/full: exit status $rc, expected 1"
    grep -q "^memvirt: --csv '/dev/full': cannot write" "$W/stderr" || fail "--csv /dev/full: message: $(cat "$W/stderr")"
    [ -e "$W/full.json" ] && fail "a failed CSV left the JSON behind"
    echo old >"$W/keep.json"
    "$MV" "${RUN[@]}" --json "$W/keep.json" --csv /dev/full >/dev/null 2>&1
    [ "$(cat "$W/keep.json")" = old ] || fail "a failed CSV replaced the existing JSON"
    no_tmp_left "$W" "failed CSV"
fi

# a write to a regular file that fails (a full disk; here a file-size
# limit: memvirt ignores SIGXFSZ, so the write fails with EFBIG) names the
# file and the reason; the old file is kept and no temporary file is left
# (it said "internal error formatting the document", and SIGXFSZ killed it
# with its temporaries left)
wfail() {   # wfail OPT: OPT's file written under the limit
    echo old >"$W/limited.$2"
    ( ulimit -f 4; exec "$MV" "${RUN[@]}" "$1" "$W/limited.$2" ) >/dev/null 2>"$W/stderr"
    rc=$?
    [ "$rc" -eq 1 ] || fail "$1 over a file-size limit: exit status $rc, expected 1"
    grep -qx "memvirt: $1 '$W/limited.$2': cannot write: File too large" "$W/stderr" ||
        fail "$1 over a file-size limit: message: $(cat "$W/stderr")"
    [ "$(cat "$W/limited.$2")" = old ] || fail "$1 over a file-size limit: the old file was replaced"
    no_tmp_left "$W" "$1 over a file-size limit"
}
[ "$(stat -c %s "$W/ref.json")" -gt 8192 ] && [ "$(stat -c %s "$W/ref.csv")" -gt 8192 ] ||
    fail "the reference outputs are too small to pass a 4 KiB limit"
wfail --json json
wfail --csv csv

# a FIFO's reader gets the document
mkfifo "$W/fifo"
cat "$W/fifo" >"$W/from_fifo" &
reader_pid=$!
"$MV" "${RUN[@]}" --json "$W/fifo" >/dev/null 2>&1 || fail "--json FIFO: run failed"
wait "$reader_pid"
reader_pid=
is_ref "$W/from_fifo" || fail "--json FIFO: the reader got $(wc -c <"$W/from_fifo") bytes, not the document"
[ -p "$W/fifo" ] || fail "--json FIFO: the FIFO was replaced"

# symbolic links are followed
mkdir -p "$W/sub"
echo old >"$W/sub/target.json"
ln -s sub/target.json "$W/link.json"
ln -s link.json "$W/link2.json"
"$MV" "${RUN[@]}" --json "$W/link2.json" >/dev/null 2>&1 || fail "--json link: run failed"
[ -L "$W/link.json" ] && [ -L "$W/link2.json" ] || fail "--json link: a link was replaced"
is_ref "$W/sub/target.json" || fail "--json link: the target does not hold the document"
ln -s sub/new.json "$W/dangling.json"
"$MV" "${RUN[@]}" --json "$W/dangling.json" >/dev/null 2>&1 || fail "--json dangling link: run failed"
[ -L "$W/dangling.json" ] && is_ref "$W/sub/new.json" || fail "--json dangling link: target not created"
ln -s loop2 "$W/loop1"; ln -s loop1 "$W/loop2"
expect_bad "symlink loop" "loop1;symbolic links" "${RUN[@]}" --json "$W/loop1"

# a regular file is replaced atomically (a new inode), keeping its mode
echo old >"$W/reg.json"
chmod 640 "$W/reg.json"
ino=$(stat -c %i "$W/reg.json")
echo stray >"$W/reg.json.tmp"
"$MV" "${RUN[@]}" --json "$W/reg.json" >/dev/null 2>&1 || fail "--json regular: run failed"
is_ref "$W/reg.json" || fail "--json regular: not replaced"
[ "$(stat -c %i "$W/reg.json")" != "$ino" ] || fail "--json regular: written in place, not replaced"
[ "$(stat -c %a "$W/reg.json")" = 640 ] || fail "--json regular: mode $(stat -c %a "$W/reg.json"), expected 640"
[ "$(cat "$W/reg.json.tmp")" = stray ] || fail "an existing X.tmp was destroyed"
(umask 022 && "$MV" "${RUN[@]}" --json "$W/fresh.json" >/dev/null 2>&1) || fail "--json new file: run failed"
[ "$(stat -c %a "$W/fresh.json")" = 644 ] || fail "new file: mode $(stat -c %a "$W/fresh.json"), expected 644 under umask 022"
no_tmp_left "$W" "regular files"

# /dev/stdout redirected to a file: the document in the file, the table on stderr
if [ -e /dev/stdout ]; then
    "$MV" "${RUN[@]}" --json /dev/stdout >"$W/redir.json" 2>"$W/stderr" || fail "--json /dev/stdout: run failed"
    is_ref "$W/redir.json" || fail "--json /dev/stdout >FILE: FILE is not the document"
    cmp -s "$W/stderr" "$W/ref.txt" || fail "--json /dev/stdout >FILE: the table is not on stderr"
fi

# clashes, before the run
echo x >"$W/same.json"
ln -s same.json "$W/same_link.json"
ln "$W/same.json" "$W/same_hard.json"
expect_bad "same name"        "--json;--csv;same file"     "${DOOMED[@]}" --json "$W/new.json" --csv "$W/new.json"
expect_bad "same new file"    "same file"                  "${DOOMED[@]}" --json "$W/new.json" --csv "$W/sub/../new.json"
expect_bad "same via ./"      "same file"                  "${DOOMED[@]}" --json "$W/same.json" --csv "$W/./same.json"
expect_bad "same via link"    "same_link.json;same file"   "${DOOMED[@]}" --json "$W/same.json" --csv "$W/same_link.json"
expect_bad "same hard link"   "same_hard.json;same file"   "${DOOMED[@]}" --json "$W/same.json" --csv "$W/same_hard.json"
expect_bad "stdout twice"     "'-';same file"              "${DOOMED[@]}" --json - --csv -
[ "$(cat "$W/same.json")" = x ] || fail "a rejected clash changed the file"

# unwritable paths, before the run
expect_bad "missing directory" "nosuchdir;No such file"   "${DOOMED[@]}" --json "$W/nosuchdir/out.json"
expect_bad "a directory"       "--csv;directory"          "${DOOMED[@]}" --csv "$W/sub"
expect_bad "empty path"        "--json;empty"             "${DOOMED[@]}" --json ""
expect_bad "trailing slash"    "new/;directory"           "${DOOMED[@]}" --json "$W/new/"
expect_bad "file as directory" "reg.json/x.json"          "${DOOMED[@]}" --json "$W/reg.json/x.json"
# a whole path too long for the temporary's name beside it (PATH_MAX, 4096):
# refused before the run (nameless, the temporary was named only after it,
# and the run's result was lost)
deep=$W/deep
while [ ${#deep} -lt 3900 ]; do deep=$deep/$(printf 'd%.0s' $(seq 200)); done
mkdir -p "$deep"
long=$(printf 'x%.0s' $(seq $((4085 - ${#deep}))))
expect_bad "path near PATH_MAX" "--json;File name too long" "${DOOMED[@]}" --json "$deep/$long.json"
rm -rf "$W/deep"
# a directory that takes no new files: creating one there is ENOENT, which
# alone ("No such file or directory") misled, the file being there
expect_bad "a /proc file"      "/proc/self/status;the directory takes no new files" "${DOOMED[@]}" --json /proc/self/status
python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$W/sock"
expect_bad "a socket"          "sock;not a regular file"  "${DOOMED[@]}" --json "$W/sock"

# permissions, as an unprivileged user (root writes anywhere)
mkdir -p "$W/ro"
echo old >"$W/ro_file.json"
chmod 555 "$W/ro"
chmod 444 "$W/ro_file.json"
chmod 755 "$W"
if [ "$(id -u)" -ne 0 ]; then
    as_user=()
elif command -v setpriv >/dev/null && setpriv --reuid=nobody --regid=nogroup --clear-groups true 2>/dev/null; then
    as_user=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
    chmod 755 "$tmp" "$out"
    chmod 777 "$out"
else
    as_user=(skip)
fi
if [ "${as_user[0]:-}" != skip ]; then
    MV_SAVED=$MV
    MV_USER() { "${as_user[@]}" "$MV_SAVED" "$@"; }
    MV=MV_USER
    expect_bad "read-only directory" "ro;Permission denied"       "${DOOMED[@]}" --json "$W/ro/out.json"
    expect_bad "read-only file"      "ro_file.json;Permission denied" "${DOOMED[@]}" --json "$W/ro_file.json"
    MV=$MV_SAVED
    [ "$(cat "$W/ro_file.json")" = old ] || fail "a read-only file was replaced"
fi

# killed by a signal no process can catch: nothing left beside the output
# (the temporary file has no name until the commit; it was a 0-byte
# .killed.json.XXXXXX, made before the run)
# (where the file system has no O_TMPFILE, the named one is left, as
# docs/output.md says: nothing to check there)
mkdir -p "$W/kill"
if tmpfile_ok "$W/kill"; then
    "$MV" run --quiet --workload memwalk --param memwalk.refs=4000000000 --json "$W/kill/killed.json" \
        --csv "$W/kill/killed.csv" >/dev/null 2>&1 &
    sleep 1
    kill_running $! "SIGKILL during the run"
    [ -z "$(ls -A "$W/kill")" ] || fail "SIGKILL during the run left: $(ls -A "$W/kill")"
fi

finish outputs.sh

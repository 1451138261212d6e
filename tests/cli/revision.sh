#!/usr/bin/env bash
# revision.sh: cmake/revision.cmake, which records the source revision at
# build time, gives `git describe` of a checkout of its own (with -dirty and
# a hash of the changes for uncommitted ones, different for different changes) and "unknown" for sources that are not one, even
# inside another repository. The binary's --version agrees with the header
# it was built with.
#
# usage: bash revision.sh /path/to/memvirt
set -u
MV=${1:?usage: revision.sh /path/to/memvirt}
here=$(cd "$(dirname "$0")" && pwd)
script="$here/../../cmake/revision.cmake"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/memvirt-cli.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
. "$here/lib/expect.sh"
command -v cmake >/dev/null || { echo "revision.sh: cmake needed" >&2; exit 1; }

rev_of() {   # rev_of DIR: the MV_REVISION recorded for sources in DIR
    cmake -DSRC="$1" -DOUT="$tmp/rev.h" -DVERSION=9.9.9 -P "$script" >/dev/null 2>&1 || echo "cmake failed"
    sed -n 's/^#define MV_REVISION "\(.*\)"$/\1/p' "$tmp/rev.h"
}

mkdir -p "$tmp/plain"
[ "$(rev_of "$tmp/plain")" = unknown ] || fail "not a checkout: '$(rev_of "$tmp/plain")', expected unknown"
grep -q '^#define MV_VERSION "9.9.9"$' "$tmp/rev.h" || fail "version not recorded"

if command -v git >/dev/null; then
    g="$tmp/repo"
    mkdir -p "$g/sub"
    git -C "$g" init -q && echo a >"$g/f" && git -C "$g" add f \
        && git -C "$g" -c user.name=t -c user.email=t@t commit -qm one || fail "git setup"
    h=$(git -C "$g" rev-parse --short=12 HEAD)
    [ "$(rev_of "$g")" = "$h" ] || fail "clean checkout: '$(rev_of "$g")', expected $h"
    echo b >"$g/f"
    d1=$(rev_of "$g")
    [[ "$d1" =~ ^$h-dirty-[0-9a-f]{10}$ ]] || fail "dirty checkout: '$d1', expected $h-dirty-HASH"
    [ "$(rev_of "$g")" = "$d1" ] || fail "dirty checkout: the same changes gave another revision"
    echo c >"$g/f"
    d2=$(rev_of "$g")
    [[ "$d2" =~ ^$h-dirty-[0-9a-f]{10}$ ]] && [ "$d2" != "$d1" ] ||
        fail "another uncommitted change: '$d2', expected $h-dirty-HASH other than '$d1'"
    # a folder inside someone else's checkout is not a checkout of its own
    [ "$(rev_of "$g/sub")" = unknown ] || fail "subfolder of a checkout: '$(rev_of "$g/sub")'"
fi

"$MV" --version | grep -Eq '^memvirt [0-9.]+ \(revision ([0-9a-f]{7,}(-dirty-[0-9a-f]{10})?|unknown|.*-g[0-9a-f]+(-dirty-[0-9a-f]{10})?)\)$' \
    || fail "--version: $("$MV" --version)"
finish revision.sh

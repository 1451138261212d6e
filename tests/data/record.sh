#!/usr/bin/env bash
# record.sh: re-records the test traces in this directory from standard
# Debian programs (memvirt trace record, --refs faults). Run from the
# repository root after `make build`; needs root (perf and strace).
#   shloop.mvt   a shell loop of short processes
#   make.mvt     a small make build (tests/data/src: two compiles and a link)
#   python.mvt   an interpreter start-up (python3 -c pass)
set -eu
MV=${MV:-build/memvirt}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"$MV" trace record -o tests/data/shloop.mvt -- \
    /bin/sh -c 'for i in 1 2 3 4 5 6; do /bin/true; /bin/echo $i >/dev/null; /bin/cat /dev/null; done'
"$MV" trace record -o tests/data/make.mvt -- make -s -C tests/data/src O="$out"
"$MV" trace record -o tests/data/python.mvt -- /usr/bin/python3 -c pass

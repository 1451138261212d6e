# close_fds.sh: sourced in a subshell before `ulimit -n`: closes every
# descriptor above 2, those the test's runner (ctest) passed down, or a
# small limit leaves the dynamic loader none for the libraries (exit 127).
for fd in $(ls /proc/$BASHPID/fd); do
    [ "$fd" -gt 2 ] && eval "exec $fd>&-"
done

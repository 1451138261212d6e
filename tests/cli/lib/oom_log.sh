# oom_log.sh: sourced by the compare tests (compare_oom.sh,
# compare_crash.sh). lackey_header prints a lackey log's header for pid
# 100; table_churn prints the references of a program that maps 4096
# pages 2 MiB apart (4096 L1 tables), writes each, unmaps them, then
# writes 36 MiB: with --param guest.ram_mb=64 --param
# guest.pt_cache_total=1G only pv-pibooster runs out of guest memory, its
# pool keeping the freed tables.
lackey_header() { printf '==100== Lackey, an example Valgrind tool\n==100== Command: /bin/x\n==100== Parent PID: 99\n==100== \n'; }
table_churn() {
    local sparse=4096 dense=9216 i
    printf 'SYSCALL[100,1](9) sys_mmap ( 0x0, %d, 3, 34, 4294967295, 0 ) --> [pre-success] Success(0x10000000000)\n' \
        $((sparse * 2097152))
    for ((i = 0; i < sparse; i++)); do printf ' S %x,8\n' $((0x10000000000 + i * 2097152)); done
    printf 'SYSCALL[100,1](11) sys_munmap ( 0x10000000000, %d )[sync] --> Success(0x0)\n' $((sparse * 2097152))
    printf 'SYSCALL[100,1](9) sys_mmap ( 0x0, %d, 3, 34, 4294967295, 0 ) --> [pre-success] Success(0x20000000000)\n' \
        $((dense * 4096))
    for ((i = 0; i < dense; i++)); do printf ' S %x,8\n' $((0x20000000000 + i * 4096)); done
}

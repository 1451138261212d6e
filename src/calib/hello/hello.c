/* hello.c: the tiny program lmbench's lat_proc execs (its hello.c): write a
 * line and exit. Linked statically (CMake target memvirt-hello) so that
 * `memvirt calibrate` times fork+execve+exit of the smallest real program,
 * with no dynamic loader. It lives in its own folder because it is a
 * separate executable, not part of the memvirt command. */
#include <unistd.h>

int main(void)
{
    static const char msg[] = "Hello world\n";
    return write(1, msg, sizeof msg - 1) == (ssize_t)(sizeof msg - 1) ? 0 : 1;
}

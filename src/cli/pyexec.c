/* pyexec.c: find and run memvirt's Python parts (see pyexec.h), and find
 * the other programs memvirt runs on the PATH.
 *
 * The scripts are looked for, in order, in $MEMVIRT_PYDIR, in ../src/py
 * beside the binary (a build directory inside the source tree: build/,
 * build-asan/), and in the source tree the binary was built from
 * (MEMVIRT_SOURCE_DIR, baked in by CMake). The interpreter is
 * $MEMVIRT_PYTHON, else Debian's /usr/bin/python3 (which sees Debian's
 * python3-matplotlib), else python3 on the PATH. */
#include "cli/pyexec.h"
#include "lib/outfile.h"
#include "cli/cli.h"
#include "lib/err.h"
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef MEMVIRT_SOURCE_DIR
#define MEMVIRT_SOURCE_DIR ""
#endif

const char *cli_self(void)
{
    static char self[PATH_MAX];
    if (!self[0]) {
        ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
        if (n <= 0)
            strcpy(self, "memvirt");
        else
            self[n] = 0;
    }
    return self;
}

static int try_dir(char *out, size_t len, const char *dir, const char *script)
{
    if (!dir || !*dir)
        return 0;
    snprintf(out, len, "%s/%s", dir, script);
    return access(out, R_OK) == 0;
}

int cli_exec_python(const char *cmd, const char *script, int argc, char **argv)
{
    char path[PATH_MAX + 64], beside[PATH_MAX + 16];
    snprintf(beside, sizeof beside, "%s", cli_self());
    char *slash = strrchr(beside, '/');
    if (slash)
        strcpy(slash, "/../src/py");
    else
        beside[0] = 0;
    if (!try_dir(path, sizeof path, getenv("MEMVIRT_PYDIR"), script) &&
        !try_dir(path, sizeof path, beside, script) &&
        !try_dir(path, sizeof path, MEMVIRT_SOURCE_DIR "/src/py", script)) {
        mv_error("%s: cannot find %s (looked in $MEMVIRT_PYDIR, %s and %s/src/py)", cmd, script, beside,
                 MEMVIRT_SOURCE_DIR);
        return EXIT_USAGE;
    }
    const char *py = getenv("MEMVIRT_PYTHON");
    if (!py || !*py)
        py = access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3" : "python3";
    char **av = mv_calloc((size_t)argc + 3, sizeof *av);
    av[0] = (char *)py;
    av[1] = path;
    for (int i = 1; i < argc; i++)
        av[i + 1] = argv[i];
    /* the scripts name the binary for the runs they start */
    setenv("MEMVIRT_BIN", cli_self(), 1);
    fflush(NULL);
    outfile_exec_signals();
    execvp(py, av);
    int e = errno;
    free(av);
    mv_error("%s: cannot run %s: %s (scripts/setup installs python3)", cmd, py, strerror(e));
    return EXIT_USAGE;
}

char *cli_find_program(const char *name)
{
    if (!*name)
        return NULL;
    if (strchr(name, '/'))
        return mv_strdup(name);
    const char *path = getenv("PATH");
    if (!path)
        path = "/bin:/usr/bin";             /* execvp's default (confstr _CS_PATH) */
    for (const char *p = path;; ) {
        size_t n = strcspn(p, ":");
        char *f = mv_malloc(n + strlen(name) + 3);
        sprintf(f, "%.*s%s%s", (int)n, p, n ? "/" : "./", name);   /* an empty entry: the working directory */
        struct stat st;
        if (!stat(f, &st) && S_ISREG(st.st_mode) && !access(f, X_OK))
            return f;
        free(f);
        if (!p[n])
            return NULL;
        p += n + 1;
    }
}

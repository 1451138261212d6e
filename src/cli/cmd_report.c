/* cmd_report.c: `memvirt report RESULT.json... -o report.html`: one
 * self-contained HTML page from result files (src/py/report.py draws it with
 * matplotlib; docs/report.md describes it). */
#include "cli/cli.h"
#include "cli/pyexec.h"

int cmd_report(int argc, char **argv)
{
    return cli_exec_python("report", "report.py", argc, argv);
}

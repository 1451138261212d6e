"""script_main.py: how the experiments' summary scripts start: the number of
arguments checked (usage on stderr, exit 2), and a directory without the
results the experiment's script writes said in one line (exit 2), never a
Python traceback."""
import io
import sys


def script_main(main, name, usage, nargs):
    """Run main() for script `name`; nargs: the counts of arguments it takes."""
    if len(sys.argv) - 1 not in nargs:
        print(f"usage: {name} {usage}", file=sys.stderr)
        sys.exit(2)
    out, sys.stdout = sys.stdout, io.StringIO()   # printed whole, or not at all
    try:
        main()
    except (OSError, ValueError, KeyError, IndexError) as e:   # a directory without the results
        sys.stdout = out
        print(f"{name}: {sys.argv[1:]}: not the results of the experiment's script "
              f"({type(e).__name__}: {e})", file=sys.stderr)
        sys.exit(2)
    text, sys.stdout = sys.stdout.getvalue(), out
    sys.stdout.write(text)

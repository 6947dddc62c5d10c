"""``python -m tools.docs_numbers [--check] [--only NAME ...]`` (``./run docs``): see the
package's docstring."""

import argparse
import sys

from tools import docs_numbers
from tools.docs_numbers.catalog import BLOCKS
from tools.docs_numbers.engine import ROOT, refresh


def main(argv=None):
    """Rewrite the stale blocks (or, with --check, list them with their diff); the exit code: 1
    when --check found a stale block, else 0."""
    parser = argparse.ArgumentParser(prog="python -m tools.docs_numbers",
                                     description=docs_numbers.__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="change nothing; exit 1 when a block is stale")
    parser.add_argument("--only", nargs="+", choices=sorted(BLOCKS), help="these blocks only")
    args = parser.parse_args(argv)
    stale = refresh(BLOCKS, args.only, write=not args.check)
    for path, name, old, new in stale:
        print(f"{'stale' if args.check else 'rewrote'}: {path.relative_to(ROOT)} block {name}")
        if args.check:
            print("--- committed\n" + old + "+++ generated now\n" + new)
    return 1 if stale and args.check else 0


if __name__ == "__main__":
    sys.exit(main())

"""python -m halp_bench.sweep SPEC --out DIR [--scheduler ADDRESS] [--workers N]

Checks SPEC in full (exit 2 with the entry named when it is wrong), copies it to DIR/spec.toml
(a DIR holds one sweep: a different spec there is refused), then runs every run of the grid not
stored in DIR/runs yet. Exit 0 when every run is stored, 1 when some failed (run again to retry).
"""

import argparse
import sys
from pathlib import Path

from . import engine
from .spec import SpecError, parse


def prepare(spec_path, out):
    """The grid of ``spec_path`` with DIR/spec.toml written (or found equal); SpecError when the
    spec is wrong or DIR holds another sweep."""
    text = Path(spec_path).read_text()
    grid = parse(text, str(spec_path))
    copy = Path(out) / "spec.toml"
    if copy.exists() and copy.read_text() != text:
        raise SpecError(f"{copy}: holds another sweep's spec; use another --out")
    copy.parent.mkdir(parents=True, exist_ok=True)
    copy.write_text(text)
    return grid


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m halp_bench.sweep", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("spec", help="the sweep spec (TOML), e.g. sweeps/mu.toml")
    parser.add_argument("--out", required=True, help="the sweep's folder (parts in DIR/runs)")
    parser.add_argument("--scheduler", help="address of an existing dask scheduler "
                                            "(default: a local cluster)")
    parser.add_argument("--workers", type=int, help="worker processes of the local cluster "
                                                    "(default: the CPU count)")
    args = parser.parse_args(argv)
    if args.workers is not None and args.workers < 1:
        parser.error("--workers must be >= 1")
    try:
        grid = prepare(args.spec, args.out)
    except (OSError, SpecError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"{len(grid.runs)} runs ({grid.skipped} combinations skipped: values the solver does "
          f"not take, or repeats)", file=sys.stderr)
    with engine.client(args.scheduler, args.workers) as client:
        outcome = engine.run_grid(client, grid.runs, args.out)
    print(f"{len(outcome.ran)} runs done now, {outcome.skipped} stored already, "
          f"{len(outcome.failed)} failed", file=sys.stderr)
    for run_id, error in outcome.failed.items():
        print(f"  {run_id}: {error}", file=sys.stderr)
    return 1 if outcome.failed else 0


if __name__ == "__main__":
    sys.exit(main())

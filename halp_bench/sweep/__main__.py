"""python -m halp_bench.sweep SPEC --out DIR [--scheduler ADDRESS] [--workers N]

Checks SPEC in full (exit 2 with the entry named when it is wrong), copies it to DIR/spec.toml
(a DIR holds one sweep: a different spec there is refused), then runs every run of the grid not
stored in DIR/runs yet; this process stores every part, so the workers need not see DIR. The
runs that failed, diverged or made no progress are named, and the last line counts them. Exit 0
when every run is stored (diverged ones too), 1 when some failed (run again to retry).
"""

import argparse
import sys
from pathlib import Path

from . import engine
from . import spec
from .spec import SpecError, parse


def prepare(spec_path, out):
    """The grid of ``spec_path`` with DIR/spec.toml written (or found equal); SpecError when the
    spec is wrong or DIR holds another sweep."""
    text = spec.read(spec_path)
    grid = parse(text, str(spec_path))
    copy = Path(out) / "spec.toml"
    if copy.exists() and spec.read(copy) != text:
        raise SpecError(f"{copy}: holds another sweep's spec; use another --out")
    copy.parent.mkdir(parents=True, exist_ok=True)
    copy.write_text(text, encoding="utf-8")
    return grid


def report(outcome, runs):
    """The closing lines of a sweep (a list of str): each run that failed, diverged or made no
    progress with its parameters and error or warning, then the counts."""
    labels = {run.run_id: run.label for run in runs}
    lines = []
    for kind, found in (("failed", outcome.failed), *outcome.flagged.items()):
        if found:
            lines.append(f"{kind}:")
            lines += [f"  {run_id} {labels[run_id]}: {text}" for run_id, text in found.items()]
    counts = ", ".join(f"{len(found)} {kind}" for kind, found in outcome.flagged.items())
    lines.append(f"{len(outcome.ran)} runs done now, {outcome.skipped} stored already: "
                 f"{len(outcome.failed)} failed, {counts}")
    return lines


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
    print("\n".join(report(outcome, grid.runs)), file=sys.stderr)
    return 1 if outcome.failed else 0


if __name__ == "__main__":
    sys.exit(main())

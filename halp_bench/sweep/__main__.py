"""python -m halp_bench.sweep SPEC --out DIR [--scheduler ADDRESS] [--workers N]

Checks SPEC in full (exit 2 with the entry named when it is wrong; a file problem's data file is
read for its sha256), copies it to DIR/spec.toml (a DIR holds one sweep: a different spec there,
or runs of a file problem whose file has changed since, are refused), then runs every run of the
grid not stored in DIR/runs yet; this process stores every part, so the workers need not see DIR
(nor a file problem's file: its bytes are sent). The runs that failed, diverged or made no
progress are named, and the last line counts them. Exit 0 when every run is stored (diverged
ones too), 1 when some failed (run again to retry), 2 when a file problem's file is gone or
changed when the runs start.
"""

import argparse
import sys
from pathlib import Path

from . import engine
from . import spec
from . import storage
from .spec import SpecError, parse


def prepare(spec_path, out):
    """The grid of ``spec_path`` with DIR/spec.toml written (or found equal); SpecError when the
    spec is wrong, DIR holds another sweep, or DIR holds runs of a file problem made from other
    data (another sha256) than its file holds now."""
    text = spec.read(spec_path)
    grid = parse(text, str(spec_path))
    copy = Path(out) / "spec.toml"
    if copy.exists() and spec.read(copy) != text:
        raise SpecError(f"{copy}: holds another sweep's spec; use another --out")
    stored = storage.data_files(out)
    for run in (run for run in grid.runs if run.source is not None):
        other = stored.get(run.problem, set()) - {run.source.sha256}
        if other:
            raise SpecError(f"{Path(out) / 'runs'}: holds runs of {run.problem!r} made from a "
                            f"file of sha256 {min(other)}; {run.source.abspath} now has sha256 "
                            f"{run.source.sha256}: it changed since; restore it or use another "
                            f"--out")
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
    try:
        with engine.client(args.scheduler, args.workers) as client:
            outcome = engine.run_grid(client, grid.runs, args.out)
    except SpecError as exc:     # a data file gone or changed since the spec was checked
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print("\n".join(report(outcome, grid.runs)), file=sys.stderr)
    return 1 if outcome.failed else 0


if __name__ == "__main__":
    sys.exit(main())
